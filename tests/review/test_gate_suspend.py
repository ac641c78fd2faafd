"""A served deployment suspends at its gate (no process held) and re-runs from the top."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import func, select

from govflow.domain.review import ReviewRequest
from govflow.ledger.engine import Ledger
from govflow.ledger.models import AuditEvent, DatasetVersion, ReviewDecision, ReviewTask
from govflow.prefect_api import PrefectAPI
from tests.support.gates import contested_request, wait_state

ROOT = Path(__file__).resolve().parents[2]


def _trigger(deployment_id, parameters):
    with PrefectAPI() as api:
        run = api.post_json(
            f"/deployments/{deployment_id}/create_flow_run", {"parameters": parameters}
        )
    return run["id"]


def _counts(url):
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        counts = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (DatasetVersion, ReviewTask, ReviewDecision, AuditEvent)
        }
    ledger.dispose()
    return counts


def test_deployed_run_suspends_and_resumes_without_repeating_work(
    served, roster, run_cli, govflow_env, tmp_path
):
    marker = tmp_path / "marker.txt"
    run_id = _trigger(
        served,
        {
            "request": contested_request(keys=("T1", "T2")),
            "ledger_url": govflow_env["GOVFLOW_DATABASE_URL"],
            "marker_path": str(marker),
        },
    )
    state = wait_state(run_id, name="Suspended")
    before = _counts(govflow_env["GOVFLOW_DATABASE_URL"])

    result = run_cli(
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

    assert state["type"] == "PAUSED"
    assert result.code == 0, result.err
    assert result.out == "accepted: 2 decision(s) by bob: T1=bug, T2=billing\n"
    wait_state(run_id, name="Completed")
    assert marker.read_text() == "prepared\n"  # the cached task did not run again
    after = _counts(govflow_env["GOVFLOW_DATABASE_URL"])
    assert after == before | {"review_decisions": 2, "audit_events": before["audit_events"] + 1}
    assert before["dataset_versions"] == 1 and before["review_tasks"] == 1
    with PrefectAPI() as api:
        gate_id = ReviewRequest.model_validate(contested_request(keys=("T1", "T2"))).gate_id
        key = f"suspended-{gate_id}-a1-response"
        assert api.read_input(run_id, key) is None


def test_sweep_applies_deadline_to_suspended_gate(served, roster, run_cli, govflow_env, tmp_path):
    run_id = _trigger(
        served,
        {
            "request": contested_request(keys=("T1",), deadline=2),
            "ledger_url": govflow_env["GOVFLOW_DATABASE_URL"],
            "marker_path": str(tmp_path / "marker.txt"),
        },
    )
    tier1 = wait_state(run_id, name="Suspended")
    time.sleep(2.5)

    first = run_cli("review", "sweep")
    # The rescheduled run passes through Running briefly; wait for its tier 2 gate instead.
    wait_state(
        run_id, name="Suspended", not_pause_key=tier1["state_details"]["pause_key"], timeout=120
    )
    time.sleep(2.5)
    second = run_cli("review", "sweep")
    wait_state(run_id, name="Completed")

    assert first.code == 0 and first.out.startswith("timed out rt-")
    assert first.out.endswith(f"(flow run {run_id}); run rescheduled\n")
    assert second.code == 0 and second.out.startswith("timed out rt-")
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.reader() as session:
        rows = session.execute(
            select(ReviewDecision.tier, ReviewDecision.choice, ReviewDecision.outcome).order_by(
                ReviewDecision.id
            )
        ).all()
    ledger.dispose()
    assert rows == [(1, "escalate", "timed_out"), (2, "exclude", "timed_out")]
    assert run_cli("review", "sweep").out == "no expired gates\n"
