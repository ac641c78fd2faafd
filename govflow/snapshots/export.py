"""Write a version's rows to a file: JSON Lines, CSV or Parquet, chosen by the suffix."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from govflow.errors import InputError
from govflow.snapshots.encode import HASH_COLUMN, decode_table

__all__ = ["FORMATS", "export_rows"]

FORMATS = (".jsonl", ".csv", ".parquet")


def export_rows(table: pa.Table, path: Path) -> int:
    """Write the rows of a snapshot table (without ``_hash``) to ``path``; return how many."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(
            f"cannot export to {path.name!r}: unknown format", hint=f"use {', '.join(FORMATS)}"
        )
    records = decode_table(table)
    try:
        if suffix == ".jsonl":
            with open(path, "w", encoding="utf-8") as out:
                for record in records:
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
        elif suffix == ".csv":
            import pandas as pd

            pd.DataFrame.from_records(records).to_csv(path, index=False)
        else:
            data = table.drop_columns([HASH_COLUMN]) if HASH_COLUMN in table.column_names else table
            pq.write_table(data, path)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return len(records)
