"""Validate a DataFrame against a suite and sort its rows into passed and quarantined.

What a failed expectation does depends on its kind and severity:

============  ==============================================  ==============================
severity      row-level (column map: not null, in set, ...)   table-level (row count, ...)
============  ==============================================  ==============================
critical      failing rows quarantined; the batch fails        the batch fails
warning       failing rows quarantined                         reported only
info          reported only                                    reported only
============  ==============================================  ==============================

The batch also fails when the share of quarantined rows exceeds the suite's
``quarantine_threshold``, and whenever an expectation could not be evaluated at all (a
missing column, a type GE cannot compare): a check that did not run must never read as a
pass. Rows are quarantined for every failing value, also under a ``mostly`` that lets the
expectation itself succeed. If GE evaluates a different number of expectations than the
suite declares, ``validate_frame`` raises instead of returning an outcome.

``ValidationOutcome`` is plain, JSON-serializable data; no Great Expectations object
outlives the call.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, JsonValue, model_validator
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from govflow.errors import GovflowError, InputError
from govflow.validation.suites import Severity, SuiteSpec, build_expectations

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuite, ExpectationSuiteValidationResult
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )
    from great_expectations.data_context import AbstractDataContext

__all__ = [
    "MAX_OBSERVED_CHARS",
    "ExpectationOutcome",
    "QuarantineEntry",
    "RowReason",
    "ValidationOutcome",
    "validate_frame",
]

MAX_OBSERVED_CHARS = 200
_MAX_OBSERVED_ITEMS = 50

# COMPLETE is the only format with every failing row's index label; the index query string
# (one label per failing row, pasted into a pandas expression) is never used, so skip it.
# unexpected_index_column_names is left out on purpose: it costs a Python loop per failing row.
_RESULT_FORMAT = {"result_format": "COMPLETE", "return_unexpected_index_query": False}
# Key under each expectation's meta: GE returns results in its own order, not the suite's.
_POSITION_KEY = "govflow_position"
_DOCS_SITE = "govflow"


class RowReason(TypedDict):
    """Why one row failed one row-level expectation, and the value it had."""

    expectation: str
    column: str | None
    observed: JsonValue


class QuarantineEntry(TypedDict):
    """A quarantined row (0-based position in the validated frame) and all its reasons."""

    position: int
    reasons: list[RowReason]


class ExpectationOutcome(BaseModel):
    """One expectation's result, in suite order."""

    model_config = ConfigDict(frozen=True)

    expectation: str
    column: str | None
    severity: Severity
    success: bool
    is_row_level: bool
    unexpected_count: int | None = None
    observed: JsonValue = None
    error: str | None = None

    @property
    def label(self) -> str:
        """Return ``type(column)``, or the type alone for table-level expectations."""
        return f"{self.expectation}({self.column})" if self.column else self.expectation


class ValidationOutcome(BaseModel):
    """The verdict on one frame: statistics, quarantined rows with reasons, batch failure.

    Quarantine entries are typed dicts, not models: a fifth of a million rows failing makes
    200,000 of them, and a model per row and reason cost seconds more to build.
    """

    model_config = ConfigDict(frozen=True)

    suite_name: str
    suite_hash: str
    success: bool
    expectations_expected: int
    expectations_evaluated: int
    results: list[ExpectationOutcome]
    rows_in: int
    rows_passed: int
    rows_quarantined: int
    quarantined: list[QuarantineEntry]
    quarantine_rate: float
    quarantine_threshold: float
    batch_failed: bool
    batch_failure_reasons: list[str]
    data_docs_path: Path | None = None

    @model_validator(mode="after")
    def _check_counts(self) -> Self:
        if self.rows_in != self.rows_passed + self.rows_quarantined:
            raise ValueError(
                f"rows_in {self.rows_in} != rows_passed {self.rows_passed} "
                f"+ rows_quarantined {self.rows_quarantined}"
            )
        if len(self.quarantined) != self.rows_quarantined:
            raise ValueError(
                f"{len(self.quarantined)} quarantine entries for {self.rows_quarantined} rows"
            )
        if self.expectations_evaluated != self.expectations_expected:
            raise ValueError(
                f"{self.expectations_evaluated} expectations evaluated, "
                f"{self.expectations_expected} expected"
            )
        return self

    def quarantined_positions(self) -> list[int]:
        """Return the positions of the quarantined rows, ascending."""
        return [entry["position"] for entry in self.quarantined]

    def passed_mask(self) -> np.ndarray:
        """Return a boolean array over the validated frame's rows: True where a row passed."""
        mask = np.ones(self.rows_in, dtype=bool)
        mask[self.quarantined_positions()] = False
        return mask

    def passed_positions(self) -> list[int]:
        """Return the positions of the rows that passed, ascending."""
        return np.flatnonzero(self.passed_mask()).tolist()


def validate_frame(
    df: pd.DataFrame, suite: SuiteSpec, *, data_docs_dir: Path | None = None
) -> ValidationOutcome:
    """Validate ``df`` against ``suite``; build Data Docs into ``data_docs_dir`` if given.

    Positions in the outcome are 0-based row positions in ``df``, whatever its index.
    Every call builds its own ephemeral GE context and data source, so concurrent calls
    (threads of one process) share nothing: GE gives every whole-dataframe batch of a data
    source the same id, and threads validating through one data source got wrong counts
    without any error (field notes). A context costs a few milliseconds.
    """
    # A fresh RangeIndex makes GE's index labels row positions; copy-on-write keeps it cheap.
    frame = df.reset_index(drop=True)
    expectations = build_expectations(suite.expectations, suite_name=suite.name)
    for position, expectation in enumerate(expectations):
        expectation.meta = {**(expectation.meta or {}), _POSITION_KEY: position}

    from great_expectations.core import ExpectationSuite
    from great_expectations.validator.v1_validator import Validator

    context = _ephemeral_context(data_docs_dir)
    try:
        batch_definition = (
            context.data_sources.add_pandas("govflow")
            .add_dataframe_asset("frame")
            .add_batch_definition_whole_dataframe("whole")
        )
        ge_suite = ExpectationSuite(name=suite.name, expectations=expectations)
        if data_docs_dir is not None:
            ge_suite = context.suites.add(ge_suite)  # Data Docs render the suite from the store
        # The validator that ValidationDefinition.run uses, minus the results store: it loads the
        # batch once (Batch.validate loads it a second time, and GE fingerprints all the data on
        # every load, about 0.3 s per million rows) and serializes no result nobody reads.
        validator = Validator(
            batch_definition=batch_definition,
            batch_parameters={"dataframe": frame},
            result_format=_RESULT_FORMAT,
        )
        result = validator.validate_expectation_suite(ge_suite)
        docs_path = None
        if data_docs_dir is not None:
            docs_path = _build_data_docs(
                context, ge_suite, validator.active_batch_id, result, data_docs_dir
            )
    finally:
        # GE keeps the newest context in a process-wide global; without its data source it
        # no longer holds the frame, the batch or their cached metrics.
        context.data_sources.delete("govflow")
    ordered = _in_suite_order(result.results, suite)
    return _summarize(frame, suite, ordered, docs_path)


def _ephemeral_context(data_docs_dir: Path | None) -> AbstractDataContext:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if data_docs_dir is not None:
        # An ephemeral context has no Data Docs site until one with a filesystem store is added.
        context.add_data_docs_site(
            site_name=_DOCS_SITE,
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(Path(data_docs_dir).resolve()),
                },
            },
        )
    return context


def _build_data_docs(
    context: AbstractDataContext,
    suite: ExpectationSuite,
    batch_id: str | None,
    result: ExpectationSuiteValidationResult,
    directory: Path,
) -> Path:
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    # The validator stores no result; Data Docs render validation pages from the store.
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
        run_id=RunIdentifier(run_name="govflow", run_time=datetime.now(UTC)),
        batch_identifier=batch_id,
    )
    context.validation_results_store.set(key, result)
    context.build_data_docs(site_names=[_DOCS_SITE])
    index = Path(directory).resolve() / "index.html"
    if not index.is_file():
        raise GovflowError(f"Data Docs were built but {index} is missing")
    return index


def _in_suite_order(
    results: list[ExpectationValidationResult], suite: SuiteSpec
) -> list[ExpectationValidationResult]:
    by_position: dict[int, ExpectationValidationResult] = {}
    for result in results:
        position = (result.expectation_config.meta or {}).get(_POSITION_KEY)
        if isinstance(position, int):
            by_position[position] = result
    if len(results) != suite.expected_expectations or sorted(by_position) != list(
        range(suite.expected_expectations)
    ):
        raise InputError(
            f"suite {suite.name} declares {suite.expected_expectations} expectations but "
            f"{len(results)} were evaluated: {suite.path}",
            hint="a suite must never pass on fewer expectations than it declares",
        )
    return [by_position[position] for position in range(suite.expected_expectations)]


def _summarize(
    frame: pd.DataFrame,
    suite: SuiteSpec,
    results: list[ExpectationValidationResult],
    docs_path: Path | None,
) -> ValidationOutcome:
    reasons: defaultdict[int, list[RowReason]] = defaultdict(list)
    outcomes: list[ExpectationOutcome] = []
    for result in results:
        outcome, positions = _expectation_outcome(frame, result)
        outcomes.append(outcome)
        if positions is not None and outcome.severity is not Severity.INFO and len(positions):
            kwargs = result.expectation_config.kwargs
            for position, value in zip(
                positions.tolist(), _observed_values(frame, kwargs, positions), strict=True
            ):
                reasons[position].append(
                    {
                        "expectation": outcome.expectation,
                        "column": outcome.column,
                        "observed": value,
                    }
                )

    return assemble_outcome(suite, outcomes, reasons, rows_in=len(frame), docs_path=docs_path)


def assemble_outcome(
    suite: SuiteSpec,
    results: list[ExpectationOutcome],
    reasons: dict[int, list[RowReason]],
    *,
    rows_in: int,
    docs_path: Path | None,
) -> ValidationOutcome:
    """Build the outcome from per-expectation results and per-row reasons; decide the batch."""
    quarantined: list[QuarantineEntry] = [
        {"position": p, "reasons": reasons[p]} for p in sorted(reasons)
    ]
    failures = [f for f in (_batch_failure(r) for r in results) if f is not None]
    rate = len(quarantined) / rows_in if rows_in else 0.0
    if rate > suite.quarantine_threshold:
        failures.append(
            f"quarantine rate {rate:.1%} above threshold {suite.quarantine_threshold:.1%}"
        )
    return ValidationOutcome(
        suite_name=suite.name,
        suite_hash=suite.content_hash,
        success=all(result.success for result in results),
        expectations_expected=suite.expected_expectations,
        expectations_evaluated=len(results),
        results=results,
        rows_in=rows_in,
        rows_passed=rows_in - len(quarantined),
        rows_quarantined=len(quarantined),
        quarantined=quarantined,
        quarantine_rate=rate,
        quarantine_threshold=suite.quarantine_threshold,
        batch_failed=bool(failures),
        batch_failure_reasons=failures,
        data_docs_path=docs_path,
    )


def _expectation_outcome(
    frame: pd.DataFrame, result: ExpectationValidationResult
) -> tuple[ExpectationOutcome, np.ndarray | None]:
    """Summarize one result; for a row-level one also return its failing row positions."""
    config = result.expectation_config
    details = result.result or {}
    error = _exception_message(result.exception_info)
    labels = details.get("unexpected_index_list")
    positions = None
    if error is None and labels is not None:
        positions = _positions(frame, labels)
        if len(positions) != details.get("unexpected_count"):
            # Rows must never escape quarantine because GE left some labels out.
            raise GovflowError(
                f"{config.type} reported {details.get('unexpected_count')} unexpected values "
                f"but {len(positions)} distinct failing rows"
            )
    outcome = ExpectationOutcome(
        expectation=config.type,
        column=_column_label(config.kwargs),
        severity=Severity(getattr(config.severity, "value", config.severity)),
        success=bool(result.success) and error is None,
        is_row_level=labels is not None,
        unexpected_count=details.get("unexpected_count"),
        observed=_json_safe(details["observed_value"]) if "observed_value" in details else None,
        error=error,
    )
    return outcome, positions


def _positions(frame: pd.DataFrame, labels: list[Any]) -> np.ndarray:
    """Map GE's index labels to row positions, failing loudly on any label not in the frame."""
    positions = frame.index.get_indexer(pd.Index(labels))
    if (positions < 0).any():
        raise GovflowError("Great Expectations reported a row label that is not in the frame")
    return np.unique(positions)


def _batch_failure(outcome: ExpectationOutcome) -> str | None:
    if outcome.error is not None:
        return f"expectation {outcome.label} could not be evaluated: {outcome.error}"
    if outcome.success or outcome.severity is not Severity.CRITICAL:
        return None
    if outcome.is_row_level:
        count = outcome.unexpected_count or 0
        return f"critical expectation {outcome.label} failed on {count} row{_s(count)}"
    return f"critical expectation {outcome.label} failed (observed {_short(outcome.observed)})"


def _exception_message(info: Any) -> str | None:
    # GE reports either one {raised_exception, exception_message} dict or, when a metric
    # failed, a dict of such dicts keyed by metric id.
    if not isinstance(info, dict):
        return None
    candidates = [info] if "raised_exception" in info else list(info.values())
    for candidate in candidates:
        if isinstance(candidate, dict) and candidate.get("raised_exception"):
            message = str(candidate.get("exception_message") or "unknown error")
            return message.strip().splitlines()[0] if message.strip() else "unknown error"
    return None


def _column_label(kwargs: dict[str, Any]) -> str | None:
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_A" in kwargs and "column_B" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    if "column_list" in kwargs:
        return ",".join(str(c) for c in kwargs["column_list"])
    return None


def _observed_values(
    frame: pd.DataFrame, kwargs: dict[str, Any], positions: np.ndarray
) -> list[JsonValue]:
    """Return each failing row's value (a dict of values for multi-column expectations)."""
    if "column" in kwargs:
        columns = [kwargs["column"]]
    elif "column_A" in kwargs and "column_B" in kwargs:
        columns = [kwargs["column_A"], kwargs["column_B"]]
    else:
        columns = list(kwargs.get("column_list", []))
    present = [c for c in columns if c in frame.columns]
    if not present:
        return [None] * len(positions)
    values = {c: frame[c].iloc[positions].tolist() for c in present}
    if len(columns) == 1:
        return [_json_safe(v) for v in values[present[0]]]
    return [{str(c): _json_safe(values[c][i]) for c in present} for i in range(len(positions))]


def _json_safe(value: Any) -> JsonValue:
    """Turn a cell value into JSON: missing becomes None, long text is cut to 200 chars."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return _truncate(value)
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        # Table-level observed values can be lists (a column set); long ones are cut short.
        items = list(value)
        return [_json_safe(item) for item in items[:_MAX_OBSERVED_ITEMS]] + (
            [f"… {len(items) - _MAX_OBSERVED_ITEMS} more"]
            if len(items) > _MAX_OBSERVED_ITEMS
            else []
        )
    if isinstance(value, dict):
        return {_truncate(str(k)): _json_safe(v) for k, v in value.items()}
    return _truncate(str(value))


def _truncate(text: str) -> str:
    if len(text) <= MAX_OBSERVED_CHARS:
        return text
    return text[: MAX_OBSERVED_CHARS - 1] + "…"


def _short(value: JsonValue) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _s(count: int) -> str:
    return "" if count == 1 else "s"
