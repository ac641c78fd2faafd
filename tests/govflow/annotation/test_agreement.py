"""Agreement metrics against krippendorff, statsmodels and scikit-learn, and by hand."""

from __future__ import annotations

import itertools
import warnings

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from govflow.annotation.agreement import (
    annotator_agreement_with_consensus,
    annotator_gold_accuracy,
    cohen_kappa_pairwise,
    fleiss_kappa,
    krippendorff_alpha,
    per_item_agreement,
)
from govflow.annotation.labels import LabelMatrix

SEEDS = [0, 1, 2, 3, 4]


def random_matrix(
    seed: int,
    n_items: int = 300,
    n_annotators: int = 6,
    n_labels: int = 4,
    p_missing: float = 0.35,
) -> LabelMatrix:
    """Return a matrix of skewed random labels with a share of (item, annotator) cells missing."""
    rng = np.random.default_rng(seed)
    items = np.repeat(np.arange(n_items), n_annotators)
    annotators = np.tile(np.arange(n_annotators), n_items)
    keep = rng.random(items.size) >= p_missing
    # Label depends on the item so that agreement is well above chance.
    base = rng.integers(0, n_labels, n_items)[items[keep]]
    noise = rng.integers(0, n_labels, keep.sum())
    labels = np.where(rng.random(keep.sum()) < 0.6, base, noise)
    return LabelMatrix(items[keep], annotators[keep], labels, n_items, n_annotators, n_labels)


def reliability_data(m: LabelMatrix) -> np.ndarray:
    """Return the annotators x items matrix the krippendorff package takes, nan for missing."""
    data = np.full((m.n_annotators, m.n_items), np.nan)
    data[m.annotator_idx, m.item_idx] = m.label_idx
    return data


def from_rows(rows: list[list[float]]) -> LabelMatrix:
    """Build a matrix from annotators x items rows of label indices, nan for missing."""
    data = np.asarray(rows, dtype=float)
    annotators, items = np.nonzero(~np.isnan(data))
    labels = data[annotators, items].astype(np.int64)
    return LabelMatrix(
        items, annotators, labels, data.shape[1], data.shape[0], int(np.nanmax(data)) + 1
    )


def from_count_table(table: list[list[int]]) -> LabelMatrix:
    """Build a matrix from an items x labels count table, one annotator per rating slot."""
    counts = np.asarray(table)
    items = np.repeat(np.arange(counts.shape[0]), counts.sum(axis=1))
    labels = np.concatenate([np.repeat(np.arange(counts.shape[1]), row) for row in counts])
    starts = np.concatenate(([0], np.cumsum(counts.sum(axis=1))[:-1]))
    annotators = np.arange(items.size) - starts[items]
    return LabelMatrix(
        items, annotators, labels, counts.shape[0], int(annotators.max()) + 1, counts.shape[1]
    )


# Krippendorff's alpha


@pytest.mark.parametrize("level", ["nominal", "ordinal"])
@pytest.mark.parametrize("seed", SEEDS)
def test_krippendorff_alpha_matches_package_on_random_data_with_missing(
    seed: int, level: str
) -> None:
    m = random_matrix(seed)
    expected = krippendorff.alpha(reliability_data=reliability_data(m), level_of_measurement=level)
    assert krippendorff_alpha(m, level) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("level", ["nominal", "ordinal"])
def test_krippendorff_alpha_matches_package_when_some_labels_unused(level: str) -> None:
    m = random_matrix(7, n_labels=3)
    # Spread the used labels over a 7-label scale: 0, 3 and 6; labels 1, 2, 4, 5 never occur.
    spread = LabelMatrix(m.item_idx, m.annotator_idx, m.label_idx * 3, m.n_items, 6, 7)
    data = reliability_data(spread)
    observed_domain = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    full_domain = krippendorff.alpha(
        reliability_data=data, level_of_measurement=level, value_domain=list(range(7))
    )
    assert krippendorff_alpha(spread, level) == pytest.approx(observed_domain, abs=1e-9)
    assert krippendorff_alpha(spread, level) == pytest.approx(full_domain, abs=1e-9)


def test_krippendorff_alpha_matches_package_docstring_example_nominal() -> None:
    nan = np.nan
    rows = [
        [nan, nan, nan, nan, nan, 3, 4, 1, 2, 1, 1, 3, 3, nan, 3],
        [1, nan, 2, 1, 3, 3, 4, 3, nan, nan, nan, nan, nan, nan, nan],
        [nan, nan, 2, 1, 3, 4, 4, nan, 2, 1, 1, 3, 3, nan, 4],
    ]
    # Krippendorff's textbook example (3 coders, 15 units): alpha = 56/81 = 0.691358.
    assert krippendorff_alpha(from_rows(rows), "nominal") == pytest.approx(56 / 81, abs=1e-12)


def test_krippendorff_alpha_matches_textbook_example_ordinal() -> None:
    nan = np.nan
    rows = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
    m = from_rows(rows)  # label index 0 is unused: values are 1..5
    assert round(krippendorff_alpha(m, "ordinal"), 3) == 0.815
    assert round(krippendorff_alpha(m, "nominal"), 3) == 0.743


@pytest.mark.parametrize("level", ["nominal", "ordinal"])
def test_krippendorff_alpha_is_one_for_perfect_agreement(level: str) -> None:
    rows = [[0, 1, 2, 1, np.nan], [0, 1, 2, 1, 2], [np.nan, 1, 2, 1, 2]]
    assert krippendorff_alpha(from_rows(rows), level) == 1.0


def test_krippendorff_alpha_ignores_items_with_one_label() -> None:
    m = random_matrix(11)
    rows = np.arange(m.n_rows)
    singles = m.n_items + np.arange(20)
    extended = LabelMatrix(
        np.concatenate((m.item_idx, singles)),
        np.concatenate((m.annotator_idx, np.zeros(20, dtype=np.int64))),
        np.concatenate((m.label_idx, rows[:20] % m.n_labels)),
        m.n_items + 20,
        m.n_annotators,
        m.n_labels,
    )
    assert krippendorff_alpha(extended) == krippendorff_alpha(m)


def test_krippendorff_alpha_is_nan_when_expected_disagreement_is_zero() -> None:
    m = from_rows([[1, 1, 0], [1, 1, np.nan]])  # label 0 only on an unpairable item
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        reference = krippendorff.alpha(reliability_data(m), level_of_measurement="nominal")
    assert np.isnan(reference)
    assert np.isnan(krippendorff_alpha(m, "nominal"))
    assert np.isnan(krippendorff_alpha(m, "ordinal"))


def test_krippendorff_alpha_rejects_data_without_pairable_items() -> None:
    m = from_rows([[0, np.nan], [np.nan, 1]])
    with pytest.raises(ValueError) as excinfo:
        krippendorff_alpha(m)
    assert str(excinfo.value) == (
        "krippendorff_alpha needs at least one item labelled by two or more annotators"
    )


def test_krippendorff_alpha_rejects_unknown_level() -> None:
    with pytest.raises(ValueError) as excinfo:
        krippendorff_alpha(random_matrix(0), "interval")  # type: ignore[arg-type]
    assert str(excinfo.value) == "level must be 'nominal' or 'ordinal', got 'interval'"


# Fleiss' kappa

WIKIPEDIA_FLEISS_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_fleiss_kappa_matches_wikipedia_example() -> None:
    kappa = fleiss_kappa(from_count_table(WIKIPEDIA_FLEISS_TABLE))
    assert round(kappa, 3) == 0.210
    assert kappa == pytest.approx(sm_fleiss_kappa(WIKIPEDIA_FLEISS_TABLE), abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_fleiss_kappa_matches_statsmodels_on_complete_random_data(seed: int) -> None:
    m = random_matrix(seed, p_missing=0.0)
    expected = sm_fleiss_kappa(m.counts(), method="fleiss")
    assert fleiss_kappa(m, strict=True) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_fleiss_kappa_uses_items_with_modal_count_when_counts_differ(seed: int) -> None:
    m = random_matrix(seed)
    per_item = m.labels_per_item()
    tally = np.bincount(per_item[per_item > 0])
    modal = np.flatnonzero(tally == tally.max())[-1]
    expected = sm_fleiss_kappa(m.counts()[per_item == modal], method="fleiss")
    assert fleiss_kappa(m) == pytest.approx(expected, abs=1e-9)


def test_fleiss_kappa_breaks_modal_ties_towards_more_ratings() -> None:
    # Two items with 2 ratings, two with 3: the 3-rating items are used.
    m = from_count_table([[2, 0], [1, 1], [3, 0], [2, 1]])
    assert fleiss_kappa(m) == pytest.approx(sm_fleiss_kappa([[3, 0], [2, 1]]), abs=1e-12)


def test_fleiss_kappa_strict_rejects_unequal_rating_counts() -> None:
    m = from_count_table([[2, 0], [1, 1], [3, 0]])
    with pytest.raises(ValueError) as excinfo:
        fleiss_kappa(m, strict=True)
    assert str(excinfo.value) == (
        "fleiss_kappa needs the same number of ratings per item, got items with [2, 3] "
        "ratings; drop the other items or use strict=False"
    )


def test_fleiss_kappa_rejects_single_rating_per_item() -> None:
    with pytest.raises(ValueError) as excinfo:
        fleiss_kappa(from_count_table([[1, 0], [0, 1]]))
    assert str(excinfo.value) == (
        "fleiss_kappa needs at least 2 ratings per item, the modal count is 1"
    )


def test_fleiss_kappa_is_nan_when_every_rating_is_the_same_label() -> None:
    assert np.isnan(fleiss_kappa(from_count_table([[3, 0], [3, 0]])))


# Cohen's kappa


@pytest.mark.parametrize("seed", SEEDS)
def test_cohen_kappa_pairwise_matches_sklearn_on_shared_items(seed: int) -> None:
    m = random_matrix(seed)
    data = reliability_data(m)
    result = cohen_kappa_pairwise(m)
    expected_pairs = {
        (a, b)
        for a, b in itertools.combinations(range(m.n_annotators), 2)
        if (~np.isnan(data[a]) & ~np.isnan(data[b])).any()
    }
    assert set(result) == expected_pairs
    for a, b in expected_pairs:
        shared = ~np.isnan(data[a]) & ~np.isnan(data[b])
        expected = cohen_kappa_score(data[a, shared], data[b, shared])
        assert result[a, b] == pytest.approx(expected, abs=1e-9)


def test_cohen_kappa_pairwise_matches_wikipedia_example() -> None:
    # 50 items: both yes 20, a yes / b no 5, a no / b yes 10, both no 15 -> kappa 0.4.
    a = [1] * 25 + [0] * 25
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    result = cohen_kappa_pairwise(from_rows([a, b]))
    assert result == {(0, 1): pytest.approx(0.4, abs=1e-12)}


def test_cohen_kappa_pairwise_omits_pairs_without_shared_items() -> None:
    nan = np.nan
    m = from_rows([[0, 1, nan, nan], [0, 1, 1, nan], [nan, nan, nan, 0]])
    assert list(cohen_kappa_pairwise(m)) == [(0, 1)]


def test_cohen_kappa_pairwise_is_nan_when_both_use_one_identical_label() -> None:
    m = from_rows([[1, 1, 1], [1, 1, 1], [1, 0, 1]])
    result = cohen_kappa_pairwise(m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = cohen_kappa_score([1, 1, 1], [1, 1, 1])
    assert np.isnan(reference)
    assert np.isnan(result[0, 1])
    assert result[0, 2] == cohen_kappa_score([1, 1, 1], [1, 0, 1]) == 0.0


# Per-item and per-annotator scores


def test_per_item_agreement_counts_agreeing_pairs() -> None:
    nan = np.nan
    m = from_rows([[0, 2, 1, nan], [0, 2, nan, nan], [1, nan, nan, nan]])
    result = per_item_agreement(m)
    np.testing.assert_array_equal(result[:2], [1 / 3, 1.0])
    assert np.isnan(result[2]) and np.isnan(result[3])


def test_per_item_agreement_matches_brute_force_on_random_data() -> None:
    m = random_matrix(5, n_items=60)
    data = reliability_data(m)
    expected = []
    for column in data.T:
        values = column[~np.isnan(column)]
        pairs = list(itertools.permutations(values, 2))
        expected.append(np.mean([x == y for x, y in pairs]) if pairs else np.nan)
    np.testing.assert_allclose(per_item_agreement(m), expected, rtol=0, atol=1e-12)


def test_annotator_gold_accuracy_scores_gold_items_only() -> None:
    nan = np.nan
    m = from_rows([[0, 1, 1, 2], [0, 0, nan, 2], [nan, nan, 1, nan]])
    result = annotator_gold_accuracy(m, {0: 0, 1: 1, 3: 1})
    np.testing.assert_array_equal(result.n_scored, [3, 3, 0])
    np.testing.assert_array_equal(result.n_correct, [2, 1, 0])
    np.testing.assert_array_equal(result.score[:2], [2 / 3, 1 / 3])
    assert np.isnan(result.score[2])


def test_annotator_gold_accuracy_accepts_item_and_label_arrays() -> None:
    m = random_matrix(3)
    gold_items = np.arange(0, m.n_items, 3)
    gold_labels = gold_items % m.n_labels
    from_arrays = annotator_gold_accuracy(m, (gold_items, gold_labels))
    from_dict = annotator_gold_accuracy(
        m, dict(zip(gold_items.tolist(), gold_labels.tolist(), strict=True))
    )
    np.testing.assert_array_equal(from_arrays.score, from_dict.score)
    data = reliability_data(m)
    for a in range(m.n_annotators):
        seen = ~np.isnan(data[a, gold_items])
        assert from_arrays.n_scored[a] == seen.sum()
        assert from_arrays.n_correct[a] == (data[a, gold_items][seen] == gold_labels[seen]).sum()


def test_annotator_gold_accuracy_rejects_out_of_range_gold_label() -> None:
    with pytest.raises(ValueError) as excinfo:
        annotator_gold_accuracy(random_matrix(0), {0: 4})
    assert str(excinfo.value) == "gold label indices must be in 0..3"


def test_annotator_agreement_with_consensus_skips_items_without_consensus() -> None:
    nan = np.nan
    m = from_rows([[0, 1, 1], [0, 0, nan], [nan, 1, 0]])
    result = annotator_agreement_with_consensus(m, [0, 1, -1])
    np.testing.assert_array_equal(result.score, [1.0, 0.5, 1.0])
    np.testing.assert_array_equal(result.n_scored, [2, 2, 1])


def test_annotator_agreement_with_consensus_rejects_wrong_length() -> None:
    with pytest.raises(ValueError) as excinfo:
        annotator_agreement_with_consensus(from_rows([[0, 1], [1, 1]]), [0])
    assert str(excinfo.value) == "consensus_labels must have one entry per item (2), got shape (1,)"


# LabelMatrix construction


def test_from_records_factorizes_ids_in_order_of_appearance() -> None:
    m = LabelMatrix.from_records(
        ["doc-b", "doc-a", "doc-b"], ["ann", "bob", "bob"], ["pos", "neg", "pos"]
    )
    np.testing.assert_array_equal(m.item_idx, [0, 1, 0])
    np.testing.assert_array_equal(m.annotator_idx, [0, 1, 1])
    np.testing.assert_array_equal(m.label_idx, [1, 0, 1])
    assert (m.n_items, m.n_annotators, m.n_labels) == (2, 2, 2)
    assert m.item_ids == ("doc-b", "doc-a")
    assert m.annotator_ids == ("ann", "bob")
    assert m.label_names == ("neg", "pos")


def test_from_records_orders_labels_by_label_set() -> None:
    m = LabelMatrix.from_records(
        [1, 1, 2], ["x", "y", "x"], ["high", "low", "mid"], ["low", "mid", "high", "n/a"]
    )
    np.testing.assert_array_equal(m.label_idx, [2, 0, 1])
    assert m.n_labels == 4
    assert m.label_names == ("low", "mid", "high", "n/a")


def test_from_records_rejects_label_outside_label_set() -> None:
    with pytest.raises(ValueError) as excinfo:
        LabelMatrix.from_records(
            [1, 2, 3], ["x", "x", "x"], ["pos", "maybe", "maybe"], ["neg", "pos"]
        )
    assert str(excinfo.value) == "label(s) 'maybe' not in label_set ['neg', 'pos'] (2 row(s))"


def test_from_records_rejects_duplicate_item_annotator_pair() -> None:
    with pytest.raises(ValueError) as excinfo:
        LabelMatrix.from_records(["a", "b", "a"], ["x", "x", "x"], [0, 1, 1])
    assert str(excinfo.value) == (
        "duplicate (item, annotator) pair: item 'a' is labelled more than once by annotator "
        "'x' (1 duplicated pair(s) in total)"
    )


def test_from_records_rejects_missing_label() -> None:
    with pytest.raises(ValueError) as excinfo:
        LabelMatrix.from_records(["a", "b"], ["x", "x"], ["pos", None])
    assert str(excinfo.value) == (
        "labels contain 1 missing value(s), first at row 1; drop unlabelled rows instead"
    )


def test_from_records_rejects_unequal_lengths() -> None:
    with pytest.raises(ValueError) as excinfo:
        LabelMatrix.from_records(["a", "b"], ["x"], ["pos", "neg"])
    assert str(excinfo.value) == (
        "items, annotators and labels must have the same length, got 2, 1 and 2"
    )


@pytest.mark.parametrize("n_annotators", [3, 5000])  # dense tally and sorted keys
def test_label_matrix_rejects_duplicate_pair_given_as_indices(n_annotators: int) -> None:
    with pytest.raises(ValueError) as excinfo:
        LabelMatrix([4, 1, 4, 1, 4], [2, 0, 2, 1, 2], [0, 0, 1, 1, 1], 5, n_annotators, 2)
    assert str(excinfo.value) == (
        "duplicate (item, annotator) pair: item 4 is labelled more than once by annotator 2 "
        "(1 duplicated pair(s) in total)"
    )


def test_label_matrix_rejects_index_out_of_range() -> None:
    with pytest.raises(ValueError) as excinfo:
        LabelMatrix([0, 1], [0, 0], [0, 3], n_items=2, n_annotators=1, n_labels=3)
    assert str(excinfo.value) == "label_idx values must be in 0..2, got 3"


def test_label_matrix_arrays_are_read_only_copies() -> None:
    items = np.array([0, 1])
    m = LabelMatrix(items, [0, 0], [0, 1], n_items=2, n_annotators=1, n_labels=2)
    items[0] = 1
    assert m.item_idx[0] == 0
    with pytest.raises(ValueError):
        m.item_idx[0] = 1
