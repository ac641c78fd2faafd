"""Chunk-parallel validation on Dask (prefect-dask), the multi-machine option.

The same ingest run on a local Dask cluster of two worker *processes* (every chunk task and
its Great Expectations suite pickled to another process, as on another machine) gives
exactly the versions and quarantine of the default thread pool.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from flows.ingest import IngestParams, ingest
from govflow.ledger.engine import Ledger
from govflow.ledger.models import QuarantinedRow, ValidationRun
from tests.support.datasets import jsonl, ticket, write_dataset

pytestmark = pytest.mark.slow


def test_ingest_on_a_dask_cluster_matches_the_thread_pool(prefect_server, govflow_env, tmp_path):
    from prefect_dask import DaskTaskRunner

    records = [ticket(n) for n in range(1, 2401)]
    for n in (7, 800, 1999):
        records[n]["channel"] = "fax"  # out of the suite's channel set: quarantined
    config = write_dataset(tmp_path, jsonl(records))
    params = IngestParams(config_path=str(config), chunk_size=500, data_docs=False)

    on_dask = ingest.with_options(
        task_runner=DaskTaskRunner(
            cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True}
        )
    )(params)
    first = _counts(govflow_env["GOVFLOW_DATABASE_URL"])
    on_threads = ingest(params)

    assert (on_dask.rows_validated, on_dask.rows_quarantined_by_suite) == (2400, 3)
    assert on_dask.rows_passed == 2397
    assert on_threads == on_dask  # same versions, same counts: nothing differs by runner
    assert first == (2, 3)  # the schema check and the raw suite; three rows quarantined
    assert _counts(govflow_env["GOVFLOW_DATABASE_URL"]) == first  # the re-run wrote nothing


def _counts(url: str) -> tuple[int, int]:
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        counts = (
            session.scalar(select(func.count()).select_from(ValidationRun)),
            session.scalar(select(func.count()).select_from(QuarantinedRow)),
        )
    ledger.dispose()
    return counts
