"""final_labels: consensus and people's decisions into one final label per item."""

from __future__ import annotations

from govflow.annotation.adjudication import (
    annotation_step,
    contested_request,
    decided_by_people,
    final_labels,
)
from govflow.annotation.consensus import ItemConsensus, RoundConsensus
from govflow.annotation.labeled import FinalLabel
from govflow.domain import LabelSource, LabelStatus
from govflow.domain.review import GateResult, ItemDecision, Outcome, ReviewKind


def consensus() -> RoundConsensus:
    return RoundConsensus(
        items=[
            ItemConsensus("h1", "bug", 0.95, 1.0, [("a", "bug"), ("b", "bug")]),
            ItemConsensus("h2", "bug", 0.55, 0.5, [("a", "bug"), ("b", "billing")], ["low"]),
            ItemConsensus("h3", "billing", 0.9, 1.0, [("a", "billing"), ("b", "billing")]),
            ItemConsensus("h4", None, None, None, [], ["only 0 counted label(s)"]),
            ItemConsensus("h5", "bug", 0.6, 0.5, [("a", "bug"), ("c", "other")], ["low"]),
            ItemConsensus("h6", "other", 0.99, 1.0, [("a", "other"), ("c", "other")]),
        ],
        reliability={"a": 0.9, "b": 0.7, "c": 0.8},
        statistics={"contested": 3},
    )


def decision(key: str, choice: str, *, tier: int = 1, timed_out: bool = False) -> ItemDecision:
    return ItemDecision(
        item_key=key,
        choice=choice,
        outcome=Outcome.TIMED_OUT if timed_out else Outcome.DECIDED,
        reviewer_id=None if timed_out else f"r{tier}",
        tier=tier,
        payload_hash="p",
        gate_id="rt-1",
    )


KEYS = {f"h{n}": f"T{n}" for n in range(1, 7)}


def test_people_decide_contested_and_audited_items_and_consensus_keeps_the_rest():
    gate = GateResult(
        gate_id="rt-1",
        kind=ReviewKind.CONTESTED_ANNOTATION,
        decisions=[
            decision("T2", "billing", tier=2),
            decision("T3", "bug"),  # an audit sample overruled
            decision("T4", "exclude", tier=2, timed_out=True),
            decision("T5", "exclude"),
        ],
    )
    final, overrides = final_labels(consensus(), gate, KEYS, held={"h6"})
    assert final == {
        "h1": FinalLabel("bug", LabelStatus.ACCEPTED, LabelSource.CONSENSUS),
        "h2": FinalLabel("billing", LabelStatus.ACCEPTED, LabelSource.TIER2, "r2"),
        "h3": FinalLabel("bug", LabelStatus.ACCEPTED, LabelSource.TIER1, "r1"),
        "h4": FinalLabel(None, LabelStatus.EXCLUDED_AT_DEADLINE, LabelSource.DEADLINE),
        "h5": FinalLabel(None, LabelStatus.EXCLUDED_BY_REVIEW, LabelSource.TIER1, "r1"),
        "h6": FinalLabel(None, LabelStatus.HELD_FOR_REANNOTATION, LabelSource.TIER2),
    }
    assert overrides == 1
    # h2, h3, h5 and h6 (held by a specialist's clarification); not the deadline or consensus
    assert decided_by_people(final) == 4


def test_a_contested_item_without_a_decision_is_never_accepted():
    final, overrides = final_labels(consensus(), None, KEYS, held=set())
    assert final["h2"] == FinalLabel(None, LabelStatus.NO_CONSENSUS, LabelSource.CONSENSUS)
    assert final["h4"] == FinalLabel(None, LabelStatus.NO_CONSENSUS, LabelSource.CONSENSUS)
    assert [h for h, f in final.items() if f.status is LabelStatus.ACCEPTED] == ["h1", "h3", "h6"]
    assert overrides == 0


def test_contested_request_asks_contested_items_then_the_audit_sample_without_their_annotators():
    request = contested_request(
        round_id="ar-1",
        consensus=consensus(),
        audited=["h3", "h2"],
        records={h: {"text": f"text {h}"} for h in KEYS},
        keys=KEYS,
        label_set=["bug", "billing", "other"],
        version_id="dv-1",
        guideline_id="gl-1",
        guideline_excerpt="be kind",
        deadline_hours=12,
    )
    assert [i.key for i in request.items] == ["T2", "T4", "T5", "T3"]
    assert request.items[3].reasons == ["random audit sample"]
    assert request.items[0].conflicted == ["a", "b"]
    assert [(v.annotator_id, v.label, v.reliability) for v in request.items[0].votes] == [
        ("a", "bug", 0.9),
        ("b", "billing", 0.7),
    ]
    assert request.choices == ("bug", "billing", "other", "exclude", "escalate")


def test_annotation_step_records_how_the_labels_came_about():
    step = annotation_step(
        round_id="ar-1",
        guideline_id="gl-1",
        method="majority",
        gate_id=None,
        needs_calibration=["a5"],
        draft_guideline_id=None,
        reannotation_round_id=None,
    )
    assert step == {
        "step": "annotation",
        "round_id": "ar-1",
        "guideline_version_id": "gl-1",
        "method": "majority",
        "review_gate": None,
        "needs_calibration": ["a5"],
        "draft_guideline_id": None,
        "reannotation_round_id": None,
    }
