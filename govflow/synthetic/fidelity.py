"""How much a synthetic batch looks like the organic data, per class, and how varied it is.

Fidelity per class, against the organic rows of the same class, with the scores SDMetrics
reports so users can compare:

- length: the Kolmogorov-Smirnov complement ``1 - D`` of the text lengths in characters
  (``scipy.stats.ks_2samp``, as SDMetrics' KSComplement does);
- vocabulary: the total-variation complement ``1 - 0.5 * sum |p - q|`` of the token
  frequency distributions (SDMetrics' TVComplement formula, without its 1e-6 smoothing).

Diversity of the batch: distinct-1 and distinct-2 (distinct word n-grams over all n-grams)
and the share of rows that near-duplicate an earlier row of the batch.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from govflow.synthetic.plan import CheckThresholds

__all__ = [
    "ClassFidelity",
    "Diversity",
    "class_fidelity",
    "distinct_n",
    "diversity",
    "length_fidelity",
    "vocabulary_fidelity",
]

_TOKEN = re.compile(r"\w+")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def length_fidelity(organic: Sequence[str], synthetic: Sequence[str]) -> float:
    """Return ``1 - KS`` of the character lengths (1.0: the same distribution)."""
    from scipy.stats import ks_2samp

    if not organic or not synthetic:
        return 0.0
    statistic = ks_2samp([len(t) for t in organic], [len(t) for t in synthetic]).statistic
    return float(1.0 - statistic)


def vocabulary_fidelity(organic: Sequence[str], synthetic: Sequence[str]) -> float:
    """Return ``1 - TV`` of the token frequency distributions."""
    left = Counter(tok for text in organic for tok in _tokens(text))
    right = Counter(tok for text in synthetic for tok in _tokens(text))
    n_left, n_right = sum(left.values()), sum(right.values())
    if not n_left or not n_right:
        return 0.0
    tv = 0.5 * sum(abs(left[t] / n_left - right[t] / n_right) for t in left.keys() | right.keys())
    return float(1.0 - tv)


@dataclass(frozen=True)
class ClassFidelity:
    """One class's scores and the thresholds they missed."""

    label: str
    organic_rows: int
    synthetic_rows: int
    length: float
    vocabulary: float
    missed: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.missed


def class_fidelity(
    label: str,
    organic: Sequence[str],
    synthetic: Sequence[str],
    thresholds: CheckThresholds,
) -> ClassFidelity:
    """Score one class's synthetic rows against its organic rows."""
    length = length_fidelity(organic, synthetic)
    vocabulary = vocabulary_fidelity(organic, synthetic)
    missed = []
    if length < thresholds.min_length_fidelity:
        missed.append(f"length {length:.3f} < {thresholds.min_length_fidelity}")
    if vocabulary < thresholds.min_vocabulary_fidelity:
        missed.append(f"vocabulary {vocabulary:.3f} < {thresholds.min_vocabulary_fidelity}")
    return ClassFidelity(
        label=label,
        organic_rows=len(organic),
        synthetic_rows=len(synthetic),
        length=round(length, 4),
        vocabulary=round(vocabulary, 4),
        missed=missed,
    )


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Return distinct word n-grams over all word n-grams of ``texts`` (0.0 when none)."""
    grams: list[tuple[str, ...]] = []
    for text in texts:
        tokens = _tokens(text)
        grams.extend(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return len(set(grams)) / len(grams) if grams else 0.0


@dataclass(frozen=True)
class Diversity:
    distinct_1: float
    distinct_2: float
    near_duplicate_share: float
    missed: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.missed


def diversity(
    texts: Sequence[str], *, near_duplicates: int, thresholds: CheckThresholds
) -> Diversity:
    """Score the batch's variety; ``near_duplicates`` counts rows marked as in-batch copies."""
    d1, d2 = distinct_n(texts, 1), distinct_n(texts, 2)
    share = near_duplicates / len(texts) if texts else 0.0
    missed = []
    if d1 < thresholds.min_distinct_1:
        missed.append(f"distinct-1 {d1:.3f} < {thresholds.min_distinct_1}")
    if d2 < thresholds.min_distinct_2:
        missed.append(f"distinct-2 {d2:.3f} < {thresholds.min_distinct_2}")
    if share > thresholds.max_near_duplicate_share:
        missed.append(f"near-duplicate share {share:.3f} > {thresholds.max_near_duplicate_share}")
    return Diversity(
        distinct_1=round(d1, 4),
        distinct_2=round(d2, 4),
        near_duplicate_share=round(share, 4),
        missed=missed,
    )
