"""record_validation and read_quarantine on SQLite and Postgres: exact rows, idempotence."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import func, select

from govflow.errors import InputError, NotFound
from govflow.ledger.audit import count_events, verify_chain
from govflow.ledger.datasets import prepare_items, register_dataset_version
from govflow.ledger.models import AuditEvent, QuarantinedRow, ValidationRun
from govflow.ledger.validations import (
    read_quarantine,
    record_validation,
    validation_run_id_for,
)
from govflow.validation.checkpoint import ValidationOutcome, validate_frame
from govflow.validation.suites import load_suite

WHEN = "2026-10-25T09:32:00Z"
RECORDS = [
    {"ticket_id": "T00001", "text": "refund please", "channel": "email", "created_at": WHEN},
    {"ticket_id": "T00002", "text": None, "channel": "chat", "created_at": WHEN},
    {"ticket_id": "T00003", "text": "app crashes", "channel": "fax", "created_at": WHEN},
    {"ticket_id": "T00004", "text": "dark mode?", "channel": "web_form", "created_at": WHEN},
]


@pytest.fixture(scope="module")
def outcome() -> ValidationOutcome:
    return validate_frame(pd.DataFrame(RECORDS), load_suite("support_tickets", "raw"))


def _register(ledger) -> tuple[str, list[str]]:
    items = prepare_items(RECORDS)
    with ledger.session() as session:
        registration = register_dataset_version(
            session=session, name="support_tickets", stage="raw", items=items, actor="tester"
        )
        return registration.version.id, items.hashes


def _record(ledger, outcome: ValidationOutcome, version_id: str, hashes: list[str] | None):
    with ledger.session() as session:
        run = record_validation(
            session=session,
            outcome=outcome,
            dataset_version_id=version_id,
            flow_run_id="flow-1",
            actor="tester",
            item_hashes=hashes,
        )
        return run.id


def _counts(ledger) -> dict[str, int]:
    with ledger.reader() as session:
        return {
            "validation_runs": session.scalar(select(func.count()).select_from(ValidationRun)),
            "quarantined_rows": session.scalar(select(func.count()).select_from(QuarantinedRow)),
            "audit_events": count_events(session=session),
        }


def test_record_validation_stores_run_quarantine_and_one_event(ledger, outcome) -> None:
    version_id, hashes = _register(ledger)

    run_id = _record(ledger, outcome, version_id, hashes)

    assert run_id == validation_run_id_for(
        dataset_version_id=version_id, suite_hash=outcome.suite_hash
    )
    assert _counts(ledger) == {"validation_runs": 1, "quarantined_rows": 2, "audit_events": 2}
    with ledger.reader() as session:
        run = session.get(ValidationRun, run_id)
        assert (run.suite_name, run.success, run.expectations_evaluated) == (
            "support_tickets.raw",
            False,
            12,
        )
        assert (run.rows_in, run.rows_passed, run.rows_quarantined) == (4, 2, 2)
        assert run.flow_run_id == "flow-1"
        assert run.statistics["batch_failed"] is True
        assert run.statistics["batch_failure_reasons"] == [
            "critical expectation expect_column_values_to_not_be_null(text) failed on 1 row",
            "quarantine rate 50.0% above threshold 5.0%",
        ]
        assert len(run.statistics["results"]) == 12
        rows = read_quarantine(session=session, validation_run_id=run_id)
        assert [(r.position, r.item_hash, r.reasons) for r in rows] == [
            (
                1,
                hashes[1],
                [
                    {
                        "expectation": "expect_column_values_to_not_be_null",
                        "column": "text",
                        "observed": None,
                    }
                ],
            ),
            (
                2,
                hashes[2],
                [
                    {
                        "expectation": "expect_column_values_to_be_in_set",
                        "column": "channel",
                        "observed": "fax",
                    }
                ],
            ),
        ]
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert (event.action, event.subject, event.actor) == (
            "validation.recorded",
            run_id,
            "tester",
        )
        assert event.details["rows_quarantined"] == 2
        assert "fax" not in str(event.details)  # counts only, no row payloads
        assert verify_chain(session=session).is_intact


def test_record_validation_twice_returns_existing_run_and_writes_nothing(ledger, outcome) -> None:
    version_id, hashes = _register(ledger)
    first = _record(ledger, outcome, version_id, hashes)
    before = _counts(ledger)

    second = _record(ledger, outcome, version_id, hashes)

    assert second == first
    assert _counts(ledger) == before


def test_record_validation_without_item_hashes_stores_positions_only(ledger, outcome) -> None:
    version_id, _ = _register(ledger)

    run_id = _record(ledger, outcome, version_id, None)

    with ledger.reader() as session:
        rows = read_quarantine(session=session, validation_run_id=run_id)
        assert [(r.position, r.item_hash) for r in rows] == [(1, None), (2, None)]


def test_record_validation_rejects_unknown_version(ledger, outcome) -> None:
    with pytest.raises(NotFound) as caught:
        _record(ledger, outcome, "dv-missing", None)

    assert caught.value.message == "dataset version 'dv-missing' not found"
    assert _counts(ledger) == {"validation_runs": 0, "quarantined_rows": 0, "audit_events": 0}


def test_record_validation_rejects_item_hashes_of_wrong_length(ledger, outcome) -> None:
    version_id, hashes = _register(ledger)

    with pytest.raises(InputError) as caught:
        _record(ledger, outcome, version_id, hashes[:3])

    assert caught.value.message == "3 item hashes for 4 validated rows"


def test_read_quarantine_of_unknown_run_raises(ledger) -> None:
    with ledger.reader() as session, pytest.raises(NotFound) as caught:
        read_quarantine(session=session, validation_run_id="vr-missing")

    assert caught.value.message == "validation run 'vr-missing' not found"
