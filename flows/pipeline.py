"""Pipeline: ingest → pre-process → annotate (with its labeled checkpoint) → curated labels,
then, when a synthesis plan is given, synthesize (expand rare classes, mix under caps).

In:  ``PipelineParams``: the dataset config, the annotation project (and optionally the
     guideline file to publish and a gold-answer file), and the round's settings.
Out: every stage's ledger rows (see each flow), each stage a subflow with checkpoints
     between them, and a Markdown artifact summarizing counts, quarantines, decisions,
     agreement and the lineage of the labeled version.
People: whatever the stages ask: validation-failure gates in ingest and pre-processing,
     annotators for the round, contested-annotation, escalation and guideline approval
     gates; with a synthesis plan, the synthetic spot-check (and a lead's cap waiver).
     Stages run as subflows, so their human steps *pause* the pipeline run (it holds
     its worker slot while people answer); deploy the stages separately (``ingest``,
     ``preprocess``, ``annotate`` deployments) when runs must suspend and free workers.
Re-running with the same inputs repeats nothing: every write is keyed by content and every
answered gate is read back from the ledger.
"""

from __future__ import annotations

from typing import Literal

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, Field

from flows.annotate import AnnotateParams, annotate
from flows.ingest import IngestParams, ingest
from flows.preprocess import PreprocessParams, preprocess
from flows.results import AnnotateResult, IngestResult, PipelineResult, PreprocessResult
from govflow.ledger.engine import Ledger


class PipelineParams(BaseModel):
    config_path: str = Field(description="The dataset config (YAML or TOML).")
    project: str = Field(description="The annotation project (guideline project).")
    guideline_path: str | None = Field(
        default=None, description="Guideline file to publish first (skipped if already there)."
    )
    gold_path: str | None = Field(
        default=None, description="Gold answers as JSONL keyed by the config's key column."
    )
    overlap: int = Field(default=3, ge=1)
    gold_rate: float = Field(default=0.1, ge=0, lt=1)
    seed: int = 0
    annotation_deadline_hours: float = Field(default=72, gt=0)
    deadline_policy: Literal["proceed", "reassign"] = "proceed"
    review_deadline_hours: float = Field(default=48, gt=0)
    audit_rate: float = Field(default=0.02, ge=0, le=1)
    method: Literal["dawid_skene", "majority"] = "dawid_skene"
    data_docs: bool = True
    synthesis_plan_path: str | None = Field(
        default=None,
        description="A synthesis plan: expand the labeled version and build a mixed version.",
    )


@task(name="publish-guideline", cache_policy=NO_CACHE, persist_result=False)
def ensure_guideline(path: str, project: str) -> str:
    """Publish the guideline file unless a version with the same content exists already."""
    from govflow.errors import InputError
    from govflow.ledger.guidelines import ensure_published, load_guideline_document
    from govflow.runtime import flow_actor

    document = load_guideline_document(path)
    if document.project != project:
        raise InputError(f"guideline {path} is for project {document.project!r}, not {project!r}")
    _, actor = flow_actor()
    with Ledger.open().session() as session:
        return ensure_published(session=session, document=document, actor=actor)


@task(name="pipeline-summary", cache_policy=NO_CACHE, persist_result=False)
def summarize(ingested: IngestResult, pre: PreprocessResult, ann: AnnotateResult) -> str:
    """Write the run's Markdown summary and publish it as an artifact."""
    from govflow.reports.pipeline import pipeline_markdown

    with Ledger.open().reader() as session:
        text = pipeline_markdown(session=session, ingested=ingested, pre=pre, ann=ann)
    create_markdown_artifact(
        markdown=text,
        key=f"pipeline-{ingested.dataset}".lower().replace("_", "-"),
        description="Counts, quarantines, decisions, agreement and lineage of this run",
    )
    return text


@flow(name="pipeline", persist_result=True)
def pipeline(params: PipelineParams) -> PipelineResult:
    """Ingest, pre-process and annotate one dataset into a curated labeled version."""
    from govflow.sources.config import load_dataset_config

    config = load_dataset_config(params.config_path)
    if params.guideline_path:
        ensure_guideline(params.guideline_path, params.project)
    ingested = ingest(
        IngestParams(
            config_path=params.config_path,
            review_deadline_hours=params.review_deadline_hours,
            data_docs=params.data_docs,
        )
    )
    pre = preprocess(
        PreprocessParams(
            config_path=params.config_path,
            version_id=ingested.validated_version_id,
            review_deadline_hours=params.review_deadline_hours,
            data_docs=params.data_docs,
        )
    )
    ann = annotate(
        AnnotateParams(
            project=params.project,
            version_id=pre.curated_version_id,
            item_key=config.key,
            text_field=config.text_column or "text",
            gold_path=params.gold_path,
            overlap=params.overlap,
            gold_rate=params.gold_rate,
            seed=params.seed,
            deadline_hours=params.annotation_deadline_hours,
            deadline_policy=params.deadline_policy,
            method=params.method,
            audit_rate=params.audit_rate,
            review_deadline_hours=params.review_deadline_hours,
        )
    )
    synthesized = None
    if params.synthesis_plan_path:
        from flows.synthesize import SynthesizeParams, synthesize

        synthesized = synthesize(
            SynthesizeParams(
                project=params.project,
                version_id=ann.labeled_version_id,
                plan_path=params.synthesis_plan_path,
                review_deadline_hours=params.review_deadline_hours,
            )
        )
    return PipelineResult(
        dataset=config.name,
        raw_version_id=ingested.raw_version_id,
        validated_version_id=ingested.validated_version_id,
        preprocessed_version_id=pre.preprocessed_version_id,
        curated_version_id=pre.curated_version_id,
        annotated_version_id=ann.annotated_version_id,
        labeled_version_id=ann.labeled_version_id,
        round_id=ann.round_id,
        ingest=ingested,
        preprocess=pre,
        annotate=ann,
        summary=summarize(ingested, pre, ann),
        synthesize=synthesized,
    )
