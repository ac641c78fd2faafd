"""Calibrate: a gold-item session for annotators flagged ``needs_calibration``.

In:  ``CalibrateParams``: the project, who to calibrate (default: every annotator who needs
     it), gold items per person, the pass threshold and the session's seed.
Out: ledger rows: a calibration round over the project's gold items with each person's
     assignments and labels; per person a pass (status back to ``active``, with the score
     as the reason) or a fail (status unchanged); audit events for both. A Prefect table
     artifact with each person's score.
People: the annotators label their gold items (exported like any round; the run waits,
     suspended when deployed, until `govflow annotations import` completes the round or
     its deadline passes, after which unanswered items count as wrong).
"""

from __future__ import annotations

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, Field

from flows.results import CalibrateResult
from govflow.ledger.engine import Ledger
from govflow.runtime import flow_actor
from tasks.annotate import export_round


class CalibrateParams(BaseModel):
    project: str = Field(description="The annotation project whose gold items are used.")
    annotators: list[str] | None = Field(
        default=None, description="Who to calibrate; default: everyone needing calibration."
    )
    per_person: int = Field(default=10, ge=1, description="Gold items per annotator.")
    threshold: float = Field(default=0.7, ge=0, le=1)
    seed: int = Field(default=0, description="A new session for the same people: a new seed.")
    deadline_hours: float = Field(default=72, gt=0)
    export_dir: str | None = None


@task(name="open-calibration-round", cache_policy=NO_CACHE, persist_result=False)
def open_session(params: CalibrateParams) -> str:
    from govflow.ledger.calibration import needing_calibration, open_calibration_round

    _, actor = flow_actor()
    with Ledger.open().session() as session:
        people = params.annotators or needing_calibration(session=session)
        return open_calibration_round(
            session=session,
            project=params.project,
            annotators=people,
            per_person=params.per_person,
            seed=params.seed,
            deadline_hours=params.deadline_hours,
            actor=actor,
        ).id


@task(name="judge-calibration", cache_policy=NO_CACHE, persist_result=False)
def judge(round_id: str, threshold: float) -> CalibrateResult:
    from govflow.ledger.calibration import judge_calibration

    _, actor = flow_actor()
    with Ledger.open().session() as session:
        verdicts = judge_calibration(
            session=session, round_id=round_id, threshold=threshold, actor=actor
        )
    create_table_artifact(
        table=[
            {
                "annotator": v.annotator,
                "gold_items": v.assigned,
                "correct": v.correct,
                "accuracy": f"{v.accuracy:.2f}",
                "result": "passed: active again" if v.passed else "failed: still excluded",
            }
            for v in verdicts
        ],
        key=f"calibration-{round_id}".lower(),
        description=f"Calibration session {round_id} (threshold {threshold:.2f})",
    )
    return CalibrateResult(
        round_id=round_id,
        passed=[v.annotator for v in verdicts if v.passed],
        failed=[v.annotator for v in verdicts if not v.passed],
        scores={v.annotator: v.accuracy for v in verdicts},
    )


@flow(name="calibrate", persist_result=True)
def calibrate(params: CalibrateParams) -> CalibrateResult:
    """Give annotators gold items, wait for their labels, restore those who pass."""
    from govflow.review.collect import wait_for_annotations

    round_id = open_session(params)
    export_round(round_id, params.export_dir)
    wait_for_annotations(round_id)
    return judge(round_id, params.threshold)
