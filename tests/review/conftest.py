"""Fixtures of the review-gate tests: a served deployment of the test gate flows."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from govflow.prefect_api import PrefectAPI

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(prefect_server, govflow_env, tmp_path):
    """Serve the test deployment in a subprocess, as `govflow serve` would."""
    env = os.environ | govflow_env | {"PREFECT_RUNNER_POLL_FREQUENCY": "1"}
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.review.gate_flows"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    with PrefectAPI() as api:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            response = api.request(
                "GET", "/deployments/name/served-review-gate-test/served-review-gate-test"
            )
            if response.status_code == 200:
                break
            time.sleep(0.3)
        else:
            raise TimeoutError((tmp_path / "serve.log").read_text())
        deployment_id = response.json()["id"]
    yield deployment_id
    proc.terminate()
    proc.wait(timeout=30)
