"""The synthetic-sample gate: what people are shown, and what their answers decide.

Sampled rows (``row-<position>``) are shown with their intended label, provenance and
nearest organic neighbour; rows the label checker disagreed with (``label-<position>``) are
their own items. Any sampled row judged ``wrong_label`` or ``unrealistic`` (or left
unchecked at the deadline) quarantines the whole batch with that reason; a disagreement
judged anything but ``accept`` keeps only that row out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from govflow.domain import SyntheticStatus
from govflow.domain.review import GateResult, ReviewItem, ReviewKind, ReviewRequest
from govflow.synthetic.checks import LabelDisagreement
from govflow.synthetic.rows import SyntheticRow
from govflow.synthetic.sampling import SpotCheckChoice

__all__ = ["SpotCheckVerdict", "spot_check_request", "spot_check_verdict"]


def spot_check_request(
    *,
    batch_id: str,
    rows: Sequence[SyntheticRow],
    sampled: Sequence[int],
    disagreements: Sequence[LabelDisagreement],
    nearest: dict[int, tuple[str, float]],
    dataset_version_id: str,
    deadline_hours: float,
    report: str | None = None,
) -> ReviewRequest:
    """Build the gate's request; positions index ``rows`` (the batch as generated)."""

    def payload(position: int) -> dict[str, object]:
        row = rows[position]
        near_text, near_score = nearest.get(position, ("", 0.0))
        return {
            "text": row.text,
            "intended_label": row.label,
            "generator": f"{row.provenance.generator} v{row.provenance.generator_version}",
            "operations": ", ".join(row.provenance.operations),
            "seed_items": ", ".join(item[:12] for item in row.provenance.seed_items),
            "nearest_organic": near_text,
            "nearest_organic_jaccard": near_score,
        }

    # A sampled row the checker disagreed with is asked once, as a sampled row.
    checker = {d.position: d for d in disagreements}
    items = [
        ReviewItem(
            key=f"row-{p}",
            payload=payload(p),
            reasons=["spot_check_sample"] + (["label_checker_disagrees"] if p in checker else []),
            suggestion=checker[p].predicted if p in checker else None,
            confidence=checker[p].confidence if p in checker else None,
        )
        for p in sampled
    ]
    items += [
        ReviewItem(
            key=f"label-{d.position}",
            payload=payload(d.position),
            reasons=["label_checker_disagrees"],
            suggestion=d.predicted,
            confidence=d.confidence,
        )
        for d in disagreements
        if d.position not in set(sampled)
    ]
    return ReviewRequest(
        name=f"synthetic-spot-check-{batch_id}",
        kind=ReviewKind.SYNTHETIC_SAMPLE,
        items=items,
        deadline=timedelta(hours=deadline_hours),
        dataset_version_id=dataset_version_id,
        report=report,
    )


@dataclass(frozen=True)
class SpotCheckVerdict:
    status: SyntheticStatus
    reason: str | None
    choices: dict[int, tuple[str, str | None]]
    rejected_positions: list[int]


def spot_check_verdict(result: GateResult) -> SpotCheckVerdict:
    """Decide the batch from the gate's decisions."""
    choices: dict[int, tuple[str, str | None]] = {}
    defects: list[str] = []
    rejected: list[int] = []
    for decision in result.decisions:
        kind, _, number = decision.item_key.partition("-")
        position = int(number)
        choices[position] = (decision.choice, decision.reviewer_id)
        if decision.choice == SpotCheckChoice.ACCEPT.value:
            continue
        if kind == "row":
            who = decision.reviewer_id or "the deadline policy (nobody answered)"
            note = f": {decision.note}" if decision.note else ""
            defects.append(f"row {position} judged {decision.choice} by {who}{note}")
        else:
            rejected.append(position)
    if defects:
        return SpotCheckVerdict(
            status=SyntheticStatus.QUARANTINED,
            reason="spot-check found a defect: " + "; ".join(defects),
            choices=choices,
            rejected_positions=rejected,
        )
    return SpotCheckVerdict(
        status=SyntheticStatus.ACCEPTED, reason=None, choices=choices, rejected_positions=rejected
    )
