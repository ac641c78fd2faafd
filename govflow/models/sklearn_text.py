"""The embedded default model: word and character n-gram TF-IDF into logistic regression.

Training is seeded and deterministic on one machine: the same texts, labels, spec and seed
give the same coefficients, the same predictions and (through ``artifacts.model_bytes``)
the same artifact bytes. The adapter's confidence is the largest predicted class
probability.

scikit-learn is imported here at module level; callers on fast paths import this module
only when they train or predict (``adapters.load_adapter`` does so lazily).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from govflow.errors import InputError, ModelError
from govflow.models.predictions import AdapterInfo, Predictions, RowResult
from govflow.models.spec import SklearnTextSpec

__all__ = ["ADAPTER_VERSION", "SklearnTextAdapter", "build_pipeline", "train_text_classifier"]

ADAPTER_VERSION = "1"


def build_pipeline(spec: SklearnTextSpec, *, seed: int) -> Pipeline:
    """Return the unfitted pipeline the spec describes."""
    vectorizer: dict[str, Any] = {
        "min_df": spec.min_df,
        "max_features": spec.max_features,
        "sublinear_tf": spec.sublinear_tf,
    }
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=spec.word_ngram_range, **vectorizer)),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=spec.char_ngram_range, **vectorizer
                ),
            ),
        ]
    )
    # lbfgs is deterministic; random_state is set anyway so a solver change stays seeded.
    classifier = LogisticRegression(
        C=spec.C, class_weight=spec.class_weight, max_iter=spec.max_iter, random_state=seed
    )
    return Pipeline([("features", features), ("classifier", classifier)])


def _check_training_input(texts: Sequence[Any], labels: Sequence[Any]) -> None:
    if len(texts) != len(labels):
        raise InputError(f"training data has {len(texts)} texts but {len(labels)} labels")
    if len(texts) == 0:
        raise InputError("training data is empty")
    bad_texts = [i for i, text in enumerate(texts) if not isinstance(text, str) or not text.strip()]
    if bad_texts:
        raise InputError(
            f"training data has {len(bad_texts)} empty or non-text texts "
            f"(first at row {bad_texts[0]})"
        )
    bad_labels = [i for i, label in enumerate(labels) if not isinstance(label, str) or not label]
    if bad_labels:
        raise InputError(
            f"training data has {len(bad_labels)} missing or non-text labels "
            f"(first at row {bad_labels[0]})"
        )
    classes = Counter(labels)
    if len(classes) < 2:
        raise InputError(
            f"training data has a single class {next(iter(classes))!r} "
            f"({len(texts)} rows); a classifier needs at least 2"
        )


def train_text_classifier(
    texts: Sequence[str], labels: Sequence[str], *, seed: int, params: SklearnTextSpec
) -> Pipeline:
    """Fit the pipeline on ``texts`` and ``labels``; refuse unusable input with ``InputError``.

    A fit that does not converge within ``params.max_iter`` raises ``ModelError`` rather
    than returning a model whose coefficients depend on where the solver stopped.
    """
    _check_training_input(texts, labels)
    pipeline = build_pipeline(params, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            pipeline.fit(list(texts), list(labels))
        except ConvergenceWarning as exc:
            raise ModelError(
                f"logistic regression did not converge in {params.max_iter} iterations",
                hint="raise max_iter or C in the model spec",
            ) from exc
        except ValueError as exc:
            # e.g. min_df above every term's document frequency: "empty vocabulary".
            raise InputError(f"cannot train on this data: {exc}") from exc
    return pipeline


class SklearnTextAdapter:
    """A fitted pipeline behind the ``ModelAdapter`` interface."""

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        spec: SklearnTextSpec,
        label_set: Sequence[str],
        artifact_sha256: str | None = None,
    ) -> None:
        classes = [str(c) for c in pipeline.classes_]
        unknown = sorted(set(classes) - set(label_set))
        if unknown:
            raise InputError(
                f"model predicts labels outside the label set: {', '.join(map(repr, unknown))}"
            )
        self._pipeline = pipeline
        self._spec = spec
        self._label_set = tuple(label_set)
        self._classes = np.array(classes, dtype=object)
        self._artifact_sha256 = artifact_sha256

    @property
    def label_set(self) -> tuple[str, ...]:
        return self._label_set

    @property
    def pipeline(self) -> Pipeline:
        return self._pipeline

    def describe(self) -> AdapterInfo:
        return AdapterInfo(
            adapter=self._spec.adapter,
            adapter_version=ADAPTER_VERSION,
            params={
                "spec": self._spec.model_dump(mode="json"),
                "classes": list(self._classes),
                "artifact_sha256": self._artifact_sha256,
                "sklearn_version": sklearn.__version__,
            },
        )

    def predict(self, texts: Sequence[str]) -> Predictions:
        rows = [RowResult.failed(f"text is not a string ({type(t).__name__})") for t in texts]
        usable = [i for i, text in enumerate(texts) if isinstance(text, str)]
        if usable:
            proba = self._pipeline.predict_proba([texts[i] for i in usable])
            best = proba.argmax(axis=1)
            for i, k, p in zip(usable, best, proba[np.arange(len(best)), best], strict=True):
                rows[i] = RowResult(label=self._classes[k], confidence=float(p))
        return Predictions.from_rows(rows)
