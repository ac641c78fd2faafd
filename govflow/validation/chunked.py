"""Validate a large frame in chunks, in parallel, and merge the outcomes into one.

Row-local expectations (each row judged on its own values) are evaluated chunk by chunk;
everything that looks across rows (uniqueness, aggregates, row counts, column sets) is
evaluated once on the whole frame, because a chunk cannot see its neighbours' duplicates.
The merged outcome reads exactly as if the whole suite had run on the whole frame.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from govflow.validation.checkpoint import (
    ExpectationOutcome,
    RowReason,
    ValidationOutcome,
    assemble_outcome,
)
from govflow.validation.suites import SuiteSpec

_ROW_LOCAL_PREFIXES = (
    "expect_column_values_to_",
    "expect_column_value_lengths_to_",
    "expect_column_pair_values_",
    "expect_select_column_values_to_be_unique_within_record",
    "expect_multicolumn_sum_to_equal",
)
_ACROSS_ROWS = frozenset({"expect_column_values_to_be_unique"})


def is_row_local(expectation: dict) -> bool:
    """Return True if an expectation judges each row by its own values only."""
    kind = str(expectation.get("type") or expectation.get("expectation_type") or "")
    return kind.startswith(_ROW_LOCAL_PREFIXES) and kind not in _ACROSS_ROWS


def split_suite(suite: SuiteSpec) -> tuple[SuiteSpec | None, SuiteSpec | None]:
    """Split a suite into its row-local part and its whole-frame part (either may be None)."""
    local = [e for e in suite.expectations if is_row_local(e)]
    whole = [e for e in suite.expectations if not is_row_local(e)]

    def part(expectations: list[dict]) -> SuiteSpec | None:
        if not expectations:
            return None
        return suite.model_copy(
            update={
                "suite": {**suite.suite, "expectations": expectations},
                "expected_expectations": len(expectations),
            }
        )

    return part(local), part(whole)


def merge_outcomes(
    suite: SuiteSpec,
    *,
    chunks: Sequence[tuple[int, ValidationOutcome]],
    whole: ValidationOutcome | None,
    rows_in: int,
) -> ValidationOutcome:
    """Merge chunk outcomes (with their row offsets) and the whole-frame outcome."""
    local_results: list[list[ExpectationOutcome]] = [o.results for _, o in chunks]
    reasons: defaultdict[int, list[RowReason]] = defaultdict(list)
    for offset, outcome in chunks:
        for entry in outcome.quarantined:
            reasons[entry["position"] + offset].extend(entry["reasons"])
    if whole is not None:
        for entry in whole.quarantined:
            reasons[entry["position"]].extend(entry["reasons"])
    local_index = whole_index = 0
    results: list[ExpectationOutcome] = []
    for expectation in suite.expectations:
        if is_row_local(expectation):
            parts = [chunk[local_index] for chunk in local_results]
            local_index += 1
            results.append(_merge_one(parts))
        else:
            assert whole is not None
            results.append(whole.results[whole_index])
            whole_index += 1
    docs = next(
        (o.data_docs_path for o in [whole, *(c for _, c in chunks)] if o and o.data_docs_path),
        None,
    )
    return assemble_outcome(suite, results, reasons, rows_in=rows_in, docs_path=docs)


def _merge_one(parts: list[ExpectationOutcome]) -> ExpectationOutcome:
    if not parts:
        raise ValueError("no chunk results to merge")
    first = parts[0]
    errors = [p.error for p in parts if p.error]
    counts = [p.unexpected_count for p in parts if p.unexpected_count is not None]
    return first.model_copy(
        update={
            "success": all(p.success for p in parts),
            "unexpected_count": sum(counts) if counts else None,
            "observed": None,
            "error": errors[0] if errors else None,
        }
    )
