"""Sign off: put a recorded evaluation run (govflow's own or imported, e.g. from inspect_ai)
through the quorum sign-off, certificate and promotion that a release uses.

In:  ``SignOffParams``: the evaluation run and the suite file whose sign-off settings apply.
Out: as the last steps of ``release``: sign-offs, a certificate, the moved alias.
People: a quorum of signers (see ``flows.lifecycle``).
"""

from __future__ import annotations

from prefect import flow
from pydantic import BaseModel, Field

from flows.evaluate import suite_file
from flows.lifecycle import release_step
from flows.results import EvaluateResult, ReleaseResult
from tasks.models import recorded_evaluation


class SignOffParams(BaseModel):
    evaluation_run_id: str
    suite_path: str | None = None
    review_deadline_hours: float = Field(default=48, gt=0)


@flow(name="signoff", persist_result=True)
def signoff(params: SignOffParams) -> ReleaseResult:
    """Sign a recorded evaluation off by quorum and promote the model it evaluated."""
    recorded = recorded_evaluation(params.evaluation_run_id)
    evaluated = EvaluateResult.model_validate(recorded["result"])
    return release_step(
        project=evaluated.project,
        evaluated=evaluated,
        report=recorded["report"],
        insufficient=[tuple(pair) for pair in recorded["insufficient"]],
        suite_path=suite_file(evaluated.project, params.suite_path),
        review_deadline_hours=params.review_deadline_hours,
    )
