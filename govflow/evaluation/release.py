"""The release's ledger steps: judge findings, who may sign, certify a signed evaluation.

Called by ``tasks.models``; every write goes through the ledger's keyword-only functions and
is keyed by content, so repeating a step records nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from govflow.domain.review import ReviewItem, ReviewKind, ReviewRequest
from govflow.ledger.engine import Ledger

__all__ = [
    "RollbackPlan",
    "accept_findings",
    "certify",
    "certify_rollback",
    "recorded_evaluation",
    "rollback_plan",
    "signoff_context",
]


def accept_findings(
    *,
    ledger: Ledger,
    evaluation_run_id: str,
    choices: dict[str, str],
    gate_id: str,
    suite_path: Path,
    actor: str,
) -> str | None:
    """Settle findings per probe; add real weaknesses to the suite as a new version.

    Returns the new suite version's id, or None when no weakness was accepted.
    """
    from govflow.domain import FindingStatus
    from govflow.evaluation.execute import resolve_suite_version
    from govflow.evaluation.suites import EdgeCase
    from govflow.ledger.evaluations import (
        read_findings,
        register_suite_version,
        set_findings_status,
    )

    statuses = {
        "real_weakness": FindingStatus.REAL_WEAKNESS,
        "invalid_probe": FindingStatus.INVALID_PROBE,
    }
    with ledger.session() as session:
        for probe, choice in choices.items():
            set_findings_status(
                session=session,
                evaluation_run_id=evaluation_run_id,
                probe=probe,
                status=statuses[choice],
                review_task_id=gate_id,
                actor=actor,
            )
        weaknesses = [
            f
            for f in read_findings(session=session, evaluation_run_id=evaluation_run_id)
            if f.status is FindingStatus.REAL_WEAKNESS
        ]
    if not weaknesses:
        return None
    current, _ = resolve_suite_version(ledger=ledger, path=suite_path, authors=[], actor=actor)
    extended = current.with_edge_cases(
        EdgeCase(text=f.text, label=f.expected_label, origin=f"redteam:{f.probe}", note=f.reason)
        for f in weaknesses
    )
    with ledger.session() as session:
        recorded, _ = register_suite_version(
            session=session,
            project=current.suite.project,
            content=extended.content(),
            content_hash_=extended.content_hash,
            parent_hash=current.content_hash,
            reason=f"red-team findings of {evaluation_run_id} accepted as real weaknesses",
            authors=[],
            actor=actor,
        )
        return recorded.id


def signoff_context(
    *, ledger: Ledger, evaluation_run_id: str, suite_path: Path
) -> tuple[list[str], list[str], list[tuple[str, str]], dict[str, Any]]:
    """Who may sign, who may not, who signed already (with decisions), and the policy."""
    from govflow.domain import PersonStatus, Role
    from govflow.evaluation.signoff import SignOffPolicy, eligible_signers
    from govflow.evaluation.suites import load_evaluation_suite
    from govflow.ledger.evaluations import get_evaluation_run, read_signoffs
    from govflow.ledger.model_versions import get_model_version
    from govflow.ledger.people import list_people

    suite = load_evaluation_suite(suite_path).suite
    settings = suite.signoff
    policy = SignOffPolicy(
        quorum=settings.quorum,
        roles=frozenset(Role(r) for r in settings.roles),
        signers=tuple(settings.signers),
    )
    with ledger.reader() as session:
        run = get_evaluation_run(session=session, run_id=evaluation_run_id)
        model = get_model_version(session=session, version_id=run.model_version_id)
        requested_by = (model.details or {}).get("requested_by")
        excluded = sorted({*suite.authors, *([requested_by] if requested_by else [])})
        people = [
            (p.id, list(p.roles or []), PersonStatus(p.status))
            for p in list_people(session=session)
        ]
        signed = [
            (s.signer_id, s.decision.value)
            for s in read_signoffs(session=session, evaluation_run_id=evaluation_run_id)
        ]
    eligible = eligible_signers(people, policy, excluded=excluded)
    return (
        eligible,
        excluded,
        signed,
        {"quorum": policy.quorum, "certificate_days": settings.certificate_days},
    )


def certify(*, ledger: Ledger, evaluation_run_id: str, certificate_days: int, actor: str) -> str:
    """Write the promotion certificate of a signed evaluation; return its id."""
    from govflow.domain import CertificateKind
    from govflow.ledger.evaluations import get_evaluation_run, read_signoffs
    from govflow.ledger.model_versions import alias_of, issue_certificate

    with ledger.session() as session:
        run = get_evaluation_run(session=session, run_id=evaluation_run_id)
        current = alias_of(session=session, project=run.project)
        signoffs = read_signoffs(session=session, evaluation_run_id=run.id)
        results = run.results or {}
        certificate = issue_certificate(
            session=session,
            kind=CertificateKind.PROMOTION,
            project=run.project,
            model_version_id=run.model_version_id,
            previous_model_version_id=current.id if current else None,
            evaluation_run_id=run.id,
            content={
                "suite_version_id": run.suite_version_id,
                "data_versions": run.data_versions,
                "slices": [
                    {k: s[k] for k in ("slice", "kind", "n", "status", "reasons")}
                    for s in results.get("slices", [])
                ],
                "redteam": results.get("redteam", []),
                "signers": [s.signer_id for s in signoffs],
                "waived": sorted({w for s in signoffs for w in s.waived}),
            },
            valid_for=timedelta(days=certificate_days),
            actor=actor,
        )
        return certificate.id


@dataclass(frozen=True)
class RollbackPlan:
    """Which version production would go back to, and the gate that asks a lead."""

    project: str
    current: str
    target: str
    evaluation_run_id: str | None
    leads: list[str]

    def request(self, *, submitted_by: list[str], deadline_hours: float) -> ReviewRequest:
        """The one-lead approval of going back from ``current`` to ``target``."""
        return ReviewRequest(
            name=f"rollback-{self.project}-{self.current}-{self.target}",
            kind=ReviewKind.PROMOTION_APPROVAL,
            items=[
                ReviewItem(
                    key=f"{self.project}-rollback",
                    payload={
                        "text": f"move production of {self.project} back from "
                        f"{self.current} to {self.target}",
                        "current": self.current,
                        "target": self.target,
                    },
                    reasons=["rollback requested"],
                )
            ],
            assignees=self.leads,
            submitted_by=submitted_by,
            deadline=timedelta(hours=deadline_hours),
        )


def rollback_plan(*, ledger: Ledger, project: str) -> RollbackPlan:
    """Find the version production replaced; refuse when there is none to go back to."""
    from govflow.domain import PersonStatus, Role
    from govflow.errors import InputError
    from govflow.ledger.model_versions import PRODUCTION
    from govflow.ledger.models import ModelAlias, PromotionCertificate
    from govflow.ledger.people import list_people

    with ledger.reader() as session:
        alias = session.get(ModelAlias, (project, PRODUCTION))
        certificate = (
            session.get(PromotionCertificate, alias.certificate_id)
            if alias is not None and alias.certificate_id
            else None
        )
        if alias is None or certificate is None or not certificate.previous_model_version_id:
            raise InputError(
                f"project {project!r} has no earlier production version to roll back to"
            )
        leads = [
            p.id
            for p in list_people(session=session, role=Role.LEAD)
            if p.status == PersonStatus.ACTIVE
        ]
        return RollbackPlan(
            project=project,
            current=alias.model_version_id,
            target=certificate.previous_model_version_id,
            evaluation_run_id=certificate.evaluation_run_id,
            leads=leads,
        )


def certify_rollback(*, ledger: Ledger, plan: RollbackPlan, approver: str, actor: str) -> str:
    """Write the certificate of an approved rollback; return its id."""
    from govflow.domain import CertificateKind
    from govflow.ledger.model_versions import issue_certificate

    with ledger.session() as session:
        return issue_certificate(
            session=session,
            kind=CertificateKind.ROLLBACK,
            project=plan.project,
            model_version_id=plan.target,
            previous_model_version_id=plan.current,
            evaluation_run_id=plan.evaluation_run_id,
            content={"approved_by": approver, "signers": [approver]},
            valid_for=timedelta(days=1),
            actor=actor,
        ).id


def recorded_evaluation(*, ledger: Ledger, evaluation_run_id: str) -> dict[str, Any]:
    """Read a recorded run back: the summary a sign-off needs, its report, waivable slices."""
    from govflow.ledger.evaluations import get_evaluation_run

    with ledger.reader() as session:
        run = get_evaluation_run(session=session, run_id=evaluation_run_id)
        results = run.results or {}
        slices = results.get("slices", [])
        return {
            "result": {
                "project": run.project,
                "model_version_id": run.model_version_id,
                "evaluation_run_id": run.id,
                "suite_version_id": run.suite_version_id,
                "status": run.status.value,
                "failed": [
                    f"{s['slice']}: {'; '.join(s['reasons'])}"
                    for s in slices
                    if s["status"] == "failed"
                ],
                "insufficient": [
                    s["slice"] for s in slices if s["status"] == "insufficient_evidence"
                ],
            },
            "report": results.get("report", ""),
            "insufficient": [
                [s["slice"], "; ".join(s["reasons"])]
                for s in slices
                if s["status"] == "insufficient_evidence"
            ],
        }
