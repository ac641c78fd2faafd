"""Route contested and audit-sampled items to people, and apply what they decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from govflow.annotation.consensus import ItemConsensus, RoundConsensus
from govflow.review.kinds import POLICIES, ReviewKind
from govflow.review.models import GateResult, ReviewItem, ReviewRequest, Vote
from govflow.stages.labeled import ACCEPTED, FinalLabel

AUDIT_REASON = "random audit sample"


def contested_request(
    *,
    round_id: str,
    consensus: RoundConsensus,
    audited: list[str],
    records: dict[str, dict[str, Any]],
    keys: dict[str, str],
    label_set: list[str],
    version_id: str,
    guideline_id: str,
    guideline_excerpt: str,
    deadline_hours: float,
) -> ReviewRequest | None:
    """One request holding every contested item and the audit sample (None if empty).

    Each item shows its text, each vote with the annotator's agreement with consensus, the
    machine's suggestion and why it is asked; its annotators may not decide it.
    """
    entries = consensus.by_item()
    chosen = [e for e in consensus.items if e.contested] + [
        entries[item] for item in audited if not entries[item].contested
    ]
    if not chosen:
        return None
    items = [
        ReviewItem(
            key=keys[entry.item],
            payload=records[entry.item],
            reasons=entry.reasons if entry.contested else [AUDIT_REASON],
            votes=[
                Vote(
                    annotator_id=annotator,
                    label=label,
                    reliability=_rounded(consensus.reliability.get(annotator)),
                )
                for annotator, label in entry.votes
            ],
            suggestion=entry.label,
            confidence=_rounded(entry.confidence),
            conflicted=sorted({annotator for annotator, _ in entry.votes}),
        )
        for entry in chosen
    ]
    return ReviewRequest(
        name=f"contested-{round_id}",
        kind=ReviewKind.CONTESTED_ANNOTATION,
        items=items,
        labels=tuple(label_set),
        deadline=timedelta(hours=deadline_hours),
        dataset_version_id=version_id,
        guideline_version_id=guideline_id,
        guideline_excerpt=guideline_excerpt,
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def final_labels(
    consensus: RoundConsensus,
    gate: GateResult | None,
    keys: dict[str, str],
    held: set[str],
) -> tuple[dict[str, FinalLabel], int]:
    """Combine consensus and decisions into one final label per item; count audit overrides.

    A person's label wins over consensus; ``exclude`` (chosen, or applied at the deadline)
    keeps the item out; items queued for re-annotation are held; nothing contested is ever
    accepted without a decision.
    """
    decided = {}
    if gate is not None:
        by_key = {d.item_key: d for d in gate.decisions}
        decided = {item: by_key[key] for item, key in keys.items() if key in by_key}
    excluded_choice = POLICIES[ReviewKind.CONTESTED_ANNOTATION].timeout_choice
    final: dict[str, FinalLabel] = {}
    overrides = 0
    for entry in consensus.items:
        decision = decided.get(entry.item)
        if entry.item in held:
            final[entry.item] = FinalLabel(None, "held_for_reannotation", "tier2")
        elif decision is not None:
            source = "deadline" if decision.outcome == "timed_out" else f"tier{decision.tier}"
            if decision.choice == excluded_choice:
                status = "excluded_at_deadline" if source == "deadline" else "excluded_by_review"
                final[entry.item] = FinalLabel(None, status, source, decision.reviewer_id)
            else:
                if not entry.contested and decision.choice != entry.label:
                    overrides += 1
                final[entry.item] = FinalLabel(
                    decision.choice, ACCEPTED, source, decision.reviewer_id
                )
        elif entry.contested or entry.label is None:
            final[entry.item] = FinalLabel(None, "no_consensus", "consensus")
        else:
            final[entry.item] = FinalLabel(entry.label, ACCEPTED, "consensus")
    return final, overrides


def votes_by_item(entries: list[ItemConsensus]) -> dict[str, list[str]]:
    return {e.item: [label for _, label in e.votes] for e in entries}


@dataclass(frozen=True)
class DraftInfo:
    """A drafted guideline version and who may publish it."""

    id: str
    version: int
    diff: str
    leads: list[str]


def promotion_request(
    draft: DraftInfo,
    *,
    project: str,
    version_id: str,
    submitted_by: list[str],
    deadline_hours: float,
) -> ReviewRequest:
    """The promotion-approval gate for a drafted guideline version: leads only."""
    return ReviewRequest(
        name=f"promote-{draft.id}",
        kind=ReviewKind.PROMOTION_APPROVAL,
        items=[
            ReviewItem(
                key=f"{project}-v{draft.version}",
                payload={"text": draft.diff, "project": project, "version": draft.version},
                reasons=["guideline clarification from a specialist"],
            )
        ],
        assignees=draft.leads,
        submitted_by=submitted_by,
        deadline=timedelta(hours=deadline_hours),
        dataset_version_id=version_id,
        guideline_version_id=draft.id,
    )
