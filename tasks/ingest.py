"""Ingestion tasks: acquire a declared source and register what parsed as the raw version."""

from __future__ import annotations

from dataclasses import dataclass

from prefect import task
from prefect.cache_policies import NO_CACHE

from govflow.ledger.engine import Ledger
from govflow.sources.acquire import Acquisition
from govflow.sources.config import DatasetConfig

__all__ = ["RawRecord", "acquire_source", "record_acquisition"]


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
    from govflow.domain import Stage
    from govflow.ledger.datasets import prepare_frame, register_dataset_version
    from govflow.ledger.quarantine import record_source_quarantine
    from govflow.runtime import flow_actor

    run_id, actor = flow_actor()
    items = prepare_frame(acquisition.frame)
    with Ledger.open().session() as session:
        version = register_dataset_version(
            session=session,
            name=config.name,
            stage=Stage.RAW,
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
