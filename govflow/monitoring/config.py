"""The monitor config: which production columns are watched and how, and what goes to people.

One YAML file per project (``monitoring/<project>.yaml``) declares the columns to watch with
their kind, optional per-column drift tests and thresholds, the share of drifted columns
that makes a batch drifted, the PSI bands, the text checks, the activation conditions that
send outputs to people and the accuracy floors. Unknown fields are refused, so a typo never
silently falls back to a default; ``load_monitor_config`` turns every problem of a file into
one ``InputError`` line.

The vocabulary of drift tests lives here too (``DriftTest``, which kinds each one accepts
and its default threshold), so that a config is checked without importing scipy.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from govflow.configfiles import describe_errors, read_mapping
from govflow.errors import InputError

__all__ = [
    "DEFAULT_THRESHOLDS",
    "P_VALUE_TESTS",
    "TESTS_FOR_KIND",
    "AccuracySettings",
    "ActivationSettings",
    "ColumnKind",
    "ColumnMonitor",
    "DomainClassifierSettings",
    "DriftTest",
    "MonitorConfig",
    "PsiSettings",
    "RecordColumns",
    "TextSettings",
    "load_monitor_config",
]


class ColumnKind(enum.StrEnum):
    """What a monitored column holds; it decides which drift tests apply."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BINARY = "binary"
    TEXT = "text"


class DriftTest(enum.StrEnum):
    """A drift test or distance, named as Evidently names it."""

    KS = "ks"
    CHISQUARE = "chisquare"
    Z = "z"
    WASSERSTEIN = "wasserstein"
    JENSENSHANNON = "jensenshannon"
    PSI = "psi"
    DOMAIN_CLASSIFIER = "domain_classifier"


# Tests whose score is a p-value: drift when it falls below the threshold. The others are
# distances (or a ROC AUC): drift when they reach it.
P_VALUE_TESTS = frozenset({DriftTest.KS, DriftTest.CHISQUARE, DriftTest.Z})

# Evidently's defaults (StatTest.default_threshold; 0.55 is its absolute text-content drift).
DEFAULT_THRESHOLDS: dict[DriftTest, float] = {
    DriftTest.KS: 0.05,
    DriftTest.CHISQUARE: 0.05,
    DriftTest.Z: 0.05,
    DriftTest.WASSERSTEIN: 0.1,
    DriftTest.JENSENSHANNON: 0.1,
    DriftTest.PSI: 0.1,
    DriftTest.DOMAIN_CLASSIFIER: 0.55,
}

_ON_VALUES = frozenset({DriftTest.CHISQUARE, DriftTest.Z, DriftTest.JENSENSHANNON, DriftTest.PSI})
# Numeric columns also accept chi-square and z: Evidently picks them itself for numeric
# columns with at most 5 distinct values, so pinning what it picked must be allowed.
TESTS_FOR_KIND: dict[ColumnKind, frozenset[DriftTest]] = {
    ColumnKind.NUMERIC: _ON_VALUES | {DriftTest.KS, DriftTest.WASSERSTEIN},
    ColumnKind.CATEGORICAL: _ON_VALUES,
    ColumnKind.BINARY: _ON_VALUES,
    ColumnKind.TEXT: frozenset({DriftTest.DOMAIN_CLASSIFIER}),
}


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ColumnMonitor(_Settings):
    """One watched column; ``test`` and ``threshold`` override Evidently's default choice."""

    name: str = Field(min_length=1)
    kind: ColumnKind
    test: DriftTest | None = None
    threshold: float | None = Field(None, gt=0.0)

    @model_validator(mode="after")
    def _check_test(self) -> ColumnMonitor:
        allowed = TESTS_FOR_KIND[self.kind]
        if self.test is not None and self.test not in allowed:
            names = ", ".join(sorted(allowed))
            raise ValueError(
                f"test {self.test} does not apply to {self.kind} columns (use {names})"
            )
        if self.threshold is not None and self.test is None and self.kind is not ColumnKind.TEXT:
            # The default test switches from a p-value to a distance at 1,000 reference rows,
            # so a bare threshold would mean different things for different references.
            raise ValueError(
                "a threshold needs a test: the default test depends on the reference size"
            )
        test = self.effective_test
        if self.threshold is not None and test is not None:
            if test in P_VALUE_TESTS and not self.threshold < 1.0:
                raise ValueError(f"the {test} threshold is a p-value and must be below 1")
            if test is DriftTest.DOMAIN_CLASSIFIER and not 0.5 <= self.threshold < 1.0:
                raise ValueError("the domain classifier threshold is a ROC AUC within [0.5, 1)")
        return self

    @property
    def effective_test(self) -> DriftTest | None:
        """Return the pinned test (text columns always use the domain classifier), or None."""
        return DriftTest.DOMAIN_CLASSIFIER if self.kind is ColumnKind.TEXT else self.test


class RecordColumns(_Settings):
    """Where the production record keeps each field the monitor reads."""

    text: str = "text"
    predicted_label: str = "predicted_label"
    confidence: str = "confidence"
    model_version: str = "model_version"
    time: str = "scored_at"
    label: str = Field("label", description="The ground-truth label, when one is known.")


class PsiSettings(_Settings):
    """Population stability bands and how the confidence distribution is binned."""

    moderate: float = Field(0.1, gt=0.0, description="PSI from here on is a moderate shift.")
    major: float = Field(0.25, gt=0.0, description="PSI above this is a major shift.")
    confidence_bins: Literal["deciles", "fixed"] = Field(
        "deciles", description="Reference deciles, or ten equal-width bins on [0, 1]."
    )

    @model_validator(mode="after")
    def _check_bands(self) -> PsiSettings:
        if not self.moderate < self.major:
            raise ValueError(f"moderate ({self.moderate}) must be below major ({self.major})")
        return self


class DomainClassifierSettings(_Settings):
    """The classifier trained to tell reference texts from current ones."""

    folds: int = Field(5, ge=2, le=20)
    seed: int = 0
    max_rows: int = Field(
        10_000, ge=10, description="Texts drawn (seeded) from each side; larger sides are sampled."
    )
    top_tokens: int = Field(10, ge=0, le=100)


class TextSettings(_Settings):
    """Checks on text columns besides the domain classifier."""

    oov_rate_max: float = Field(
        0.2, gt=0.0, le=1.0, description="Share of current tokens unknown to the reference."
    )
    domain_classifier: DomainClassifierSettings = DomainClassifierSettings()


class ActivationSettings(_Settings):
    """Amazon A2I-style conditions that send a production output to people."""

    below: dict[str, float] = Field(
        default_factory=dict, description="Per predicted class: confidence below this activates."
    )
    default_below: float | None = Field(
        None, gt=0.0, le=1.0, description="The confidence threshold for classes not in `below`."
    )
    sample_rate: float | None = Field(
        None, gt=0.0, le=1.0, description="Share of inputs sampled at random (by content hash)."
    )
    combine: Literal["and", "or"] = "or"

    @model_validator(mode="after")
    def _check_conditions(self) -> ActivationSettings:
        for label, threshold in self.below.items():
            if not 0.0 < threshold <= 1.0:
                raise ValueError(f"below.{label} must be within (0, 1], got {threshold}")
        if not self.has_confidence_condition and self.sample_rate is None:
            raise ValueError("needs at least one condition: below, default_below or sample_rate")
        return self

    @property
    def has_confidence_condition(self) -> bool:
        """True when some class has a confidence threshold."""
        return bool(self.below) or self.default_below is not None


class AccuracySettings(_Settings):
    """Floors for expected (calibrated) and realized (labeled) accuracy."""

    expected_min: float = Field(gt=0.0, le=1.0)
    realized_min: float = Field(gt=0.0, le=1.0)
    confidence_level: float = Field(0.95, ge=0.5, lt=1.0)
    min_labels: int = Field(
        30, ge=1, description="Fewer labeled rows than this leave realized accuracy unjudged."
    )
    calibration: Literal["isotonic", "platt"] = "isotonic"


class MonitorConfig(_Settings):
    """Everything the monitor needs to judge one project's production batches."""

    project: str = Field(min_length=1)
    label_set: list[str] = Field(min_length=2)
    record: RecordColumns = RecordColumns()
    columns: list[ColumnMonitor] = Field(min_length=1)
    drift_share: float = Field(0.5, gt=0.0, le=1.0)
    psi: PsiSettings = PsiSettings()
    text: TextSettings = TextSettings()
    activation: ActivationSettings
    accuracy: AccuracySettings

    @model_validator(mode="after")
    def _check_names(self) -> MonitorConfig:
        if len(set(self.label_set)) != len(self.label_set):
            raise ValueError("label_set lists a label twice")
        names = [column.name for column in self.columns]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"columns lists {', '.join(map(repr, twice))} more than once")
        unknown = sorted(set(self.activation.below) - set(self.label_set))
        if unknown:
            raise ValueError(
                f"activation.below names labels outside the label set: {', '.join(unknown)}"
            )
        return self

    def column(self, name: str) -> ColumnMonitor:
        """Return the monitored column called ``name``."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


def load_monitor_config(path: str | Path) -> MonitorConfig:
    """Read and validate a monitor config from a YAML file."""
    path = Path(path).expanduser()
    data = read_mapping(
        path, what="monitor config", fields="monitor settings", suffixes=(".yaml", ".yml")
    )
    try:
        return MonitorConfig.model_validate(data)
    except ValidationError as exc:
        # A monitor config holds no secrets, so a refused enum name can be shown.
        problem = describe_errors(exc, show_enum_input=True)
        raise InputError(f"{path}: invalid monitor config: {problem}") from None
