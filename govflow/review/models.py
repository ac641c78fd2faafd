"""What a gate asks (``ReviewRequest`` of ``ReviewItem``s) and what it returns."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator

from govflow.hashing import content_hash, sha256_text
from govflow.review.kinds import ReviewKind, choices_for

DEFAULT_BATCH_SIZE = 25


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
    tier: int = Field(default=1, ge=1, le=2)
    labels: tuple[str, ...] | None = Field(
        default=None, description="The label set, for contested annotations."
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
    outcome: str
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
