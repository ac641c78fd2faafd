"""The production records' suite: it loads, binds its parameters and quarantines bad rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govflow.errors import InputError
from govflow.monitoring.suite import bind_production_suite, suite_parameters
from govflow.validation.checkpoint import validate_frame
from govflow.validation.suites import SUITES_DIR, SuiteSpec, load_suite, load_suite_file

LABELS = ["billing", "bug", "account", "feature_request", "other"]
WHEN = "2026-12-02T18:00:00Z"


@pytest.fixture(scope="module")
def suite() -> SuiteSpec:
    return bind_production_suite(
        load_suite("default", "production"), label_set=LABELS, model_versions=["mv-1", "mv-2"]
    )


def records(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": [f"P-{i}" for i in range(n)],
            "text": [f"ticket {i}" for i in range(n)],
            "predicted_label": [LABELS[i % 5] for i in range(n)],
            "confidence": np.linspace(0.2, 1.0, n),
            "model_version": ["mv-1"] * n,
            "scored_at": [WHEN] * n,
        }
    )


def test_production_suite_loads_with_eight_expectations_and_two_parameters() -> None:
    raw = load_suite("default", "production")
    assert (raw.expected_expectations, raw.quarantine_threshold) == (8, 0.05)
    assert suite_parameters(raw) == {"label_set", "model_versions"}


def test_bound_suite_passes_good_records_and_allows_missing_confidences(
    suite: SuiteSpec,
) -> None:
    frame = records(40)
    frame.loc[5, "confidence"] = np.nan
    outcome = validate_frame(frame, suite)
    assert (outcome.rows_in, outcome.rows_passed, outcome.rows_quarantined) == (40, 40, 0)
    assert outcome.batch_failed is False
    assert outcome.expectations_evaluated == 8


def test_bound_suite_quarantines_each_bad_row_with_its_reason(suite: SuiteSpec) -> None:
    frame = records(100)
    frame.loc[10, "confidence"] = 1.3
    frame.loc[20, "model_version"] = "mv-unknown"
    frame.loc[30, "predicted_label"] = "refund"
    frame.loc[40, "text"] = None
    frame.loc[50, "predicted_label"] = None
    outcome = validate_frame(frame, suite)
    assert (outcome.rows_in, outcome.rows_passed, outcome.rows_quarantined) == (100, 95, 5)
    assert [
        (q["position"], [(r["column"], r["observed"]) for r in q["reasons"]])
        for q in outcome.quarantined
    ] == [
        (10, [("confidence", 1.3)]),
        (20, [("model_version", "mv-unknown")]),
        (30, [("predicted_label", "refund")]),
        (40, [("text", None)]),
        (50, [("predicted_label", None)]),
    ]
    assert outcome.batch_failed is True
    assert outcome.batch_failure_reasons == [
        "critical expectation expect_column_values_to_be_in_set(model_version) failed on 1 row",
        "critical expectation expect_column_values_to_be_between(confidence) failed on 1 row",
        "critical expectation expect_column_values_to_be_in_set(predicted_label) failed on 1 row",
    ]


def test_rows_without_text_or_label_only_quarantine_within_the_threshold(
    suite: SuiteSpec,
) -> None:
    frame = records(100)
    frame.loc[[1, 2], "text"] = None
    frame.loc[3, "predicted_label"] = None
    outcome = validate_frame(frame, suite)
    assert (outcome.rows_passed, outcome.rows_quarantined, outcome.batch_failed) == (97, 3, False)


def test_bound_suite_fails_an_empty_batch_or_one_missing_a_column(suite: SuiteSpec) -> None:
    empty = validate_frame(records(0), suite)
    assert empty.batch_failed is True
    assert empty.batch_failure_reasons[0].startswith(
        "critical expectation expect_table_row_count_to_be_between failed"
    )
    missing = validate_frame(records(10).drop(columns=["scored_at"]), suite)
    assert missing.batch_failed is True
    assert any(
        reason.startswith("critical expectation expect_table_columns_to_match_set failed")
        for reason in missing.batch_failure_reasons
    )


def test_binding_gives_the_suite_a_content_hash_of_its_own(suite: SuiteSpec) -> None:
    other = bind_production_suite(
        load_suite("default", "production"), label_set=LABELS, model_versions=["mv-3"]
    )
    assert other.content_hash != suite.content_hash
    assert suite_parameters(suite) == set()


def test_binding_refuses_an_empty_list_of_model_versions() -> None:
    with pytest.raises(InputError) as caught:
        bind_production_suite(
            load_suite("default", "production"), label_set=LABELS, model_versions=[]
        )
    assert str(caught.value) == (
        "suite default.production: no model versions to bind; every row would be quarantined"
    )


def test_binding_refuses_a_parameter_it_does_not_know(tmp_path: Path) -> None:
    document = json.loads(SUITES_DIR.joinpath("default.production.json").read_text())
    document["name"] = "tickets.production"
    document["expectations"].append(
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "channel", "value_set": {"$PARAMETER": "channels"}},
        }
    )
    document["meta"]["govflow"]["expected_expectations"] = 9
    path = tmp_path / "tickets.production.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        bind_production_suite(load_suite_file(path), label_set=LABELS, model_versions=["mv-1"])
    assert str(caught.value) == (
        "suite tickets.production names parameters govflow does not bind: channels"
    )
