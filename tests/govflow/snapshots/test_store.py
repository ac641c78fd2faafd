"""Snapshot writes fail cleanly: full disk, read-only store, a process killed half-way.

Each failure is one clear error naming the version and the URI, and no ledger row points to a
snapshot that does not exist. The disk tests mount a small tmpfs, so they need root.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from govflow.errors import SnapshotError
from govflow.ledger.datasets import prepare_items, read_version_records, register_dataset_version
from govflow.ledger.models import DatasetVersion
from govflow.snapshots.store import SnapshotStore

BIG = [{"n": i, "text": hashlib.sha256(str(i).encode()).hexdigest() * 4} for i in range(4000)]


def test_publish_names_a_snapshot_by_its_bytes_once(tmp_path):
    store = SnapshotStore(str(tmp_path / "store"))

    first = store.publish(b"rows", what="version dv-x")
    again = store.publish(b"rows", what="version dv-x")

    digest = hashlib.sha256(b"rows").hexdigest()
    assert first == again
    assert first.uri == f"{tmp_path}/store/{digest[:2]}/{digest}.parquet"
    assert Path(first.uri).read_bytes() == b"rows"
    assert list((tmp_path / "store" / ".tmp").iterdir()) == []


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()

    def _mount(options: str) -> Path:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], capture_output=True
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        return mount

    yield _mount
    subprocess.run(["umount", str(mount)], capture_output=True)


def _register_big(ledger):
    with ledger.session() as session:
        return register_dataset_version(
            session=session, name="big", stage="raw", items=prepare_items(BIG), actor="t"
        )


def _versions(ledger) -> int:
    with ledger.reader() as session:
        return session.scalar(select(func.count()).select_from(DatasetVersion))


@pytest.mark.parametrize(
    ("options", "reason"),
    [("size=256k", "No space left on device"), ("ro,size=256k", "Read-only file system")],
)
def test_a_failed_snapshot_write_names_version_and_uri_and_adds_no_row(
    ledger, small_disk, monkeypatch, options, reason
):
    store = small_disk(options)
    monkeypatch.setenv("GOVFLOW_SNAPSHOT_URL", str(store))
    version_id = (
        "dv-"
        + hashlib.sha256(f"big\nraw\n{prepare_items(BIG).content_hash}".encode()).hexdigest()[:24]
    )

    with pytest.raises(SnapshotError) as caught:
        _register_big(ledger)

    message = str(caught.value)
    assert message.startswith(f"cannot write the snapshot of version {version_id} (big [raw]) to ")
    assert message.endswith(f": {reason}")
    assert f" to {store}/" in message
    assert _versions(ledger) == 0
    assert list(store.glob("*/*.parquet")) == []


KILLED_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path

    real_fsync = os.fsync

    def stalled_fsync(fd):
        # The scratch file is written: tell the test, then wait to be killed.
        Path(sys.argv[2]).write_text("writing")
        time.sleep(60)
        real_fsync(fd)

    os.fsync = stalled_fsync
    from govflow.ledger.datasets import prepare_items, register_dataset_version
    from govflow.ledger.engine import Ledger
    from tests.govflow.snapshots.test_store import BIG

    with Ledger.open(sys.argv[1]).session() as session:
        register_dataset_version(
            session=session, name="big", stage="raw", items=prepare_items(BIG), actor="t"
        )
    """
)


def test_a_writer_killed_half_way_publishes_nothing_and_a_rerun_completes(
    ledger, ledger_url, snapshot_store, tmp_path
):
    marker = tmp_path / "writing"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, ledger_url, str(marker)],
        env=os.environ | {"PYTHONPATH": str(Path(__file__).parents[3])},
    )
    deadline = time.monotonic() + 120
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the writer never reached its snapshot write"
    child.send_signal(signal.SIGKILL)
    child.wait(30)

    assert _versions(ledger) == 0
    assert list(snapshot_store.glob("*/*.parquet")) == []
    assert len(list((snapshot_store / ".tmp").iterdir())) == 1  # the killed write's scratch

    registration = _register_big(ledger)

    assert registration.is_new is True
    with ledger.reader() as session:
        assert read_version_records(session=session, version_id=registration.version.id) == BIG
    assert len(list(snapshot_store.glob("*/*.parquet"))) == 1
