"""Ingest: acquire a declared source, check its schema, validate it, and register what passed.

In:  ``IngestParams``: a dataset config (YAML/TOML: source, columns, suites, thresholds).
Out: ledger rows: a ``raw`` dataset version (every row that parsed and matched the schema),
     a schema-check validation run with the rows quarantined at acquisition (with reasons and
     raw text), a validation run of the ``<dataset>.raw`` suite with its quarantined rows, and a
     ``validated`` dataset version of the clean rows whose parent is the raw version; Prefect
     artifacts: a table of counts per expectation and a Markdown summary with the Data Docs
     path (Data Docs under ``$GOVFLOW_HOME/data_docs``).
People: when a critical expectation fails, the quarantine rate exceeds the suite's
     threshold, all quarantines of the batch together (acquisition included) exceed the
     dataset config's ``quarantine_threshold``, or no row is left to check, a
     validation-failure gate (tier 1: reviewers, specialists, leads; deadline
     ``review_deadline_hours``) asks, per failing check, to continue with the clean rows, waive
     the check for this batch (recorded with who, why and an expiry), or abort. Nobody
     answering escalates to tier 2; nobody answering there aborts the batch.
Re-running with the same input yields the same versions and no new rows.
"""

from __future__ import annotations

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote
from pydantic import BaseModel, Field

from flows.checkpoint import CheckpointSettings, Upstream, run_checkpoint
from flows.results import IngestResult
from tasks.ingest import acquire_source, record_acquisition


class IngestParams(BaseModel):
    """What to ingest and how."""

    config_path: str = Field(description="The dataset config (YAML or TOML).")
    chunk_size: int | None = Field(
        default=None, ge=100, description="Rows per validation task (default: the config's)."
    )
    review_deadline_hours: float = Field(default=48, gt=0)
    waiver_days: int = Field(default=30, ge=1, description="How long a waiver stays valid.")
    data_docs: bool = Field(default=True, description="Build Great Expectations Data Docs.")


@flow(name="ingest", persist_result=True, task_runner=ThreadPoolTaskRunner(max_workers=2))
def ingest(params: IngestParams) -> IngestResult:
    """Acquire, check and validate one dataset; register the rows that passed."""
    from govflow.domain import Stage
    from govflow.sources.config import load_dataset_config
    from govflow.validation.suites import suite_for

    config = load_dataset_config(params.config_path)
    acquisition = acquire_source(config)
    raw = record_acquisition(quote(acquisition), config)
    checked = run_checkpoint(
        acquisition.frame,
        dataset=config.name,
        checkpoint="raw",
        suite=suite_for(config.name, "raw", declared=config.suites.get("raw")),
        version_id=raw.version_id,
        item_hashes=raw.hashes,
        passed_stage=Stage.VALIDATED,
        settings=CheckpointSettings(
            chunk_size=params.chunk_size or config.chunk_size,
            review_deadline_hours=params.review_deadline_hours,
            waiver_days=params.waiver_days,
            data_docs=params.data_docs,
        ),
        acquisition=acquisition,
        upstream=Upstream(
            rows_read=acquisition.rows_in,
            quarantined=len(acquisition.quarantined),
            threshold=config.quarantine_threshold,
        ),
    )
    return IngestResult.of(
        dataset=config.name, acquisition=acquisition, raw_version_id=raw.version_id, checked=checked
    )
