"""Monitor: judge one production batch of a model's outputs, and send the doubtful ones to people.

In:  ``MonitorParams``: the production source's dataset config (a file, HTTP or SQL source,
     read as ingestion reads it), the project's monitor config
     (``monitoring/<project>.yaml``), who owns the interventions it opens, and optionally a
     production window to compare with instead of the model's training version.
Out: ledger rows: a ``raw`` version of the batch as scored (rows without a prediction are
     scored by the model behind ``production``, as the ``score`` flow does), the
     ``<dataset>.production`` (or ``default.production``) validation run with its
     quarantined rows, a ``production`` version of the rows that passed, a monitoring run
     (drift per column with test, statistic and threshold; PSI; expected and realized
     accuracy; how many outputs went to people) linked to the model version, one alert per
     finding and one open intervention per alert; every output's verdict; a ``feedback``
     version of the approved and corrected outputs (parent: the production version);
     realized accuracy again with the reviewers' labels where no late label came (below its
     floor: a ``realized_accuracy`` alert and its intervention).
     Prefect events per new alert (``govflow.drift.detected``, ``govflow.accuracy.below``)
     and artifacts (report, drift table); pictures of drifted columns under
     ``$GOVFLOW_HOME/monitoring/<batch>/``.
People: outputs meeting the activation conditions go to a production-output gate (tier 1:
     reviewers, specialists, leads; deadline ``review_deadline_hours``): approve, correct
     the label (``correct:<label>``), withhold, or escalate to tier 2. Nobody answering
     escalates; nobody answering at tier 2 withholds the output, never approves it. A failed
     checkpoint asks people as every stage's checkpoint does.
A batch the monitor cannot judge (empty, a missing column, a confidence outside [0, 1], an
unknown model version, no production model, a reference too small for its tests) is one
clear error before anything is written.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote
from pydantic import BaseModel, Field

from flows.checkpoint import CheckpointSettings, Upstream, run_checkpoint
from flows.results import MonitorResult
from tasks.ingest import acquire_source, record_acquisition
from tasks.monitoring import (
    emit_alert_events,
    prepare_batch,
    publish_monitoring,
    record_feedback,
    record_monitoring,
)


class MonitorParams(BaseModel):
    """Which batch to judge, against what, and who owns what it finds."""

    config_path: str = Field(description="The production source's dataset config (YAML/TOML).")
    monitor_config: str = Field(description="The monitor config, e.g. monitoring/<project>.yaml.")
    path: str | None = Field(
        default=None,
        description="A file source's batch file to read instead of the config's path.",
    )
    owner: str = Field(min_length=1, description="Who owns the interventions this run opens.")
    reference_version_id: str | None = Field(
        default=None,
        description="A production version to compare with (default: the training version).",
    )
    scored_at: str | None = Field(
        default=None,
        description="The time stamped on rows this run scores (default: when the run was "
        "created, so a run re-executed from the top scores identically).",
    )
    review_deadline_hours: float = Field(default=48, gt=0)
    waiver_days: int = Field(default=30, ge=1)
    chunk_size: int | None = Field(default=None, ge=100)
    data_docs: bool = False


def scoring_time() -> str:
    """Return when this flow run was created, as canonical UTC text.

    Stable for the run's life: a run that suspends is re-executed from the top (and
    rescheduled), and must score its batch identically to find what it recorded.
    """
    from prefect.context import FlowRunContext

    from govflow.hashing import canonical_time
    from govflow.ledger.models import utcnow

    context = FlowRunContext.get()
    created = context.flow_run.created if context and context.flow_run else None
    return canonical_time(created or utcnow())


@flow(name="monitor", persist_result=True, task_runner=ThreadPoolTaskRunner(max_workers=2))
def monitor(params: MonitorParams) -> MonitorResult:
    """Score, check, judge and record one production batch; people review doubtful outputs."""
    from govflow.domain import Stage
    from govflow.monitoring.batch import monitor_batch
    from govflow.monitoring.config import load_monitor_config
    from govflow.monitoring.production import (
        feedback_frame,
        output_request,
        output_verdicts,
        realized_alert,
        reviewed_accuracy,
    )
    from govflow.monitoring.suite import bind_production_suite
    from govflow.review.gate import request_review
    from govflow.sources.config import load_dataset_config
    from govflow.validation.suites import suite_for

    logger = get_run_logger()
    source = load_dataset_config(params.config_path)
    if params.path is not None:
        source = source.with_path(params.path)
    config = load_monitor_config(params.monitor_config)
    acquisition = acquire_source(source)
    prepared = prepare_batch(
        quote(acquisition.frame),
        config,
        reference_version_id=params.reference_version_id,
        scored_at=params.scored_at or scoring_time(),
        acquired={"rows_in": acquisition.rows_in, "reasons": acquisition.reason_counts()},
    )
    scored = dataclasses.replace(acquisition, frame=prepared.frame)
    raw = record_acquisition(quote(scored), source)
    suite = bind_production_suite(
        suite_for(source.name, "production", declared=source.suites.get("production")),
        label_set=config.label_set,
        model_versions=prepared.known_versions,
    )
    checked = run_checkpoint(
        prepared.frame,
        dataset=source.name,
        checkpoint="production",
        suite=suite,
        version_id=raw.version_id,
        item_hashes=raw.hashes,
        passed_stage=Stage.PRODUCTION,
        settings=CheckpointSettings(
            chunk_size=params.chunk_size or source.chunk_size,
            review_deadline_hours=params.review_deadline_hours,
            waiver_days=params.waiver_days,
            data_docs=params.data_docs,
        ),
        acquisition=scored,
        upstream=Upstream(
            rows_read=acquisition.rows_in,
            quarantined=len(acquisition.quarantined),
            threshold=source.quarantine_threshold,
        ),
    )
    production_id = checked.passed_version_id
    mask = checked.decision.passed_mask
    frame = prepared.frame[mask].reset_index(drop=True)
    hashes = [h for h, kept in zip(raw.hashes, mask, strict=True) if kept]
    if bool(np.all(mask)):
        result = prepared.preview
    else:
        result = monitor_batch(
            frame,
            prepared.reference,
            config,
            calibration=prepared.calibration,
            model_versions=prepared.known_versions,
        )
    recorded = record_monitoring(
        quote(result),
        config=config,
        prepared=quote(prepared),
        production_version_id=production_id,
        owner=params.owner,
    )
    for alert in recorded.alerts:
        logger.warning(
            "alert %s: %s (intervention %s)",
            alert["kind"],
            alert["summary"],
            alert["intervention_id"],
        )
    events = emit_alert_events(
        recorded,
        project=config.project,
        model_version_id=prepared.model_version_id,
        monitor_config=params.monitor_config,
    )
    publish_monitoring(quote(result), quote(prepared), batch=production_id, config=config)
    request = output_request(
        frame,
        result.to_people,
        config=config,
        production_version_id=production_id,
        deadline_hours=params.review_deadline_hours,
    )
    verdicts, feedback_id = [], None
    if request is not None:
        gate = request_review(request)
        verdicts = output_verdicts(gate, frame, result.to_people, hashes, record=config.record)
        feedback_id = record_feedback(
            quote(verdicts),
            quote(feedback_frame(frame, verdicts, record=config.record)),
            dataset=source.name,
            production_version_id=production_id,
            model_version_id=prepared.model_version_id,
        )
    realized = reviewed_accuracy(frame, verdicts, config=config) if verdicts else None
    late_alert = realized_alert(realized) if realized is not None else None
    if late_alert is not None:
        reviewed = record_monitoring(
            quote(result),
            config=config,
            prepared=quote(prepared),
            production_version_id=production_id,
            owner=params.owner,
            extra=late_alert,
        )
        recorded.alerts.extend(reviewed.alerts)
        events += emit_alert_events(
            reviewed,
            project=config.project,
            model_version_id=prepared.model_version_id,
            monitor_config=params.monitor_config,
        )
    return MonitorResult.of(
        project=config.project,
        production_version_id=production_id,
        model_version_id=prepared.model_version_id,
        monitoring_run_id=recorded.run_id,
        result=result,
        alerts=recorded.alerts,
        events=events,
        n_scored=prepared.n_scored,
        scored_at=params.scored_at or scoring_time(),
        verdicts=verdicts,
        feedback_version_id=feedback_id,
        realized_with_reviews=realized,
    )
