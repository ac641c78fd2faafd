"""Review questions and answers: kinds, their policies, and the models gates exchange.

A gate asks people a ``ReviewRequest`` (a batch of ``ReviewItem``s of one ``ReviewKind``)
and returns a ``GateResult`` with one ``ItemDecision`` per item. The ledger stores both
(``govflow.ledger.reviews``); the gate machinery (``govflow.review``) asks and checks.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator

from govflow.domain import MAX_TIER
from govflow.hashing import content_hash, sha256_text

__all__ = [
    "CORRECT",
    "DEFAULT_BATCH_SIZE",
    "ESCALATE",
    "POLICIES",
    "GateResult",
    "ItemDecision",
    "KindPolicy",
    "Outcome",
    "ReviewItem",
    "ReviewKind",
    "ReviewRequest",
    "Vote",
    "choices_for",
]

ESCALATE = "escalate"
CORRECT = "correct:"  # a production-output choice: correct:<label> gives the right label
DEFAULT_BATCH_SIZE = 25


class ReviewKind(enum.StrEnum):
    CONTESTED_ANNOTATION = "contested_annotation"
    EDGE_CASE = "edge_case"
    PRODUCTION_OUTPUT = "production_output"
    VALIDATION_FAILURE = "validation_failure"
    SYNTHETIC_SAMPLE = "synthetic_sample"
    CAP_WAIVER = "cap_waiver"
    EVALUATION_SIGNOFF = "evaluation_signoff"
    PROMOTION_APPROVAL = "promotion_approval"
    LABEL_AUDIT = "label_audit"


class Outcome(enum.StrEnum):
    """How an item's final decision came about."""

    DECIDED = "decided"  # a person chose
    TIMED_OUT = "timed_out"  # nobody answered by the last tier's deadline: the default applied


@dataclass(frozen=True)
class KindPolicy:
    """A kind's choices, its conservative default, and whether a deadline escalates first."""

    question: str
    choices: tuple[str, ...]
    timeout_choice: str
    timeout_meaning: str
    escalate_on_timeout: bool = True
    allows_escalation: bool = True


POLICIES: dict[ReviewKind, KindPolicy] = {
    ReviewKind.CONTESTED_ANNOTATION: KindPolicy(
        question="Choose the correct label for each contested item.",
        choices=(),  # the guideline's label set, supplied per gate
        timeout_choice="exclude",
        timeout_meaning="the item is excluded from the curated dataset",
    ),
    ReviewKind.EDGE_CASE: KindPolicy(
        question=(
            "Judge each edge case (a red-team finding): a real weakness of the model joins "
            "the evaluation suite's edge cases; an invalid probe is set aside."
        ),
        choices=("real_weakness", "invalid_probe"),
        # Unjudged weaknesses are kept: the benchmark gets harder, never silently easier.
        timeout_choice="real_weakness",
        timeout_meaning="the finding is kept as a real weakness and joins the edge cases",
    ),
    ReviewKind.PRODUCTION_OUTPUT: KindPolicy(
        question=(
            "Judge each production output: approve the model's label, correct it "
            "(`correct:<label>`), or withhold the output."
        ),
        choices=("approve", "withhold"),  # plus correct:<label> per label, supplied per gate
        # Nobody answering never approves an output.
        timeout_choice="withhold",
        timeout_meaning="the output is withheld, never approved",
    ),
    ReviewKind.VALIDATION_FAILURE: KindPolicy(
        question="The batch failed validation: continue with the clean rows, waive, or abort.",
        choices=("continue_clean", "waive", "abort"),
        timeout_choice="abort",
        timeout_meaning="the batch is aborted and not promoted",
    ),
    ReviewKind.SYNTHETIC_SAMPLE: KindPolicy(
        question=(
            "Spot-check each synthetic row against its intended label and its nearest organic "
            "neighbour: accept it, or say it has the wrong label or is unrealistic. One defect "
            "fails the batch."
        ),
        choices=("accept", "wrong_label", "unrealistic"),
        timeout_choice="unchecked",
        timeout_meaning="nobody checked the row: the batch is quarantined as a whole",
    ),
    ReviewKind.CAP_WAIVER: KindPolicy(
        question=(
            "The mix exceeds the plan's synthetic-share cap: waive the cap for this mix "
            "(until the waiver expires) or refuse it."
        ),
        choices=("waive", "refuse"),
        timeout_choice="refuse",
        timeout_meaning="the cap holds and no mixed version is built",
        allows_escalation=False,
    ),
    ReviewKind.EVALUATION_SIGNOFF: KindPolicy(
        question="Sign off the evaluation results or reject them.",
        choices=("approve", "reject"),
        timeout_choice="reject",
        timeout_meaning="the evaluation is not signed off",
    ),
    ReviewKind.PROMOTION_APPROVAL: KindPolicy(
        question="Approve or reject the promotion.",
        choices=("approve", "reject"),
        timeout_choice="reject",
        timeout_meaning="nothing is promoted",
    ),
    ReviewKind.LABEL_AUDIT: KindPolicy(
        question=(
            "Give the correct label of each sampled item (its recorded label is shown), or "
            "`unjudged` if it cannot be told."
        ),
        choices=("unjudged",),  # after the label set, supplied per gate
        timeout_choice="unjudged",
        timeout_meaning="the item is not counted in the label error rate",
        escalate_on_timeout=False,
        allows_escalation=False,
    ),
}


def choices_for(
    kind: ReviewKind, tier: int, labels: tuple[str, ...] | None = None
) -> tuple[str, ...]:
    """Return the choices a reviewer has at ``tier``: escalation only below the top tier."""
    policy = POLICIES[kind]
    base = tuple(labels) if kind is ReviewKind.CONTESTED_ANNOTATION else policy.choices
    if kind is ReviewKind.LABEL_AUDIT:
        if not labels:
            raise ValueError("a label-audit gate needs the project's label set")
        base = (*labels, *policy.choices)
    if kind is ReviewKind.PRODUCTION_OUTPUT:
        if not labels:
            raise ValueError("a production-output gate needs the model's label set")
        base = (*base, *(f"{CORRECT}{label}" for label in labels))
    if kind is ReviewKind.CONTESTED_ANNOTATION:
        if not base:
            raise ValueError("a contested-annotation gate needs the guideline's label set")
        base = (*base, policy.timeout_choice)
    if policy.allows_escalation and tier < MAX_TIER:
        return (*base, ESCALATE)
    return base


class Vote(BaseModel):
    annotator_id: str
    label: str
    reliability: float | None = None


class ReviewItem(BaseModel):
    """One thing a person must decide, with everything they need to see to decide it."""

    key: str = Field(min_length=1, max_length=200, description="Stable id of the item.")
    payload: dict[str, Any] = Field(description="The content shown; its hash is recorded.")
    reasons: list[str] = Field(default_factory=list, description="Why it needs a person.")
    votes: list[Vote] = Field(default_factory=list)
    suggestion: str | None = None
    confidence: float | None = None
    failing_checks: list[str] = Field(default_factory=list)
    conflicted: list[str] = Field(
        default_factory=list, description="People who may not decide it (e.g. its annotators)."
    )
    context: str | None = Field(default=None, description="Note carried from a lower tier.")

    @property
    def payload_hash(self) -> str:
        return content_hash(self.payload)

    def excerpt(self, limit: int = 90) -> str:
        text = self.payload.get("text")
        if not isinstance(text, str):
            text = ", ".join(f"{k}={v}" for k, v in self.payload.items())
        text = " ".join(text.split())
        return text if len(text) <= limit else text[: limit - 1] + "…"


class ReviewRequest(BaseModel):
    """A question for people about a batch of items."""

    name: str = Field(min_length=1, max_length=100, description="The gate's name in its flow.")
    kind: ReviewKind
    items: list[ReviewItem] = Field(min_length=1)
    tier: int = Field(default=1, ge=1, le=MAX_TIER)
    labels: tuple[str, ...] | None = Field(
        default=None,
        description="The label set, for contested annotations and production outputs.",
    )
    deadline: timedelta = Field(default=timedelta(days=2), gt=timedelta(0))
    assignees: list[str] = Field(
        default_factory=list, description="If set, only these people may answer."
    )
    submitted_by: list[str] = Field(
        default_factory=list, description="Who submitted the batch; they may not decide it."
    )
    dataset_version_id: str | None = None
    guideline_version_id: str | None = None
    guideline_excerpt: str | None = None
    guideline_link: str | None = None
    report: str | None = Field(
        default=None, description="Markdown govflow composed (data escaped), shown above the items."
    )
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, le=100)

    @field_validator("items")
    @classmethod
    def _unique_keys(cls, items: list[ReviewItem]) -> list[ReviewItem]:
        keys = [item.key for item in items]
        if len(set(keys)) != len(keys):
            raise ValueError("item keys must be unique within a review request")
        return items

    @property
    def choices(self) -> tuple[str, ...]:
        return choices_for(self.kind, self.tier, self.labels)

    @property
    def reasons(self) -> list[str]:
        """Every distinct reason any item is asked, sorted."""
        return sorted({reason for item in self.items for reason in item.reasons})

    @property
    def payload_hash(self) -> str:
        """Hash of exactly what is shown: kind, tier, choices and every item."""
        return content_hash(
            {
                "kind": self.kind.value,
                "tier": self.tier,
                "choices": list(self.choices),
                "items": [item.model_dump(mode="json") for item in self.items],
                "guideline_version_id": self.guideline_version_id,
            }
        )

    @property
    def gate_id(self) -> str:
        """Stable id of this question: the same request in any run is the same gate."""
        return "rt-" + sha256_text(f"{self.name}\n{self.payload_hash}")[:24]

    def batches(self) -> list[ReviewRequest]:
        """Split into requests of at most ``batch_size`` items (one form each)."""
        if len(self.items) <= self.batch_size:
            return [self]
        return [
            self.model_copy(
                update={
                    "name": f"{self.name}-b{index + 1}",
                    "items": self.items[start : start + self.batch_size],
                }
            )
            for index, start in enumerate(range(0, len(self.items), self.batch_size))
        ]

    def due(self, opened_at: datetime) -> datetime:
        return opened_at + self.deadline


class ItemDecision(BaseModel):
    """The final decision on one item, as recorded in the ledger."""

    item_key: str
    choice: str
    outcome: Outcome
    reviewer_id: str | None
    tier: int
    note: str | None = None
    payload_hash: str
    gate_id: str


class GateResult(BaseModel):
    """Everything a flow needs after a gate: one final decision per item."""

    gate_id: str
    kind: ReviewKind
    decisions: list[ItemDecision]

    def choice_of(self, item_key: str) -> str:
        for decision in self.decisions:
            if decision.item_key == item_key:
                return decision.choice
        raise KeyError(item_key)

    def by_choice(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for decision in self.decisions:
            grouped.setdefault(decision.choice, []).append(decision.item_key)
        return grouped

    @property
    def reviewers(self) -> list[str]:
        """The people who decided (deadline decisions name nobody), sorted."""
        return sorted({d.reviewer_id for d in self.decisions if d.reviewer_id})
