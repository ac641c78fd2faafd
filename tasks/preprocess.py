"""Pre-processing tasks: load a version and transform it (registration: tasks.validation)."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from govflow.ledger.engine import Ledger
from govflow.preprocess.batch import PreprocessedBatch, preprocess_batch

__all__ = ["load_version", "transform"]


@task(name="load-version", cache_policy=NO_CACHE, persist_result=False)
def load_version(version_id: str) -> pd.DataFrame:
    """Read a version's records from the ledger into a frame (row order kept)."""
    from govflow.ledger.datasets import get_version, read_version_records
    from govflow.records import records_to_frame

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
