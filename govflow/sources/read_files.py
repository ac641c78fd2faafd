"""Read local CSV, JSONL and Parquet files leniently: a bad line is quarantined, not fatal.

This is govflow's one file reader: the ingest flow (``open_files``, a declared source) and
``govflow datasets register`` (``open_file``, one file taken as it is) both read through it.
Lines are read as bytes and decoded one at a time, so one undecodable line costs one row,
not the file. A record that cannot be stored canonically (nested too deeply, a surrogate in
a value or field name, NaN or Infinity in JSON text; see ``govflow.sources.storable``) is a
quarantined row too. ``SourceRow.row`` is the line where the record starts (a CSV header is
line 1), or the 1-based record number for Parquet. Whole-file problems (missing, empty, no
match, unreadable or repeated header, unreadable Parquet) raise one ``SourceError`` naming
the file.
"""

from __future__ import annotations

import codecs
import csv
import glob
import hashlib
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govflow.errors import SourceError
from govflow.ledger.datasets import SourceSpec
from govflow.sources.config import ColumnSpec, FileSource
from govflow.sources.storable import TOO_DEEP, checked_row, render_safely
from govflow.sources.stream import Fingerprint, RawStream, Reason, SourceRow, json_kind, reason

__all__ = ["FORMATS", "detect_format", "open_file", "open_files"]

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
_READ_BLOCK = 1 << 20


@dataclass(frozen=True)
class _Plan:
    """What to read and how: the files in order, their format, and the CSV header policy."""

    files: list[Path]
    fmt: str
    base_dir: Path
    where: str  # names the source in a "no records" error
    columns: Sequence[ColumnSpec]
    chunk_size: int
    # Registration hashes CSV field names as written, so it neither strips nor invents them.
    exact_header: bool


def detect_format(path: Path) -> str:
    """Return the file format from the suffix, or fail naming the supported ones."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        supported = ", ".join(sorted(FORMATS))
        raise SourceError(str(path), f"unsupported file type {path.suffix!r} (use {supported})")
    return fmt


def open_files(source: FileSource, columns: Sequence[ColumnSpec], chunk_size: int) -> RawStream:
    """Check that the files exist and are non-empty, then stream their rows in order."""
    files = _matching_files(source)
    formats = [source.format or detect_format(path) for path in files]
    for path in files:
        _check_not_empty(path)
    resolved = source.resolved()
    if len(set(formats)) > 1:
        found = ", ".join(sorted(set(formats)))
        raise SourceError(str(resolved), f"matches files of different formats ({found})")
    where = str(files[0]) if len(files) == 1 else str(resolved)
    plan = _Plan(files, formats[0], source.base_dir, where, columns, chunk_size, False)
    return _stream(plan, SourceSpec(kind="file", uri=str(resolved), params={"format": plan.fmt}))


def open_file(path: Path, *, chunk_size: int = 50_000) -> RawStream:
    """Stream the rows of one file named literally (no glob), as registration reads it.

    CSV field names are kept exactly as written and an unnamed column is an error, because
    registration hashes the records as they are. Errors name the file as given.
    """
    path = path.expanduser()
    if not path.exists():
        raise SourceError(str(path), "file not found")
    if path.is_dir():
        raise SourceError(str(path), "is a directory, expected a file")
    fmt = detect_format(path)
    _check_not_empty(path)
    plan = _Plan([path], fmt, path.parent, str(path), (), chunk_size, True)
    spec = SourceSpec(kind="file", uri=str(path.resolve()), params={"format": fmt})
    return _stream(plan, spec)


def _check_not_empty(path: Path) -> None:
    if path.stat().st_size == 0:
        raise SourceError(str(path), "file is empty")


def _stream(plan: _Plan, spec: SourceSpec) -> RawStream:
    fingerprint = Fingerprint()
    return RawStream(
        spec=spec,
        rows=_all_rows(plan, fingerprint),
        fingerprint=fingerprint,
        empty_is_null=plan.fmt == "csv",
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


def _all_rows(plan: _Plan, fingerprint: Fingerprint) -> Iterator[SourceRow]:
    count = 0
    for path in plan.files:
        label = _label(path, plan.base_dir)
        if plan.fmt == "jsonl":
            rows = _jsonl_rows(path, label, fingerprint)
        elif plan.fmt == "csv":
            rows = _csv_rows(path, label, plan, fingerprint)
        else:
            rows = _parquet_rows(path, label, plan.chunk_size, fingerprint)
        try:
            for row in rows:
                count += 1
                yield row
        except OSError as exc:  # unreadable: permissions, a vanished file, I/O errors
            raise SourceError(str(path), f"cannot read file: {exc.strerror or exc}") from exc
    if count == 0:
        raise SourceError(
            plan.where, "file has no records" if len(plan.files) == 1 else "no records"
        )


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
            value, problem = _parse_json(text)
            if problem is None and not isinstance(value, dict):
                problem = reason("not_an_object", None, f"a JSON {json_kind(value)}")
            if problem is not None:
                yield SourceRow(line_no, None, text, problem, label)
                continue
            yield checked_row(line_no, value, strict=True, raw=text, file=label)
    fingerprint.add_digest(digest.hexdigest())


def _parse_json(text: str) -> tuple[Any, Reason | None]:
    """Parse one line; a line Python cannot parse is a reason, never an exception."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        # Some messages end in "at" ("Unterminated string starting at").
        message = exc.msg.removesuffix(" at")
        return None, reason("invalid_json", None, f"{message} at column {exc.colno}")
    except RecursionError:
        # json recurses per level: nesting far beyond MAX_DEPTH exhausts the stack.
        return None, reason("too_deep", None, TOO_DEEP)
    except ValueError:
        # Python refuses to convert integers beyond sys.get_int_max_str_digits() digits.
        limit = sys.get_int_max_str_digits()
        return None, reason("number_too_long", None, f"an integer of more than {limit} digits")


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


def _csv_rows(path: Path, label: str, plan: _Plan, fingerprint: Fingerprint) -> Iterator[SourceRow]:
    # A field over csv's size limit (128 KiB) is one malformed_csv row; the reader recovers.
    with path.open("rb") as handle:
        lines = _Lines(handle)
        records = csv.reader(lines)
        header = _csv_header(path, records, lines, plan)
        width = len(header)
        while True:
            lines.consumed.clear()
            start = lines.line_no + 1
            try:
                fields = next(records)
            except StopIteration:
                break
            except csv.Error as exc:
                raw = _bytes_shown("".join(lines.consumed).rstrip("\r\n"))
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


def _csv_header(path: Path, records: Iterator[list[str]], lines: _Lines, plan: _Plan) -> list[str]:
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
    if plan.exact_header:
        unnamed = [str(number) for number, name in enumerate(header, start=1) if not name]
        if unnamed:
            raise SourceError(
                str(path),
                f"header (line {lines.line_no}) leaves column {', '.join(unnamed)} unnamed",
            )
    else:
        header = [name.strip() for name in header]
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        named = ", ".join(repr(name) for name in duplicates)
        raise SourceError(str(path), f"header (line {lines.line_no}) repeats columns: {named}")
    missing = [c.name for c in plan.columns if c.required and c.name not in header]
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
    return SourceRow(
        line_no, None, _bytes_shown(raw), reason("invalid_utf8", None, observed), label
    )


def _bytes_shown(raw: str) -> str:
    """Show text decoded with ``surrogateescape`` as its bytes: undecodable ones as ``\\xNN``."""
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


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
            try:
                records = batch.to_pylist()
            except UnicodeDecodeError:
                # Arrow does not validate UTF-8 when reading; find the rows one at a time.
                records = None
            for offset in range(batch.num_rows):
                row += 1
                if records is not None:
                    yield checked_row(row, records[offset], strict=False, file=label)
                else:
                    yield _parquet_row(batch.slice(offset, 1), row, label)
    except (pa.ArrowException, OSError) as exc:
        raise SourceError(str(path), f"not a readable Parquet file: {exc}") from exc
    fingerprint.add_digest(digest.hexdigest())


def _parquet_row(batch: Any, row: int, label: str) -> SourceRow:
    """Return one Parquet row, quarantined with its column when a string is not UTF-8."""
    import pyarrow as pa

    try:
        return checked_row(row, batch.to_pylist()[0], strict=False, file=label)
    except UnicodeDecodeError:
        pass
    shown: dict[str, Any] = {}
    problem = None
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        try:
            shown[name] = column.to_pylist()[0]
        except UnicodeDecodeError as exc:
            if problem is None:
                problem = reason("invalid_utf8", name, f"{exc.reason} at byte {exc.start + 1}")
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                data = column.cast(pa.large_binary()).to_pylist()[0]
                shown[name] = data.decode("utf-8", "backslashreplace")
            else:
                shown[name] = "<not valid UTF-8>"
    if problem is None:  # the row failed as a whole though no column did alone
        problem = reason("invalid_utf8", None, "text that is not valid UTF-8")
    return SourceRow(row, None, render_safely(shown), problem, label)
