"""Drift of a text column: length, out-of-vocabulary rate, and a reference-vs-current classifier.

Tokens (for the vocabulary and the classifier alike): the text NFKC-normalised and
lower-cased, cut into runs of two or more word characters (scikit-learn's default
``token_pattern``, ``(?u)\\b\\w\\w+\\b``). So "Zephyr's" gives "zephyr"; one-letter words and
punctuation are not tokens.

- Length: characters per text, a numeric column tested by ``drift.column_drift`` with
  Evidently's default choice (ks up to 1,000 reference texts, normed Wasserstein above).
- Out-of-vocabulary rate: the share of the current batch's token occurrences that never
  occur in the reference; above ``oov_rate_max`` the column is flagged. The most frequent
  unknown tokens come with it (the new product name an alert should show).
- Domain classifier: TF-IDF of word tokens (English stop words left out, sublinear tf) into a
  class-balanced logistic regression, trained to tell reference (0) from current (1) texts.
  Stratified k-fold cross-validation (shuffled with the configured seed) scores every text
  once, out of fold; the ROC AUC of those scores above the threshold (0.55) is drift. A
  final fit on all texts gives the tokens that weigh most for each side.

Evidently's absolute text-content drift (its default above 1,000 reference texts) trains an
L1 ``SGDClassifier`` on one 50/50 split and reads the AUC of the other half with the same
0.55 threshold; cross-validation scores every text instead of half of them, which steadies
the AUC of small batches. Evidently's test for smaller references (a bootstrap percentile
of random classifiers) is not used: govflow applies the same 0.55 at every size.

The vocabulary and the classifier read at most ``max_rows`` texts per side (a seeded
sample without replacement): tokenizing a million texts costs seconds in Python, and a
sample of 10,000 estimates a rate within about a percentage point. Lengths use every row.
Missing texts are left out; a non-text value is an ``InputError``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from govflow.errors import InputError
from govflow.monitoring.config import (
    DEFAULT_THRESHOLDS,
    ColumnKind,
    ColumnMonitor,
    DomainClassifierSettings,
    DriftTest,
    TextSettings,
)
from govflow.monitoring.drift import ColumnDrift, column_drift

__all__ = [
    "TOKEN_PATTERN",
    "DomainClassifierResult",
    "OovResult",
    "TextDrift",
    "TokenCount",
    "TokenWeight",
    "domain_classifier",
    "oov_rate",
    "text_drift",
    "tokenize",
]

TOKEN_PATTERN = r"(?u)\b\w\w+\b"
_TOKEN = re.compile(TOKEN_PATTERN)


class TokenCount(BaseModel):
    """A token and how often it occurs."""

    model_config = ConfigDict(frozen=True)

    token: str
    count: int


class TokenWeight(BaseModel):
    """A token and its weight in the domain classifier (positive: current side)."""

    model_config = ConfigDict(frozen=True)

    token: str
    weight: float


class OovResult(BaseModel):
    """How much of the current batch's wording the reference never used."""

    model_config = ConfigDict(frozen=True)

    rate: float
    threshold: float
    drifted: bool
    n_tokens: int
    n_unknown: int
    vocabulary_size: int
    top_unknown: list[TokenCount]


class DomainClassifierResult(BaseModel):
    """How well a classifier tells current texts from reference ones, and by which words."""

    model_config = ConfigDict(frozen=True)

    roc_auc: float
    threshold: float
    drifted: bool
    folds: int
    seed: int
    n_reference: int
    n_current: int
    current_tokens: list[TokenWeight]
    reference_tokens: list[TokenWeight]


class TextDrift(BaseModel):
    """All text checks of one column."""

    model_config = ConfigDict(frozen=True)

    column: str
    length: ColumnDrift
    oov: OovResult
    domain: DomainClassifierResult

    def as_column_drift(self) -> ColumnDrift:
        """Return the column's drift result as the batch verdict counts it: the classifier's."""
        return ColumnDrift(
            column=self.column,
            kind=ColumnKind.TEXT,
            test=DriftTest.DOMAIN_CLASSIFIER,
            is_default_test=True,
            statistic=self.domain.roc_auc,
            p_value=None,
            threshold=self.domain.threshold,
            drifted=self.domain.drifted,
            n_reference=self.domain.n_reference,
            n_current=self.domain.n_current,
        )


def tokenize(text: str) -> list[str]:
    """Return the tokens of ``text`` (see the module docstring)."""
    return _TOKEN.findall(_normalize(text))


def text_drift(
    reference: pd.Series, current: pd.Series, *, column: ColumnMonitor, settings: TextSettings
) -> TextDrift:
    """Run the length, vocabulary and classifier checks on one text column."""
    if column.kind is not ColumnKind.TEXT:
        raise ValueError(f"column {column.name!r} is not a text column")
    name = column.name
    ref = _texts(name, "reference", reference)
    cur = _texts(name, "current batch", current)
    length = column_drift(
        ref.str.len().astype("float64"),
        cur.str.len().astype("float64"),
        ColumnMonitor(name=f"{name} length", kind=ColumnKind.NUMERIC),
    )
    classifier = settings.domain_classifier
    rng = np.random.default_rng(classifier.seed)
    ref_sample = _sample(ref, classifier.max_rows, rng)
    cur_sample = _sample(cur, classifier.max_rows, rng)
    threshold = column.threshold or DEFAULT_THRESHOLDS[DriftTest.DOMAIN_CLASSIFIER]
    return TextDrift(
        column=name,
        length=length,
        oov=oov_rate(ref_sample, cur_sample, max_rate=settings.oov_rate_max, column=name),
        domain=domain_classifier(
            ref_sample, cur_sample, threshold=threshold, settings=classifier, column=name
        ),
    )


def oov_rate(
    reference: Sequence[str],
    current: Sequence[str],
    *,
    max_rate: float,
    column: str = "text",
    top: int = 10,
) -> OovResult:
    """Return the share of current token occurrences absent from the reference's vocabulary."""
    vocabulary: set[str] = set()
    for text in reference:
        vocabulary.update(tokenize(text))
    if not vocabulary:
        raise InputError(f"column {column!r}: the reference texts hold no words")
    counts: Counter[str] = Counter()
    for text in current:
        counts.update(tokenize(text))
    n_tokens = sum(counts.values())
    if n_tokens == 0:
        raise InputError(f"column {column!r}: the current texts hold no words")
    unknown = Counter({token: n for token, n in counts.items() if token not in vocabulary})
    n_unknown = sum(unknown.values())
    rate = n_unknown / n_tokens
    ranked = sorted(unknown.items(), key=lambda item: (-item[1], item[0]))[:top]
    return OovResult(
        rate=rate,
        threshold=max_rate,
        drifted=rate > max_rate,
        n_tokens=n_tokens,
        n_unknown=n_unknown,
        vocabulary_size=len(vocabulary),
        top_unknown=[TokenCount(token=t, count=n) for t, n in ranked],
    )


def domain_classifier(
    reference: Sequence[str],
    current: Sequence[str],
    *,
    threshold: float,
    settings: DomainClassifierSettings,
    column: str = "text",
) -> DomainClassifierResult:
    """Train a classifier to tell ``current`` from ``reference``; its ROC AUC measures drift."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    for side, texts in (("reference", reference), ("current batch", current)):
        if len(texts) < settings.folds:
            raise InputError(
                f"column {column!r}: the domain classifier needs at least {settings.folds} "
                f"texts on each side ({settings.folds}-fold), the {side} has {len(texts)}"
            )
    texts = [*reference, *current]
    target = np.r_[np.zeros(len(reference), dtype=int), np.ones(len(current), dtype=int)]
    vectorizer = TfidfVectorizer(
        preprocessor=_normalize,
        token_pattern=TOKEN_PATTERN,
        stop_words="english",
        sublinear_tf=True,
    )
    try:
        features = vectorizer.fit_transform(texts)
    except ValueError as exc:  # every text empty or stop words only: "empty vocabulary"
        raise InputError(f"column {column!r}: the texts hold no words to classify") from exc
    model = LogisticRegression(class_weight="balanced", max_iter=1000)
    folds = StratifiedKFold(n_splits=settings.folds, shuffle=True, random_state=settings.seed)
    scores = cross_val_predict(model, features, target, cv=folds, method="decision_function")
    auc = float(roc_auc_score(target, scores))
    current_tokens: list[TokenWeight] = []
    reference_tokens: list[TokenWeight] = []
    if settings.top_tokens:
        weights = model.fit(features, target).coef_[0]
        names = vectorizer.get_feature_names_out()
        order = np.argsort(-weights, kind="stable")
        current_tokens = _weights(names, weights, order[: settings.top_tokens], positive=True)
        reference_tokens = _weights(
            names, weights, order[::-1][: settings.top_tokens], positive=False
        )
    return DomainClassifierResult(
        roc_auc=auc,
        threshold=threshold,
        drifted=auc > threshold,
        folds=settings.folds,
        seed=settings.seed,
        n_reference=len(reference),
        n_current=len(current),
        current_tokens=current_tokens,
        reference_tokens=reference_tokens,
    )


def _weights(
    names: np.ndarray, weights: np.ndarray, picked: np.ndarray, *, positive: bool
) -> list[TokenWeight]:
    return [
        TokenWeight(token=str(names[i]), weight=float(weights[i]))
        for i in picked
        if (weights[i] > 0 if positive else weights[i] < 0)
    ]


def _normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _texts(column: str, side: str, series: pd.Series) -> pd.Series:
    present = series.dropna()
    if present.empty:
        raise InputError(f"column {column!r}: the {side} has no texts")
    if pd.api.types.infer_dtype(present, skipna=False) != "string":
        is_bad = series.notna() & ~series.map(lambda value: isinstance(value, str))
        bad = np.flatnonzero(is_bad.to_numpy(dtype=bool))
        raise InputError(
            f"column {column!r}: the {side} holds {bad.size} values that are not text "
            f"(first at row {bad[0]}: {series.iat[bad[0]]!r})"
        )
    return present.astype("str").reset_index(drop=True)


def _sample(texts: pd.Series, limit: int, rng: np.random.Generator) -> list[str]:
    if len(texts) <= limit:
        return texts.tolist()
    picked = np.sort(rng.choice(len(texts), size=limit, replace=False))
    return texts.iloc[picked].tolist()
