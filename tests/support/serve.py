"""Run `govflow serve` as a subprocess for a test, as an engineer would on one machine."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from govflow.cli.serve import read_deployments
from govflow.prefect_api import PrefectAPI

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def govflow_serve(env: dict[str, str], log_path: Path, timeout: float = 90) -> Iterator[set[str]]:
    """Serve every deployment of prefect.yaml; yield the deployment names on the server.

    Waits for all of this repository's deployments by name (other tests may have served
    a deployment of the same name already), and stops the process afterwards.
    """
    wanted = {spec.name for spec in read_deployments()}
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "govflow.cli.main", "serve", "--sweep-every", "2"],
            cwd=ROOT,
            env=os.environ | env | {"PREFECT_RUNNER_POLL_FREQUENCY": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            with PrefectAPI() as api:
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    found = api.post_json("/deployments/filter", {"limit": 200})
                    names = {d["name"] for d in found}
                    if wanted <= names:
                        break
                    time.sleep(0.5)
                else:
                    raise TimeoutError(log_path.read_text())
            yield names
        finally:
            proc.terminate()
            proc.wait(timeout=30)
