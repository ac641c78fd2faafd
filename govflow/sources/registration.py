"""Read one file for ``govflow datasets register``: every row as written, or one refusal.

Registration has no declared schema, so its policy is strict: it takes a file only when
every row can be stored as it is. Otherwise it registers nothing and raises one
``SourceError`` naming the first bad row (line, or record for Parquet), its problem, and how
many rows are bad; the ingest flow (a dataset config and ``flows/ingest.py``) is the way to
keep the good rows of such a file, since it quarantines the bad ones with their reasons.

Values are hashed as read, through the same reader as ingestion (``read_files``): CSV fields
as text under the header's names exactly as written, JSON values as parsed, Parquet values
as Arrow returns them, except that a top-level float NaN (how pandas writes a missing value
to Parquet) is stored as null. Refused: lines that do not parse, are not UTF-8 or have the
wrong number of CSV fields; a repeated or unnamed CSV column; records nested more than
``MAX_DEPTH`` levels; text with surrogate code points; NaN and Infinity in JSONL (Python's
json reads them, but they are not JSON: write null or a string) and any other non-finite
number; Parquet values with no JSON form (decimals, binary, times of day, durations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govflow.errors import SourceError
from govflow.ledger.datasets import SourceSpec
from govflow.sources.read_files import open_file
from govflow.sources.storable import find_unstorable
from govflow.sources.stream import Reason, SourceRow

__all__ = ["FileForRegistration", "read_for_registration"]

HINT = (
    "fix the file, or ingest it with a dataset config through flows/ingest.py, which "
    "quarantines bad rows with their reasons"
)
_PROBLEMS = {
    "invalid_json": "is not valid JSON",
    "not_an_object": "is not a JSON object",
    "invalid_utf8": "is not valid UTF-8",
    "malformed_csv": "is malformed CSV",
    "wrong_field_count": "has the wrong number of fields",
    "too_deep": "is nested too deeply",
    "invalid_unicode": "holds text that is not valid Unicode",
    "non_finite_number": "holds a number JSON cannot represent",
    "unsupported_type": "holds a value with no JSON form",
    "number_too_long": "holds a number too long to read",
}


@dataclass(frozen=True)
class FileForRegistration:
    """The records of a file, in order, and the source they came from."""

    records: list[dict[str, Any]]
    source: SourceSpec


def read_for_registration(path: Path) -> FileForRegistration:
    """Read every record of ``path``, or refuse the file naming its first bad row."""
    stream = open_file(path)
    is_parquet = stream.spec.params["format"] == "parquet"
    records: list[dict[str, Any]] = []
    first: tuple[SourceRow, Reason] | None = None
    bad = total = 0
    for row in stream.rows:
        total += 1
        record, problem = row.record, row.problem
        if record is not None:
            if is_parquet:
                record = _missing_as_null(record)
            problem = find_unstorable(record, strict=True)
        if problem is None and record is not None:
            records.append(record)
            continue
        assert problem is not None
        bad += 1
        if first is None:
            first = (row, problem)
    if first is not None:
        where = f"{'record' if is_parquet else 'line'} {first[0].row}"
        raise SourceError(
            str(path.expanduser()),
            f"{_describe(where, first[1])}; {bad} of {total} rows cannot be registered",
            hint=HINT,
        )
    return FileForRegistration(records=records, source=stream.spec)


def _missing_as_null(record: dict[str, Any]) -> dict[str, Any]:
    # Only top-level floats: pandas writes a missing value as NaN, a nested NaN is a value.
    return {
        key: None if isinstance(value, float) and math.isnan(value) else value
        for key, value in record.items()
    }


def _describe(where: str, reason: Reason) -> str:
    field = f", field {reason['column']!r}," if reason["column"] is not None else ""
    problem = _PROBLEMS.get(reason["check"], f"fails the check {reason['check']}")
    return f"{where}{field} {problem}: {reason['observed']}"
