"""check_submission on a real ledger: every rule a submitted form must pass."""

from __future__ import annotations

import pytest

from govflow.domain import PersonStatus, Role
from govflow.domain.review import Outcome, ReviewItem, ReviewKind, ReviewRequest
from govflow.ledger.people import add_person, set_status
from govflow.review.checks import check_submission


@pytest.fixture
def people(ledger):
    tokens = {}
    with ledger.session() as session:
        for person_id, role in (
            ("ann", Role.ANNOTATOR),
            ("bob", Role.REVIEWER),
            ("rita", Role.REVIEWER),
            ("sam", Role.SPECIALIST),
        ):
            _, tokens[person_id] = add_person(
                session=session, person_id=person_id, display_name=person_id, role=role, actor="t"
            )
        _, tokens["off"] = add_person(
            session=session, person_id="off", display_name="off", role=Role.REVIEWER, actor="t"
        )
        set_status(
            session=session,
            person_id="off",
            status=PersonStatus.DISABLED,
            actor="t",
            reason="left",
        )
    return tokens


def request(**overrides) -> ReviewRequest:
    items = [
        ReviewItem(key="T1", payload={"text": "one"}, conflicted=["ann"]),
        ReviewItem(key="T2", payload={"text": "two"}),
    ]
    return ReviewRequest.model_validate(
        {
            "name": "g",
            "kind": ReviewKind.EDGE_CASE,
            "items": items,
            **overrides,
        }
    )


def submit(ledger, req, **fields):
    with ledger.reader() as session:
        return check_submission(session=session, request=req, submission=fields)


def test_a_valid_submission_becomes_one_decision_per_item(ledger, people):
    req = request()
    verdict = submit(
        ledger,
        req,
        reviewer_id="bob",
        reviewer_token=people["bob"],
        item_01="accept",
        item_02="escalate",
        note=" why ",
    )
    assert verdict.is_accepted and verdict.reason is None
    assert [
        (d.item_key, d.choice, d.outcome, d.reviewer_id, d.tier, d.note) for d in verdict.decisions
    ] == [
        ("T1", "accept", Outcome.DECIDED, "bob", 1, "why"),
        ("T2", "escalate", Outcome.DECIDED, "bob", 1, "why"),
    ]
    assert [d.payload_hash for d in verdict.decisions] == [i.payload_hash for i in req.items]


@pytest.mark.parametrize(
    ("reviewer", "token_of", "overrides", "reason"),
    [
        ("", "bob", {}, "no reviewer id given"),
        ("bob", "rita", {}, "the token does not match reviewer 'bob'"),
        ("off", "off", {}, "reviewer 'off' is disabled"),
        (
            "bob",
            "bob",
            {"tier": 2},
            "reviewer 'bob' (role reviewer) may not decide tier 2 gates: "
            "specialists and leads only",
        ),
        ("bob", "bob", {"assignees": ["rita"]}, "this gate is assigned to rita only"),
        (
            "bob",
            "bob",
            {"submitted_by": ["bob"]},
            "'bob' submitted this batch and may not decide it",
        ),
    ],
)
def test_a_broken_rule_rejects_the_whole_submission(
    ledger, people, reviewer, token_of, overrides, reason
):
    verdict = submit(
        ledger,
        request(**overrides),
        reviewer_id=reviewer,
        reviewer_token=people[token_of],
        item_01="accept",
        item_02="reject",
    )
    assert (verdict.decisions, verdict.reason) == (None, reason)


def test_an_items_annotator_may_not_decide_it(ledger, people):
    conflicted = request(
        items=[
            ReviewItem(key="T1", payload={"text": "one"}, conflicted=["sam"]),
            ReviewItem(key="T2", payload={"text": "two"}, conflicted=["sam"]),
        ]
    )
    refused = submit(
        ledger,
        conflicted,
        reviewer_id="sam",
        reviewer_token=people["sam"],
        item_01="accept",
        item_02="accept",
    )
    assert refused.reason == "'sam' annotated T1, T2 and may not decide them"


def test_a_choice_outside_the_gates_choices_is_rejected(ledger, people):
    verdict = submit(
        ledger,
        request(),
        reviewer_id="bob",
        reviewer_token=people["bob"],
        item_01="accept",
        item_02="maybe",
    )
    assert (
        verdict.reason
        == "'maybe' is not a valid choice for item T2 (choose one of accept, reject, escalate)"
    )
