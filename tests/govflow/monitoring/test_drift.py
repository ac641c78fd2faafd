"""Per-column drift: Evidently's test choice and numbers, scipy's statistics, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from scipy.stats import chisquare, ks_2samp, wasserstein_distance
from statsmodels.stats.proportion import proportions_ztest

from govflow.errors import InputError
from govflow.monitoring.config import ColumnKind, ColumnMonitor, DriftTest
from govflow.monitoring.drift import (
    ColumnDrift,
    column_drift,
    default_test,
    detect_drift,
    summarize_drift,
)
from tests.govflow.monitoring.drift_cases import (
    RESULTS,
    VERDICT_KINDS,
    DriftCase,
    build_cases,
    verdict_frames,
)

EVIDENTLY = json.loads(RESULTS.read_text(encoding="utf-8"))
CASES = {case.name: case for case in build_cases()}


def _monitor(case: DriftCase) -> ColumnMonitor:
    return ColumnMonitor(
        name="value", kind=ColumnKind(case.kind), test=case.test, threshold=case.threshold
    )


def test_evidently_results_cover_every_case_on_the_same_data() -> None:
    assert sorted(EVIDENTLY["cases"]) == sorted(CASES)
    for name, case in CASES.items():
        assert EVIDENTLY["cases"][name]["digest"] == case.digest, (
            f"{name}: the data differ from what Evidently saw; rerun evidently_oracle.py"
        )


@pytest.mark.parametrize("name", sorted(CASES))
def test_column_drift_matches_evidently_test_score_and_verdict(name: str) -> None:
    case, expected = CASES[name], EVIDENTLY["cases"][name]
    result = column_drift(case.reference, case.current, _monitor(case))
    assert result.test == expected["test"]
    assert result.score == pytest.approx(expected["score"], rel=1e-9, abs=1e-12)
    assert result.threshold == expected["threshold"]
    assert result.drifted is expected["drifted"]
    assert result.is_default_test is (case.test is None)


def test_detect_drift_matches_evidently_share_and_scores_on_a_frame() -> None:
    reference, current = verdict_frames()
    monitors = [ColumnMonitor(name=c, kind=ColumnKind(k)) for c, k in VERDICT_KINDS.items()]
    summary = detect_drift(reference, current, monitors, drift_share=0.5)
    expected = EVIDENTLY["verdict"]
    assert summary.n_drifted == expected["count"] == 3
    assert summary.share_drifted == expected["share"] == 0.75
    assert summary.drifted is True
    for column, score in expected["scores"].items():
        assert summary.column(column).score == pytest.approx(score, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    ("kind", "n_reference", "n_values", "expected"),
    [
        (ColumnKind.NUMERIC, 1000, 6, DriftTest.KS),
        (ColumnKind.NUMERIC, 1000, 5, DriftTest.CHISQUARE),
        (ColumnKind.NUMERIC, 1000, 3, DriftTest.CHISQUARE),
        (ColumnKind.NUMERIC, 1000, 2, DriftTest.Z),
        (ColumnKind.CATEGORICAL, 1000, 40, DriftTest.CHISQUARE),
        (ColumnKind.CATEGORICAL, 10, 2, DriftTest.Z),
        (ColumnKind.BINARY, 1000, 2, DriftTest.Z),
        (ColumnKind.BINARY, 1000, 1, DriftTest.Z),
        (ColumnKind.NUMERIC, 1001, 6, DriftTest.WASSERSTEIN),
        (ColumnKind.NUMERIC, 1001, 5, DriftTest.JENSENSHANNON),
        (ColumnKind.CATEGORICAL, 1001, 40, DriftTest.JENSENSHANNON),
        (ColumnKind.BINARY, 50_000, 2, DriftTest.JENSENSHANNON),
        (ColumnKind.TEXT, 10, 10, DriftTest.DOMAIN_CLASSIFIER),
    ],
)
def test_default_test_follows_evidently_selection_table(
    kind: ColumnKind, n_reference: int, n_values: int, expected: DriftTest
) -> None:
    assert default_test(kind, n_reference=n_reference, n_values=n_values) is expected


def test_ks_equals_scipy_ks_2samp_on_the_cleaned_values() -> None:
    case = CASES["small_numeric_nan_inf"]
    result = column_drift(case.reference, case.current, _monitor(case))
    finite = case.reference[np.isfinite(case.reference)]
    expected = ks_2samp(finite, case.current)
    assert (result.statistic, result.p_value) == (expected.statistic, expected.pvalue)
    assert (result.n_reference, result.n_current) == (897, 500)


def test_chisquare_equals_scipy_with_reference_counts_scaled_to_the_current_size() -> None:
    reference = pd.Series(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
    current = pd.Series(["a"] * 20 + ["b"] * 20 + ["c"] * 20)
    result = column_drift(reference, current, ColumnMonitor(name="x", kind="categorical"))
    expected = chisquare([20, 20, 20], [50 * 0.6, 30 * 0.6, 20 * 0.6])
    assert result.test is DriftTest.CHISQUARE
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)


def test_chisquare_flags_a_value_the_reference_never_had_with_p_zero() -> None:
    reference = pd.Series(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
    current = pd.Series(["a"] * 50 + ["b"] * 30 + ["c"] * 19 + ["Zephyr"])
    result = column_drift(reference, current, ColumnMonitor(name="product", kind="categorical"))
    assert (result.statistic, result.p_value, result.drifted) == (float("inf"), 0.0, True)


def test_z_test_equals_statsmodels_pooled_two_proportion_test() -> None:
    reference = pd.Series(["no"] * 180 + ["yes"] * 120)
    current = pd.Series(["no"] * 90 + ["yes"] * 110)
    result = column_drift(reference, current, ColumnMonitor(name="x", kind="binary"))
    # The indicator is "not the smallest value" ("yes"): 120 of 300 against 110 of 200.
    z, p = proportions_ztest([120, 110], [300, 200])
    assert result.test is DriftTest.Z
    assert result.statistic == pytest.approx(z, rel=1e-12)
    assert result.p_value == pytest.approx(p, rel=1e-9)


def test_z_test_gives_p_one_when_both_sides_hold_the_same_single_value() -> None:
    result = column_drift(
        pd.Series([1.0] * 40), pd.Series([1.0] * 9), ColumnMonitor(name="flag", kind="numeric")
    )
    assert (result.test, result.statistic, result.p_value, result.drifted) == (
        DriftTest.Z,
        0.0,
        1.0,
        False,
    )


@settings(max_examples=60, deadline=None)
@given(
    reference=st.lists(st.integers(-30, 30), min_size=1, max_size=300),
    current=st.lists(st.integers(-30, 30), min_size=1, max_size=300),
    scale=st.sampled_from([0.001, 0.37, 1.0, 1e6]),
)
def test_wasserstein_equals_scipy_normed_by_reference_std_with_ties(
    reference: list[int], current: list[int], scale: float
) -> None:
    ref = pd.Series(np.asarray(reference, dtype=float) * scale)
    cur = pd.Series(np.asarray(current, dtype=float) * scale)
    result = column_drift(ref, cur, ColumnMonitor(name="x", kind="numeric", test="wasserstein"))
    expected = wasserstein_distance(ref, cur) / max(float(np.std(ref)), 0.001)
    assert result.statistic == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_wasserstein_equals_scipy_at_a_hundred_thousand_rows() -> None:
    rng = np.random.default_rng(3)
    ref = pd.Series(rng.lognormal(0, 1, 20_000))
    cur = pd.Series(rng.lognormal(0.1, 1.1, 100_000))
    result = column_drift(ref, cur, ColumnMonitor(name="x", kind="numeric"))
    expected = wasserstein_distance(ref, cur) / np.std(ref)
    assert result.test is DriftTest.WASSERSTEIN
    assert result.statistic == pytest.approx(expected, rel=1e-9)


def test_jensenshannon_equals_scipy_over_shares_per_value_in_natural_log() -> None:
    reference = pd.Series(["a"] * 800 + ["b"] * 700)
    current = pd.Series(["a"] * 100 + ["b"] * 300 + ["c"] * 100)
    result = column_drift(reference, current, ColumnMonitor(name="x", kind="categorical"))
    expected = jensenshannon([800 / 1500, 700 / 1500, 0.0], [0.2, 0.6, 0.2])
    assert result.test is DriftTest.JENSENSHANNON
    assert result.statistic == pytest.approx(expected, rel=1e-12)


def test_jensenshannon_on_many_valued_numbers_uses_sturges_bins_of_both_sides() -> None:
    case = CASES["jensenshannon_numeric_binned"]
    result = column_drift(case.reference, case.current, _monitor(case))
    edges = np.histogram_bin_edges(np.concatenate([case.reference, case.current]), "sturges")
    ref = np.histogram(case.reference, edges)[0] / len(case.reference)
    cur = np.histogram(case.current, edges)[0] / len(case.current)
    assert result.statistic == pytest.approx(jensenshannon(ref, cur), rel=1e-12)


def test_ks_drifts_at_p_equal_to_threshold_but_chisquare_only_below_it() -> None:
    case = CASES["small_numeric_shift"]
    p_ks = ks_2samp(case.reference, case.current).pvalue
    at_p = ColumnMonitor(name="value", kind="numeric", test="ks", threshold=p_ks)
    assert column_drift(case.reference, case.current, at_p).drifted is True
    reference = pd.Series(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
    current = pd.Series(["a"] * 20 + ["b"] * 20 + ["c"] * 20)
    p_chi = chisquare([20, 20, 20], [30.0, 18.0, 12.0]).pvalue
    at_p = ColumnMonitor(name="x", kind="categorical", test="chisquare", threshold=p_chi)
    assert column_drift(reference, current, at_p).drifted is False


def test_summarize_drift_counts_a_batch_drifted_at_exactly_the_drift_share() -> None:
    def result(name: str, drifted: bool) -> ColumnDrift:
        return ColumnDrift(
            column=name,
            kind=ColumnKind.NUMERIC,
            test=DriftTest.KS,
            is_default_test=True,
            statistic=0.1,
            p_value=0.01 if drifted else 0.5,
            threshold=0.05,
            drifted=drifted,
            n_reference=10,
            n_current=10,
        )

    half = summarize_drift([result("a", True), result("b", False)], drift_share=0.5)
    assert (half.n_drifted, half.share_drifted, half.drifted) == (1, 0.5, True)
    third = summarize_drift(
        [result("a", True), result("b", False), result("c", False)], drift_share=0.5
    )
    assert (third.n_drifted, third.drifted) == (1, False)


def test_column_drift_refuses_a_reference_column_with_no_values() -> None:
    with pytest.raises(InputError) as caught:
        column_drift(
            pd.Series([np.nan, np.inf]),
            pd.Series([1.0, 2.0]),
            ColumnMonitor(name="amount", kind="numeric"),
        )
    assert str(caught.value) == (
        "column 'amount': the reference has no values (all missing or empty)"
    )


def test_column_drift_refuses_a_current_column_with_no_values() -> None:
    with pytest.raises(InputError) as caught:
        column_drift(
            pd.Series(["a", "b"]), pd.Series([None, None]), ColumnMonitor(name="c", kind="binary")
        )
    assert str(caught.value) == "column 'c': the current batch has no values (all missing)"


def test_column_drift_refuses_a_binary_column_with_three_values() -> None:
    with pytest.raises(InputError) as caught:
        column_drift(
            pd.Series(["yes", "no"]),
            pd.Series(["yes", "maybe"]),
            ColumnMonitor(name="is_new", kind="binary"),
        )
    assert str(caught.value) == (
        "column 'is_new' is declared binary but holds 3 values ('yes', 'no', 'maybe')"
    )


def test_column_drift_refuses_text_in_a_numeric_column() -> None:
    with pytest.raises(InputError) as caught:
        column_drift(
            pd.Series([1.0, 2.0]),
            pd.Series(["1", "two"]),
            ColumnMonitor(name="amount", kind="numeric"),
        )
    assert str(caught.value) == (
        "column 'amount' is declared numeric but the current batch holds str values"
    )


def test_chisquare_refuses_a_column_with_a_single_value() -> None:
    monitor = ColumnMonitor(name="channel", kind="categorical", test="chisquare")
    with pytest.raises(InputError) as caught:
        column_drift(pd.Series(["email"] * 5), pd.Series(["email"] * 3), monitor)
    assert str(caught.value) == (
        "column 'channel': chi-square needs at least 2 distinct values, reference and current "
        "hold only 'email' (use the z-test (test: z) for a column with one or two values)"
    )


def test_detect_drift_names_every_column_the_batch_lacks() -> None:
    reference, current = verdict_frames()
    monitors = [ColumnMonitor(name=c, kind=ColumnKind(k)) for c, k in VERDICT_KINDS.items()]
    with pytest.raises(InputError) as caught:
        detect_drift(reference, current.drop(columns=["amount", "is_new"]), monitors)
    assert str(caught.value) == (
        "the current batch has no column 'amount', 'is_new' (it has 'latency', 'channel')"
    )


def test_detect_drift_refuses_an_empty_batch() -> None:
    reference, current = verdict_frames()
    monitors = [ColumnMonitor(name=c, kind=ColumnKind(k)) for c, k in VERDICT_KINDS.items()]
    with pytest.raises(InputError) as caught:
        detect_drift(reference, current.iloc[:0], monitors)
    assert str(caught.value) == "the current batch is empty: there is nothing to compare"


def test_categorical_dtype_columns_count_only_the_values_seen() -> None:
    dtype = pd.CategoricalDtype(["email", "chat", "web_form", "fax"])
    reference = pd.Series(["email"] * 50 + ["chat"] * 30 + ["web_form"] * 20, dtype=dtype)
    current = pd.Series(["email"] * 20 + ["chat"] * 20 + ["web_form"] * 20, dtype=dtype)
    result = column_drift(reference, current, ColumnMonitor(name="x", kind="categorical"))
    plain = column_drift(
        reference.astype(str), current.astype(str), ColumnMonitor(name="x", kind="categorical")
    )
    assert (result.test, result.statistic, result.p_value) == (
        plain.test,
        plain.statistic,
        plain.p_value,
    )
    assert result.p_value == pytest.approx(chisquare([20, 20, 20], [30.0, 18.0, 12.0]).pvalue)
