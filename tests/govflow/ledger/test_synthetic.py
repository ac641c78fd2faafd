"""Synthetic batches, spot-checks and mixes in the ledger (SQLite and Postgres)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from alembic import command
from sqlalchemy import inspect

from govflow.domain import Stage, SyntheticStatus
from govflow.ledger.datasets import register_frame
from govflow.ledger.engine import Ledger
from govflow.ledger.lineage import build_lineage, render_tree
from govflow.ledger.migrate import _config
from govflow.ledger.models import AuditEvent, SyntheticItem
from govflow.ledger.synthetic import (
    ItemRecord,
    accepted_hashes,
    get_batch,
    list_batches,
    record_batch,
    record_mix,
    record_spot_check,
)

PROVENANCE = {"generator": "template", "seed_items": ["o1", "o2"], "config_hash": "c"}


def _versions(session):
    organic, _ = register_frame(
        session=session,
        frame=pd.DataFrame({"text": ["a", "b"], "label": ["x", "y"]}),
        name="d",
        stage=Stage.LABELED,
        actor="t",
    )
    generated, hashes = register_frame(
        session=session,
        frame=pd.DataFrame({"text": ["s1", "s2", "s3"], "label": ["x", "x", "x"]}),
        name="d",
        stage=Stage.GENERATED,
        actor="t",
        parent_ids=[organic.id],
    )
    return organic, generated, hashes


def _record(session, organic, generated, hashes):
    return record_batch(
        session=session,
        batch_id="sb-1",
        project="p",
        dataset="d",
        source_version_id=organic.id,
        generated_version_id=generated.id,
        passed_version_id=None,
        validation_run_id=None,
        plan={"seed": 3},
        plan_hash="h" * 64,
        generator="template",
        generator_version="2",
        seed=3,
        rows_requested=3,
        items=[
            ItemRecord(hashes[0], "x", PROVENANCE, True),
            ItemRecord(hashes[1], "x", PROVENANCE, False),
            ItemRecord(hashes[2], "x", PROVENANCE, True, predicted_label="y"),
        ],
        report={"fidelity": [{"label": "x", "length": 0.8, "vocabulary": 0.7, "missed": []}]},
        flow_run_id=None,
        actor="t",
    )


def test_batch_spot_check_and_mix_are_recorded_once_and_reach_lineage(ledger):
    with ledger.session() as session:
        organic, generated, hashes = _versions(session)
        first = _record(session, organic, generated, hashes)
        again = _record(session, organic, generated, hashes)
        assert first is again
        assert (first.rows_generated, first.rows_passed) == (3, 2)
        record_spot_check(
            session=session,
            batch_id="sb-1",
            review_task_id="rt-9",
            choices={0: ("accept", "rita"), 2: ("wrong_label", "rita")},
            rejected_positions=[2],
            status=SyntheticStatus.ACCEPTED,
            reason=None,
            actor="t",
        )
        # A second verdict is ignored: the batch is decided.
        record_spot_check(
            session=session,
            batch_id="sb-1",
            review_task_id="rt-10",
            choices={},
            rejected_positions=[],
            status=SyntheticStatus.QUARANTINED,
            reason="late",
            actor="t",
        )
        assert accepted_hashes(session=session, batch_id="sb-1") == [hashes[0]]
        batch = get_batch(session=session, batch_id="sb-1")
        assert (batch.status, batch.rows_accepted, batch.review_task_id) == (
            SyntheticStatus.ACCEPTED,
            1,
            "rt-9",
        )
        mixed, _ = register_frame(
            session=session,
            frame=pd.DataFrame({"text": ["a", "b", "s1"], "label": ["x", "y", "x"]}),
            name="d",
            stage=Stage.MIXED,
            actor="t",
            parent_ids=[organic.id, generated.id],
        )
        record_mix(
            session=session,
            version_id=mixed.id,
            organic_version_id=organic.id,
            batch_ids=["sb-1"],
            caps={"global_share": 0.2, "class_share": 0.5},
            shares={"all": "1 synthetic of 3 rows = 33.3%"},
            violations=["all classes: 1 synthetic of 3 rows = 33.3% above the cap 20%"],
            waiver_reviewer_id="lee",
            waiver_reason="rare class",
            waiver_review_task_id="rt-w",
            waiver_expires_at=datetime(2026, 12, 31, tzinfo=UTC),
            actor="t",
        )
        tree = build_lineage(session=session, version_id=mixed.id)
        assert [item.spot_check for item in session.query(SyntheticItem).order_by("position")] == [
            "accept",
            None,
            "wrong_label",
        ]
        assert [b.id for b in list_batches(session=session, project="p")] == ["sb-1"]
        actions = [e.action for e in session.query(AuditEvent).order_by(AuditEvent.seq)]
    assert actions[-3:] == ["synthetic.batch_accepted", "dataset.registered", "synthetic.mixed"]
    assert "synthetic.batch_recorded" in actions
    assert tree["synthetic"]["mix"]["waiver"]["signed_by"] == "lee"
    batch_node = next(p for p in tree["parents"] if p["stage"] == "generated")
    assert batch_node["synthetic"]["batch"]["spot_check"] == {"accept": 1, "wrong_label": 1}
    assert batch_node["synthetic"]["batch"]["seed_items"] == ["o1", "o2"]
    text = render_tree(tree)
    assert "cap waiver signed by lee at gate rt-w, expires 2026-12-31: rare class" in text
    assert "synthetic batch sb-1 by template v2 (plan hhhhhhhhhhhh, seed 3): accepted" in text
    assert "spot-check at gate rt-9: accept 1, wrong_label 1 by rita" in text


def test_migration_0006_applies_on_0005_and_downgrades(ledger_url):
    ledger = Ledger.open(ledger_url, upgrade=False)
    with ledger._write_engine.begin() as conn:
        command.upgrade(_config(conn), "0005")
    assert "synthetic_batches" not in inspect(ledger.engine).get_table_names()
    with ledger._write_engine.begin() as conn:
        command.upgrade(_config(conn), "0006")
    tables = set(inspect(ledger.engine).get_table_names())
    assert {"synthetic_batches", "synthetic_items", "synthetic_mixes"} <= tables
    with ledger._write_engine.begin() as conn:
        command.downgrade(_config(conn), "0005")
    assert "synthetic_items" not in inspect(ledger.engine).get_table_names()
    ledger.dispose()
