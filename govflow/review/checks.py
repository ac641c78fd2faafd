"""Check a submitted form after resume: who answered, may they, and is every choice valid.

Prefect validates only the JSON schema and knows no users; these checks are ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from govflow.domain import PersonStatus, may_answer_tier, tier_audience
from govflow.domain.review import ItemDecision, Outcome, ReviewRequest
from govflow.errors import NotFound
from govflow.ledger.people import get_person, verify_token
from govflow.review.form import NOTE_FIELD, REVIEWER_FIELD, TOKEN_FIELD, field_map

__all__ = ["Verdict", "check_submission"]


@dataclass(frozen=True)
class Verdict:
    """The result of checking one submission: decisions, or the reason it was rejected."""

    reviewer_id: str
    decisions: list[ItemDecision] | None
    reason: str | None

    @property
    def is_accepted(self) -> bool:
        return self.decisions is not None


def check_submission(
    *, session: Session, request: ReviewRequest, submission: dict[str, Any]
) -> Verdict:
    """Return the submission's decisions if every rule holds, else the first broken rule."""
    reviewer_id = str(submission.get(REVIEWER_FIELD, "")).strip()
    token = str(submission.get(TOKEN_FIELD, ""))

    def reject(reason: str) -> Verdict:
        return Verdict(reviewer_id=reviewer_id, decisions=None, reason=reason)

    if not reviewer_id:
        return reject("no reviewer id given")
    try:
        person = get_person(session=session, person_id=reviewer_id)
    except NotFound:
        return reject(f"unknown reviewer '{reviewer_id}'")
    if person.status != PersonStatus.ACTIVE:
        return reject(f"reviewer '{reviewer_id}' is {person.status.value}")
    if not verify_token(person, token):
        return reject(f"the token does not match reviewer '{reviewer_id}'")
    if not may_answer_tier(person.roles or [], request.tier):
        roles = ", ".join(person.roles) or "none"
        return reject(
            f"reviewer '{reviewer_id}' (role {roles}) may not decide tier {request.tier} "
            f"gates: {tier_audience(request.tier)} only"
        )
    if request.assignees and reviewer_id not in request.assignees:
        return reject(f"this gate is assigned to {', '.join(request.assignees)} only")
    if reviewer_id in request.submitted_by:
        return reject(f"'{reviewer_id}' submitted this batch and may not decide it")
    conflicted = [item.key for item in request.items if reviewer_id in item.conflicted]
    if conflicted:
        return reject(
            f"'{reviewer_id}' annotated {', '.join(conflicted)} and may not decide "
            f"{'it' if len(conflicted) == 1 else 'them'}"
        )
    note = str(submission.get(NOTE_FIELD) or "").strip() or None
    items = {item.key: item for item in request.items}
    decisions = []
    for field, key in field_map(request).items():
        choice = submission.get(field)
        if choice not in request.choices:
            return reject(
                f"'{choice}' is not a valid choice for item {key} "
                f"(choose one of {', '.join(request.choices)})"
            )
        decisions.append(
            ItemDecision(
                item_key=key,
                choice=str(choice),
                outcome=Outcome.DECIDED,
                reviewer_id=reviewer_id,
                tier=request.tier,
                note=note,
                payload_hash=items[key].payload_hash,
                gate_id=request.gate_id,
            )
        )
    return Verdict(reviewer_id=reviewer_id, decisions=decisions, reason=None)
