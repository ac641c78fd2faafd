"""Migration 0005 upgrades a 0004 ledger in place: monitoring tables beside the existing rows."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, select, text

from govflow.domain import AlertKind, Stage
from govflow.hashing import combine_hashes
from govflow.ledger.datasets import prepare_items, register_dataset_version
from govflow.ledger.engine import Ledger
from govflow.ledger.migrate import _config, current_revision, head_revision, upgrade_to_head
from govflow.ledger.models import DatasetVersion
from govflow.ledger.monitoring import open_intervention, record_alert, record_monitoring_run

NOW = "2026-12-01 10:00:00"


def test_upgrade_from_0004_keeps_rows_and_records_monitoring(ledger_url):
    ledger = Ledger.open(ledger_url, upgrade=False)
    with ledger._write_engine.begin() as conn:
        command.upgrade(_config(conn), "0004")
        conn.execute(
            text(
                "INSERT INTO dataset_versions (id, name, stage, content_hash, row_count,"
                " created_by, transformations, details, created_at) VALUES ('dv-old', 'd',"
                " 'labeled', :empty, 0, 't', '[]', '{}', :now)"
            ),
            # An empty version: later migrations check stored rows against the content hash.
            {"now": NOW, "empty": combine_hashes([])},
        )
        conn.execute(
            text(
                "INSERT INTO model_versions (id, project, adapter, spec, seed, label_set,"
                " details, created_by, created_at) VALUES ('mv-old', 'p', 'sklearn-text',"
                " '{}', 0, '[\"a\", \"b\"]', '{}', 't', :now)"
            ),
            {"now": NOW},
        )
    assert current_revision(ledger) == "0004"

    upgrade_to_head(ledger)

    assert current_revision(ledger) == head_revision()
    tables = set(inspect(ledger.engine).get_table_names())
    assert {"monitoring_runs", "monitoring_alerts", "interventions", "output_reviews"} <= tables
    with ledger.session() as session:
        batch = register_dataset_version(
            session=session,
            name="d",
            stage=Stage.PRODUCTION,
            items=prepare_items([{"text": "x"}]),
            actor="t",
        ).version
        run, _ = record_monitoring_run(
            session=session,
            project="p",
            model_version_id="mv-old",
            production_version_id=batch.id,
            reference={"kind": "training", "version_id": "dv-old"},
            config_hash="c" * 64,
            results={},
            is_drifted=True,
            n_rows=1,
            n_to_people=0,
            flow_run_id=None,
            actor="t",
        )
        alert, _ = record_alert(
            session=session,
            origin=run.id,
            project="p",
            kind=AlertKind.DRIFT,
            summary="drift",
            details={},
            actor="t",
            model_version_id="mv-old",
            monitoring_run_id=run.id,
        )
        open_intervention(session=session, alert_id=alert.id, slice={}, owner="o", actor="t")
    with ledger.reader() as session:
        stages = dict(session.execute(select(DatasetVersion.id, DatasetVersion.stage)).all())
        assert stages == {"dv-old": Stage.LABELED, batch.id: Stage.PRODUCTION}
    ledger.dispose()
