"""Ingest: acquire a declared source, check its schema, validate it, and register what passed.

In:  ``IngestParams``: a dataset config (YAML/TOML: source, columns, suites, thresholds).
Out: ledger rows: a ``raw`` dataset version (every row that parsed and matched the schema),
     a schema-check validation run with the rows quarantined at acquisition (with reasons and
     raw text), a validation run of the ``<dataset>.raw`` suite with its quarantined rows, and a
     ``validated`` dataset version of the clean rows whose parent is the raw version; Prefect
     artifacts: a table of counts per expectation and a Markdown summary with the Data Docs
     path (Data Docs under ``$GOVFLOW_HOME/data_docs``).
People: when a critical expectation fails or the quarantine rate exceeds the suite's
     threshold, a validation-failure gate (tier 1: reviewers, specialists, leads; deadline
     ``review_deadline_hours``) asks, per failing check, to continue with the clean rows, waive
     the check for this batch (recorded with who, why and an expiry), or abort. Nobody
     answering escalates to tier 2; nobody answering there aborts the batch.
Re-running with the same input yields the same versions and no new rows.
"""

from __future__ import annotations

from datetime import timedelta

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote
from pydantic import BaseModel, Field

from flows.results import IngestResult
from govflow.errors import GovflowError
from tasks.ingest import (
    acquire_source,
    publish_validation_artifacts,
    record_acquisition,
    record_checkpoint,
    register_passed_rows,
)
from tasks.validation import validate_in_chunks


class IngestParams(BaseModel):
    """What to ingest and how."""

    config_path: str = Field(description="The dataset config (YAML or TOML).")
    chunk_size: int | None = Field(
        default=None, ge=100, description="Rows per validation task (default: the config's)."
    )
    review_deadline_hours: float = Field(default=48, gt=0)
    waiver_days: int = Field(default=30, ge=1, description="How long a waiver stays valid.")
    data_docs: bool = Field(default=True, description="Build Great Expectations Data Docs.")


class BatchAborted(GovflowError):
    """A person (or the deadline policy) stopped a failed batch."""


@flow(name="ingest", persist_result=True, task_runner=ThreadPoolTaskRunner(max_workers=2))
def ingest(params: IngestParams) -> IngestResult:
    """Acquire, check and validate one dataset; register the rows that passed."""
    from govflow.review.gate import request_review
    from govflow.settings import get_settings
    from govflow.sources.config import load_dataset_config
    from govflow.stages.records import frame_for_validation
    from govflow.stages.validation import (
        BatchAction,
        decide_batch,
        suite_for,
        validation_failure_request,
    )

    logger = get_run_logger()
    config = load_dataset_config(params.config_path)
    acquisition = acquire_source(config)
    raw = record_acquisition(quote(acquisition), config)
    suite = suite_for(config, "raw")
    outcome = validate_in_chunks(
        frame_for_validation(acquisition.frame),
        suite,
        content_key=raw.version_id,
        chunk_size=params.chunk_size or config.chunk_size,
        data_docs_dir=get_settings().home / "data_docs" if params.data_docs else None,
    )
    # quote(): Prefect would otherwise walk a million-element list twice looking for futures.
    run_record = record_checkpoint(
        quote(outcome), version_id=raw.version_id, item_hashes=quote(raw.hashes)
    )
    gate = None
    if outcome.batch_failed:
        logger.warning("batch failed validation: %s", "; ".join(outcome.batch_failure_reasons))
        gate = request_review(
            validation_failure_request(
                outcome,
                dataset_version_id=raw.version_id,
                stage="raw",
                deadline_hours=params.review_deadline_hours,
            )
        )
    decision = decide_batch(outcome, gate)
    publish_validation_artifacts(
        config.name, "raw", quote(outcome), quote(decision), quote(acquisition)
    )
    if decision.action is BatchAction.ABORT:
        raise BatchAborted(
            f"{config.name}: batch aborted at the raw checkpoint by "
            f"{', '.join(decision.decided_by) or 'the deadline policy'}"
            + (f" ({decision.note})" if decision.note else "")
        )
    validated_id = register_passed_rows(
        quote(raw.hashes),
        quote(decision),
        dataset=config.name,
        parent_id=raw.version_id,
        validation_run_id=run_record,
        suite_name=suite.name,
        waiver_days=timedelta(days=params.waiver_days),
    )
    return IngestResult(
        dataset=config.name,
        raw_version_id=raw.version_id,
        validated_version_id=validated_id,
        rows_read=acquisition.rows_in,
        rows_quarantined_at_acquisition=len(acquisition.quarantined),
        rows_validated=outcome.rows_in,
        rows_quarantined_by_suite=outcome.rows_in - decision.rows_passed,
        rows_passed=decision.rows_passed,
        waived=decision.waived,
        decided_by=decision.decided_by,
    )
