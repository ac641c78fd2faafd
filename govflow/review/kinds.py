"""Kinds of review questions, their choices and what happens when nobody answers."""

from __future__ import annotations

import enum
from dataclasses import dataclass

ESCALATE = "escalate"


class ReviewKind(enum.StrEnum):
    CONTESTED_ANNOTATION = "contested_annotation"
    EDGE_CASE = "edge_case"
    PRODUCTION_OUTPUT = "production_output"
    VALIDATION_FAILURE = "validation_failure"
    SYNTHETIC_SAMPLE = "synthetic_sample"
    EVALUATION_SIGNOFF = "evaluation_signoff"
    PROMOTION_APPROVAL = "promotion_approval"


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
        question="Decide whether each edge case is acceptable.",
        choices=("accept", "reject"),
        timeout_choice="reject",
        timeout_meaning="the edge case is rejected",
    ),
    ReviewKind.PRODUCTION_OUTPUT: KindPolicy(
        question="Approve or reject each production output.",
        choices=("approve", "reject"),
        timeout_choice="reject",
        timeout_meaning="the output is withheld",
    ),
    ReviewKind.VALIDATION_FAILURE: KindPolicy(
        question="The batch failed validation: continue with the clean rows, waive, or abort.",
        choices=("continue_clean", "waive", "abort"),
        timeout_choice="abort",
        timeout_meaning="the batch is aborted and not promoted",
    ),
    ReviewKind.SYNTHETIC_SAMPLE: KindPolicy(
        question="Accept or reject each synthetic sample.",
        choices=("accept", "reject"),
        timeout_choice="reject",
        timeout_meaning="the synthetic sample is discarded",
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
}

MAX_TIER = 2


def choices_for(
    kind: ReviewKind, tier: int, labels: tuple[str, ...] | None = None
) -> tuple[str, ...]:
    """Return the choices a reviewer has at ``tier``: escalation only below the top tier."""
    policy = POLICIES[kind]
    base = tuple(labels) if kind is ReviewKind.CONTESTED_ANNOTATION else policy.choices
    if kind is ReviewKind.CONTESTED_ANNOTATION:
        if not base:
            raise ValueError("a contested-annotation gate needs the guideline's label set")
        base = (*base, policy.timeout_choice)
    if policy.allows_escalation and tier < MAX_TIER:
        return (*base, ESCALATE)
    return base
