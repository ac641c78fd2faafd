"""`govflow serve` serves the deployments; `govflow run` triggers one and follows it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from govflow.ledger.engine import Ledger
from govflow.ledger.models import DatasetVersion
from tests.support.serve import govflow_serve

ROOT = Path(__file__).resolve().parents[2]


def test_serve_then_run_ingest_to_completion(prefect_server, govflow_env, run_cli, tmp_path):
    log = tmp_path / "serve.log"
    with govflow_serve(govflow_env, log) as names:
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

    assert {
        "ingest-nightly",
        "ingest",
        "preprocess",
        "review-batch",
        "annotate",
        "pipeline",
        "calibrate",
    } <= names
    assert result.code == 0, result.err + log.read_text()[-3000:]
    assert result.err.splitlines()[-1] == "state: Completed"
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.reader() as session:
        stages = sorted(session.scalars(select(DatasetVersion.stage)))
    ledger.dispose()
    assert stages == ["raw", "validated"]
