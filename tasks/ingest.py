"""Ingestion tasks: acquire, register, record checkpoints, publish artifacts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from govflow.ledger.engine import Ledger
from govflow.sources.acquire import Acquisition
from govflow.sources.config import DatasetConfig
from govflow.stages.validation import BatchDecision
from govflow.validation.checkpoint import ValidationOutcome


def flow_actor() -> tuple[str | None, str]:
    """Return the current flow run id and the audit actor naming it."""
    from prefect.runtime import flow_run

    run_id = flow_run.id
    return (str(run_id) if run_id else None), (f"flow-run:{run_id}" if run_id else "flow")


def register_frame(
    frame: pd.DataFrame, *, dataset: str, stage: str, parent_id: str, steps: list[dict]
) -> tuple[str, list[str]]:
    """Register a derived frame as the next version of ``parent_id`` (idempotent by content).

    Returns the version id and the item hashes in row order.
    """
    from govflow.ledger.datasets import prepare_items, register_dataset_version
    from govflow.stages.records import frame_to_records

    run_id, actor = flow_actor()
    items = prepare_items(frame_to_records(frame))
    with Ledger.open().session() as session:
        version = register_dataset_version(
            session=session,
            name=dataset,
            stage=stage,
            items=items,
            actor=actor,
            parent_ids=[parent_id],
            flow_run_id=run_id,
            transformations=steps,
        ).version
        return version.id, items.hashes


@dataclass(frozen=True)
class RawRecord:
    version_id: str
    hashes: list[str]


@task(name="acquire-source", cache_policy=NO_CACHE, persist_result=False)
def acquire_source(config: DatasetConfig) -> Acquisition:
    """Read the source; bad rows are quarantined, a broken source is one clear error."""
    from govflow.sources.acquire import acquire

    return acquire(config)


@task(name="register-raw-version", cache_policy=NO_CACHE, persist_result=False)
def record_acquisition(acquisition: Acquisition, config: DatasetConfig) -> RawRecord:
    """Register the parsed rows as the raw version and record the acquisition quarantine."""
    from govflow.ledger.datasets import prepare_items, register_dataset_version
    from govflow.ledger.quarantine import record_source_quarantine
    from govflow.stages.records import frame_to_records

    run_id, actor = flow_actor()
    items = prepare_items(frame_to_records(acquisition.frame))
    ledger = Ledger.open()
    with ledger.session() as session:
        version = register_dataset_version(
            session=session,
            name=config.name,
            stage="raw",
            items=items,
            actor=actor,
            source=acquisition.source,
            flow_run_id=run_id,
            details={"source_fingerprint": acquisition.fingerprint, "notes": acquisition.notes},
        ).version
        record_source_quarantine(
            session=session,
            dataset_version_id=version.id,
            dataset_name=config.name,
            source_fingerprint=acquisition.fingerprint,
            rows_in=acquisition.rows_in,
            rows_passed=len(acquisition.frame),
            quarantined=acquisition.quarantined,
            flow_run_id=run_id,
            actor=actor,
        )
    return RawRecord(version_id=version.id, hashes=items.hashes)


@task(name="record-checkpoint", cache_policy=NO_CACHE, persist_result=False)
def record_checkpoint(
    outcome: ValidationOutcome, *, version_id: str, item_hashes: list[str]
) -> str:
    """Record the suite's run and its quarantined rows (idempotent); return the run id."""
    from govflow.ledger.validations import record_validation

    run_id, actor = flow_actor()
    ledger = Ledger.open()
    with ledger.session() as session:
        run = record_validation(
            session=session,
            outcome=outcome,
            dataset_version_id=version_id,
            flow_run_id=run_id,
            actor=actor,
            item_hashes=item_hashes,
        )
        return run.id


@task(name="register-passed-rows", cache_policy=NO_CACHE, persist_result=False)
def register_passed_rows(
    parent_hashes: list[str],
    decision: BatchDecision,
    *,
    dataset: str,
    parent_id: str,
    validation_run_id: str,
    suite_name: str,
    waiver_days: timedelta,
    stage: str = "validated",
) -> str:
    """Register the rows that passed as the next version; record waivers with their expiry.

    The rows are a subset of the parent version, whose items are stored already: the new
    version is registered from the parent's item hashes and the pass mask, without
    serializing or hashing any row again.
    """
    from govflow.ledger.datasets import PreparedItems, register_dataset_version
    from govflow.ledger.waivers import record_waiver

    run_id, actor = flow_actor()
    items = PreparedItems(hashes=parent_hashes, payloads=None).subset(decision.passed_mask)
    ledger = Ledger.open()
    with ledger.session() as session:
        for expectation in decision.waived:
            record_waiver(
                session=session,
                validation_run_id=validation_run_id,
                expectation=expectation,
                reviewer_id=decision.decided_by[0] if decision.decided_by else None,
                reason=decision.note or "waived at the validation gate",
                review_task_id=decision.gate_id,
                valid_for=waiver_days,
                actor=actor,
            )
        version = register_dataset_version(
            session=session,
            name=dataset,
            stage=stage,
            items=items,
            actor=actor,
            parent_ids=[parent_id],
            flow_run_id=run_id,
            transformations=[
                {
                    "step": "quarantine",
                    "suite": suite_name,
                    "validation_run_id": validation_run_id,
                    "rows_in": len(parent_hashes),
                    "rows_passed": len(items),
                    "waived": decision.waived,
                    "decided_by": decision.decided_by,
                    "review_gate": decision.gate_id,
                }
            ],
        ).version
        return version.id


@task(name="publish-validation-artifacts", cache_policy=NO_CACHE, persist_result=False)
def publish_validation_artifacts(
    dataset: str,
    stage: str,
    outcome: ValidationOutcome,
    decision: BatchDecision,
    acquisition: Acquisition | None = None,
) -> None:
    """Publish the counts per expectation as a table and a Markdown summary."""
    from govflow.stages.reports import checkpoint_markdown, expectation_rows

    key = f"{dataset}-{stage}-checkpoint".lower().replace("_", "-")
    create_table_artifact(
        table=expectation_rows(outcome),
        key=key + "-table",
        description=f"{dataset}: {outcome.suite_name} counts per expectation",
    )
    create_markdown_artifact(
        markdown=checkpoint_markdown(dataset, stage, outcome, decision, acquisition),
        key=key,
        description=f"{dataset}: {stage} checkpoint summary",
    )
