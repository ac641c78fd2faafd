"""The checkpoint step every stage runs between producing a version and handing it on.

``run_checkpoint`` validates a version's rows against its stage's suite in parallel chunks,
records the run and the quarantined rows, asks people when the batch fails (a
validation-failure gate: tier 1 reviewers, specialists and leads by ``deadline_hours``;
escalation to tier 2; abort when nobody answers), applies their decision (continue with
the clean rows, waive checks, or abort), publishes the checkpoint's artifacts, and
registers the rows that passed as the next version. Every write is keyed by content and
every answered gate is read back from the ledger, so a re-run repeats nothing.

Not a flow: it runs its tasks inside the calling stage's flow run, so the stage's run is
what waits (and suspends when deployed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from prefect import get_run_logger
from prefect.utilities.annotations import quote

from govflow.domain import Stage
from govflow.sources.acquire import Acquisition
from govflow.validation.batch import BatchDecision, Upstream
from govflow.validation.checkpoint import ValidationOutcome
from govflow.validation.suites import SuiteSpec
from tasks.validation import (
    publish_validation_artifacts,
    record_checkpoint,
    register_passed_rows,
    validate_in_chunks,
)

__all__ = ["CheckpointResult", "CheckpointSettings", "Upstream", "run_checkpoint"]


@dataclass(frozen=True)
class CheckpointSettings:
    """How a stage runs its checkpoint (from the stage's parameters)."""

    chunk_size: int
    review_deadline_hours: float
    waiver_days: int
    data_docs: bool = True


@dataclass(frozen=True)
class CheckpointResult:
    """The checkpoint's verdict and the version of the rows that passed."""

    outcome: ValidationOutcome
    decision: BatchDecision
    validation_run_id: str
    passed_version_id: str


def run_checkpoint(
    frame: pd.DataFrame,
    *,
    dataset: str,
    checkpoint: str,
    suite: SuiteSpec,
    version_id: str,
    item_hashes: list[str],
    passed_stage: Stage,
    settings: CheckpointSettings,
    acquisition: Acquisition | None = None,
    upstream: Upstream | None = None,
) -> CheckpointResult:
    """Validate ``frame`` (the rows of ``version_id``) and register what passed.

    ``checkpoint`` names the checkpoint (``raw``, ``preprocessed``, ``labeled``) in gates,
    artifacts and messages; ``upstream`` counts rows of the batch quarantined before it (at
    acquisition) against the dataset's threshold. Raises ``BatchAborted`` when people (or the
    deadline policy) stop the batch.
    """
    from govflow.records import frame_for_validation
    from govflow.review.gate import request_review
    from govflow.settings import get_settings
    from govflow.validation.batch import (
        abort_if_aborted,
        decide_batch,
        failing_checks,
        needs_people,
        validation_failure_request,
    )

    logger = get_run_logger()
    outcome = validate_in_chunks(
        frame_for_validation(frame),
        suite,
        content_key=version_id,
        chunk_size=settings.chunk_size,
        data_docs_dir=get_settings().home / "data_docs" if settings.data_docs else None,
    )
    # quote(): Prefect would otherwise walk a million-element list twice looking for futures.
    run_id = record_checkpoint(
        quote(outcome), version_id=version_id, item_hashes=quote(item_hashes)
    )
    gate = None
    if needs_people(outcome, upstream):
        reasons = [text for _, text in failing_checks(outcome, upstream)]
        logger.warning("%s batch stopped for people: %s", checkpoint, "; ".join(reasons))
        gate = request_review(
            validation_failure_request(
                outcome,
                dataset_version_id=version_id,
                stage=checkpoint,
                deadline_hours=settings.review_deadline_hours,
                upstream=upstream,
            )
        )
    decision = decide_batch(outcome, gate, upstream)
    publish_validation_artifacts(
        dataset, checkpoint, quote(outcome), quote(decision), quote(acquisition)
    )
    abort_if_aborted(decision, dataset=dataset, stage=checkpoint)
    passed_id = register_passed_rows(
        quote(item_hashes),
        quote(decision),
        dataset=dataset,
        parent_id=version_id,
        validation_run_id=run_id,
        suite_name=suite.name,
        waiver_days=timedelta(days=settings.waiver_days),
        stage=passed_stage,
    )
    return CheckpointResult(
        outcome=outcome,
        decision=decision,
        validation_run_id=run_id,
        passed_version_id=passed_id,
    )
