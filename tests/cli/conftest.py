from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import pytest


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(govflow_env):
    """Run the real ``govflow`` entry point in a subprocess with the test's settings."""

    def run(*args: str, env: dict[str, str] | None = None, python_flags=()) -> Result:
        full_env = os.environ | govflow_env | (env or {})
        proc = subprocess.run(
            [sys.executable, *python_flags, "-m", "govflow.cli.main", *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=120,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run
