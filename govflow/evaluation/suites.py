"""Evaluation suites: ``evaluations/<project>.yaml``, its policy cases, and suite versions.

A suite names the project's label set and its slices. Each slice has a kind (``routine``:
the held-out test split; ``edge_cases``: adjudicated items and accepted red-team findings;
``adversarial``: red-team probes; ``policy``: the cases of the suite's policy file with
their expected labels), the metrics it computes, ``min_samples`` (fewer examples is
"insufficient evidence", which fails closed) and thresholds per metric:

- ``floor``: the point estimate must be at least this (accuracy, macro_f1, per_class_recall,
  where higher is better; for per_class_recall every class must reach it).
- ``ceiling``: the point estimate must be at most this (ece, error_rate: lower is better).
  A ``floor`` on a lower-is-better metric, or a ``ceiling`` on a higher-is-better one, is an
  error, never silently reinterpreted.
- ``max_drop``: non-inferiority against production, the largest worsening tolerated:
  with d = candidate - production bootstrapped on paired resamples, a higher-is-better
  metric needs the interval's lower bound >= -max_drop; a lower-is-better metric needs its
  upper bound <= +max_drop (the sign flipped, so a drop is always a worsening).

``max_error_rate`` caps the adapter's error rate on every slice, whatever the slice's
metrics. Loading is strict, like the expectation suites: an unknown key, slice kind, metric
or threshold, a threshold on a metric the slice does not compute, or a policy file that does
not load is an ``InputError`` naming the file and the place; nothing is skipped.

A ``SuiteVersion`` is the suite's content (file, policy cases, edge cases added later)
identified by its content hash; ``with_edge_cases`` gives the next version.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from govflow.configfiles import describe_errors, read_mapping
from govflow.errors import InputError
from govflow.evaluation.metrics import Metric
from govflow.hashing import content_hash

__all__ = [
    "BUILTIN_PROBES",
    "EVALUATIONS_DIR",
    "BootstrapSettings",
    "EdgeCase",
    "EvaluationSuite",
    "PolicyCase",
    "RedTeamSettings",
    "SliceKind",
    "SliceScanSettings",
    "SliceSpec",
    "SuiteVersion",
    "Threshold",
    "load_evaluation_suite",
    "load_policy_cases",
    "suite_path",
]

# The repository's suites; callers running elsewhere pass ``directory=``.
EVALUATIONS_DIR = Path(__file__).resolve().parents[2] / "evaluations"
BUILTIN_PROBES = ("typos", "casing_whitespace", "distractor", "prompt_injection", "pii_bait")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
_CUSTOM_PROBE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


class SliceKind(enum.StrEnum):
    """Where a slice's examples come from."""

    ROUTINE = "routine"
    EDGE_CASES = "edge_cases"
    ADVERSARIAL = "adversarial"
    POLICY = "policy"


class _Strict(BaseModel):
    # A misspelt key or a quoted number must fail loudly, never fall back to a default.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# Enums arrive from YAML as strings; strict mode would refuse any string for them.
_Kind = Annotated[SliceKind, Field(strict=False)]
_Metric = Annotated[Metric, Field(strict=False)]
_Share = Annotated[float, Field(ge=0.0, le=1.0)]


class Threshold(_Strict):
    """What one metric of a slice must meet (see the module docstring)."""

    floor: _Share | None = None
    ceiling: _Share | None = None
    max_drop: _Share | None = None

    @model_validator(mode="after")
    def _something_set(self) -> Threshold:
        if self.floor is None and self.ceiling is None and self.max_drop is None:
            raise ValueError("set floor, ceiling or max_drop")
        return self


class SliceSpec(_Strict):
    """One slice of a suite: its kind, metrics, evidence needed and thresholds."""

    name: str
    kind: _Kind
    description: str | None = None
    min_samples: int = Field(ge=1)
    metrics: list[_Metric] = Field(min_length=1)
    thresholds: dict[_Metric, Threshold] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError("use 1-100 letters, digits, '.', '_' or '-'")
        return value

    @field_validator("metrics")
    @classmethod
    def _unique_metrics(cls, metrics: list[Metric]) -> list[Metric]:
        repeated = sorted({m.value for m in metrics if metrics.count(m) > 1})
        if repeated:
            raise ValueError(f"metrics listed twice: {', '.join(repeated)}")
        return metrics

    @model_validator(mode="after")
    def _thresholds_fit_metrics(self) -> SliceSpec:
        for metric, threshold in self.thresholds.items():
            where = f"thresholds.{metric.value}"
            if metric not in self.metrics:
                raise ValueError(
                    f"{where}: the slice does not compute {metric.value} (add it to metrics)"
                )
            if metric.lower_is_better and threshold.floor is not None:
                raise ValueError(f"{where}: lower is better for {metric.value}: use ceiling")
            if not metric.lower_is_better and threshold.ceiling is not None:
                raise ValueError(f"{where}: higher is better for {metric.value}: use floor")
        return self


class BootstrapSettings(_Strict):
    """How intervals are drawn: resamples, confidence level and seed."""

    resamples: int = Field(default=1000, ge=100, le=100_000)
    level: float = Field(default=0.95, gt=0.5, lt=1.0)
    seed: int = Field(default=0, ge=0)


class RedTeamSettings(_Strict):
    """Which probes run, how many per routine item, and their seed.

    A probe is a built-in name or a project's function as ``module:function``.
    """

    seed: int = Field(ge=0)
    per_item: int = Field(default=1, ge=1, le=20)
    probes: list[str] = Field(min_length=1)

    @field_validator("probes")
    @classmethod
    def _known_probes(cls, probes: list[str]) -> list[str]:
        for probe in probes:
            if probe not in BUILTIN_PROBES and not _CUSTOM_PROBE.fullmatch(probe):
                raise ValueError(
                    f"unknown probe {probe!r}: use {', '.join(BUILTIN_PROBES)} "
                    "or a custom probe as module:function"
                )
        repeated = sorted({p for p in probes if probes.count(p) > 1})
        if repeated:
            raise ValueError(f"probes listed twice: {', '.join(repeated)}")
        return probes


class SliceScanSettings(_Strict):
    """When the slice scan flags a slice (relative gaps, significance, smallest slice)."""

    min_examples: int = Field(default=20, ge=2)
    minor_gap: _Share = 0.05
    major_gap: _Share = 0.10
    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> SliceScanSettings:
        if self.major_gap < self.minor_gap:
            raise ValueError("major_gap must be at least minor_gap")
        return self


class SignOffSettings(_Strict):
    """Who signs an evaluation off before promotion: M of the eligible signers.

    Eligible: active people with one of ``roles`` (or only the named ``signers``), never the
    one who requested the training nor the suite's ``authors``.
    """

    quorum: int = Field(default=2, ge=1, le=10)
    roles: list[Literal["reviewer", "specialist", "lead"]] = Field(
        default_factory=lambda: ["specialist", "lead"], min_length=1
    )
    signers: list[str] = Field(default_factory=list)
    certificate_days: int = Field(default=7, ge=1, le=90)

    @model_validator(mode="after")
    def _enough_named(self) -> SignOffSettings:
        if self.signers and len(set(self.signers)) < self.quorum:
            raise ValueError(
                f"quorum {self.quorum} needs at least {self.quorum} named signers, "
                f"got {len(set(self.signers))}"
            )
        return self


class EvaluationSuite(_Strict):
    """An evaluation suite file as written (see the module docstring)."""

    project: str
    labels: list[str] = Field(min_length=2)
    max_error_rate: _Share
    calibration_bins: int = Field(default=15, ge=2, le=100)
    bootstrap: BootstrapSettings = Field(default_factory=BootstrapSettings)
    policy_file: str | None = None
    redteam: RedTeamSettings | None = None
    slice_scan: SliceScanSettings = Field(default_factory=SliceScanSettings)
    signoff: SignOffSettings = Field(default_factory=SignOffSettings)
    authors: list[str] = Field(default_factory=list)
    slices: list[SliceSpec] = Field(min_length=1)

    @field_validator("project")
    @classmethod
    def _valid_project(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError("use 1-100 letters, digits, '.', '_' or '-'")
        return value

    @field_validator("labels")
    @classmethod
    def _valid_labels(cls, labels: list[str]) -> list[str]:
        if any(not label.strip() or label != label.strip() for label in labels):
            raise ValueError("labels must be non-empty with no surrounding spaces")
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"duplicate labels: {', '.join(repeated)}")
        return labels

    @model_validator(mode="after")
    def _consistent(self) -> EvaluationSuite:
        names = [s.name for s in self.slices]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"slice names used twice: {', '.join(repeated)}")
        kinds = {s.kind for s in self.slices}
        if SliceKind.POLICY in kinds and self.policy_file is None:
            raise ValueError("a slice of kind policy needs policy_file")
        if self.policy_file is not None and SliceKind.POLICY not in kinds:
            raise ValueError("policy_file is set but no slice has kind policy")
        if SliceKind.ADVERSARIAL in kinds and self.redteam is None:
            raise ValueError("a slice of kind adversarial needs redteam settings")
        return self

    def slice(self, name: str) -> SliceSpec:
        """Return the slice called ``name``."""
        for spec in self.slices:
            if spec.name == name:
                return spec
        raise KeyError(name)


class PolicyCase(_Strict):
    """A policy-aligned case: a text and the label it must get, with the reason."""

    id: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1)
    expected_label: str
    why: str = Field(min_length=1)


class EdgeCase(_Strict):
    """An example added to the ``edge_cases`` slice, e.g. an accepted red-team finding."""

    text: str = Field(min_length=1)
    label: str
    origin: str = Field(min_length=1)
    note: str | None = None


@dataclass(frozen=True)
class SuiteVersion:
    """A suite's content (file, policy cases, added edge cases) and its content hash."""

    suite: EvaluationSuite
    path: Path
    policy_cases: tuple[PolicyCase, ...] = ()
    edge_cases: tuple[EdgeCase, ...] = ()
    parent_hash: str | None = None
    content_hash: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "content_hash", content_hash(self.content()))

    def content(self) -> dict[str, Any]:
        """Return what identifies this version (not where the file lies)."""
        return {
            "suite": self.suite.model_dump(mode="json"),
            "policy_cases": [c.model_dump(mode="json") for c in self.policy_cases],
            "edge_cases": [c.model_dump(mode="json") for c in self.edge_cases],
        }

    def with_edge_cases(self, items: Iterable[EdgeCase]) -> SuiteVersion:
        """Return the next version with ``items`` added to the edge cases (self if none new).

        A text already present with the same label is skipped; with another label it is
        an ``InputError``, since one text cannot be expected to get two labels.
        """
        known = {case.text: case.label for case in self.edge_cases}
        added: list[EdgeCase] = []
        for item in items:
            if item.label not in self.suite.labels:
                raise InputError(
                    f"edge case {item.text[:60]!r}: label {item.label!r} is not in the "
                    f"labels of suite {self.suite.project}"
                )
            if item.text in known:
                if known[item.text] != item.label:
                    raise InputError(
                        f"edge case {item.text[:60]!r} is already in suite "
                        f"{self.suite.project} with label {known[item.text]!r}, "
                        f"not {item.label!r}"
                    )
                continue
            known[item.text] = item.label
            added.append(item)
        if not added:
            return self
        return SuiteVersion(
            suite=self.suite,
            path=self.path,
            policy_cases=self.policy_cases,
            edge_cases=self.edge_cases + tuple(added),
            parent_hash=self.content_hash,
        )


def suite_path(project: str, *, directory: Path | None = None) -> Path:
    """Return where the evaluation suite of ``project`` lives."""
    return (directory or EVALUATIONS_DIR) / f"{project}.yaml"


def load_evaluation_suite(path: str | Path) -> SuiteVersion:
    """Load and check a suite file and its policy cases; raise ``InputError`` on any problem."""
    path = Path(path).expanduser()
    document = read_mapping(
        path, what="evaluation suite", fields="suite fields", suffixes=(".yaml", ".yml")
    )
    try:
        suite = EvaluationSuite.model_validate(document)
    except ValidationError as exc:
        raise InputError(f"{path}: invalid evaluation suite: {describe_errors(exc)}") from None
    policy: tuple[PolicyCase, ...] = ()
    if suite.policy_file is not None:
        policy = load_policy_cases(path.parent / suite.policy_file, labels=suite.labels)
        for spec in suite.slices:
            if spec.kind == SliceKind.POLICY and spec.min_samples > len(policy):
                raise InputError(
                    f"{path}: slice {spec.name} needs min_samples {spec.min_samples} but "
                    f"{suite.policy_file} holds {len(policy)} cases: it could never pass"
                )
    return SuiteVersion(suite=suite, path=path, policy_cases=policy)


def load_policy_cases(path: Path, *, labels: list[str]) -> tuple[PolicyCase, ...]:
    """Read a JSONL file of policy cases; every line must be a valid case with a known label."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: policy file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read policy file: {exc}") from exc
    cases: list[PolicyCase] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON: {exc.msg}") from None
        if not isinstance(raw, dict):
            raise InputError(f"{where}: expected a JSON object")
        try:
            case = PolicyCase.model_validate(raw)
        except ValidationError as exc:
            raise InputError(f"{where}: invalid policy case: {describe_errors(exc)}") from None
        if case.expected_label not in labels:
            raise InputError(
                f"{where}: expected_label {case.expected_label!r} is not in the suite's "
                f"labels ({', '.join(labels)})"
            )
        if case.id in seen:
            raise InputError(f"{where}: policy case id {case.id!r} is used twice")
        seen.add(case.id)
        cases.append(case)
    if not cases:
        raise InputError(f"{path}: policy file holds no cases")
    return tuple(cases)
