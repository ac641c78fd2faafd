"""A checkpoint's verdict on a batch: turn a failure into a question and apply the answer.

``failing_checks`` lists why a validated batch stopped, ``validation_failure_request``
asks people about it, ``decide_batch`` applies their answer (abort wins; waived checks stop
counting; clean rows go on) and ``quarantine_step`` describes the result for lineage.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

from govflow.domain.review import GateResult, ReviewItem, ReviewKind, ReviewRequest
from govflow.errors import BatchAborted
from govflow.validation.checkpoint import ValidationOutcome

__all__ = [
    "EMPTY_ITEM",
    "THRESHOLD_ITEM",
    "TOTAL_ITEM",
    "BatchAction",
    "BatchDecision",
    "Upstream",
    "abort_if_aborted",
    "decide_batch",
    "failing_checks",
    "needs_people",
    "quarantine_step",
    "validation_failure_request",
]

THRESHOLD_ITEM = "quarantine_rate"  # the suite's own quarantine rate
TOTAL_ITEM = "total_quarantine_rate"  # every quarantine of the batch, acquisition included
EMPTY_ITEM = "no_rows"  # nothing reached the checkpoint: never a quiet success
_BATCH_ITEMS = frozenset({THRESHOLD_ITEM, TOTAL_ITEM, EMPTY_ITEM})


@dataclass(frozen=True)
class Upstream:
    """Rows of the batch quarantined before this checkpoint (at acquisition), and the limit.

    ``threshold`` is the dataset config's ``quarantine_threshold``: it applies to every
    quarantine of the batch taken together, out of the rows read.
    """

    rows_read: int
    quarantined: int
    threshold: float


class BatchAction(enum.StrEnum):
    CONTINUE = "continue"  # clean rows go on (nothing failed, or a person said so)
    ABORT = "abort"


@dataclass(frozen=True)
class BatchDecision:
    """What happens to a validated batch, and which rows go on to the next stage."""

    action: BatchAction
    passed_mask: np.ndarray
    waived: list[str] = field(default_factory=list)
    decided_by: list[str] = field(default_factory=list)
    note: str | None = None
    gate_id: str | None = None

    @property
    def rows_passed(self) -> int:
        return int(self.passed_mask.sum())


def failing_checks(
    outcome: ValidationOutcome, upstream: Upstream | None = None
) -> list[tuple[str, str]]:
    """Return (item key, description) for every reason the batch stopped.

    Besides the suite's own verdict: the batch's quarantines taken together (acquisition
    and suite) above the dataset's threshold, and a batch with no rows left to check.
    """
    checks: list[tuple[str, str]] = []
    for result in outcome.results:
        if result.error or (result.severity.value == "critical" and not result.success):
            detail = (
                f"{result.unexpected_count} rows"
                if result.unexpected_count is not None
                else f"observed {result.observed}"
            )
            checks.append((result.label, f"{result.label} failed ({detail})"))
    if outcome.quarantine_rate > outcome.quarantine_threshold:
        checks.append(
            (
                THRESHOLD_ITEM,
                f"quarantine rate {outcome.quarantine_rate:.1%} above "
                f"{outcome.quarantine_threshold:.1%}",
            )
        )
    if upstream is not None and upstream.quarantined and upstream.rows_read:
        total = upstream.quarantined + outcome.rows_quarantined
        rate = total / upstream.rows_read
        if rate > upstream.threshold:
            checks.append(
                (
                    TOTAL_ITEM,
                    f"{total} of {upstream.rows_read} rows read quarantined ({rate:.1%}: "
                    f"{upstream.quarantined} at acquisition, {outcome.rows_quarantined} by the "
                    f"suite) above the dataset's threshold {upstream.threshold:.1%}",
                )
            )
    if outcome.rows_in == 0:
        read = upstream.rows_read if upstream is not None else 0
        checks.append(
            (
                EMPTY_ITEM,
                f"no row reached the checkpoint: all {read} rows read were quarantined"
                if read
                else "the batch has no rows",
            )
        )
    return checks


def needs_people(outcome: ValidationOutcome, upstream: Upstream | None = None) -> bool:
    """Tell whether the batch must stop for a person's decision."""
    return outcome.batch_failed or bool(failing_checks(outcome, upstream))


def validation_failure_request(
    outcome: ValidationOutcome,
    *,
    dataset_version_id: str,
    stage: str,
    submitted_by: list[str] | None = None,
    deadline_hours: float = 48,
    upstream: Upstream | None = None,
) -> ReviewRequest:
    """Build the gate that asks a person what to do with a failed batch (one item per check)."""
    from datetime import timedelta

    items = [
        ReviewItem(
            key=key,
            payload={
                "text": description,
                "dataset_version_id": dataset_version_id,
                "suite": outcome.suite_name,
                "rows_in": outcome.rows_in,
                "rows_quarantined": outcome.rows_quarantined,
            },
            reasons=[key if key in _BATCH_ITEMS else "failed_expectation"],
            failing_checks=[description],
        )
        for key, description in failing_checks(outcome, upstream)
    ]
    return ReviewRequest(
        name=f"validation-{stage}-{outcome.suite_name}",
        kind=ReviewKind.VALIDATION_FAILURE,
        items=items,
        tier=1,
        deadline=timedelta(hours=deadline_hours),
        submitted_by=submitted_by or [],
        dataset_version_id=dataset_version_id,
    )


def decide_batch(
    outcome: ValidationOutcome,
    gate: GateResult | None = None,
    upstream: Upstream | None = None,
) -> BatchDecision:
    """Apply a gate's answer: abort wins; waived checks stop counting; clean rows continue."""
    mask = outcome.passed_mask()
    if gate is None:
        if needs_people(outcome, upstream):
            raise ValueError("a failed batch needs a person's decision")
        return BatchDecision(action=BatchAction.CONTINUE, passed_mask=mask)
    choices = {d.item_key: d.choice for d in gate.decisions}
    reviewers = gate.reviewers
    notes = "; ".join(sorted({d.note for d in gate.decisions if d.note}))
    if any(choice == "abort" for choice in choices.values()):
        return BatchDecision(
            action=BatchAction.ABORT,
            passed_mask=np.zeros(outcome.rows_in, dtype=bool),
            decided_by=reviewers,
            note=notes or None,
            gate_id=gate.gate_id,
        )
    waived = sorted(key for key, choice in choices.items() if choice == "waive")
    waived_expectations = set(waived) - _BATCH_ITEMS
    if waived_expectations:
        # Rows that failed only waived expectations are no longer quarantined.
        for entry in outcome.quarantined:
            labels = {_label(r["expectation"], r["column"]) for r in entry["reasons"]}
            if labels <= waived_expectations:
                mask[entry["position"]] = True
    return BatchDecision(
        action=BatchAction.CONTINUE,
        passed_mask=mask,
        waived=waived,
        decided_by=reviewers,
        note=notes or None,
        gate_id=gate.gate_id,
    )


def _label(expectation: str, column: str | None) -> str:
    return f"{expectation}({column})" if column else expectation


def abort_if_aborted(decision: BatchDecision, *, dataset: str, stage: str) -> None:
    """Raise ``BatchAborted`` naming who stopped the batch, if it was stopped."""
    if decision.action is BatchAction.ABORT:
        raise BatchAborted(dataset, stage, decided_by=decision.decided_by, note=decision.note)


def quarantine_step(
    decision: BatchDecision, *, suite_name: str, validation_run_id: str, rows_in: int
) -> dict[str, object]:
    """The lineage step of a version made of the rows that passed a checkpoint."""
    return {
        "step": "quarantine",
        "suite": suite_name,
        "validation_run_id": validation_run_id,
        "rows_in": rows_in,
        "rows_passed": decision.rows_passed,
        "waived": decision.waived,
        "decided_by": decision.decided_by,
        "review_gate": decision.gate_id,
    }
