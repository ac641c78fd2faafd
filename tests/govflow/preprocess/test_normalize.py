"""Text normalization: NFC, whitespace, control characters, missing values, type errors."""

from __future__ import annotations

import random
import sys
import unicodedata

import numpy as np
import pandas as pd
import pytest

from govflow.errors import InputError
from govflow.preprocess.normalize import as_text_array, normalize_series, normalize_text

EXAMPLES = [
    ("e\u0301", "\u00e9"),
    ("Cafe\u0301  au   lait", "Caf\u00e9 au lait"),
    ("  leading and trailing  ", "leading and trailing"),
    ("tabs\t\tand\nnewlines\r\nhere", "tabs and newlines here"),
    (
        "non\u00a0breaking\u2003em\u3000ideographic\u202fnarrow",
        "non breaking em ideographic narrow",
    ),
    ("a\x00b\x07c\x1bd\x7fe\x9ff", "abcdef"),
    ("zero\u200bwidth\ufeffbom\u2060joiner", "zerowidthbomjoiner"),
    ("a \x00 b", "a b"),
    ("\t \n", ""),
    ("", ""),
    ("plain ascii text", "plain ascii text"),
    ("\u212b", "\u00c5"),  # the Angstrom sign is canonically the letter A-ring
]


@pytest.mark.parametrize(("raw", "expected"), EXAMPLES)
def test_normalize_text_returns_expected_when_example(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_normalize_text_composes_nfc_when_decomposed() -> None:
    out = normalize_text("re\u0301sume\u0301")
    assert out == "r\u00e9sum\u00e9"
    assert len(out) == 6
    assert unicodedata.is_normalized("NFC", out)


def test_normalize_text_collapses_every_unicode_space_when_isspace() -> None:
    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    assert len(spaces) == 29
    for space in spaces:
        assert normalize_text(f"{space}a{space}{space}b{space}") == "a b", hex(ord(space))


def test_normalize_text_removes_control_characters_when_not_whitespace() -> None:
    controls = [
        chr(c)
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) == "Cc" and not chr(c).isspace()
    ]
    assert len(controls) == 55
    for control in controls:
        assert normalize_text(f"a{control}b") == "ab", hex(ord(control))


def test_normalize_text_keeps_zero_width_joiner_when_emoji_sequence() -> None:
    assert normalize_text("\U0001f469\u200d\U0001f4bb ok") == "\U0001f469\u200d\U0001f4bb ok"


@pytest.mark.parametrize(("raw", "expected"), EXAMPLES)
def test_normalize_text_is_idempotent_when_applied_twice(raw: str, expected: str) -> None:
    assert normalize_text(normalize_text(raw)) == expected


def test_normalize_series_matches_normalize_text_when_random_tricky_strings() -> None:
    rng = random.Random(5)
    alphabet = [*"ab \u00e9\u0301\t\n\u00a0\u2003\x00\x07\u200b\u3000\x1c\x85\u212b", "  "]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(3000)]
    out = normalize_series(pd.Series(texts))
    assert out.tolist() == [normalize_text(t) for t in texts]


def test_normalize_series_preserves_missing_when_none_nan_or_na() -> None:
    raw = pd.Series([" a  b ", None, np.nan, pd.NA, "e\u0301"], index=[9, 8, 7, 6, 5], dtype=object)
    out = normalize_series(raw)
    assert out.isna().tolist() == [False, True, True, True, False]
    assert out.index.tolist() == [9, 8, 7, 6, 5]
    assert out.dropna().tolist() == ["a b", "\u00e9"]
    assert out.dtype == pd.StringDtype("pyarrow")


def test_normalize_series_accepts_string_dtype_when_arrow_backed() -> None:
    raw = pd.Series(["x\t y", None], dtype=pd.StringDtype("pyarrow"))
    out = normalize_series(raw)
    assert out.tolist()[0] == "x y"
    assert out.isna().tolist() == [False, True]


def test_as_text_array_raises_input_error_when_numbers_present() -> None:
    raw = pd.Series(["ok", 3, None, 2.5], name="body")
    with pytest.raises(InputError) as caught:
        as_text_array(raw)
    assert caught.value.message == (
        "column 'body' must hold strings or missing values; row positions 1, 3 hold float, int"
    )


def test_as_text_array_lists_first_ten_positions_when_many_bad_values() -> None:
    raw = pd.Series(["ok", *range(15)])
    with pytest.raises(InputError) as caught:
        as_text_array(raw, name="text")
    assert caught.value.message == (
        "column 'text' must hold strings or missing values; "
        "row positions 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 (first 10 of 15) hold int"
    )


def test_as_text_array_returns_nulls_when_all_values_missing() -> None:
    out = as_text_array(pd.Series([np.nan, np.nan]))
    assert out.null_count == 2
