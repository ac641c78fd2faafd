"""The pre-processing pipeline: normalize, redact PII, mark exact and near duplicates.

``preprocess_frame`` returns every input row, in input order and with the input index, with
the text column replaced by its normalized, redacted text and these columns added:

=============================  ============================================================
``text_missing``               the text was missing (None/NaN/NA); the row is kept
``pii_emails`` / ``_phones``   redactions of each kind in the row
``pii_cards``
``content_hash``               hex SHA-256 of the output text (missing for missing text)
``is_duplicate``               an earlier row has the same output text
``duplicate_of``               row position of that earlier row, else -1
``near_duplicate_of``          lowest row position of the row's near-duplicate cluster, else -1
``near_duplicate_similarity``  estimated Jaccard with that row, else NaN
=============================  ============================================================

Positions are 0-based row positions, not index labels. Hashes and duplicate checks run after
redaction, so no hash of a raw e-mail address, phone or card number is ever computed or kept.

``PreprocessResult.steps`` describes each transformation with its version, parameters and
counts. It is JSON-serializable, holds only data that depends on the input and parameters
(no timings), and is recorded in dataset lineage; ``timings`` holds the wall-clock seconds
per step for reporting only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from govflow.errors import InputError
from govflow.hashing import content_hash
from govflow.preprocess.dedupe import DEDUPE_VERSION, MinHashParams, deduplicate_arrow
from govflow.preprocess.normalize import (
    NORMALIZE_VERSION,
    as_text_array,
    normalize_arrow,
    to_series,
)
from govflow.preprocess.pii import PII_KINDS, PII_VERSION, redact_arrow

__all__ = ["OUTPUT_COLUMNS", "PreprocessResult", "preprocess_frame"]

OUTPUT_COLUMNS = (
    "text_missing",
    "pii_emails",
    "pii_phones",
    "pii_cards",
    "content_hash",
    "is_duplicate",
    "duplicate_of",
    "near_duplicate_of",
    "near_duplicate_similarity",
)


@dataclass(frozen=True, eq=False)
class PreprocessResult:
    """The pre-processed frame and the record of what was done to it."""

    frame: pd.DataFrame
    steps: list[dict[str, Any]]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def steps_hash(self) -> str:
        """Return the content hash of ``steps`` (canonical JSON), for lineage records."""
        return content_hash(self.steps)


def preprocess_frame(
    df: pd.DataFrame,
    text_column: str = "text",
    *,
    near_dup_threshold: float = 0.8,
    num_perm: int = 128,
    bands: int = 16,
    shingle: Literal["word", "char"] = "word",
    ngram: int = 1,
    seed: int = 0,
) -> PreprocessResult:
    """Normalize and redact ``df[text_column]`` and mark its exact and near duplicates.

    Raises ``InputError`` when the column is missing, holds values that are neither strings
    nor missing, when ``df`` already has one of the output columns, or for bad parameters.
    """
    if text_column not in df.columns:
        available = ", ".join(repr(str(c)) for c in df.columns) or "none"
        raise InputError(
            f"text column {text_column!r} not found; available columns: {available}",
            hint="pass text_column=... naming the column that holds the texts",
        )
    if isinstance(df[text_column], pd.DataFrame):
        raise InputError(f"text column {text_column!r} appears more than once in the frame")
    clashes = [c for c in OUTPUT_COLUMNS if c in df.columns and c != text_column]
    if clashes:
        raise InputError(
            f"input already has output column(s) {', '.join(map(repr, clashes))}",
            hint="rename or drop them; preprocess_frame does not overwrite columns",
        )
    if not 0.0 < near_dup_threshold <= 1.0:
        raise InputError(f"near_dup_threshold must be in (0, 1], got {near_dup_threshold}")
    params = MinHashParams(num_perm=num_perm, bands=bands, shingle=shingle, ngram=ngram, seed=seed)

    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    raw = as_text_array(df[text_column], name=text_column)
    missing = raw.is_null().to_numpy(zero_copy_only=False)
    lap("validate")

    normalized = normalize_arrow(raw)
    normalize_changed = _count_true(pc.not_equal(normalized, raw))
    lap("normalize")

    redacted, counts = redact_arrow(normalized)
    redact_changed = int(np.count_nonzero(counts.sum(axis=1)))
    lap("redact_pii")

    exact, near = deduplicate_arrow(redacted, threshold=near_dup_threshold, params=params)
    lap("dedupe")

    out = df.copy()
    out[text_column] = to_series(redacted).array
    out["text_missing"] = missing
    for column, kind in enumerate(PII_KINDS):
        out[f"pii_{kind}"] = counts[:, column]
    out["content_hash"] = exact.content_hash.array
    out["is_duplicate"] = exact.is_duplicate
    out["duplicate_of"] = exact.duplicate_of
    out["near_duplicate_of"] = near.near_duplicate_of
    out["near_duplicate_similarity"] = near.similarity
    lap("assemble")

    near_marked = near.near_duplicate_of >= 0
    totals = counts.sum(axis=0)
    steps: list[dict[str, Any]] = [
        {
            "step": "validate",
            "text_column": str(text_column),
            "rows": len(df),
            "missing_text": int(missing.sum()),
        },
        {
            "step": "normalize",
            "version": NORMALIZE_VERSION,
            "unicode_form": "NFC",
            "whitespace": "collapse_strip",
            "control_characters": "remove",
            "changed_rows": normalize_changed,
        },
        {
            "step": "redact_pii",
            "version": PII_VERSION,
            **{kind: int(total) for kind, total in zip(PII_KINDS, totals, strict=True)},
            "changed_rows": redact_changed,
        },
        {
            "step": "dedupe_exact",
            "version": DEDUPE_VERSION,
            "hash": "sha256",
            "duplicates": int(exact.is_duplicate.sum()),
        },
        {
            "step": "near_duplicates",
            "version": DEDUPE_VERSION,
            "method": "minhash_lsh",
            # Plain Python types, so that numpy scalars passed in still serialize to JSON.
            "threshold": float(near_dup_threshold),
            "num_perm": int(params.num_perm),
            "bands": int(params.bands),
            "rows_per_band": int(params.rows_per_band),
            "shingle": str(params.shingle),
            "ngram": int(params.ngram),
            "seed": int(params.seed),
            "candidate_pairs": near.candidate_pairs,
            "verified_pairs": near.verified_pairs,
            "marked": int(near_marked.sum()),
            "marked_not_exact": int((near_marked & ~exact.is_duplicate).sum()),
        },
    ]
    return PreprocessResult(frame=out, steps=steps, timings=timings)


def _count_true(mask: Any) -> int:
    """Count the true values of a pyarrow boolean array, nulls not counted."""
    return int(pc.sum(pc.fill_null(mask, False)).as_py() or 0)
