"""Text drift: tokens, out-of-vocabulary rate, the seeded domain classifier, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from govflow.errors import InputError
from govflow.monitoring.config import (
    ColumnMonitor,
    DomainClassifierSettings,
    DriftTest,
    TextSettings,
)
from govflow.monitoring.text import (
    TOKEN_PATTERN,
    domain_classifier,
    oov_rate,
    text_drift,
    tokenize,
)

WORDS = [
    "invoice",
    "refund",
    "card",
    "plan",
    "login",
    "password",
    "export",
    "report",
    "crash",
    "upload",
    "team",
    "access",
]
TEXT = ColumnMonitor(name="text", kind="text")


def sentences(rng: np.random.Generator, n: int, extra: str | None = None) -> list[str]:
    """Return ``n`` seeded sentences of 6-12 words; ``extra`` is added to half of them."""
    out = []
    for i in range(n):
        words = list(rng.choice(WORDS, size=int(rng.integers(6, 13))))
        if extra is not None and i % 2 == 0:
            words.insert(int(rng.integers(0, len(words))), extra)
        out.append(" ".join(words))
    return out


def test_tokenize_normalizes_case_and_unicode_and_drops_one_letter_words() -> None:
    # "Rene\u0301e" is decomposed (NFD); NFKC composes it into one word.
    assert tokenize("Zephyr's ADD-ON: I paid €20 to Rene\u0301e!") == [
        "zephyr",
        "add",
        "on",
        "paid",
        "20",
        "to",
        "renée",
    ]


def test_oov_rate_counts_current_token_occurrences_unknown_to_the_reference() -> None:
    result = oov_rate(
        ["my invoice is wrong", "refund my card"],
        ["my Zephyr invoice", "zephyr zephyr refund", "new card"],
        max_rate=0.25,
    )
    # current tokens: my zephyr invoice zephyr zephyr refund new card = 8, unknown 4
    assert (result.n_tokens, result.n_unknown, result.rate) == (8, 4, 0.5)
    assert result.vocabulary_size == 6
    assert [(t.token, t.count) for t in result.top_unknown] == [("zephyr", 3), ("new", 1)]
    assert result.drifted is True


def test_oov_rate_at_the_limit_is_not_drift() -> None:
    result = oov_rate(["aa bb cc"], ["aa bb cc dd"], max_rate=0.25)
    assert (result.rate, result.drifted) == (0.25, False)


def test_domain_classifier_tells_a_new_word_apart_and_names_it() -> None:
    rng = np.random.default_rng(4)
    reference = sentences(rng, 200)
    current = sentences(rng, 200, extra="zephyr")
    result = domain_classifier(
        reference, current, threshold=0.55, settings=DomainClassifierSettings(seed=3)
    )
    assert result.drifted is True and result.roc_auc > 0.7
    assert result.current_tokens[0].token == "zephyr"
    assert result.current_tokens[0].weight > 0
    assert all(t.weight < 0 for t in result.reference_tokens)
    assert (result.n_reference, result.n_current, result.folds, result.seed) == (200, 200, 5, 3)


def test_domain_classifier_on_one_distribution_stays_under_the_threshold() -> None:
    rng = np.random.default_rng(5)
    result = domain_classifier(
        sentences(rng, 300),
        sentences(rng, 300),
        threshold=0.55,
        settings=DomainClassifierSettings(),
    )
    assert result.drifted is False and 0.4 < result.roc_auc <= 0.55


def test_domain_classifier_auc_is_seeded_stratified_cross_validation() -> None:
    rng = np.random.default_rng(6)
    reference, current = sentences(rng, 80), sentences(rng, 60, extra="zephyr")
    settings = DomainClassifierSettings(folds=4, seed=9, top_tokens=0)
    result = domain_classifier(reference, current, threshold=0.55, settings=settings)
    again = domain_classifier(reference, current, threshold=0.55, settings=settings)
    features = TfidfVectorizer(
        lowercase=True, token_pattern=TOKEN_PATTERN, stop_words="english", sublinear_tf=True
    ).fit_transform(reference + current)
    target = np.r_[np.zeros(80, dtype=int), np.ones(60, dtype=int)]
    scores = cross_val_predict(
        LogisticRegression(class_weight="balanced", max_iter=1000),
        features,
        target,
        cv=StratifiedKFold(n_splits=4, shuffle=True, random_state=9),
        method="decision_function",
    )
    assert (
        result.roc_auc == again.roc_auc == pytest.approx(roc_auc_score(target, scores), abs=1e-12)
    )
    assert result.current_tokens == [] and result.reference_tokens == []


def test_domain_classifier_refuses_fewer_texts_than_folds() -> None:
    with pytest.raises(InputError) as caught:
        domain_classifier(
            ["a b c"] * 3, ["d e f"] * 10, threshold=0.55, settings=DomainClassifierSettings()
        )
    assert str(caught.value) == (
        "column 'text': the domain classifier needs at least 5 texts on each side (5-fold), "
        "the reference has 3"
    )


def test_text_drift_tests_lengths_like_a_numeric_column() -> None:
    rng = np.random.default_rng(7)
    reference = pd.Series(sentences(rng, 300))
    current = pd.Series([t + " and more words at the end" for t in sentences(rng, 200)])
    result = text_drift(reference, current, column=TEXT, settings=TextSettings())
    expected = ks_2samp(reference.str.len(), current.str.len())
    assert result.length.test is DriftTest.KS
    assert result.length.column == "text length"
    assert result.length.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    assert result.length.drifted is True


def test_text_drift_samples_at_most_max_rows_texts_per_side() -> None:
    rng = np.random.default_rng(8)
    reference = pd.Series(sentences(rng, 400))
    current = pd.Series(sentences(rng, 300, extra="zephyr"))
    settings = TextSettings(domain_classifier=DomainClassifierSettings(max_rows=100))
    result = text_drift(reference, current, column=TEXT, settings=settings)
    assert (result.domain.n_reference, result.domain.n_current) == (100, 100)
    assert (result.length.n_reference, result.length.n_current) == (400, 300)
    as_column = result.as_column_drift()
    assert (as_column.test, as_column.statistic, as_column.drifted) == (
        DriftTest.DOMAIN_CLASSIFIER,
        result.domain.roc_auc,
        result.domain.drifted,
    )


def test_text_drift_refuses_values_that_are_not_text() -> None:
    with pytest.raises(InputError) as caught:
        text_drift(
            pd.Series(["a text"] * 10),
            pd.Series(["fine", 42, None, 7.5], dtype=object),
            column=TEXT,
            settings=TextSettings(),
        )
    assert str(caught.value) == (
        "column 'text': the current batch holds 2 values that are not text (first at row 1: 42)"
    )


def test_text_drift_refuses_a_reference_without_texts() -> None:
    with pytest.raises(InputError) as caught:
        text_drift(
            pd.Series([None, None], dtype=object),
            pd.Series(["a text"]),
            column=TEXT,
            settings=TextSettings(),
        )
    assert str(caught.value) == "column 'text': the reference has no texts"


def test_oov_rate_refuses_a_reference_without_words() -> None:
    with pytest.raises(InputError) as caught:
        oov_rate(["!", "a"], ["real words"], max_rate=0.1)
    assert str(caught.value) == "column 'text': the reference texts hold no words"


def test_domain_classifier_refuses_texts_of_stop_words_only() -> None:
    with pytest.raises(InputError) as caught:
        domain_classifier(
            ["the and of"] * 6,
            ["is it the"] * 6,
            threshold=0.55,
            settings=DomainClassifierSettings(),
        )
    assert str(caught.value) == "column 'text': the texts hold no words to classify"
