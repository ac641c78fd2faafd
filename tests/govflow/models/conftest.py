"""A small seeded text corpus and one trained sklearn-text pipeline shared by the tests."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from govflow.models.sklearn_text import train_text_classifier
from govflow.models.spec import SklearnTextSpec

LABELS = ("billing", "outage", "praise")
_WORDS = {
    "billing": ["invoice", "charged", "refund", "payment", "card", "twice", "bill"],
    "outage": ["down", "error", "offline", "timeout", "crash", "unreachable", "500"],
    "praise": ["great", "love", "thanks", "fast", "helpful", "excellent", "smooth"],
}
_FILLER = ["the", "my", "service", "today", "again", "please", "team", "app", "account"]


def make_corpus(n: int = 240, seed: int = 3) -> tuple[list[str], list[str]]:
    """Return ``n`` short support messages and their labels, the same for the same seed."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = LABELS[i % len(LABELS)]
        words = list(rng.choice(_WORDS[label], size=2)) + list(rng.choice(_FILLER, size=4))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


@pytest.fixture(scope="session")
def corpus() -> tuple[list[str], list[str]]:
    return make_corpus()


@pytest.fixture(scope="session")
def trained(corpus: tuple[list[str], list[str]]) -> Pipeline:
    texts, labels = corpus
    return train_text_classifier(texts, labels, seed=11, params=SklearnTextSpec())
