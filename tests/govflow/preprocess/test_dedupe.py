"""Exact duplicates by content hash; near duplicates by MinHash/LSH; determinism."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govflow.errors import InputError
from govflow.hashing import sha256_text
from govflow.preprocess.dedupe import (
    MinHashParams,
    _clusters,
    _components,
    exact_duplicates,
    minhash_signatures,
    near_duplicates,
)

BASE = (
    "the quick brown fox jumps over the lazy dog while seven tired workers "
    "quietly pack heavy boxes into large red trucks"
)
EDITED = BASE.replace("brown", "grey")
UNRELATED = "quarterly revenue grew strongly in every region thanks to new enterprise contracts"

SIGNATURE_SCRIPT = """
import hashlib, sys
import pandas as pd
from govflow.preprocess.dedupe import minhash_signatures
texts = pd.Series(sys.argv[1:])
for shingle, ngram in (("word", 1), ("word", 3), ("char", 5)):
    sig = minhash_signatures(texts, shingle=shingle, ngram=ngram, seed=3)
    print(hashlib.sha256(sig.tobytes()).hexdigest())
"""


def test_exact_duplicates_marks_later_occurrences_when_repeated() -> None:
    texts = pd.Series(["a", "b", "a", None, "b", "a", ""], index=list("pqrstuv"))
    result = exact_duplicates(texts)
    assert result.is_duplicate.tolist() == [False, False, True, False, True, True, False]
    assert result.duplicate_of.tolist() == [-1, -1, 0, -1, 1, 0, -1]
    assert result.content_hash.index.tolist() == list("pqrstuv")
    hashes = result.content_hash.tolist()
    assert hashes[0] == hashes[2] == hashes[5] == sha256_text("a")
    assert hashes[1] == hashes[4] == sha256_text("b")
    assert hashes[6] == sha256_text("")
    assert pd.isna(hashes[3])


def test_exact_duplicates_returns_empty_when_no_rows() -> None:
    result = exact_duplicates(pd.Series([], dtype=object))
    assert result.is_duplicate.tolist() == []
    assert result.duplicate_of.tolist() == []


def test_near_duplicates_marks_one_word_edit_when_twenty_words() -> None:
    assert len(BASE.split()) == 21
    assert len(set(BASE.split())) == 20
    result = near_duplicates(pd.Series([BASE, UNRELATED, EDITED]))
    assert result.near_duplicate_of.tolist() == [-1, -1, 0]
    # 19 shared words out of 21 distinct: Jaccard 0.905, estimated from 128 permutations.
    assert result.similarity[2] == pytest.approx(19 / 21, abs=0.06)
    assert np.isnan(result.similarity[[0, 1]]).all()
    assert result.verified_pairs == 1


def test_near_duplicates_leaves_texts_unmarked_when_unrelated() -> None:
    texts = pd.Series(
        [
            BASE,
            UNRELATED,
            "please reset my password because the login page keeps failing",
            "shipping to canada takes about five business days on average",
        ]
    )
    result = near_duplicates(texts)
    assert result.near_duplicate_of.tolist() == [-1, -1, -1, -1]
    assert result.verified_pairs == 0


def test_near_duplicates_marks_exact_copies_with_similarity_one() -> None:
    result = near_duplicates(pd.Series([UNRELATED, BASE, UNRELATED, BASE]))
    assert result.near_duplicate_of.tolist() == [-1, -1, 0, 1]
    assert result.similarity[2:].tolist() == [1.0, 1.0]


def test_near_duplicates_points_to_lowest_row_when_cluster_of_three() -> None:
    also_edited = BASE.replace("lazy", "sleepy")
    result = near_duplicates(pd.Series([UNRELATED, EDITED, BASE, also_edited]))
    assert result.near_duplicate_of.tolist() == [-1, -1, 1, 1]


def test_near_duplicates_ignores_case_and_punctuation_when_word_shingles() -> None:
    shouted = BASE.upper().replace(" ", ", ") + "!!!"
    result = near_duplicates(pd.Series([BASE, shouted]))
    assert result.near_duplicate_of.tolist() == [-1, 0]
    assert result.similarity[1] == 1.0


def test_near_duplicates_never_pairs_texts_without_shingles() -> None:
    result = near_duplicates(pd.Series(["", "!!!", "???", None, "...", None]))
    assert result.near_duplicate_of.tolist() == [-1, -1, -1, -1, -1, -1]


def test_near_duplicates_marks_typo_when_character_shingles() -> None:
    typo = BASE.replace("quietly", "quitely")
    result = near_duplicates(pd.Series([BASE, typo, UNRELATED]), shingle="char", ngram=4)
    assert result.near_duplicate_of.tolist() == [-1, 0, -1]


def test_near_duplicates_respects_threshold_when_raised() -> None:
    result = near_duplicates(pd.Series([BASE, EDITED]), threshold=0.99)
    assert result.near_duplicate_of.tolist() == [-1, -1]


def test_near_duplicates_finds_injected_edits_when_many_random_texts() -> None:
    rng = np.random.default_rng(11)
    vocab = np.array([f"w{i}" for i in range(20000)])
    texts = [" ".join(vocab[rng.integers(0, vocab.size, 20)]) for _ in range(3000)]
    sources = rng.choice(3000, size=60, replace=False)
    for source in sources:
        words = texts[source].split()
        words[int(rng.integers(0, 20))] = "edited"
        texts.append(" ".join(words))
    result = near_duplicates(pd.Series(texts))
    marked = np.flatnonzero(result.near_duplicate_of >= 0)
    assert marked.tolist() == list(range(3000, 3060))
    assert result.near_duplicate_of[3000:].tolist() == sources.tolist()


def test_minhash_signatures_estimate_jaccard_when_known_overlap() -> None:
    left = " ".join(f"a{i}" for i in range(100))
    right = " ".join(f"a{i}" for i in range(50, 150))  # Jaccard 50/150
    sig = minhash_signatures(pd.Series([left, right]), num_perm=512)
    three_standard_errors = 3 * (1 / 3 * 2 / 3 / 512) ** 0.5
    assert (sig[0] == sig[1]).mean() == pytest.approx(1 / 3, abs=three_standard_errors)


def test_minhash_signatures_match_pinned_values_when_default_parameters() -> None:
    # Pinned so that a change to hashing or permutations (which changes lineage) is noticed.
    sig = minhash_signatures(pd.Series(["hello world", "Hello, world!", None]), num_perm=8)
    expected = [365834809, 157426598, 2688843455, 1704742667, 2193508090, 2708057045]
    expected += [269043408, 1376708700]
    assert sig[0].tolist() == expected
    assert sig[1].tolist() == expected
    assert sig[2].tolist() == [2**32 - 1] * 8


def test_minhash_signatures_identical_when_two_subprocesses() -> None:
    texts = [BASE, EDITED, UNRELATED, "caf\u00e9 na\u00efve \u65e5\u672c\u8a9e", ""]
    root = Path(__file__).resolve().parents[3]
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run(
            [sys.executable, "-c", SIGNATURE_SCRIPT, *texts],
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
            env=env,
        )
        outputs.append(run.stdout.split())
    here = []
    for shingle, ngram in (("word", 1), ("word", 3), ("char", 5)):
        sig = minhash_signatures(pd.Series(texts), shingle=shingle, ngram=ngram, seed=3)
        here.append(hashlib.sha256(sig.tobytes()).hexdigest())
    assert outputs[0] == outputs[1] == here


def test_minhash_signatures_differ_when_seed_changes() -> None:
    texts = pd.Series([BASE])
    assert not np.array_equal(minhash_signatures(texts, seed=0), minhash_signatures(texts, seed=1))


def test_near_duplicates_keeps_short_texts_when_fewer_words_than_ngram() -> None:
    result = near_duplicates(pd.Series(["hello world", "Hello world!", "bye"]), ngram=3)
    assert result.near_duplicate_of.tolist() == [-1, 0, -1]
    sig = minhash_signatures(pd.Series(["hello world"]), ngram=3)
    assert (sig != 2**32 - 1).all()


def test_clusters_pair_later_bucket_members_when_first_member_differs() -> None:
    # All three rows share band 0; row 0 differs elsewhere, rows 1 and 2 differ in one value.
    # Pairing members only with the bucket's first row would never compare rows 1 and 2.
    sig = np.array(
        [[1, 1, 1, 1, 9, 9, 9, 9], [1, 1, 1, 1, 5, 5, 5, 5], [1, 1, 1, 1, 5, 5, 5, 6]],
        dtype=np.uint32,
    )
    params = MinHashParams(num_perm=8, bands=2)
    labels, candidates, verified = _clusters(sig, np.ones(3, dtype=bool), params, 0.8)
    assert labels.tolist() == [0, 1, 1]
    assert (candidates, verified) == (3, 1)


def test_components_label_lowest_node_when_chained_edges() -> None:
    left = np.array([3, 5, 7, 0])
    right = np.array([5, 1, 8, 9])
    labels = _components(10, left, right)
    assert labels.tolist() == [0, 1, 2, 1, 4, 1, 6, 7, 7, 0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"num_perm": 100, "bands": 16},
            "num_perm (100) must be a positive multiple of bands (16)",
        ),
        ({"shingle": "line"}, "shingle must be 'word' or 'char', got 'line'"),
        ({"ngram": 0}, "ngram must be at least 1, got 0"),
    ],
)
def test_minhash_params_raise_input_error_when_invalid(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError) as caught:
        MinHashParams(**kwargs)
    assert caught.value.message == message


def test_near_duplicates_raises_input_error_when_threshold_out_of_range() -> None:
    with pytest.raises(InputError) as caught:
        near_duplicates(pd.Series([BASE]), threshold=1.5)
    assert caught.value.message == "threshold must be in (0, 1], got 1.5"
