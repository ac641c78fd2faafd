"""validate_frame: exact quarantines and reasons, batch verdicts, threads, Data Docs."""

from __future__ import annotations

import pickle
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from govflow.errors import InputError
from govflow.hashing import content_hash
from govflow.preprocess.pipeline import preprocess_frame
from govflow.validation.checkpoint import RowReason, ValidationOutcome, validate_frame
from govflow.validation.suites import SuiteSpec, load_suite, load_suite_file
from tests.govflow.validation.test_suites import write_suite

ROOT = Path(__file__).resolve().parents[3]
COLUMNS = ["ticket_id", "text", "channel", "created_at"]
WHEN = "2026-10-25T09:32:00Z"


@pytest.fixture(scope="module")
def raw_suite() -> SuiteSpec:
    return load_suite("support_tickets", "raw")


def tickets(n: int, *, bad_channels: int = 0) -> pd.DataFrame:
    """Return ``n`` valid tickets; the last ``bad_channels`` have channel 'fax'."""
    channels = ["email", "chat", "web_form"]
    return pd.DataFrame(
        {
            "ticket_id": [f"T{i:05d}" for i in range(n)],
            "text": [f"ticket number {i}" for i in range(n)],
            "channel": [channels[i % 3] if i < n - bad_channels else "fax" for i in range(n)],
            "created_at": [WHEN] * n,
        }
    )


def reason(expectation: str, column: str | None, observed: Any) -> RowReason:
    return {"expectation": f"expect_{expectation}", "column": column, "observed": observed}


def test_validate_frame_quarantines_each_bad_row_with_all_its_reasons(
    raw_suite: SuiteSpec,
) -> None:
    rows = [
        ("T00001", "fine", "email", WHEN),
        ("T00002", None, "chat", WHEN),  # null text: critical
        ("T00003", "fine", "fax", WHEN),  # out of set
        ("T00004", "x" * 2001, "web_form", WHEN),  # too long
        ("X123", "fine", "email", WHEN),  # bad regex
        (12345, "fine", "email", WHEN),  # wrong type (and so no match either)
        ("T00007", "fine", "email", "2026-10-25 09:32"),  # not ISO-8601 UTC
        ("T00008", "", None, "2026-10-25T09:32:00.5Z"),  # duplicate id, empty text, no channel
        ("T00008", "fine", "chat", None),  # duplicate id, no timestamp
        ("T00010", "fine", "web_form", WHEN),
    ]
    frame = pd.DataFrame(rows, columns=COLUMNS)

    outcome = validate_frame(frame, raw_suite)

    assert outcome.quarantined_positions() == [1, 2, 3, 4, 5, 6, 7, 8]
    reasons = {entry["position"]: entry["reasons"] for entry in outcome.quarantined}
    assert reasons == {
        1: [reason("column_values_to_not_be_null", "text", None)],
        2: [reason("column_values_to_be_in_set", "channel", "fax")],
        3: [reason("column_value_lengths_to_be_between", "text", "x" * 199 + "…")],
        4: [reason("column_values_to_match_regex", "ticket_id", "X123")],
        5: [
            reason("column_values_to_be_of_type", "ticket_id", 12345),
            reason("column_values_to_match_regex", "ticket_id", 12345),
        ],
        6: [reason("column_values_to_match_regex", "created_at", "2026-10-25 09:32")],
        7: [
            reason("column_values_to_be_unique", "ticket_id", "T00008"),
            reason("column_value_lengths_to_be_between", "text", ""),
            reason("column_values_to_not_be_null", "channel", None),
        ],
        8: [
            reason("column_values_to_be_unique", "ticket_id", "T00008"),
            reason("column_values_to_not_be_null", "created_at", None),
        ],
    }
    assert (outcome.rows_in, outcome.rows_passed, outcome.rows_quarantined) == (10, 2, 8)
    assert outcome.passed_positions() == [0, 9]
    assert outcome.passed_mask().tolist() == [True] + [False] * 8 + [True]
    assert outcome.quarantine_rate == 0.8
    assert outcome.success is False
    assert outcome.batch_failed is True
    assert outcome.batch_failure_reasons == [
        "critical expectation expect_column_values_to_be_unique(ticket_id) failed on 2 rows",
        "critical expectation expect_column_values_to_not_be_null(text) failed on 1 row",
        "quarantine rate 80.0% above threshold 5.0%",
    ]
    counts = {r.label: (r.success, r.unexpected_count, r.severity.value) for r in outcome.results}
    assert counts == {
        "expect_table_columns_to_match_set": (True, None, "warning"),
        "expect_table_row_count_to_be_between": (True, None, "warning"),
        "expect_column_values_to_not_be_null(ticket_id)": (True, 0, "critical"),
        "expect_column_values_to_be_unique(ticket_id)": (False, 2, "critical"),
        "expect_column_values_to_be_of_type(ticket_id)": (False, 1, "warning"),
        "expect_column_values_to_match_regex(ticket_id)": (False, 2, "warning"),
        "expect_column_values_to_not_be_null(text)": (False, 1, "critical"),
        "expect_column_value_lengths_to_be_between(text)": (False, 2, "warning"),
        "expect_column_values_to_not_be_null(channel)": (False, 1, "warning"),
        "expect_column_values_to_be_in_set(channel)": (False, 1, "warning"),
        "expect_column_values_to_not_be_null(created_at)": (False, 1, "warning"),
        "expect_column_values_to_match_regex(created_at)": (False, 1, "warning"),
    }
    assert outcome.expectations_evaluated == outcome.expectations_expected == 12
    assert content_hash(raw_suite.suite) == raw_suite.content_hash  # GE left the suite alone


def test_bundled_sample_through_both_ticket_suites() -> None:
    from govflow.records import frame_for_validation
    from govflow.sources.acquire import acquire
    from govflow.sources.config import load_dataset_config

    # Acquisition keeps 156 of the 160 demo tickets (four are broken on purpose); the raw
    # suite quarantines the two planted suite-level faults and passes the batch.
    acquired = acquire(load_dataset_config(ROOT / "demo" / "support_tickets.source.yaml"))
    frame = frame_for_validation(acquired.frame)

    raw = validate_frame(frame, load_suite("support_tickets", "raw"))

    assert (raw.rows_in, raw.rows_passed, raw.rows_quarantined) == (156, 154, 2)
    assert [
        (q["position"], [(r["expectation"], r["column"]) for r in q["reasons"]])
        for q in raw.quarantined
    ] == [
        (114, [("expect_column_values_to_be_in_set", "channel")]),
        (141, [("expect_column_values_to_match_regex", "ticket_id")]),
    ]
    assert (raw.batch_failed, raw.batch_failure_reasons) == (False, [])

    clean = frame.iloc[raw.passed_positions()].reset_index(drop=True)
    pre = validate_frame(
        preprocess_frame(clean).frame, load_suite("support_tickets", "preprocessed")
    )

    assert (pre.rows_in, pre.rows_passed, pre.rows_quarantined) == (154, 154, 0)
    assert (pre.success, pre.batch_failed, pre.batch_failure_reasons) == (True, False, [])


def test_critical_failure_fails_batch_under_threshold(raw_suite: SuiteSpec) -> None:
    frame = tickets(100)
    frame.loc[40, "text"] = None

    outcome = validate_frame(frame, raw_suite)

    assert outcome.quarantined_positions() == [40]
    assert outcome.quarantine_rate == 0.01
    assert outcome.batch_failed is True
    assert outcome.batch_failure_reasons == [
        "critical expectation expect_column_values_to_not_be_null(text) failed on 1 row"
    ]


def test_warnings_under_threshold_quarantine_rows_but_pass_batch(raw_suite: SuiteSpec) -> None:
    outcome = validate_frame(tickets(100, bad_channels=5), raw_suite)

    assert outcome.quarantined_positions() == [95, 96, 97, 98, 99]
    assert (outcome.rows_passed, outcome.rows_quarantined) == (95, 5)
    assert (outcome.success, outcome.batch_failed, outcome.batch_failure_reasons) == (
        False,
        False,
        [],
    )


def test_quarantine_rate_above_threshold_fails_batch(raw_suite: SuiteSpec) -> None:
    outcome = validate_frame(tickets(100, bad_channels=7), raw_suite)

    assert outcome.rows_quarantined == 7
    assert outcome.batch_failed is True
    assert outcome.batch_failure_reasons == ["quarantine rate 7.0% above threshold 5.0%"]


def test_missing_column_fails_batch_as_not_evaluated(raw_suite: SuiteSpec) -> None:
    outcome = validate_frame(tickets(10).drop(columns=["channel"]), raw_suite)

    assert outcome.rows_quarantined == 0
    assert outcome.batch_failure_reasons == [
        "expectation expect_column_values_to_not_be_null(channel) could not be evaluated: "
        'Error: The column "channel" in BatchData does not exist.',
        "expectation expect_column_values_to_be_in_set(channel) could not be evaluated: "
        'Error: The column "channel" in BatchData does not exist.',
    ]
    column_set = outcome.results[0]
    assert (column_set.success, column_set.observed) == (
        False,
        ["created_at", "text", "ticket_id"],
    )


def test_table_level_failures_fail_batch_only_when_critical(tmp_path: Path) -> None:
    expectations = [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 5}},
        {
            "type": "expect_table_column_count_to_equal",
            "kwargs": {"value": 9},
            "severity": "warning",
        },
    ]
    suite = load_suite_file(write_suite(tmp_path, expectations=expectations))

    outcome = validate_frame(tickets(3), suite)

    assert outcome.rows_quarantined == 0
    assert [(r.success, r.is_row_level, r.observed) for r in outcome.results] == [
        (False, False, 3),
        (False, False, 4),
    ]
    assert outcome.batch_failure_reasons == [
        "critical expectation expect_table_row_count_to_be_between failed (observed 3)"
    ]


def test_info_expectations_only_report(tmp_path: Path) -> None:
    info = {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "channel", "value_set": ["email"]},
        "severity": "info",
    }
    suite = load_suite_file(write_suite(tmp_path, expectations=[info]))

    outcome = validate_frame(tickets(9), suite)

    assert (outcome.results[0].success, outcome.results[0].unexpected_count) == (False, 6)
    assert (outcome.rows_quarantined, outcome.batch_failed) == (0, False)


def test_positions_are_row_positions_whatever_the_index(raw_suite: SuiteSpec) -> None:
    frame = tickets(6, bad_channels=2)
    frame.index = pd.Index([50, 7, 7, 3, -1, 99])  # neither unique nor ordered
    frame.loc[3, "text"] = None  # label 3 is position 3

    outcome = validate_frame(frame, raw_suite)

    assert outcome.quarantined_positions() == [3, 4, 5]
    assert frame.index.tolist() == [50, 7, 7, 3, -1, 99]  # the caller's frame is untouched


def test_compound_uniqueness_reports_every_column_of_the_row() -> None:
    suite = load_suite("annotated_text", "raw")
    frame = pd.DataFrame(
        {
            "id": [1, 1, 1, 2],
            "text": ["a", "a", "a", "b"],
            "label": ["bug", "bug", "spam", "other"],
            "annotator": ["ann", "bob", "ann", "ann"],
            "confidence": [0.5, 1.0, 1.5, np.nan],
            "created_at": [WHEN] * 4,
        }
    )

    outcome = validate_frame(frame, suite)

    assert {e["position"]: e["reasons"] for e in outcome.quarantined} == {
        0: [reason("compound_columns_to_be_unique", "id,annotator", {"id": 1, "annotator": "ann"})],
        2: [
            reason("compound_columns_to_be_unique", "id,annotator", {"id": 1, "annotator": "ann"}),
            reason("column_values_to_be_in_set", "label", "spam"),
            reason("column_values_to_be_between", "confidence", 1.5),
        ],
        3: [reason("column_values_to_not_be_null", "confidence", None)],
    }


def test_validate_frame_raises_when_fewer_expectations_are_evaluated_than_declared(
    raw_suite: SuiteSpec,
) -> None:
    short = raw_suite.model_copy(update={"expected_expectations": 13})

    with pytest.raises(InputError) as caught:
        validate_frame(tickets(3), short)

    assert caught.value.message == (
        f"suite support_tickets.raw declares 13 expectations but 12 were evaluated: "
        f"{raw_suite.path}"
    )


def test_outcome_round_trips_through_json_and_pickle(raw_suite: SuiteSpec) -> None:
    frame = tickets(20, bad_channels=2)
    frame.loc[0, "text"] = "y" * 500

    outcome = validate_frame(frame, raw_suite)

    assert ValidationOutcome.model_validate_json(outcome.model_dump_json()) == outcome
    assert pickle.loads(pickle.dumps(outcome)) == outcome


def test_outcome_rejects_counts_that_do_not_add_up(raw_suite: SuiteSpec) -> None:
    data = validate_frame(tickets(5, bad_channels=1), raw_suite).model_dump()

    with pytest.raises(ValueError, match="rows_in 5 != rows_passed 5 \\+ rows_quarantined 1"):
        ValidationOutcome.model_validate(data | {"rows_passed": 5})


def test_concurrent_validations_in_threads_get_their_own_counts(raw_suite: SuiteSpec) -> None:
    # Threads sharing one GE data source got each other's counts (field notes); each call
    # has its own context, so every frame must get exactly its own result, every round.
    cases = [(400, 0), (300, 3), (500, 11), (200, 7)]
    frames = [tickets(n, bad_channels=bad) for n, bad in cases]

    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(5):
            outcomes = list(pool.map(lambda f: validate_frame(f, raw_suite), frames))
            assert [(o.rows_in, o.rows_quarantined) for o in outcomes] == cases
            assert [o.quarantined_positions() for o in outcomes] == [
                list(range(n - bad, n)) for n, bad in cases
            ]


def test_data_docs_index_is_built_when_asked(raw_suite: SuiteSpec, tmp_path: Path) -> None:
    docs = tmp_path / "docs"

    outcome = validate_frame(tickets(10, bad_channels=1), raw_suite, data_docs_dir=docs)

    assert outcome.data_docs_path == docs / "index.html"
    assert outcome.data_docs_path.is_file()
    assert "support_tickets.raw" in outcome.data_docs_path.read_text()
    assert len(list((docs / "validations").rglob("*.html"))) == 1
    assert outcome.rows_quarantined == 1
