"""preprocess_frame: rows in == rows out, exact outputs, lineage steps, input errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from govflow.errors import InputError
from govflow.hashing import canonical_json, sha256_text
from govflow.preprocess.pipeline import OUTPUT_COLUMNS, preprocess_frame

BASE = (
    "the quick brown fox jumps over the lazy dog while seven tired workers "
    "quietly pack heavy boxes into large red trucks"
)


def small_frame() -> pd.DataFrame:
    """Return six rows covering noise, PII, an exact and a near duplicate, and missing text."""
    return pd.DataFrame(
        {
            "id": [10, 11, 12, 13, 14, 15],
            "text": [
                "  Mail  jo@example.com\tor call 415-555-0132 ",
                BASE,
                "Mail jo@example.com or call 415-555-0132",
                None,
                BASE.replace("lazy", "sleepy"),
                "Cafe\u0301 card 4111 1111 1111 1111",
            ],
            "label": ["a", "b", "c", "d", "e", "f"],
        },
        index=[5, 3, 1, 0, 2, 4],
    )


def test_preprocess_frame_keeps_rows_order_and_index_when_mixed_input() -> None:
    df = small_frame()
    out = preprocess_frame(df).frame
    assert len(out) == len(df)
    assert out.index.tolist() == [5, 3, 1, 0, 2, 4]
    assert out["id"].tolist() == df["id"].tolist()
    assert out["label"].tolist() == df["label"].tolist()
    assert list(out.columns) == ["id", "text", "label", *OUTPUT_COLUMNS]


def test_preprocess_frame_returns_exact_values_when_small_frame() -> None:
    out = preprocess_frame(small_frame()).frame
    mail = "Mail [EMAIL] or call [PHONE]"
    texts = out["text"].tolist()
    assert texts[0] == mail
    assert texts[2] == mail
    assert pd.isna(texts[3])
    assert texts[5] == "Caf\u00e9 card [CARD]"
    assert out["text_missing"].tolist() == [False, False, False, True, False, False]
    assert out["pii_emails"].tolist() == [1, 0, 1, 0, 0, 0]
    assert out["pii_phones"].tolist() == [1, 0, 1, 0, 0, 0]
    assert out["pii_cards"].tolist() == [0, 0, 0, 0, 0, 1]
    assert out["is_duplicate"].tolist() == [False, False, True, False, False, False]
    assert out["duplicate_of"].tolist() == [-1, -1, 0, -1, -1, -1]
    assert out["near_duplicate_of"].tolist() == [-1, -1, 0, -1, 1, -1]
    similarity = out["near_duplicate_similarity"].to_numpy()
    assert similarity[2] == 1.0
    assert 0.8 <= similarity[4] < 1.0
    assert np.isnan(similarity[[0, 1, 3, 5]]).all()


def test_preprocess_frame_hashes_redacted_text_when_pii_present() -> None:
    out = preprocess_frame(small_frame()).frame
    hashes = out["content_hash"].tolist()
    assert hashes[0] == sha256_text("Mail [EMAIL] or call [PHONE]")
    assert hashes[0] == hashes[2]
    assert hashes[0] != sha256_text("Mail jo@example.com or call 415-555-0132")
    assert pd.isna(hashes[3])
    for row in out.itertuples():
        assert "jo@example.com" not in str(row)
        assert "415-555-0132" not in str(row)
        assert "4111 1111" not in str(row)


def test_preprocess_frame_records_steps_when_small_frame() -> None:
    result = preprocess_frame(small_frame())
    near = result.steps[4]
    assert result.steps[:4] == [
        {"step": "validate", "text_column": "text", "rows": 6, "missing_text": 1},
        {
            "step": "normalize",
            "version": 1,
            "unicode_form": "NFC",
            "whitespace": "collapse_strip",
            "control_characters": "remove",
            "changed_rows": 2,
        },
        {
            "step": "redact_pii",
            "version": 1,
            "emails": 2,
            "phones": 2,
            "cards": 1,
            "changed_rows": 3,
        },
        {"step": "dedupe_exact", "version": 1, "hash": "sha256", "duplicates": 1},
    ]
    assert near == {
        "step": "near_duplicates",
        "version": 1,
        "method": "minhash_lsh",
        "threshold": 0.8,
        "num_perm": 128,
        "bands": 16,
        "rows_per_band": 8,
        "shingle": "word",
        "ngram": 1,
        "seed": 0,
        "candidate_pairs": near["candidate_pairs"],
        "verified_pairs": 1,
        "marked": 2,
        "marked_not_exact": 1,
    }
    assert near["candidate_pairs"] >= 1


def test_preprocess_frame_steps_are_json_and_deterministic_when_run_twice() -> None:
    first = preprocess_frame(small_frame())
    second = preprocess_frame(small_frame())
    assert canonical_json(first.steps) == canonical_json(second.steps)
    assert json.loads(json.dumps(first.steps)) == first.steps
    assert first.steps_hash == second.steps_hash
    assert len(first.steps_hash) == 64
    pd.testing.assert_frame_equal(first.frame, second.frame)


def test_preprocess_frame_records_parameters_when_overridden() -> None:
    result = preprocess_frame(
        small_frame(), near_dup_threshold=0.9, num_perm=64, bands=8, shingle="char", ngram=4
    )
    near = result.steps[4]
    assert (near["threshold"], near["num_perm"], near["bands"], near["rows_per_band"]) == (
        0.9,
        64,
        8,
        8,
    )
    assert (near["shingle"], near["ngram"]) == ("char", 4)


def test_preprocess_frame_gives_same_output_when_object_or_string_dtype() -> None:
    as_object = small_frame()
    as_string = small_frame().astype({"text": pd.StringDtype("pyarrow")})
    left = preprocess_frame(as_object)
    right = preprocess_frame(as_string)
    pd.testing.assert_frame_equal(left.frame, right.frame)
    assert left.steps == right.steps


def test_preprocess_frame_uses_named_column_when_text_column_given() -> None:
    df = pd.DataFrame({"body": ["a  b", "a b"], "text": ["untouched  ", "x"]})
    out = preprocess_frame(df, "body").frame
    assert out["body"].tolist() == ["a b", "a b"]
    assert out["text"].tolist() == ["untouched  ", "x"]
    assert out["duplicate_of"].tolist() == [-1, 0]


def test_preprocess_frame_returns_empty_frame_when_no_rows() -> None:
    df = pd.DataFrame({"text": pd.Series([], dtype=object)})
    result = preprocess_frame(df)
    assert len(result.frame) == 0
    assert list(result.frame.columns) == ["text", *OUTPUT_COLUMNS]
    assert result.steps[0] == {
        "step": "validate",
        "text_column": "text",
        "rows": 0,
        "missing_text": 0,
    }


def test_preprocess_frame_marks_missing_text_when_all_missing() -> None:
    df = pd.DataFrame({"text": [None, np.nan, pd.NA]})
    out = preprocess_frame(df).frame
    assert out["text_missing"].tolist() == [True, True, True]
    assert out["text"].isna().all()
    assert out["content_hash"].isna().all()
    assert out["duplicate_of"].tolist() == [-1, -1, -1]
    assert out["near_duplicate_of"].tolist() == [-1, -1, -1]


def test_preprocess_frame_raises_input_error_when_column_missing() -> None:
    df = pd.DataFrame({"id": [1], "body": ["x"]})
    with pytest.raises(InputError) as caught:
        preprocess_frame(df)
    assert caught.value.message == "text column 'text' not found; available columns: 'id', 'body'"
    assert caught.value.hint == "pass text_column=... naming the column that holds the texts"


def test_preprocess_frame_raises_input_error_when_non_string_values() -> None:
    df = pd.DataFrame({"text": ["ok", 42, None, 3.5, b"raw"]})
    with pytest.raises(InputError) as caught:
        preprocess_frame(df)
    assert caught.value.message == (
        "column 'text' must hold strings or missing values; "
        "row positions 1, 3, 4 hold bytes, float, int"
    )


def test_preprocess_frame_raises_input_error_when_numeric_column() -> None:
    df = pd.DataFrame({"text": [1.0, 2.0]})
    with pytest.raises(InputError, match="row positions 0, 1 hold float"):
        preprocess_frame(df)


def test_preprocess_frame_raises_input_error_when_output_column_exists() -> None:
    df = pd.DataFrame({"text": ["x"], "content_hash": ["y"]})
    with pytest.raises(InputError) as caught:
        preprocess_frame(df)
    assert caught.value.message == "input already has output column(s) 'content_hash'"


def test_preprocess_frame_raises_input_error_when_threshold_out_of_range() -> None:
    with pytest.raises(InputError) as caught:
        preprocess_frame(small_frame(), near_dup_threshold=0.0)
    assert caught.value.message == "near_dup_threshold must be in (0, 1], got 0.0"


def test_preprocess_frame_does_not_modify_input_when_run() -> None:
    df = small_frame()
    before = df.copy()
    preprocess_frame(df)
    pd.testing.assert_frame_equal(df, before)
