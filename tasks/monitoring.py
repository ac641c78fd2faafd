"""Monitoring tasks: score and judge a production batch, record runs, alerts and verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from govflow.ledger.engine import Ledger
from govflow.monitoring.batch import BatchMonitoring
from govflow.monitoring.config import MonitorConfig
from govflow.monitoring.performance import Calibration

__all__ = [
    "PreparedBatch",
    "emit_alert_events",
    "intervene_deployment_resources",
    "prepare_batch",
    "publish_monitoring",
    "record_feedback",
    "record_monitoring",
    "score_records",
]


@dataclass(frozen=True)
class PreparedBatch:
    """A scored batch judged once before anything is written, and what it was judged against."""

    frame: pd.DataFrame
    reference: pd.DataFrame
    reference_info: dict[str, Any]
    calibration: Calibration
    model_version_id: str
    known_versions: list[str]
    n_scored: int
    preview: BatchMonitoring


def _records_frame(session: Any, version_id: str) -> pd.DataFrame:
    from govflow.ledger.datasets import read_version_records
    from govflow.records import records_to_frame

    return records_to_frame(read_version_records(session=session, version_id=version_id))


@task(name="prepare-production-batch", cache_policy=NO_CACHE, persist_result=False)
def prepare_batch(
    frame: pd.DataFrame,
    config: MonitorConfig,
    *,
    reference_version_id: str | None,
    scored_at: str,
    acquired: dict[str, Any] | None = None,
) -> PreparedBatch:
    """Score rows without predictions, build the reference, and judge the batch as a dry run.

    The dry run refuses (one ``InputError``, nothing written) an empty batch, a missing
    column, a confidence outside [0, 1], a model version the ledger does not know, a project
    without a production model, or a reference too small for its tests.
    """
    from govflow.domain import Stage
    from govflow.errors import InputError
    from govflow.ledger.datasets import get_version
    from govflow.ledger.model_versions import get_model_version, list_model_versions
    from govflow.models.registry import load_production_adapter
    from govflow.monitoring.batch import monitor_batch
    from govflow.monitoring.production import build_reference, score_missing
    from govflow.settings import get_settings

    if frame.empty:
        raise InputError(
            "the production batch is empty: there is nothing to monitor" + _read_note(acquired)
        )
    ledger = Ledger.open()
    home = get_settings().home
    model_version_id, adapter = load_production_adapter(
        ledger=ledger, home=home, project=config.project
    )
    with ledger.reader() as session:
        training_id = get_model_version(
            session=session, version_id=model_version_id
        ).training_version_id
        known = [m.id for m in list_model_versions(session=session, project=config.project)]
        if training_id is None:
            raise InputError(f"model {model_version_id} has no training version to compare with")
        training = _records_frame(session, training_id)
        window = None
        if reference_version_id is not None:
            chosen = get_version(session=session, version_id=reference_version_id)
            if chosen.stage is not Stage.PRODUCTION:
                raise InputError(
                    f"reference {chosen.id} is a {chosen.stage.value} version: choose a "
                    "production window, or leave it out for the model's training version"
                )
            window = _records_frame(session, chosen.id)
            reference_version_id = chosen.id
    scored, n_scored = score_missing(
        frame,
        adapter,
        model_version_id=model_version_id,
        record=config.record,
        scored_at=scored_at,
    )
    built = build_reference(training, adapter, config=config)
    if window is not None:
        reference, info = window, {"kind": "production_window", "version_id": reference_version_id}
    else:
        reference, info = built.frame, {"kind": "training", "version_id": training_id}
    info["model_version_id"] = model_version_id
    preview = monitor_batch(
        scored, reference, config, calibration=built.calibration, model_versions=known
    )
    versions = scored[config.record.model_version].dropna()
    producer = str(versions.mode().iloc[0]) if len(versions) else model_version_id
    return PreparedBatch(
        frame=scored,
        reference=reference,
        reference_info=info,
        calibration=built.calibration,
        model_version_id=producer,
        known_versions=known,
        n_scored=n_scored,
        preview=preview,
    )


@task(name="score-records", cache_policy=NO_CACHE, persist_result=False)
def score_records(
    frame: pd.DataFrame, config: MonitorConfig, *, scored_at: str
) -> tuple[pd.DataFrame, int, str]:
    """Score rows without predictions with the production model; return the frame, how many
    were scored, and the model version."""
    from govflow.models.registry import load_production_adapter
    from govflow.monitoring.production import score_missing
    from govflow.settings import get_settings

    model_version_id, adapter = load_production_adapter(
        ledger=Ledger.open(), home=get_settings().home, project=config.project
    )
    scored, n = score_missing(
        frame,
        adapter,
        model_version_id=model_version_id,
        record=config.record,
        scored_at=scored_at,
    )
    return scored, n, model_version_id


def _read_note(acquired: dict[str, Any] | None) -> str:
    if not acquired or not acquired["rows_in"]:
        return ""
    n = acquired["rows_in"]
    reasons = ", ".join(f"{check} {count}" for check, count in acquired["reasons"].items())
    return f" ({n} row{'s' if n != 1 else ''} read, quarantined at acquisition: {reasons})"


@dataclass(frozen=True)
class RecordedMonitoring:
    run_id: str
    is_new: bool
    alerts: list[dict[str, Any]]  # id, kind, summary, event, details, is_new, intervention


@task(name="record-monitoring", cache_policy=NO_CACHE, persist_result=False)
def record_monitoring(
    result: BatchMonitoring,
    *,
    config: MonitorConfig,
    prepared: PreparedBatch,
    production_version_id: str,
    owner: str,
    extra: Any = None,
) -> RecordedMonitoring:
    """Record the run, its alerts, and one open intervention per alert (all idempotent).

    With ``extra`` (an ``AlertSpec`` found after the gate, e.g. realized accuracy with the
    reviewers' labels), record that alert alone for the already recorded run.
    """
    from govflow.hashing import content_hash
    from govflow.ledger.monitoring import open_intervention, record_alert, record_monitoring_run
    from govflow.monitoring.production import alerts_for
    from govflow.runtime import flow_actor

    run_id, actor = flow_actor()
    alerts = alerts_for(result) if extra is None else [extra]
    recorded: list[dict[str, Any]] = []
    with Ledger.open().session() as session:
        run, is_new = record_monitoring_run(
            session=session,
            project=config.project,
            model_version_id=prepared.model_version_id,
            production_version_id=production_version_id,
            reference=prepared.reference_info,
            config_hash=content_hash(config.model_dump(mode="json")),
            results=result.model_dump(mode="json"),
            is_drifted=result.drift.drifted,
            n_rows=result.n_rows,
            n_to_people=result.n_to_people,
            flow_run_id=run_id,
            actor=actor,
        )
        for spec in alerts:
            alert, alert_new = record_alert(
                session=session,
                origin=run.id if extra is None else f"{run.id}:reviews",
                project=config.project,
                kind=spec.kind,
                summary=spec.summary,
                details=spec.details,
                actor=actor,
                model_version_id=prepared.model_version_id,
                monitoring_run_id=run.id,
            )
            intervention, _ = open_intervention(
                session=session,
                alert_id=alert.id,
                slice=_slice_of(spec, production_version_id, result),
                slice_version_id=production_version_id,
                owner=owner,
                actor=actor,
            )
            recorded.append(
                {
                    "id": alert.id,
                    "kind": spec.kind.value,
                    "summary": spec.summary,
                    "event": spec.event,
                    "details": spec.details,
                    "is_new": alert_new,
                    "intervention_id": intervention.id,
                }
            )
    return RecordedMonitoring(run_id=run.id, is_new=is_new, alerts=recorded)


def _slice_of(spec: Any, production_version_id: str, result: BatchMonitoring) -> dict[str, Any]:
    columns = [c["column"] for c in spec.details.get("columns", [])]
    return {
        "production_version_id": production_version_id,
        "rows": result.n_rows,
        "columns": columns,
        "description": f"{result.n_rows} rows of production batch {production_version_id}"
        + (f", drifted in {', '.join(columns)}" if columns else ""),
    }


@task(name="emit-alert-events", cache_policy=NO_CACHE, persist_result=False)
def emit_alert_events(
    recorded: RecordedMonitoring, *, project: str, model_version_id: str, monitor_config: str
) -> list[str]:
    """Emit a Prefect event per new alert (``govflow.drift.detected``, ...); return their names.

    When an ``intervene`` deployment exists, each event names it as a related resource, so
    the automation in ``deployments/automations.yaml`` (``source: inferred``) starts it.
    """
    from prefect.events import emit_event

    related = intervene_deployment_resources()
    emitted = []
    for alert in recorded.alerts:
        if not alert["is_new"]:
            continue  # a re-run of the same batch announces nothing new
        emit_event(
            event=alert["event"],
            resource={
                "prefect.resource.id": f"govflow.intervention.{alert['intervention_id']}",
                "govflow.project": project,
                "govflow.model-version": model_version_id,
            },
            related=[
                {
                    "prefect.resource.id": f"govflow.alert.{alert['id']}",
                    "prefect.resource.role": "alert",
                },
                *related,
            ],
            payload={
                "alert_id": alert["id"],
                "kind": alert["kind"],
                "summary": alert["summary"],
                "intervention_id": alert["intervention_id"],
                "monitoring_run_id": recorded.run_id,
                "monitor_config": monitor_config,
                "details": alert["details"],
            },
        )
        emitted.append(alert["event"])
    return emitted


INTERVENE_DEPLOYMENT = "intervene/intervene"


def intervene_deployment_resources() -> list[dict[str, str]]:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            deployment = client.read_deployment_by_name(INTERVENE_DEPLOYMENT)
        except ObjectNotFound:
            return []
    return [
        {
            "prefect.resource.id": f"prefect.deployment.{deployment.id}",
            "prefect.resource.role": "intervention-deployment",
        }
    ]


@task(name="publish-monitoring", cache_policy=NO_CACHE, persist_result=False)
def publish_monitoring(
    result: BatchMonitoring,
    prepared: PreparedBatch,
    *,
    batch: str,
    config: MonitorConfig,
    history: int = 10,
) -> list[str]:
    """Publish the batch's report and drift table as artifacts; draw the drift scores of the
    model's last ``history`` batches and each drifted column's distributions (PNG files under
    ``$GOVFLOW_HOME/monitoring/<batch>/``); return the pictures' paths."""
    import pandas as pd
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    from govflow.ledger.monitoring import recent_runs
    from govflow.monitoring.plots import drift_history_png, drifted_distributions
    from govflow.monitoring.report import batch_markdown, drift_rows
    from govflow.settings import get_settings

    folder = get_settings().home / "monitoring" / batch
    folder.mkdir(parents=True, exist_ok=True)
    with Ledger.open().reader() as session:
        runs = recent_runs(
            session=session, model_version_id=prepared.model_version_id, limit=history
        )
        past = [(run.production_version_id, run.results) for run in runs]
    rows = [
        row
        for version_id, results in past
        for row in drift_rows(BatchMonitoring.model_validate(results), batch=version_id)
    ]
    pictures = {"drift-history.png": drift_history_png(pd.DataFrame(rows))} if rows else {}
    pictures |= {
        f"{column}.png": png
        for column, png in drifted_distributions(
            prepared.reference, prepared.frame, result.drift
        ).items()
    }
    paths = []
    for name, png in pictures.items():
        (folder / name).write_bytes(png)
        paths.append(str(folder / name))
    listed = "\n".join(f"- `{path}`" for path in paths)
    create_markdown_artifact(
        markdown=batch_markdown(result, title=f"Monitoring of {batch}")
        + (f"\n\n## Pictures\n\n{listed}\n" if paths else ""),
        key="monitoring-report",
        description=f"drift, PSI, accuracy and outputs to people of {batch}",
    )
    create_table_artifact(table=drift_rows(result, batch=batch), key="monitoring-drift")
    return paths


@task(name="record-feedback", cache_policy=NO_CACHE, persist_result=False)
def record_feedback(
    verdicts: list[Any],
    feedback: pd.DataFrame,
    *,
    dataset: str,
    production_version_id: str,
    model_version_id: str,
) -> str | None:
    """Record every output's verdict and register the approved and corrected rows as the
    ``feedback`` version (parent: the production batch); return its id, or None if empty."""
    from govflow.domain import Stage
    from govflow.ledger.datasets import prepare_items, register_dataset_version
    from govflow.ledger.monitoring import record_output_reviews
    from govflow.records import frame_to_records
    from govflow.runtime import flow_actor

    run_id, actor = flow_actor()
    with Ledger.open().session() as session:
        record_output_reviews(
            session=session,
            production_version_id=production_version_id,
            model_version_id=model_version_id,
            reviews=verdicts,
            actor=actor,
        )
        if feedback.empty:
            return None
        version = register_dataset_version(
            session=session,
            name=dataset,
            stage=Stage.FEEDBACK,
            items=prepare_items(frame_to_records(feedback)),
            actor=actor,
            parent_ids=[production_version_id],
            flow_run_id=run_id,
            details={
                "model_version_id": model_version_id,
                "reviewers": sorted({v.reviewer_id for v in verdicts if v.reviewer_id}),
            },
        ).version
        return version.id
