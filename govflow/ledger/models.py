"""The ledger's tables: the system of record for governance.

Model families:
- acquisition and lineage: ``Source``, ``DatasetVersion`` (pointing to the Parquet snapshot
  that holds its rows, see ``govflow.snapshots``), ``DatasetVersionParent``;
- people and standards: ``Person`` (annotators, reviewers, specialists, leads),
  ``GuidelineVersion``;
- human work: ``Annotation``, ``ReviewTask``, ``ReviewDecision``;
- validation: ``ValidationRun``, ``QuarantinedRow``;
- models: ``ModelVersion``, ``ModelAlias``, evaluations, sign-offs, certificates;
- production monitoring: ``MonitoringRun``, ``MonitoringAlert``, ``Intervention``,
  ``OutputReview``;
- synthetic data: ``SyntheticBatch``, ``SyntheticItem`` (provenance and spot-check per row),
  ``SyntheticMix`` (the caps and any waiver behind a mixed version);
- the audit trail: ``AuditEvent`` and its single-row ``AuditHead``.

Every content-addressed table is keyed by a hash of its content, so re-running a write with
the same inputs finds the existing row instead of adding one. Schema changes go through the
Alembic migrations in ``govflow/ledger/migrations``; never through ``create_all``.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from govflow.domain import (
    AlertKind,
    CertificateKind,
    DeadlinePolicy,
    EvaluationSource,
    EvaluationStatus,
    FindingStatus,
    GateStatus,
    GuidelineStatus,
    InterventionStatus,
    Origin,
    OutputVerdict,
    PersonStatus,
    Relation,
    Role,
    RoundKind,
    RoundStatus,
    SignOffDecision,
    SourceKind,
    Stage,
    SyntheticStatus,
)
from govflow.domain.review import Outcome, ReviewKind

# Re-exported: callers look for the ledger's enums here too.
__all__ = [
    "Annotation",
    "AnnotationRound",
    "Assignment",
    "AuditEvent",
    "AuditHead",
    "Base",
    "DatasetVersion",
    "DatasetVersionParent",
    "EvaluationRun",
    "EvaluationSuiteVersion",
    "GoldItem",
    "GuidelineVersion",
    "Intervention",
    "ModelAlias",
    "ModelVersion",
    "MonitoringAlert",
    "MonitoringRun",
    "Origin",
    "OutputReview",
    "Person",
    "PersonStatus",
    "PromotionCertificate",
    "QuarantinedRow",
    "RedTeamFinding",
    "ReviewDecision",
    "ReviewTask",
    "Role",
    "SignOff",
    "Source",
    "SyntheticBatch",
    "SyntheticItem",
    "SyntheticMix",
    "ValidationRun",
    "Waiver",
    "as_utc",
    "utcnow",
]

HASH = String(64)
ID = String(64)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return ``value`` as aware UTC (SQLite hands back naive datetimes, stored as UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# Named constraints keep later migrations (SQLite batch mode included) deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def _enum(cls: type[enum.Enum], name: str, length: int = 32) -> Enum:
    # Stored as plain strings (no native enum type) so later values need no DDL on Postgres.
    return Enum(cls, name=name, native_enum=False, length=length, values_callable=_values)


def _values(cls: type[enum.Enum]) -> list[str]:
    return [member.value for member in cls]


class Source(Base):
    """Where data was acquired from: a file, an HTTP API or a SQL query, with parameters."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[SourceKind] = mapped_column(_enum(SourceKind, "source_kind"))
    uri: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DatasetVersion(Base):
    """An immutable, content-addressed dataset version at one stage of the workflow."""

    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("name", "stage", "content_hash"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    stage: Mapped[Stage] = mapped_column(_enum(Stage, "stage", length=64))
    content_hash: Mapped[str] = mapped_column(HASH)
    row_count: Mapped[int] = mapped_column(BigInteger)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id"))
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    transformations: Mapped[list[Any]] = mapped_column(default=list)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The rows live in one content-addressed Parquet file; versions with equal rows share it.
    origin: Mapped[Origin] = mapped_column(_enum(Origin, "origin"), default=Origin.ORGANIC)
    snapshot_uri: Mapped[str] = mapped_column(Text)
    snapshot_sha256: Mapped[str] = mapped_column(HASH, index=True)
    snapshot_bytes: Mapped[int] = mapped_column(BigInteger)
    snapshot_schema: Mapped[dict[str, Any]] = mapped_column(default=dict)

    source: Mapped[Source | None] = relationship()


class DatasetVersionParent(Base):
    """A lineage edge: ``version_id`` was derived from ``parent_id``."""

    __tablename__ = "dataset_version_parents"

    version_id: Mapped[str] = mapped_column(ForeignKey("dataset_versions.id"), primary_key=True)
    parent_id: Mapped[str] = mapped_column(
        ForeignKey("dataset_versions.id"), primary_key=True, index=True
    )
    relation: Mapped[Relation] = mapped_column(
        _enum(Relation, "relation", length=64), default=Relation.DERIVED_FROM
    )


class Person(Base):
    """An annotator, reviewer, specialist or lead; their token is never kept.

    ``token_hash`` (salted PBKDF2) checks the token itself; ``code_key`` (derived from it by
    HMAC) checks the one-time codes a reviewer submits at gates instead of the token.
    """

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[PersonStatus] = mapped_column(
        _enum(PersonStatus, "person_status"), default=PersonStatus.ACTIVE
    )
    token_hash: Mapped[str | None] = mapped_column(String(200))
    # HMAC key derived from the token: verifies one-time gate codes (govflow.ledger.people).
    code_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GuidelineVersion(Base):
    """One version of an annotation project's guideline."""

    __tablename__ = "guideline_versions"
    __table_args__ = (UniqueConstraint("project", "version"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    label_set: Mapped[list[Any]] = mapped_column()
    is_ordinal: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    examples: Mapped[list[Any]] = mapped_column(default=list)
    changelog: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("guideline_versions.id"))
    status: Mapped[GuidelineStatus] = mapped_column(
        _enum(GuidelineStatus, "guideline_status"), default=GuidelineStatus.PUBLISHED
    )
    prompted_by: Mapped[str | None] = mapped_column(String(200))  # gate/decision behind it
    content_hash: Mapped[str] = mapped_column(HASH)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AnnotationRound(Base):
    """One round of annotation over a dataset version under one guideline version.

    ``status``, ``waits`` and ``flow_run_id`` are the collection state machine (see
    ``govflow.ledger.rounds``); ``details`` holds the round's settings and verdicts in the
    shape of ``govflow.ledger.rounds.RoundDetails``.
    """

    __tablename__ = "annotation_rounds"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[RoundKind] = mapped_column(
        _enum(RoundKind, "round_kind"), default=RoundKind.ANNOTATION
    )
    project: Mapped[str] = mapped_column(String(200), index=True)
    dataset_version_id: Mapped[str] = mapped_column(ForeignKey("dataset_versions.id"))
    guideline_version_id: Mapped[str] = mapped_column(ForeignKey("guideline_versions.id"))
    overlap: Mapped[int] = mapped_column(Integer)
    gold_rate: Mapped[float] = mapped_column(default=0.0)
    status: Mapped[RoundStatus] = mapped_column(
        _enum(RoundStatus, "round_status"), default=RoundStatus.OPEN
    )
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deadline_policy: Mapped[DeadlinePolicy] = mapped_column(
        _enum(DeadlinePolicy, "deadline_policy"), default=DeadlinePolicy.PROCEED
    )
    waits: Mapped[int] = mapped_column(Integer, default=0)  # times a run waited for labels
    flow_run_id: Mapped[str | None] = mapped_column(String(64))  # the run waiting for it
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Assignment(Base):
    """An item given to an annotator in a round (gold items look the same to them)."""

    __tablename__ = "assignments"

    round_id: Mapped[str] = mapped_column(ForeignKey("annotation_rounds.id"), primary_key=True)
    item_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    annotator_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    is_gold: Mapped[bool] = mapped_column(Boolean, default=False)
    # Reassigned at the deadline to someone else: no longer expected from this annotator.
    superseded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GoldItem(Base):
    """An item with a known answer, used to calibrate annotators."""

    __tablename__ = "gold_items"

    project: Mapped[str] = mapped_column(String(200), primary_key=True)
    item_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Annotation(Base):
    """One annotator's label for one item in one annotation round."""

    __tablename__ = "annotations"
    __table_args__ = (UniqueConstraint("round_id", "item_hash", "annotator_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("annotation_rounds.id"))
    dataset_version_id: Mapped[str] = mapped_column(ForeignKey("dataset_versions.id"))
    item_hash: Mapped[str] = mapped_column(HASH, index=True)
    annotator_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    label: Mapped[str] = mapped_column(String(200))
    guideline_version_id: Mapped[str] = mapped_column(ForeignKey("guideline_versions.id"))
    is_excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    exclusion_reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReviewTask(Base):
    """A question put to people at a review gate (one pause or suspend of a flow run)."""

    __tablename__ = "review_tasks"

    id: Mapped[str] = mapped_column(ID, primary_key=True)  # stable gate key
    flow_run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[ReviewKind] = mapped_column(_enum(ReviewKind, "review_kind", length=64))
    tier: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[GateStatus] = mapped_column(
        _enum(GateStatus, "gate_status"), default=GateStatus.OPEN
    )
    attempt: Mapped[int] = mapped_column(Integer, default=1)  # the form being asked now
    last_rejection: Mapped[str | None] = mapped_column(Text)  # why the last form was refused
    dataset_version_id: Mapped[str | None] = mapped_column(ForeignKey("dataset_versions.id"))
    guideline_version_id: Mapped[str | None] = mapped_column(ForeignKey("guideline_versions.id"))
    payload_hash: Mapped[str] = mapped_column(HASH)
    items: Mapped[list[Any]] = mapped_column(default=list)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReviewDecision(Base):
    """A person's decision on one item of a review task, with what they were shown."""

    __tablename__ = "review_decisions"
    __table_args__ = (UniqueConstraint("review_task_id", "item_key"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    review_task_id: Mapped[str] = mapped_column(ForeignKey("review_tasks.id"), index=True)
    item_key: Mapped[str] = mapped_column(String(200))
    choice: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome, "outcome"), default=Outcome.DECIDED)
    reviewer_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    tier: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    guideline_version_id: Mapped[str | None] = mapped_column(ForeignKey("guideline_versions.id"))
    payload_hash: Mapped[str] = mapped_column(HASH)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ValidationRun(Base):
    """One checkpoint run of an expectation suite over a dataset version."""

    __tablename__ = "validation_runs"

    id: Mapped[str] = mapped_column(ID, primary_key=True)  # hash of version + suite content
    dataset_version_id: Mapped[str] = mapped_column(ForeignKey("dataset_versions.id"), index=True)
    suite_name: Mapped[str] = mapped_column(String(200))
    suite_hash: Mapped[str] = mapped_column(HASH)
    success: Mapped[bool] = mapped_column(Boolean)
    expectations_evaluated: Mapped[int] = mapped_column(Integer)
    rows_in: Mapped[int] = mapped_column(BigInteger)
    rows_passed: Mapped[int] = mapped_column(BigInteger)
    rows_quarantined: Mapped[int] = mapped_column(BigInteger)
    statistics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QuarantinedRow(Base):
    """A row kept out of the next stage, with every reason it failed."""

    __tablename__ = "quarantined_rows"

    validation_run_id: Mapped[str] = mapped_column(
        ForeignKey("validation_runs.id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    item_hash: Mapped[str | None] = mapped_column(HASH)
    reasons: Mapped[list[Any]] = mapped_column()


class Waiver(Base):
    """A person's decision to ignore one failed expectation for one validated batch."""

    __tablename__ = "waivers"
    __table_args__ = (UniqueConstraint("validation_run_id", "expectation"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    validation_run_id: Mapped[str] = mapped_column(ForeignKey("validation_runs.id"), index=True)
    expectation: Mapped[str] = mapped_column(String(300))
    reviewer_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    reason: Mapped[str] = mapped_column(Text)
    review_task_id: Mapped[str | None] = mapped_column(ForeignKey("review_tasks.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SyntheticBatch(Base):
    """One batch a generator made from a labeled version under a plan, and its verdicts."""

    __tablename__ = "synthetic_batches"

    id: Mapped[str] = mapped_column(ID, primary_key=True)  # source version + plan hash
    project: Mapped[str] = mapped_column(String(200), index=True)
    dataset: Mapped[str] = mapped_column(String(200))
    source_version_id: Mapped[str] = mapped_column(ForeignKey("dataset_versions.id"))
    generated_version_id: Mapped[str] = mapped_column(ForeignKey("dataset_versions.id"))
    passed_version_id: Mapped[str | None] = mapped_column(ForeignKey("dataset_versions.id"))
    validation_run_id: Mapped[str | None] = mapped_column(ForeignKey("validation_runs.id"))
    review_task_id: Mapped[str | None] = mapped_column(String(64))  # the spot-check gate
    plan_hash: Mapped[str] = mapped_column(HASH)
    plan: Mapped[dict[str, Any]] = mapped_column()
    generator: Mapped[str] = mapped_column(String(300))
    generator_version: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[SyntheticStatus] = mapped_column(
        _enum(SyntheticStatus, "synthetic_status"), default=SyntheticStatus.SPOT_CHECK
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    rows_requested: Mapped[int] = mapped_column(Integer)
    rows_generated: Mapped[int] = mapped_column(Integer)
    rows_passed: Mapped[int | None] = mapped_column(Integer)
    rows_accepted: Mapped[int | None] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SyntheticItem(Base):
    """One synthetic row of a batch: its provenance, checks, and what people said of it."""

    __tablename__ = "synthetic_items"

    batch_id: Mapped[str] = mapped_column(ForeignKey("synthetic_batches.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    item_hash: Mapped[str] = mapped_column(HASH, index=True)
    label: Mapped[str] = mapped_column(String(200))
    provenance: Mapped[dict[str, Any]] = mapped_column()
    passed_checks: Mapped[bool] = mapped_column(Boolean)
    predicted_label: Mapped[str | None] = mapped_column(String(200))  # the label checker's
    spot_check: Mapped[str | None] = mapped_column(String(64))  # a person's choice, if asked
    reviewer_id: Mapped[str | None] = mapped_column(String(100))
    is_accepted: Mapped[bool] = mapped_column(Boolean, default=False)


class SyntheticMix(Base):
    """How a mixed version was built: its parents, batches, caps and any waiver of them."""

    __tablename__ = "synthetic_mixes"

    version_id: Mapped[str] = mapped_column(ForeignKey("dataset_versions.id"), primary_key=True)
    organic_version_id: Mapped[str] = mapped_column(ForeignKey("dataset_versions.id"))
    batch_ids: Mapped[list[Any]] = mapped_column()
    caps: Mapped[dict[str, Any]] = mapped_column()
    shares: Mapped[dict[str, Any]] = mapped_column()
    violations: Mapped[list[Any]] = mapped_column(default=list)
    waiver_reviewer_id: Mapped[str | None] = mapped_column(String(100))
    waiver_reason: Mapped[str | None] = mapped_column(Text)
    waiver_review_task_id: Mapped[str | None] = mapped_column(String(64))
    waiver_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ModelVersion(Base):
    """A model version: content-addressed by its training data version, spec and seed."""

    __tablename__ = "model_versions"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project: Mapped[str] = mapped_column(String(200), index=True)
    adapter: Mapped[str] = mapped_column(String(32))
    spec: Mapped[dict[str, Any]] = mapped_column()
    seed: Mapped[int] = mapped_column(BigInteger)
    training_version_id: Mapped[str | None] = mapped_column(ForeignKey("dataset_versions.id"))
    label_set: Mapped[list[Any]] = mapped_column()
    artifact_uri: Mapped[str | None] = mapped_column(Text)
    artifact_sha256: Mapped[str | None] = mapped_column(HASH)
    artifact_size: Mapped[int | None] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EvaluationSuiteVersion(Base):
    """One version of a project's evaluation suite, by the hash of its content."""

    __tablename__ = "evaluation_suite_versions"
    __table_args__ = (UniqueConstraint("project", "version"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)  # es- + content hash
    project: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(HASH, unique=True)
    content: Mapped[dict[str, Any]] = mapped_column()
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("evaluation_suite_versions.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[Any]] = mapped_column(default=list)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EvaluationRun(Base):
    """A model version judged on a suite version: per-slice results, red team, slice scan."""

    __tablename__ = "evaluation_runs"

    id: Mapped[str] = mapped_column(ID, primary_key=True)  # hash of what was evaluated
    project: Mapped[str] = mapped_column(String(200), index=True)
    model_version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id"), index=True)
    suite_version_id: Mapped[str] = mapped_column(ForeignKey("evaluation_suite_versions.id"))
    production_model_version_id: Mapped[str | None] = mapped_column(ForeignKey("model_versions.id"))
    data_versions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source: Mapped[EvaluationSource] = mapped_column(
        _enum(EvaluationSource, "evaluation_source"), default=EvaluationSource.GOVFLOW
    )
    status: Mapped[EvaluationStatus] = mapped_column(_enum(EvaluationStatus, "evaluation_status"))
    results: Mapped[dict[str, Any]] = mapped_column(default=dict)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RedTeamFinding(Base):
    """A red-team probe the model failed, and what specialists made of it."""

    __tablename__ = "redteam_findings"

    id: Mapped[str] = mapped_column(ID, primary_key=True)  # the probe's stable id
    evaluation_run_id: Mapped[str] = mapped_column(
        ForeignKey("evaluation_runs.id"), primary_key=True
    )
    probe: Mapped[str] = mapped_column(String(200))
    source_item_hash: Mapped[str] = mapped_column(HASH)
    text: Mapped[str] = mapped_column(Text)
    expected_label: Mapped[str] = mapped_column(String(200))
    answer: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[FindingStatus] = mapped_column(
        _enum(FindingStatus, "finding_status"), default=FindingStatus.OPEN
    )
    review_task_id: Mapped[str | None] = mapped_column(ForeignKey("review_tasks.id"))


class SignOff(Base):
    """One signer's decision on an evaluation run (recorded once per signer)."""

    __tablename__ = "signoffs"

    evaluation_run_id: Mapped[str] = mapped_column(
        ForeignKey("evaluation_runs.id"), primary_key=True
    )
    signer_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    decision: Mapped[SignOffDecision] = mapped_column(_enum(SignOffDecision, "signoff_decision"))
    waived: Mapped[list[Any]] = mapped_column(default=list)  # slices signed off as waived
    note: Mapped[str | None] = mapped_column(Text)
    review_task_id: Mapped[str] = mapped_column(ForeignKey("review_tasks.id"))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PromotionCertificate(Base):
    """The only key to the ``production`` alias: who signed what, for which versions, until when."""

    __tablename__ = "promotion_certificates"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[CertificateKind] = mapped_column(_enum(CertificateKind, "certificate_kind"))
    project: Mapped[str] = mapped_column(String(200), index=True)
    alias: Mapped[str] = mapped_column(String(64))
    model_version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id"))
    previous_model_version_id: Mapped[str | None] = mapped_column(ForeignKey("model_versions.id"))
    evaluation_run_id: Mapped[str | None] = mapped_column(ForeignKey("evaluation_runs.id"))
    content: Mapped[dict[str, Any]] = mapped_column()  # suite, data, results, signers
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ModelAlias(Base):
    """Which model version an alias (``staging``, ``production``) names in a project now.

    Its whole history is in the audit trail (``model.alias_moved`` events).
    """

    __tablename__ = "model_aliases"

    project: Mapped[str] = mapped_column(String(200), primary_key=True)
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id"))
    certificate_id: Mapped[str | None] = mapped_column(ForeignKey("promotion_certificates.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MonitoringRun(Base):
    """One production batch judged against its reference (``govflow.monitoring.batch``)."""

    __tablename__ = "monitoring_runs"

    id: Mapped[str] = mapped_column(ID, primary_key=True)  # hash of batch, reference, config
    project: Mapped[str] = mapped_column(String(200), index=True)
    model_version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id"), index=True)
    production_version_id: Mapped[str] = mapped_column(ForeignKey("dataset_versions.id"))
    reference: Mapped[dict[str, Any]] = mapped_column()  # what the batch was compared with
    config_hash: Mapped[str] = mapped_column(HASH)
    is_drifted: Mapped[bool] = mapped_column(Boolean)
    n_rows: Mapped[int] = mapped_column(BigInteger)
    n_to_people: Mapped[int] = mapped_column(BigInteger)
    results: Mapped[dict[str, Any]] = mapped_column()  # BatchMonitoring as JSON
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MonitoringAlert(Base):
    """A finding that needs attention; every alert opens (or joins) an intervention."""

    __tablename__ = "monitoring_alerts"

    id: Mapped[str] = mapped_column(ID, primary_key=True)  # hash of its origin and kind
    project: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[AlertKind] = mapped_column(_enum(AlertKind, "alert_kind"))
    model_version_id: Mapped[str | None] = mapped_column(ForeignKey("model_versions.id"))
    monitoring_run_id: Mapped[str | None] = mapped_column(
        ForeignKey("monitoring_runs.id"), index=True
    )
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Intervention(Base):
    """A work order opened by an alert; it closes only when its three requirements are met.

    The requirements: a re-annotation round over the affected slice, the evaluation suite
    version that gained the production slice, and a re-evaluation on that suite version that
    signers approved.
    """

    __tablename__ = "interventions"

    id: Mapped[str] = mapped_column(ID, primary_key=True)  # iv- + the alert's id
    project: Mapped[str] = mapped_column(String(200), index=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("monitoring_alerts.id"), unique=True)
    trigger: Mapped[AlertKind] = mapped_column(_enum(AlertKind, "alert_kind"))
    model_version_id: Mapped[str | None] = mapped_column(ForeignKey("model_versions.id"))
    slice: Mapped[dict[str, Any]] = mapped_column()  # what is affected: version, rows, columns
    slice_version_id: Mapped[str | None] = mapped_column(ForeignKey("dataset_versions.id"))
    owner: Mapped[str] = mapped_column(String(200))
    status: Mapped[InterventionStatus] = mapped_column(
        _enum(InterventionStatus, "intervention_status"), default=InterventionStatus.OPEN
    )
    reannotation_round_id: Mapped[str | None] = mapped_column(ForeignKey("annotation_rounds.id"))
    suite_version_id: Mapped[str | None] = mapped_column(ForeignKey("evaluation_suite_versions.id"))
    suite_version_hash: Mapped[str | None] = mapped_column(HASH)
    evaluation_run_id: Mapped[str | None] = mapped_column(ForeignKey("evaluation_runs.id"))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class OutputReview(Base):
    """What people (or the deadline) made of one production output sent to them."""

    __tablename__ = "output_reviews"

    production_version_id: Mapped[str] = mapped_column(
        ForeignKey("dataset_versions.id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    item_hash: Mapped[str] = mapped_column(HASH, index=True)
    model_version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id"))
    predicted_label: Mapped[str | None] = mapped_column(String(200))
    verdict: Mapped[OutputVerdict] = mapped_column(_enum(OutputVerdict, "output_verdict"))
    label: Mapped[str | None] = mapped_column(String(200))  # the label that stands, if any
    reason: Mapped[str] = mapped_column(Text)  # why the output went to people
    reviewer_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    review_task_id: Mapped[str | None] = mapped_column(ForeignKey("review_tasks.id"))
    tier: Mapped[int] = mapped_column(Integer)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEvent(Base):
    """An append-only, hash-chained record of a governance write."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    subject: Mapped[str] = mapped_column(String(300), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(HASH, unique=True)
    hash: Mapped[str] = mapped_column(HASH, unique=True)


class AuditHead(Base):
    """The chain's tip (always one row), locked by every append to serialize writers."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(HASH)
