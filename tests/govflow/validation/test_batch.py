"""A checkpoint's verdict on a batch: failing checks, the gate's question, its answer."""

from __future__ import annotations

import numpy as np
import pytest

from govflow.domain.review import GateResult, ItemDecision, Outcome, ReviewKind
from govflow.errors import BatchAborted, InputError
from govflow.validation.batch import (
    EMPTY_ITEM,
    THRESHOLD_ITEM,
    TOTAL_ITEM,
    BatchAction,
    Upstream,
    abort_if_aborted,
    decide_batch,
    failing_checks,
    needs_people,
    quarantine_step,
    validation_failure_request,
)
from govflow.validation.checkpoint import ExpectationOutcome, ValidationOutcome
from govflow.validation.suites import Severity, suite_for

NOT_NULL = ExpectationOutcome(
    expectation="expect_column_values_to_not_be_null",
    column="text",
    severity=Severity.CRITICAL,
    success=False,
    is_row_level=True,
    unexpected_count=2,
)
IN_SET = ExpectationOutcome(
    expectation="expect_column_values_to_be_in_set",
    column="channel",
    severity=Severity.WARNING,
    success=False,
    is_row_level=True,
    unexpected_count=1,
)


def outcome(threshold: float = 0.5) -> ValidationOutcome:
    """Five rows: rows 0 and 1 fail the critical not-null, row 1 and 3 the warning set check."""
    reason = {"expectation": NOT_NULL.expectation, "column": "text", "observed": None}
    warn = {"expectation": IN_SET.expectation, "column": "channel", "observed": "fax"}
    quarantined = [
        {"position": 0, "reasons": [reason]},
        {"position": 1, "reasons": [reason, warn]},
        {"position": 3, "reasons": [warn]},
    ]
    return ValidationOutcome(
        suite_name="t.raw",
        suite_hash="h",
        success=False,
        expectations_expected=2,
        expectations_evaluated=2,
        results=[NOT_NULL, IN_SET],
        rows_in=5,
        rows_passed=2,
        rows_quarantined=3,
        quarantined=quarantined,
        quarantine_rate=0.6,
        quarantine_threshold=threshold,
        batch_failed=True,
        batch_failure_reasons=["x"],
    )


def gate(choices: dict[str, str], reviewer: str | None = "bob", note: str | None = None):
    return GateResult(
        gate_id="rt-1",
        kind=ReviewKind.VALIDATION_FAILURE,
        decisions=[
            ItemDecision(
                item_key=key,
                choice=choice,
                outcome=Outcome.DECIDED if reviewer else Outcome.TIMED_OUT,
                reviewer_id=reviewer,
                tier=1,
                note=note,
                payload_hash="p",
                gate_id="rt-1",
            )
            for key, choice in choices.items()
        ],
    )


def test_failing_checks_names_critical_failures_and_the_quarantine_rate():
    assert failing_checks(outcome()) == [
        (
            "expect_column_values_to_not_be_null(text)",
            "expect_column_values_to_not_be_null(text) failed (2 rows)",
        ),
        (THRESHOLD_ITEM, "quarantine rate 60.0% above 50.0%"),
    ]


def test_validation_failure_request_asks_one_item_per_failing_check():
    req = validation_failure_request(outcome(), dataset_version_id="dv-1", stage="raw")
    assert (req.name, req.kind, req.tier, req.dataset_version_id) == (
        "validation-raw-t.raw",
        ReviewKind.VALIDATION_FAILURE,
        1,
        "dv-1",
    )
    assert [(i.key, i.reasons) for i in req.items] == [
        ("expect_column_values_to_not_be_null(text)", ["failed_expectation"]),
        (THRESHOLD_ITEM, ["quarantine_rate"]),
    ]
    assert req.items[0].payload["rows_quarantined"] == 3


def test_decide_batch_without_a_gate_continues_a_clean_batch_and_refuses_a_failed_one():
    clean = outcome(threshold=0.9).model_copy(
        update={
            "batch_failed": False,
            "results": [IN_SET],
            "expectations_expected": 1,
            "expectations_evaluated": 1,
        }
    )
    decision = decide_batch(clean)
    assert decision.action is BatchAction.CONTINUE
    assert decision.passed_mask.tolist() == [False, False, True, False, True]
    with pytest.raises(ValueError, match="a failed batch needs a person's decision"):
        decide_batch(outcome())


def test_abort_wins_over_every_other_choice_and_passes_nothing():
    decision = decide_batch(
        outcome(),
        gate({"expect_column_values_to_not_be_null(text)": "waive", THRESHOLD_ITEM: "abort"}),
    )
    assert decision.action is BatchAction.ABORT
    assert decision.rows_passed == 0
    with pytest.raises(BatchAborted, match=r"^t: batch aborted at the raw checkpoint by bob$"):
        abort_if_aborted(decision, dataset="t", stage="raw")


def test_waiving_an_expectation_lets_rows_that_failed_only_it_pass():
    decision = decide_batch(
        outcome(),
        gate(
            {
                "expect_column_values_to_not_be_null(text)": "waive",
                THRESHOLD_ITEM: "continue_clean",
            },
            note="known gap",
        ),
    )
    # Row 0 failed only the waived check; row 1 also failed the set check; row 3 only that.
    assert decision.passed_mask.tolist() == [True, False, True, False, True]
    assert (decision.waived, decision.decided_by, decision.note, decision.gate_id) == (
        ["expect_column_values_to_not_be_null(text)"],
        ["bob"],
        "known gap",
        "rt-1",
    )
    abort_if_aborted(decision, dataset="t", stage="raw")  # continues: nothing raised
    assert quarantine_step(decision, suite_name="t.raw", validation_run_id="vr-1", rows_in=5) == {
        "step": "quarantine",
        "suite": "t.raw",
        "validation_run_id": "vr-1",
        "rows_in": 5,
        "rows_passed": 3,
        "waived": ["expect_column_values_to_not_be_null(text)"],
        "decided_by": ["bob"],
        "review_gate": "rt-1",
    }


def test_an_abort_at_the_deadline_names_the_deadline_policy():
    decision = decide_batch(outcome(), gate({THRESHOLD_ITEM: "abort"}, reviewer=None))
    assert decision.decided_by == []
    with pytest.raises(BatchAborted, match=r"by the deadline policy$"):
        abort_if_aborted(decision, dataset="t", stage="labeled")
    assert isinstance(decision.passed_mask, np.ndarray)


def test_suite_for_prefers_the_declared_then_the_datasets_then_the_default(tmp_path):
    assert suite_for("support_tickets", "raw").name == "support_tickets.raw"
    assert suite_for("tickets", "raw", declared="support_tickets.raw").name == "support_tickets.raw"
    assert suite_for("anything", "labeled").name == "default.labeled"
    with pytest.raises(InputError, match="no expectation suite for anything at stage 'bogus'"):
        suite_for("anything", "bogus")


def test_quarantine_at_acquisition_counts_against_the_datasets_threshold():
    clean = outcome().model_copy(
        update={
            "rows_in": 97,
            "rows_passed": 97,
            "rows_quarantined": 0,
            "quarantined": [],
            "quarantine_rate": 0.0,
            "batch_failed": False,
            "batch_failure_reasons": [],
            "success": True,
            "results": [],
            "expectations_expected": 0,
            "expectations_evaluated": 0,
        }
    )
    within = Upstream(rows_read=100, quarantined=3, threshold=0.05)
    above = Upstream(rows_read=100, quarantined=6, threshold=0.05)
    assert not needs_people(clean, within)
    assert decide_batch(clean, None, within).rows_passed == 97
    assert failing_checks(clean, above) == [
        (
            TOTAL_ITEM,
            "6 of 100 rows read quarantined (6.0%: 6 at acquisition, 0 by the suite) above "
            "the dataset's threshold 5.0%",
        )
    ]
    with pytest.raises(ValueError, match="a failed batch needs a person's decision"):
        decide_batch(clean, None, above)


def test_a_batch_with_no_rows_left_always_stops_for_a_person():
    empty = outcome().model_copy(
        update={
            "rows_in": 0,
            "rows_passed": 0,
            "rows_quarantined": 0,
            "quarantined": [],
            "quarantine_rate": 0.0,
            "batch_failed": False,
            "batch_failure_reasons": [],
            "success": True,
            "results": [],
            "expectations_expected": 0,
            "expectations_evaluated": 0,
        }
    )
    read = Upstream(rows_read=3, quarantined=3, threshold=0.05)
    req = validation_failure_request(empty, dataset_version_id="dv-1", stage="raw", upstream=read)
    assert [(i.key, i.failing_checks) for i in req.items] == [
        (
            TOTAL_ITEM,
            [
                "3 of 3 rows read quarantined (100.0%: 3 at acquisition, 0 by the suite) "
                "above the dataset's threshold 5.0%"
            ],
        ),
        (EMPTY_ITEM, ["no row reached the checkpoint: all 3 rows read were quarantined"]),
    ]
    assert needs_people(empty) and failing_checks(empty) == [(EMPTY_ITEM, "the batch has no rows")]
