"""Pre-processing tasks: load a version, transform it, register the result."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from govflow.ledger.engine import Ledger
from govflow.stages.preprocess import PreprocessedBatch, preprocess_batch
from tasks.ingest import register_frame


@task(name="load-version", cache_policy=NO_CACHE, persist_result=False)
def load_version(version_id: str) -> pd.DataFrame:
    """Read a version's records from the ledger into a frame (row order kept)."""
    from govflow.ledger.datasets import get_version, read_version_records
    from govflow.stages.records import records_to_frame

    with Ledger.open().reader() as session:
        version = get_version(session=session, version_id=version_id)
        records = read_version_records(session=session, version_id=version.id)
    return records_to_frame(records)


@task(name="preprocess-batch", cache_policy=NO_CACHE, persist_result=False)
def transform(
    frame: pd.DataFrame, text_column: str, near_dup_threshold: float
) -> PreprocessedBatch:
    """Normalize, redact PII, drop exact duplicates, mark near-duplicates (vectorized)."""
    return preprocess_batch(frame, text_column=text_column, near_dup_threshold=near_dup_threshold)


@task(name="register-preprocessed", cache_policy=NO_CACHE, persist_result=False)
def register_preprocessed(
    frame: pd.DataFrame, *, dataset: str, parent_id: str, steps: list[dict]
) -> tuple[str, list[str]]:
    """Register the transformed rows as the ``preprocessed`` version (idempotent)."""
    return register_frame(
        frame, dataset=dataset, stage="preprocessed", parent_id=parent_id, steps=steps
    )
