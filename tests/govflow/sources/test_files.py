"""acquire() on local files: exact quarantine records, row numbers, dtypes and source errors."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from govflow.errors import SourceError
from govflow.hashing import canonical_json, combine_hashes
from govflow.ledger.datasets import SourceSpec
from govflow.sources.acquire import Acquisition, acquire
from govflow.sources.config import DatasetConfig, load_dataset_config

COLUMNS = [
    {"name": "id", "type": "string"},
    {"name": "text", "type": "string", "max_length": 50},
    {"name": "confidence", "type": "float", "required": False},
    {"name": "created_at", "type": "datetime"},
]

JSONL_LINES = [
    b'{"id": "a", "text": "hello", "confidence": 0.9, "created_at": "2026-01-01T00:00:00Z"}',
    b'{"id": "b", "text": "bonjour", "confidence": 1, "created_at": "2026-01-02T10:00:00+02:00",'
    b' "lang": "fr"}',
    b'{"id": "c", "text": ',
    b"",
    b"[1, 2]",
    b'{"id": "d", "text": "caf\xe9", "created_at": "2026-01-03T00:00:00Z"}',
    b'{"id": "e", "created_at": "2026-01-04T00:00:00Z"}',
    b'{"id": "f", "text": "sure", "confidence": "high", "created_at": "2026-01-05T00:00:00Z"}',
    b'{"id": "g", "text": "' + b"x" * 60 + b'", "created_at": "2026-01-06T00:00:00Z"}',
    b'{"id": "h", "text": "fine", "confidence": null, "created_at": "2026-01-07"}',
    b'{"id": 9, "text": null, "created_at": "yesterday"}',
]

CSV_BYTES = (
    b"id,text,confidence,created_at\n"
    b"a,hello,0.5,2026-01-01T00:00:00Z\n"
    b"b,hi,0.5,2026-01-01,extra\n"
    b"c,caf\xe9,0.5,2026-01-01\n"
    b'd,"two\nlines",,2026-01-02\n'
    b"e,,0.1,2026-01-03\n"
    b"f,last,1e-1,2026-01-04 08:00\n"
)


def write_config(folder: Path, path: str, **options: Any) -> DatasetConfig:
    """Write a YAML config into ``folder`` and load it (relative paths resolve there)."""
    document = {"name": "tickets", "source": {"kind": "file", "path": path, **options}}
    document["columns"] = COLUMNS
    config_path = folder / "tickets.source.yaml"
    config_path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return load_dataset_config(config_path)


def checks(acquisition: Acquisition) -> list[tuple[int, list[tuple[str, str | None]]]]:
    """Summarize the quarantine as (source_row, [(check, column), ...])."""
    return [
        (row["source_row"], [(r["check"], r["column"]) for r in row["reasons"]])
        for row in acquisition.quarantined
    ]


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_acquire_quarantines_each_bad_jsonl_line_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "t.jsonl").write_bytes(b"\n".join(JSONL_LINES) + b"\n")

    result = acquire(write_config(tmp_path, "t.jsonl"))

    assert checks(result) == [
        (3, [("invalid_json", None)]),
        (5, [("not_an_object", None)]),
        (6, [("invalid_utf8", None)]),
        (7, [("missing_required", "text")]),
        (8, [("wrong_type", "confidence")]),
        (9, [("too_long", "text")]),
        (
            11,
            [
                ("wrong_type", "id"),
                ("missing_required", "text"),
                ("wrong_type", "created_at"),
            ],
        ),
    ]
    observed = [[r["observed"] for r in row["reasons"]] for row in result.quarantined]
    assert observed == [
        ["Expecting value at column 21"],
        ["a JSON array"],
        ["invalid continuation byte at byte 25"],
        ["absent"],
        ["high"],
        ["60 characters"],
        ["9 (number)", "null", "yesterday"],
    ]
    assert result.quarantined[2]["raw"] == (
        '{"id": "d", "text": "caf\\xe9", "created_at": "2026-01-03T00:00:00Z"}'
    )
    assert {row["source_file"] for row in result.quarantined} == {"t.jsonl"}
    # The blank line 4 is neither a row in nor a quarantined row.
    assert result.rows_in == 10
    assert result.rows_in == len(result.frame) + len(result.quarantined)
    assert result.notes == ["dropped fields not in the schema: lang"]


def test_acquire_returns_passing_rows_typed_in_declared_order(tmp_path: Path) -> None:
    (tmp_path / "t.jsonl").write_bytes(b"\n".join(JSONL_LINES) + b"\n")

    frame = acquire(write_config(tmp_path, "t.jsonl")).frame

    assert list(frame.columns) == [
        "id",
        "text",
        "confidence",
        "created_at",
        "_source_row",
        "_source_file",
    ]
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == {
        "id": "string",
        "text": "string",
        "confidence": "Float64",
        "created_at": "datetime64[us, UTC]",
        "_source_row": "int64",
        "_source_file": "string",
    }
    assert frame["id"].tolist() == ["a", "b", "h"]
    assert frame["confidence"].tolist() == [0.9, 1.0, pd.NA]
    assert frame["created_at"].tolist() == [
        utc("2026-01-01T00:00:00"),
        utc("2026-01-02T08:00:00"),
        utc("2026-01-07T00:00:00"),
    ]
    assert frame["_source_row"].tolist() == [1, 2, 10]
    assert frame.index.tolist() == [0, 1, 2]


def test_acquire_fingerprint_tracks_file_bytes(tmp_path: Path) -> None:
    data = tmp_path / "t.jsonl"
    data.write_bytes(b"\n".join(JSONL_LINES) + b"\n")
    config = write_config(tmp_path, "t.jsonl")

    first, second = acquire(config), acquire(config)
    data.write_bytes(b"\n".join(JSONL_LINES[:2]) + b"\n")
    changed = acquire(config)

    expected = combine_hashes([hashlib.sha256(b"\n".join(JSONL_LINES) + b"\n").hexdigest()])
    assert first.fingerprint == second.fingerprint == expected
    assert changed.fingerprint != first.fingerprint
    assert first.source == SourceSpec(
        kind="file", uri=str(tmp_path / "t.jsonl"), params={"format": "jsonl"}
    )


def test_acquire_quarantines_csv_rows_with_wrong_field_count_or_bad_bytes(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes(CSV_BYTES)

    result = acquire(write_config(tmp_path, "t.csv"))

    assert result.quarantined == [
        {
            "source_row": 3,
            "reasons": [
                {
                    "check": "wrong_field_count",
                    "column": None,
                    "observed": "expected 4 fields, got 5",
                }
            ],
            "raw": "b,hi,0.5,2026-01-01,extra",
            "source_file": "t.csv",
        },
        {
            "source_row": 4,
            "reasons": [
                {
                    "check": "invalid_utf8",
                    "column": None,
                    "observed": "invalid continuation byte at byte 6",
                }
            ],
            "raw": "c,caf\\xe9,0.5,2026-01-01",
            "source_file": "t.csv",
        },
        {
            "source_row": 7,
            "reasons": [{"check": "missing_required", "column": "text", "observed": "empty"}],
            "raw": "e,,0.1,2026-01-03",
            "source_file": "t.csv",
        },
    ]
    # Row 5's quoted field spans lines 5 and 6; an empty optional cell is a missing value.
    assert result.frame["_source_row"].tolist() == [2, 5, 8]
    assert result.frame["text"].tolist() == ["hello", "two\nlines", "last"]
    assert result.frame["confidence"].tolist() == [0.5, pd.NA, 0.1]
    assert result.rows_in == 6 == len(result.frame) + len(result.quarantined)
    assert result.source.params == {"format": "csv"}


def test_acquire_shows_the_undecodable_bytes_of_a_malformed_csv_record(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes(
        b"id,text,created_at\na,ok,2026-01-01\nb,\r\x80\nc,fine,2026-01-02\n"
    )

    result = acquire(write_config(tmp_path, "t.csv"))

    assert result.quarantined == [
        {
            "source_row": 3,
            "reasons": [
                {
                    "check": "malformed_csv",
                    "column": None,
                    "observed": "new-line character seen in unquoted field - do you need to "
                    "open the file in universal-newline mode?",
                }
            ],
            "raw": "b,\r\\x80",
            "source_file": "t.csv",
        }
    ]
    # The ledger stores the quarantine as canonical JSON in UTF-8.
    canonical_json(result.quarantined).encode("utf-8")
    assert result.frame["id"].tolist() == ["a", "c"]


def test_acquire_fails_when_csv_header_lacks_required_columns(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,confidence\na,0.5\n", encoding="utf-8")

    with pytest.raises(SourceError) as caught:
        acquire(write_config(tmp_path, "t.csv"))

    assert str(caught.value) == f"{path}: header lacks required columns: text, created_at"


def test_acquire_reads_parquet_and_checks_its_typed_columns(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": ["a", "b", "c"],
            "text": ["one", None, "three"],
            "confidence": ["0.5", "0.7", "high"],
            "created_at": pa.array(
                [pd.Timestamp("2026-01-01", tz="UTC")] * 3, type=pa.timestamp("us", tz="UTC")
            ),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")

    result = acquire(write_config(tmp_path, "t.parquet"))

    assert checks(result) == [
        (2, [("missing_required", "text")]),
        (3, [("wrong_type", "confidence")]),
    ]
    assert result.quarantined[0]["raw"] == (
        '{"confidence":"0.7","created_at":"2026-01-01T00:00:00.000000Z","id":"b","text":null}'
    )
    assert result.frame["id"].tolist() == ["a"]
    assert result.frame["confidence"].tolist() == [0.5]
    assert result.frame["_source_row"].tolist() == [1]
    assert result.rows_in == 3
    assert result.source.params == {"format": "parquet"}


def invalid_utf8_strings(values: list[bytes]) -> pa.Array:
    """Build a string array holding bytes that are not UTF-8 (Arrow does not check)."""
    offsets = [0]
    for value in values:
        offsets.append(offsets[-1] + len(value))
    buffers = [
        None,
        pa.py_buffer(pa.array(offsets, pa.int32()).buffers()[1]),
        pa.py_buffer(b"".join(values)),
    ]
    return pa.Array.from_buffers(pa.string(), len(values), buffers)


def test_acquire_quarantines_parquet_rows_whose_strings_are_not_utf8(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": ["a", "b", "c"],
            "text": invalid_utf8_strings([b"one", b"t\xffo", b"three"]),
            "created_at": pa.array(
                [pd.Timestamp("2026-01-01", tz="UTC")] * 3, type=pa.timestamp("us", tz="UTC")
            ),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")

    result = acquire(write_config(tmp_path, "t.parquet", format="parquet"))

    assert result.quarantined == [
        {
            "source_row": 2,
            "reasons": [
                {
                    "check": "invalid_utf8",
                    "column": "text",
                    "observed": "invalid start byte at byte 2",
                }
            ],
            "raw": '{"created_at":"2026-01-01T00:00:00.000000Z","id":"b","text":"t\\\\xffo"}',
            "source_file": "t.parquet",
        }
    ]
    assert result.frame["text"].tolist() == ["one", "three"]
    assert result.frame["_source_row"].tolist() == [1, 3]
    assert result.rows_in == 3


def test_acquire_fails_on_a_corrupt_parquet_file(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1 this is not parquet PAR1")

    with pytest.raises(SourceError) as caught:
        acquire(write_config(tmp_path, "t.parquet"))

    assert caught.value.source == str(path)
    assert caught.value.problem.startswith("not a readable Parquet file: ")


def test_acquire_reads_every_glob_match_in_sorted_order(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    good = '{"id": "%s", "text": "t", "created_at": "2026-01-01T00:00:00Z"}\n'
    (data / "b.jsonl").write_text(good % "b1" + '{"id": "b2"}\n', encoding="utf-8")
    (data / "a.jsonl").write_text(good % "a1" + good % "a2", encoding="utf-8")
    (data / "notes.txt").write_text("not matched\n", encoding="utf-8")

    result = acquire(write_config(tmp_path, "data/*.jsonl"))

    assert result.frame[["id", "_source_file", "_source_row"]].values.tolist() == [
        ["a1", "data/a.jsonl", 1],
        ["a2", "data/a.jsonl", 2],
        ["b1", "data/b.jsonl", 1],
    ]
    assert [(r["source_file"], r["source_row"]) for r in result.quarantined] == [
        ("data/b.jsonl", 2)
    ]
    assert result.source.uri == str(tmp_path / "data" / "*.jsonl")
    assert result.rows_in == 4


def test_acquire_fails_when_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"")

    with pytest.raises(SourceError) as caught:
        acquire(write_config(tmp_path, "t.jsonl"))

    assert str(caught.value) == f"{path}: file is empty"


def test_acquire_fails_when_file_is_missing(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        acquire(write_config(tmp_path, "missing.jsonl"))

    assert str(caught.value) == f"{tmp_path / 'missing.jsonl'}: file not found"


def test_acquire_fails_when_glob_matches_nothing(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        acquire(write_config(tmp_path, "data/*.csv"))

    assert str(caught.value) == f"{tmp_path}: no files match 'data/*.csv'"


def test_acquire_fails_when_file_has_only_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\n  \n")

    with pytest.raises(SourceError) as caught:
        acquire(write_config(tmp_path, "t.jsonl"))

    assert str(caught.value) == f"{path}: file has no records"


def test_acquire_honours_declared_format_over_suffix(tmp_path: Path) -> None:
    (tmp_path / "export.txt").write_bytes(b"\n".join(JSONL_LINES[:2]) + b"\n")

    result = acquire(write_config(tmp_path, "export.txt", format="jsonl"))

    assert result.frame["id"].tolist() == ["a", "b"]
    assert result.quarantined == []


def test_acquire_checks_rows_chunk_by_chunk_with_the_same_outcome(tmp_path: Path) -> None:
    (tmp_path / "t.jsonl").write_bytes(b"\n".join(JSONL_LINES) + b"\n")
    whole = acquire(write_config(tmp_path, "t.jsonl"))
    chunked = acquire(write_config(tmp_path, "t.jsonl").model_copy(update={"chunk_size": 3}))

    pd.testing.assert_frame_equal(chunked.frame, whole.frame)
    assert chunked.quarantined == whole.quarantined
    assert chunked.fingerprint == whole.fingerprint
