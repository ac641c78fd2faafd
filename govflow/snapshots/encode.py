"""Encode records as row hashes and an Arrow table that decodes back to the same records.

A row's hash is the SHA-256 of its canonical JSON (``govflow.hashing.canonical_json``), the
formula the ledger always used, so version ids stay what they were. Columns whose values are
all of one JSON scalar type are stored typed (string, int64, float64, bool); any other column
is stored as the canonical JSON text of each value. Records whose keys differ are stored
whole, as canonical JSON, in a ``_record`` column.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from govflow.errors import InputError
from govflow.hashing import canonical_json

try:  # the C speedup json uses itself when ensure_ascii=False
    from _json import encode_basestring
except ImportError:  # pragma: no cover
    from json.encoder import py_encode_basestring as encode_basestring

__all__ = [
    "HASH_COLUMN",
    "JSON_COLUMNS_KEY",
    "RECORD_COLUMN",
    "EncodedRows",
    "decode_table",
    "encode_records",
]

HASH_COLUMN = "_hash"
RECORD_COLUMN = "_record"
RESERVED = (HASH_COLUMN, RECORD_COLUMN)
JSON_COLUMNS_KEY = b"govflow.json_columns"
_INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class EncodedRows:
    """Rows ready to store: their hashes in order and their data columns (no ``_hash``)."""

    hashes: list[str]
    table: pa.Table

    def __len__(self) -> int:
        return len(self.hashes)


def encode_records(records: Sequence[Mapping[str, Any]]) -> EncodedRows:
    """Hash each record canonically and build its table; NaN and infinity are refused."""
    hashes = []
    for position, record in enumerate(records):
        try:
            text = canonical_json(record)
        except ValueError as exc:
            raise InputError(
                f"row {position} holds NaN or infinity, which has no JSON form",
                hint="replace it with null or drop the row",
            ) from exc
        hashes.append(hashlib.sha256(text.encode("utf-8")).hexdigest())
    return EncodedRows(hashes=hashes, table=records_table(records))


def records_table(records: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Return the records as a table of typed (or JSON text) columns, in first-record order."""
    if not records:
        return pa.table({})
    names = list(records[0])
    reserved = sorted(set(names) & set(RESERVED))
    if reserved:
        raise InputError(f"column names {reserved} are reserved for snapshots; rename them")
    keys = set(names)
    if not names or any(len(r) != len(keys) or set(r) != keys for r in records):
        text = [canonical_json(r) for r in records]
        return pa.table({RECORD_COLUMN: pa.array(text, pa.string())})
    columns: dict[str, pa.Array] = {}
    json_columns: list[str] = []
    for name in names:
        values = [r[name] for r in records]
        array = _typed_array(values)
        if array is None:
            array = pa.array(
                [None if v is None else canonical_json(v) for v in values], pa.string()
            )
            json_columns.append(name)
        columns[name] = array
    table = pa.table(columns)
    if json_columns:
        table = table.replace_schema_metadata({JSON_COLUMNS_KEY: json.dumps(json_columns)})
    return table


def _typed_array(values: list[Any]) -> pa.Array | None:
    """Return a typed array when every non-null value has one JSON scalar type, else None."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return pa.nulls(len(values))
    if len(kinds) != 1:
        return None
    (kind,) = kinds
    if kind is str:
        return pa.array(values, pa.string())
    if kind is bool:
        return pa.array(values, pa.bool_())
    if kind is int:
        if all(_INT64[0] <= v <= _INT64[1] for v in values if v is not None):
            return pa.array(values, pa.int64())
        return None
    if kind is float:
        return pa.array(values, pa.float64())
    return None


def decode_table(table: pa.Table) -> list[dict[str, Any]]:
    """Return the records a table (with or without ``_hash``) encodes, in row order."""
    names = [n for n in table.column_names if n != HASH_COLUMN]
    if names == [RECORD_COLUMN]:
        return [json.loads(text) for text in table.column(RECORD_COLUMN).to_pylist()]
    if not names:
        return [{} for _ in range(table.num_rows)]
    metadata = table.schema.metadata or {}
    json_columns = set(json.loads(metadata.get(JSON_COLUMNS_KEY, b"[]")))
    columns = []
    for name in names:
        values = table.column(name).to_pylist()
        if name in json_columns:
            values = [None if v is None else json.loads(v) for v in values]
        columns.append(values)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


_ENCODE = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def _encode_value(value: Any) -> str:
    try:
        return _ENCODE(value)
    except TypeError:
        return canonical_json(value)  # numpy scalars, dates: the ledger's own rules


HASH_CHUNK_ROWS = 65_536
_NULL = "null"
_BOOLS = {True: "true", False: "false"}


def _column_encoder(name: str, values: list[Any]):  # type: ignore[no-untyped-def]
    """Return a function encoding a slice of a column's values as canonical JSON texts.

    Columns of one JSON scalar type take a direct path (the same texts ``json.dumps`` gives);
    anything else goes through the encoder value by value.
    """
    kinds = set(map(type, values)) - {type(None)}
    if kinds == {float} and not all(math.isfinite(v) for v in values if v is not None):
        raise InputError(
            f"column {name!r} holds NaN or infinity, which has no JSON form",
            hint="replace it with null or drop the row",
        )
    direct = {
        frozenset({str}): encode_basestring,
        frozenset({int}): int.__repr__,
        frozenset({float}): float.__repr__,
        frozenset({bool}): _BOOLS.__getitem__,
    }.get(frozenset(kinds))
    if direct is None:

        def encode_any(chunk: list[Any]) -> list[str]:
            try:
                return [_encode_value(v) for v in chunk]
            except ValueError as exc:
                raise InputError(
                    f"column {name!r} holds NaN or infinity, which has no JSON form",
                    hint="replace it with null or drop the row",
                ) from exc

        return encode_any
    if None in values:
        return lambda chunk: [_NULL if v is None else direct(v) for v in chunk]
    return lambda chunk: list(map(direct, chunk))


def encode_frame(frame: Any) -> EncodedRows:
    """Encode a DataFrame's rows as ``frame_to_records`` renders them, a column at a time.

    Gives the same hashes as ``encode_records(frame_to_records(frame))`` without building a
    dict per row: each column's values are JSON-encoded in one pass, then each row's
    canonical text is joined from its columns in sorted-key order and hashed.
    """
    from govflow.records import column_values, stored_columns

    names = stored_columns(frame)
    if not names:
        return encode_records([{} for _ in range(len(frame))])
    reserved = sorted(set(names) & set(RESERVED))
    if reserved:
        raise InputError(f"column names {reserved} are reserved for snapshots; rename them")
    values = {name: column_values(frame[name]) for name in names}
    encoders = {name: _column_encoder(name, values[name]) for name in names}
    ordered = sorted(names)
    prefixes = [_ENCODE(name) + ":" for name in ordered]
    hashes: list[str] = []
    # A chunk at a time: the rows' canonical texts never all exist at once.
    for start in range(0, len(frame), HASH_CHUNK_ROWS):
        parts = [
            [
                prefix + text
                for text in encoders[name](values[name][start : start + HASH_CHUNK_ROWS])
            ]
            for prefix, name in zip(prefixes, ordered, strict=True)
        ]
        hashes.extend(
            hashlib.sha256(("{" + ",".join(row) + "}").encode("utf-8")).hexdigest()
            for row in zip(*parts, strict=True)
        )
    columns: dict[str, pa.Array] = {}
    json_columns: list[str] = []
    for name in names:
        array = _typed_array(values[name])
        if array is None:
            array = pa.array(
                [None if v is None else canonical_json(v) for v in values[name]], pa.string()
            )
            json_columns.append(name)
        columns[name] = array
    table = pa.table(columns)
    if json_columns:
        table = table.replace_schema_metadata({JSON_COLUMNS_KEY: json.dumps(json_columns)})
    return EncodedRows(hashes=hashes, table=table)
