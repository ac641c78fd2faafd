"""Whether a record can be stored canonically, and why not; readers quarantine what cannot.

The ledger stores every row as canonical JSON (``govflow.hashing.canonical_json``) hashed as
UTF-8, so a record that cannot take that form must leave acquisition as a quarantined row
instead of failing the whole batch later. ``find_unstorable`` names the first problem:

- ``too_deep``: objects and arrays nested more than ``MAX_DEPTH`` levels, the record itself
  being level 1. Python's ``json``, pandas and the database drivers recurse once per level
  and raise ``RecursionError`` near 1,000 levels (sooner inside a deep call stack such as a
  Prefect task); 128 is far more than any real record needs and far below that.
- ``invalid_unicode``: a value or field name holding a surrogate code point (U+D800-U+DFFF).
  JSON's ``"\\ud800"`` escape produces one; UTF-8 cannot encode it.
- ``non_finite_number`` (strict only): NaN or Infinity. Python's ``json`` reads the literals
  ``NaN`` and ``Infinity`` and overflows ``1e400`` to Infinity, but they are not JSON
  (RFC 8259). Typed sources (Parquet, SQL) are checked non-strictly: there a float NaN is a
  missing value, as the declared schema treats it.
- ``unsupported_type`` (strict only): a value with no canonical JSON form (``Decimal``,
  ``bytes``, a time of day, ...), which registration, having no schema to convert it, would
  otherwise fail to hash.

The walk keeps its own stack, so a record nested a million levels deep is as safe to check
as a flat one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Any

from govflow.sources.stream import Reason, SourceRow, printable, reason, render_record

__all__ = ["MAX_DEPTH", "TOO_DEEP", "checked_row", "find_unstorable", "render_safely"]

MAX_DEPTH = 128
TOO_DEEP = f"more than {MAX_DEPTH} levels of nesting"
_Problem = tuple[str, str]


def find_unstorable(record: Mapping[Any, Any], *, strict: bool) -> Reason | None:
    """Return the first reason ``record`` cannot be stored canonically, or None.

    ``strict`` also refuses non-finite numbers and values without a JSON form: use it for
    records parsed from JSON text and for records hashed as they are (registration).
    """
    for key, value in record.items():
        # Fast path for the common flat record: ASCII names, ASCII text, ints, finite floats.
        kind = type(value)
        if (
            type(key) is str
            and key.isascii()
            and (
                (kind is str and value.isascii())
                or kind is int
                or kind is bool
                or value is None
                or (kind is float and (not strict or math.isfinite(value)))
            )
        ):
            continue
        problem = _key_problem(key, strict) or _value_problem(value, strict)
        if problem is not None:
            return reason(problem[0], printable(str(key)), problem[1])
    return None


def checked_row(
    number: int,
    record: dict[str, Any],
    *,
    strict: bool,
    raw: str | None = None,
    file: str | None = None,
) -> SourceRow:
    """Return the row as read, or, when it cannot be stored, a quarantined row with why."""
    problem = find_unstorable(record, strict=strict)
    if problem is None:
        return SourceRow(number, record, raw, None, file)
    shown = printable(raw) if raw is not None else render_safely(record)
    return SourceRow(number, None, shown, problem, file)


def render_safely(value: Any) -> str:
    """Render any value for a person, even one too deep or not encodable as UTF-8."""
    return printable(render_record(_prune(value, 1)))


def _prune(value: Any, depth: int) -> Any:
    # Recursion is bounded by MAX_DEPTH here: deeper levels are cut, never visited.
    if isinstance(value, dict | list | tuple) and depth > MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        return {key: _prune(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_prune(item, depth + 1) for item in value]
    return value


def _key_problem(key: Any, strict: bool) -> _Problem | None:
    if isinstance(key, str):
        position = _surrogate_at(key)
        if position is not None:
            return (
                "invalid_unicode",
                f"surrogate code point U+{ord(key[position]):04X} in the field name",
            )
        return None
    if strict:
        return "unsupported_type", f"a field name of type {type(key).__name__}"
    return None


def _value_problem(value: Any, strict: bool) -> _Problem | None:
    stack: list[tuple[Any, int]] = [(value, 2)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            position = _surrogate_at(value)
            if position is not None:
                code = ord(value[position])
                return (
                    "invalid_unicode",
                    f"surrogate code point U+{code:04X} at character {position + 1}",
                )
        elif isinstance(value, dict):
            if depth > MAX_DEPTH:
                return "too_deep", TOO_DEEP
            for key, item in reversed(value.items()):
                problem = _key_problem(key, strict)
                if problem is not None:
                    return problem
                stack.append((item, depth + 1))
        elif isinstance(value, list | tuple):
            if depth > MAX_DEPTH:
                return "too_deep", TOO_DEEP
            stack.extend((item, depth + 1) for item in reversed(value))
        elif isinstance(value, float):
            if strict and not math.isfinite(value):
                return "non_finite_number", _non_finite(value)
        elif strict and not _has_json_form(value):
            return "unsupported_type", f"a value of type {type(value).__name__}"
    return None


def _surrogate_at(text: str) -> int | None:
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def _non_finite(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _has_json_form(value: Any) -> bool:
    # What canonical_json serializes: JSON scalars, dates and times, numpy scalars.
    if value is None or isinstance(value, bool | int | date):
        return True
    return hasattr(value, "item") and not hasattr(value, "__len__")
