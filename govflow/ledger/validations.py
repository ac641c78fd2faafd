"""Validation runs and the rows they quarantined.

A run is keyed by its dataset version and the content hash of its suite, so recording the
same validation again (a retried task, a suspended flow running from the top) finds the
existing run and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.errors import InputError, NotFound
from govflow.hashing import canonical_json, sha256_text
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import insert_ignoring_conflicts, lock_key
from govflow.ledger.models import DatasetVersion, QuarantinedRow, ValidationRun

if TYPE_CHECKING:
    from govflow.validation.checkpoint import ValidationOutcome

__all__ = ["read_quarantine", "record_validation", "validation_run_id_for"]


def validation_run_id_for(*, dataset_version_id: str, suite_hash: str) -> str:
    """Return the deterministic id of the run of the suite ``suite_hash`` over a version."""
    return "vr-" + sha256_text(f"{dataset_version_id}\n{suite_hash}")[:24]


def record_validation(
    *,
    session: Session,
    outcome: ValidationOutcome,
    dataset_version_id: str,
    flow_run_id: str | None,
    actor: str,
    item_hashes: Sequence[str] | None = None,
) -> ValidationRun:
    """Record a validation outcome and its quarantined rows; an existing run is returned as is.

    ``item_hashes`` holds the content hash of every validated row, by position; when given,
    each quarantined row records its item's hash.
    """
    run_id = validation_run_id_for(
        dataset_version_id=dataset_version_id, suite_hash=outcome.suite_hash
    )
    lock_key(session=session, key=run_id)
    existing = session.get(ValidationRun, run_id)
    if existing is not None:
        return existing
    if session.get(DatasetVersion, dataset_version_id) is None:
        raise NotFound("dataset version", dataset_version_id)
    if item_hashes is not None and len(item_hashes) != outcome.rows_in:
        raise InputError(
            f"{len(item_hashes)} item hashes for {outcome.rows_in} validated rows",
            hint="pass one hash per validated row, in row order",
        )

    run = ValidationRun(
        id=run_id,
        dataset_version_id=dataset_version_id,
        suite_name=outcome.suite_name,
        suite_hash=outcome.suite_hash,
        success=outcome.success,
        expectations_evaluated=outcome.expectations_evaluated,
        rows_in=outcome.rows_in,
        rows_passed=outcome.rows_passed,
        rows_quarantined=outcome.rows_quarantined,
        statistics=_statistics(outcome),
        flow_run_id=flow_run_id,
    )
    session.add(run)
    session.flush()
    insert_ignoring_conflicts(
        session=session,
        table=QuarantinedRow.__tablename__,
        columns=("validation_run_id", "position", "item_hash", "reasons"),
        rows=[
            (
                run_id,
                entry["position"],
                item_hashes[entry["position"]] if item_hashes is not None else None,
                # Serialized here: the bulk path writes driver values, bypassing the JSON type.
                canonical_json(entry["reasons"]),
            )
            for entry in outcome.quarantined
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
            "suite_name": outcome.suite_name,
            "suite_hash": outcome.suite_hash,
            "success": outcome.success,
            "batch_failed": outcome.batch_failed,
            "batch_failure_reasons": list(outcome.batch_failure_reasons),
            "expectations_evaluated": outcome.expectations_evaluated,
            "rows_in": outcome.rows_in,
            "rows_passed": outcome.rows_passed,
            "rows_quarantined": outcome.rows_quarantined,
            "flow_run_id": flow_run_id,
        },
    )
    return run


def _statistics(outcome: ValidationOutcome) -> dict[str, object]:
    """Return what a run row has no column for: the verdict and per-expectation results."""
    return {
        "batch_failed": outcome.batch_failed,
        "batch_failure_reasons": list(outcome.batch_failure_reasons),
        "quarantine_rate": outcome.quarantine_rate,
        "quarantine_threshold": outcome.quarantine_threshold,
        "expectations_expected": outcome.expectations_expected,
        "results": [result.model_dump(mode="json") for result in outcome.results],
        "data_docs_path": str(outcome.data_docs_path) if outcome.data_docs_path else None,
    }


def read_quarantine(*, session: Session, validation_run_id: str) -> list[QuarantinedRow]:
    """Return a run's quarantined rows in position order."""
    if session.get(ValidationRun, validation_run_id) is None:
        raise NotFound("validation run", validation_run_id)
    return list(
        session.scalars(
            select(QuarantinedRow)
            .where(QuarantinedRow.validation_run_id == validation_run_id)
            .order_by(QuarantinedRow.position)
        )
    )
