"""Checkpoint tasks: validate chunks in parallel, record the run, register what passed.

The checkpoint step that strings them together with the human gate is
``flows.checkpoint.run_checkpoint``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import wait

from govflow.domain import Stage
from govflow.ledger.engine import Ledger
from govflow.sources.acquire import Acquisition
from govflow.validation.batch import BatchDecision
from govflow.validation.checkpoint import ValidationOutcome, validate_frame
from govflow.validation.chunked import merge_outcomes, split_suite
from govflow.validation.suites import SuiteSpec

__all__ = [
    "publish_validation_artifacts",
    "record_checkpoint",
    "register_frame_version",
    "register_passed_rows",
    "validate_chunk",
    "validate_in_chunks",
]

# Bump when ValidationOutcome's shape changes, so stale persisted results are not reused.
OUTCOME_VERSION = 2


def _chunk_key(context, parameters) -> str:  # type: ignore[no-untyped-def]
    # Keyed on content hashes computed once, never on the DataFrame itself.
    return f"validate-v{OUTCOME_VERSION}-{parameters['key']}"


@task(
    name="validate-chunk",
    cache_key_fn=_chunk_key,
    persist_result=True,
    retries=1,
)
def validate_chunk(
    frame: pd.DataFrame, suite: SuiteSpec, *, key: str, data_docs_dir: str | None = None
) -> ValidationOutcome:
    """Validate one chunk (a fresh GE context per call: safe in parallel threads)."""
    return validate_frame(
        frame.reset_index(drop=True),
        suite,
        data_docs_dir=Path(data_docs_dir) if data_docs_dir else None,
    )


def validate_in_chunks(
    frame: pd.DataFrame,
    suite: SuiteSpec,
    *,
    content_key: str,
    chunk_size: int,
    data_docs_dir: Path | None = None,
) -> ValidationOutcome:
    """Submit row-local chunks and the whole-frame part to the flow's task runner, then merge."""
    local, whole = split_suite(suite)
    docs = str(data_docs_dir) if data_docs_dir else None
    chunk_futures = []
    if local is not None:
        for index, start in enumerate(range(0, max(len(frame), 1), chunk_size)):
            chunk = frame.iloc[start : start + chunk_size]
            chunk_futures.append(
                (
                    start,
                    validate_chunk.submit(
                        chunk,
                        local,
                        key=f"{content_key}-{suite.content_hash[:16]}-local-{start}",
                        data_docs_dir=docs if index == 0 and whole is None else None,
                    ),
                )
            )
    whole_future = (
        validate_chunk.submit(
            frame,
            whole,
            key=f"{content_key}-{suite.content_hash[:16]}-whole",
            data_docs_dir=docs,
        )
        if whole is not None
        else None
    )
    wait([f for _, f in chunk_futures] + ([whole_future] if whole_future else []))
    chunks = [(start, future.result()) for start, future in chunk_futures]
    whole_outcome = whole_future.result() if whole_future else None
    return merge_outcomes(suite, chunks=chunks, whole=whole_outcome, rows_in=len(frame))


@task(name="record-checkpoint", cache_policy=NO_CACHE, persist_result=False)
def record_checkpoint(
    outcome: ValidationOutcome, *, version_id: str, item_hashes: list[str]
) -> str:
    """Record the suite's run and its quarantined rows (idempotent); return the run id."""
    from govflow.ledger.validations import record_validation
    from govflow.runtime import flow_actor

    run_id, actor = flow_actor()
    with Ledger.open().session() as session:
        run = record_validation(
            session=session,
            outcome=outcome,
            dataset_version_id=version_id,
            flow_run_id=run_id,
            actor=actor,
            item_hashes=item_hashes,
        )
        return run.id


@task(name="register-version", cache_policy=NO_CACHE, persist_result=False)
def register_frame_version(
    frame: pd.DataFrame, *, dataset: str, stage: Stage, parent_id: str, steps: list[dict]
) -> tuple[str, list[str]]:
    """Register a derived frame as the next version of ``parent_id`` (idempotent by content).

    Returns the version id and the item hashes in row order.
    """
    from govflow.ledger.datasets import register_frame
    from govflow.runtime import flow_actor

    run_id, actor = flow_actor()
    with Ledger.open().session() as session:
        version, hashes = register_frame(
            session=session,
            frame=frame,
            name=dataset,
            stage=stage,
            actor=actor,
            parent_ids=[parent_id],
            flow_run_id=run_id,
            transformations=steps,
        )
        return version.id, hashes


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
    stage: Stage,
) -> str:
    """Register the rows that passed as the next version; record waivers with their expiry.

    The rows are a subset of the parent version, whose items are stored already: the new
    version is registered from the parent's item hashes and the pass mask, without
    serializing or hashing any row again.
    """
    from govflow.ledger.datasets import PreparedItems, register_dataset_version
    from govflow.ledger.waivers import record_waivers
    from govflow.runtime import flow_actor
    from govflow.validation.batch import quarantine_step

    run_id, actor = flow_actor()
    items = PreparedItems(hashes=parent_hashes).subset(decision.passed_mask)
    with Ledger.open().session() as session:
        record_waivers(
            session=session,
            validation_run_id=validation_run_id,
            expectations=decision.waived,
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
                quarantine_step(
                    decision,
                    suite_name=suite_name,
                    validation_run_id=validation_run_id,
                    rows_in=len(parent_hashes),
                )
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
    from govflow.reports.checkpoint import checkpoint_markdown, expectation_rows

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
