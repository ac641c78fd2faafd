"""A deployed annotate run waits for annotators *suspended*: no process held while they work.

`govflow serve` serves the deployments; `govflow run annotate/annotate` triggers a round.
The run suspends at collection, the import of the last labels resumes it, it restarts from
the top (every earlier step idempotent) and completes without writing anything twice.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from govflow.ledger.datasets import read_version_records
from govflow.ledger.engine import Ledger
from govflow.ledger.models import Annotation, Assignment, AuditEvent, DatasetVersion
from govflow.prefect_api import PrefectAPI
from tests.flows.test_annotate_flow import (
    ANNOTATORS,
    collecting_round,
    setup_ledger,
    truth,
    wait_for,
)
from tests.support.serve import govflow_serve

pytestmark = pytest.mark.slow


def test_deployed_round_suspends_until_the_import_resumes_it(
    prefect_server, govflow_env, run_cli, tmp_path
):
    url = govflow_env["GOVFLOW_DATABASE_URL"]
    version_id, _ = setup_ledger(url, tmp_path)
    export_dir = tmp_path / "export"
    log = tmp_path / "serve.log"
    with govflow_serve(govflow_env, log):
        params = {
            "project": "intent",
            "version_id": version_id,
            "item_key": "ticket_id",
            "gold_rate": 0.0,
            "audit_rate": 0.0,
            "export_dir": str(export_dir),
        }
        started = run_cli("run", "annotate/annotate", "--param", f"params={json.dumps(params)}")
        assert started.code == 0, started.err
        run_id = started.out.split()[0]
        round_id, waiting = wait_for(lambda: collecting_round(url), what="collection")
        assert waiting == run_id
        with PrefectAPI() as api:
            state = wait_for(
                lambda: (
                    (api.flow_run(run_id).get("state") or {}).get("name") == "Suspended"
                    and api.flow_run(run_id)["state"]
                ),
                what="the run to suspend",
            )
        assert state["type"] == "PAUSED"

        labels = tmp_path / "labels.jsonl"
        labels.write_text(
            "".join(
                json.dumps(
                    {
                        "round": round_id,
                        "item": task["item"],
                        "annotator": person,
                        "label": truth(task["data"]["ticket_id"]),
                    }
                )
                + "\n"
                for person in ANNOTATORS
                for task in map(json.loads, (export_dir / f"{person}.jsonl").open())
            )
        )
        imported = run_cli("annotations", "import", str(labels), "--round", round_id)
        assert imported.out.splitlines() == [
            "accepted 90, already recorded 0, rejected 0",
            f"round {round_id} is complete: resumed flow run {run_id}",
        ]
        with PrefectAPI() as api:
            final = wait_for(
                lambda: (
                    (api.flow_run(run_id).get("state") or {}).get("type")
                    in ("COMPLETED", "FAILED", "CRASHED")
                    and api.flow_run(run_id)["state"]
                ),
                timeout=180,
                what="the run to finish",
            )
            history = [
                s["name"]
                for s in api.request("GET", f"/flow_run_states/?flow_run_id={run_id}").json()
            ]
    assert final["type"] == "COMPLETED", log.read_text()[-3000:]
    assert "Suspended" in history and history[-1] == "Completed"
    assert history.count("Running") == 2  # ran, suspended, restarted from the top once

    ledger = Ledger.open(url)
    with ledger.reader() as session:
        labeled = session.scalars(
            select(DatasetVersion.id).where(DatasetVersion.stage == "labeled")
        ).one()
        rows = read_version_records(session=session, version_id=labeled)
        counts = {
            "assignments": session.scalar(select(func.count()).select_from(Assignment)),
            "annotations": session.scalar(select(func.count()).select_from(Annotation)),
            "versions": session.scalar(select(func.count()).select_from(DatasetVersion)),
            "round opened": session.scalar(
                select(func.count()).where(AuditEvent.action == "annotation.round_opened")
            ),
        }
    ledger.dispose()
    assert len(rows) == 30
    assert all(r["label"] == truth(r["ticket_id"]) for r in rows)
    assert counts == {"assignments": 90, "annotations": 90, "versions": 3, "round opened": 1}
