"""``govflow monitor status`` and ``govflow interventions list|show|close`` on a real ledger."""

from __future__ import annotations

import json

from govflow.domain import AlertKind
from govflow.ledger.engine import Ledger
from govflow.ledger.monitoring import open_intervention, record_alert
from tests.govflow.ledger.test_monitoring import _batch, _run


def _seed(url: str) -> tuple[str, str, str]:
    ledger = Ledger.open(url)
    with ledger.session() as session:
        batch = _batch(session)
        run, _ = _run(session, batch)
        run.results = {
            "drift": {
                "columns": [
                    {"column": "text", "drifted": True},
                    {"column": "channel", "drifted": False},
                ]
            },
            "expected_accuracy": {"value": 0.827},
            "realized_accuracy": {"accuracy": None},
        }
        alert, _ = record_alert(
            session=session,
            origin=run.id,
            project="p",
            kind=AlertKind.DRIFT,
            summary="drift in 1 of 2 columns (text)",
            details={},
            actor="m",
            model_version_id="mv-1",
            monitoring_run_id=run.id,
        )
        iv, _ = open_intervention(
            session=session,
            alert_id=alert.id,
            slice={"description": "4 rows of production batch, drifted in text"},
            owner="olga",
            actor="m",
            slice_version_id=batch,
        )
        ids = (batch, run.id, iv.id)
    ledger.dispose()
    return ids


def test_monitor_status_prints_the_latest_run_of_each_model(run_cli, govflow_env):
    batch, run_id, iv = _seed(govflow_env["GOVFLOW_DATABASE_URL"])

    shown = run_cli("monitor", "status")
    as_json = run_cli("monitor", "status", "--json")

    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert lines[0].startswith("p · model mv-1 · ")
    assert lines[1:] == [
        f"  batch {batch}: 4 rows, drifted in text",
        "  expected accuracy 82.7%, realized -, 1 outputs sent to people",
        "  alert drift: drift in 1 of 2 columns (text)",
        f"  open interventions: {iv}",
    ]
    (row,) = json.loads(as_json.out)
    assert (row["monitoring_run_id"], row["drifted_columns"]) == (run_id, ["text"])


def test_interventions_list_show_and_a_refused_close(run_cli, govflow_env):
    _, _, iv = _seed(govflow_env["GOVFLOW_DATABASE_URL"])

    listed = run_cli("interventions", "list")
    shown = run_cli("interventions", "show", iv[:10])
    refused = run_cli("interventions", "close", iv)
    unknown = run_cli("interventions", "show", "iv-nope")

    assert listed.code == 0, listed.err
    assert listed.out.splitlines() == [
        f"{'ID':<27}  {'AGE':>4}  {'OWNER':<12}  {'TRIGGER':<17}  LEFT",
        f"{iv:<27}  {'0m':>4}  {'olga':<12}  {'drift':<17}  3 step(s)",
    ]
    assert shown.out.splitlines()[2:] == [
        "trigger: drift in 1 of 2 columns (text)",
        "slice: 4 rows of production batch, drifted in text",
        "model: mv-1",
        "re-annotation round: -",
        "suite version: -",
        "re-evaluation: -",
        "left: a re-annotation round over the affected slice",
        "left: an evaluation suite version with the production slice",
        "left: a re-evaluation of the production model on that suite version",
    ]
    assert shown.out.splitlines()[0] == f"{iv} (open) · p · owner olga"
    assert shown.out.splitlines()[1].endswith("(0m ago) by a drift alert")
    assert (refused.code, refused.out) == (1, "")
    assert refused.err == (
        f"Error: intervention {iv} cannot close: still missing a re-annotation round over the "
        "affected slice; an evaluation suite version with the production slice; a "
        "re-evaluation of the production model on that suite version\n"
    )
    assert unknown.code == 4
    assert unknown.err.startswith("Error: intervention 'iv-nope' not found")
