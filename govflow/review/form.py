"""The per-gate form (a Prefect ``RunInput`` built from the items) and its description.

The form binds a submission to its gate: a ``gate`` field filled in with the gate's id (which
is derived from its items) travels with every answer, so a form left open while its gate
was answered and the next batch opened is refused instead of deciding items its reviewer
never saw. Reviewers prove who they are with a one-time code (``govflow.ledger.people``),
never with their token. Everything shown that did not come from govflow itself (item
content, keys, votes, notes, guideline text, rejection reasons) is escaped, so Markdown in
data renders as text: no headings, links or images can be injected into a form.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Literal

from govflow.domain import tier_audience
from govflow.domain.review import ESCALATE, POLICIES, ReviewItem, ReviewKind, ReviewRequest
from govflow.hashing import canonical_time
from govflow.reports.markdown import md_text

__all__ = [
    "CODE_FIELD",
    "GATE_FIELD",
    "MAX_ID_CHARS",
    "MAX_NOTE_CHARS",
    "NOTE_FIELD",
    "REVIEWER_FIELD",
    "build_input_model",
    "field_map",
    "item_field",
    "md_text",
    "render_description",
]

GATE_FIELD = "gate"
REVIEWER_FIELD = "reviewer_id"
CODE_FIELD = "reviewer_code"
NOTE_FIELD = "note"
MAX_NOTE_CHARS = 2000  # a note is a reason, not a document: longer ones are refused
MAX_ID_CHARS = 100  # reviewer ids are at most 100 characters (govflow.ledger.people)


def item_field(index: int) -> str:
    """Return the form field name of the item at ``index`` (stable: order of the request)."""
    return f"item_{index + 1:02d}"


def field_map(request: ReviewRequest) -> dict[str, str]:
    """Map form field names to item keys."""
    return {item_field(i): item.key for i, item in enumerate(request.items)}


def build_input_model(request: ReviewRequest, description: str, *, flow_run_id: str) -> type:
    """Build the gate's ``RunInput``: gate, reviewer id, code, one choice per item, a note."""
    from prefect.input import RunInput
    from pydantic import Field, create_model

    choice_type = Literal[request.choices]  # type: ignore[valid-type]
    fields: dict[str, Any] = {
        GATE_FIELD: (
            str,
            Field(
                default=request.gate_id,
                max_length=64,
                title="Gate",
                description="Filled in for you: it ties your answers to this gate's items. "
                "Leave it as it is.",
            ),
        ),
        REVIEWER_FIELD: (
            str,
            Field(max_length=MAX_ID_CHARS, title="Reviewer id", description="Your govflow id."),
        ),
        CODE_FIELD: (
            str,
            Field(
                max_length=64,
                title="One-time code",
                description=f"Run `govflow review code {flow_run_id} --token-file YOUR_TOKEN` "
                "and paste the code it prints: it is valid for this form only. Never paste "
                "your token here.",
                json_schema_extra={"format": "password"},
            ),
        ),
    }
    for index, item in enumerate(request.items):
        fields[item_field(index)] = (
            choice_type,
            Field(title=f"{index + 1}. {item.key}", description=md_text(item.excerpt(140))),
        )
    fields[NOTE_FIELD] = (
        str,
        Field(
            default="",
            max_length=MAX_NOTE_CHARS,
            title="Note",
            description=_note_help(request),
        ),
    )
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


def _votes(item: ReviewItem) -> str:
    if not item.votes:
        return "-"
    parts = []
    for vote in item.votes:
        reliability = f" ({vote.reliability:.2f})" if vote.reliability is not None else ""
        parts.append(f"{vote.annotator_id}: {vote.label}{reliability}")
    return md_text(", ".join(parts))


def _suggestion(item: ReviewItem) -> str:
    if item.suggestion is None:
        return "-"
    confidence = f" ({item.confidence:.2f})" if item.confidence is not None else ""
    return md_text(f"{item.suggestion}{confidence}")


def render_description(
    request: ReviewRequest, *, due: datetime, rejection: str | None = None
) -> str:
    """Render the Markdown shown above the form: what, why, who, until when, the items."""
    policy = POLICIES[request.kind]
    lines: list[str] = []
    if rejection:
        lines += [
            f"> **Your previous submission was rejected:** {md_text(rejection)}. "
            "Please answer again.",
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
        lines.append(f"**Why you are asked:** {md_text(listed)}  ")
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
        audience = "only " + md_text(", ".join(request.assignees))
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
        lines += ["", "> " + md_text(request.guideline_excerpt)]
    if request.report:
        # Composed by govflow; every piece of data in it was escaped where it was built.
        lines += ["", request.report.rstrip()]
    lines += [
        "",
        "| # | item | content | votes | suggestion | failing checks | reasons |",
        "|---|---|---|---|---|---|---|",
    ]
    for index, item in enumerate(request.items):
        lines.append(
            f"| {index + 1} | {md_text(item.key)} | {md_text(item.excerpt())} | "
            f"{_votes(item)} | {_suggestion(item)} | "
            f"{md_text(', '.join(item.failing_checks)) or '-'} | "
            f"{md_text(', '.join(item.reasons)) or '-'} |"
        )
    context = [item for item in request.items if item.context]
    if context:
        lines += ["", "**Notes from tier 1:**"]
        lines += [f"- {item.key}: {md_text(item.context or '')}" for item in context]
    lines += [
        "",
        "Enter your reviewer id and this form's one-time code, choose for every item, add a "
        f"note if useful (at most {MAX_NOTE_CHARS} characters), and submit.",
    ]
    return "\n".join(lines)
