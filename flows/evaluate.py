"""Evaluate: a model version judged on its project's evaluation suite.

In:  ``EvaluateParams``: the project, the model version, the suite file (default
     ``evaluations/<project>.yaml``), the data version (default: the model's training
     version) and whether to compare with the model behind ``production``.
Out: ledger rows: the suite version (file plus accepted edge cases), an evaluation run with
     per-slice results (routine, edge cases, adversarial, policy), red-team findings and,
     when specialists accept findings, the next suite version; Prefect artifacts: the
     report (Markdown and table) and pictures (metrics per slice against production, a
     reliability diagram), also saved under ``$GOVFLOW_HOME/evaluations/<run>/``.
People: specialists judge red-team findings at an edge-case gate (see ``flows.lifecycle``).
"""

from __future__ import annotations

from prefect import flow
from pydantic import BaseModel, Field

from flows.lifecycle import evaluate_step
from flows.results import EvaluateResult


class EvaluateParams(BaseModel):
    project: str
    model_version_id: str
    suite_path: str | None = Field(
        default=None, description="The suite file (default: evaluations/<project>.yaml)."
    )
    data_version_id: str | None = Field(
        default=None, description="The labeled version to evaluate on (default: training's)."
    )
    compare_production: bool = True
    review_deadline_hours: float = Field(default=48, gt=0)


def suite_file(project: str, given: str | None) -> str:
    """The suite file a run uses: the one given, else the project's in ``evaluations/``."""
    from govflow.evaluation.suites import suite_path

    return given or str(suite_path(project))


@flow(name="evaluate", persist_result=True)
def evaluate(params: EvaluateParams) -> EvaluateResult:
    """Evaluate a model version and have specialists judge what the red team found."""
    result, _ = evaluate_step(
        project=params.project,
        model_version_id=params.model_version_id,
        suite_path=suite_file(params.project, params.suite_path),
        data_version_id=params.data_version_id,
        compare_production=params.compare_production,
        review_deadline_hours=params.review_deadline_hours,
    )
    return result
