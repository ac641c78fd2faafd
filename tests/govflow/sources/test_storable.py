"""Hostile rows: nesting, surrogates and non-finite numbers are quarantined, never fatal.

Every test here failed before ``govflow.sources.storable`` existed: a 10,000-deep line raised
``RecursionError`` in the reader, a lone surrogate raised ``UnicodeEncodeError`` when the ingest
flow hashed the rows, and the good rows of the file were lost with them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from govflow.hashing import canonical_json
from govflow.ledger.datasets import prepare_items, register_dataset_version
from govflow.ledger.engine import Ledger
from govflow.ledger.models import QuarantinedRow, ValidationRun
from govflow.ledger.quarantine import record_source_quarantine
from govflow.records import frame_to_records
from govflow.sources.acquire import Acquisition, acquire
from govflow.sources.config import load_dataset_config
from govflow.sources.storable import MAX_DEPTH, find_unstorable
from govflow.sources.stream import printable

COLUMNS = [
    {"name": "id", "type": "string"},
    {"name": "text", "type": "string"},
    {"name": "confidence", "type": "float", "required": False},
]
DEEP_LINE = '{"id": "deep", "text": ' + "[" * 10_000 + "]" * 10_000 + "}"
NESTED_LINE = '{"id": "nested", "text": ' + "[" * 200 + "]" * 200 + "}"
HOSTILE_LINES = [
    '{"id": "a", "text": "first"}',
    DEEP_LINE,
    NESTED_LINE,
    '{"id": "s", "text": "ab\\ud800"}',
    '{"id": "k", "text": "ok", "\\udc00x": 1}',
    '{"id": "n", "text": "ok", "confidence": NaN}',
    '{"id": "i", "text": "ok", "confidence": 1e400}',
    '{"id": "b", "text": "last", "confidence": 0.5}',
]
TOO_DEEP = f"more than {MAX_DEPTH} levels of nesting"


def acquire_lines(folder: Path, lines: list[str]) -> Acquisition:
    (folder / "t.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    document = {"name": "t", "source": {"kind": "file", "path": "t.jsonl"}, "columns": COLUMNS}
    (folder / "t.source.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    return acquire(load_dataset_config(folder / "t.source.yaml"))


def test_acquire_quarantines_hostile_jsonl_lines_and_keeps_the_good_ones(tmp_path: Path) -> None:
    result = acquire_lines(tmp_path, HOSTILE_LINES)

    assert result.frame["id"].tolist() == ["a", "b"]
    assert result.frame["_source_row"].tolist() == [1, 8]
    reasons = [(row["source_row"], row["reasons"]) for row in result.quarantined]
    assert reasons == [
        (2, [{"check": "too_deep", "column": None, "observed": TOO_DEEP}]),
        (3, [{"check": "too_deep", "column": "text", "observed": TOO_DEEP}]),
        (
            4,
            [
                {
                    "check": "invalid_unicode",
                    "column": "text",
                    "observed": "surrogate code point U+D800 at character 3",
                }
            ],
        ),
        (
            5,
            [
                {
                    "check": "invalid_unicode",
                    "column": "\\udc00x",
                    "observed": "surrogate code point U+DC00 in the field name",
                }
            ],
        ),
        (6, [{"check": "non_finite_number", "column": "confidence", "observed": "NaN"}]),
        (7, [{"check": "non_finite_number", "column": "confidence", "observed": "Infinity"}]),
    ]
    raws = [row["raw"] for row in result.quarantined]
    assert raws[0] == DEEP_LINE[:1999] + "…"
    assert raws[1:] == HOSTILE_LINES[2:7]
    assert result.rows_in == 8 == len(result.frame) + len(result.quarantined)


def test_acquire_accepts_nesting_up_to_the_limit(tmp_path: Path) -> None:
    # The record is level 1, so MAX_DEPTH - 1 arrays inside it reach the limit exactly.
    inside = MAX_DEPTH - 1
    at_limit = '{"id": "x", "text": "t", "extra": ' + "[" * inside + "]" * inside + "}"
    over = '{"id": "y", "text": "t", "extra": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}"

    result = acquire_lines(tmp_path, [at_limit, over])

    assert result.frame["id"].tolist() == ["x"]
    assert [row["reasons"] for row in result.quarantined] == [
        [{"check": "too_deep", "column": "extra", "observed": TOO_DEEP}]
    ]


def test_acquired_rows_and_quarantine_are_stored_in_the_ledger(
    tmp_path: Path, ledger: Ledger
) -> None:
    result = acquire_lines(tmp_path, HOSTILE_LINES)

    # What the ingest flow's record_acquisition task does with an acquisition.
    items = prepare_items(frame_to_records(result.frame))
    with ledger.session() as session:
        version = register_dataset_version(
            session=session,
            name="t",
            stage="raw",
            items=items,
            actor="tester",
            source=result.source,
        ).version
        run = record_source_quarantine(
            session=session,
            dataset_version_id=version.id,
            dataset_name="t",
            source_fingerprint=result.fingerprint,
            rows_in=result.rows_in,
            rows_passed=len(result.frame),
            quarantined=result.quarantined,
            flow_run_id=None,
            actor="tester",
        )
        run_id = run.id

    with ledger.reader() as session:
        stored = session.scalars(
            select(QuarantinedRow).where(QuarantinedRow.validation_run_id == run_id)
        ).all()
        counts = session.execute(
            select(ValidationRun.rows_in, ValidationRun.rows_passed, ValidationRun.rows_quarantined)
        ).one()
    assert version.row_count == 2
    assert tuple(counts) == (8, 2, 6)
    assert [row.position for row in sorted(stored, key=lambda r: r.position)] == [2, 3, 4, 5, 6, 7]
    by_position = {row.position: row.reasons for row in stored}
    assert by_position[5][0]["column"] == "\\udc00x"
    assert by_position[5][0]["raw"] == HOSTILE_LINES[4]


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"a": [float("-inf")]}, ("non_finite_number", "a", "-Infinity")),
        ({"a": {"b": ["x\udfff"]}}, ("invalid_unicode", "a", "surrogate code point U+DFFF at "
                                                           "character 2")),
        ({"a": {"\ud800": 1}}, ("invalid_unicode", "a", "surrogate code point U+D800 in the "
                                                        "field name")),
        ({"ok": 1, "t": dt.time(12)}, ("unsupported_type", "t", "a value of type time")),
        ({"a": "ok", "b": [1, "\ud801", float("nan")]}, ("invalid_unicode", "b",
                                                         "surrogate code point U+D801 at "
                                                         "character 1")),
    ],
)  # fmt: skip
def test_find_unstorable_names_the_first_problem_and_its_field(
    record: dict, expected: tuple[str, str, str]
) -> None:
    found = find_unstorable(record, strict=True)

    assert found == dict(zip(("check", "column", "observed"), expected, strict=True))


def test_find_unstorable_passes_what_canonical_json_stores() -> None:
    record = {"a": 1, "b": [1.5, None, True], "c": {"d": "é😀"}, "t": dt.datetime(2026, 1, 1)}

    assert find_unstorable(record, strict=True) is None
    canonical_json(record).encode("utf-8")


def test_find_unstorable_leaves_nan_and_other_types_to_the_schema_unless_strict() -> None:
    # Parquet and SQL rows: a float NaN is a missing value, a Decimal a number to convert.
    assert find_unstorable({"a": float("nan"), "b": Decimal("1.5")}, strict=False) is None
    assert find_unstorable({"a": float("nan")}, strict=True) == {
        "check": "non_finite_number",
        "column": "a",
        "observed": "NaN",
    }


def test_find_unstorable_walks_a_very_deep_record_without_recursing() -> None:
    record: dict = {"a": None}
    inner = record
    for _ in range(100_000):
        inner["a"] = {"a": None}
        inner = inner["a"]

    assert find_unstorable(record, strict=True) == {
        "check": "too_deep",
        "column": "a",
        "observed": TOO_DEEP,
    }


def test_printable_escapes_surrogates_and_keeps_other_text() -> None:
    assert printable("ok é 😀") == "ok é 😀"
    assert printable("a\ud800b\udcff") == "a\\ud800b\\udcff"
