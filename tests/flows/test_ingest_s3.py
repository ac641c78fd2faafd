"""The ingest flow with snapshots in S3: a real S3-compatible server (moto) on 127.0.0.1.

Skipped, with the reason, where moto's server or s3fs is not installed or does not start.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from flows.ingest import IngestParams, ingest
from govflow.errors import SnapshotError
from govflow.ledger.datasets import prepare_items, read_version_records, register_dataset_version
from govflow.ledger.engine import Ledger
from govflow.ledger.models import DatasetVersion
from govflow.ledger.version_rows import verify_snapshots
from tests.support.datasets import jsonl, ticket, write_dataset
from tests.support.prefect_server import free_port

pytestmark = [pytest.mark.slow, pytest.mark.prefect]
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "govflow-test",
    "AWS_SECRET_ACCESS_KEY": "govflow-test",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3_endpoint():
    s3fs = pytest.importorskip("s3fs", reason="s3fs is not installed (pip install govflow[s3])")
    pytest.importorskip("moto.server", reason="moto[server] is not installed")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                fs = s3fs.S3FileSystem(
                    key="govflow-test",
                    secret="govflow-test",
                    endpoint_url=endpoint,
                    skip_instance_cache=True,
                )
                fs.mkdir("govflow-data")
                break
            except Exception as exc:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.skip(f"moto's S3 server did not start on {endpoint}: {exc}")
                time.sleep(0.3)
        yield endpoint, fs
    finally:
        server.terminate()
        server.wait(30)


@pytest.fixture
def s3_store(s3_endpoint, monkeypatch):
    import s3fs

    endpoint, fs = s3_endpoint
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("GOVFLOW_SNAPSHOT_URL", "s3://govflow-data/snapshots")
    s3fs.S3FileSystem.clear_instance_cache()
    return fs


def test_ingest_stores_snapshots_in_s3_and_an_altered_object_fails_the_audit(
    prefect_server, govflow_env, s3_store, tmp_path
):
    config = write_dataset(tmp_path, jsonl([ticket(n) for n in range(1, 41)]))

    result = ingest(IngestParams(config_path=str(config), data_docs=False))

    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.reader() as session:
        versions = session.scalars(select(DatasetVersion).order_by(DatasetVersion.stage)).all()
        uris = {v.stage.value: v.snapshot_uri for v in versions}
        validated = read_version_records(session=session, version_id=result.validated_version_id)
        intact = verify_snapshots(session=session)
    raw = next(v for v in versions if v.stage.value == "raw")
    # Every row passed: the validated version shares the raw version's snapshot.
    assert uris["raw"] == uris["validated"]
    assert uris["raw"] == (
        f"s3://govflow-data/snapshots/{raw.snapshot_sha256[:2]}/{raw.snapshot_sha256}.parquet"
    )
    assert s3_store.exists(uris["raw"])
    assert [r["ticket_id"] for r in validated] == [ticket(n)["ticket_id"] for n in range(1, 41)]
    assert intact == (2, [])

    s3_store.pipe_file(uris["raw"], b"not the snapshot")
    with ledger.reader() as session:
        checked, problems = verify_snapshots(session=session)
    ledger.dispose()

    assert (checked, [p.version_id for p in problems]) == (2, sorted(v.id for v in versions))
    assert problems[0].reason == (
        f"the snapshot of version {problems[0].version_id} (tickets "
        f"[{session_stage(versions, problems[0].version_id)}]) at {uris['raw']} does not match "
        "its recorded hash (it was altered or damaged; restore it from a backup)"
    )


def session_stage(versions, version_id):
    return next(v.stage.value for v in versions if v.id == version_id)


def test_an_unreachable_store_is_one_error_naming_the_version_and_uri(ledger, monkeypatch):
    import s3fs

    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("GOVFLOW_SNAPSHOT_URL", "s3://govflow-data/snapshots")
    s3fs.S3FileSystem.clear_instance_cache()
    items = prepare_items([{"text": "a"}])

    with pytest.raises(SnapshotError) as caught, ledger.session() as session:
        register_dataset_version(session=session, name="t", stage="raw", items=items, actor="t")

    assert caught.value.exit_code == 3
    assert str(caught.value).startswith("cannot write the snapshot of version dv-")
    assert " (t [raw]) to s3://govflow-data/snapshots/" in str(caught.value)
    with ledger.reader() as session:
        assert session.scalars(select(DatasetVersion)).all() == []
