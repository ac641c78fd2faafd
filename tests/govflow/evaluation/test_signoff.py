"""Quorum sign-off: who is eligible, how answers count, what each gate asks."""

from __future__ import annotations

from govflow.domain import PersonStatus, Role, SignOffDecision
from govflow.domain.review import GateResult, ItemDecision, Outcome, ReviewKind
from govflow.evaluation.signoff import (
    SignOffPolicy,
    eligible_signers,
    quorum_of,
    read_signoff,
    signoff_request,
)

PEOPLE = [
    ("bob", ["reviewer"], PersonStatus.ACTIVE),
    ("sam", ["specialist"], PersonStatus.ACTIVE),
    ("sue", ["specialist"], PersonStatus.ACTIVE),
    ("lee", ["lead"], PersonStatus.ACTIVE),
    ("old", ["lead"], PersonStatus.DISABLED),
]


def test_eligible_signers_hold_a_role_are_active_and_did_not_request_or_author():
    policy = SignOffPolicy()
    assert eligible_signers(PEOPLE, policy, excluded=["lee"]) == ["sam", "sue"]
    named = SignOffPolicy(quorum=2, signers=("bob", "sam", "lee"), roles=frozenset(Role))
    assert eligible_signers(PEOPLE, named, excluded=[]) == ["bob", "lee", "sam"]


def test_any_rejection_blocks_and_the_quorum_counts_approvals():
    policy = SignOffPolicy(quorum=2)
    one = quorum_of([("sam", SignOffDecision.APPROVE)], policy)
    assert (one.is_reached, one.is_rejected) == (False, False)
    two = quorum_of([("sam", SignOffDecision.APPROVE), ("sue", SignOffDecision.APPROVE)], policy)
    assert two.is_reached
    blocked = quorum_of([("sam", SignOffDecision.APPROVE), ("sue", SignOffDecision.REJECT)], policy)
    assert (blocked.is_reached, blocked.rejections) == (False, ["sue"])


def _answer(choices: dict[str, str], reviewer: str | None = "sam") -> GateResult:
    return GateResult(
        gate_id="rt-s",
        kind=ReviewKind.EVALUATION_SIGNOFF,
        decisions=[
            ItemDecision(
                item_key=key,
                choice=choice,
                outcome=Outcome.DECIDED if reviewer else Outcome.TIMED_OUT,
                reviewer_id=reviewer,
                tier=2,
                note="ok" if reviewer else None,
                payload_hash="p",
                gate_id="rt-s",
            )
            for key, choice in choices.items()
        ],
    )


def test_approval_needs_the_evaluation_and_every_waiver_approved():
    full = read_signoff(_answer({"evaluation": "approve", "waive edge_cases": "approve"}))
    assert (full.signer, full.decision, full.waived) == (
        "sam",
        SignOffDecision.APPROVE,
        ["edge_cases"],
    )
    partial = read_signoff(_answer({"evaluation": "approve", "waive edge_cases": "reject"}))
    assert (partial.decision, partial.waived) == (SignOffDecision.REJECT, [])
    nobody = read_signoff(_answer({"evaluation": "reject"}, reviewer=None))
    assert (nobody.signer, nobody.decision) == (None, SignOffDecision.REJECT)


def test_each_signoff_gate_is_named_by_the_signatures_before_it():
    request = signoff_request(
        evaluation_run_id="ev-1",
        model_version_id="mv-1",
        summary="mv-1: evaluation insufficient_evidence",
        report="# Evaluation",
        insufficient=[("edge_cases", "3 examples, fewer than min_samples 20")],
        signers=["sam", "sue"],
        excluded=["lee"],
        signed_before=1,
        deadline_hours=12,
    )
    assert (request.name, request.tier, request.assignees, request.submitted_by) == (
        "signoff-ev-1-2",
        2,
        ["sam", "sue"],
        ["lee"],
    )
    assert [i.key for i in request.items] == ["evaluation", "waive edge_cases"]
    assert request.choices == ("approve", "reject")
    assert request.report == "# Evaluation"
