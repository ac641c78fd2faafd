"""Raw rows as source readers produce them, before any schema check.

Every reader (files, HTTP, SQL) turns its source into a ``RawStream``: the ``SourceSpec`` it
reads, an iterator of ``SourceRow`` in source order and a running ``Fingerprint``. A row a
reader cannot even parse arrives with ``record=None`` and its ``problem``; ``acquire`` turns
it into a quarantine record without losing its position.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NotRequired, TypedDict

from govflow.hashing import canonical_time
from govflow.ledger.datasets import SourceSpec

__all__ = [
    "MAX_OBSERVED",
    "MAX_RAW",
    "Fingerprint",
    "QuarantinedRow",
    "RawStream",
    "Reason",
    "SourceRow",
    "json_kind",
    "printable",
    "reason",
    "render_record",
    "truncate",
]

MAX_OBSERVED = 200
MAX_RAW = 2000


class Reason(TypedDict):
    """Why a row was quarantined: the failed check, the column (if any) and what was seen."""

    check: str
    column: str | None
    observed: str


class QuarantinedRow(TypedDict):
    """A row kept out of the dataset, with every reason and its raw form for inspection."""

    source_row: int
    reasons: list[Reason]
    raw: str | None
    source_file: NotRequired[str]


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One record as read; ``record`` is None when the reader could not parse it."""

    row: int
    record: dict[str, Any] | None
    raw: str | None = None
    problem: Reason | None = None
    file: str | None = None


class Fingerprint:
    """Hash an ordered sequence of digests, as ``govflow.hashing.combine_hashes`` does."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()

    def add_digest(self, hexdigest: str) -> None:
        """Append one hex digest (of a file's bytes, say)."""
        self._digest.update(hexdigest.encode("ascii") + b"\n")

    def add_record(self, record: Any) -> None:
        """Append the digest of one record's canonical JSON."""
        self.add_text(render_record(record))

    def add_text(self, text: str) -> None:
        """Append the digest of ``text`` encoded as UTF-8."""
        self.add_digest(hashlib.sha256(text.encode("utf-8")).hexdigest())

    def add_row(self, row: SourceRow) -> None:
        """Append a row: its record, or the raw text of a row that could not be kept."""
        if row.record is not None:
            self.add_record(row.record)
        elif row.raw is not None:
            self.add_text(row.raw)

    def hexdigest(self) -> str:
        """Return the digest of everything appended so far."""
        return self._digest.hexdigest()


@dataclass
class RawStream:
    """What a reader hands to ``acquire``; ``fingerprint`` is complete once rows are consumed."""

    spec: SourceSpec
    rows: Iterator[SourceRow]
    fingerprint: Fingerprint = field(default_factory=Fingerprint)
    notes: list[str] = field(default_factory=list)
    # CSV has no null: an empty cell is how a missing value is written.
    empty_is_null: bool = False
    has_files: bool = False


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def printable(text: str) -> str:
    """Return ``text`` with surrogate code points written as ``\\udXXX`` escapes."""
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def reason(check: str, column: str | None, observed: str) -> Reason:
    """Build a quarantine reason with ``observed`` readable, storable and cut to length."""
    return {
        "check": check,
        "column": column,
        "observed": truncate(printable(observed), MAX_OBSERVED),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return canonical_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def render_record(record: Any) -> str:
    """Serialize a record deterministically; values JSON lacks are rendered as text."""
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_jsonable
    )


def json_kind(value: Any) -> str:
    """Name the JSON type of a value ("array", "string", ...), else its Python type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
