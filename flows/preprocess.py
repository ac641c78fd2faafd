"""Pre-process: normalize text, redact PII, de-duplicate, validate, register what passed.

In:  ``PreprocessParams``: the dataset config and a ``validated`` version id (from ingest).
Out: ledger rows: a ``preprocessed`` version (parent: the input version) whose lineage lists
     every transformation with its parameters and counts (normalization, redactions per kind,
     exact duplicates removed, near-duplicates marked with the hash of the row they resemble:
     marked, never dropped); a validation run of ``<dataset>.preprocessed`` with its
     quarantined rows; a ``curated`` version of the rows that passed; Prefect artifacts as
     in ingest. The original text of a redacted row is never stored in the output versions.
People: a failed batch opens the same validation-failure gate as ingest (tier 1, deadline
     ``review_deadline_hours``, escalation to tier 2, abort when nobody answers).
"""

from __future__ import annotations

from datetime import timedelta

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote
from pydantic import BaseModel, Field

from flows.ingest import BatchAborted
from flows.results import PreprocessResult
from tasks.ingest import publish_validation_artifacts, record_checkpoint, register_passed_rows
from tasks.preprocess import load_version, register_preprocessed, transform
from tasks.validation import validate_in_chunks


class PreprocessParams(BaseModel):
    config_path: str = Field(description="The dataset config (YAML or TOML).")
    version_id: str = Field(description="The validated version to pre-process.")
    near_duplicate_threshold: float = Field(default=0.8, gt=0, le=1)
    chunk_size: int | None = Field(default=None, ge=100)
    review_deadline_hours: float = Field(default=48, gt=0)
    waiver_days: int = Field(default=30, ge=1)
    data_docs: bool = True


@flow(name="preprocess", persist_result=True, task_runner=ThreadPoolTaskRunner(max_workers=2))
def preprocess(params: PreprocessParams) -> PreprocessResult:
    """Transform a validated version and validate the result."""
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
    frame = load_version(params.version_id)
    batch = transform(frame, config.text_column or "text", params.near_duplicate_threshold)
    version_id, hashes = register_preprocessed(
        batch.frame, dataset=config.name, parent_id=params.version_id, steps=quote(batch.steps)
    )
    suite = suite_for(config, "preprocessed")
    outcome = validate_in_chunks(
        frame_for_validation(batch.frame),
        suite,
        content_key=version_id,
        chunk_size=params.chunk_size or config.chunk_size,
        data_docs_dir=get_settings().home / "data_docs" if params.data_docs else None,
    )
    run_id = record_checkpoint(quote(outcome), version_id=version_id, item_hashes=quote(hashes))
    gate = None
    if outcome.batch_failed:
        logger.warning("batch failed validation: %s", "; ".join(outcome.batch_failure_reasons))
        gate = request_review(
            validation_failure_request(
                outcome,
                dataset_version_id=version_id,
                stage="preprocessed",
                deadline_hours=params.review_deadline_hours,
            )
        )
    decision = decide_batch(outcome, gate)
    publish_validation_artifacts(config.name, "preprocessed", quote(outcome), quote(decision))
    if decision.action is BatchAction.ABORT:
        raise BatchAborted(
            f"{config.name}: batch aborted at the preprocessed checkpoint by "
            f"{', '.join(decision.decided_by) or 'the deadline policy'}"
        )
    curated_id = register_passed_rows(
        quote(hashes),
        quote(decision),
        dataset=config.name,
        parent_id=version_id,
        validation_run_id=run_id,
        suite_name=suite.name,
        waiver_days=timedelta(days=params.waiver_days),
        stage="curated",
    )
    steps = {step["step"]: step for step in batch.steps}
    redaction = steps.get("redact_pii", {})
    return PreprocessResult(
        dataset=config.name,
        input_version_id=params.version_id,
        preprocessed_version_id=version_id,
        curated_version_id=curated_id,
        rows_in=batch.rows_in,
        exact_duplicates_removed=batch.exact_duplicates_removed,
        near_duplicates_marked=int(steps.get("near_duplicates", {}).get("marked", 0)),
        redactions={k: int(redaction.get(k, 0)) for k in ("emails", "phones", "cards")},
        rows_quarantined=outcome.rows_in - decision.rows_passed,
        rows_passed=decision.rows_passed,
    )
