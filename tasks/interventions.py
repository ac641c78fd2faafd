"""Intervention tasks: read the work order, draw its slice, record each requirement, close."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from govflow.ledger.engine import Ledger
from govflow.runtime import flow_actor

__all__ = [
    "InterventionPlan",
    "add_production_suite_version",
    "close_if_done",
    "draw_slice",
    "intervention_plan",
    "record_requirement",
]


@dataclass(frozen=True)
class InterventionPlan:
    """An open intervention and which of its requirements are recorded already."""

    id: str
    project: str
    owner: str
    model_version_id: str
    production_version_id: str
    reannotation_round_id: str | None
    suite_version_id: str | None
    evaluation_run_id: str | None
    is_closed: bool
    trigger: str
    slice: dict[str, Any]


@task(name="intervention-plan", cache_policy=NO_CACHE, persist_result=False)
def intervention_plan(intervention_id: str) -> InterventionPlan:
    """Read the intervention; refuse one without a model version or an affected batch."""
    from govflow.domain import InterventionStatus
    from govflow.errors import InputError
    from govflow.ledger.monitoring import get_intervention

    with Ledger.open().reader() as session:
        found = get_intervention(session=session, intervention_id=intervention_id)
        if found.model_version_id is None or found.slice_version_id is None:
            raise InputError(
                f"intervention {found.id} names no model version or affected batch to work on"
            )
        return InterventionPlan(
            id=found.id,
            project=found.project,
            owner=found.owner,
            model_version_id=found.model_version_id,
            production_version_id=found.slice_version_id,
            reannotation_round_id=found.reannotation_round_id,
            suite_version_id=found.suite_version_id,
            evaluation_run_id=found.evaluation_run_id,
            is_closed=found.status is InterventionStatus.CLOSED,
            trigger=found.trigger.value,
            slice=dict(found.slice),
        )


@task(name="draw-slice", cache_policy=NO_CACHE, persist_result=False)
def draw_slice(
    plan: InterventionPlan, *, monitor_config: str, per_label: int, audit_rate: float, seed: int
) -> str:
    """Register the slice to re-annotate (stratified sample plus audit sample) as a
    ``reannotation`` version whose parent is the affected batch; return its id."""
    from govflow.domain import Stage
    from govflow.ledger.datasets import get_version, read_version_records, register_frame
    from govflow.monitoring.config import load_monitor_config
    from govflow.monitoring.production import slice_positions
    from govflow.records import records_to_frame

    config = load_monitor_config(monitor_config)
    run_id, actor = flow_actor()
    ledger = Ledger.open()
    with ledger.reader() as session:
        batch = get_version(session=session, version_id=plan.production_version_id)
        frame = records_to_frame(read_version_records(session=session, version_id=batch.id))
        name = batch.name
    positions = slice_positions(
        frame, record=config.record, per_label=per_label, audit_rate=audit_rate, seed=seed
    )
    # People label the inputs afresh: the model's answer and earlier labels are not shown.
    shown = [c for c in frame.columns if c not in _hidden_columns(config)]
    with ledger.session() as session:
        version, _ = register_frame(
            session=session,
            frame=frame.iloc[positions][shown].reset_index(drop=True),
            name=name,
            stage=Stage.REANNOTATION,
            actor=actor,
            parent_ids=[batch.id],
            flow_run_id=run_id,
            transformations=[
                {
                    "step": "intervention_slice",
                    "intervention_id": plan.id,
                    "per_label": per_label,
                    "audit_rate": audit_rate,
                    "seed": seed,
                    "rows": len(positions),
                }
            ],
        )
        return version.id


def _hidden_columns(config: Any) -> set[str]:
    record = config.record
    return {record.predicted_label, record.confidence, record.label}


@task(name="record-intervention-requirement", cache_policy=NO_CACHE, persist_result=False)
def record_requirement(intervention_id: str, *, requirement: str, value: str) -> None:
    """Record one of the three requirements (round, suite version, re-evaluation)."""
    from govflow.ledger.monitoring import (
        record_reannotation_round,
        record_reevaluation,
        record_suite_version,
    )

    _, actor = flow_actor()
    writers = {
        "reannotation_round": lambda s: record_reannotation_round(
            session=s, intervention_id=intervention_id, round_id=value, actor=actor
        ),
        "suite_version": lambda s: record_suite_version(
            session=s, intervention_id=intervention_id, suite_version_id=value, actor=actor
        ),
        "reevaluation": lambda s: record_reevaluation(
            session=s, intervention_id=intervention_id, evaluation_run_id=value, actor=actor
        ),
    }
    with Ledger.open().session() as session:
        writers[requirement](session)


@task(name="add-production-suite-version", cache_policy=NO_CACHE, persist_result=False)
def add_production_suite_version(
    plan: InterventionPlan, *, monitor_config: str, suite_path: str
) -> str:
    """Add the affected batch's labeled rows (an audit's corrected items) to the suite as a
    new version; return its id."""
    from pathlib import Path

    from govflow.domain import AlertKind
    from govflow.ledger.datasets import read_version_records
    from govflow.ledger.monitoring import read_output_reviews
    from govflow.monitoring.config import load_monitor_config
    from govflow.monitoring.intervention import add_production_slice, audit_cases
    from govflow.records import records_to_frame

    config = load_monitor_config(monitor_config)
    _, actor = flow_actor()
    ledger = Ledger.open()
    with ledger.reader() as session:
        frame = records_to_frame(
            read_version_records(session=session, version_id=plan.production_version_id)
        )
        reviewed = {
            r.position: r.label
            for r in read_output_reviews(
                session=session, production_version_id=plan.production_version_id
            )
            if r.label is not None
        }
    if plan.trigger == AlertKind.LABEL_ERRORS:
        cases = audit_cases(
            frame,
            plan.slice.get("wrong", []),
            text_column=config.record.text,
            label_set=config.label_set,
            origin=f"audit:{plan.production_version_id}",
        )
    else:
        cases = _production_cases(frame, reviewed, config, plan.production_version_id)
    suite_id, _ = add_production_slice(
        ledger=ledger,
        suite_path=Path(suite_path),
        cases=cases,
        reason=f"{plan.trigger} slice of {plan.production_version_id} (intervention {plan.id})",
        actor=actor,
    )
    return suite_id


def _production_cases(
    frame: Any, reviewed: dict[int, str], config: Any, version_id: str
) -> list[Any]:
    from govflow.monitoring.intervention import production_cases

    label = config.record.label
    if label not in frame.columns:
        frame[label] = None
    frame[label] = frame[label].astype("object")
    # A reviewer's approval or correction counts as a known label where none came later.
    for position, given in reviewed.items():
        if not isinstance(frame.at[position, label], str):
            frame.at[position, label] = given
    return production_cases(
        frame,
        record=config.record,
        label_set=config.label_set,
        origin=f"production:{version_id}",
    )


@task(name="close-intervention-if-done", cache_policy=NO_CACHE, persist_result=False)
def close_if_done(intervention_id: str) -> list[str]:
    """Close the intervention when nothing is left; return what is left (empty: closed)."""
    from govflow.ledger.monitoring import close_intervention, get_intervention, what_is_left

    _, actor = flow_actor()
    with Ledger.open().session() as session:
        found = get_intervention(session=session, intervention_id=intervention_id)
        left = what_is_left(session=session, intervention=found)
        if not left:
            close_intervention(session=session, intervention_id=found.id, actor=actor)
        return left
