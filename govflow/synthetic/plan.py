"""The synthesis plan: which classes to expand, by how much, with which generator and checks.

A plan lives in ``synthesis/<project>.yaml``. Targets are a row count or
``{up_to_share: X}``: enough rows that the class makes up share X of the data after adding
them, ``n = ceil((X*N - c) / (1 - X))`` for a class of ``c`` rows among ``N``. A
``share_floor`` also targets, from the labeled version's own counts, every class of the
label set below that share (up to it), unless the plan names the class already. Every problem
(an unknown class, a bad count, an unknown generator, a threshold out of range) is one
``InputError`` line naming the field.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from govflow.errors import InputError
from govflow.hashing import content_hash

__all__ = [
    "Caps",
    "CheckThresholds",
    "GeneratorSpec",
    "SynthesisPlan",
    "Target",
    "load_plan",
    "plan_path",
    "resolve_targets",
    "targets_from_shares",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Strict):
    """One class to expand: a fixed number of rows, or up to a share of the data."""

    label: str = Field(min_length=1)
    rows: int | None = Field(default=None, ge=1, le=1_000_000)
    up_to_share: float | None = Field(default=None, gt=0.0, lt=1.0)

    @model_validator(mode="after")
    def _one_of(self) -> Target:
        if (self.rows is None) == (self.up_to_share is None):
            raise ValueError("give exactly one of rows or up_to_share")
        return self


class GeneratorSpec(_Strict):
    """Which generator makes the rows, and its settings."""

    kind: Literal["template", "python", "openai-chat"] = "template"
    entrypoint: str | None = Field(default=None, description="module:function (python).")
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    prompt_version: str = "1"
    prompt: str | None = Field(default=None, description="Template with $label, $examples.")
    instructions: str = ""
    timeout_s: float = Field(default=30.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    concurrency: int = Field(default=4, ge=1, le=64)
    max_error_rate: float = Field(default=0.2, ge=0.0, le=1.0)
    examples_per_prompt: int = Field(default=5, ge=1, le=50)

    @model_validator(mode="after")
    def _complete(self) -> GeneratorSpec:
        if self.kind == "python" and not self.entrypoint:
            raise ValueError("a python generator needs entrypoint: module:function")
        if self.kind == "openai-chat" and not (self.base_url and self.model):
            raise ValueError("an openai-chat generator needs base_url and model")
        return self


class CheckThresholds(_Strict):
    """Thresholds of the screening checks, fidelity and diversity scores."""

    near_copy_jaccard: float = Field(default=0.8, gt=0.0, le=1.0)
    contamination_jaccard: float = Field(default=0.8, gt=0.0, le=1.0)
    batch_jaccard: float = Field(default=0.8, gt=0.0, le=1.0)
    pii_span_words: int = Field(default=8, ge=3, le=100)
    # Length KS is noisy on a few dozen rows (0.43-0.83 between demo intents): a floor for
    # gross artifacts only. Vocabulary separates classes (0.85 same intent, 0.20-0.39 others).
    min_length_fidelity: float = Field(default=0.4, ge=0.0, le=1.0)
    min_vocabulary_fidelity: float = Field(default=0.55, ge=0.0, le=1.0)
    min_distinct_1: float = Field(default=0.2, ge=0.0, le=1.0)
    min_distinct_2: float = Field(default=0.4, ge=0.0, le=1.0)
    max_near_duplicate_share: float = Field(default=0.2, ge=0.0, le=1.0)
    defect_rate: float = Field(default=0.05, gt=0.0, lt=1.0, description="Tolerated p.")


class Caps(_Strict):
    """How much of a mixed version may be synthetic, overall and per class."""

    global_share: float = Field(default=0.2, gt=0.0, le=1.0)
    class_share: float = Field(default=0.5, gt=0.0, le=1.0)


class SynthesisPlan(_Strict):
    """A project's synthesis plan."""

    project: str = Field(min_length=1)
    targets: list[Target] = Field(default_factory=list)
    share_floor: float | None = Field(
        default=None, gt=0.0, lt=1.0, description="Expand every class below this share to it."
    )
    generator: GeneratorSpec = Field(default_factory=GeneratorSpec)
    seed: int = 0
    max_seed_items: int = Field(default=50, ge=1, le=10_000)
    checks: CheckThresholds = Field(default_factory=CheckThresholds)
    caps: Caps = Field(default_factory=Caps)
    label_checker: str | dict[str, Any] | None = Field(
        default="production",
        description="'production' (the production model, if any), a model spec, or null.",
    )

    @model_validator(mode="after")
    def _unique_targets(self) -> SynthesisPlan:
        if not self.targets and self.share_floor is None:
            raise ValueError("give targets, a share_floor, or both")
        labels = [t.label for t in self.targets]
        if len(set(labels)) != len(labels):
            raise ValueError("each class may be targeted once")
        return self

    @property
    def config_hash(self) -> str:
        """Hash of the whole plan with its defaults: the same settings, the same hash."""
        return content_hash(self.model_dump(mode="json"))

    def with_seed(self, seed: int) -> SynthesisPlan:
        return self.model_copy(update={"seed": seed})


def plan_path(project: str, *, directory: Path | None = None) -> Path:
    """Return where the plan of ``project`` lives: ``synthesis/<project>.yaml``."""
    return (directory or Path("synthesis")) / f"{project}.yaml"


def load_plan(path: str | Path) -> SynthesisPlan:
    """Load and check a plan file; raise one ``InputError`` saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no synthesis plan at {path}")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read synthesis plan {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise InputError(f"synthesis plan {path} must hold a mapping")
    try:
        return SynthesisPlan.model_validate(document)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(part) for part in err["loc"]) or "plan"
        message = err["msg"].removeprefix("Value error, ")
        raise InputError(f"synthesis plan {path}: {where}: {message}") from None


def resolve_targets(
    plan: SynthesisPlan, class_counts: dict[str, int], *, label_set: list[str]
) -> dict[str, int]:
    """Return the number of rows to make per class; refuse classes outside the label set."""
    unknown = [t.label for t in plan.targets if t.label not in label_set]
    if unknown:
        raise InputError(
            f"synthesis plan names unknown class {unknown[0]!r}",
            hint=f"the label set is {', '.join(label_set)}",
        )
    total = sum(class_counts.values())
    wanted: dict[str, int] = {}
    for target in plan.targets:
        if target.rows is not None:
            wanted[target.label] = target.rows
            continue
        assert target.up_to_share is not None
        n = targets_from_shares(
            class_rows=class_counts.get(target.label, 0), total_rows=total, share=target.up_to_share
        )
        if n > 0:
            wanted[target.label] = n
    if plan.share_floor is not None:
        for label in label_set:
            if label in wanted or any(t.label == label for t in plan.targets):
                continue
            n = targets_from_shares(
                class_rows=class_counts.get(label, 0), total_rows=total, share=plan.share_floor
            )
            if n > 0:
                wanted[label] = n
    return wanted


def targets_from_shares(*, class_rows: int, total_rows: int, share: float) -> int:
    """Return how many rows bring a class of ``class_rows`` up to ``share`` of the data."""
    return max(0, math.ceil((share * total_rows - class_rows) / (1.0 - share) - 1e-9))
