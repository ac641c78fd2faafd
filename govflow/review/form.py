"""The per-gate form (a Prefect ``RunInput`` built from the items) and its description."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Literal

from govflow.domain import tier_audience
from govflow.domain.review import ESCALATE, POLICIES, ReviewItem, ReviewKind, ReviewRequest
from govflow.hashing import canonical_time

__all__ = [
    "NOTE_FIELD",
    "REVIEWER_FIELD",
    "TOKEN_FIELD",
    "build_input_model",
    "field_map",
    "item_field",
    "render_description",
]

REVIEWER_FIELD = "reviewer_id"
TOKEN_FIELD = "reviewer_token"
NOTE_FIELD = "note"


def item_field(index: int) -> str:
    """Return the form field name of the item at ``index`` (stable: order of the request)."""
    return f"item_{index + 1:02d}"


def field_map(request: ReviewRequest) -> dict[str, str]:
    """Map form field names to item keys."""
    return {item_field(i): item.key for i, item in enumerate(request.items)}


def build_input_model(request: ReviewRequest, description: str) -> type:
    """Build the gate's ``RunInput``: reviewer id, token, note, and one choice per item."""
    from prefect.input import RunInput
    from pydantic import Field, create_model

    choice_type = Literal[request.choices]  # type: ignore[valid-type]
    fields: dict[str, Any] = {
        REVIEWER_FIELD: (str, Field(title="Reviewer id", description="Your govflow id.")),
        TOKEN_FIELD: (
            str,
            Field(
                title="Reviewer token", description="The token `govflow reviewers add` gave you."
            ),
        ),
    }
    for index, item in enumerate(request.items):
        fields[item_field(index)] = (
            choice_type,
            Field(title=f"{index + 1}. {item.key}", description=_md_cell(item.excerpt(140))),
        )
    fields[NOTE_FIELD] = (str, Field(default="", title="Note", description=_note_help(request)))
    model = create_model(f"Gate_{request.gate_id.replace('-', '_')}", __base__=RunInput, **fields)
    return model.with_initial_data(description=description)


def _note_help(request: ReviewRequest) -> str:
    if request.kind is ReviewKind.CONTESTED_ANNOTATION and request.tier >= 2:
        return (
            "Optional. Start with 'clarify:' to propose a guideline clarification: it drafts "
            "a new guideline version for a lead to approve and queues similar items for "
            "re-annotation."
        )
    return "Optional: why, or context for tier 2."


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _votes(item: ReviewItem) -> str:
    if not item.votes:
        return "-"
    parts = []
    for vote in item.votes:
        reliability = f" ({vote.reliability:.2f})" if vote.reliability is not None else ""
        parts.append(f"{vote.annotator_id}: {vote.label}{reliability}")
    return _md_cell(", ".join(parts))


def _suggestion(item: ReviewItem) -> str:
    if item.suggestion is None:
        return "-"
    confidence = f" ({item.confidence:.2f})" if item.confidence is not None else ""
    return _md_cell(f"{item.suggestion}{confidence}")


def render_description(
    request: ReviewRequest, *, due: datetime, rejection: str | None = None
) -> str:
    """Render the Markdown shown above the form: what, why, who, until when, the items."""
    policy = POLICIES[request.kind]
    lines: list[str] = []
    if rejection:
        lines += [
            f"> **Your previous submission was rejected:** {rejection}. Please answer again.",
            "",
        ]
    title = request.kind.value.replace("_", " ").capitalize()
    lines += [
        f"### {title} · tier {request.tier} · gate `{request.gate_id}`",
        "",
        policy.question,
        "",
    ]
    reasons = Counter(reason for item in request.items for reason in item.reasons)
    if reasons:
        listed = ", ".join(f"{reason} ({count})" for reason, count in sorted(reasons.items()))
        lines.append(f"**Why you are asked:** {listed}  ")
    if request.tier == 1 and policy.escalate_on_timeout:
        fallback = "escalated to tier 2 (specialists)"
    else:
        fallback = f"`{policy.timeout_choice}`: {policy.timeout_meaning}"
    lines.append(f"**Deadline:** {canonical_time(due)[:16]} UTC; if nobody answers: {fallback}  ")
    if request.guideline_version_id:
        guide = f"`{request.guideline_version_id}`"
        if request.guideline_link:
            guide = f"[{request.guideline_version_id}]({request.guideline_link})"
        lines.append(f"**Guideline in force:** {guide}  ")
    audience = tier_audience(request.tier)
    if request.assignees:
        audience = "only " + ", ".join(request.assignees)
    lines.append(f"**Who may answer:** {audience}  ")
    lines.append(f"**Choices:** {', '.join(f'`{c}`' for c in request.choices)}")
    if ESCALATE in request.choices:
        lines.append("(`escalate` sends the item to a specialist with your note)")
    if request.kind is ReviewKind.CONTESTED_ANNOTATION and request.tier >= 2:
        lines.append(
            "(start your note with `clarify:` to propose a guideline clarification: a lead "
            "approves it, and items with the same dispute are queued for re-annotation)"
        )
    if request.guideline_excerpt:
        lines += ["", "> " + _md_cell(request.guideline_excerpt)]
    lines += [
        "",
        "| # | item | content | votes | suggestion | failing checks | reasons |",
        "|---|---|---|---|---|---|---|",
    ]
    for index, item in enumerate(request.items):
        lines.append(
            f"| {index + 1} | {_md_cell(item.key)} | {_md_cell(item.excerpt())} | "
            f"{_votes(item)} | {_suggestion(item)} | "
            f"{_md_cell(', '.join(item.failing_checks)) or '-'} | "
            f"{_md_cell(', '.join(item.reasons)) or '-'} |"
        )
    context = [item for item in request.items if item.context]
    if context:
        lines += ["", "**Notes from tier 1:**"]
        lines += [f"- {item.key}: {_md_cell(item.context or '')}" for item in context]
    lines += [
        "",
        "Enter your reviewer id and token, choose for every item, add a note if useful, and "
        "submit. The token is checked, then deleted from the run's stored input.",
    ]
    return "\n".join(lines)
