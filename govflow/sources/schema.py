"""Check a batch of records against the declared columns, one vectorized pass per column.

Each column is classified by the Python type of its values (one ``map(type)``), then
converted with pandas (``to_numeric``, ``to_datetime`` and masks) into its nullable dtype:

=========  =================  ===============================================================
type       dtype              accepted values
=========  =================  ===============================================================
string     ``string``         text only: a number where text is declared is type drift
integer    ``Int64``          integers, integral floats, numeric text ("42", " 7 ", "3.0")
float      ``Float64``        finite numbers and numeric text ("inf" and "NaN" are wrong_type)
boolean    ``boolean``        booleans, 0/1, text true/false, t/f, yes/no, y/n, 1/0
datetime   ``datetime64[us,   ISO-8601 text and date/datetime values; naive times are UTC.
           UTC]``             Other spellings (10/25/2026) are ambiguous, so wrong_type.
=========  =================  ===============================================================

Checks: ``missing_required`` (observed "absent", "null" or, for CSV, "empty"), ``wrong_type``
(observed: the value) and ``too_long`` (observed: "12034 characters").
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from govflow.sources.config import ColumnSpec, ColumnType
from govflow.sources.stream import Reason, json_kind, reason, render_record

__all__ = ["DTYPES", "SchemaResult", "check_records", "empty_frame"]

DTYPES: dict[ColumnType, str] = {
    "string": "string",
    "integer": "Int64",
    "float": "Float64",
    "boolean": "boolean",
    "datetime": "datetime64[us, UTC]",
}
_BOOLEAN_WORDS = {
    "true": True, "t": True, "yes": True, "y": True, "1": True,
    "false": False, "f": False, "no": False, "n": False, "0": False,
}  # fmt: skip
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# 2**63 is exactly representable as a float; anything at or above it overflows Int64.
_FLOAT_INT64_LIMIT = float(2**63)
_FLOAT_MAX_INT = int(sys.float_info.max)


@dataclass(frozen=True)
class SchemaResult:
    """Converted columns for every record and the reasons of the rows that failed."""

    frame: pd.DataFrame
    reasons: dict[int, list[Reason]]
    extra_fields: list[str]


def empty_frame(columns: Sequence[ColumnSpec]) -> pd.DataFrame:
    """Return a frame with no rows and the declared columns in their dtypes."""
    return pd.DataFrame({c.name: pd.Series(dtype=DTYPES[c.type]) for c in columns})


def check_records(
    records: Sequence[dict[str, Any]],
    columns: Sequence[ColumnSpec],
    *,
    empty_is_null: bool = False,
) -> SchemaResult:
    """Convert ``records`` to the declared columns, collecting each row's failed checks."""
    if not records:
        return SchemaResult(empty_frame(columns), {}, [])
    # dtype=object keeps every value as parsed: no silent int->float or str->number inference.
    table = pd.DataFrame(list(records), dtype=object)
    declared = {c.name for c in columns}
    extra = sorted(str(name) for name in table.columns if name not in declared)
    reasons: dict[int, list[Reason]] = {}
    converted: dict[str, pd.Series] = {}
    for spec in columns:
        if spec.name in table.columns:
            values = table[spec.name]
        else:
            values = pd.Series(np.nan, index=table.index, dtype=object)
        converted[spec.name] = _check_column(values, spec, empty_is_null, reasons)
    return SchemaResult(pd.DataFrame(converted, index=table.index), reasons, extra)


def _check_column(
    values: pd.Series, spec: ColumnSpec, empty_is_null: bool, reasons: dict[int, list[Reason]]
) -> pd.Series:
    kinds = values.map(type)
    is_null = values.isna()
    missing = is_null.copy()
    if empty_is_null:
        missing |= kinds.isin([str]) & (values == "")
    present = ~missing
    result, is_valid = _CONVERTERS[spec.type](values.where(present), kinds.where(present))
    if spec.required:
        observed = np.where(kinds.isin([type(None)]), "null", np.where(is_null, "absent", "empty"))
        _add(reasons, missing, "missing_required", spec.name, pd.Series(observed, values.index))
    wrong = present & ~is_valid
    _add(reasons, wrong, "wrong_type", spec.name, values[wrong].map(_show))
    if spec.type == "string" and spec.max_length is not None:
        lengths = result.str.len()
        too_long = (lengths > spec.max_length).fillna(False).astype(bool)
        _add(
            reasons, too_long, "too_long", spec.name, lengths[too_long].map("{} characters".format)
        )
    return result.where(is_valid & present)


def _add(
    reasons: dict[int, list[Reason]],
    mask: pd.Series,
    check: str,
    column: str,
    observed: pd.Series,
) -> None:
    # Only failing rows are visited; the checks themselves ran column-wide.
    for position in np.flatnonzero(mask.to_numpy(dtype=bool)):
        label = mask.index[position]
        reasons.setdefault(int(position), []).append(reason(check, column, str(observed[label])))


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return f"{render_record(value)} ({json_kind(value)})"


def _strings(values: pd.Series, kinds: pd.Series) -> pd.Series:
    return values[kinds.isin([str])].astype(str).str.strip()


def _to_string(values: pd.Series, kinds: pd.Series) -> tuple[pd.Series, pd.Series]:
    is_text = kinds.isin([str])
    return values.where(is_text).astype("string"), is_text


def _to_integer(values: pd.Series, kinds: pd.Series) -> tuple[pd.Series, pd.Series]:
    result = pd.Series(pd.NA, index=values.index, dtype="Int64")
    text = _strings(values, kinds)
    is_digits = text.str.fullmatch(r"[+-]?\d+")
    # Exact path: Python ints and digit strings never pass through float (no 2**53 rounding).
    exact = pd.concat([values[kinds.isin([int])], text[is_digits].map(int)])
    exact = exact[(exact >= _INT64_MIN) & (exact <= _INT64_MAX)]
    result[exact.index] = exact.astype("Int64")
    inexact = pd.concat([values[kinds.isin([float, Decimal])], text[~is_digits]])
    numbers = pd.to_numeric(inexact, errors="coerce").astype("float64")
    finite = numbers[np.isfinite(numbers)]
    whole = finite[(finite % 1 == 0) & (finite.abs() < _FLOAT_INT64_LIMIT)]
    result[whole.index] = whole.astype("Int64")
    return result, result.notna()


def _to_float(values: pd.Series, kinds: pd.Series) -> tuple[pd.Series, pd.Series]:
    result = pd.Series(pd.NA, index=values.index, dtype="Float64")
    ints = values[kinds.isin([int])]
    # Python ints beyond the float range would make to_numeric raise instead of coerce.
    ints = ints[(ints > -_FLOAT_MAX_INT) & (ints < _FLOAT_MAX_INT)]
    others = values[kinds.isin([float, Decimal])]
    candidates = pd.concat([ints, others, _strings(values, kinds)])
    numbers = pd.to_numeric(candidates, errors="coerce").astype("float64")
    numbers = numbers[np.isfinite(numbers)]
    result[numbers.index] = numbers.astype("Float64")
    return result, result.notna()


def _to_boolean(values: pd.Series, kinds: pd.Series) -> tuple[pd.Series, pd.Series]:
    result = pd.Series(pd.NA, index=values.index, dtype="boolean")
    flags = values[kinds.isin([bool])]
    ints = values[kinds.isin([int])]
    # SQLite and many exports store booleans as 0/1.
    ints = ints[ints.isin([0, 1])] == 1
    words = _strings(values, kinds).str.lower().map(_BOOLEAN_WORDS).dropna()
    for part in (flags, ints, words):
        result[part.index] = part.astype("boolean")
    return result, result.notna()


def _to_datetime(values: pd.Series, kinds: pd.Series) -> tuple[pd.Series, pd.Series]:
    dtype = DTYPES["datetime"]
    result = pd.Series(pd.NaT, index=values.index, dtype=dtype)
    text = _strings(values, kinds)
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    stamps = values[kinds.isin([datetime, date, pd.Timestamp])]
    converted = pd.to_datetime(stamps, utc=True, errors="coerce")
    for part in (parsed, converted):
        part = part.dropna()
        result[part.index] = part.astype(dtype)
    return result, result.notna()


_CONVERTERS = {
    "string": _to_string,
    "integer": _to_integer,
    "float": _to_float,
    "boolean": _to_boolean,
    "datetime": _to_datetime,
}
