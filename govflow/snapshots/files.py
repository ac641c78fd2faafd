"""The snapshot file: ``_hash`` first, then the data columns, in Parquet (snappy).

Row groups of 128k rows keep a reader's memory bounded; ``_hash`` has no dictionary (every
value is distinct), the data columns do.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from govflow.snapshots.encode import HASH_COLUMN, JSON_COLUMNS_KEY

__all__ = ["ROW_GROUP_ROWS", "read_table", "snapshot_schema", "write_snapshot"]

ROW_GROUP_ROWS = 128 * 1024


def write_snapshot(hashes: Sequence[str], table: pa.Table) -> pa.Buffer:
    """Return the Parquet bytes of a snapshot of ``table`` with its row hashes (no copy)."""
    if table.num_columns and table.num_rows != len(hashes):
        raise ValueError(f"{len(hashes)} hashes for {table.num_rows} rows")
    metadata = table.schema.metadata
    full = pa.table({HASH_COLUMN: pa.array(list(hashes), pa.string())})
    for name in table.column_names:
        full = full.append_column(name, table.column(name))
    if metadata:
        full = full.replace_schema_metadata(metadata)
    buffer = pa.BufferOutputStream()
    pq.write_table(
        full,
        buffer,
        compression="snappy",
        row_group_size=ROW_GROUP_ROWS,
        use_dictionary=[n for n in full.column_names if n != HASH_COLUMN],
        store_schema=True,
    )
    return buffer.getvalue()


def read_table(data: bytes | pa.Buffer, *, columns: Sequence[str] | None = None) -> pa.Table:
    """Read a snapshot's bytes (all columns, or only ``columns``)."""
    table = pq.read_table(pa.BufferReader(data), columns=list(columns) if columns else None)
    return table


def snapshot_schema(table: pa.Table) -> dict[str, Any]:
    """Describe the data columns for the ledger: names, Arrow types, JSON-encoded columns."""
    metadata = table.schema.metadata or {}
    return {
        "columns": [
            {"name": f.name, "type": str(f.type)} for f in table.schema if f.name != HASH_COLUMN
        ],
        "json_columns": json.loads(metadata.get(JSON_COLUMNS_KEY, b"[]")),
    }
