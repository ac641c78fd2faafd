"""Fixtures for operations tests: an operator's Postgres stack and process workers.

These tests need ``GOVFLOW_TEST_POSTGRES_URL`` (``.ci/run`` sets it when Postgres answers on
127.0.0.1:5432): several workers on one Prefect server need Postgres under both the server
and the ledger, and the crash test holds a Postgres advisory lock to stop a run mid-write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import POSTGRES_URL
from tests.support.operations import Stack, Worker, postgres_stack, start_worker

NO_POSTGRES = (
    "GOVFLOW_TEST_POSTGRES_URL is not set: the operations tests run Prefect and the ledger "
    "on Postgres (.ci/run sets it when Postgres answers on 127.0.0.1:5432)"
)


@pytest.fixture
def stack(tmp_path) -> Iterator[Stack]:
    """A Prefect server on a fresh Postgres database and a fresh Postgres ledger."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    with postgres_stack(tmp_path / "ops", POSTGRES_URL) as started:
        yield started


@pytest.fixture
def workers(stack) -> Iterator[Callable[..., Worker]]:
    """Start process workers on the stack; every one is stopped afterwards, even on failure."""
    started: list[Worker] = []

    def start(name: str, **options) -> Worker:
        worker = start_worker(stack, name, **options)
        started.append(worker)
        return worker

    yield start
    for worker in reversed(started):
        worker.stop()
