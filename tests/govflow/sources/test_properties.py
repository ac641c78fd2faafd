"""Properties of the file readers and registration over arbitrary bytes and JSON values.

Whatever a file holds, ``acquire`` returns rows passed plus rows quarantined with reasons
(and what it returns can be stored: hashed as the ingest flow hashes it, and written as the
ledger writes quarantine records), or raises one ``SourceError``; registration returns
storable records or refuses the file with one ``SourceError`` counting its bad rows. No other
exception, ever. The expected outcome of each JSON line is computed independently of
``govflow.sources.storable``, with ``json.dumps`` and a depth count.
"""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govflow.errors import SourceError
from govflow.hashing import canonical_json
from govflow.ledger.datasets import prepare_items
from govflow.records import frame_to_records
from govflow.sources.acquire import Acquisition, acquire
from govflow.sources.config import load_dataset_config
from govflow.sources.registration import read_for_registration
from govflow.sources.storable import MAX_DEPTH

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,  # no .hypothesis folder in the worktree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
COLUMNS = [
    {"name": "text", "type": "string", "required": False},
    {"name": "n", "type": "float", "required": False},
]
STORABILITY_CHECKS = {"too_deep", "invalid_unicode", "non_finite_number"}
COUNTED = re.compile(r"; (\d+) of (\d+) rows cannot be registered$")

# Text with surrogates far more often than uniform sampling would give.
texts = st.text(
    st.one_of(st.characters(exclude_categories=()), st.characters(categories=["Cs"])),
    max_size=12,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)
records = st.one_of(
    st.dictionaries(st.sampled_from(["text", "n", "other"]) | texts, json_values, max_size=4),
    json_values,
)
FRAGMENTS = [b"{", b"}", b"[", b"]", b'"', b",", b":", b'"text"', b"\\ud800", b"\\udfff",
             b"NaN", b"-Infinity", b"1e400", b"\xff", b"\xed\xa0\x80", b"\r", b"\n", b" ",
             b"\x00", b'""', b"\xef\xbb\xbf"]  # fmt: skip
hostile_bytes = st.lists(
    st.one_of(st.binary(max_size=24), st.sampled_from(FRAGMENTS)), max_size=40
).map(b"".join)


@st.composite
def json_lines(draw: st.DrawFn) -> list[tuple[str, set[str]]]:
    """Lines of arbitrary JSON values (some nested far too deep) and the problems each has."""
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.integers(0, 9)) == 0:
            levels = draw(st.integers(MAX_DEPTH - 3, 3000))
            line = '{"text": ' + "[" * levels + "]" * levels + "}"
            lines.append((line, {"too_deep"} if levels + 1 > MAX_DEPTH else set()))
        else:
            value = draw(records)
            lines.append((json.dumps(value), problems_of(value)))
    return lines


def problems_of(value: Any) -> set[str]:
    """Return every reason ``value`` cannot be a stored row, found without govflow's code."""
    if not isinstance(value, dict):
        return {"not_an_object"}
    found = set()
    if depth(value) > MAX_DEPTH:
        found.add("too_deep")
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        found.add("invalid_unicode")
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        found.add("non_finite_number")
    return found


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(item) for item in value), default=0)
    return 0


def rows_in_file(data: bytes) -> int:
    """Count the JSONL rows a file holds: its lines that are not blank."""
    lines = data.removeprefix(codecs.BOM_UTF8).split(b"\n")
    return sum(1 for line in lines if line.strip())


def write_config(folder: Path, name: str) -> Path:
    document = {"name": "t", "source": {"kind": "file", "path": name}, "columns": COLUMNS}
    path = folder / "t.source.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def acquire_bytes(folder: Path, name: str, data: bytes) -> Acquisition | SourceError:
    (folder / name).write_bytes(data)
    try:
        return acquire(load_dataset_config(write_config(folder, name)))
    except SourceError as error:
        return error


def assert_accounted_and_storable(result: Acquisition) -> None:
    assert result.rows_in == len(result.frame) + len(result.quarantined)
    # What the ingest flow hashes and what the ledger writes must not fail.
    prepare_items(frame_to_records(result.frame))
    for row in result.quarantined:
        assert row["reasons"], row
        # An observed value may be empty (an empty string where a number belongs).
        assert all(
            reason["check"] and isinstance(reason["observed"], str) for reason in row["reasons"]
        ), row
        canonical_json(row).encode("utf-8")
    canonical_json(result.notes).encode("utf-8")


def assert_one_line_error(error: SourceError) -> None:
    """The CLI prints the error as it is: one line a person can read, encodable as UTF-8."""
    assert "\n" not in str(error), str(error)
    str(error).encode("utf-8")


@PROPERTY
@given(data=hostile_bytes)
def test_acquire_accounts_for_every_jsonl_row_of_arbitrary_bytes(
    tmp_path: Path, data: bytes
) -> None:
    result = acquire_bytes(tmp_path, "t.jsonl", data)

    if isinstance(result, SourceError):
        assert rows_in_file(data) == 0
        assert result.problem in {"file is empty", "file has no records"}
        return
    assert result.rows_in == rows_in_file(data)
    assert_accounted_and_storable(result)


@PROPERTY
@given(data=hostile_bytes)
def test_acquire_accounts_for_every_csv_row_of_arbitrary_bytes(tmp_path: Path, data: bytes) -> None:
    result = acquire_bytes(tmp_path, "t.csv", b"text,n\n" + data)

    if isinstance(result, SourceError):
        assert result.problem == "file has no records"
        return
    assert_accounted_and_storable(result)


@PROPERTY
@given(lines=json_lines())
def test_acquire_quarantines_exactly_the_jsonl_values_that_cannot_be_stored(
    tmp_path: Path, lines: list[tuple[str, set[str]]]
) -> None:
    data = "\n".join(line for line, _ in lines).encode("ascii") + b"\n"

    result = acquire_bytes(tmp_path, "t.jsonl", data)

    assert isinstance(result, Acquisition)
    assert result.rows_in == len(lines)
    assert_accounted_and_storable(result)
    first_checks = {row["source_row"]: row["reasons"][0]["check"] for row in result.quarantined}
    for number, (_, problems) in enumerate(lines, start=1):
        if problems:
            assert first_checks.get(number) in problems, (number, problems, first_checks)
        else:
            assert first_checks.get(number) not in STORABILITY_CHECKS | {"not_an_object"}


@PROPERTY
@given(lines=json_lines())
def test_registration_takes_a_jsonl_file_only_when_every_value_can_be_stored(
    tmp_path: Path, lines: list[tuple[str, set[str]]]
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes("\n".join(line for line, _ in lines).encode("ascii") + b"\n")
    bad = sum(1 for _, problems in lines if problems)

    try:
        read = read_for_registration(path)
    except SourceError as error:
        counted = COUNTED.search(error.problem)
        assert counted is not None, error.problem
        assert (int(counted[1]), int(counted[2])) == (bad, len(lines))
        assert_one_line_error(error)
        return
    assert bad == 0
    assert len(read.records) == len(lines)
    prepare_items(read.records)


@PROPERTY
@given(data=hostile_bytes, suffix=st.sampled_from(["jsonl", "csv"]))
def test_registration_of_arbitrary_bytes_is_records_or_one_error(
    tmp_path: Path, data: bytes, suffix: str
) -> None:
    path = tmp_path / f"t.{suffix}"
    path.write_bytes(data)

    try:
        read = read_for_registration(path)
    except SourceError as error:
        assert_one_line_error(error)
        counted = COUNTED.search(error.problem)
        if counted is not None and suffix == "jsonl":
            assert int(counted[2]) == rows_in_file(data) >= int(counted[1]) >= 1
        return
    if suffix == "jsonl":
        assert len(read.records) == rows_in_file(data)
    items = prepare_items(read.records)
    assert len(items) == len(read.records) >= 1
