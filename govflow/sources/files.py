"""Read local CSV, JSONL and Parquet files into plain records."""

from __future__ import annotations

import codecs
import json
import math
from pathlib import Path
from typing import Any

from govflow.errors import SourceError

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


def detect_format(path: Path) -> str:
    """Return the file format from the suffix, or fail naming the supported ones."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        supported = ", ".join(sorted(FORMATS))
        raise SourceError(str(path), f"unsupported file type {path.suffix!r} (use {supported})")
    return fmt


def read_records(path: Path) -> list[dict[str, Any]]:
    """Read every record of a local file; any unreadable content is one clear error."""
    if not path.exists():
        raise SourceError(str(path), "file not found")
    if path.is_dir():
        raise SourceError(str(path), "is a directory, expected a file")
    fmt = detect_format(path)
    if path.stat().st_size == 0:
        raise SourceError(str(path), "file is empty")
    reader = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}[fmt]
    records = reader(path)
    if not records:
        raise SourceError(str(path), "file has no records")
    return records


def _read_csv(path: Path) -> list[dict[str, Any]]:
    import pandas as pd

    try:
        # Strings as written: type coercion belongs to a declared schema, not to the reader.
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path) from exc
    except pd.errors.EmptyDataError as exc:
        raise SourceError(str(path), "file has no header row") from exc
    except pd.errors.ParserError as exc:
        raise SourceError(str(path), f"malformed CSV: {str(exc).strip()}") from exc
    return frame.to_dict(orient="records")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    try:
        with path.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SourceError(
                        str(path),
                        f"line {line_no} is not valid JSON: {exc.msg} (column {exc.colno})",
                        hint="fix or remove the line, or ingest the file with a dataset config "
                        "(flows/ingest.py), which quarantines bad lines with their reasons",
                    ) from exc
                if not isinstance(value, dict):
                    raise SourceError(
                        str(path),
                        f"line {line_no} is a JSON {type(value).__name__}, expected an object",
                    )
                records.append(value)
    except UnicodeDecodeError as exc:
        raise _not_utf8(path) from exc
    return records


def _not_utf8(path: Path) -> SourceError:
    """Locate the first undecodable byte (readers report offsets within their own buffers)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, line_no = 0, 1
    with path.open("rb") as handle:
        for line in handle:
            try:
                decoder.decode(line)
            except UnicodeDecodeError as exc:
                where = f"line {line_no}, byte {offset + exc.start}"
                break
            offset += len(line)
            line_no += 1
        else:
            where = "the end of the file"
    return SourceError(str(path), f"not valid UTF-8 at {where}", hint="re-encode the file as UTF-8")


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError(str(path), f"not a readable Parquet file: {exc}") from exc
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in table.to_pylist()
    ]
