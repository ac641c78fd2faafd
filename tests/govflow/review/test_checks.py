"""check_submission on a real ledger: every rule a submitted form must pass."""

from __future__ import annotations

import pytest

from govflow.domain import PersonStatus, Role
from govflow.domain.review import Outcome, ReviewItem, ReviewKind, ReviewRequest
from govflow.hashing import sha256_text
from govflow.ledger.people import add_person, gate_code, set_status
from govflow.review.checks import check_submission

KEY = "rt-x-a1"


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


def submit(ledger, req, *, token=None, gate=None, **fields):
    """Submit as the form would: bound to ``req``'s gate, with the code of ``token``."""
    fields = {"gate": gate or req.gate_id, **fields}
    if token is not None:
        fields["reviewer_code"] = gate_code(token, KEY)
    with ledger.reader() as session:
        return check_submission(session=session, request=req, submission=fields, pause_key=KEY)


def test_a_valid_submission_becomes_one_decision_per_item(ledger, people):
    req = request()
    verdict = submit(
        ledger,
        req,
        reviewer_id="bob",
        token=people["bob"],
        item_01="real_weakness",
        item_02="escalate",
        note=" why ",
    )
    assert verdict.is_accepted and verdict.reason is None
    assert [
        (d.item_key, d.choice, d.outcome, d.reviewer_id, d.tier, d.note) for d in verdict.decisions
    ] == [
        ("T1", "real_weakness", Outcome.DECIDED, "bob", 1, "why"),
        ("T2", "escalate", Outcome.DECIDED, "bob", 1, "why"),
    ]
    assert [d.payload_hash for d in verdict.decisions] == [i.payload_hash for i in req.items]


@pytest.mark.parametrize(
    ("reviewer", "token_of", "overrides", "reason"),
    [
        ("", "bob", {}, "no reviewer id given"),
        ("bob", "rita", {}, "the one-time code does not match reviewer 'bob' for this form"),
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
        token=people[token_of],
        item_01="real_weakness",
        item_02="invalid_probe",
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
        token=people["sam"],
        item_01="real_weakness",
        item_02="real_weakness",
    )
    assert refused.reason == "'sam' annotated T1, T2 and may not decide them"


def test_a_choice_outside_the_gates_choices_is_rejected(ledger, people):
    verdict = submit(
        ledger,
        request(),
        reviewer_id="bob",
        token=people["bob"],
        item_01="real_weakness",
        item_02="maybe",
    )
    assert (
        verdict.reason
        == "no valid choice for item T2 (choose one of real_weakness, invalid_probe, escalate)"
    )


def test_a_form_built_for_another_gate_is_refused_naming_that_gate(ledger, people):
    first = request(name="batch-1")
    second = request(
        name="batch-2",
        items=[
            ReviewItem(key="T3", payload={"text": "three"}),
            ReviewItem(key="T4", payload={"text": "four"}),
        ],
    )
    from govflow.ledger.reviews import open_review_task

    with ledger.session() as session:
        open_review_task(session=session, request=first, flow_run_id="r", actor="t")
    verdict = submit(
        ledger,
        second,
        gate=first.gate_id,
        reviewer_id="bob",
        token=people["bob"],
        item_01="real_weakness",
        item_02="real_weakness",
    )
    assert verdict.decisions is None
    assert verdict.reason == (
        f"the form was built for gate {first.gate_id} (items T1, T2), not for this gate "
        f"{second.gate_id} (items T3, T4); answer the form shown now"
    )
    assert verdict.audit == {"reviewer_id": "bob", "stale_form": True}
    typed = submit(ledger, second, gate="my secret", reviewer_id="bob", token=people["bob"])
    assert "my secret" not in typed.reason
    assert typed.reason == (
        f"the form was not built for this gate {second.gate_id} (items T3, T4); "
        "answer the form shown now"
    )


def test_an_unknown_reviewer_id_is_never_echoed_only_hashed(ledger, people):
    pasted = people["rita"]  # a token typed into the id field by mistake
    verdict = submit(ledger, request(), reviewer_id=pasted, token=people["bob"])
    assert (verdict.reviewer_id, verdict.reason) == (None, "unknown reviewer id")
    assert verdict.audit == {"reviewer_id": None, "submitted_id_sha256": sha256_text(pasted)}
    assert pasted not in repr(verdict)


def test_a_token_pasted_into_the_code_field_is_refused_and_flagged(ledger, people):
    verdict = submit(
        ledger,
        request(),
        reviewer_id="bob",
        reviewer_code=people["bob"],
        item_01="real_weakness",
        item_02="invalid_probe",
    )
    assert verdict.decisions is None
    assert verdict.reason.startswith(
        "reviewer 'bob' pasted their token instead of this form's one-time code"
    )
    assert people["bob"] not in verdict.reason
    assert verdict.audit == {"reviewer_id": "bob", "token_pasted": True}


def test_a_code_for_another_form_does_not_answer_this_one(ledger, people):
    other = gate_code(people["bob"], "rt-x-a2")
    verdict = submit(
        ledger,
        request(),
        reviewer_id="bob",
        reviewer_code=other,
        item_01="real_weakness",
        item_02="real_weakness",
    )
    assert verdict.reason == "the one-time code does not match reviewer 'bob' for this form"


def test_a_note_over_the_cap_is_refused_with_its_length(ledger, people):
    verdict = submit(
        ledger,
        request(),
        reviewer_id="bob",
        token=people["bob"],
        item_01="real_weakness",
        item_02="real_weakness",
        note="x" * 1_000_000,
    )
    assert verdict.reason == "the note has 1000000 characters; at most 2000 are kept"
