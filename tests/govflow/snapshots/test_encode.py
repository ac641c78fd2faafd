"""Encoding rows for snapshots keeps the ledger's canonical hashes and decodes back exactly."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govflow.errors import InputError
from govflow.hashing import canonical_json, combine_hashes, sha256_text
from govflow.ledger.datasets import version_id_for
from govflow.records import frame_to_records
from govflow.snapshots.encode import decode_table, encode_frame, encode_records
from govflow.snapshots.files import read_table, write_snapshot


def _old_frame_to_records(frame: pd.DataFrame) -> list[dict]:
    """frame_to_records as it was before snapshots: the oracle for the column-wise encoder."""
    data = frame.drop(columns=[c for c in ("_source_row", "_source_file") if c in frame.columns])
    converted = {}
    for column in data.columns:
        series = data[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            text = series.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            converted[column] = text.astype(object).where(series.notna(), None)
        else:
            converted[column] = series.astype(object).where(series.notna(), None)
    return pd.DataFrame(converted).to_dict(orient="records")


def _old_hashes(records: list[dict]) -> list[str]:
    return [sha256_text(canonical_json(r)) for r in records]


def _round_trip(hashes, table) -> list[dict]:
    stored = read_table(write_snapshot(hashes, table))
    assert stored.column("_hash").to_pylist() == hashes
    return decode_table(stored)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
keys = st.sampled_from(["a", "b", "é", "text", "n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(keys, json_values, max_size=4), max_size=6))
def test_records_keep_their_hash_and_decode_back_exactly(records):
    encoded = encode_records(records)

    assert encoded.hashes == _old_hashes(records)
    assert _round_trip(encoded.hashes, encoded.table) == records


columns = st.sampled_from(["ints", "floats", "text", "flags", "when", "mixed", "nulls"])


def _column(kind: str, n: int, draw) -> pd.Series:  # type: ignore[no-untyped-def]
    if kind == "ints":
        return pd.Series(draw(st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n)))
    if kind == "floats":
        values = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False))
        return pd.Series(draw(st.lists(values, min_size=n, max_size=n)), dtype="float64")
    if kind == "text":
        values = st.one_of(st.none(), st.text(max_size=6))
        return pd.Series(draw(st.lists(values, min_size=n, max_size=n)), dtype="str")
    if kind == "flags":
        return pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    if kind == "when":
        stamps = st.datetimes(
            min_value=pd.Timestamp("1970-01-01").to_pydatetime(),
            max_value=pd.Timestamp("2100-01-01").to_pydatetime(),
        )
        return pd.to_datetime(pd.Series(draw(st.lists(stamps, min_size=n, max_size=n))))
    if kind == "mixed":
        return pd.Series(draw(st.lists(json_values, min_size=n, max_size=n)), dtype=object)
    return pd.Series([None] * n, dtype=object)


@st.composite
def frames(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(0, 6))
    kinds = draw(st.lists(columns, min_size=0, max_size=4, unique=True))
    frame = pd.DataFrame({kind: _column(kind, n, draw) for kind in kinds}, index=range(n))
    if draw(st.booleans()):
        frame["_source_row"] = range(n)
    return frame


@settings(max_examples=300, deadline=None)
@given(frames())
def test_frames_encode_a_column_at_a_time_to_the_same_hashes_and_rows(frame):
    expected = _old_frame_to_records(frame) if len(frame.columns) else []
    if not expected:
        expected = [{} for _ in range(len(frame))]

    encoded = encode_frame(frame)

    assert frame_to_records(frame) == expected
    assert encoded.hashes == _old_hashes(expected)
    assert _round_trip(encoded.hashes, encoded.table) == expected


def test_version_ids_equal_the_formula_of_the_item_tables():
    records = [{"id": 1, "text": "refund"}, {"id": 2, "text": "crash"}]
    digest = combine_hashes(encode_records(records).hashes)

    assert digest == combine_hashes(sha256_text(canonical_json(r)) for r in records)
    assert version_id_for(name="t", stage="raw", content_hash=digest).startswith("dv-")


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nan_and_infinity_are_refused_naming_the_row(bad):
    with pytest.raises(InputError, match="row 1 holds NaN or infinity"):
        encode_records([{"x": 1.0}, {"x": bad}])


def test_nan_in_an_object_column_of_a_frame_is_refused_naming_the_column():
    frame = pd.DataFrame({"x": pd.Series([1.0, [math.inf]], dtype=object)})
    with pytest.raises(InputError, match="column 'x' holds NaN or infinity"):
        encode_frame(frame)


@pytest.mark.parametrize("name", ["_hash", "_record"])
def test_reserved_column_names_are_refused(name):
    with pytest.raises(InputError, match=rf"column names \['{name}'\] are reserved"):
        encode_records([{name: 1}])
    with pytest.raises(InputError, match=rf"column names \['{name}'\] are reserved"):
        encode_frame(pd.DataFrame({name: [1]}))


def test_timestamps_are_stored_as_the_ledger_renders_them():
    frame = pd.DataFrame(
        {"when": pd.to_datetime(["2026-11-01T10:00:00.123456Z", None], utc=True), "n": [1, 2]}
    )

    encoded = encode_frame(frame)

    assert decode_table(encoded.table) == [
        {"when": "2026-11-01T10:00:00.123456Z", "n": 1},
        {"when": None, "n": 2},
    ]
    assert str(encoded.table.schema.field("when").type) == "string"


def test_frames_hash_the_same_a_chunk_at_a_time(monkeypatch):
    import govflow.snapshots.encode as encode

    frame = pd.DataFrame(
        {"n": range(7), "text": [f"t{i}" if i % 2 else None for i in range(7)], "x": [0.5] * 7}
    )
    whole = encode_frame(frame)
    monkeypatch.setattr(encode, "HASH_CHUNK_ROWS", 3)

    assert encode_frame(frame).hashes == whole.hashes == _old_hashes(_old_frame_to_records(frame))
