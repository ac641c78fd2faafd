"""Checkpoint tasks: validate chunks of a frame in parallel and merge the outcomes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from prefect import task
from prefect.futures import wait

from govflow.validation.checkpoint import ValidationOutcome, validate_frame
from govflow.validation.chunked import merge_outcomes, split_suite
from govflow.validation.suites import SuiteSpec

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
