"""What each flow returns, in a module of its own.

Prefect loads a deployment's entrypoint file as a top-level module (``flows/pipeline.py``
becomes ``pipeline``); classes defined there could not be loaded back from a persisted
result by any other process. Defined here, a result unpickles wherever govflow is installed.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


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


class CalibrateResult(BaseModel):
    round_id: str
    passed: list[str]
    failed: list[str]
    scores: dict[str, float]


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
