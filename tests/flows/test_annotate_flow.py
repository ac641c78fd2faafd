"""A full annotation round against a real Prefect server and ledger, answered through the CLI.

Thirty tickets, five annotators (overlap 3), ten gold items. ``a5`` answers every item
wrongly, so gold calibration flags them and their labels are excluded. Tickets T01 and T02
are genuinely disputed (billing against bug): both go to the contested gate with one random
audit item; the reviewer escalates T01, a specialist decides it with a clarification, a lead
approves the drafted guideline, and T02 (the same dispute) is queued for re-annotation.
"""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from flows.annotate import AnnotateParams, annotate
from govflow.domain import RoundStatus
from govflow.errors import BatchAborted
from govflow.ledger.audit import verify_chain
from govflow.ledger.datasets import (
    prepare_items,
    read_version_records,
    register_dataset_version,
)
from govflow.ledger.engine import Ledger
from govflow.ledger.guidelines import GuidelineDocument, publish_guideline
from govflow.ledger.lineage import build_lineage
from govflow.ledger.models import (
    Annotation,
    AnnotationRound,
    Assignment,
    AuditEvent,
    DatasetVersion,
    GuidelineVersion,
    Person,
    QuarantinedRow,
    ReviewDecision,
    ReviewTask,
    Role,
)
from govflow.ledger.people import add_person
from govflow.prefect_api import PrefectAPI
from tests.support.gates import decide

LABELS = ["billing", "bug", "account"]
ANNOTATORS = ["a1", "a2", "a3", "a4", "a5"]
STAFF = {"bob": Role.REVIEWER, "sam": Role.SPECIALIST, "lee": Role.LEAD}
DISPUTED = {"T01", "T02"}


def truth(ticket_id: str) -> str:
    return LABELS[int(ticket_id[1:]) % 3]


def wrong(label: str) -> str:
    return LABELS[(LABELS.index(label) + 1) % 3]


def setup_ledger(url: str, tmp_path) -> tuple[str, dict[str, object]]:
    ledger = Ledger.open(url)
    tokens = {}
    with ledger.session() as session:
        for person in ANNOTATORS:
            add_person(
                session=session,
                person_id=person,
                display_name=person,
                role=Role.ANNOTATOR,
                actor="test",
            )
        for person, role in STAFF.items():
            _, token = add_person(
                session=session, person_id=person, display_name=person, role=role, actor="test"
            )
            path = tmp_path / f"{person}.token"
            path.write_text(token)
            tokens[person] = path
        publish_guideline(
            session=session,
            document=GuidelineDocument(
                project="intent",
                label_set=LABELS,
                instructions="Label the intent of each ticket.",
                changelog="first version",
            ),
            actor="lee",
        )
        records = [
            {"ticket_id": f"T{n:02d}", "text": f"ticket {n}: something about topic {n * 13}"}
            for n in range(1, 31)
        ]
        version = register_dataset_version(
            session=session,
            name="tickets",
            stage="curated",
            items=prepare_items(records),
            actor="test",
        ).version
    ledger.dispose()
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "".join(
            json.dumps({"ticket_id": f"T{n:02d}", "label": truth(f"T{n:02d}")}) + "\n"
            for n in range(21, 31)
        )
    )
    return version.id, {"gold": gold, **tokens}


def submissions(export_dir, *, only=None) -> str:
    """Label every exported assignment the way the scenario needs.

    On a disputed ticket the reliable annotators say billing, bug, account in name order,
    so its counted votes never agree, whoever was assigned.
    """
    tasks = [
        json.loads(line)
        for annotator in ANNOTATORS
        for line in (export_dir / f"{annotator}.jsonl").open()
    ]
    reliable: dict[str, list[str]] = {}
    for task in tasks:
        if task["annotator"] != "a5":
            reliable.setdefault(task["data"]["ticket_id"], []).append(task["annotator"])
    lines = []
    for task in tasks:
        annotator, ticket = task["annotator"], task["data"]["ticket_id"]
        if only and annotator not in only:
            continue
        label = truth(ticket)
        if annotator == "a5":
            label = wrong(label)
        elif ticket in DISPUTED:
            label = LABELS[sorted(reliable[ticket]).index(annotator)]
        lines.append(
            json.dumps(
                {
                    "round": task["round"],
                    "item": task["item"],
                    "annotator": annotator,
                    "label": label,
                }
            )
        )
    return "\n".join(lines) + "\n"


def wait_for(predicate, *, timeout=90, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise TimeoutError(f"timed out waiting for {what}")


def collecting_round(url: str):
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        found = session.scalars(
            select(AnnotationRound).where(AnnotationRound.status == RoundStatus.COLLECTING)
        ).first()
        result = (found.id, found.flow_run_id) if found else None
    ledger.dispose()
    return result


def test_full_round_from_assignment_to_curated_labels(
    flows, govflow_env, run_cli, tmp_path, monkeypatch
):
    monkeypatch.setenv("GOVFLOW_REVIEW_POLL_INTERVAL", "1")
    url = govflow_env["GOVFLOW_DATABASE_URL"]
    version_id, files = setup_ledger(url, tmp_path)
    export_dir = tmp_path / "export"
    future, run_id = flows.start_flow(
        annotate,
        params=AnnotateParams(
            project="intent",
            version_id=version_id,
            item_key="ticket_id",
            gold_path=str(files["gold"]),
            overlap=3,
            gold_rate=0.0,
            min_gold=2,
            audit_rate=0.05,
            export_dir=str(export_dir),
        ),
    )
    round_id, waiting_run = wait_for(
        lambda: collecting_round(url), what="the round to wait for annotators"
    )
    assert waiting_run == run_id
    assert sorted(p.name for p in export_dir.iterdir()) == sorted(
        [f"{a}.jsonl" for a in ANNOTATORS] + [f"{a}.label-studio.json" for a in ANNOTATORS]
    )

    # A partial import with one bad line: stored, the bad line rejected, the flow keeps waiting.
    partial = tmp_path / "partial.jsonl"
    first = submissions(export_dir, only=["a1"])
    bad = json.loads(first.splitlines()[0]) | {"label": "refund"}
    partial.write_text(first + json.dumps(bad) + "\n")
    result = run_cli("annotations", "import", str(partial), "--round", round_id)
    assert result.code == 1, result.err
    assert result.out.splitlines()[0] == "accepted 18, already recorded 0, rejected 1"
    assert "label 'refund' is not in the guideline's label set" in result.out
    assert f"round {round_id}: 72 assignments still missing; the flow waits" in result.out

    everything = tmp_path / "all.jsonl"
    everything.write_text(submissions(export_dir))
    result = run_cli("annotations", "import", str(everything), "--round", round_id)
    assert result.code == 0, result.out + result.err
    assert result.out.splitlines() == [
        "accepted 72, already recorded 18, rejected 0",
        f"round {round_id} is complete: resumed flow run {run_id}",
    ]

    gate = flows.wait_paused(run_id, timeout=120)
    assert gate["kind"] == "contested_annotation"
    assert gate["suggestions"][audit_key_of(gate)] == truth(audit_key_of(gate))
    audit_key = sorted(set(gate["items"]) - DISPUTED)
    assert sorted(gate["items"]) == sorted(["T01", "T02", *audit_key]) and len(audit_key) == 1
    answer = decide(
        run_cli,
        files,
        run_id,
        "bob",
        "--set",
        "T01=escalate",
        "--set",
        "T02=bug",
        "--set",
        f"{audit_key[0]}={truth(audit_key[0])}",
        "--note",
        "T01 mixes a charge and an error",
    )
    assert answer.code == 0, answer.out + answer.err

    tier2 = flows.wait_paused(run_id, not_gate=gate["gate_id"], timeout=120)
    assert tier2["items"] == ["T01"]
    answer = decide(
        run_cli,
        files,
        run_id,
        "sam",
        "--set",
        "T01=billing",
        "--note",
        "clarify: a charge for a feature that failed is billing, not bug",
    )
    assert answer.code == 0, answer.out + answer.err

    promotion = flows.wait_paused(run_id, not_gate=tier2["gate_id"], timeout=120)
    assert promotion["kind"] == "promotion_approval"
    assert promotion["items"] == ["intent-v2"]
    refused = decide(run_cli, files, run_id, "bob", "--all", "approve")
    assert refused.code == 1
    assert refused.err == (
        "Error: rejected: this gate is assigned to lee only; the gate is open again\n"
    )
    answer = decide(run_cli, files, run_id, "lee", "--all", "approve")
    assert answer.code == 0, answer.out + answer.err

    outcome = future.result(timeout=180)
    assert outcome.needs_calibration == ["a5"]
    assert outcome.labels_excluded == 18
    assert outcome.labels_counted == 72
    assert (outcome.contested, outcome.audited, outcome.audit_overrides) == (2, 1, 0)
    assert outcome.status_counts == {"accepted": 29, "held_for_reannotation": 1}
    assert (outcome.rows_passed, outcome.rows_quarantined) == (29, 1)
    assert outcome.guideline_published is True
    assert outcome.reannotation_items == 1
    assert outcome.collection["ended_by"] == "complete"
    assert outcome.collection["missing"] == 0

    ledger = Ledger.open(url)
    with ledger.reader() as session:
        labeled = {
            r["ticket_id"]: r
            for r in read_version_records(session=session, version_id=outcome.labeled_version_id)
        }
        assert len(labeled) == 29 and "T02" not in labeled
        assert labeled["T01"]["label"] == "billing"
        assert (labeled["T01"]["label_source"], labeled["T01"]["decided_by"]) == ("tier2", "sam")
        assert labeled["T05"]["label"] == truth("T05")
        assert labeled["T05"]["label_source"] in ("consensus", "tier1")
        assert session.get(Person, "a5").status == "needs_calibration"
        excluded = session.scalar(
            select(func.count()).where(Annotation.is_excluded, Annotation.annotator_id == "a5")
        )
        assert excluded == 18
        a5_gold = sum(
            1
            for ticket in labeled_or_held(session, outcome.annotated_version_id, "a5", outcome)
            if int(ticket[1:]) > 20
        )
        assert a5_gold >= 2
        reasons = session.scalars(select(Annotation.exclusion_reason).distinct()).all()
        assert sorted(r for r in reasons if r) == [
            f"needs_calibration: gold accuracy 0.00 (0/{a5_gold}) below the threshold 0.70 "
            f"in round {outcome.round_id}"
        ]
        guidelines = session.scalars(
            select(GuidelineVersion).order_by(GuidelineVersion.version)
        ).all()
        assert [(g.version, g.status) for g in guidelines] == [(1, "published"), (2, "published")]
        assert "a charge for a feature that failed is billing" in guidelines[1].text
        assert guidelines[1].prompted_by.endswith(":T01")
        queue = session.get(AnnotationRound, outcome.reannotation_round_id)
        assert queue.guideline_version_id == guidelines[1].id
        queued_items = session.scalars(
            select(Assignment.item_hash).where(Assignment.round_id == queue.id).distinct()
        ).all()
        assert len(queued_items) == 1
        kinds = sorted(
            (t.kind, t.tier, t.status) for t in session.scalars(select(ReviewTask)).all()
        )
        assert kinds == [
            ("contested_annotation", 1, "decided"),
            ("contested_annotation", 2, "decided"),
            ("promotion_approval", 1, "decided"),
        ]
        stamped = session.execute(
            select(ReviewTask.kind, ReviewDecision.guideline_version_id, func.count())
            .join(ReviewTask, ReviewTask.id == ReviewDecision.review_task_id)
            .group_by(ReviewTask.kind, ReviewDecision.guideline_version_id)
            .order_by(ReviewTask.kind)
        ).all()
        assert stamped == [
            ("contested_annotation", guidelines[0].id, 4),
            ("promotion_approval", guidelines[1].id, 1),
        ]
        quarantined = session.scalars(select(QuarantinedRow.reasons)).all()
        assert len(quarantined) == 1
        assert "held_for_reannotation" in json.dumps(quarantined[0])
        tree = build_lineage(session=session, version_id=outcome.labeled_version_id)
        assert tree["stage"] == "labeled"
        annotated = tree["parents"][0]
        assert annotated["stage"] == "annotated"
        assert annotated["transformations"][0]["round_id"] == outcome.round_id
        source = annotated["parents"][0]
        assert source["id"] == version_id
        assert [g["version"] for g in source["guidelines"]] == [1]
        [round_] = source["annotation_rounds"]
        by_annotator = round_.pop("by_annotator")
        assert round_ == {
            "round": outcome.round_id,
            "status": "collected",
            "guideline_version": 1,
            "annotations": 90,
            "annotators": 5,
            "excluded": 18,
        }
        # Lineage names people (#17 point 17): who labelled how much, who was excluded and why.
        assert [(a["annotator"], a["labels"], a["excluded"]) for a in by_annotator] == [
            ("a1", 18, 0),
            ("a2", 18, 0),
            ("a3", 18, 0),
            ("a4", 18, 0),
            ("a5", 18, 18),
        ]
        assert by_annotator[4]["exclusion_reason"] == (
            f"needs_calibration: gold accuracy 0.00 (0/{a5_gold}) below the threshold 0.70 "
            f"in round {outcome.round_id}"
        )
        assert sorted(r["kind"] for r in source["reviews"]) == [
            "contested_annotation",
            "contested_annotation",
            "promotion_approval",
        ]
        deciders = {
            (r["kind"], r["tier"]): [
                (d["reviewer"], d["tier"], d["decisions"], d["overrides"]) for d in r["decided_by"]
            ]
            for r in source["reviews"]
        }
        bob_overrides = int(gate["suggestions"].get("T02") not in (None, "bug"))
        assert deciders == {
            ("contested_annotation", 1): [("bob", 1, 3, bob_overrides)],
            ("contested_annotation", 2): [
                ("sam", 2, 1, int(gate["suggestions"]["T01"] != "billing"))
            ],
            ("promotion_approval", 1): [("lee", 1, 1, 0)],
        }
        assert verify_chain(session=session).is_intact
    ledger.dispose()

    with PrefectAPI() as api:
        keys = {
            a["key"]
            for a in api.post_json(
                "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run_id]}}}
            )
        }
    prefix = f"round-{outcome.round_id}".lower()
    assert {f"{prefix}-annotators", f"{prefix}-agreement", f"{prefix}-confusion"} <= keys


def labeled_or_held(session, annotated_version_id, annotator, outcome):
    """The tickets ``annotator`` was assigned in the outcome's round."""
    items = set(
        session.scalars(
            select(Assignment.item_hash).where(
                Assignment.round_id == outcome.round_id, Assignment.annotator_id == annotator
            )
        )
    )
    records = read_version_records(session=session, version_id=annotated_version_id)
    return sorted(r["ticket_id"] for r in records if r["source_item"] in items)


def test_calibration_session_keeps_a_failing_annotator_out_and_restores_a_passing_one(
    flows, govflow_env, run_cli, tmp_path, monkeypatch
):
    from flows.calibrate import CalibrateParams, calibrate
    from govflow.ledger.annotations import add_gold_items
    from govflow.ledger.people import set_status

    monkeypatch.setenv("GOVFLOW_REVIEW_POLL_INTERVAL", "1")
    url = govflow_env["GOVFLOW_DATABASE_URL"]
    version_id, _ = setup_ledger(url, tmp_path)
    ledger = Ledger.open(url)
    with ledger.session() as session:
        records = read_version_records(session=session, version_id=version_id)
        hashes = dict(
            zip([r["ticket_id"] for r in records], prepare_items(records).hashes, strict=True)
        )
        add_gold_items(
            session=session,
            project="intent",
            items=[(hashes[f"T{n:02d}"], truth(f"T{n:02d}")) for n in range(21, 31)],
            actor="lee",
        )
        for person in ("a4", "a5"):
            set_status(
                session=session,
                person_id=person,
                status="needs_calibration",
                actor="lee",
                reason="test",
            )
    ledger.dispose()
    by_hash = {h: t for t, h in hashes.items()}

    export_dir = tmp_path / "calibration"
    future, run_id = flows.start_flow(
        calibrate,
        params=CalibrateParams(project="intent", per_person=4, export_dir=str(export_dir)),
    )
    round_id, _ = wait_for(lambda: collecting_round(url), what="the calibration round")
    lines = []
    for person in ("a4", "a5"):
        for line in (export_dir / f"{person}.jsonl").open():
            task = json.loads(line)
            label = truth(by_hash[task["item"]])
            lines.append(
                json.dumps(
                    {
                        "round": round_id,
                        "item": task["item"],
                        "annotator": person,
                        "label": label if person == "a4" else wrong(label),
                    }
                )
            )
    answers = tmp_path / "calibration.jsonl"
    answers.write_text("\n".join(lines) + "\n")
    result = run_cli("annotations", "import", str(answers), "--round", round_id)
    assert result.code == 0, result.out + result.err
    assert result.out.splitlines() == [
        "accepted 8, already recorded 0, rejected 0",
        f"round {round_id} is complete: resumed flow run {run_id}",
    ]
    outcome = future.result(timeout=120)
    assert (outcome.passed, outcome.failed) == (["a4"], ["a5"])
    assert outcome.scores == {"a4": 1.0, "a5": 0.0}
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        assert session.get(Person, "a4").status == "active"
        assert session.get(Person, "a5").status == "needs_calibration"
        assigned = session.scalar(
            select(func.count()).where(Assignment.round_id == round_id, Assignment.is_gold)
        )
        assert assigned == 8
        assert verify_chain(session=session).is_intact
    ledger.dispose()


def test_round_deadline_reassigns_missing_items_once_then_proceeds(
    flows, govflow_env, run_cli, tmp_path, monkeypatch
):
    monkeypatch.setenv("GOVFLOW_REVIEW_POLL_INTERVAL", "1")
    url = govflow_env["GOVFLOW_DATABASE_URL"]
    version_id, _ = setup_ledger(url, tmp_path)
    export_dir = tmp_path / "export"
    future, _ = flows.start_flow(
        annotate,
        params=AnnotateParams(
            project="intent",
            version_id=version_id,
            item_key="ticket_id",
            overlap=2,
            gold_rate=0.0,
            audit_rate=0.0,
            deadline_hours=8 / 3600,  # 8 seconds per deadline window
            deadline_policy="reassign",
            review_deadline_hours=8 / 3600,
            export_dir=str(export_dir),
        ),
    )
    round_id, _ = wait_for(lambda: collecting_round(url), what="the round")
    # Everyone but a5 answers (a5 holds 12 of the 60 assignments); nobody disputes.
    on_time = tmp_path / "on_time.jsonl"
    on_time.write_text(
        "".join(
            json.dumps(
                {
                    "round": round_id,
                    "item": task["item"],
                    "annotator": task["annotator"],
                    "label": truth(task["data"]["ticket_id"]),
                }
            )
            + "\n"
            for person in ["a1", "a2", "a3", "a4"]
            for task in map(json.loads, (export_dir / f"{person}.jsonl").open())
        )
    )
    result = run_cli("annotations", "import", str(on_time), "--round", round_id)
    assert result.out.splitlines() == [
        "accepted 48, already recorded 0, rejected 0",
        f"round {round_id}: 12 assignments still missing; the flow waits",
    ]

    def reassigned():
        ledger = Ledger.open(url)
        with ledger.reader() as session:
            found = session.get(AnnotationRound, round_id)
            moved = found.details.get("reassigned")
            waiting = found.status is RoundStatus.COLLECTING and found.waits >= 2
        ledger.dispose()
        return moved if moved and waiting else None

    moved = wait_for(reassigned, timeout=60, what="the reassignment")
    assert (moved["moved"], moved["unplaced"]) == (12, 0)
    # Nobody answers the reassigned items either: at the second deadline the round proceeds.
    # Those items hold one label (overlap 2): contested; nobody answers that gate either, so
    # they are excluded at its deadline (never silently kept), and 12 of 30 rows quarantined
    # exceeds the labeled suite's 25% threshold: the batch gate times out and aborts.
    with pytest.raises(
        BatchAborted, match="batch aborted at the labeled checkpoint by the deadline policy"
    ):
        future.result(timeout=180)
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        collection = session.get(AnnotationRound, round_id).details["collection"]
        statuses = sorted(
            r["label_status"]
            for r in read_version_records(
                session=session,
                version_id=session.scalars(
                    select(DatasetVersion.id).where(DatasetVersion.stage == "annotated")
                ).one(),
            )
        )
    ledger.dispose()
    late = collection.pop("missing_by_annotator")
    assert collection == {"ended_by": "deadline", "assigned": 60, "annotated": 48, "missing": 12}
    assert set(late) <= {"a1", "a2", "a3", "a4"} and sum(late.values()) == 12
    assert statuses == ["accepted"] * 18 + ["excluded_at_deadline"] * 12
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        rows = session.execute(
            select(Assignment.item_hash, Assignment.annotator_id).where(
                Assignment.round_id == round_id
            )
        ).all()
        events = session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject == round_id)
        ).all()
    ledger.dispose()
    assert len(rows) == 72 and len(set(rows)) == 72
    assert events.count("annotation.reassigned") == 1
    assert events[-1] == "annotation.collected"


def audit_key_of(gate) -> str:
    (key,) = set(gate["items"]) - DISPUTED
    return key
