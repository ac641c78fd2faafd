"""A snapshot store: a local folder or any fsspec URL (``s3://bucket/prefix``).

Snapshots are named by the SHA-256 of their bytes (``<sha[:2]>/<sha>.parquet``), so one
content is stored once. A local publish writes a scratch file under ``.tmp`` and renames it
into place, so a reader never sees a half-written snapshot; an object store's put is atomic
per object. Every read checks the bytes against the hash the ledger recorded.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from govflow.errors import SnapshotError, StoreUnavailable

__all__ = ["SnapshotStore", "StoredSnapshot", "read_snapshot_bytes"]


@dataclass(frozen=True)
class StoredSnapshot:
    """Where a snapshot lives, the SHA-256 of its bytes and its size."""

    uri: str
    sha256: str
    size: int


def _is_remote(url: str) -> bool:
    return "://" in url and not url.startswith("file://")


def _local_path(url: str) -> Path:
    return Path(url.removeprefix("file://"))


class SnapshotStore:
    """Publish and read snapshots under one root URL."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    @classmethod
    def from_settings(cls) -> SnapshotStore:
        from govflow.settings import get_settings

        return cls(get_settings().snapshot_store_url)

    def uri_for(self, sha256: str) -> str:
        return f"{self.url}/{sha256[:2]}/{sha256}.parquet"

    def publish(self, data: bytes | memoryview, *, what: str) -> StoredSnapshot:
        """Store ``data`` under its hash (nothing is written if it is stored already)."""
        data = memoryview(data)
        sha256 = hashlib.sha256(data).hexdigest()
        uri = self.uri_for(sha256)
        try:
            if _is_remote(self.url):
                self._publish_remote(uri, data, what=what)
            else:
                self._publish_local(_local_path(uri), data)
        except SnapshotError:
            raise
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise SnapshotError(f"cannot write the snapshot of {what} to {uri}: {reason}") from exc
        return StoredSnapshot(uri=uri, sha256=sha256, size=data.nbytes)

    def _publish_local(self, path: Path, data: memoryview) -> None:
        if path.exists() and path.stat().st_size == data.nbytes:
            return
        scratch = _local_path(self.url) / ".tmp" / f"{uuid.uuid4().hex}.part"
        scratch.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(scratch, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(scratch, path)
        finally:
            scratch.unlink(missing_ok=True)

    def _publish_remote(self, uri: str, data: memoryview, *, what: str) -> None:
        fs, path = _filesystem(uri)
        try:
            if fs.exists(path) and fs.size(path) == data.nbytes:
                return
            fs.pipe_file(path, data.tobytes())
        except OSError:
            raise
        except Exception as exc:  # botocore and aiohttp errors have no common base
            raise StoreUnavailable(
                f"cannot write the snapshot of {what} to {uri}: {exc}",
                hint="check that the object store is reachable and the credentials",
            ) from exc


def _filesystem(uri: str):  # type: ignore[no-untyped-def]
    try:
        from fsspec.core import url_to_fs

        return url_to_fs(uri)
    except ImportError as exc:
        raise StoreUnavailable(
            f"no filesystem for {uri}: {exc}", hint="install govflow[s3] for s3:// URLs"
        ) from exc


def read_snapshot_bytes(*, uri: str, sha256: str, what: str) -> bytes:
    """Return a snapshot's bytes after checking them against ``sha256``."""
    try:
        if _is_remote(uri):
            fs, path = _filesystem(uri)
            try:
                data = fs.cat_file(path)
            except OSError:
                raise
            except Exception as exc:  # botocore and aiohttp errors have no common base
                raise StoreUnavailable(
                    f"cannot read the snapshot of {what} at {uri}: {exc}"
                ) from exc
        else:
            data = _local_path(uri).read_bytes()
    except FileNotFoundError as exc:
        raise SnapshotError(f"the snapshot of {what} is missing at {uri}") from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise SnapshotError(f"cannot read the snapshot of {what} at {uri}: {reason}") from exc
    if hashlib.sha256(data).hexdigest() != sha256:
        raise SnapshotError(
            f"the snapshot of {what} at {uri} does not match its recorded hash",
            hint="it was altered or damaged; restore it from a backup",
        )
    return data
