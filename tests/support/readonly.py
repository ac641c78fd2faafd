"""Make a ledger truly read-only for a test: a SQLite folder nobody may write, a Postgres role.

Tests often run as root, whom file modes do not stop: then the folder and file get the
immutable attribute (``chattr +i``), which stops root too.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def read_only_folder(folder: Path) -> Iterator[None]:
    """Forbid writing to ``folder`` and its files (no new files, no changes) for a block."""
    files = [path for path in folder.iterdir() if path.is_file()]
    if os.geteuid() == 0:
        done = subprocess.run(
            ["chattr", "+i", *map(str, files), str(folder)], capture_output=True, text=True
        )
        if done.returncode != 0:
            pytest.skip(f"cannot make {folder} read-only for root: {done.stderr.strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(folder), *map(str, files)], check=True)
        return
    for path in files:
        path.chmod(0o444)
    folder.chmod(0o555)
    try:
        yield
    finally:
        folder.chmod(0o755)
        for path in files:
            path.chmod(0o644)


@contextmanager
def read_only_role(database_url: str) -> Iterator[str]:
    """Yield the URL of a new role that may only read ``database_url``'s tables."""
    url = make_url(database_url).set(drivername="postgresql+psycopg")
    role = f"govflow_reader_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
    try:
        yield url.set(username=role).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :role"
                ),
                {"role": role},
            )
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        admin.dispose()
