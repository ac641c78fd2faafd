"""Open gates survive a restart of the Prefect server: a suspended run is answered afterwards.

The run is suspended (no process waits inside it); the server is stopped and started again on
the same database and port; the reviewer answers with the CLI; the served runner picks the run
up and it completes with the decision recorded once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from govflow.ledger.engine import Ledger
from govflow.ledger.models import ReviewDecision, ReviewTask
from govflow.prefect_api import PrefectAPI
from tests.support.gates import contested_request
from tests.support.prefect_server import PrefectServer, free_port, remove, temp_home

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def own_server() -> Iterator[PrefectServer]:
    home = temp_home("govflow-prefect-restart-")
    server = PrefectServer(free_port(), home / "server")
    try:
        server.start()
        yield server
    finally:
        server.stop()
        remove(home)


def _state(api: PrefectAPI, run_id: str) -> str | None:
    return (api.flow_run(run_id).get("state") or {}).get("name")


def _wait(api: PrefectAPI, run_id: str, name: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _state(api, run_id) == name:
            return
        time.sleep(0.5)
    raise TimeoutError(f"run {run_id} did not reach {name} (last {_state(api, run_id)})")


def test_suspended_gate_survives_server_restart(
    own_server, roster, govflow_env, tmp_path, monkeypatch
):
    monkeypatch.setenv("PREFECT_API_URL", own_server.api_url)
    env = os.environ | govflow_env | own_server.env() | {"PREFECT_RUNNER_POLL_FREQUENCY": "1"}
    env["PREFECT_HOME"] = str(tmp_path / "client-home")
    log = (tmp_path / "serve.log").open("w")
    runner = subprocess.Popen(
        [sys.executable, "-m", "tests.review.gate_flows"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        with PrefectAPI(own_server.api_url) as api:
            deadline = time.monotonic() + 90
            path = "/deployments/name/served-review-gate-test/served-review-gate-test"
            while not api.request("GET", path).is_success:
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.5)
            deployment_id = api.get_json(path)["id"]
            run_id = api.post_json(
                f"/deployments/{deployment_id}/create_flow_run",
                {
                    "parameters": {
                        "request": contested_request(keys=("T1",)),
                        "ledger_url": govflow_env["GOVFLOW_DATABASE_URL"],
                        "marker_path": str(tmp_path / "marker.txt"),
                    }
                },
            )["id"]
            _wait(api, run_id, "Suspended")

        own_server.stop()
        own_server.start()

        answer = subprocess.run(
            [
                sys.executable,
                "-m",
                "govflow.cli.main",
                "review",
                "decide",
                run_id,
                "--reviewer",
                "bob",
                "--token-file",
                str(roster["bob"]),
                "--all",
                "billing",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        with PrefectAPI(own_server.api_url) as api:
            _wait(api, run_id, "Completed")
    finally:
        runner.terminate()
        runner.wait(timeout=30)

    assert answer.returncode == 0, answer.stderr + (tmp_path / "serve.log").read_text()[-3000:]
    assert answer.stdout == "accepted: 1 decision(s) by bob: T1=billing\n"
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.reader() as session:
        tasks = [(t.status, t.flow_run_id) for t in session.scalars(select(ReviewTask))]
        decisions = [(d.item_key, d.choice) for d in session.scalars(select(ReviewDecision))]
    ledger.dispose()
    assert tasks == [("decided", run_id)]
    assert decisions == [("T1", "billing")]
    assert (tmp_path / "marker.txt").read_text() == "prepared\n"
