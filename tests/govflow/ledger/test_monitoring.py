"""Monitoring runs, alerts, interventions and output reviews in the ledger (SQLite, Postgres)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from govflow.domain import (
    AlertKind,
    EvaluationSource,
    EvaluationStatus,
    InterventionStatus,
    OutputVerdict,
    SignOffDecision,
    Stage,
)
from govflow.errors import InputError, NotFound
from govflow.ledger.audit import verify_chain
from govflow.ledger.datasets import prepare_items, register_dataset_version
from govflow.ledger.evaluations import (
    record_evaluation_run,
    record_signoff,
    register_suite_version,
)
from govflow.ledger.model_versions import register_model_version
from govflow.ledger.models import (
    AuditEvent,
    GuidelineVersion,
    MonitoringRun,
    OutputReview,
    Person,
    ReviewTask,
)
from govflow.ledger.monitoring import (
    InterventionOpen,
    OutputReviewRecord,
    close_intervention,
    get_intervention,
    latest_runs,
    list_interventions,
    open_intervention,
    read_output_reviews,
    record_alert,
    record_monitoring_run,
    record_output_reviews,
    record_reannotation_round,
    record_reevaluation,
    record_suite_version,
    what_is_left,
)
from govflow.ledger.rounds import open_round

RECORDS = [{"text": f"ticket {i}", "predicted_label": "bug", "confidence": 0.5} for i in range(4)]


def _batch(session, records=RECORDS) -> str:
    register_model_version(
        session=session,
        version_id="mv-1",
        project="p",
        adapter="sklearn-text",
        spec={"adapter": "sklearn-text"},
        seed=0,
        training_version_id=None,
        label_set=["bug", "billing"],
        artifact=None,
        details={},
        flow_run_id=None,
        actor="t",
    )
    return register_dataset_version(
        session=session, name="p", stage=Stage.PRODUCTION, items=prepare_items(records), actor="t"
    ).version.id


def _run(session, batch: str, *, drifted: bool = True):
    return record_monitoring_run(
        session=session,
        project="p",
        model_version_id="mv-1",
        production_version_id=batch,
        reference={"kind": "training", "version_id": "dv-ref"},
        config_hash="c" * 64,
        results={"drift": {"drifted": drifted}},
        is_drifted=drifted,
        n_rows=4,
        n_to_people=1,
        flow_run_id="fr-1",
        actor="monitor",
    )


def _drift_alert(session, run_id: str):
    return record_alert(
        session=session,
        origin=run_id,
        project="p",
        kind=AlertKind.DRIFT,
        summary="drift in 2 of 3 columns (text, channel)",
        details={"columns": ["text", "channel"]},
        actor="monitor",
        model_version_id="mv-1",
        monitoring_run_id=run_id,
    )


def test_a_run_its_alert_and_intervention_are_recorded_once_and_audited(ledger):
    with ledger.session() as session:
        batch = _batch(session)
        run, is_new = _run(session, batch)
        again, again_new = _run(session, batch)
        alert, _ = _drift_alert(session, run.id)
        same_alert, alert_new = _drift_alert(session, run.id)
        opened, _ = open_intervention(
            session=session, alert_id=alert.id, slice={"rows": 4}, owner="olga", actor="monitor"
        )
        reopened, reopened_new = open_intervention(
            session=session, alert_id=alert.id, slice={"rows": 4}, owner="olga", actor="monitor"
        )
        assert (is_new, again_new, alert_new, reopened_new) == (True, False, False, False)
        assert (again.id, same_alert.id, reopened.id) == (run.id, alert.id, opened.id)
        assert opened.id == "iv-" + alert.id.removeprefix("al-")
        assert (opened.trigger, opened.owner, opened.model_version_id) == (
            AlertKind.DRIFT,
            "olga",
            "mv-1",
        )
    with ledger.reader() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
        assert actions[-3:] == [
            "monitoring.run_recorded",
            "monitoring.alert_raised",
            "intervention.opened",
        ]
        assert verify_chain(session=session).is_intact
        assert [r.id for r in latest_runs(session=session, project="p")] == [run.id]
        assert [i.id for i in list_interventions(session=session)] == [opened.id]
        assert get_intervention(session=session, intervention_id=opened.id[:8]).id == opened.id
        assert session.scalar(select(func.count()).select_from(MonitoringRun)) == 1


def test_a_run_needs_a_known_model_and_a_production_version(ledger):
    with ledger.session() as session:
        _batch(session)
        raw = register_dataset_version(
            session=session, name="p", stage="raw", items=prepare_items(RECORDS), actor="t"
        ).version.id
        with pytest.raises(InputError) as not_production:
            _run(session, raw)
        with pytest.raises(NotFound) as no_model:
            record_monitoring_run(
                session=session,
                project="p",
                model_version_id="mv-unknown",
                production_version_id=raw,
                reference={},
                config_hash="c" * 64,
                results={},
                is_drifted=False,
                n_rows=4,
                n_to_people=0,
                flow_run_id=None,
                actor="monitor",
            )
    assert str(not_production.value) == (
        f"dataset version {raw} is a raw version, not a production batch"
    )
    assert str(no_model.value).startswith("model version 'mv-unknown' not found")


def _round(session, batch: str) -> str:
    session.add(
        GuidelineVersion(
            id="gl-1",
            project="p",
            version=1,
            label_set=["bug", "billing"],
            is_ordinal=False,
            text="Label it.",
            examples=[],
            changelog="first",
            status="published",
            content_hash="0" * 64,
            created_by="t",
        )
    )
    session.add(Person(id="ann", display_name="Ann", roles=["annotator"]))
    session.add(Person(id="sam", display_name="Sam", roles=["specialist"]))
    session.add(Person(id="sue", display_name="Sue", roles=["specialist"]))
    session.flush()
    found, _ = open_round(
        session=session,
        project="p",
        dataset_version_id=batch,
        guideline_version_id="gl-1",
        overlap=1,
        gold_rate=0.0,
        actor="t",
    )
    return found.id


def _evaluation(session, suite_id: str) -> str:
    run, _ = record_evaluation_run(
        session=session,
        project="p",
        model_version_id="mv-1",
        suite_version_id=suite_id,
        production_model_version_id=None,
        data_versions={},
        source=EvaluationSource.GOVFLOW,
        status=EvaluationStatus.PASSED,
        results={},
        flow_run_id=None,
        actor="t",
    )
    return run.id


def _sign(session, run_id: str, signer: str, decision: SignOffDecision) -> None:
    gate = f"rt-{signer}"
    session.add(ReviewTask(id=gate, kind="evaluation_signoff", payload_hash="0" * 64))
    session.flush()
    record_signoff(
        session=session,
        evaluation_run_id=run_id,
        signer_id=signer,
        decision=decision,
        waived=[],
        note=None,
        review_task_id=gate,
    )


def test_an_intervention_closes_only_after_all_three_and_an_approved_reevaluation(ledger):
    with ledger.session() as session:
        batch = _batch(session)
        run, _ = _run(session, batch)
        alert, _ = _drift_alert(session, run.id)
        iv, _ = open_intervention(
            session=session, alert_id=alert.id, slice={}, owner="olga", actor="m"
        )
        left_at_start = what_is_left(session=session, intervention=iv)
        with pytest.raises(InterventionOpen) as refused:
            close_intervention(session=session, intervention_id=iv.id, actor="m")

        round_id = _round(session, batch)
        record_reannotation_round(
            session=session, intervention_id=iv.id, round_id=round_id, actor="m"
        )
        suite, _ = register_suite_version(
            session=session,
            project="p",
            content={"slices": ["production"]},
            content_hash_="a" * 64,
            parent_hash=None,
            reason="production slice",
            authors=["monitor"],
            actor="m",
        )
        other, _ = register_suite_version(
            session=session,
            project="p",
            content={"slices": ["old"]},
            content_hash_="b" * 64,
            parent_hash=None,
            reason="older",
            authors=["t"],
            actor="m",
        )
        with pytest.raises(InputError) as too_early:
            record_reevaluation(
                session=session,
                intervention_id=iv.id,
                evaluation_run_id=_evaluation(session, suite.id),
                actor="m",
            )
        record_suite_version(
            session=session, intervention_id=iv.id, suite_version_id=suite.id, actor="m"
        )
        with pytest.raises(InputError) as wrong_suite:
            record_reevaluation(
                session=session,
                intervention_id=iv.id,
                evaluation_run_id=_evaluation(session, other.id),
                actor="m",
            )
        evaluation = _evaluation(session, suite.id)
        record_reevaluation(
            session=session, intervention_id=iv.id, evaluation_run_id=evaluation, actor="m"
        )
        left_unsigned = what_is_left(session=session, intervention=iv)
        _sign(session, evaluation, "sam", SignOffDecision.REJECT)
        left_rejected = what_is_left(session=session, intervention=iv)
        with pytest.raises(InterventionOpen):
            close_intervention(session=session, intervention_id=iv.id, actor="m")
    with ledger.session() as session:
        # A rejected evaluation satisfies no intervention that records it.
        alert2, _ = record_alert(
            session=session,
            origin="audit-1",
            project="p",
            kind=AlertKind.LABEL_ERRORS,
            summary="label error rate 12% above 5%",
            details={},
            actor="audit",
        )
        iv2, _ = open_intervention(
            session=session, alert_id=alert2.id, slice={}, owner="olga", actor="m"
        )
        record_reannotation_round(
            session=session, intervention_id=iv2.id, round_id=round_id, actor="m"
        )
        record_suite_version(
            session=session, intervention_id=iv2.id, suite_version_id=suite.id, actor="m"
        )
        record_reevaluation(
            session=session, intervention_id=iv2.id, evaluation_run_id=evaluation, actor="m"
        )
        # sam's rejection of this evaluation counts here too.
        assert what_is_left(session=session, intervention=iv2)[0].startswith(
            "a re-evaluation signers approve"
        )

    assert left_at_start == [
        "a re-annotation round over the affected slice",
        "an evaluation suite version with the production slice",
        "a re-evaluation of the production model on that suite version",
    ]
    assert str(refused.value) == (
        f"intervention {iv.id} cannot close: still missing "
        "a re-annotation round over the affected slice; "
        "an evaluation suite version with the production slice; "
        "a re-evaluation of the production model on that suite version"
    )
    assert str(too_early.value).startswith(f"intervention {iv.id} has no new suite version yet")
    assert "not the intervention's" in str(wrong_suite.value)
    assert left_unsigned == [f"sign-off of re-evaluation {evaluation}"]
    assert left_rejected == [
        f"a re-evaluation signers approve (run {evaluation} was rejected by 1)"
    ]


def test_an_approved_reevaluation_closes_the_intervention_and_records_the_hash(ledger):
    with ledger.session() as session:
        batch = _batch(session)
        run, _ = _run(session, batch)
        alert, _ = _drift_alert(session, run.id)
        iv, _ = open_intervention(
            session=session, alert_id=alert.id, slice={}, owner="olga", actor="m"
        )
        record_reannotation_round(
            session=session, intervention_id=iv.id, round_id=_round(session, batch), actor="m"
        )
        suite, _ = register_suite_version(
            session=session,
            project="p",
            content={"slices": ["production"]},
            content_hash_="a" * 64,
            parent_hash=None,
            reason="production slice",
            authors=["monitor"],
            actor="m",
        )
        record_suite_version(
            session=session, intervention_id=iv.id, suite_version_id=suite.id, actor="m"
        )
        evaluation = _evaluation(session, suite.id)
        record_reevaluation(
            session=session, intervention_id=iv.id, evaluation_run_id=evaluation, actor="m"
        )
        _sign(session, evaluation, "sue", SignOffDecision.APPROVE)
        closed = close_intervention(session=session, intervention_id=iv.id, actor="m")
        again = close_intervention(session=session, intervention_id=iv.id, actor="m")
        assert (closed.status, closed.suite_version_hash) == (InterventionStatus.CLOSED, "a" * 64)
        assert closed.closed_at is not None and again.closed_at == closed.closed_at
        with pytest.raises(InputError) as closed_already:
            record_suite_version(
                session=session, intervention_id=iv.id, suite_version_id=suite.id, actor="m"
            )
    assert str(closed_already.value) == f"intervention {iv.id} is closed already"
    with ledger.reader() as session:
        closing = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "intervention.closed")
        ).all()
        assert [e.subject for e in closing] == [iv.id]
        assert list_interventions(session=session, status=InterventionStatus.OPEN) == []


def test_output_reviews_are_recorded_once_per_row_and_checked(ledger):
    reviews = [
        OutputReviewRecord(0, "h0", "bug", OutputVerdict.APPROVED, "bug", "low", "bob", None, 1),
        OutputReviewRecord(
            1, "h1", "bug", OutputVerdict.CORRECTED, "billing", "low", "bob", None, 1
        ),
        OutputReviewRecord(2, "h2", "bug", OutputVerdict.WITHHELD, None, "sample", None, None, 2),
    ]
    with ledger.session() as session:
        batch = _batch(session)
        session.add(Person(id="bob", display_name="Bob", roles=["reviewer"]))
        session.flush()
        first = record_output_reviews(
            session=session,
            production_version_id=batch,
            model_version_id="mv-1",
            reviews=reviews,
            actor="m",
        )
        second = record_output_reviews(
            session=session,
            production_version_id=batch,
            model_version_id="mv-1",
            reviews=reviews,
            actor="m",
        )
        bad = OutputReviewRecord(3, "h3", "bug", OutputVerdict.CORRECTED, None, "x", "bob", None, 1)
        with pytest.raises(InputError) as no_label:
            record_output_reviews(
                session=session,
                production_version_id=batch,
                model_version_id="mv-1",
                reviews=[bad],
                actor="m",
            )
    assert (first, second) == (3, 0)
    assert str(no_label.value) == "output at row 3: a correction needs the right label"
    with ledger.reader() as session:
        rows = read_output_reviews(session=session, production_version_id=batch)
        assert [(r.position, r.verdict, r.label, r.reviewer_id) for r in rows] == [
            (0, OutputVerdict.APPROVED, "bug", "bob"),
            (1, OutputVerdict.CORRECTED, "billing", "bob"),
            (2, OutputVerdict.WITHHELD, None, None),
        ]
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "production.outputs_reviewed")
        ).one()
        assert event.details["verdicts"] == {"approved": 1, "corrected": 1, "withheld": 1}
        assert session.scalar(select(func.count()).select_from(OutputReview)) == 3
