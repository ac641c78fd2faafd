from sqlalchemy import func, select

from flows.ingest import IngestParams, ingest
from govflow.ledger.datasets import read_version_records
from govflow.ledger.engine import Ledger
from govflow.ledger.models import (
    AuditEvent,
    DatasetVersion,
    QuarantinedRow,
    ValidationRun,
    Waiver,
)
from tests.support.datasets import jsonl, ticket, write_dataset
from tests.support.gates import decide
from tests.support.snapshots import snapshot_files, stored_counts

MODELS = (DatasetVersion, ValidationRun, QuarantinedRow, AuditEvent)


def _counts(url):
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        counts = (
            {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in MODELS}
            | stored_counts(session)
            | {"snapshots": snapshot_files()}
        )
    ledger.dispose()
    return counts


def _bad_lines():
    return [
        '{"ticket_id": "T00901", "text": ',  # broken JSON
        '["not", "an", "object"]',
        json_line(ticket(902, text=None)),  # missing required text
        json_line(ticket(903, channel="fax")),  # out of the channel set (suite)
        json_line(ticket(904, ticket_id="X-904")),  # ticket id regex (suite)
    ]


def json_line(record):
    import json

    return json.dumps(record)


def test_ingest_quarantines_bad_rows_and_counts_add_up(prefect_server, govflow_env, tmp_path):
    good = [ticket(n) for n in range(1, 196)]
    config = write_dataset(tmp_path, jsonl(good) + _bad_lines())

    result = ingest(IngestParams(config_path=str(config), data_docs=False))

    assert (result.rows_read, result.rows_quarantined_at_acquisition) == (200, 3)
    assert (result.rows_validated, result.rows_quarantined_by_suite, result.rows_passed) == (
        197,
        2,
        195,
    )
    assert result.rows_read == (
        result.rows_passed
        + result.rows_quarantined_at_acquisition
        + result.rows_quarantined_by_suite
    )
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.reader() as session:
        runs = {
            run.suite_name: (run.rows_in, run.rows_passed, run.rows_quarantined)
            for run in session.scalars(select(ValidationRun))
        }
        schema_reasons = sorted(
            (row.position, row.reasons[0]["check"])
            for row in session.scalars(select(QuarantinedRow))
            if row.reasons[0].get("check")
        )
        suite_reasons = sorted(
            (row.reasons[0]["expectation"], row.reasons[0]["column"], row.reasons[0]["observed"])
            for row in session.scalars(select(QuarantinedRow))
            if row.reasons[0].get("expectation")
        )
        validated = read_version_records(session=session, version_id=result.validated_version_id)
    ledger.dispose()
    assert runs == {"tickets.schema": (200, 197, 3), "support_tickets.raw": (197, 195, 2)}
    assert schema_reasons == [
        (196, "invalid_json"),
        (197, "not_an_object"),
        (198, "missing_required"),
    ]
    assert suite_reasons == [
        ("expect_column_values_to_be_in_set", "channel", "fax"),
        ("expect_column_values_to_match_regex", "ticket_id", "X-904"),
    ]
    assert [r["ticket_id"] for r in validated] == [f"T{n:05d}" for n in range(1, 196)]


def test_ingest_twice_gives_same_versions_and_no_new_rows(prefect_server, govflow_env, tmp_path):
    config = write_dataset(tmp_path, jsonl([ticket(n) for n in range(1, 51)]))

    first = ingest(IngestParams(config_path=str(config), data_docs=False))
    counts = _counts(govflow_env["GOVFLOW_DATABASE_URL"])
    second = ingest(IngestParams(config_path=str(config), data_docs=False))

    assert (second.raw_version_id, second.validated_version_id) == (
        first.raw_version_id,
        first.validated_version_id,
    )
    assert _counts(govflow_env["GOVFLOW_DATABASE_URL"]) == counts
    assert counts["dataset_versions"] == 2


def _failing_dataset(tmp_path):
    # 10 of 60 rows share a ticket id: the critical uniqueness check fails and 16.7% of the
    # rows are quarantined, above the suite's 5% threshold.
    records = [ticket(n) for n in range(1, 51)] + [
        ticket(1, text=f"another ticket {n}") for n in range(10)
    ]
    return write_dataset(tmp_path, jsonl(records))


def test_failed_batch_continue_with_clean_rows(flows, roster, run_cli, govflow_env, tmp_path):
    config = _failing_dataset(tmp_path)
    future, run_id = flows.start_flow(
        ingest, params=IngestParams(config_path=str(config), data_docs=False)
    )
    gate = flows.wait_paused(run_id)

    shown = run_cli("review", "show", run_id)
    answer = decide(
        run_cli,
        roster,
        run_id,
        "bob",
        "--all",
        "continue_clean",
        "--note",
        "known duplicate export",
    )
    result = future.result(timeout=120)

    assert gate["kind"] == "validation_failure"
    assert gate["items"] == ["expect_column_values_to_be_unique(ticket_id)", "quarantine_rate"]
    assert "quarantine rate 18.3% above 5.0%" in shown.out
    assert answer.code == 0, answer.err
    assert (result.rows_validated, result.rows_passed, result.decided_by) == (60, 49, ["bob"])


def test_failed_batch_waive_keeps_rows_and_records_waiver(
    flows, roster, run_cli, govflow_env, tmp_path
):
    config = _failing_dataset(tmp_path)
    future, run_id = flows.start_flow(
        ingest, params=IngestParams(config_path=str(config), data_docs=False)
    )
    flows.wait_paused(run_id)

    decide(
        run_cli,
        roster,
        run_id,
        "bob",
        "--all",
        "waive",
        "--note",
        "ids are reused by the source system",
    )
    result = future.result(timeout=120)

    assert (result.rows_passed, result.waived) == (
        60,
        ["expect_column_values_to_be_unique(ticket_id)", "quarantine_rate"],
    )
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.reader() as session:
        waivers = [
            (w.expectation, w.reviewer_id, w.reason, (w.expires_at - w.created_at).days)
            for w in session.scalars(select(Waiver).order_by(Waiver.expectation))
        ]
    ledger.dispose()
    assert waivers == [
        (
            "expect_column_values_to_be_unique(ticket_id)",
            "bob",
            "ids are reused by the source system",
            30,
        ),
        ("quarantine_rate", "bob", "ids are reused by the source system", 30),
    ]


def test_failed_batch_abort_fails_the_run_and_registers_no_clean_version(
    flows, roster, run_cli, govflow_env, tmp_path
):
    import pytest

    from govflow.errors import BatchAborted

    config = _failing_dataset(tmp_path)
    future, run_id = flows.start_flow(
        ingest, params=IngestParams(config_path=str(config), data_docs=False)
    )
    flows.wait_paused(run_id)

    decide(
        run_cli,
        roster,
        run_id,
        "bob",
        "--all",
        "abort",
        "--note",
        "source is broken",
    )

    with pytest.raises(BatchAborted, match="batch aborted at the raw checkpoint by bob"):
        future.result(timeout=120)
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.reader() as session:
        stages = sorted(session.scalars(select(DatasetVersion.stage)))
    ledger.dispose()
    assert stages == ["raw"]


def test_a_batch_quarantined_entirely_at_acquisition_stops_for_a_person(
    flows, roster, run_cli, govflow_env, tmp_path
):
    """#17 point 7: 3 of 3 Parquet rows with the wrong schema is a gate, not a quiet success."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pytest
    import yaml

    from govflow.errors import BatchAborted

    pq.write_table(
        pa.table({"ticket_id": [1, 2, 3], "body": ["a", "b", "c"]}), tmp_path / "t.parquet"
    )
    config = write_dataset(tmp_path, [])
    document = yaml.safe_load(config.read_text())
    document["source"]["path"] = "t.parquet"
    config.write_text(yaml.safe_dump(document))
    future, run_id = flows.start_flow(
        ingest, params=IngestParams(config_path=str(config), data_docs=False)
    )
    gate = flows.wait_paused(run_id)
    shown = run_cli("review", "show", run_id)

    answered = decide(run_cli, roster, run_id, "bob", "--all", "abort", "--note", "wrong file")

    assert gate["items"] == ["total_quarantine_rate", "no_rows"]
    assert "3 of 3 rows read quarantined (100.0%: 3 at acquisition, 0 by the suite)" in shown.out
    assert "no row reached the checkpoint: all 3 rows read were quarantined" in shown.out
    assert answered.code == 0, answered.err
    with pytest.raises(BatchAborted, match="batch aborted at the raw checkpoint by bob"):
        future.result(timeout=120)
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.reader() as session:
        stages = sorted(session.scalars(select(DatasetVersion.stage)))
    ledger.dispose()
    assert stages == ["raw"]  # the empty raw version and its quarantine; nothing validated
