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

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote
from pydantic import BaseModel, Field

from flows.checkpoint import CheckpointSettings, run_checkpoint
from flows.results import PreprocessResult
from tasks.preprocess import load_version, transform
from tasks.validation import register_frame_version


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
    from govflow.domain import Stage
    from govflow.sources.config import load_dataset_config
    from govflow.validation.suites import suite_for

    config = load_dataset_config(params.config_path)
    frame = load_version(params.version_id)
    batch = transform(frame, config.text_column or "text", params.near_duplicate_threshold)
    version_id, hashes = register_frame_version(
        batch.frame,
        dataset=config.name,
        stage=Stage.PREPROCESSED,
        parent_id=params.version_id,
        steps=quote(batch.steps),
    )
    checked = run_checkpoint(
        batch.frame,
        dataset=config.name,
        checkpoint="preprocessed",
        suite=suite_for(config.name, "preprocessed", declared=config.suites.get("preprocessed")),
        version_id=version_id,
        item_hashes=hashes,
        passed_stage=Stage.CURATED,
        settings=CheckpointSettings(
            chunk_size=params.chunk_size or config.chunk_size,
            review_deadline_hours=params.review_deadline_hours,
            waiver_days=params.waiver_days,
            data_docs=params.data_docs,
        ),
    )
    return PreprocessResult.of(
        dataset=config.name,
        input_version_id=params.version_id,
        preprocessed_version_id=version_id,
        batch=batch,
        checked=checked,
    )
