"""Read local CSV, JSONL and Parquet files leniently: a bad line is quarantined, not fatal.

Lines are read as bytes and decoded one at a time, so one undecodable line costs one row,
not the file. ``SourceRow.row`` is the line where the record starts (a CSV header is line
1), or the 1-based record number for Parquet. Whole-file problems (missing, empty, no
match, unreadable header or Parquet) raise one ``SourceError`` naming the file.
"""

from __future__ import annotations

import codecs
import csv
import glob
import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from govflow.errors import SourceError
from govflow.ledger.datasets import SourceSpec
from govflow.sources.config import ColumnSpec, FileSource
from govflow.sources.files import detect_format
from govflow.sources.stream import Fingerprint, RawStream, SourceRow, json_kind, reason

__all__ = ["open_files"]

_READ_BLOCK = 1 << 20


def open_files(source: FileSource, columns: Sequence[ColumnSpec], chunk_size: int) -> RawStream:
    """Check that the files exist and are non-empty, then stream their rows in order."""
    files = _matching_files(source)
    formats = [source.format or detect_format(path) for path in files]
    for path in files:
        if path.stat().st_size == 0:
            raise SourceError(str(path), "file is empty")
    resolved = source.resolved()
    if len(set(formats)) > 1:
        found = ", ".join(sorted(set(formats)))
        raise SourceError(str(resolved), f"matches files of different formats ({found})")
    fmt = formats[0]
    fingerprint = Fingerprint()
    return RawStream(
        spec=SourceSpec(kind="file", uri=str(resolved), params={"format": fmt}),
        rows=_all_rows(files, fmt, source, columns, chunk_size, fingerprint),
        fingerprint=fingerprint,
        empty_is_null=fmt == "csv",
        has_files=True,
    )


def _matching_files(source: FileSource) -> list[Path]:
    resolved = source.resolved()
    if not source.is_glob:
        if not resolved.exists():
            raise SourceError(str(resolved), "file not found")
        if resolved.is_dir():
            raise SourceError(str(resolved), "is a directory, expected a file")
        return [resolved]
    matches = sorted(Path(p) for p in glob.glob(str(resolved), recursive=True))
    files = [path for path in matches if path.is_file()]
    if not files:
        raise SourceError(str(source.base_dir), f"no files match {source.path!r}")
    return files


def _label(path: Path, base: Path) -> str:
    """Name a file relative to the config folder, so rows do not carry machine paths."""
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def _all_rows(
    files: list[Path],
    fmt: str,
    source: FileSource,
    columns: Sequence[ColumnSpec],
    chunk_size: int,
    fingerprint: Fingerprint,
) -> Iterator[SourceRow]:
    count = 0
    for path in files:
        label = _label(path, source.base_dir)
        if fmt == "jsonl":
            rows = _jsonl_rows(path, label, fingerprint)
        elif fmt == "csv":
            rows = _csv_rows(path, label, columns, fingerprint)
        else:
            rows = _parquet_rows(path, label, chunk_size, fingerprint)
        try:
            for row in rows:
                count += 1
                yield row
        except OSError as exc:  # unreadable: permissions, a vanished file, I/O errors
            raise SourceError(str(path), f"cannot read file: {exc.strerror or exc}") from exc
    if count == 0:
        where = str(files[0]) if len(files) == 1 else str(source.resolved())
        raise SourceError(where, "file has no records" if len(files) == 1 else "no records")


def _jsonl_rows(path: Path, label: str, fingerprint: Fingerprint) -> Iterator[SourceRow]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for line_no, line in enumerate(handle, start=1):
            digest.update(line)
            if line_no == 1:
                line = line.removeprefix(codecs.BOM_UTF8)
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                problem = reason("invalid_utf8", None, f"{exc.reason} at byte {exc.start + 1}")
                raw = line.decode("utf-8", "backslashreplace").rstrip("\r\n")
                yield SourceRow(line_no, None, raw, problem, label)
                continue
            text = text.rstrip("\r\n")
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                problem = reason("invalid_json", None, f"{exc.msg} at column {exc.colno}")
                yield SourceRow(line_no, None, text, problem, label)
                continue
            if not isinstance(value, dict):
                problem = reason("not_an_object", None, f"a JSON {json_kind(value)}")
                yield SourceRow(line_no, None, text, problem, label)
                continue
            yield SourceRow(line_no, value, text, None, label)
    fingerprint.add_digest(digest.hexdigest())


class _Lines:
    """Feed decoded lines to ``csv.reader``, remembering the raw text of the current record.

    Undecodable bytes are kept as surrogates so the parser stays in step with the file;
    the record that contains them is quarantined afterwards.
    """

    def __init__(self, handle: Iterator[bytes]) -> None:
        self._handle = handle
        self.digest = hashlib.sha256()
        self.line_no = 0
        self.consumed: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._handle)
        self.digest.update(line)
        self.line_no += 1
        if self.line_no == 1:
            line = line.removeprefix(codecs.BOM_UTF8)
        text = line.decode("utf-8", "surrogateescape")
        self.consumed.append(text)
        return text


def _csv_rows(
    path: Path, label: str, columns: Sequence[ColumnSpec], fingerprint: Fingerprint
) -> Iterator[SourceRow]:
    # A field over csv's size limit (128 KiB) is one malformed_csv row; the reader recovers.
    with path.open("rb") as handle:
        lines = _Lines(handle)
        records = csv.reader(lines)
        header = _csv_header(path, records, lines, columns)
        width = len(header)
        while True:
            lines.consumed.clear()
            start = lines.line_no + 1
            try:
                fields = next(records)
            except StopIteration:
                break
            except csv.Error as exc:
                raw = "".join(lines.consumed).rstrip("\r\n")
                yield SourceRow(start, None, raw, reason("malformed_csv", None, str(exc)), label)
                continue
            if not fields:
                continue  # a blank line
            raw = "".join(lines.consumed).rstrip("\r\n")
            try:
                raw.encode("utf-8")
            except UnicodeEncodeError:
                yield _undecodable(start, raw, label)
                continue
            if len(fields) != width:
                observed = f"expected {width} fields, got {len(fields)}"
                yield SourceRow(
                    start, None, raw, reason("wrong_field_count", None, observed), label
                )
                continue
            yield SourceRow(start, dict(zip(header, fields, strict=True)), raw, None, label)
        fingerprint.add_digest(lines.digest.hexdigest())


def _csv_header(
    path: Path, records: Iterator[list[str]], lines: _Lines, columns: Sequence[ColumnSpec]
) -> list[str]:
    try:
        header = next((fields for fields in records if fields), None)
    except csv.Error as exc:
        raise SourceError(str(path), f"unreadable CSV header: {exc}") from exc
    if header is None:
        raise SourceError(str(path), "file has no header row")
    try:
        "".join(header).encode("utf-8")
    except UnicodeEncodeError:
        raise SourceError(str(path), f"header (line {lines.line_no}) is not valid UTF-8") from None
    header = [name.strip() for name in header]
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise SourceError(str(path), f"header repeats columns: {', '.join(duplicates)}")
    missing = [c.name for c in columns if c.required and c.name not in header]
    if missing:
        raise SourceError(str(path), f"header lacks required columns: {', '.join(missing)}")
    return header


def _undecodable(line_no: int, raw: str, label: str) -> SourceRow:
    data = raw.encode("utf-8", "surrogateescape")
    try:
        data.decode("utf-8")
        observed = "undecodable bytes"
    except UnicodeDecodeError as exc:
        observed = f"{exc.reason} at byte {exc.start + 1}"
    shown = data.decode("utf-8", "backslashreplace")
    return SourceRow(line_no, None, shown, reason("invalid_utf8", None, observed), label)


def _parquet_rows(
    path: Path, label: str, chunk_size: int, fingerprint: Fingerprint
) -> Iterator[SourceRow]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_READ_BLOCK):
            digest.update(block)
    row = 0
    try:
        parquet = pq.ParquetFile(path)
        batches = parquet.iter_batches(batch_size=chunk_size)
        for batch in batches:
            for record in batch.to_pylist():
                row += 1
                yield SourceRow(row, record, None, None, label)
    except (pa.ArrowException, OSError) as exc:
        raise SourceError(str(path), f"not a readable Parquet file: {exc}") from exc
    fingerprint.add_digest(digest.hexdigest())
