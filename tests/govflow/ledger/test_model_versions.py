"""Aliases move only with a valid certificate; every move is an audit event."""

from __future__ import annotations

from datetime import timedelta

import pytest

from govflow.domain import CertificateKind
from govflow.ledger.audit import verify_chain
from govflow.ledger.model_versions import (
    PromotionRefused,
    alias_of,
    issue_certificate,
    promote,
    register_model_version,
)
from govflow.ledger.models import utcnow


def _model(session, version_id: str) -> None:
    register_model_version(
        session=session,
        version_id=version_id,
        project="p",
        adapter="sklearn-text",
        spec={"adapter": "sklearn-text"},
        seed=0,
        training_version_id=None,
        label_set=["a", "b"],
        artifact=None,
        details={},
        flow_run_id=None,
        actor="t",
    )


def _certificate(
    session, model: str, previous: str | None, *, days: float = 7, signers=("sam", "sue")
):
    return issue_certificate(
        session=session,
        kind=CertificateKind.PROMOTION,
        project="p",
        model_version_id=model,
        previous_model_version_id=previous,
        evaluation_run_id=None,
        content={"signers": list(signers)},
        valid_for=timedelta(days=days),
        actor="t",
    )


def test_a_certificate_moves_the_alias_once_and_the_move_is_audited(ledger):
    with ledger.session() as session:
        _model(session, "mv-1")
        _model(session, "mv-1")  # the same id again: no second row, no second event
        cert = _certificate(session, "mv-1", None)
        again = _certificate(session, "mv-1", None)
        alias = promote(session=session, certificate_id=cert.id, actor="flow")
        repeated = promote(session=session, certificate_id=cert.id, actor="flow")
        assert again.id == cert.id
        assert (alias.model_version_id, repeated.model_version_id) == ("mv-1", "mv-1")
        assert alias_of(session=session, project="p").id == "mv-1"
    with ledger.reader() as session:
        from sqlalchemy import select

        from govflow.ledger.models import AuditEvent

        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
        assert actions == ["model.registered", "model.certificate_issued", "model.alias_moved"]
        assert verify_chain(session=session).is_intact


def test_an_expired_used_or_stale_certificate_is_refused_with_the_reason(ledger):
    with ledger.session() as session:
        _model(session, "mv-1")
        _model(session, "mv-2")
        _model(session, "mv-3")
        first = _certificate(session, "mv-1", None)
        promote(session=session, certificate_id=first.id, actor="flow")
        expired = _certificate(session, "mv-2", "mv-1", days=-1)
        with pytest.raises(PromotionRefused, match=f"certificate {expired.id} expired at"):
            promote(session=session, certificate_id=expired.id, actor="flow")
        stale = _certificate(session, "mv-3", None)  # signed while production was empty
        with pytest.raises(
            PromotionRefused,
            match="was signed to replace no model as production, but production is now mv-1",
        ):
            promote(session=session, certificate_id=stale.id, actor="flow")
        ok = _certificate(session, "mv-2", "mv-1", signers=("lee", "sam"))
        promote(session=session, certificate_id=ok.id, actor="flow")
        with pytest.raises(PromotionRefused, match="no promotion certificate 'pc-nope'"):
            promote(session=session, certificate_id="pc-nope", actor="flow")
        assert alias_of(session=session, project="p").id == "mv-2"
        later = utcnow() + timedelta(days=30)
        fresh = _certificate(session, "mv-3", "mv-2")
        with pytest.raises(PromotionRefused, match="expired"):
            promote(session=session, certificate_id=fresh.id, actor="flow", now=later)


def test_a_rollback_goes_back_to_the_version_production_replaced_with_a_lead(ledger):
    from govflow.domain import Role
    from govflow.errors import InputError
    from govflow.evaluation.release import certify_rollback, rollback_plan
    from govflow.ledger.models import PromotionCertificate
    from govflow.ledger.people import add_person

    with ledger.session() as session:
        add_person(session=session, person_id="lee", display_name="Lee", role=Role.LEAD, actor="t")
        add_person(
            session=session, person_id="rob", display_name="Rob", role=Role.REVIEWER, actor="t"
        )
        _model(session, "mv-1")
        _model(session, "mv-2")
        promote(session=session, certificate_id=_certificate(session, "mv-1", None).id, actor="f")
    with pytest.raises(InputError, match="project 'p' has no earlier production version"):
        rollback_plan(ledger=ledger, project="p")
    with ledger.session() as session:
        promote(session=session, certificate_id=_certificate(session, "mv-2", "mv-1").id, actor="f")

    plan = rollback_plan(ledger=ledger, project="p")
    assert (plan.current, plan.target, plan.leads) == ("mv-2", "mv-1", ["lee"])
    request = plan.request(submitted_by=["rob"], deadline_hours=2)
    assert (request.assignees, [i.key for i in request.items]) == (["lee"], ["p-rollback"])
    certificate_id = certify_rollback(ledger=ledger, plan=plan, approver="lee", actor="flow")
    with ledger.session() as session:
        promote(session=session, certificate_id=certificate_id, actor="flow")
        certificate = session.get(PromotionCertificate, certificate_id)
        assert certificate is not None
        assert (certificate.kind, certificate.previous_model_version_id) == (
            CertificateKind.ROLLBACK,
            "mv-2",
        )
        assert certificate.content["approved_by"] == "lee"
        assert alias_of(session=session, project="p").id == "mv-1"
