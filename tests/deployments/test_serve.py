"""`govflow serve` serves the deployments; `govflow run` triggers one and follows it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from govflow.ledger.engine import Ledger
from govflow.ledger.models import DatasetVersion
from govflow.prefect_api import PrefectAPI

ROOT = Path(__file__).resolve().parents[2]


def test_serve_then_run_ingest_to_completion(prefect_server, govflow_env, run_cli, tmp_path):
    env = os.environ | govflow_env | {"PREFECT_RUNNER_POLL_FREQUENCY": "1"}
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "govflow.cli.main", "serve", "--sweep-every", "2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        with PrefectAPI() as api:
            # Other tests may have served a review-batch deployment already: wait for ours.
            wanted = {"ingest-nightly", "ingest", "preprocess", "annotate", "pipeline", "calibrate"}
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                names = {d["name"] for d in api.post_json("/deployments/filter", {"limit": 50})}
                if wanted <= names:
                    break
                time.sleep(0.5)
            else:
                raise TimeoutError((tmp_path / "serve.log").read_text())
        result = run_cli(
            "run",
            "ingest/ingest",
            "--param",
            f"params.config_path={ROOT / 'demo' / 'support_tickets.source.yaml'}",
            "--param",
            "params.data_docs=false",
            "--wait",
            "--timeout",
            "240",
        )
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert wanted | {"review-batch"} <= names
    assert result.code == 0, result.err + (tmp_path / "serve.log").read_text()[-3000:]
    assert result.err.splitlines()[-1] == "state: Completed"
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.reader() as session:
        stages = sorted(session.scalars(select(DatasetVersion.stage)))
    ledger.dispose()
    assert stages == ["raw", "validated"]
