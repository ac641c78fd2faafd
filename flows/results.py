"""What each flow returns, in a module of its own.

Prefect loads a deployment's entrypoint file as a top-level module (``flows/pipeline.py``
becomes ``pipeline``); classes defined there could not be loaded back from a persisted
result by any other process. Defined here, a result unpickles wherever govflow is installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from flows.checkpoint import CheckpointResult


class IngestResult(BaseModel):
    dataset: str
    raw_version_id: str
    validated_version_id: str
    rows_read: int
    rows_quarantined_at_acquisition: int
    rows_validated: int
    rows_quarantined_by_suite: int
    rows_passed: int
    waived: list[str] = Field(default_factory=list)
    decided_by: list[str] = Field(default_factory=list)

    @classmethod
    def of(
        cls, *, dataset: str, acquisition: Any, raw_version_id: str, checked: CheckpointResult
    ) -> IngestResult:
        """Summarize an ingest run from its acquisition and its raw checkpoint."""
        outcome, decision = checked.outcome, checked.decision
        return cls(
            dataset=dataset,
            raw_version_id=raw_version_id,
            validated_version_id=checked.passed_version_id,
            rows_read=acquisition.rows_in,
            rows_quarantined_at_acquisition=len(acquisition.quarantined),
            rows_validated=outcome.rows_in,
            rows_quarantined_by_suite=outcome.rows_in - decision.rows_passed,
            rows_passed=decision.rows_passed,
            waived=decision.waived,
            decided_by=decision.decided_by,
        )


class PreprocessResult(BaseModel):
    dataset: str
    input_version_id: str
    preprocessed_version_id: str
    curated_version_id: str
    rows_in: int
    exact_duplicates_removed: int
    near_duplicates_marked: int
    redactions: dict[str, int]
    rows_quarantined: int
    rows_passed: int

    @classmethod
    def of(
        cls,
        *,
        dataset: str,
        input_version_id: str,
        preprocessed_version_id: str,
        batch: Any,
        checked: CheckpointResult,
    ) -> PreprocessResult:
        """Summarize a pre-processing run from its batch's lineage steps and its checkpoint."""
        from govflow.preprocess.batch import step_counts

        counts = step_counts(batch.steps)
        return cls(
            dataset=dataset,
            input_version_id=input_version_id,
            preprocessed_version_id=preprocessed_version_id,
            curated_version_id=checked.passed_version_id,
            rows_in=batch.rows_in,
            exact_duplicates_removed=batch.exact_duplicates_removed,
            near_duplicates_marked=counts.near_duplicates_marked,
            redactions=counts.redactions,
            rows_quarantined=checked.outcome.rows_in - checked.decision.rows_passed,
            rows_passed=checked.decision.rows_passed,
        )


class AnnotateResult(BaseModel):
    round_id: str
    input_version_id: str
    annotated_version_id: str
    labeled_version_id: str
    guideline_version_id: str
    items: int
    labels_counted: int
    labels_excluded: int
    needs_calibration: list[str]
    contested: int
    audited: int
    audit_overrides: int
    decided_by_people: int
    status_counts: dict[str, int]
    rows_passed: int
    rows_quarantined: int
    statistics: dict
    collection: dict
    draft_guideline_id: str | None = None
    guideline_published: bool = False
    reannotation_round_id: str | None = None
    reannotation_items: int = 0

    @classmethod
    def of(
        cls,
        *,
        round_id: str,
        context: Any,
        annotated_version_id: str,
        frame: Any,
        final: dict[str, Any],
        consensus: Any,
        flagged: list[str],
        audited: list[str],
        overrides: int,
        collection: dict[str, Any],
        checked: CheckpointResult,
        draft_guideline_id: str | None,
        guideline_published: bool,
        reannotation_round_id: str | None,
        reannotation_items: int,
    ) -> AnnotateResult:
        """Summarize an annotation round from its consensus, decisions and checkpoint."""
        from govflow.annotation.adjudication import decided_by_people, status_counts

        stats = consensus.statistics
        return cls(
            round_id=round_id,
            input_version_id=context.version_id,
            annotated_version_id=annotated_version_id,
            labeled_version_id=checked.passed_version_id,
            guideline_version_id=context.guideline_id,
            items=len(context.hashes),
            labels_counted=stats["labels_counted"],
            labels_excluded=stats["labels_excluded"],
            needs_calibration=flagged,
            contested=stats["contested"],
            audited=len(audited),
            audit_overrides=overrides,
            decided_by_people=decided_by_people(final),
            status_counts=status_counts(frame),
            rows_passed=checked.decision.rows_passed,
            rows_quarantined=checked.outcome.rows_in - checked.decision.rows_passed,
            statistics=stats,
            collection=collection,
            draft_guideline_id=draft_guideline_id,
            guideline_published=guideline_published,
            reannotation_round_id=reannotation_round_id,
            reannotation_items=reannotation_items,
        )


class CalibrateResult(BaseModel):
    round_id: str
    passed: list[str]
    failed: list[str]
    scores: dict[str, float]


class SynthesizeResult(BaseModel):
    project: str
    batch_id: str
    status: str
    reason: str | None = None
    source_version_id: str
    generated_version_id: str
    passed_version_id: str
    mixed_version_id: str | None = None
    rows_requested: int
    rows_generated: int
    rows_rejected_by_generator: int
    rows_quarantined: int
    rows_accepted: int
    quarantined_by_check: dict[str, int] = Field(default_factory=dict)
    spot_checked: int = 0
    label_disagreements: int = 0
    cap_violations: list[str] = Field(default_factory=list)


class PipelineResult(BaseModel):
    dataset: str
    raw_version_id: str
    validated_version_id: str
    preprocessed_version_id: str
    curated_version_id: str
    annotated_version_id: str
    labeled_version_id: str
    round_id: str
    ingest: IngestResult
    preprocess: PreprocessResult
    annotate: AnnotateResult
    summary: str
    synthesize: SynthesizeResult | None = None


class TrainResult(BaseModel):
    project: str
    model_version_id: str
    training_version_id: str
    is_new: bool
    train_rows: int
    test_rows: int


class EvaluateResult(BaseModel):
    project: str
    model_version_id: str
    evaluation_run_id: str
    suite_version_id: str
    status: str
    failed: list[str] = Field(default_factory=list)
    insufficient: list[str] = Field(default_factory=list)
    findings: int = 0
    new_suite_version_id: str | None = None
    report_folder: str | None = None


class ReleaseResult(BaseModel):
    project: str
    model_version_id: str
    evaluation_run_id: str
    outcome: str  # promoted | rejected | failed | unchanged
    reason: str
    signers: list[str] = Field(default_factory=list)
    certificate_id: str | None = None
    production_model_version_id: str | None = None


class MonitorResult(BaseModel):
    project: str
    production_version_id: str
    model_version_id: str
    monitoring_run_id: str
    rows: int
    is_drifted: bool
    drifted_columns: list[str] = Field(default_factory=list)
    alerts: list[str] = Field(default_factory=list)  # "<kind>: <summary>"
    interventions: list[str] = Field(default_factory=list)
    events: list[str] = Field(default_factory=list)
    n_scored: int = 0
    scored_at: str | None = None
    n_to_people: int = 0
    verdicts: dict[str, int] = Field(default_factory=dict)
    feedback_version_id: str | None = None
    realized_with_reviews: dict[str, Any] | None = None  # late labels and reviewers' labels

    @classmethod
    def of(
        cls,
        *,
        project: str,
        production_version_id: str,
        model_version_id: str,
        monitoring_run_id: str,
        result: Any,
        alerts: list[dict[str, Any]],
        events: list[str],
        n_scored: int,
        scored_at: str | None,
        verdicts: list[Any],
        feedback_version_id: str | None,
        realized_with_reviews: Any = None,
    ) -> MonitorResult:
        """Summarize a monitor run from its batch result, alerts and verdicts."""
        counts: dict[str, int] = {}
        for verdict in verdicts:
            counts[verdict.verdict.value] = counts.get(verdict.verdict.value, 0) + 1
        return cls(
            project=project,
            production_version_id=production_version_id,
            model_version_id=model_version_id,
            monitoring_run_id=monitoring_run_id,
            rows=result.n_rows,
            is_drifted=result.drift.drifted,
            drifted_columns=[c.column for c in result.drift.columns if c.drifted],
            alerts=[f"{a['kind']}: {a['summary']}" for a in alerts],
            interventions=[a["intervention_id"] for a in alerts],
            events=events,
            n_scored=n_scored,
            scored_at=scored_at,
            n_to_people=result.n_to_people,
            verdicts=dict(sorted(counts.items())),
            feedback_version_id=feedback_version_id,
            realized_with_reviews=(
                realized_with_reviews.model_dump(mode="json") if realized_with_reviews else None
            ),
        )


class InterveneResult(BaseModel):
    intervention_id: str
    project: str
    outcome: str  # closed, open, closed already
    left: list[str] = Field(default_factory=list)
    reannotation_round_id: str | None = None
    suite_version_id: str | None = None
    evaluation_run_id: str | None = None
    signoff: str | None = None

    @classmethod
    def of(
        cls,
        plan: Any,
        *,
        left: list[str],
        outcome: str,
        round_id: str | None = None,
        suite_version_id: str | None = None,
        evaluation_run_id: str | None = None,
        signoff: str | None = None,
    ) -> InterveneResult:
        """Summarize an intervene run."""
        return cls(
            intervention_id=plan.id,
            project=plan.project,
            outcome=outcome,
            left=left,
            reannotation_round_id=round_id or plan.reannotation_round_id,
            suite_version_id=suite_version_id or plan.suite_version_id,
            evaluation_run_id=evaluation_run_id or plan.evaluation_run_id,
            signoff=signoff,
        )


class ScoreResult(BaseModel):
    rows: int
    n_scored: int
    rows_quarantined: int
    model_version_id: str
    output_path: str


class AuditResult(BaseModel):
    project: str
    version_id: str
    finding: dict[str, Any]
    alert: str | None = None
    intervention_id: str | None = None
