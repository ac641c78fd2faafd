"""Majority vote and Dawid-Skene against crowd-kit, on simulated and hand-built labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from crowdkit.aggregation import DawidSkene, MajorityVote

from govflow.annotation.aggregation import dawid_skene, majority_vote
from govflow.annotation.labels import LabelMatrix


@dataclass(frozen=True)
class Simulation:
    matrix: LabelMatrix
    truth: np.ndarray
    confusion: np.ndarray  # [annotator, true, said]


def simulate(
    seed: int,
    n_items: int = 2000,
    accuracies: tuple[float, ...] = (0.92, 0.85, 0.7, 0.55, 0.4),
    n_labels: int = 4,
    p_missing: float = 0.2,
) -> Simulation:
    """Label items with annotators of known, differing confusion matrices.

    Annotator a gives the true label with probability ``accuracies[a]`` and otherwise a
    label from its own random error profile per true class.
    """
    rng = np.random.default_rng(seed)
    n_annotators = len(accuracies)
    priors = rng.dirichlet(np.full(n_labels, 5.0))
    truth = rng.choice(n_labels, size=n_items, p=priors)
    confusion = rng.dirichlet(np.ones(n_labels), size=(n_annotators, n_labels))
    confusion *= 1.0 - np.asarray(accuracies)[:, None, None]
    confusion[:, np.arange(n_labels), np.arange(n_labels)] += np.asarray(accuracies)[:, None]
    items = np.repeat(np.arange(n_items), n_annotators)
    annotators = np.tile(np.arange(n_annotators), n_items)
    keep = rng.random(items.size) >= p_missing
    items, annotators = items[keep], annotators[keep]
    cumulative = confusion[annotators, truth[items]].cumsum(axis=1)
    labels = np.minimum((rng.random(items.size)[:, None] > cumulative).sum(axis=1), n_labels - 1)
    matrix = LabelMatrix(items, annotators, labels, n_items, n_annotators, n_labels)
    return Simulation(matrix=matrix, truth=truth, confusion=confusion)


def crowdkit_frame(m: LabelMatrix) -> pd.DataFrame:
    return pd.DataFrame({"task": m.item_idx, "worker": m.annotator_idx, "label": m.label_idx})


def crowdkit_posteriors(probas: pd.DataFrame, m: LabelMatrix) -> np.ndarray:
    """Return crowd-kit's task x label table as govflow's layout: nan rows for unlabelled items."""
    table = probas.reindex(columns=range(m.n_labels), fill_value=0.0)
    return table.reindex(index=range(m.n_items)).to_numpy()


def crowdkit_labels(labels: pd.Series, m: LabelMatrix) -> np.ndarray:
    return labels.reindex(range(m.n_items)).fillna(-1).astype(np.int64).to_numpy()


def crowdkit_confusion(errors: pd.DataFrame, m: LabelMatrix) -> np.ndarray:
    """Return crowd-kit's (worker, observed) x true error table as [annotator, true, said]."""
    confusion = np.zeros((m.n_annotators, m.n_labels, m.n_labels))
    workers = errors.index.get_level_values("worker").to_numpy()
    said = errors.index.get_level_values("label").to_numpy()
    for true_label in errors.columns:
        confusion[workers, int(true_label), said] = errors[true_label].to_numpy()
    return confusion


# Majority vote


def test_majority_vote_breaks_ties_towards_lowest_label() -> None:
    m = LabelMatrix.from_records(
        ["a", "a", "a", "b", "b", "c"], [1, 2, 3, 1, 2, 1], [2, 2, 0, 1, 2, 0], label_set=[0, 1, 2]
    )
    result = majority_vote(m)
    np.testing.assert_array_equal(result.labels, [2, 1, 0])
    np.testing.assert_array_equal(result.confidence, [2 / 3, 0.5, 1.0])


def test_majority_vote_marks_unlabelled_items() -> None:
    m = LabelMatrix([0, 0], [0, 1], [1, 1], n_items=2, n_annotators=2, n_labels=2)
    result = majority_vote(m)
    assert result.labels.tolist() == [1, -1]
    assert result.confidence[0] == 1.0 and np.isnan(result.confidence[1])


def test_majority_vote_random_tie_break_picks_among_tied_labels_reproducibly() -> None:
    n = 400
    items = np.repeat(np.arange(n), 3)
    labels = np.tile([0, 2, 3], n)  # every item is a three-way tie between labels 0, 2, 3
    m = LabelMatrix(items, np.tile([0, 1, 2], n), labels, n, 3, 4)
    first = majority_vote(m, tie_break="random", rng_seed=42).labels
    second = majority_vote(m, tie_break="random", rng_seed=42).labels
    np.testing.assert_array_equal(first, second)
    assert set(first.tolist()) == {0, 2, 3}


def test_majority_vote_matches_crowdkit_on_items_without_ties() -> None:
    m = simulate(0, n_items=500).matrix
    reference = MajorityVote()
    probas = crowdkit_posteriors(reference.fit_predict_proba(crowdkit_frame(m)), m)
    result = majority_vote(m)
    # crowd-kit breaks ties by its column order (global label frequency), govflow by index.
    counts = m.counts()
    untied = (counts == counts.max(axis=1, keepdims=True)).sum(axis=1) == 1
    assert untied.mean() > 0.8
    np.testing.assert_array_equal(
        result.labels[untied], crowdkit_labels(reference.labels_, m)[untied]
    )
    np.testing.assert_allclose(result.confidence, probas.max(axis=1), rtol=0, atol=1e-12)


def test_majority_vote_rejects_unknown_tie_break() -> None:
    with pytest.raises(ValueError) as excinfo:
        majority_vote(simulate(0, n_items=10).matrix, tie_break="first")  # type: ignore[arg-type]
    assert str(excinfo.value) == "tie_break must be 'lowest' or 'random', got 'first'"


# Dawid-Skene


@pytest.mark.parametrize(("seed", "tol"), [(0, 1e-5), (1, 1e-6), (2, 1e-7)])
def test_dawid_skene_matches_crowdkit_on_simulated_data(seed: int, tol: float) -> None:
    m = simulate(seed).matrix
    reference = DawidSkene(n_iter=100, tol=tol)
    probas = crowdkit_posteriors(reference.fit_predict_proba(crowdkit_frame(m)), m)
    result = dawid_skene(m, max_iter=100, tol=tol)

    np.testing.assert_array_equal(result.labels, crowdkit_labels(reference.labels_, m))
    # crowd-kit floors its final posteriors at 1e-10 in place; nothing else differs.
    np.testing.assert_allclose(result.posteriors, probas, rtol=0, atol=1e-9)
    assert result.iterations == len(reference.loss_history_)
    np.testing.assert_allclose(result.loss_history, reference.loss_history_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        result.confusion, crowdkit_confusion(reference.errors_, m), rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(
        result.priors,
        reference.priors_.reindex(range(m.n_labels), fill_value=0.0).to_numpy(),
        rtol=0,
        atol=1e-9,
    )


def test_dawid_skene_is_more_accurate_than_majority_vote_with_unequal_annotators() -> None:
    sim = simulate(3, n_items=3000, accuracies=(0.9, 0.45, 0.4, 0.35, 0.35))
    ds_accuracy = (dawid_skene(sim.matrix).labels == sim.truth).mean()
    mv_accuracy = (majority_vote(sim.matrix).labels == sim.truth).mean()
    assert ds_accuracy > mv_accuracy + 0.05


def test_dawid_skene_recovers_annotator_confusion_matrices() -> None:
    sim = simulate(4, n_items=5000, p_missing=0.0)
    result = dawid_skene(sim.matrix)
    np.testing.assert_allclose(result.confusion, sim.confusion, rtol=0, atol=0.05)
    np.testing.assert_allclose(result.confusion.sum(axis=2), 1.0, rtol=0, atol=1e-9)


def test_dawid_skene_gives_unused_labels_zero_probability() -> None:
    sim = simulate(5, n_items=800, n_labels=3)
    m = sim.matrix
    # Put the three used labels at indices 0, 2 and 3 of a five-label set.
    spread = LabelMatrix(
        m.item_idx, m.annotator_idx, np.array([0, 2, 3])[m.label_idx], m.n_items, 5, 5
    )
    result = dawid_skene(spread, tol=1e-5)
    reference = DawidSkene(n_iter=100, tol=1e-5)
    probas = crowdkit_posteriors(reference.fit_predict_proba(crowdkit_frame(spread)), spread)
    np.testing.assert_allclose(result.posteriors, probas, rtol=0, atol=1e-9)
    labelled = spread.labels_per_item() > 0
    assert (result.posteriors[labelled][:, [1, 4]] == 0).all()
    assert result.priors[1] == result.priors[4] == 0.0
    assert (result.confusion[:, [1, 4], :] == 0).all()


def test_dawid_skene_without_iterations_returns_majority_vote_shares() -> None:
    m = simulate(6, n_items=200).matrix
    result = dawid_skene(m, max_iter=0)
    counts = m.counts()
    np.testing.assert_allclose(
        result.posteriors, counts / counts.sum(axis=1, keepdims=True), rtol=0, atol=1e-15
    )
    np.testing.assert_array_equal(result.labels, majority_vote(m).labels)
    assert (result.iterations, result.converged) == (0, False)


def test_dawid_skene_reports_not_converged_when_iterations_run_out() -> None:
    result = dawid_skene(simulate(7, n_items=300).matrix, max_iter=2, tol=0.0)
    assert (result.iterations, result.converged, len(result.loss_history)) == (2, False, 2)


def test_dawid_skene_marks_unlabelled_items() -> None:
    m = LabelMatrix([0, 0, 2, 2], [0, 1, 0, 1], [1, 1, 0, 1], n_items=3, n_annotators=2, n_labels=2)
    result = dawid_skene(m)
    assert result.labels[1] == -1
    assert np.isnan(result.posteriors[1]).all()
    assert result.labels[0] == 1


def test_dawid_skene_rejects_negative_max_iter() -> None:
    with pytest.raises(ValueError) as excinfo:
        dawid_skene(simulate(0, n_items=10).matrix, max_iter=-1)
    assert str(excinfo.value) == "max_iter must be a non-negative integer, got -1"
