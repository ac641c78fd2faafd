"""Migration 0002 upgrades a 0001 ledger in place: the wait state moves from JSON to columns."""

from __future__ import annotations

import json

import pytest
from alembic import command
from sqlalchemy import select, text

from govflow.domain import GateStatus, RoundKind, RoundStatus
from govflow.errors import MigrationError
from govflow.hashing import combine_hashes, sha256_text
from govflow.ledger.engine import Ledger
from govflow.ledger.migrate import _config, current_revision, head_revision, upgrade_to_head
from govflow.ledger.models import AnnotationRound, Assignment, ReviewTask

NOW = "2026-11-01 10:00:00"
# dv-1's two rows, as the pre-snapshot ledger stored them (a later migration checks them).
PAYLOADS = ['{"n":1}', '{"n":2}']
HASHES = [sha256_text(p) for p in PAYLOADS]


def _at_0001(url: str) -> Ledger:
    ledger = Ledger.open(url, upgrade=False)
    with ledger._write_engine.begin() as conn:
        command.upgrade(_config(conn), "0001")
    return ledger


def _seed(ledger: Ledger, *, stage: str = "raw") -> None:
    rows = [
        "INSERT INTO dataset_versions (id, name, stage, content_hash, row_count, created_by,"
        " transformations, details, created_at) VALUES ('dv-1', 'd', :stage, :digest, 2, 't',"
        " '[]', '{}', :now)",
        "INSERT INTO items (content_hash, payload, origin) VALUES (:h1, :p1, 'organic')",
        "INSERT INTO items (content_hash, payload, origin) VALUES (:h2, :p2, 'organic')",
        "INSERT INTO dataset_version_items VALUES ('dv-1', 0, :h1)",
        "INSERT INTO dataset_version_items VALUES ('dv-1', 1, :h2)",
        "INSERT INTO guideline_versions (id, project, version, label_set, is_ordinal, text,"
        " examples, changelog, status, content_hash, created_by, created_at) VALUES ('gl-1',"
        " 'p', 1, '[\"a\", \"b\"]', false, 'x', '[]', 'c', 'published', 'h', 't', :now)",
        "INSERT INTO people (id, display_name, roles, status, created_at, updated_at) VALUES"
        " ('ann', 'Ann', '[\"annotator\"]', 'active', :now, :now)",
        "INSERT INTO people (id, display_name, roles, status, created_at, updated_at) VALUES"
        " ('ben', 'Ben', '[\"annotator\"]', 'active', :now, :now)",
        "INSERT INTO review_tasks (id, flow_run_id, kind, tier, status, payload_hash, items,"
        " details, created_at) VALUES ('rt-1', 'run-1', 'edge_case', 1, 'open', 'p', '[]',"
        " :task_details, :now)",
        "INSERT INTO annotation_rounds (id, project, dataset_version_id, guideline_version_id,"
        " overlap, gold_rate, status, deadline_policy, details, created_by, created_at) VALUES"
        " ('ar-1', 'p', 'dv-1', 'gl-1', 1, 0.0, 'collecting', 'reassign', :round_details, 't',"
        " :now)",
        "INSERT INTO annotation_rounds (id, project, dataset_version_id, guideline_version_id,"
        " overlap, gold_rate, status, deadline_policy, details, created_by, created_at) VALUES"
        " ('ar-2', 'p', 'dv-1', 'gl-1', 1, 1.0, 'open', 'proceed', :calibration_details, 't',"
        " :now)",
        "INSERT INTO assignments (round_id, item_hash, annotator_id, is_gold, assigned_at)"
        " VALUES ('ar-1', 'h1', 'ann', false, :now)",
        "INSERT INTO assignments (round_id, item_hash, annotator_id, is_gold, assigned_at)"
        " VALUES ('ar-1', 'h1', 'ben', false, :now)",
    ]
    params = {
        "now": NOW,
        "stage": stage,
        "digest": combine_hashes(HASHES),
        "h1": HASHES[0],
        "h2": HASHES[1],
        "p1": PAYLOADS[0],
        "p2": PAYLOADS[1],
        "task_details": json.dumps(
            {"name": "g", "attempt": 3, "last_rejection": "wrong token", "choices": ["x"]}
        ),
        "round_details": json.dumps(
            {
                "seed": 4,
                "items": 1,
                "waits": 2,
                "flow_run_id": "run-9",
                "superseded": [["h1", "ann"]],
            }
        ),
        "calibration_details": json.dumps(
            {"kind": "calibration", "annotators": ["ann"], "per_person": 1, "seed": 0}
        ),
    }
    with ledger._write_engine.begin() as conn:
        for sql in rows:
            conn.execute(text(sql), params)


def test_upgrade_moves_the_wait_state_from_details_to_typed_columns(ledger_url):
    ledger = _at_0001(ledger_url)
    _seed(ledger)

    assert upgrade_to_head(ledger) == ("0001", head_revision())

    with ledger.reader() as session:
        task = session.get(ReviewTask, "rt-1")
        assert (task.status, task.attempt, task.last_rejection, task.details) == (
            GateStatus.OPEN,
            3,
            "wrong token",
            {"name": "g", "choices": ["x"]},
        )
        live = session.get(AnnotationRound, "ar-1")
        assert (live.kind, live.status, live.waits, live.flow_run_id, live.details) == (
            RoundKind.ANNOTATION,
            RoundStatus.COLLECTING,
            2,
            "run-9",
            {"seed": 4, "items": 1},
        )
        calibration = session.get(AnnotationRound, "ar-2")
        assert (calibration.kind, calibration.waits, calibration.details) == (
            RoundKind.CALIBRATION,
            0,
            {"people": ["ann"], "per_person": 1, "seed": 0},
        )
        superseded = session.execute(
            select(Assignment.annotator_id, Assignment.superseded).order_by(Assignment.annotator_id)
        ).all()
        assert superseded == [("ann", True), ("ben", False)]
    ledger.dispose()


def test_upgrade_refuses_a_status_outside_the_enums_and_names_it(ledger_url):
    ledger = _at_0001(ledger_url)
    _seed(ledger, stage="my-own-stage")

    with pytest.raises(
        MigrationError,
        match=r"dataset_versions\.stage holds values govflow does not know: my-own-stage",
    ):
        upgrade_to_head(ledger)
    assert current_revision(ledger) == "0001"
    ledger.dispose()
