"""Rows quarantined at acquisition (before any suite runs), kept with their reasons."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from govflow.hashing import content_hash
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import insert_ignoring_conflicts, lock_key
from govflow.ledger.models import QuarantinedRow, ValidationRun
from govflow.ledger.validations import validation_run_id_for


def record_source_quarantine(
    *,
    session: Session,
    dataset_version_id: str,
    dataset_name: str,
    source_fingerprint: str,
    rows_in: int,
    rows_passed: int,
    quarantined: Sequence[dict[str, Any]],
    flow_run_id: str | None,
    actor: str,
) -> ValidationRun:
    """Record the schema check of an acquisition as a validation run (idempotent by content).

    ``position`` of each quarantined row is its row number in the source; the raw text is
    kept (truncated) so a person can see what arrived.
    """
    if rows_in != rows_passed + len(quarantined):
        raise ValueError(f"rows_in {rows_in} != {rows_passed} passed + {len(quarantined)}")
    suite_hash = content_hash({"schema_check": dataset_name, "source": source_fingerprint})
    run_id = validation_run_id_for(dataset_version_id=dataset_version_id, suite_hash=suite_hash)
    lock_key(session=session, key=run_id)
    existing = session.get(ValidationRun, run_id)
    if existing is not None:
        return existing
    counts = Counter(check for row in quarantined for check in {r["check"] for r in row["reasons"]})
    run = ValidationRun(
        id=run_id,
        dataset_version_id=dataset_version_id,
        suite_name=f"{dataset_name}.schema",
        suite_hash=suite_hash,
        success=not quarantined,
        expectations_evaluated=0,
        rows_in=rows_in,
        rows_passed=rows_passed,
        rows_quarantined=len(quarantined),
        statistics={"reasons": dict(sorted(counts.items())), "stage": "acquisition"},
        flow_run_id=flow_run_id,
    )
    session.add(run)
    session.flush()
    several_files = len({row.get("source_file") for row in quarantined}) > 1
    insert_ignoring_conflicts(
        session=session,
        table=QuarantinedRow.__tablename__,
        columns=("validation_run_id", "position", "item_hash", "reasons"),
        rows=[
            (
                run_id,
                _position(row, several_files=several_files),
                None,
                _json(_reasons_with_context(row)),
            )
            for row in quarantined
        ],
        conflict_columns=("validation_run_id", "position"),
    )
    append_event(
        session=session,
        actor=actor,
        action="validation.recorded",
        subject=run_id,
        details={
            "dataset_version_id": dataset_version_id,
            "suite": run.suite_name,
            "rows_in": rows_in,
            "rows_passed": rows_passed,
            "rows_quarantined": len(quarantined),
        },
    )
    return run


def _reasons_with_context(row: dict[str, Any]) -> list[dict[str, Any]]:
    # The first reason carries the raw text (and file) so a reviewer can see what arrived.
    reasons = [dict(reason) for reason in row["reasons"]]
    if reasons:
        reasons[0]["raw"] = row.get("raw")
        if row.get("source_file"):
            reasons[0]["source_file"] = row["source_file"]
    return reasons


def _position(row: dict[str, Any], *, several_files: bool) -> int:
    # Rows of a glob of files share row numbers; keep positions unique per run.
    file_part = row.get("source_file")
    if not file_part or not several_files:
        return int(row["source_row"])
    return int(content_hash(file_part)[:6], 16) * 10_000_000 + int(row["source_row"])


def _json(value: Any) -> str:
    from govflow.hashing import canonical_json

    return canonical_json(value)
