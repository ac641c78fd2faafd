"""read_for_registration(): every row of a file as written, or one error naming the first bad one.

The content hashes below were computed by the reader registration used before (pandas for
CSV, ``pyarrow.parquet.read_table`` for Parquet): valid files must keep their hashes, or a
ledger would see known content as new.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from govflow.errors import SourceError
from govflow.ledger.datasets import SourceSpec, prepare_items
from govflow.sources.registration import read_for_registration

HINT = (
    "fix the file, or ingest it with a dataset config through flows/ingest.py, which "
    "quarantines bad rows with their reasons"
)
GOLDEN_JSONL = (
    b'{"id": "a", "text": "caf\xc3\xa9 \\u00e9\\n\\t\\"q\\"", "n": 12345678901234567890, '
    b'"x": 1.5e-7}\r\n'
    b"\n"
    b'{"id": "b", "nested": {"z": [1, 2.0, true, null, {"k": "\\u0000"}], "a": {}}, '
    b'"emoji": "\\ud83d\\ude00"}\n'
    b"   \n"
    b'{"id": "c", "dup": 1, "dup": 2, "neg": -0.0, "big": 1e300}'
)
GOLDEN_CSV = (
    b"\xef\xbb\xbfid,text,score\r\n"
    b'a,"two\nlines, and a comma",0.5\r\n'
    b"b,,\r\n"
    b'c,"say ""hi""",NaN\r\n'
    b"\r\n"
    b"d,\xe6\x97\xa5\xe6\x9c\xac, 7 \n"
)


def write_golden_parquet(path: Path) -> None:
    utc = dt.UTC
    table = pa.table(
        {
            "id": ["p1", "p2", None],
            "score": [0.25, float("nan"), None],
            "count": pa.array([1, None, 3], pa.int64()),
            "flag": [True, False, None],
            "at": pa.array(
                [dt.datetime(2026, 1, 2, 3, 4, 5, 6), None, dt.datetime(2026, 6, 1)],
                pa.timestamp("us", tz=str(utc)),
            ),
            "day": pa.array([dt.date(2026, 1, 2), None, dt.date(2000, 2, 29)], pa.date32()),
            "tags": [["a", "b"], [], None],
            "meta": [{"k": 1, "v": "x"}, None, {"k": 2, "v": None}],
        }
    )
    pq.write_table(table, path)


def refusal(path: Path, *, hint: str | None = HINT) -> str:
    """Return the problem of the error refusing ``path`` (a whole-file error has no hint)."""
    with pytest.raises(SourceError) as caught:
        read_for_registration(path)
    assert caught.value.source == str(path)
    assert caught.value.hint == hint
    return caught.value.problem


@pytest.mark.parametrize(
    ("name", "rows", "content_hash"),
    [
        ("g.jsonl", 3, "b0002086e5885b8ce60aa7da3dc8407bb186b21a06558c32218a453f3bd8ff08"),
        ("g.csv", 4, "7e14a0cf078d200ddbb3633e9f9d4067904a0e9d41d7d3d243ac87ce662d3859"),
        ("g.parquet", 3, "0210b7f46b521dbee0ea5560365d3435344c161838ca2f26d1ba7da3108b09cf"),
    ],
)
def test_read_for_registration_keeps_content_hashes_of_valid_files(
    tmp_path: Path, name: str, rows: int, content_hash: str
) -> None:
    path = tmp_path / name
    if name.endswith(".parquet"):
        write_golden_parquet(path)
    else:
        path.write_bytes(GOLDEN_JSONL if name.endswith(".jsonl") else GOLDEN_CSV)

    read = read_for_registration(path)

    items = prepare_items(read.records)
    assert (len(items), items.content_hash) == (rows, content_hash)
    assert read.source == SourceSpec(
        kind="file", uri=str(path.resolve()), params={"format": name.split(".")[1]}
    )


def test_read_for_registration_refuses_hostile_jsonl_naming_the_first_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.jsonl"
    lines = [
        '{"text": "fine"}',
        '{"text": ' + "[" * 10_000 + "]" * 10_000 + "}",
        '{"text": "\\ud800"}',
        '{"\\ud800": "key"}',
        '{"text": "fine", "score": NaN}',
        '{"text": "fine", "score": -Infinity}',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    assert refusal(path) == (
        "line 2 is nested too deeply: more than 128 levels of nesting; "
        "5 of 6 rows cannot be registered"
    )


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            '{"text": "ab\\udfff"}',
            "line 2, field 'text', holds text that is not valid Unicode: surrogate code point "
            "U+DFFF at character 3",
        ),
        (
            '{"x": {"\\ud800": 1}}',
            "line 2, field 'x', holds text that is not valid Unicode: surrogate code point "
            "U+D800 in the field name",
        ),
        (
            '{"score": NaN}',
            "line 2, field 'score', holds a number JSON cannot represent: NaN",
        ),
        (
            '{"score": [1e999]}',
            "line 2, field 'score', holds a number JSON cannot represent: Infinity",
        ),
        ('{"text": ', "line 2 is not valid JSON: Expecting value at column 10"),
        ("[1, 2]", "line 2 is not a JSON object: a JSON array"),
        (
            '{"n": ' + "1" * 5000 + "}",
            "line 2 holds a number too long to read: an integer of more than 4300 digits",
        ),
    ],
)
def test_read_for_registration_names_each_problem_of_a_jsonl_line(
    tmp_path: Path, line: str, problem: str
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "fine"}\n' + line + "\n", encoding="utf-8")

    assert refusal(path) == f"{problem}; 1 of 2 rows cannot be registered"


def test_read_for_registration_refuses_a_repeated_csv_header(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,a,b\n1,2,3\n", encoding="utf-8")

    assert refusal(path, hint=None) == "header (line 1) repeats columns: 'a'"


def test_read_for_registration_refuses_short_and_long_csv_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n1,2,3\n4\n5,6,7,8\n9,10,11\n", encoding="utf-8")

    assert refusal(path) == (
        "line 3 has the wrong number of fields: expected 3 fields, got 1; "
        "2 of 4 rows cannot be registered"
    )


def test_read_for_registration_refuses_an_unnamed_csv_column(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    # What DataFrame.to_csv() writes by default: the index as a first, unnamed column.
    path.write_text(",text\n0,a\n", encoding="utf-8")

    assert refusal(path, hint=None) == "header (line 1) leaves column 1 unnamed"


def test_read_for_registration_keeps_csv_field_names_as_written(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id, text\n1, a\n", encoding="utf-8")

    assert read_for_registration(path).records == [{"id": "1", " text": " a"}]


def test_read_for_registration_stores_parquet_nan_as_null_and_refuses_infinity(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": [1.0, float("nan")]}), path)
    infinite = tmp_path / "inf.parquet"
    pq.write_table(pa.table({"x": [1.0, float("nan"), float("inf")]}), infinite)
    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"x": [[1.0], [float("nan")]]}), nested)

    assert read_for_registration(path).records == [{"x": 1.0}, {"x": None}]
    assert refusal(infinite) == (
        "record 3, field 'x', holds a number JSON cannot represent: Infinity; "
        "1 of 3 rows cannot be registered"
    )
    assert refusal(nested) == (
        "record 2, field 'x', holds a number JSON cannot represent: NaN; "
        "1 of 2 rows cannot be registered"
    )


def test_read_for_registration_refuses_parquet_values_without_a_json_form(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.parquet"
    table = pa.table(
        {
            "amount": pa.array([Decimal("1.50"), Decimal("2.25")], pa.decimal128(5, 2)),
            "blob": [b"x", b"y"],
        }
    )
    pq.write_table(table, path)

    assert refusal(path) == (
        "record 1, field 'amount', holds a value with no JSON form: a value of type Decimal; "
        "2 of 2 rows cannot be registered"
    )


def test_read_for_registration_refuses_parquet_strings_that_are_not_utf8(
    tmp_path: Path,
) -> None:
    values = [b"ok", b"\xff"]
    offsets = pa.array([0, 2, 3], pa.int32()).buffers()[1]
    text = pa.Array.from_buffers(pa.string(), 2, [None, offsets, pa.py_buffer(b"".join(values))])
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"text": text}), path)

    assert refusal(path) == (
        "record 2, field 'text', is not valid UTF-8: invalid start byte at byte 1; "
        "1 of 2 rows cannot be registered"
    )


def test_read_for_registration_names_the_file_as_given(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"

    with pytest.raises(SourceError) as caught:
        read_for_registration(missing)

    assert str(caught.value) == f"{missing}: file not found"
