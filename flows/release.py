"""Release: train, evaluate, red-team, sign off by quorum, and promote with a certificate.

In:  ``ReleaseParams``: the project, the labeled version, the model spec and seed, the suite
     file, who asked for the release.
Out: everything ``train`` and ``evaluate`` record; each signer's sign-off; when the quorum is
     reached, a promotion certificate (candidate and previous production versions, suite
     version, data versions, per-slice results, red-team hit rates, signers, expiry) and
     the ``production`` alias moved with it (an audit event). A failed evaluation or any
     rejection ends the run with the reason and moves nothing. Releasing the model that is
     already in production asks nobody and records nothing new (outcome ``unchanged``).
People: specialists judge red-team findings; a quorum of signers signs the evaluation off
     (see ``flows.lifecycle``). Deployed, the run suspends at each gate.
"""

from __future__ import annotations

from typing import Any

from prefect import flow
from pydantic import BaseModel, Field

from flows.evaluate import suite_file
from flows.lifecycle import evaluate_step, release_step
from flows.results import ReleaseResult
from flows.train import DEFAULT_SPEC
from tasks.models import current_production, train_model


class ReleaseParams(BaseModel):
    project: str
    version_id: str = Field(description="The labeled (or mixed) version to train on.")
    spec: dict[str, Any] = Field(default_factory=lambda: dict(DEFAULT_SPEC))
    seed: int = 0
    text_column: str = "text"
    suite_path: str | None = None
    requested_by: str | None = Field(
        default=None, description="Who asked for this release: they may not sign it off."
    )
    review_deadline_hours: float = Field(default=48, gt=0)


@flow(name="release", persist_result=True)
def release(params: ReleaseParams) -> ReleaseResult:
    """Train and evaluate a candidate; promote it only through a signed quorum."""
    trained = train_model(
        project=params.project,
        version_id=params.version_id,
        spec=params.spec,
        seed=params.seed,
        text_column=params.text_column,
        requested_by=params.requested_by,
    )
    production = current_production(params.project)
    if production["model_version_id"] == trained.version_id:
        # Released before (a re-triggered release, or a re-run after the promotion): the
        # certificate stands, so there is nothing to evaluate, sign or move again.
        return ReleaseResult(
            project=params.project,
            model_version_id=trained.version_id,
            evaluation_run_id=production["evaluation_run_id"] or "",
            outcome="unchanged",
            reason=f"{trained.version_id} is already in production "
            f"(certificate {production['certificate_id']})",
            certificate_id=production["certificate_id"],
            production_model_version_id=trained.version_id,
        )
    suite = suite_file(params.project, params.suite_path)
    evaluated, outcome = evaluate_step(
        project=params.project,
        model_version_id=trained.version_id,
        suite_path=suite,
        data_version_id=params.version_id,
        compare_production=True,
        review_deadline_hours=params.review_deadline_hours,
    )
    return release_step(
        project=params.project,
        evaluated=evaluated,
        report=outcome.report,
        insufficient=outcome.insufficient,
        suite_path=suite,
        review_deadline_hours=params.review_deadline_hours,
    )
