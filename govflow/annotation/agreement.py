"""Inter-annotator agreement metrics over a ``LabelMatrix``.

Every metric works on the long table with ``numpy.bincount`` and small matrix products.
Krippendorff's alpha, Fleiss' kappa and per-item agreement build the dense (items x labels)
count matrix, so memory is n_items * n_labels floats; Cohen's kappa works on the label
pairs within items. The only Python loop is over offsets within an item (tens at most).

Reference implementations the results are tested against, and where govflow differs:

- ``krippendorff_alpha`` matches ``krippendorff.alpha``. Its value domain is always the
  full label set of the matrix, ordered by label index; the package's default is the
  sorted observed values. Both give the same alpha, nominal and ordinal: a label that is
  unused, or used only on items with a single label, has no pairable values, so it adds
  nothing to the coincidences, and the package's ordinal distances sum pairable value
  counts, where it adds zero. Where the package raises for a one-value domain, or returns
  nan with a RuntimeWarning, govflow returns nan quietly whenever the expected
  disagreement is zero.
- ``fleiss_kappa`` matches ``statsmodels.stats.inter_rater.fleiss_kappa(method="fleiss")``
  on items that all have the same number of ratings; see its docstring for unequal counts.
- ``cohen_kappa_pairwise`` matches ``sklearn.metrics.cohen_kappa_score`` per pair, nan
  (without the warning) where sklearn's kappa is undefined.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from govflow.annotation.labels import LabelMatrix

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = [
    "AnnotatorScore",
    "LabelMatrix",
    "annotator_agreement_with_consensus",
    "annotator_gold_accuracy",
    "cohen_kappa_pairwise",
    "fleiss_kappa",
    "krippendorff_alpha",
    "per_item_agreement",
]


def _coincidences(m: LabelMatrix) -> FloatArray:
    """Return Krippendorff's (n_labels, n_labels) coincidence matrix."""
    counts = m.counts().astype(np.float64)
    per_item = counts.sum(axis=1)
    pairable = per_item >= 2
    if not pairable.any():
        raise ValueError(
            "krippendorff_alpha needs at least one item labelled by two or more annotators"
        )
    # Single-label items add nothing (n_c * n_c - n_c == 0), so only pairable rows are kept.
    counts = counts[pairable]
    weighted = counts / (per_item[pairable] - 1.0)[:, None]
    return weighted.T @ counts - np.diag(weighted.sum(axis=0))


def _ordinal_distances(n_v: FloatArray) -> FloatArray:
    """Return the ordinal distance matrix for pairable value counts ``n_v``."""
    cumulative = np.concatenate(([0.0], np.cumsum(n_v)))
    idx = np.arange(n_v.size)
    low, high = np.minimum.outer(idx, idx), np.maximum.outer(idx, idx)
    between = cumulative[high + 1] - cumulative[low]
    return (between - (n_v[low] + n_v[high]) / 2.0) ** 2


def krippendorff_alpha(m: LabelMatrix, level: Literal["nominal", "ordinal"] = "nominal") -> float:
    """Compute Krippendorff's alpha from the coincidence matrix.

    Items with fewer than two labels are not pairable and are ignored. For ``"ordinal"`` the
    label index order is the value order (label 0 < label 1 < ...). Returns nan when the
    expected disagreement is zero (every pairable label is the same value).
    """
    if level not in ("nominal", "ordinal"):
        raise ValueError(f"level must be 'nominal' or 'ordinal', got {level!r}")
    o = _coincidences(m)
    n_v = o.sum(axis=0)
    n = n_v.sum()
    e = (np.outer(n_v, n_v) - np.diag(n_v)) / (n - 1.0)
    d = 1.0 - np.eye(m.n_labels) if level == "nominal" else _ordinal_distances(n_v)
    expected = float((e * d).sum())
    if expected == 0.0:
        return float("nan")
    return 1.0 - float((o * d).sum()) / expected


def fleiss_kappa(m: LabelMatrix, *, strict: bool = False) -> float:
    """Compute Fleiss' kappa over items sharing the modal number of ratings.

    Fleiss' kappa assumes every item has the same number of ratings. When counts differ,
    govflow keeps only the items whose count is the modal one (ties go to the larger count,
    as it carries more information per item) and ignores unlabelled items; pass
    ``strict=True`` to raise instead. Returns nan when chance agreement is 1 (every rating
    is the same label), where statsmodels divides by zero.
    """
    counts = m.counts()
    per_item = counts.sum(axis=1)
    rated = per_item > 0
    if not rated.any():
        raise ValueError("fleiss_kappa needs at least one labelled item")
    tally = np.bincount(per_item[rated])
    modal = int(np.flatnonzero(tally == tally.max())[-1])
    if (strict and tally.size - 1 != modal) or (strict and np.count_nonzero(tally) > 1):
        sizes = np.flatnonzero(tally).tolist()
        raise ValueError(
            "fleiss_kappa needs the same number of ratings per item, got items with "
            f"{sizes} ratings; drop the other items or use strict=False"
        )
    if modal < 2:
        raise ValueError(
            f"fleiss_kappa needs at least 2 ratings per item, the modal count is {modal}"
        )
    table = counts[per_item == modal].astype(np.float64)
    p_category = table.sum(axis=0) / table.sum()
    p_item = ((table * table).sum(axis=1) - modal) / (modal * (modal - 1.0))
    observed = p_item.mean()
    chance = (p_category * p_category).sum()
    if chance == 1.0:
        return float("nan")
    return float((observed - chance) / (1.0 - chance))


def _within_item_pairs(m: LabelMatrix) -> tuple[IntArray, IntArray]:
    """Return row indices (first, second) of every label pair sharing an item.

    Rows are sorted by item then annotator, so ``annotator_idx[first] <
    annotator_idx[second]`` always holds.
    """
    order = np.lexsort((m.annotator_idx, m.item_idx))
    items = m.item_idx[order]
    longest = int(m.labels_per_item().max(initial=0))
    firsts, seconds = [], []
    # Offset k pairs each row with the one k places later in the same item.
    for k in range(1, longest):
        same = np.flatnonzero(items[k:] == items[:-k])
        firsts.append(order[same])
        seconds.append(order[same + k])
    if not firsts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(firsts), np.concatenate(seconds)


def cohen_kappa_pairwise(m: LabelMatrix) -> dict[tuple[int, int], float]:
    """Compute Cohen's kappa for every annotator pair on the items both labelled.

    Keys are annotator index pairs ``(a, b)`` with ``a < b``; pairs that share no item are
    absent. Where sklearn's kappa is undefined (both annotators used one and the same label
    on every shared item) the value is nan, as ``cohen_kappa_score`` returns.
    """
    first, second = _within_item_pairs(m)
    if not first.size:
        return {}
    n_labels = m.n_labels
    pair_key = m.annotator_idx[first] * m.n_annotators + m.annotator_idx[second]
    pairs, pair_pos = np.unique(pair_key, return_inverse=True)
    cell = m.label_idx[first] * n_labels + m.label_idx[second]
    confusion = np.bincount(
        pair_pos * n_labels * n_labels + cell, minlength=pairs.size * n_labels * n_labels
    ).reshape(pairs.size, n_labels, n_labels)
    confusion = confusion.astype(np.float64)
    rows = confusion.sum(axis=2)
    cols = confusion.sum(axis=1)
    total = rows.sum(axis=1)
    expected = rows[:, :, None] * cols[:, None, :] / total[:, None, None]
    off_diagonal = 1.0 - np.eye(n_labels)
    disagreement = (confusion * off_diagonal).sum(axis=(1, 2))
    chance = (expected * off_diagonal).sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(chance > 0, 1.0 - disagreement / chance, np.nan)
    a, b = np.divmod(pairs, m.n_annotators)
    return {
        (int(i), int(j)): float(k) for i, j, k in zip(a.tolist(), b.tolist(), kappa, strict=True)
    }


def per_item_agreement(m: LabelMatrix) -> FloatArray:
    """Return each item's fraction of agreeing label pairs, nan below two labels.

    For an item with label counts n_c summing to n this is sum n_c (n_c - 1) / (n (n - 1)).
    The majority share per item is the ``confidence`` of ``aggregation.majority_vote``.
    """
    counts = m.counts().astype(np.float64)
    n = counts.sum(axis=1)
    agreeing = (counts * (counts - 1.0)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n >= 2, agreeing / (n * (n - 1.0)), np.nan)


@dataclass(frozen=True, eq=False)
class AnnotatorScore:
    """Per-annotator accuracy against reference labels.

    ``score[a]`` is ``n_correct[a] / n_scored[a]``, nan where annotator ``a`` labelled no
    item that has a reference label.
    """

    score: FloatArray
    n_correct: IntArray
    n_scored: IntArray


def _reference_array(
    m: LabelMatrix, reference: Mapping[int, int] | tuple[npt.ArrayLike, npt.ArrayLike]
) -> IntArray:
    """Return an n_items array of reference label indices, -1 where there is none."""
    if isinstance(reference, Mapping):
        items = np.fromiter(reference.keys(), dtype=np.int64, count=len(reference))
        labels = np.fromiter(reference.values(), dtype=np.int64, count=len(reference))
    else:
        items_in, labels_in = reference
        items = np.asarray(items_in, dtype=np.int64)
        labels = np.asarray(labels_in, dtype=np.int64)
        if items.shape != labels.shape or items.ndim != 1:
            raise ValueError(
                f"gold items and labels must be 1-D of equal length, got shapes "
                f"{items.shape} and {labels.shape}"
            )
    if items.size and (items.min() < 0 or items.max() >= m.n_items):
        raise ValueError(f"gold item indices must be in 0..{m.n_items - 1}")
    if labels.size and (labels.min() < 0 or labels.max() >= m.n_labels):
        raise ValueError(f"gold label indices must be in 0..{m.n_labels - 1}")
    if np.unique(items).size != items.size:
        raise ValueError("gold has more than one label for the same item")
    out = np.full(m.n_items, -1, dtype=np.int64)
    out[items] = labels
    return out


def _score_against(m: LabelMatrix, reference: IntArray) -> AnnotatorScore:
    expected = reference[m.item_idx]
    scored = expected >= 0
    annotators = m.annotator_idx[scored]
    n_scored = np.bincount(annotators, minlength=m.n_annotators)
    n_correct = np.bincount(
        annotators[m.label_idx[scored] == expected[scored]], minlength=m.n_annotators
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(n_scored > 0, n_correct / n_scored, np.nan)
    return AnnotatorScore(score=score, n_correct=n_correct, n_scored=n_scored)


def annotator_gold_accuracy(
    m: LabelMatrix, gold: Mapping[int, int] | tuple[npt.ArrayLike, npt.ArrayLike]
) -> AnnotatorScore:
    """Score each annotator against gold labels on the gold items they labelled.

    ``gold`` is a mapping item index -> label index or a pair of arrays (item indices,
    label indices).
    """
    return _score_against(m, _reference_array(m, gold))


def annotator_agreement_with_consensus(
    m: LabelMatrix, consensus_labels: npt.ArrayLike
) -> AnnotatorScore:
    """Score each annotator by how often they gave the consensus label.

    ``consensus_labels`` has one label index per item, -1 for items without consensus.
    The annotator's own vote is part of the consensus (no leave-one-out), so this is
    biased upwards for items with few labels.
    """
    reference = np.asarray(consensus_labels, dtype=np.int64)
    if reference.shape != (m.n_items,):
        raise ValueError(
            f"consensus_labels must have one entry per item ({m.n_items}), "
            f"got shape {reference.shape}"
        )
    if reference.size and (reference.min() < -1 or reference.max() >= m.n_labels):
        raise ValueError(f"consensus_labels must be in -1..{m.n_labels - 1}")
    return _score_against(m, reference)
