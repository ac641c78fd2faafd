"""A labeled version of the demo's tickets (their hidden truth as labels) for model tests.

It stands in for an annotation round's output: every row accepted, split by text hash as
``govflow.annotation.labeled`` splits, registered as the ``labeled`` child of an
``annotated`` version whose contested gate a reviewer decided, so a model's lineage reaches
people.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from govflow.annotation.labeled import split_of
from govflow.domain import GateStatus, Stage
from govflow.domain.review import ItemDecision, Outcome, ReviewItem, ReviewKind, ReviewRequest
from govflow.hashing import content_hash
from govflow.ledger.datasets import register_frame
from govflow.ledger.engine import Ledger
from govflow.ledger.guidelines import load_guideline_document, publish_guideline
from govflow.ledger.reviews import open_review_task, record_decisions

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "support-intent"


def demo_labeled_frame() -> pd.DataFrame:
    truth = {
        row["ticket_id"]: row["intent"]
        for row in map(json.loads, (ROOT / "demo/data/support_tickets.truth.jsonl").open())
    }
    rows = []
    for line in (ROOT / "demo/data/support_tickets.jsonl").open(encoding="utf-8"):
        try:
            ticket = json.loads(line)
        except json.JSONDecodeError:
            continue  # the demo file's deliberately broken lines
        if not isinstance(ticket, dict) or ticket.get("ticket_id") not in truth:
            continue
        if not isinstance(ticket.get("text"), str):
            continue
        key = content_hash(" ".join(ticket["text"].split()).lower())
        rows.append(
            {
                "ticket_id": ticket["ticket_id"],
                "text": ticket["text"],
                "channel": ticket.get("channel"),
                "label": truth[ticket["ticket_id"]],
                "label_status": "accepted",
                "label_source": "consensus",
                "split": split_of(key, 0.2),
            }
        )
    return pd.DataFrame(rows)


def register_demo_labeled(url: str, *, reviewer: str) -> str:
    """Publish the demo guideline, register annotated and labeled versions; return labeled."""
    ledger = Ledger.open(url)
    frame = demo_labeled_frame()
    with ledger.session() as session:
        publish_guideline(
            session=session,
            document=load_guideline_document(ROOT / "demo/guidelines/support-intent.v1.yaml"),
            actor="test",
        )
        annotated, _ = register_frame(
            session=session, frame=frame, name="support_tickets", stage=Stage.ANNOTATED, actor="t"
        )
        request = ReviewRequest(
            name="contested-test",
            kind=ReviewKind.CONTESTED_ANNOTATION,
            labels=("billing", "bug", "account", "feature_request", "other"),
            items=[ReviewItem(key="T00003", payload={"text": frame.text.iloc[2]})],
            dataset_version_id=annotated.id,
        )
        task = open_review_task(session=session, request=request, flow_run_id=None, actor="t")
        record_decisions(
            session=session,
            task=task,
            decisions=[
                ItemDecision(
                    item_key="T00003",
                    choice=frame.label.iloc[2],
                    outcome=Outcome.DECIDED,
                    reviewer_id=reviewer,
                    tier=1,
                    payload_hash=request.items[0].payload_hash,
                    gate_id=request.gate_id,
                )
            ],
            status=GateStatus.DECIDED,
            actor=reviewer,
        )
        labeled, _ = register_frame(
            session=session,
            frame=frame,
            name="support_tickets",
            stage=Stage.LABELED,
            actor="t",
            parent_ids=[annotated.id],
        )
        labeled_id = labeled.id
    ledger.dispose()
    return labeled_id
