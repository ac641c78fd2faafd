"""Model tasks: train, evaluate, judge findings, record sign-offs, certify and promote.

Thin wrappers over ``govflow.models.registry``, ``govflow.evaluation`` and the ledger; each
works on a whole batch (a version, a slice set), never one task per row, and every ledger
write is keyed by content, so a run that restarts from the top repeats nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import (
    create_image_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE

from govflow.evaluation.execute import EvaluationOutcome
from govflow.evaluation.release import RollbackPlan
from govflow.ledger.engine import Ledger
from govflow.models.registry import TrainedModel
from govflow.runtime import flow_actor

__all__ = [
    "current_production",
    "evaluate_model",
    "issue_promotion",
    "issue_rollback",
    "judge_findings",
    "promote_with",
    "publish_evaluation",
    "record_signer",
    "recorded_evaluation",
    "rollback_plan",
    "signoff_context",
    "specialists",
    "train_model",
]


@task(name="train-model", cache_policy=NO_CACHE, persist_result=False)
def train_model(
    *,
    project: str,
    version_id: str,
    spec: dict[str, Any],
    seed: int,
    text_column: str,
    requested_by: str | None,
) -> TrainedModel:
    """Fit (or find) the model version of a labeled version, spec and seed."""
    from govflow.ledger.datasets import get_version, read_version_records
    from govflow.ledger.guidelines import get_guideline
    from govflow.models.registry import train_model_version
    from govflow.models.training_data import check_trainable
    from govflow.records import records_to_frame
    from govflow.settings import get_settings

    ledger = Ledger.open()
    with ledger.reader() as session:
        version = get_version(session=session, version_id=version_id)
        check_trainable(version.stage.value, version.id)
        frame = records_to_frame(read_version_records(session=session, version_id=version.id))
        labels = [str(label) for label in get_guideline(session=session, project=project).label_set]
        version_id = version.id
    run_id, actor = flow_actor()
    return train_model_version(
        ledger=ledger,
        home=get_settings().home,
        frame=frame,
        project=project,
        training_version_id=version_id,
        spec=spec,
        seed=seed,
        label_set=labels,
        text_column=text_column,
        requested_by=requested_by,
        flow_run_id=run_id,
        actor=actor,
    )


@task(name="evaluate-model", cache_policy=NO_CACHE, persist_result=False)
def evaluate_model(
    *,
    project: str,
    model_version_id: str,
    suite_path: str,
    data_version_id: str | None,
    compare_production: bool,
) -> EvaluationOutcome:
    """Evaluate a model version on the suite's slices (recorded once per exact inputs)."""
    from govflow.evaluation.execute import run_evaluation
    from govflow.settings import get_settings

    run_id, actor = flow_actor()
    return run_evaluation(
        ledger=Ledger.open(),
        home=get_settings().home,
        project=project,
        model_version_id=model_version_id,
        suite_path=Path(suite_path),
        data_version_id=data_version_id,
        compare_production=compare_production,
        authors=[],
        flow_run_id=run_id,
        actor=actor,
    )


@task(name="publish-evaluation", cache_policy=NO_CACHE, persist_result=False)
def publish_evaluation(outcome: EvaluationOutcome) -> Path:
    """Publish the report (Markdown, table, pictures) as artifacts and files."""
    from govflow.evaluation.plots import reliability_png, slice_metrics_png
    from govflow.evaluation.report import evaluation_table_rows
    from govflow.reports.plots import png_data_uri, save_png
    from govflow.settings import get_settings

    key = f"evaluation-{outcome.run_id}".lower()
    folder = get_settings().home / "evaluations" / outcome.run_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.md").write_text(outcome.report, encoding="utf-8")
    create_markdown_artifact(
        markdown=outcome.report, key=key, description="Evaluation report: slices, red team, scan"
    )
    create_table_artifact(
        table=evaluation_table_rows(outcome.evaluation),
        key=f"{key}-table",
        description="Per slice and metric: value, interval, difference from production",
    )
    pictures = {"slices": slice_metrics_png(outcome.evaluation)}
    routine = [s for s in outcome.evaluation.slices if s.spec.kind.value == "routine"]
    if routine:
        pictures["reliability"] = reliability_png(routine[0])
    for name, png in pictures.items():
        path = save_png(png, folder / f"{name}.png")
        create_image_artifact(
            image_url=png_data_uri(png), key=f"{key}-{name}", description=f"{name} ({path})"
        )
    return folder


@task(name="judge-findings", cache_policy=NO_CACHE, persist_result=False)
def judge_findings(
    *, evaluation_run_id: str, choices: dict[str, str], gate_id: str, suite_path: str
) -> str | None:
    """Settle findings per probe; return the new suite version with real weaknesses, if any."""
    from govflow.evaluation.release import accept_findings

    _, actor = flow_actor()
    return accept_findings(
        ledger=Ledger.open(),
        evaluation_run_id=evaluation_run_id,
        choices=choices,
        gate_id=gate_id,
        suite_path=Path(suite_path),
        actor=actor,
    )


@task(name="signoff-context", cache_policy=NO_CACHE, persist_result=False)
def signoff_context(
    *, evaluation_run_id: str, suite_path: str
) -> tuple[list[str], list[str], list[tuple[str, str]], dict[str, Any]]:
    """Who may sign, who may not, who signed already (with decisions), and the policy."""
    from govflow.evaluation.release import signoff_context as context

    return context(
        ledger=Ledger.open(), evaluation_run_id=evaluation_run_id, suite_path=Path(suite_path)
    )


@task(name="list-specialists", cache_policy=NO_CACHE, persist_result=False)
def specialists() -> list[str]:
    """The active specialists, who judge red-team findings."""
    from govflow.domain import PersonStatus, Role
    from govflow.ledger.people import list_people

    with Ledger.open().reader() as session:
        return [
            p.id
            for p in list_people(session=session, role=Role.SPECIALIST)
            if p.status == PersonStatus.ACTIVE
        ]


@task(name="record-signoff", cache_policy=NO_CACHE, persist_result=False)
def record_signer(
    *,
    evaluation_run_id: str,
    signer: str,
    decision: str,
    waived: list[str],
    note: str | None,
    gate_id: str,
) -> None:
    """Record one signer's decision (once)."""
    from govflow.domain import SignOffDecision
    from govflow.ledger.evaluations import record_signoff

    with Ledger.open().session() as session:
        record_signoff(
            session=session,
            evaluation_run_id=evaluation_run_id,
            signer_id=signer,
            decision=SignOffDecision(decision),
            waived=waived,
            note=note,
            review_task_id=gate_id,
        )


@task(name="issue-promotion-certificate", cache_policy=NO_CACHE, persist_result=False)
def issue_promotion(*, evaluation_run_id: str, certificate_days: int) -> str:
    """Write the promotion certificate of a signed evaluation; return its id."""
    from govflow.evaluation.release import certify

    _, actor = flow_actor()
    return certify(
        ledger=Ledger.open(),
        evaluation_run_id=evaluation_run_id,
        certificate_days=certificate_days,
        actor=actor,
    )


@task(name="plan-rollback", cache_policy=NO_CACHE, persist_result=False)
def rollback_plan(project: str) -> RollbackPlan:
    """Find the version production replaced, and the leads who may approve going back."""
    from govflow.evaluation.release import rollback_plan as plan

    return plan(ledger=Ledger.open(), project=project)


@task(name="issue-rollback-certificate", cache_policy=NO_CACHE, persist_result=False)
def issue_rollback(*, plan: RollbackPlan, approver: str) -> str:
    """Write the certificate of an approved rollback; return its id."""
    from govflow.evaluation.release import certify_rollback

    _, actor = flow_actor()
    return certify_rollback(ledger=Ledger.open(), plan=plan, approver=approver, actor=actor)


@task(name="read-evaluation", cache_policy=NO_CACHE, persist_result=False)
def recorded_evaluation(evaluation_run_id: str) -> dict[str, Any]:
    """A recorded evaluation run as the sign-off step reads it."""
    from govflow.evaluation.release import recorded_evaluation as read

    return read(ledger=Ledger.open(), evaluation_run_id=evaluation_run_id)


@task(name="promote", cache_policy=NO_CACHE, persist_result=False)
def promote_with(certificate_id: str) -> str:
    """Move the alias with the certificate; return the model version it names now."""
    from govflow.ledger.model_versions import promote

    _, actor = flow_actor()
    with Ledger.open().session() as session:
        return promote(session=session, certificate_id=certificate_id, actor=actor).model_version_id


@task(name="read-production", cache_policy=NO_CACHE, persist_result=False)
def current_production(project: str) -> dict[str, str | None]:
    """The model behind ``production`` and the certificate that put it there, if any."""
    from govflow.ledger.model_versions import PRODUCTION
    from govflow.ledger.models import ModelAlias, PromotionCertificate

    with Ledger.open().reader() as session:
        alias = session.get(ModelAlias, (project, PRODUCTION))
        if alias is None:
            return {"model_version_id": None, "certificate_id": None, "evaluation_run_id": None}
        certificate = alias.certificate_id and session.get(
            PromotionCertificate, alias.certificate_id
        )
        return {
            "model_version_id": alias.model_version_id,
            "certificate_id": alias.certificate_id,
            "evaluation_run_id": certificate.evaluation_run_id if certificate else None,
        }
