"""Check a submitted form after resume: for this gate? who answered, may they, is it valid?

Prefect validates only the JSON schema and knows no users; these checks are ours. A refused
submission says why without echoing anything a person typed that could be a secret: a
reviewer id is quoted only when it is on the roster (otherwise the reason says "unknown
reviewer id" and the audit keeps a SHA-256 of what was typed), and codes, tokens and notes
are never quoted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from govflow.domain import PersonStatus, may_answer_tier, tier_audience
from govflow.domain.review import ItemDecision, Outcome, ReviewRequest
from govflow.hashing import sha256_text
from govflow.ledger.models import Person, ReviewTask
from govflow.ledger.people import verify_gate_code, verify_token
from govflow.review.form import (
    CODE_FIELD,
    GATE_FIELD,
    MAX_ID_CHARS,
    MAX_NOTE_CHARS,
    NOTE_FIELD,
    REVIEWER_FIELD,
    field_map,
)

__all__ = ["Verdict", "check_submission"]


@dataclass(frozen=True)
class Verdict:
    """The result of checking one submission: decisions, or the reason it was refused.

    ``reviewer_id`` is set only for a reviewer on the roster; ``audit`` is what the audit
    trail may keep about the submission (never a secret).
    """

    reviewer_id: str | None
    decisions: list[ItemDecision] | None
    reason: str | None
    audit: dict[str, Any] = field(default_factory=dict)

    @property
    def is_accepted(self) -> bool:
        return self.decisions is not None


def check_submission(
    *, session: Session, request: ReviewRequest, submission: dict[str, Any], pause_key: str
) -> Verdict:
    """Return the submission's decisions if every rule holds, else the first broken rule.

    ``pause_key`` names the form being answered: the one-time code must be the reviewer's
    code for exactly this form.
    """
    typed_id = str(submission.get(REVIEWER_FIELD) or "").strip()
    person = session.get(Person, typed_id) if 0 < len(typed_id) <= MAX_ID_CHARS else None
    known = person.id if person is not None else None
    audit: dict[str, Any] = {"reviewer_id": known}

    def reject(reason: str, **details: Any) -> Verdict:
        return Verdict(reviewer_id=known, decisions=None, reason=reason, audit=audit | details)

    stale = _stale_form(session, request, submission.get(GATE_FIELD))
    if stale is not None:
        return reject(stale, stale_form=True)
    if not typed_id:
        return reject("no reviewer id given")
    if person is None:
        audit["submitted_id_sha256"] = sha256_text(typed_id)
        return reject("unknown reviewer id")
    if person.status != PersonStatus.ACTIVE:
        return reject(f"reviewer '{person.id}' is {person.status.value}")
    code = str(submission.get(CODE_FIELD) or "").strip()
    if not verify_gate_code(person, pause_key, code):
        if verify_token(person, code):
            return reject(
                f"reviewer '{person.id}' pasted their token instead of this form's one-time "
                f"code: the token is not accepted in forms; get the code with `govflow review "
                f"code`, and rotate the token (`govflow reviewers rotate-token {person.id}`)",
                token_pasted=True,
            )
        if not person.code_key:
            return reject(
                f"reviewer '{person.id}' has no gate codes yet: ask a lead to run "
                f"`govflow reviewers rotate-token {person.id}` and use the new token"
            )
        return reject(f"the one-time code does not match reviewer '{person.id}' for this form")
    if not may_answer_tier(person.roles or [], request.tier):
        roles = ", ".join(person.roles) or "none"
        return reject(
            f"reviewer '{person.id}' (role {roles}) may not decide tier {request.tier} "
            f"gates: {tier_audience(request.tier)} only"
        )
    if request.assignees and person.id not in request.assignees:
        return reject(f"this gate is assigned to {', '.join(request.assignees)} only")
    if person.id in request.submitted_by:
        return reject(f"'{person.id}' submitted this batch and may not decide it")
    conflicted = [item.key for item in request.items if person.id in item.conflicted]
    if conflicted:
        return reject(
            f"'{person.id}' annotated {', '.join(conflicted)} and may not decide "
            f"{'it' if len(conflicted) == 1 else 'them'}"
        )
    note = str(submission.get(NOTE_FIELD) or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        return reject(f"the note has {len(note)} characters; at most {MAX_NOTE_CHARS} are kept")
    items = {item.key: item for item in request.items}
    decisions = []
    for form_field, key in field_map(request).items():
        choice = submission.get(form_field)
        if choice not in request.choices:
            return reject(
                f"no valid choice for item {key} (choose one of {', '.join(request.choices)})"
            )
        decisions.append(
            ItemDecision(
                item_key=key,
                choice=str(choice),
                outcome=Outcome.DECIDED,
                reviewer_id=person.id,
                tier=request.tier,
                note=note or None,
                payload_hash=items[key].payload_hash,
                gate_id=request.gate_id,
            )
        )
    return Verdict(reviewer_id=person.id, decisions=decisions, reason=None, audit=audit)


def _stale_form(session: Session, request: ReviewRequest, submitted: Any) -> str | None:
    """Say why a form built for another gate cannot answer this one (None if it is this one)."""
    if submitted == request.gate_id:
        return None
    asked = ", ".join(item.key for item in request.items)
    other = session.get(ReviewTask, submitted) if isinstance(submitted, str) else None
    if other is None:
        # Quote nothing that was typed: only a gate id the ledger knows is named.
        return (
            f"the form was not built for this gate {request.gate_id} (items {asked}); "
            "answer the form shown now"
        )
    built_for = ", ".join(item["key"] for item in other.items)
    return (
        f"the form was built for gate {other.id} (items {built_for}), not for this gate "
        f"{request.gate_id} (items {asked}); answer the form shown now"
    )
