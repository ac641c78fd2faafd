"""Filter a snapshot's rows with a SQL condition, run by DuckDB over the checked rows.

The snapshot's bytes are checked against their hash first, then handed to DuckDB as an Arrow
table; DuckDB runs with external access disabled, so a condition cannot read other files.
"""

from __future__ import annotations

import pyarrow as pa

from govflow.errors import InputError

__all__ = ["filter_rows"]


def filter_rows(table: pa.Table, *, where: str | None, limit: int | None) -> pa.Table:
    """Return the rows of ``table`` (in order) meeting ``where``, at most ``limit`` of them."""
    if where is None:
        return table if limit is None else table.slice(0, limit)
    if ";" in where:
        raise InputError("--where takes one condition, without ';'")
    import duckdb

    connection = duckdb.connect(config={"enable_external_access": False})
    try:
        connection.register("snapshot_rows", table)
        query = f"SELECT * FROM snapshot_rows WHERE {where}"
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        try:
            found = connection.sql(query).to_arrow_table()
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise InputError(
                f"cannot filter with {where!r}: {first}",
                hint=f"columns are {', '.join(table.column_names)}",
            ) from exc
    finally:
        connection.close()
    # DuckDB drops the schema's metadata, which says which columns hold JSON text.
    return found.replace_schema_metadata(table.schema.metadata)
