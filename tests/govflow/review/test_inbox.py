"""The gate summary (built once, from the ledger row) and who may answer a gate."""

from __future__ import annotations

from datetime import timedelta

from govflow.domain.review import ReviewItem, ReviewKind, ReviewRequest
from govflow.ledger.reviews import open_review_task
from govflow.review.inbox import attempt_of, may_answer, pause_key, summarize_gate


def test_summarize_gate_describes_the_open_gate_without_secrets(ledger, monkeypatch):
    monkeypatch.setenv("PREFECT_UI_URL", "http://ui.example")
    request = ReviewRequest(
        name="contested-ar-1",
        kind=ReviewKind.CONTESTED_ANNOTATION,
        labels=("bug", "billing"),
        items=[
            ReviewItem(
                key="T1", payload={"text": "a"}, reasons=["low agreement"], suggestion="bug"
            ),
            ReviewItem(key="T2", payload={"text": "b"}, reasons=["audit"]),
        ],
        assignees=["bob"],
        deadline=timedelta(hours=2),
        dataset_version_id=None,
    )
    with ledger.session() as session:
        task = open_review_task(session=session, request=request, flow_run_id="run-1", actor="t")
        summary = summarize_gate(task, flow_run_id="run-1", key=pause_key(task.id, 2))
        deadline = task.deadline
    assert summary == {
        "gate_id": request.gate_id,
        "pause_key": f"{request.gate_id}-a2",
        "attempt": 2,
        "name": "contested-ar-1",
        "kind": "contested_annotation",
        "tier": 1,
        "items": ["T1", "T2"],
        "suggestions": {"T1": "bug"},
        "choices": ["bug", "billing", "exclude", "escalate"],
        "assignees": ["bob"],
        "deadline": deadline.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "flow_run_id": "run-1",
        "dataset_version_id": None,
        "guideline_version_id": None,
        "reasons": ["audit", "low agreement"],
        "ui_url": "http://ui.example/runs/flow-run/run-1",
    }


def test_attempt_is_read_back_from_a_gates_pause_key_only():
    assert attempt_of(pause_key("rt-abc", 3)) == 3
    assert attempt_of("collect-ar-1-w2") is None


def test_may_answer_checks_assignees_and_the_tier_roles():
    gate = {"tier": 2, "assignees": []}
    assert may_answer(gate, "sam", ["specialist"])
    assert not may_answer(gate, "bob", ["reviewer"])
    assert may_answer(gate, "bob", None)  # roles unknown on this machine: not filtered
    assert not may_answer({"tier": 1, "assignees": ["lee"]}, "bob", ["reviewer"])
