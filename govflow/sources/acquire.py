"""Acquire a declared dataset: read its source, check every row, quarantine the bad ones.

``acquire(config)`` reads the source in chunks of ``config.chunk_size`` rows and checks each
chunk against the declared columns (``govflow.sources.schema``). Nothing disappears: every
row read is either in ``Acquisition.frame`` or in ``Acquisition.quarantined`` with its
reasons, and ``rows_in == len(frame) + len(quarantined)`` holds by construction. Problems
with the source as a whole (missing file, failing API, broken query) raise one
``SourceError`` naming the source.

Frame columns: the declared ones in declared order and dtypes, then ``_source_row`` (the
line where the record starts in a JSONL or CSV file, else the 1-based record number) and,
for file sources, ``_source_file`` (relative to the config's folder).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

import numpy as np
import pandas as pd

from govflow.ledger.datasets import SourceSpec
from govflow.sources.config import DatasetConfig, FileSource, HttpSource
from govflow.sources.read_files import open_files
from govflow.sources.read_http import open_http
from govflow.sources.read_sql import open_sql
from govflow.sources.schema import check_records, empty_frame
from govflow.sources.stream import (
    MAX_RAW,
    QuarantinedRow,
    RawStream,
    Reason,
    SourceRow,
    render_record,
    truncate,
)

__all__ = ["Acquisition", "QuarantinedRow", "Reason", "acquire"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Acquisition:
    """The rows that passed the schema, the ones that did not, and where they came from."""

    frame: pd.DataFrame
    quarantined: list[QuarantinedRow]
    rows_in: int
    source: SourceSpec
    fingerprint: str
    notes: list[str] = field(default_factory=list)

    @property
    def quarantine_rate(self) -> float:
        """Return the share of rows read that were quarantined (0 for an empty source)."""
        return len(self.quarantined) / self.rows_in if self.rows_in else 0.0

    def reason_counts(self) -> dict[str, int]:
        """Count quarantined rows per failed check (a row failing two checks counts for both)."""
        counts = Counter(
            check for row in self.quarantined for check in {r["check"] for r in row["reasons"]}
        )
        return dict(sorted(counts.items()))


def acquire(config: DatasetConfig) -> Acquisition:
    """Read ``config.source`` and split its rows into checked rows and quarantined ones."""
    stream = _open(config)
    parts: list[pd.DataFrame] = []
    quarantined: list[QuarantinedRow] = []
    extra_fields: set[str] = set()
    rows_in = 0
    for chunk in _chunks(stream.rows, config.chunk_size):
        rows_in += len(chunk)
        part, rejected, extra = _check_chunk(chunk, config, stream)
        parts.append(part)
        quarantined.extend(rejected)
        extra_fields.update(extra)
    frame = pd.concat(parts, ignore_index=True) if parts else _empty(config, stream)
    # Nothing may vanish between the source and the two outputs.
    assert rows_in == len(frame) + len(quarantined), (rows_in, len(frame), len(quarantined))
    notes = list(stream.notes)
    if extra_fields:
        notes.append(f"dropped fields not in the schema: {', '.join(sorted(extra_fields))}")
    log.info(
        "acquired %s from %s: %d rows in, %d passed, %d quarantined",
        config.name,
        stream.spec.uri,
        rows_in,
        len(frame),
        len(quarantined),
    )
    return Acquisition(
        frame=frame,
        quarantined=quarantined,
        rows_in=rows_in,
        source=stream.spec,
        fingerprint=stream.fingerprint.hexdigest(),
        notes=notes,
    )


def _open(config: DatasetConfig) -> RawStream:
    source = config.source
    if isinstance(source, FileSource):
        return open_files(source, config.columns, config.chunk_size)
    if isinstance(source, HttpSource):
        return open_http(source)
    return open_sql(source, config.chunk_size)


def _chunks(rows: Iterator[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _check_chunk(
    chunk: list[SourceRow], config: DatasetConfig, stream: RawStream
) -> tuple[pd.DataFrame, list[QuarantinedRow], list[str]]:
    parsed = [row for row in chunk if row.record is not None]
    result = check_records(
        [row.record for row in parsed if row.record is not None],
        config.columns,
        empty_is_null=stream.empty_is_null,
    )
    failed = np.zeros(len(parsed), dtype=bool)
    failed[list(result.reasons)] = True
    frame = result.frame[~failed].reset_index(drop=True)
    kept = [row for row, is_failed in zip(parsed, failed, strict=True) if not is_failed]
    frame["_source_row"] = np.array([row.row for row in kept], dtype="int64")
    if stream.has_files:
        frame["_source_file"] = pd.array([row.file for row in kept], dtype="string")
    # Merge parse failures and schema failures back into source order.
    rejected: list[QuarantinedRow] = []
    position = 0
    for row in chunk:
        if row.record is None:
            assert row.problem is not None
            rejected.append(_quarantined(row, [row.problem]))
            continue
        reasons = result.reasons.get(position)
        if reasons:
            rejected.append(_quarantined(row, reasons))
        position += 1
    return frame, rejected, result.extra_fields


def _quarantined(row: SourceRow, reasons: list[Reason]) -> QuarantinedRow:
    raw = row.raw if row.raw is not None else render_record(row.record)
    entry: QuarantinedRow = {
        "source_row": row.row,
        "reasons": reasons,
        "raw": truncate(raw, MAX_RAW),
    }
    if row.file is not None:
        entry["source_file"] = row.file
    return entry


def _empty(config: DatasetConfig, stream: RawStream) -> pd.DataFrame:
    frame = empty_frame(config.columns)
    frame["_source_row"] = pd.Series(dtype="int64")
    if stream.has_files:
        frame["_source_file"] = pd.Series(dtype="string")
    return frame
