import random

import numpy as np

from govflow.synthetic.nearcopy import ReferenceIndex

WORDS = ["invoice", "refund", "charge", "plan", "card", "account", "login", "error"]


def corpus(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        " ".join(rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(12)) for _ in range(n)
    ]


def test_planted_copies_are_found_across_chunks():
    organic = corpus(500, 1)
    rng = random.Random(2)
    planted = rng.sample(range(500), 40)
    batch = corpus(60, 3)
    for i, j in enumerate(planted):
        # A one-character edit in a ~100-character text keeps Jaccard on 5-grams above 0.9.
        text = organic[j]
        batch[i] = text[:50] + "X" + text[51:] if i % 2 else text
    index = ReferenceIndex(organic, chunk_size=64)
    found = index.match(batch)
    assert found.reference[:40].tolist() == planted
    assert found.is_exact[:40].tolist() == [i % 2 == 0 for i in range(40)]
    assert (found.similarity[:40] >= 0.8).all()
    assert found.similarity[0] == 1.0
    assert found.reference[40:].tolist() == [-1] * 20
    assert np.isnan(found.similarity[40:]).all()


def test_chunked_matching_agrees_with_one_chunk():
    organic = corpus(300, 4)
    batch = [t[:40] + "zz" + t[42:] for t in organic[:30]] + corpus(30, 5)
    whole = ReferenceIndex(organic).match(batch)
    chunked = ReferenceIndex(organic, chunk_size=7).match(batch)
    assert whole.reference.tolist() == chunked.reference.tolist()
    assert np.allclose(whole.similarity, chunked.similarity, equal_nan=True)


def test_empty_texts_match_nothing():
    index = ReferenceIndex(["", "a real text about my invoice"])
    found = index.match(["", "???", "something else entirely"])
    assert found.reference.tolist() == [-1, -1, -1]
