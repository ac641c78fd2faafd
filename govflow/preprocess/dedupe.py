"""Exact and near-duplicate detection over normalized texts; duplicates are marked, not dropped.

Exact: rows with equal text share a ``content_hash`` (hex SHA-256 of the UTF-8 text, via
``govflow.hashing.sha256_text``); every occurrence after the first is ``is_duplicate`` and its
``duplicate_of`` is the row position of the first. Texts are factorized first, so each
distinct text is hashed once.

Near: MinHash signatures with LSH banding, computed once per distinct text.

- Shingles: lower-cased word n-grams (words are runs of letters, digits and marks; default
  unigrams, which keep a one-word edit in a 20-word text at Jaccard ~0.9) or character
  n-grams. Words are hashed with BLAKE2b (8 bytes), characters are their code points; n-grams
  are folded with the splitmix64 finalizer into 32-bit shingle keys. Nothing depends on
  Python's per-process ``hash()``, so signatures are the same in every process.
- Permutations: ``num_perm`` multiply-add-shift hashes ``h(x) = ((a*x + b) mod 2**64) >> 32``
  on 32-bit keys (Dietzfelbinger's strongly universal family), in numpy uint64 arithmetic;
  ``a`` and ``b`` come from BLAKE2b of the seed and the permutation number, not from a numpy
  generator, so they do not depend on the numpy version either.
- Banding: ``bands`` bands of ``num_perm // bands`` rows (default 16 x 8: a pair at Jaccard
  0.8 becomes a candidate with probability 0.95, at 0.9 with 0.9999, at 0.5 with 0.06). In
  each band, rows whose band values are equal form a bucket; each member is paired with the
  bucket's first row and with its predecessor in the bucket, which keeps the candidate count
  linear in the number of rows even for huge buckets.
- Verification: a candidate pair is kept when its estimated Jaccard (share of equal
  signature values) is ``>= threshold``. Kept pairs are joined into connected components
  (single linkage); ``near_duplicate_of`` is the lowest row position of the component and
  ``near_duplicate_similarity`` the estimated Jaccard with that row (in a chain of edits it
  can be below the threshold). Exact copies belong to the component of their text, with
  similarity 1.0. Rows without shingles (missing, empty or punctuation-only text) are never
  near duplicates of a different text.

Memory: signatures take ``4 * num_perm`` bytes per distinct text (512 MB per million at 128).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from govflow.errors import InputError
from govflow.hashing import sha256_text
from govflow.preprocess.normalize import as_text_array

__all__ = [
    "DEDUPE_VERSION",
    "ExactDuplicates",
    "MinHashParams",
    "NearDuplicates",
    "band_keys",
    "deduplicate_arrow",
    "exact_duplicates",
    "minhash_signatures",
    "near_duplicates",
    "signatures_arrow",
]

DEDUPE_VERSION = 1

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
U32Array = npt.NDArray[np.uint32]
U64Array = npt.NDArray[np.uint64]

_MASK32 = np.uint64(0xFFFFFFFF)
_EMPTY = np.uint32(0xFFFFFFFF)
# Entries per block of the permutation table and of the gathered values; bounds memory.
_TABLE_BUDGET = 1 << 22
_GATHER_BUDGET = 1 << 20
_VERIFY_CHUNK = 1 << 16
_ASCII_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class MinHashParams:
    """Parameters of the MinHash/LSH near-duplicate search."""

    num_perm: int = 128
    bands: int = 16
    shingle: Literal["word", "char"] = "word"
    ngram: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.num_perm < 1 or self.bands < 1 or self.num_perm % self.bands:
            raise InputError(
                f"num_perm ({self.num_perm}) must be a positive multiple of bands ({self.bands})"
            )
        if self.shingle not in ("word", "char"):
            raise InputError(f"shingle must be 'word' or 'char', got {self.shingle!r}")
        if self.ngram < 1:
            raise InputError(f"ngram must be at least 1, got {self.ngram}")

    @property
    def rows_per_band(self) -> int:
        """Return the number of signature values per band."""
        return self.num_perm // self.bands


@dataclass(frozen=True, eq=False)
class ExactDuplicates:
    """Per-row content hash (missing for missing text) and exact-duplicate marks."""

    content_hash: pd.Series
    is_duplicate: BoolArray
    duplicate_of: IntArray


@dataclass(frozen=True, eq=False)
class NearDuplicates:
    """Per-row near-duplicate marks (-1 / nan when unmarked) and search statistics."""

    near_duplicate_of: IntArray
    similarity: FloatArray
    candidate_pairs: int
    verified_pairs: int


def exact_duplicates(texts: pd.Series) -> ExactDuplicates:
    """Hash each text and mark every occurrence after the first of an equal text."""
    exact, _ = _exact(as_text_array(texts))
    exact.content_hash.index = texts.index
    return exact


def near_duplicates(
    texts: pd.Series,
    *,
    threshold: float = 0.8,
    num_perm: int = 128,
    bands: int = 16,
    shingle: Literal["word", "char"] = "word",
    ngram: int = 1,
    seed: int = 0,
) -> NearDuplicates:
    """Mark each row whose text is near (estimated Jaccard >= threshold) an earlier one."""
    params = MinHashParams(num_perm=num_perm, bands=bands, shingle=shingle, ngram=ngram, seed=seed)
    return deduplicate_arrow(as_text_array(texts), threshold=threshold, params=params)[1]


def deduplicate_arrow(
    texts: pa.Array, *, threshold: float = 0.8, params: MinHashParams | None = None
) -> tuple[ExactDuplicates, NearDuplicates]:
    """Run exact and near-duplicate detection on a ``large_string`` array, sharing the work."""
    if not 0.0 < threshold <= 1.0:
        raise InputError(f"threshold must be in (0, 1], got {threshold}")
    params = params or MinHashParams()
    exact, (codes, uniques, first_row) = _exact(texts)
    sig, has_shingles = _signatures(uniques, params)
    labels, candidates, verified = _clusters(sig, has_shingles, params, threshold)

    rep_row = _take(first_row[labels], codes, -1)
    marked = (codes >= 0) & (rep_row != np.arange(len(texts)))
    near_of = np.where(marked, rep_row, -1)

    # Similarity per distinct text to its component's representative; 1.0 for exact copies.
    sim_unique = np.ones(len(labels), dtype=np.float64)
    moved = np.flatnonzero(labels != np.arange(len(labels)))
    sim_unique[moved] = _similarity(sig, moved, labels[moved])
    similarity = np.where(marked, _take(sim_unique, codes, np.nan), np.nan)
    near = NearDuplicates(
        near_duplicate_of=near_of.astype(np.int64),
        similarity=similarity,
        candidate_pairs=candidates,
        verified_pairs=verified,
    )
    return exact, near


def minhash_signatures(
    texts: pd.Series,
    *,
    num_perm: int = 128,
    shingle: Literal["word", "char"] = "word",
    ngram: int = 1,
    seed: int = 0,
) -> U32Array:
    """Return the (rows, num_perm) uint32 MinHash signatures of ``texts``.

    Rows without shingles (missing, empty or punctuation-only) hold 2**32 - 1 throughout.
    """
    params = MinHashParams(num_perm=num_perm, bands=1, shingle=shingle, ngram=ngram, seed=seed)
    sig, _ = _signatures(pc.fill_null(as_text_array(texts), ""), params)
    return sig


def signatures_arrow(texts: pa.Array, params: MinHashParams) -> U32Array:
    """Return the MinHash signatures of a ``large_string`` array (nulls as empty texts)."""
    sig, _ = _signatures(pc.fill_null(texts, ""), params)
    return sig


def band_keys(sig: U32Array, params: MinHashParams) -> U64Array:
    """Return the (rows, bands) LSH bucket keys of signatures, as the near search bands them.

    Rows without shingles get keys too (of their constant signature); callers that match
    against them must skip those rows.
    """
    multipliers = _band_multipliers(params)
    width = params.rows_per_band
    keys = np.empty((len(sig), params.bands), dtype=np.uint64)
    for band in range(params.bands):
        columns = sig[:, band * width : (band + 1) * width]
        keys[:, band] = (columns * multipliers[band]).sum(axis=1, dtype=np.uint64)
    return keys


def _exact(texts: pa.Array) -> tuple[ExactDuplicates, tuple[IntArray, pa.Array, IntArray]]:
    """Factorize ``texts`` and mark exact duplicates.

    Also returns the factorization: codes (-1 for missing), the distinct texts in order of
    first appearance, and the row position of each one's first appearance.
    """
    n = len(texts)
    encoded = pc.dictionary_encode(texts)
    uniques = encoded.dictionary
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    rows = np.arange(n, dtype=np.int64)
    valid = codes >= 0
    first_row = np.full(len(uniques), n, dtype=np.int64)
    np.minimum.at(first_row, codes[valid], rows[valid])
    # Number distinct texts by first appearance so that a lower id is an earlier row.
    order = np.argsort(first_row, kind="stable")
    if not np.array_equal(order, np.arange(len(order))):
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        codes = _take(rank, codes, -1)
        uniques = uniques.take(pa.array(order))
        first_row = first_row[order]

    digests = pa.array([sha256_text(text) for text in uniques.to_pylist()], type=pa.string())
    content_hash = digests.take(pa.array(codes, mask=~valid))
    first = _take(first_row, codes, -1)
    is_duplicate = valid & (first != rows)
    exact = ExactDuplicates(
        content_hash=pd.Series(pd.array(content_hash, dtype=pd.StringDtype("pyarrow"))),
        is_duplicate=is_duplicate,
        duplicate_of=np.where(is_duplicate, first, -1),
    )
    return exact, (codes, uniques, first_row)


def _take(values: np.ndarray, codes: IntArray, missing: float) -> np.ndarray:
    """Return ``values[codes]`` with ``missing`` where a code is -1 (a missing text)."""
    return np.append(values, missing)[codes]


def _splitmix64(x: U64Array) -> U64Array:
    """Apply the splitmix64 finalizer (a bijective 64-bit mixer)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _blake_u64(labels: list[str]) -> U64Array:
    """Return the first 8 bytes (little-endian) of each label's BLAKE2b digest."""
    digests = b"".join(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest() for s in labels)
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


def _permutation_params(num_perm: int, seed: int) -> tuple[U64Array, U64Array]:
    a = _blake_u64([f"govflow.minhash.a/{seed}/{k}" for k in range(num_perm)])
    b = _blake_u64([f"govflow.minhash.b/{seed}/{k}" for k in range(num_perm)])
    return a, b


def _shingles(texts: pa.Array, params: MinHashParams) -> tuple[IntArray, IntArray, U64Array]:
    """Return the shingles of non-null ``texts``: row and key id of each, and the 32-bit keys.

    Rows are ascending and, within a row, shingles are in text order.
    """
    lower = pc.utf8_lower(texts)
    if params.shingle == "word":
        rows, part_ids, part_hash = _words(lower)
        if params.ngram == 1:  # parts are distinct already, no need to factorize keys
            return rows, part_ids, _fold32(_splitmix64(part_hash))
        values = part_hash[part_ids]
    else:
        lengths = pc.utf8_length(lower).to_numpy(zero_copy_only=False).astype(np.int64)
        joined = "".join(lower.to_pylist())
        values = np.frombuffer(joined.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    rows, keys = _ngram_keys(rows, values, len(texts), params.ngram)
    codes, unique_keys = pd.factorize(keys)
    return rows, codes.astype(np.int64), np.asarray(unique_keys, dtype=np.uint64)


def _words(lower: pa.Array) -> tuple[IntArray, IntArray, U64Array]:
    """Return the row and word id of each word occurrence and each distinct word's hash."""
    # Split on spaces in pyarrow, then cut the distinct tokens into words in Python: a regex
    # over the whole column costs far more than one over its vocabulary.
    tokens = pc.split_pattern(lower, " ")
    encoded = pc.dictionary_encode(pc.list_flatten(tokens))
    raw_rows = pc.list_parent_indices(tokens).to_numpy(zero_copy_only=False).astype(np.int64)
    raw_codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    word_ids: dict[str, int] = {}
    token_words = [
        [word_ids.setdefault(word, len(word_ids)) for word in _word_parts(token)]
        for token in encoded.dictionary.to_pylist()
    ]
    word_hash = _blake_u64(list(word_ids))
    counts = np.fromiter(map(len, token_words), dtype=np.int64, count=len(token_words))
    flat_words = np.fromiter(itertools.chain.from_iterable(token_words), dtype=np.int64)
    if counts.size and (counts == 1).all():
        return raw_rows, flat_words[raw_codes], word_hash
    # Expand each token occurrence into its words (none for punctuation), keeping order.
    first_word = np.cumsum(counts) - counts
    repeat = counts[raw_codes]
    occurrence = np.repeat(np.arange(raw_codes.size), repeat)
    within = np.arange(occurrence.size) - (np.cumsum(repeat) - repeat)[occurrence]
    return raw_rows[occurrence], flat_words[first_word[raw_codes][occurrence] + within], word_hash


def _word_parts(token: str) -> list[str]:
    """Split a whitespace-free token into words: runs of letters, digits and combining marks."""
    if token.isalnum():
        return [token]
    if token.isascii():
        return _ASCII_WORD.findall(token)
    parts: list[str] = []
    current: list[str] = []
    for char in token:
        if char.isalnum() or unicodedata.category(char)[0] == "M":
            current.append(char)
        elif current:
            parts.append("".join(current))
            current = []
    if current:
        parts.append("".join(current))
    return parts


def _ngram_keys(
    rows: IntArray, values: U64Array, n_rows: int, ngram: int
) -> tuple[IntArray, U64Array]:
    """Fold runs of ``ngram`` consecutive values of a row into 32-bit keys.

    A row with fewer than ``ngram`` values gets one key for all of them.
    """
    if ngram == 1 or values.size == 0:
        return rows, _fold32(_splitmix64(values))
    counts = np.bincount(rows, minlength=n_rows)
    starts = np.cumsum(counts) - counts
    index = np.arange(values.size)
    pos = index - starts[rows]
    length = counts[rows]
    valid = (pos <= length - ngram) | ((length < ngram) & (pos == 0))
    width = np.minimum(ngram, length - pos)
    acc = values.copy()
    for m in range(1, ngram):
        following = values[np.minimum(index + m, values.size - 1)]
        acc = np.where(m < width, _splitmix64(acc) ^ following, acc)
    return rows[valid], _fold32(_splitmix64(acc[valid]))


def _fold32(x: U64Array) -> U64Array:
    """Fold 64-bit values to 32 bits (kept as uint64 for the permutation arithmetic)."""
    return (x ^ (x >> np.uint64(32))) & _MASK32


def _signatures(texts: pa.Array, params: MinHashParams) -> tuple[U32Array, BoolArray]:
    """Return MinHash signatures of non-null ``texts`` and which rows have any shingle."""
    n, num_perm = len(texts), params.num_perm
    if n == 0:
        return np.zeros((0, num_perm), dtype=np.uint32), np.zeros(0, dtype=bool)
    rows, codes, unique_keys = _shingles(texts, params)
    counts = np.bincount(rows, minlength=n)
    has_shingles = counts > 0
    filled = np.flatnonzero(has_shingles)
    if filled.size == 0:
        return np.full((n, num_perm), _EMPTY, dtype=np.uint32), has_shingles
    starts_of = np.cumsum(counts) - counts
    # Every column of a row with shingles is written below; only the others need filling.
    sig = np.empty((n, num_perm), dtype=np.uint32)
    sig[~has_shingles] = _EMPTY
    a, b = _permutation_params(num_perm, params.seed)

    # Rows are processed in groups of equal shingle count so that each group's values form
    # a dense (rows, count, perms) block whose minimum over axis 1 numpy vectorizes well.
    by_count = filled[np.argsort(counts[filled], kind="stable")]
    group_edges = np.flatnonzero(np.diff(counts[by_count])) + 1
    groups = np.split(by_count, group_edges)
    block = max(1, min(num_perm, _TABLE_BUDGET // max(len(unique_keys), 1)))
    for p0 in range(0, num_perm, block):
        p1 = min(num_perm, p0 + block)
        mixed = unique_keys[:, None] * a[None, p0:p1] + b[None, p0:p1]
        table = (mixed >> np.uint64(32)).astype(np.uint32)
        for group in groups:
            _fill_group(sig, table, codes, starts_of[group], group, int(counts[group[0]]), p0)
    return sig, has_shingles


def _fill_group(
    sig: U32Array,
    table: U32Array,
    codes: IntArray,
    starts: IntArray,
    rows: IntArray,
    count: int,
    p0: int,
) -> None:
    """Write the signature columns from ``p0`` for ``rows``, which all have ``count`` shingles.

    ``starts`` holds each row's first shingle position in ``codes``; ``table`` maps a key id
    to its values under this block of permutations.
    """
    width = table.shape[1]
    p1 = p0 + width
    per_chunk = _GATHER_BUDGET // (count * width)
    if per_chunk >= 1:
        offsets = np.arange(count)
        for r0 in range(0, rows.size, per_chunk):
            index = starts[r0 : r0 + per_chunk, None] + offsets
            sig[rows[r0 : r0 + per_chunk], p0:p1] = table[codes[index]].min(axis=1)
        return
    # A row too long for one block: take the minimum over slices of its shingles.
    step = max(1, _GATHER_BUDGET // width)
    for row, start in zip(rows, starts, strict=True):
        low = np.full(width, _EMPTY, dtype=np.uint32)
        for o in range(start, start + count, step):
            np.minimum(low, table[codes[o : min(o + step, start + count)]].min(axis=0), out=low)
        sig[row, p0:p1] = low


def _band_multipliers(params: MinHashParams) -> U64Array:
    labels = [f"govflow.minhash.band/{params.seed}/{k}" for k in range(params.num_perm)]
    return (_blake_u64(labels) | np.uint64(1)).reshape(params.bands, params.rows_per_band)


def _candidate_pairs(sig: U32Array, has_shingles: BoolArray, params: MinHashParams) -> IntArray:
    """Return the (k, 2) distinct candidate pairs (lower id first) from LSH banding."""
    n = len(sig)
    filled = np.flatnonzero(has_shingles)
    multipliers = _band_multipliers(params)
    width = params.rows_per_band
    found: list[IntArray] = []
    for band in range(params.bands):
        # A random linear combination mod 2**64 identifies the band's values; a rare
        # collision only adds a candidate, which verification then rejects.
        columns = sig[:, band * width : (band + 1) * width]
        keys = (columns * multipliers[band]).sum(axis=1, dtype=np.uint64)[filled]
        shared = np.flatnonzero(pd.Series(keys).duplicated(keep=False).to_numpy())
        if shared.size == 0:
            continue
        bucket, _ = pd.factorize(keys[shared])
        order = np.argsort(bucket, kind="stable")
        members = filled[shared[order]]
        bucket = bucket[order]
        starts = np.r_[True, bucket[1:] != bucket[:-1]]
        first = members[np.maximum.accumulate(np.where(starts, np.arange(members.size), 0))]
        follow = ~starts
        found.append(first[follow] * n + members[follow])
        previous = follow[1:] & (first[1:] != members[:-1])
        found.append(members[:-1][previous] * n + members[1:][previous])
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.sort(np.concatenate(found))
    if pairs.size:
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]
    return np.stack([pairs // n, pairs % n], axis=1)


def _similarity(sig: U32Array, left: IntArray, right: IntArray) -> FloatArray:
    """Return the estimated Jaccard (share of equal signature values) of row pairs."""
    out = np.empty(left.size, dtype=np.float64)
    for start in range(0, left.size, _VERIFY_CHUNK):
        stop = start + _VERIFY_CHUNK
        equal = sig[left[start:stop]] == sig[right[start:stop]]
        out[start:stop] = equal.sum(axis=1) / sig.shape[1]
    return out


def _components(n: int, left: IntArray, right: IntArray) -> IntArray:
    """Label each node with the lowest node of its connected component."""
    labels = np.arange(n, dtype=np.int64)
    while True:
        low = np.minimum(labels[left], labels[right])
        new = labels.copy()
        np.minimum.at(new, left, low)
        np.minimum.at(new, right, low)
        while True:  # pointer jumping: follow labels to their own labels
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, labels):
            return labels
        labels = new


def _clusters(
    sig: U32Array, has_shingles: BoolArray, params: MinHashParams, threshold: float
) -> tuple[IntArray, int, int]:
    """Return each distinct text's component label and the candidate / verified pair counts."""
    pairs = _candidate_pairs(sig, has_shingles, params)
    similarity = _similarity(sig, pairs[:, 0], pairs[:, 1])
    kept = pairs[similarity >= threshold]
    labels = _components(len(sig), kept[:, 0], kept[:, 1])
    return labels, len(pairs), len(kept)
