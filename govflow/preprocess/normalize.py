"""Text normalization: remove control characters, collapse whitespace, strip, compose (NFC).

The rules, in order (``NORMALIZE_VERSION`` 1; change them only with a version bump, the
version goes into lineage):

1. remove C0/C1 control characters that are not whitespace, and the invisible characters
   U+200B (zero-width space), U+2060 (word joiner) and U+FEFF (byte-order mark), which
   otherwise make equal-looking texts hash differently; ZWJ/ZWNJ stay (emoji, Indic scripts);
2. replace each run of whitespace (every character for which ``str.isspace`` is true: tabs,
   newlines, NBSP, the U+2000 block, ideographic space, ...) by one ASCII space;
3. strip leading and trailing spaces;
4. compose to Unicode NFC.

``normalize_text`` applies them to one string. ``normalize_series`` / ``normalize_arrow`` apply
the same function to a column: one pyarrow pass finds the rows the rules can change beyond
trimming (non-ASCII, an ASCII control character or a double space; usually few), only those
go through ``normalize_text``, and pyarrow trims the rest. One implementation of the rules
means the two paths cannot drift apart.

Missing values (None, NaN, pd.NA) stay missing. The module also holds the column conversion
helpers the other preprocess modules share (``as_text_array``, ``to_series``).
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from govflow.errors import InputError

__all__ = [
    "NORMALIZE_VERSION",
    "as_text_array",
    "normalize_arrow",
    "normalize_series",
    "normalize_text",
    "to_series",
]

# Bump when the rules change: the version is recorded in dataset lineage.
NORMALIZE_VERSION = 1

# Exactly the code points for which str.isspace() is true (a test checks all of Unicode).
_SPACE_RANGES: tuple[tuple[int, int], ...] = (
    (0x09, 0x0D),
    (0x1C, 0x20),
    (0x85, 0x85),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
)
# Category Cc minus the whitespace above, plus invisible format characters.
_REMOVE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00, 0x08),
    (0x0E, 0x1B),
    (0x7F, 0x84),
    (0x86, 0x9F),
    (0x200B, 0x200B),
    (0x2060, 0x2060),
    (0xFEFF, 0xFEFF),
)


def _python_class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges) + "]"


_REMOVE = re.compile(_python_class(_REMOVE_RANGES))
_SPACES = re.compile(_python_class(_SPACE_RANGES) + "+")
# A row that is ASCII and matches none of this is unchanged by normalize_text except for
# trimming: every character the rules touch is an ASCII control or space run, or non-ASCII.
_MAY_CHANGE_ASCII_RE2 = r"[\x00-\x1f\x7f]|  "


def _is_arrow_string(arrow_type: pa.DataType) -> bool:
    return (
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        # string_view is new in pyarrow 16; the project allows 15.
        or getattr(pa.types, "is_string_view", lambda _: False)(arrow_type)
    )


def normalize_text(text: str) -> str:
    """Normalize one string (see the module docstring for the rules)."""
    text = _REMOVE.sub("", text)
    text = _SPACES.sub(" ", text).strip(" ")
    return unicodedata.normalize("NFC", text)


def normalize_arrow(texts: pa.Array) -> pa.Array:
    """Normalize a pyarrow ``large_string`` array with ``normalize_text``; nulls stay null."""
    # One vectorized pass finds the rows the rules can change beyond trimming (usually few);
    # only those go through Python, so both paths share one implementation of the rules.
    may_change = pc.or_(
        pc.invert(pc.string_is_ascii(texts)),
        pc.match_substring_regex(texts, _MAY_CHANGE_ASCII_RE2),
    )
    may_change = pc.fill_null(may_change, False)
    out = texts
    if pc.any(may_change).as_py():
        subset = pc.filter(texts, may_change).to_pylist()
        fixed = pa.array([normalize_text(value) for value in subset], type=texts.type)
        out = pc.replace_with_mask(texts, may_change, fixed)
    return pc.utf8_trim(out, " ")


def normalize_series(texts: pd.Series) -> pd.Series:
    """Normalize a Series of strings; missing values stay missing, index is kept."""
    return to_series(normalize_arrow(as_text_array(texts)), index=texts.index)


def as_text_array(texts: pd.Series, *, name: str | None = None) -> pa.Array:
    """Return ``texts`` as one pyarrow ``large_string`` array with missing values as nulls.

    Raises ``InputError`` naming ``name`` (default: the Series name) and the first offending
    row positions when a value is neither a string nor missing; numbers are not converted.
    """
    dtype = texts.dtype
    if isinstance(dtype, pd.StringDtype) or (
        isinstance(dtype, pd.ArrowDtype) and _is_arrow_string(dtype.pyarrow_dtype)
    ):
        array = pa.array(texts)
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        return array.cast(pa.large_string())
    values = texts.to_numpy(dtype=object, na_value=None, copy=True)
    missing = pd.isna(values)
    # infer_dtype is one C pass; the per-value check runs only when something is not a string.
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        is_str = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
        bad = np.flatnonzero(~missing & ~is_str)
        if bad.size:
            raise _non_string_error(name if name is not None else texts.name, values, bad)
    values[missing] = None
    return pa.array(values, type=pa.large_string())


def _non_string_error(column: object, values: np.ndarray, bad: np.ndarray) -> InputError:
    shown = ", ".join(str(int(i)) for i in bad[:10])
    more = f" (first 10 of {bad.size})" if bad.size > 10 else ""
    kinds = ", ".join(sorted({type(values[i]).__name__ for i in bad[:10]}))
    return InputError(
        f"column {column!r} must hold strings or missing values; "
        f"row positions {shown}{more} hold {kinds}",
        hint="convert or drop those rows before preprocessing; numbers are not converted",
    )


def to_series(texts: pa.Array, *, index: pd.Index | None = None) -> pd.Series:
    """Wrap a pyarrow string array as a pandas ``string[pyarrow]`` Series."""
    array = pd.array(texts.cast(pa.large_string()), dtype=pd.StringDtype("pyarrow"))
    return pd.Series(array, index=index, copy=False)
