"""Pure pre-processing of text columns: normalization, PII redaction, duplicate marking.

No Prefect, Great Expectations or database: pandas in, pandas out, with pyarrow compute
kernels and numpy doing the column-wide work.

- ``normalize``: NFC, whitespace collapsing, control-character removal;
- ``pii``: e-mail, phone and payment card redaction with typed placeholders and counts;
- ``dedupe``: exact duplicates by content hash, near duplicates by MinHash/LSH;
- ``pipeline``: ``preprocess_frame``, all of the above with a JSON record of the steps.

Importing this package does no I/O.
"""

from govflow.preprocess.dedupe import (
    ExactDuplicates,
    MinHashParams,
    NearDuplicates,
    exact_duplicates,
    minhash_signatures,
    near_duplicates,
)
from govflow.preprocess.normalize import normalize_series, normalize_text
from govflow.preprocess.pii import RedactionResult, redact_series, redact_text
from govflow.preprocess.pipeline import PreprocessResult, preprocess_frame

__all__ = [
    "ExactDuplicates",
    "MinHashParams",
    "NearDuplicates",
    "PreprocessResult",
    "RedactionResult",
    "exact_duplicates",
    "minhash_signatures",
    "near_duplicates",
    "normalize_series",
    "normalize_text",
    "preprocess_frame",
    "redact_series",
    "redact_text",
]
