"""Find copies and near-copies of reference texts (organic or evaluation items) in a batch.

``ReferenceIndex`` is built once over the reference texts: MinHash signatures on character
5-grams (``govflow.preprocess.dedupe``), banded 16 x 8 like the near-duplicate search (a
pair at Jaccard 0.8 becomes a candidate with probability 0.95). Only the sorted band keys
and the texts are kept, not the signatures (4 bytes x 128 per row): candidates are signed
again at match time, in chunks, which bounds memory for a million references. Exact copies
are found by ``pyarrow.compute.index_in``. Each batch row gets its best reference match at
or above the threshold: its position and the estimated Jaccard (1.0 for an exact copy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from govflow.preprocess.dedupe import MinHashParams, band_keys, signatures_arrow

__all__ = ["CHAR_5GRAMS", "Matches", "ReferenceIndex"]

CHAR_5GRAMS = MinHashParams(num_perm=128, bands=16, shingle="char", ngram=5)
# Rows per signing chunk: 20k texts of ~170 characters take ~0.3 GB of transient arrays
# (100k took ~2 GB).
_CHUNK = 20_000
# A bucket shared by more references than this is a boilerplate text; a row in it is still
# compared with this many of them, which bounds the work for degenerate references.
_MAX_BUCKET = 64


@dataclass(frozen=True, eq=False)
class Matches:
    """Per batch row: best reference position (-1 if none), estimated Jaccard, exact copy."""

    reference: npt.NDArray[np.int64]
    similarity: npt.NDArray[np.float64]
    is_exact: npt.NDArray[np.bool_]
    candidate_pairs: int

    @property
    def matched(self) -> npt.NDArray[np.bool_]:
        return self.reference >= 0


class ReferenceIndex:
    """Band keys of reference texts, for near-copy matching of batches against them."""

    def __init__(
        self,
        texts: pa.Array | list[str],
        *,
        threshold: float = 0.8,
        params: MinHashParams = CHAR_5GRAMS,
        chunk_size: int = _CHUNK,
    ) -> None:
        array = pa.array(texts, type=pa.large_string()) if isinstance(texts, list) else texts
        self.texts = pc.fill_null(array.cast(pa.large_string()), "")
        self.threshold = threshold
        self.params = params
        self._chunk = chunk_size
        n = len(self.texts)
        keys = np.empty((n, params.bands), dtype=np.uint64)
        has = np.zeros(n, dtype=bool)
        for start in range(0, n, chunk_size):
            part = self.texts.slice(start, chunk_size)
            sig = signatures_arrow(part, params)
            keys[start : start + len(part)] = band_keys(sig, params)
            has[start : start + len(part)] = sig[:, 0] != np.uint32(0xFFFFFFFF)
        rows = np.flatnonzero(has)
        self._sorted: list[npt.NDArray[np.uint64]] = []
        self._order: list[npt.NDArray[np.int64]] = []
        for band in range(params.bands):
            column = keys[rows, band]
            order = np.argsort(column, kind="stable")
            self._sorted.append(column[order])
            self._order.append(rows[order].astype(np.int32 if n < 2**31 else np.int64))
        del keys

    def __len__(self) -> int:
        return len(self.texts)

    def match(self, texts: pa.Array | list[str]) -> Matches:
        """Return each batch row's best reference match at or above the threshold."""
        array = pa.array(texts, type=pa.large_string()) if isinstance(texts, list) else texts
        array = pc.fill_null(array.cast(pa.large_string()), "")
        n = len(array)
        reference = np.full(n, -1, dtype=np.int64)
        similarity = np.full(n, np.nan)
        candidates = 0
        for start in range(0, n, self._chunk):
            part = array.slice(start, self._chunk)
            ref, sim, count = self._match_chunk(part)
            reference[start : start + len(part)] = ref
            similarity[start : start + len(part)] = sim
            candidates += count
        exact = pc.index_in(array, value_set=self.texts).to_numpy(zero_copy_only=False)
        is_exact = ~np.isnan(exact.astype(np.float64)) & (
            pc.utf8_length(array).to_numpy(zero_copy_only=False) > 0
        )
        positions = np.flatnonzero(is_exact)
        reference[positions] = exact[positions].astype(np.int64)
        similarity[positions] = 1.0
        return Matches(
            reference=reference,
            similarity=similarity,
            is_exact=is_exact,
            candidate_pairs=candidates,
        )

    def _match_chunk(
        self, texts: pa.Array
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], int]:
        n = len(texts)
        sig = signatures_arrow(texts, self.params)
        keys = band_keys(sig, self.params)
        has = sig[:, 0] != np.uint32(0xFFFFFFFF)
        pairs: list[npt.NDArray[np.int64]] = []
        n_ref = np.int64(max(len(self.texts), 1))
        for band in range(self.params.bands):
            sorted_keys, order = self._sorted[band], self._order[band]
            lo = np.searchsorted(sorted_keys, keys[:, band], side="left")
            hi = np.searchsorted(sorted_keys, keys[:, band], side="right")
            count = np.where(has, np.minimum(hi - lo, _MAX_BUCKET), 0)
            total = int(count.sum())
            if not total:
                continue
            query = np.repeat(np.arange(n, dtype=np.int64), count)
            offset = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
            refs = order[np.repeat(lo, count) + offset].astype(np.int64)
            pairs.append(query * n_ref + refs)
        reference = np.full(n, -1, dtype=np.int64)
        similarity = np.full(n, np.nan)
        if not pairs:
            return reference, similarity, 0
        flat = np.unique(np.concatenate(pairs))
        query, refs = flat // n_ref, flat % n_ref
        unique_refs, ref_pos = np.unique(refs, return_inverse=True)
        ref_sig = np.empty((len(unique_refs), self.params.num_perm), dtype=np.uint32)
        for s in range(0, len(unique_refs), self._chunk):
            taken = self.texts.take(pa.array(unique_refs[s : s + self._chunk]))
            ref_sig[s : s + len(taken)] = signatures_arrow(taken, self.params)
        sims = np.empty(len(flat))
        for s in range(0, len(flat), 1 << 16):
            e = s + (1 << 16)
            sims[s:e] = (sig[query[s:e]] == ref_sig[ref_pos[s:e]]).mean(axis=1)
        keep = sims >= self.threshold
        query, refs, sims = query[keep], refs[keep], sims[keep]
        # Best per query: sort by query, then similarity descending, then reference position.
        order = np.lexsort((refs, -sims, query))
        query, refs, sims = query[order], refs[order], sims[order]
        first = np.r_[True, query[1:] != query[:-1]] if len(query) else np.zeros(0, bool)
        reference[query[first]] = refs[first]
        similarity[query[first]] = sims[first]
        return reference, similarity, len(flat)
