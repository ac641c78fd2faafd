"""Consensus labels from several annotators: majority vote and Dawid-Skene.

Both work on the long table of a ``LabelMatrix`` with ``numpy.bincount``; Dawid-Skene's EM
loops in Python only over the classes, never over items or labels given.

``dawid_skene`` follows ``crowdkit.aggregation.DawidSkene`` (crowd-kit 1.4) step for step:
majority-vote soft counts as the initial posteriors, confusion counts floored at 1e-10
before normalising, priors floored at 1e-10 in the E-step, and the same stopping rule (the
evidence lower bound per label, computed as crowd-kit does, improves by less than ``tol``).
On simulated data the iterations, bound history, confusion matrices and labels are the same
and the posteriors agree to 1e-10. The differences:

- crowd-kit floors its final posteriors (and reported priors) at 1e-10 in place, so rows
  can sum to slightly more than 1; govflow returns them unfloored.
- crowd-kit takes the first maximum in its label column order, which is the order labels
  first appear in pandas' ``value_counts`` of (task, label) pairs, so exact ties between
  labels (common in majority vote, rare in Dawid-Skene posteriors) can resolve
  differently; govflow always takes the lowest label index.
- crowd-kit drops items without labels; govflow keeps them with label -1 and nan rows.
- The default ``tol`` here is 1e-6; crowd-kit's is 1e-5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from govflow.annotation.labels import LabelMatrix

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = ["DawidSkeneResult", "MajorityVoteResult", "dawid_skene", "majority_vote"]

# crowd-kit's floor for confusion counts, priors and (in the bound) posteriors.
_EPS = 1e-10


@dataclass(frozen=True, eq=False)
class MajorityVoteResult:
    """Majority-vote labels and the winning label's share of each item's votes.

    Items without labels get label -1 and confidence nan.
    """

    labels: IntArray
    confidence: FloatArray


def majority_vote(
    m: LabelMatrix,
    *,
    tie_break: Literal["lowest", "random"] = "lowest",
    rng_seed: int | None = None,
) -> MajorityVoteResult:
    """Pick each item's most frequent label.

    Ties go to the lowest label index by default, so an item's result does not depend on
    the rest of the table (crowd-kit's ``MajorityVote`` picks by a column order that
    follows the counts of other items); ``tie_break="random"`` picks uniformly among the
    tied labels with a generator seeded by ``rng_seed``.
    """
    if tie_break not in ("lowest", "random"):
        raise ValueError(f"tie_break must be 'lowest' or 'random', got {tie_break!r}")
    if m.n_labels == 0:
        return MajorityVoteResult(
            labels=np.full(m.n_items, -1, dtype=np.int64), confidence=np.full(m.n_items, np.nan)
        )
    counts = m.counts()
    total = counts.sum(axis=1)
    if tie_break == "lowest":
        winner = counts.argmax(axis=1)
    else:
        tied = counts == counts.max(axis=1, initial=0, keepdims=True)
        noise = np.random.default_rng(rng_seed).random(counts.shape)
        winner = np.where(tied, noise, -1.0).argmax(axis=1)
    labelled = total > 0
    top = np.take_along_axis(counts, winner[:, None], axis=1)[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        confidence = np.where(labelled, top / total, np.nan)
    labels = np.where(labelled, winner, -1).astype(np.int64)
    return MajorityVoteResult(labels=labels, confidence=confidence)


@dataclass(frozen=True, eq=False)
class DawidSkeneResult:
    """The fitted Dawid-Skene model.

    ``posteriors[i, c]`` is P(true label of item i is c); rows of unlabelled items are nan
    and their ``labels`` entry is -1. ``confusion[a, c, k]`` is P(annotator a says k | true
    label c); a row is all zero when class c was never used by anyone or annotator a gave
    no labels, and column k is zero where annotator a never said k. ``loss_history`` holds
    the evidence lower bound per label after each iteration.
    """

    labels: IntArray
    posteriors: FloatArray
    confusion: FloatArray
    priors: FloatArray
    iterations: int
    converged: bool
    loss_history: tuple[float, ...]


@dataclass(frozen=True, eq=False)
class _Compact:
    """The long table re-indexed to labelled items, used labels and used (annotator, label).

    Per-class arrays are class-major, shape (classes, ...): one ``bincount`` per class over
    a contiguous row is about twice as fast as a single ``bincount`` over (row, class) keys.
    """

    n_rows: int
    n_items: int
    n_classes: int
    item: IntArray  # row -> compact item index
    cell: IntArray  # row -> index of its (annotator, given label) cell
    n_cells: int
    cell_annotator: IntArray
    cell_label: IntArray
    initial: FloatArray  # majority-vote soft counts, (classes, items)


def _compact(m: LabelMatrix, labelled: npt.NDArray[np.bool_], active: IntArray) -> _Compact:
    n_classes = active.size
    class_of = np.full(m.n_labels, -1, dtype=np.int64)
    class_of[active] = np.arange(n_classes)
    given = class_of[m.label_idx]
    items = (np.cumsum(labelled) - 1)[m.item_idx]
    n_items = int(labelled.sum())
    # Factorize (annotator, label) with a bincount rather than a sort: the key space,
    # n_annotators * n_classes, is small next to the number of labels given.
    cell_key = m.annotator_idx * n_classes + given
    used = np.bincount(cell_key, minlength=m.n_annotators * n_classes) > 0
    cells = np.flatnonzero(used)
    cell = (np.cumsum(used) - 1)[cell_key]
    votes = np.bincount(given * n_items + items, minlength=n_classes * n_items)
    votes = votes.reshape(n_classes, n_items).astype(np.float64)
    return _Compact(
        n_rows=m.n_rows,
        n_items=n_items,
        n_classes=n_classes,
        item=items,
        cell=cell,
        n_cells=cells.size,
        cell_annotator=cells // n_classes,
        cell_label=cells % n_classes,
        initial=votes / votes.sum(axis=0),
    )


def _m_step(
    data: _Compact, posteriors: FloatArray, n_annotators: int
) -> tuple[FloatArray, FloatArray]:
    """Return the raw posterior sums and the normalised confusion rates, (classes, cells)."""
    sums = np.empty((data.n_classes, data.n_cells))
    for c in range(data.n_classes):
        sums[c] = np.bincount(data.cell, weights=posteriors[c][data.item], minlength=data.n_cells)
    floored = np.maximum(sums, _EPS)
    per_annotator = np.zeros((data.n_classes, n_annotators))
    for c in range(data.n_classes):
        per_annotator[c] = np.bincount(
            data.cell_annotator, weights=floored[c], minlength=n_annotators
        )
    return sums, floored / per_annotator[:, data.cell_annotator]


def _e_step(data: _Compact, priors: FloatArray, rates: FloatArray) -> FloatArray:
    """Return the posteriors, (classes, items), given priors and confusion rates."""
    log_rates = np.log2(rates)
    log_prior = np.log2(np.maximum(priors, _EPS))
    log_like = np.empty((data.n_classes, data.n_items))
    for c in range(data.n_classes):
        log_like[c] = np.bincount(
            data.item, weights=log_rates[c][data.cell], minlength=data.n_items
        )
        log_like[c] += log_prior[c]
    # Shift each item so its largest term is 2**0: exp2 cannot underflow to all zeros.
    scaled = np.exp2(log_like - log_like.max(axis=0))
    return scaled / scaled.sum(axis=0)


def _lower_bound(
    data: _Compact, posteriors: FloatArray, priors: FloatArray, sums: FloatArray, rates: FloatArray
) -> float:
    """Return crowd-kit's evidence lower bound per label.

    crowd-kit adds the log prior once per label given rather than once per item; that is
    kept so the stopping iteration matches.
    """
    joint = (sums * np.log(rates)).sum() + (
        sums.sum(axis=1) * np.log(np.maximum(priors, _EPS))
    ).sum()
    floored = np.maximum(posteriors, _EPS)
    entropy = -(floored * np.log(floored)).sum()
    return float(joint + entropy) / data.n_rows


def dawid_skene(m: LabelMatrix, max_iter: int = 100, tol: float = 1e-6) -> DawidSkeneResult:
    """Fit the Dawid-Skene model with EM, starting from majority-vote soft counts.

    Stops after ``max_iter`` iterations or as soon as the per-label evidence lower bound
    improves by less than ``tol`` (or falls), which sets ``converged``. crowd-kit's default
    ``tol`` is 1e-5; pass it explicitly to reproduce crowd-kit's defaults. Labels nobody
    used get prior and posterior 0; ties between labels go to the lowest label index.
    """
    if int(max_iter) != max_iter or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative integer, got {max_iter!r}")
    if not tol >= 0:
        raise ValueError(f"tol must be non-negative, got {tol!r}")
    labelled = m.labels_per_item() > 0
    if not labelled.any():
        return DawidSkeneResult(
            labels=np.full(m.n_items, -1, dtype=np.int64),
            posteriors=np.full((m.n_items, m.n_labels), np.nan),
            confusion=np.zeros((m.n_annotators, m.n_labels, m.n_labels)),
            priors=np.zeros(m.n_labels),
            iterations=0,
            converged=False,
            loss_history=(),
        )
    active = np.flatnonzero(np.bincount(m.label_idx, minlength=m.n_labels) > 0)
    data = _compact(m, labelled, active)

    posteriors = data.initial
    priors = posteriors.mean(axis=1)
    _, rates = _m_step(data, posteriors, m.n_annotators)
    history: list[float] = []
    loss = -np.inf
    converged = False
    for _ in range(int(max_iter)):
        posteriors = _e_step(data, priors, rates)
        priors = posteriors.mean(axis=1)
        sums, rates = _m_step(data, posteriors, m.n_annotators)
        new_loss = _lower_bound(data, posteriors, priors, sums, rates)
        history.append(new_loss)
        if new_loss - loss < tol:
            converged = True
            break
        loss = new_loss

    full_posteriors = np.full((m.n_items, m.n_labels), np.nan)
    full_posteriors[labelled] = 0.0
    full_posteriors[np.ix_(labelled, active)] = posteriors.T
    labels = np.full(m.n_items, -1, dtype=np.int64)
    labels[labelled] = active[posteriors.argmax(axis=0)]
    confusion = np.zeros((m.n_annotators, m.n_labels, m.n_labels))
    true_class, cell = np.ix_(active, np.arange(data.n_cells))
    confusion[data.cell_annotator[cell], true_class, active[data.cell_label][cell]] = rates
    full_priors = np.zeros(m.n_labels)
    full_priors[active] = priors
    return DawidSkeneResult(
        labels=labels,
        posteriors=full_posteriors,
        confusion=confusion,
        priors=full_priors,
        iterations=len(history),
        converged=converged,
        loss_history=tuple(history),
    )
