"""The embedded sklearn-text model: input checks, reproducibility and its adapter."""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from govflow.errors import InputError, ModelError
from govflow.models.artifacts import model_bytes
from govflow.models.sklearn_text import SklearnTextAdapter, build_pipeline, train_text_classifier
from govflow.models.spec import SklearnTextSpec
from tests.govflow.models.conftest import LABELS, make_corpus

REPO = Path(__file__).resolve().parents[3]


def test_build_pipeline_has_word_and_char_ngrams_into_seeded_logistic_regression() -> None:
    pipeline = build_pipeline(SklearnTextSpec(), seed=5)
    word, char = (t for _, t in pipeline.named_steps["features"].transformer_list)
    assert isinstance(word, TfidfVectorizer) and isinstance(char, TfidfVectorizer)
    assert (word.analyzer, word.ngram_range) == ("word", (1, 2))
    assert (char.analyzer, char.ngram_range) == ("char_wb", (2, 5))
    classifier = pipeline.named_steps["classifier"]
    assert isinstance(classifier, LogisticRegression)
    assert (classifier.random_state, classifier.max_iter, classifier.C) == (5, 1000, 1.0)


def test_train_twice_gives_identical_predictions_and_artifact_bytes(
    corpus: tuple[list[str], list[str]], trained: Pipeline
) -> None:
    texts, labels = corpus
    again = train_text_classifier(texts, labels, seed=11, params=SklearnTextSpec())
    probe = [*texts[:50], "refund my card twice", "the app is down again", ""]
    assert np.array_equal(trained.predict_proba(probe), again.predict_proba(probe))
    assert list(trained.predict(probe)) == list(again.predict(probe))
    assert model_bytes(trained) == model_bytes(again)


def test_artifact_bytes_are_identical_in_another_process_with_another_hash_seed(
    trained: Pipeline,
) -> None:
    script = (
        "import hashlib\n"
        "from govflow.models.artifacts import model_bytes\n"
        "from govflow.models.sklearn_text import train_text_classifier\n"
        "from govflow.models.spec import SklearnTextSpec\n"
        "from tests.govflow.models.conftest import make_corpus\n"
        "texts, labels = make_corpus()\n"
        "model = train_text_classifier(texts, labels, seed=11, params=SklearnTextSpec())\n"
        "print(hashlib.sha256(model_bytes(model)).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == hashlib.sha256(model_bytes(trained)).hexdigest()


def test_trained_model_learns_the_corpus(trained: Pipeline) -> None:
    texts, labels = make_corpus(n=90, seed=99)  # unseen messages from the same source
    accuracy = float(np.mean(trained.predict(texts) == np.array(labels)))
    assert accuracy >= 0.95
    assert list(trained.classes_) == sorted(LABELS)


def test_different_seeds_give_the_same_model_with_the_deterministic_solver(
    corpus: tuple[list[str], list[str]], trained: Pipeline
) -> None:
    texts, labels = corpus
    other = train_text_classifier(texts, labels, seed=12, params=SklearnTextSpec())
    # lbfgs ignores random_state: only the stored seed differs, not the coefficients.
    assert np.array_equal(
        other.named_steps["classifier"].coef_, trained.named_steps["classifier"].coef_
    )
    assert model_bytes(other) != model_bytes(trained)


def test_training_refuses_a_single_class_naming_it() -> None:
    with pytest.raises(InputError) as caught:
        train_text_classifier(["a b", "c d", "e f"], ["spam"] * 3, seed=0, params=SklearnTextSpec())
    assert str(caught.value) == (
        "training data has a single class 'spam' (3 rows); a classifier needs at least 2"
    )


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        ([], [], "training data is empty"),
        (["a b", "c d"], ["x"], "training data has 2 texts but 1 labels"),
        (
            ["a b", "  ", None, "c d"],
            ["x", "y", "x", "y"],
            "training data has 2 empty or non-text texts (first at row 1)",
        ),
        (
            ["a b", "c d", "e f"],
            ["x", None, ""],
            "training data has 2 missing or non-text labels (first at row 1)",
        ),
    ],
)
def test_training_refuses_unusable_input(texts: list, labels: list, message: str) -> None:
    with pytest.raises(InputError) as caught:
        train_text_classifier(texts, labels, seed=0, params=SklearnTextSpec())
    assert str(caught.value) == message


def test_training_refuses_a_min_df_that_leaves_no_vocabulary() -> None:
    with pytest.raises(InputError) as caught:
        train_text_classifier(
            ["alpha beta", "gamma delta"], ["x", "y"], seed=0, params=SklearnTextSpec(min_df=3)
        )
    assert str(caught.value).startswith("cannot train on this data: ")


def test_training_that_does_not_converge_is_an_error_not_a_model(
    corpus: tuple[list[str], list[str]],
) -> None:
    texts, labels = corpus
    with pytest.raises(ModelError) as caught:
        train_text_classifier(texts, labels, seed=0, params=SklearnTextSpec(max_iter=2))
    assert str(caught.value) == (
        "logistic regression did not converge in 2 iterations "
        "(raise max_iter or C in the model spec)"
    )


def test_adapter_predicts_sklearn_labels_and_max_probability(trained: Pipeline) -> None:
    adapter = SklearnTextAdapter(trained, spec=SklearnTextSpec(), label_set=LABELS)
    texts, _ = make_corpus(n=30, seed=5)
    predictions = adapter.predict(texts)
    proba = trained.predict_proba(texts)
    assert list(predictions.labels) == list(trained.predict(texts))
    assert np.array_equal(predictions.confidence, proba.max(axis=1))
    assert predictions.n_errors == 0
    assert adapter.label_set == LABELS


def test_adapter_turns_non_text_rows_into_error_rows(trained: Pipeline) -> None:
    adapter = SklearnTextAdapter(trained, spec=SklearnTextSpec(), label_set=LABELS)
    predictions = adapter.predict(["refund my card", None, 42, "site is down"])  # type: ignore[list-item]
    assert list(predictions.labels) == ["billing", None, None, "outage"]
    assert list(predictions.errors) == [
        None,
        "text is not a string (NoneType)",
        "text is not a string (int)",
        None,
    ]
    assert math.isnan(predictions.confidence[1])


def test_adapter_refuses_a_model_whose_classes_are_outside_the_label_set(
    trained: Pipeline,
) -> None:
    with pytest.raises(InputError) as caught:
        SklearnTextAdapter(trained, spec=SklearnTextSpec(), label_set=("billing", "outage"))
    assert str(caught.value) == "model predicts labels outside the label set: 'praise'"


def test_adapter_describes_spec_classes_and_artifact(trained: Pipeline) -> None:
    adapter = SklearnTextAdapter(
        trained, spec=SklearnTextSpec(), label_set=LABELS, artifact_sha256="ab" * 32
    )
    info = adapter.describe()
    assert info.adapter == "sklearn-text"
    assert info.adapter_version == "1"
    assert info.params["classes"] == ["billing", "outage", "praise"]
    assert info.params["artifact_sha256"] == "ab" * 32
    assert info.params["spec"] == SklearnTextSpec().model_dump(mode="json")
