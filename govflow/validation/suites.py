"""Load expectation suites from ``expectations/<dataset>.<stage>.json`` and check them.

A suite file is Great Expectations' own suite JSON (``ExpectationSuite(**json.loads(text))``
reads it) with govflow's settings in the suite's ``meta``::

    "meta": {"govflow": {"expected_expectations": 11, "quarantine_threshold": 0.05}}

Each expectation's ``severity`` (GE's own field: ``critical``, ``warning`` or ``info``) says
what its failure does; GE makes an expectation without one ``critical``. See
``govflow.validation.checkpoint`` for the consequences of each level.

GE silently drops an expectation it cannot build (an unknown type, say a custom one whose
module was not imported, or bad arguments) and then validates what is left, down to an
empty suite that passes. Loading therefore builds every expectation itself, fails on the
first one that does not build, and checks the count against ``expected_expectations``.
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from govflow.errors import InputError
from govflow.hashing import content_hash

if TYPE_CHECKING:
    from great_expectations.expectations.expectation import Expectation

__all__ = [
    "SUITES_DIR",
    "Severity",
    "SuiteSpec",
    "build_expectations",
    "list_suites",
    "load_suite",
    "load_suite_file",
    "suite_for",
    "suite_path",
]

# The repository's suites; callers running elsewhere pass ``directory=``.
SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations"
_SUFFIX = ".json"


class Severity(enum.StrEnum):
    """What a failed expectation does: block the batch, quarantine rows, or only report."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class SuiteSettings(BaseModel):
    """govflow's settings for one suite, read from ``meta.govflow``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    expected_expectations: int = Field(ge=1)
    quarantine_threshold: float = Field(ge=0.0, le=1.0)


class SuiteSpec(BaseModel):
    """A checked suite: its identity, settings and the suite JSON as plain data.

    It holds no Great Expectations object, so it pickles and serializes to JSON and can be
    passed to another process or a Prefect task.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    path: Path
    content_hash: str
    expected_expectations: int
    quarantine_threshold: float
    suite: dict[str, Any]

    @property
    def expectations(self) -> list[dict[str, Any]]:
        """Return the suite's expectation configurations as plain dicts, in file order."""
        return list(self.suite["expectations"])


DEFAULT_DATASET = "default"


def suite_path(dataset: str, stage: str, *, directory: Path | None = None) -> Path:
    """Return where the suite for ``dataset`` at ``stage`` lives."""
    return (directory or SUITES_DIR) / f"{dataset}.{stage}{_SUFFIX}"


def list_suites(directory: Path | None = None) -> list[str]:
    """Return the names (``<dataset>.<stage>``) of the suite files in ``directory``."""
    folder = directory or SUITES_DIR
    if not folder.is_dir():
        return []
    return sorted(p.name.removesuffix(_SUFFIX) for p in folder.glob(f"*{_SUFFIX}"))


def load_suite(dataset: str, stage: str, *, directory: Path | None = None) -> SuiteSpec:
    """Load and check the suite for ``dataset`` at ``stage``."""
    return load_suite_file(suite_path(dataset, stage, directory=directory))


def suite_for(dataset: str, stage: str, *, declared: str | None = None) -> SuiteSpec:
    """Load the suite that checks ``dataset`` at ``stage``: the one place suites are chosen.

    A dataset config may declare the suite by name (``<dataset>.<stage>``); otherwise the
    dataset's own ``<dataset>.<stage>.json`` is used if it exists, else the shared
    ``default.<stage>.json``.
    """
    if declared:
        owner, _, suite_stage = declared.rpartition(".")
        if not owner:
            raise InputError(
                f"suite name {declared!r} for {dataset} at stage {stage!r} is not <dataset>.<stage>"
            )
        return load_suite(owner, suite_stage)
    if suite_path(dataset, stage).is_file():
        return load_suite(dataset, stage)
    if suite_path(DEFAULT_DATASET, stage).is_file():
        return load_suite(DEFAULT_DATASET, stage)
    raise InputError(
        f"no expectation suite for {dataset} at stage {stage!r}",
        hint=f"add {suite_path(dataset, stage)} or {suite_path(DEFAULT_DATASET, stage)}",
    )


def load_suite_file(path: Path) -> SuiteSpec:
    """Load and check one suite file; raise ``InputError`` saying what is wrong with it."""
    if not path.is_file():
        available = ", ".join(list_suites(path.parent)) or "none"
        raise InputError(
            f"no expectation suite at {path}",
            hint=f"suites available in {path.parent}: {available}",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read suite file {path}: {exc}") from exc
    if not text.strip():
        raise InputError(f"suite file {path} is empty")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"suite file {path} is not valid JSON: {exc.msg} (line {exc.lineno}, "
            f"column {exc.colno})"
        ) from exc

    expected_name = path.name.removesuffix(_SUFFIX)
    if not isinstance(document, dict):
        raise InputError(f"suite file {path} must hold a JSON object, not {_kind(document)}")
    if document.get("name") != expected_name:
        raise InputError(
            f"suite file {path} names its suite {document.get('name')!r}, "
            f"expected {expected_name!r}",
            hint="a suite's name must match its file name: <dataset>.<stage>",
        )
    settings = _settings(document, expected_name, path)
    raw = document.get("expectations")
    if not isinstance(raw, list):
        raise InputError(f"suite {expected_name} has no list of expectations: {path}")
    built = build_expectations(raw, suite_name=expected_name)
    if len(built) != settings.expected_expectations:
        raise InputError(
            f"suite {expected_name} declares {settings.expected_expectations} expectations "
            f"but {len(built)} loaded: {path}",
            hint="fix meta.govflow.expected_expectations or the expectations list",
        )
    return SuiteSpec(
        name=expected_name,
        path=path,
        content_hash=content_hash(document),
        expected_expectations=settings.expected_expectations,
        quarantine_threshold=settings.quarantine_threshold,
        suite=document,
    )


def _settings(document: dict[str, Any], name: str, path: Path) -> SuiteSettings:
    meta = document.get("meta")
    section = meta.get("govflow") if isinstance(meta, dict) else None
    if not isinstance(section, dict):
        raise InputError(
            f"suite {name} has no govflow settings in meta.govflow: {path}",
            hint='add "meta": {"govflow": {"expected_expectations": N, '
            '"quarantine_threshold": 0.05}}',
        )
    try:
        return SuiteSettings.model_validate(section)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or 'govflow'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InputError(f"suite {name} has bad meta.govflow settings: {problems}") from exc


def build_expectations(raw: list[Any], *, suite_name: str) -> list[Expectation]:
    """Build a GE expectation from each configuration; fail on the first that does not build.

    Great Expectations is imported here, not at module import: it costs seconds.
    """
    from great_expectations.exceptions import GreatExpectationsError
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )
    from great_expectations.expectations.registry import get_expectation_impl
    from pydantic.v1 import ValidationError as GEValidationError  # GE's models are pydantic v1

    built: list[Expectation] = []
    for number, item in enumerate(raw, start=1):
        where = f"suite {suite_name}: expectation {number}"
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise InputError(f"{where} is not an object with a string 'type'")
        kind = item["type"]
        try:
            get_expectation_impl(kind)
        except GreatExpectationsError as exc:
            raise InputError(
                f"{where} has unknown type {kind!r}",
                hint="check the spelling; a custom expectation's module must be imported "
                "before the suite is loaded",
            ) from exc
        try:
            built.append(ExpectationConfiguration(**item).to_domain_obj())
        except GEValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in err['loc'])}: {err['msg']}"
                for err in exc.errors()
            )
            raise InputError(f"{where} ({kind}) is invalid: {problems}") from exc
        except (GreatExpectationsError, TypeError, ValueError) as exc:
            raise InputError(f"{where} ({kind}) is invalid: {exc}") from exc
    return built


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string"}.get(type(value), type(value).__name__)
