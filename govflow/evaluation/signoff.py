"""Sign-off by a quorum, findings for specialists, and what a promotion certificate holds.

Pure: builds the review requests the release flow asks and reads their answers.

- **Quorum.** ``quorum`` approvals (default 2) from eligible signers: active people holding
  one of the policy's roles (default specialists and leads), or only the named signers when
  the project names them. Separation of duties: whoever requested the training or authored
  the suite version is excluded (the gate lists them as submitters, so its own checks refuse
  them too). Any rejection blocks promotion.
- **One signer per gate.** Prefect allows one open pause per run, so signers answer in
  sequence: each gate is assigned to the eligible signers who have not signed yet and is
  named after how many signatures came before it; a re-run reads the recorded sign-offs and
  never asks a signer twice.
- **Insufficient evidence** (a slice under its ``min_samples``) fails closed unless the signer
  waives it: each such slice is an item of the sign-off form, approved only by approving it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from govflow.domain import PersonStatus, Role, SignOffDecision
from govflow.domain.review import GateResult, ReviewItem, ReviewKind, ReviewRequest

__all__ = [
    "EVALUATION_ITEM",
    "Quorum",
    "SignOffPolicy",
    "eligible_signers",
    "findings_request",
    "quorum_of",
    "read_signoff",
    "signoff_request",
]

EVALUATION_ITEM = "evaluation"
_WAIVE_PREFIX = "waive "


@dataclass(frozen=True)
class SignOffPolicy:
    """Who may sign and how many must: M of the eligible signers (M of N named ones)."""

    quorum: int = 2
    roles: frozenset[Role] = frozenset({Role.SPECIALIST, Role.LEAD})
    signers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Quorum:
    """Where the sign-off stands."""

    approvals: list[str]
    rejections: list[str]
    needed: int

    @property
    def is_rejected(self) -> bool:
        return bool(self.rejections)

    @property
    def is_reached(self) -> bool:
        return not self.rejections and len(self.approvals) >= self.needed


def eligible_signers(
    people: Iterable[tuple[str, Sequence[str], PersonStatus]],
    policy: SignOffPolicy,
    *,
    excluded: Iterable[str],
) -> list[str]:
    """Return who may sign: active, holding an allowed role (or named), not excluded."""
    banned = set(excluded)
    allowed = {role.value for role in policy.roles}
    found = []
    for person_id, roles, status in people:
        if status is not PersonStatus.ACTIVE or person_id in banned:
            continue
        if policy.signers and person_id not in policy.signers:
            continue
        if allowed & set(roles):
            found.append(person_id)
    return sorted(found)


def quorum_of(decisions: Iterable[tuple[str, SignOffDecision]], policy: SignOffPolicy) -> Quorum:
    """Count recorded sign-offs against the policy's quorum."""
    approvals, rejections = [], []
    for signer, decision in decisions:
        (approvals if decision is SignOffDecision.APPROVE else rejections).append(signer)
    return Quorum(approvals=approvals, rejections=rejections, needed=policy.quorum)


@dataclass(frozen=True)
class SignOffRead:
    """One signer's answer at a sign-off gate."""

    signer: str | None  # None: nobody answered by the deadline
    decision: SignOffDecision
    waived: list[str] = field(default_factory=list)
    note: str | None = None


def signoff_request(
    *,
    evaluation_run_id: str,
    model_version_id: str,
    summary: str,
    report: str,
    insufficient: Sequence[tuple[str, str]],
    signers: Sequence[str],
    excluded: Sequence[str],
    signed_before: int,
    deadline_hours: float,
) -> ReviewRequest:
    """The form one signer answers: the evaluation, and each slice that needs a waiver."""
    items = [
        ReviewItem(
            key=EVALUATION_ITEM,
            payload={
                "text": summary,
                "evaluation_run_id": evaluation_run_id,
                "model_version_id": model_version_id,
            },
            reasons=["evaluation sign-off"],
        ),
        *(
            ReviewItem(
                key=f"{_WAIVE_PREFIX}{name}",
                payload={"text": f"approve to waive: {reason}", "slice": name},
                reasons=["insufficient evidence"],
            )
            for name, reason in insufficient
        ),
    ]
    return ReviewRequest(
        name=f"signoff-{evaluation_run_id}-{signed_before + 1}",
        kind=ReviewKind.EVALUATION_SIGNOFF,
        tier=2,  # specialists and leads; a sign-off is not escalated further
        items=items,
        assignees=list(signers),
        submitted_by=list(excluded),
        deadline=timedelta(hours=deadline_hours),
        report=report,
    )


def read_signoff(result: GateResult) -> SignOffRead:
    """Read a sign-off gate's answer: approval needs the evaluation and every waiver approved."""
    by_key = {d.item_key: d for d in result.decisions}
    main = by_key[EVALUATION_ITEM]
    waivers = {
        key.removeprefix(_WAIVE_PREFIX): d.choice
        for key, d in by_key.items()
        if key.startswith(_WAIVE_PREFIX)
    }
    approved = main.choice == "approve" and all(c == "approve" for c in waivers.values())
    return SignOffRead(
        signer=main.reviewer_id,
        decision=SignOffDecision.APPROVE if approved else SignOffDecision.REJECT,
        waived=sorted(name for name, choice in waivers.items() if choice == "approve")
        if approved
        else [],
        note=main.note,
    )


def findings_request(
    *,
    evaluation_run_id: str,
    groups: dict[str, list[dict[str, Any]]],
    specialists: Sequence[str],
    deadline_hours: float,
) -> ReviewRequest:
    """The edge-case gate: one item per probe, with its failed examples, for specialists."""
    items = []
    for probe, findings in groups.items():
        examples = "; ".join(f"“{f['text'][:80]}” ({f['reason']})" for f in findings[:3])
        items.append(
            ReviewItem(
                key=probe,
                payload={
                    "text": f"{len(findings)} finding(s): {examples}",
                    "probe": probe,
                    "findings": sorted(f["id"] for f in findings),
                },
                reasons=["red-team finding"],
            )
        )
    return ReviewRequest(
        name=f"findings-{evaluation_run_id}",
        kind=ReviewKind.EDGE_CASE,
        items=items,
        assignees=list(specialists),
        deadline=timedelta(hours=deadline_hours),
    )
