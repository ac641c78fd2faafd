"""Population stability index (PSI) of a model's outputs: predicted labels and confidences.

``PSI = sum((current_i - reference_i) * ln(current_i / reference_i))`` over the bins, with
shares (not counts) on both sides. Bins:

- predicted labels: one bin per label of the label set, plus any other label seen; rows
  without a label (a model's error rows) are left out;
- confidences: ``"deciles"`` cuts at the reference's 10th to 90th percentiles (numpy's
  default linear interpolation), with the outer bins open and every bin closed on the right;
  repeated cut points (many equal confidences) are merged, so there may be fewer than ten
  bins. ``"fixed"`` cuts at 0.1, 0.2, ..., 0.9. Missing confidences are left out.

An empty bin would make the logarithm infinite. Each side's empty bins get a share of
``EMPTY_BIN_SHARE`` (1e-4), or a millionth of that side's smallest non-empty share when that
share is itself at most 1e-4: Evidently's rule, so that the per-column ``psi`` drift test
gives the same numbers as Evidently's. Shares are not renormalised afterwards (Evidently
does not either). Label and confidence PSI leave out bins empty on both sides (a label
nobody predicted, a fixed bin no confidence fell into): they say nothing about a shift,
yet filling both sides would add a term whenever the two sides' fill values differ.

Bands: below ``moderate`` (0.1) stable, from ``moderate`` to ``major`` (0.25) moderate,
above ``major`` a major shift.

PSI has no correction for sample size: two samples of one unchanged distribution still
score about ``(k - 1) * (1/n + 1/m)`` on average (``k`` bins, ``n`` and ``m`` rows; PSI is
close to a chi-square divergence there), 0.2 for ten bins and 64 against 150 rows. Each
result carries that figure as ``noise_floor``; a PSI below it says nothing a sample of that
size could not say by chance, whatever its band.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict

from govflow.errors import InputError
from govflow.monitoring.config import PsiSettings

__all__ = [
    "EMPTY_BIN_SHARE",
    "PsiBand",
    "PsiResult",
    "confidence_psi",
    "fill_empty_bins",
    "label_psi",
    "psi_band",
    "psi_value",
]

EMPTY_BIN_SHARE = 1e-4
_DECILES = np.linspace(0.1, 0.9, 9)


class PsiBand(enum.StrEnum):
    """How far a distribution moved: the industry's usual reading of a PSI value."""

    STABLE = "stable"
    MODERATE = "moderate"
    MAJOR = "major"


class PsiResult(BaseModel):
    """One PSI: its value and band, the bins and both sides' shares (before filling)."""

    model_config = ConfigDict(frozen=True)

    name: str
    psi: float
    band: PsiBand
    bins: list[str]
    reference_shares: list[float]
    current_shares: list[float]
    n_reference: int
    n_current: int
    noise_floor: float

    @property
    def is_beyond_noise(self) -> bool:
        """True when the PSI exceeds what sampling alone gives on average."""
        return self.psi > self.noise_floor


def fill_empty_bins(shares: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Return ``shares`` with empty bins given a small share (see the module docstring)."""
    filled = np.asarray(shares, dtype=np.float64).copy()
    empty = filled == 0
    if empty.any() and (~empty).any():
        smallest = float(filled[~empty].min())
        filled[empty] = smallest / 10**6 if smallest <= EMPTY_BIN_SHARE else EMPTY_BIN_SHARE
    return filled


def psi_value(reference_shares: npt.ArrayLike, current_shares: npt.ArrayLike) -> float:
    """Return the PSI of two aligned share vectors, filling empty bins first."""
    reference = fill_empty_bins(reference_shares)
    current = fill_empty_bins(current_shares)
    return float(np.sum((reference - current) * np.log(reference / current)))


def psi_band(value: float, *, settings: PsiSettings) -> PsiBand:
    """Return the band of a PSI value."""
    if value < settings.moderate:
        return PsiBand.STABLE
    if value <= settings.major:
        return PsiBand.MODERATE
    return PsiBand.MAJOR


def label_psi(
    reference: pd.Series,
    current: pd.Series,
    *,
    label_set: Sequence[str],
    settings: PsiSettings,
    name: str = "predicted_label",
) -> PsiResult:
    """Return the PSI of the predicted-label distribution against the reference."""
    ref = reference.dropna().astype(str)
    cur = current.dropna().astype(str)
    _check_sizes(name, len(ref), len(cur))
    extra = sorted((set(ref.unique()) | set(cur.unique())) - set(label_set))
    bins = [*label_set, *extra]
    ref_shares = ref.value_counts().reindex(bins, fill_value=0).to_numpy() / len(ref)
    cur_shares = cur.value_counts().reindex(bins, fill_value=0).to_numpy() / len(cur)
    return _result(name, bins, ref_shares, cur_shares, len(ref), len(cur), settings)


def confidence_psi(
    reference: pd.Series | npt.ArrayLike,
    current: pd.Series | npt.ArrayLike,
    *,
    settings: PsiSettings,
    name: str = "confidence",
) -> PsiResult:
    """Return the PSI of the confidence distribution against the reference."""
    ref = _finite(reference)
    cur = _finite(current)
    _check_sizes(name, ref.size, cur.size)
    if settings.confidence_bins == "deciles":
        edges = np.unique(np.quantile(ref, _DECILES))
    else:
        edges = np.round(_DECILES, 10)
    # searchsorted "left" puts a value equal to a cut point into the bin that the cut closes.
    ref_counts = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=edges.size + 1)
    cur_counts = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=edges.size + 1)
    bounds = ["-inf", *(f"{edge:.4g}" for edge in edges), "inf"]
    bins = [f"({low}, {high}]" for low, high in itertools.pairwise(bounds)]
    bins[-1] = bins[-1].replace("inf]", "inf)")
    return _result(
        name, bins, ref_counts / ref.size, cur_counts / cur.size, ref.size, cur.size, settings
    )


def _result(
    name: str,
    bins: list[str],
    ref_shares: npt.NDArray[np.float64],
    cur_shares: npt.NDArray[np.float64],
    n_ref: int,
    n_cur: int,
    settings: PsiSettings,
) -> PsiResult:
    seen = (ref_shares > 0) | (cur_shares > 0)
    value = psi_value(ref_shares[seen], cur_shares[seen])
    noise_floor = (int(seen.sum()) - 1) * (1 / n_ref + 1 / n_cur)
    return PsiResult(
        name=name,
        psi=value,
        band=psi_band(value, settings=settings),
        bins=bins,
        reference_shares=ref_shares.tolist(),
        current_shares=cur_shares.tolist(),
        n_reference=n_ref,
        n_current=n_cur,
        noise_floor=noise_floor,
    )


def _finite(values: pd.Series | npt.ArrayLike) -> npt.NDArray[np.float64]:
    if isinstance(values, pd.Series):
        values = values.to_numpy(dtype=np.float64, na_value=np.nan)
    array = np.asarray(values, dtype=np.float64)
    return array[np.isfinite(array)]


def _check_sizes(name: str, n_ref: int, n_cur: int) -> None:
    if n_ref == 0:
        raise InputError(f"{name}: the reference has no values to compare with")
    if n_cur == 0:
        raise InputError(f"{name}: the current batch has no values")
