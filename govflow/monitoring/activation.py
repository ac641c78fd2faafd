"""Which production outputs go to people: activation conditions as Amazon A2I defines them.

A2I starts a human loop when an inference meets its activation conditions: a confidence
check (the confidence of a label below a threshold) or random sampling (a percentage of
inferences), joined with ``And`` / ``Or``. govflow's two conditions:

- confidence below: the threshold of the predicted label (``below[label]``, else
  ``default_below``); a label with neither has no confidence condition. A row without a
  confidence meets it: a model that cannot say how sure it is, is not sure. A row without a
  predicted label (a model's error row) has no class, so it meets it when ``default_below``
  is set.
- random sample: unlike A2I's, deterministic. The SHA-256 of the text (UTF-8), its first 15
  hex digits read as a number in [0, 1), ``int(h[:15], 16) / 16**15``, below the rate. The
  same text is always in or always out at a given rate, in any batch, process or machine,
  and raising the rate only adds texts. A missing text is never sampled.

``combine: or`` selects rows meeting any configured condition, ``and`` rows meeting all of
them; a condition the config leaves out takes no part. Each selected row gets its reason:
``confidence 0.41 below 0.60 for billing``, ``random sample``, joined by ``; `` (or) or
`` and `` (and).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from govflow.errors import InputError
from govflow.hashing import sha256_text
from govflow.monitoring.config import ActivationSettings, RecordColumns

__all__ = ["Activation", "activate", "sample_point"]

_HEX_DIGITS = 15
_SCALE = 16**_HEX_DIGITS


@dataclass(frozen=True, eq=False)
class Activation:
    """Which rows go to people (``mask``, by position) and why (``reasons``, per selected row)."""

    mask: npt.NDArray[np.bool_]
    reasons: dict[int, str]

    @property
    def n_selected(self) -> int:
        """Return the number of rows sent to people."""
        return len(self.reasons)

    def positions(self) -> list[int]:
        """Return the selected rows' positions, ascending."""
        return sorted(self.reasons)


def sample_point(text: str) -> float:
    """Return where ``text`` falls in [0, 1) for the deterministic random sample."""
    return int(sha256_text(text)[:_HEX_DIGITS], 16) / _SCALE


def _sample_points(texts: pd.Series) -> npt.NDArray[np.float64]:
    """Return ``sample_point`` of every text (inf for a missing one), a million in ~1 s.

    The first 15 hex digits are the top 60 bits of the digest's first 8 bytes; reading the
    bytes skips formatting and parsing a hex string per row.
    """
    points = np.full(len(texts), np.inf)
    sha256 = hashlib.sha256
    for i, text in enumerate(texts.tolist()):
        if isinstance(text, str):
            head = sha256(text.encode("utf-8")).digest()[:8]
            points[i] = (int.from_bytes(head, "big") >> 4) / _SCALE
    return points


def activate(
    frame: pd.DataFrame, *, settings: ActivationSettings, record: RecordColumns
) -> Activation:
    """Return the rows of ``frame`` that the activation conditions send to people."""
    needed = [record.predicted_label, record.confidence]
    if settings.sample_rate is not None:
        needed.append(record.text)
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputError(f"activation needs the column {', '.join(map(repr, missing))}")
    n = len(frame)
    conditions: list[tuple[npt.NDArray[np.bool_], list[str | None]]] = []
    if settings.has_confidence_condition:
        conditions.append(_confidence_condition(frame, settings, record))
    if settings.sample_rate is not None:
        conditions.append(_sample_condition(frame[record.text], settings.sample_rate))
    masks = [mask for mask, _ in conditions]
    mask = np.logical_or.reduce(masks) if settings.combine == "or" else np.logical_and.reduce(masks)
    joiner = "; " if settings.combine == "or" else " and "
    reasons = {
        int(i): joiner.join(text[i] for m, text in conditions if m[i])  # type: ignore[misc]
        for i in np.flatnonzero(mask)
    }
    return Activation(mask=np.asarray(mask, dtype=bool).reshape(n), reasons=reasons)


def _confidence_condition(
    frame: pd.DataFrame, settings: ActivationSettings, record: RecordColumns
) -> tuple[npt.NDArray[np.bool_], list[str | None]]:
    labels = frame[record.predicted_label].astype("object")
    label_values = labels.to_numpy(dtype=object)
    confidence = frame[record.confidence].to_numpy(dtype=np.float64, na_value=np.nan)
    default = np.nan if settings.default_below is None else settings.default_below
    thresholds = labels.map(settings.below).astype("float64").fillna(default).to_numpy()
    has_label = labels.notna().to_numpy()
    no_confidence = np.isnan(confidence)
    # Error rows have no label, so no class threshold: only the default can apply to them.
    applies = ~np.isnan(thresholds) | (~has_label & (settings.default_below is not None))
    with np.errstate(invalid="ignore"):
        below = applies & (no_confidence | ~has_label | (confidence < thresholds))
    reasons: list[str | None] = [None] * len(frame)
    for i in np.flatnonzero(below):
        if not has_label[i]:
            reasons[i] = "no prediction"
        elif no_confidence[i]:
            reasons[i] = f"no confidence for {label_values[i]}"
        else:
            shown, limit = _two_numbers(confidence[i], thresholds[i])
            reasons[i] = f"confidence {shown} below {limit} for {label_values[i]}"
    return below, reasons


def _two_numbers(value: float, threshold: float) -> tuple[str, str]:
    """Format both with 2 decimals, or as many more as it takes to tell them apart."""
    for digits in range(2, 7):
        shown, limit = f"{value:.{digits}f}", f"{threshold:.{digits}f}"
        if shown != limit:
            return shown, limit
    return repr(value), repr(threshold)


def _sample_condition(
    texts: pd.Series, rate: float
) -> tuple[npt.NDArray[np.bool_], list[str | None]]:
    sampled = _sample_points(texts) < rate
    return sampled, ["random sample" if hit else None for hit in sampled]
