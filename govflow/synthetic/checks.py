"""govflow's screening checks of a synthetic batch, one observation per row and check.

Each check fills a column of the frame the synthetic suite validates: missing when the row
passed it, else what was observed (which item it copies and how closely, which PII kinds).
The suite expects every check column to be null, so a failing row is quarantined with every
reason, in the checkpoint's usual ``{"expectation", "column", "observed"}`` shape.

- ``organic_copy``: an exact or near copy (estimated Jaccard on character 5-grams at or
  above the plan's threshold) of an organic item: the generator echoed its seeds;
- ``evaluation_copy``: an exact or near copy of an evaluation item (the contamination
  firewall);
- ``pii``: what the pre-processing detectors find (e-mail, phone, card);
- ``pii_span``: a verbatim run of ``pii_span_words`` words from an organic text that carried
  PII (the generator may have learned a person's message by heart);
- ``batch_duplicate``: a near duplicate of an earlier row of the same batch (pattern
  reinforcement).

``label_disagreements`` is apart on purpose: a checker model disagreeing with the intended
label is a question for people, never a quarantine.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from govflow.preprocess.dedupe import near_duplicates
from govflow.preprocess.pii import PII_KINDS, PLACEHOLDERS, redact_text
from govflow.synthetic.nearcopy import ReferenceIndex
from govflow.synthetic.plan import CheckThresholds

__all__ = [
    "CHECK_COLUMNS",
    "LabelDisagreement",
    "PiiSpans",
    "ScreenResult",
    "label_disagreements",
    "screen_batch",
]

CHECK_COLUMNS = ("organic_copy", "evaluation_copy", "pii", "pii_span", "batch_duplicate")
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class PiiSpans:
    """Every run of ``width`` words of the organic texts that carried PII."""

    width: int
    spans: frozenset[tuple[str, ...]]

    @classmethod
    def from_texts(cls, texts: Sequence[str], *, width: int) -> PiiSpans:
        spans: set[tuple[str, ...]] = set()
        for text in texts:
            if not isinstance(text, str) or not _carries_pii(text):
                continue
            words = _WORDS.findall(text.lower())
            spans.update(tuple(words[i : i + width]) for i in range(len(words) - width + 1))
        return cls(width=width, spans=frozenset(spans))

    def first_in(self, text: str) -> str | None:
        words = _WORDS.findall(text.lower())
        for i in range(len(words) - self.width + 1):
            if tuple(words[i : i + self.width]) in self.spans:
                return " ".join(words[i : i + self.width])
        return None


def _carries_pii(text: str) -> bool:
    if any(placeholder in text for placeholder in PLACEHOLDERS.values()):
        return True
    return any(redact_text(text)[1])


@dataclass(frozen=True, eq=False)
class ScreenResult:
    """The check columns (one per check, missing where the row passed) and a summary."""

    checks: pd.DataFrame
    nearest_organic: list[str | None]
    nearest_similarity: list[float | None]

    @property
    def failed(self) -> np.ndarray:
        return self.checks.notna().any(axis=1).to_numpy()

    def counts(self) -> dict[str, int]:
        return {column: int(self.checks[column].notna().sum()) for column in CHECK_COLUMNS}


def screen_batch(
    texts: Sequence[str],
    *,
    organic: ReferenceIndex,
    organic_ids: Sequence[str],
    evaluation: ReferenceIndex | None,
    evaluation_ids: Sequence[str],
    pii_spans: PiiSpans,
    thresholds: CheckThresholds,
) -> ScreenResult:
    """Run every check on ``texts``; return their observations per row."""
    n = len(texts)
    text_list = list(texts)
    organic_match = organic.match(text_list)
    columns: dict[str, list[str | None]] = {c: [None] * n for c in CHECK_COLUMNS}
    for i in np.flatnonzero(organic_match.matched):
        ref = int(organic_match.reference[i])
        columns["organic_copy"][i] = _copy_note(
            organic_ids[ref], float(organic_match.similarity[i]), bool(organic_match.is_exact[i])
        )
    if evaluation is not None and len(evaluation):
        found = evaluation.match(text_list)
        for i in np.flatnonzero(found.matched):
            columns["evaluation_copy"][i] = _copy_note(
                evaluation_ids[int(found.reference[i])],
                float(found.similarity[i]),
                bool(found.is_exact[i]),
            )
    for i, text in enumerate(text_list):
        counts = redact_text(text)[1]
        kinds = [f"{kind} {c}" for kind, c in zip(PII_KINDS, counts, strict=True) if c]
        if kinds:
            columns["pii"][i] = ", ".join(kinds)
        span = pii_spans.first_in(text)
        if span is not None:
            columns["pii_span"][i] = (
                f"{pii_spans.width} words of an organic text with PII: {span!r}"
            )
    within = near_duplicates(
        pd.Series(text_list, dtype=object),
        threshold=thresholds.batch_jaccard,
        shingle="char",
        ngram=5,
    )
    for i in np.flatnonzero(within.near_duplicate_of >= 0):
        columns["batch_duplicate"][i] = (
            f"row {int(within.near_duplicate_of[i])} (Jaccard {within.similarity[i]:.2f})"
        )
    nearest: list[str | None] = [
        organic_ids[int(r)] if r >= 0 else None for r in organic_match.reference
    ]
    similarity = [None if np.isnan(s) else round(float(s), 3) for s in organic_match.similarity]
    return ScreenResult(
        checks=pd.DataFrame(columns, dtype=object),
        nearest_organic=nearest,
        nearest_similarity=similarity,
    )


def _copy_note(item: str, similarity: float, exact: bool) -> str:
    if exact:
        return f"exact copy of {item}"
    return f"near copy of {item} (Jaccard {similarity:.2f})"


@dataclass(frozen=True)
class LabelDisagreement:
    """A row whose checker prediction differs from the label it was made for."""

    position: int
    intended: str
    predicted: str
    confidence: float | None


def label_disagreements(
    intended: Sequence[str], predicted: Sequence[str | None], confidence: Sequence[float | None]
) -> list[LabelDisagreement]:
    """Return the rows where the checker predicted another label (errors are skipped)."""
    return [
        LabelDisagreement(position=i, intended=want, predicted=got, confidence=conf)
        for i, (want, got, conf) in enumerate(zip(intended, predicted, confidence, strict=True))
        if got is not None and got != want
    ]
