"""Review gates against a Prefect server protected by basic auth (PREFECT_API_AUTH_STRING).

Prefect reads its client settings (API URL, auth string) once, when ``prefect`` is imported:
changing the environment of this process afterwards does not reach ``get_client()``. So the
gate flow runs in a subprocess started with the protected server's settings; the govflow
CLI reads the environment on every call and runs as a subprocess anyway.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from govflow.ledger.engine import Ledger
from govflow.ledger.models import ReviewDecision, ReviewTask
from govflow.prefect_api import PrefectAPI
from tests.support.gates import contested_request
from tests.support.prefect_server import PrefectServer, free_port, remove, temp_home

AUTH = "govflow:s3cret-pass"
ROOT = Path(__file__).resolve().parents[2]
FLOW_SCRIPT = """
import json, sys
from tests.review.gate_flows import review_gate_flow
request, ledger_url, name, out = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
result = review_gate_flow.with_options(flow_run_name=name)(
    request=request, ledger_url=ledger_url, poll_interval=1, mode="pause"
)
with open(out, "w", encoding="utf-8") as handle:
    json.dump(result, handle)
"""


@pytest.fixture
def auth_server() -> Iterator[PrefectServer]:
    """A second Prefect server that requires basic auth, for this test only."""
    home = temp_home("govflow-prefect-auth-")
    server = PrefectServer(free_port(), home / "server", auth_string=AUTH)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        remove(home)


def _wait_for_gate(name: str, flow: subprocess.Popen[str], timeout: float = 60) -> dict:
    """Return the govflow gate of the run called ``name`` once it is paused (auth from env)."""
    from govflow.review.inbox import gate_of_run as _gate_of

    deadline = time.monotonic() + timeout
    with PrefectAPI() as api:
        while time.monotonic() < deadline:
            if flow.poll() is not None:
                raise AssertionError(f"the gate flow exited early: {flow.stderr.read()[-3000:]}")
            runs = api.post_json("/flow_runs/filter", {"flow_runs": {"name": {"any_": [name]}}})
            if runs and (runs[0].get("state") or {}).get("type") == "PAUSED":
                gate = _gate_of(api, runs[0])
                if gate is not None:
                    return gate
            time.sleep(0.2)
    raise TimeoutError(f"flow run {name} did not pause at a gate")


def test_review_cli_needs_and_uses_the_auth_string(
    auth_server, roster, run_cli, govflow_env, monkeypatch, tmp_path
):
    monkeypatch.setenv("PREFECT_API_URL", auth_server.api_url)
    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)

    refused = run_cli("review", "inbox")

    assert refused.code == 3
    assert refused.out == ""
    assert refused.err == (
        f"Error: the Prefect API at {auth_server.api_url} refused the credentials "
        "(set PREFECT_API_AUTH_STRING to the server's user:password)\n"
    )

    name = f"auth-gate-{uuid.uuid4().hex[:10]}"
    result_path = tmp_path / "flow-result.json"
    flow_env = (
        os.environ
        | govflow_env
        | {
            "PREFECT_API_URL": auth_server.api_url,
            "PREFECT_API_AUTH_STRING": AUTH,
            "PREFECT_HOME": str(tmp_path / "prefect-client"),
        }
    )
    flow = subprocess.Popen(
        [
            sys.executable,
            "-c",
            FLOW_SCRIPT,
            json.dumps(contested_request(keys=("T1", "T2"))),
            govflow_env["GOVFLOW_DATABASE_URL"],
            name,
            str(result_path),
        ],
        cwd=ROOT,
        env=flow_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        monkeypatch.setenv("PREFECT_API_AUTH_STRING", AUTH)
        gate = _wait_for_gate(name, flow)
        run_id = gate["flow_run_id"]
        listed = run_cli("review", "inbox", "--json")
        decided = run_cli(
            "review",
            "decide",
            run_id,
            "--reviewer",
            "bob",
            "--token-file",
            str(roster["bob"]),
            "--set",
            "T1=bug",
            "--set",
            "T2=billing",
        )
        _, flow_err = flow.communicate(timeout=60)
    finally:
        if flow.poll() is None:
            flow.kill()
            flow.wait(timeout=10)

    assert listed.code == 0, listed.err
    assert [(g["flow_run_id"], g["gate_id"], g["items"]) for g in json.loads(listed.out)] == [
        (run_id, gate["gate_id"], ["T1", "T2"])
    ]
    assert json.loads(listed.out)[0]["ui_url"] == f"{auth_server.ui_url}/runs/flow-run/{run_id}"
    assert decided.code == 0, decided.err
    assert decided.out == "accepted: 2 decision(s) by bob: T1=bug, T2=billing\n"
    assert flow.returncode == 0, flow_err[-3000:]
    outcome = json.loads(result_path.read_text())
    assert [(d["item_key"], d["choice"], d["reviewer_id"]) for d in outcome["decisions"]] == [
        ("T1", "bug", "bob"),
        ("T2", "billing", "bob"),
    ]
    with PrefectAPI() as api:
        assert api.flow_run(run_id)["state"]["type"] == "COMPLETED"
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.reader() as session:
        tasks = [(t.id, t.status, t.flow_run_id) for t in session.scalars(select(ReviewTask))]
        decisions = [
            (d.item_key, d.choice, d.reviewer_id)
            for d in session.scalars(select(ReviewDecision).order_by(ReviewDecision.id))
        ]
    ledger.dispose()
    assert tasks == [(gate["gate_id"], "decided", run_id)]
    assert decisions == [("T1", "bug", "bob"), ("T2", "billing", "bob")]
