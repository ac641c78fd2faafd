"""Route contested and audit-sampled items to people, and apply what they decided.

Pure: builds the contested-annotation and guideline-approval requests, and combines
consensus with the gate's decisions into one final label per item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from govflow.annotation.consensus import ItemConsensus, RoundConsensus
from govflow.annotation.labeled import FinalLabel
from govflow.domain import LabelSource, LabelStatus
from govflow.domain.review import (
    POLICIES,
    GateResult,
    Outcome,
    ReviewItem,
    ReviewKind,
    ReviewRequest,
    Vote,
)

__all__ = [
    "AUDIT_REASON",
    "DraftInfo",
    "annotation_step",
    "contested_request",
    "decided_by_people",
    "final_labels",
    "promotion_request",
    "round_counts",
    "status_counts",
    "votes_by_item",
]

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
            final[entry.item] = FinalLabel(
                None, LabelStatus.HELD_FOR_REANNOTATION, LabelSource.TIER2
            )
        elif decision is not None:
            timed_out = decision.outcome is Outcome.TIMED_OUT
            source = LabelSource.DEADLINE if timed_out else LabelSource.for_tier(decision.tier)
            if decision.choice == excluded_choice:
                status = (
                    LabelStatus.EXCLUDED_AT_DEADLINE
                    if timed_out
                    else LabelStatus.EXCLUDED_BY_REVIEW
                )
                final[entry.item] = FinalLabel(None, status, source, decision.reviewer_id)
            else:
                if not entry.contested and decision.choice != entry.label:
                    overrides += 1
                final[entry.item] = FinalLabel(
                    decision.choice, LabelStatus.ACCEPTED, source, decision.reviewer_id
                )
        elif entry.contested or entry.label is None:
            final[entry.item] = FinalLabel(None, LabelStatus.NO_CONSENSUS, LabelSource.CONSENSUS)
        else:
            final[entry.item] = FinalLabel(entry.label, LabelStatus.ACCEPTED, LabelSource.CONSENSUS)
    return final, overrides


def decided_by_people(final: dict[str, FinalLabel]) -> int:
    """Count the items whose label a person settled at a gate (not consensus, not deadline)."""
    return sum(1 for f in final.values() if f.source in (LabelSource.TIER1, LabelSource.TIER2))


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


def status_counts(frame: Any) -> dict[str, int]:
    """Count the labeled frame's rows per ``label_status``, sorted by status."""
    counts = frame["label_status"].value_counts().sort_index().to_dict()
    return {str(k): int(v) for k, v in counts.items()}


def round_counts(
    frame: Any, *, consensus: RoundConsensus, items: int, audited: list[str], overrides: int
) -> dict[str, int]:
    """The routing counts a round reports: items, contested, audited, overrides, statuses."""
    return {
        "items": items,
        "contested": consensus.statistics["contested"],
        "audited": len(audited),
        "audit_overrides": overrides,
        **{f"status {k}": v for k, v in status_counts(frame).items()},
    }


def annotation_step(
    *,
    round_id: str,
    guideline_id: str,
    method: str,
    gate_id: str | None,
    needs_calibration: list[str],
    draft_guideline_id: str | None,
    reannotation_round_id: str | None,
) -> dict[str, Any]:
    """The lineage step of an ``annotated`` version: how its labels came about."""
    return {
        "step": "annotation",
        "round_id": round_id,
        "guideline_version_id": guideline_id,
        "method": method,
        "review_gate": gate_id,
        "needs_calibration": needs_calibration,
        "draft_guideline_id": draft_guideline_id,
        "reannotation_round_id": reannotation_round_id,
    }
