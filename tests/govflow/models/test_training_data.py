"""Taking train and test splits out of a labeled version, and refusing unusable ones."""

from __future__ import annotations

import pandas as pd
import pytest

from govflow.errors import InputError
from govflow.models.training_data import TrainingSplits, training_splits


def frame(rows: list[tuple[str, str | None, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["body", "label", "split"])


def test_training_splits_keeps_row_order_within_each_split() -> None:
    data = frame(
        [
            ("a", "spam", "train"),
            ("b", "ham", "test"),
            ("c", "ham", "train"),
            ("d", "spam", "test"),
            ("e", "spam", "train"),
        ]
    )
    assert training_splits(data, text_column="body") == TrainingSplits(
        train_texts=["a", "c", "e"],
        train_labels=["spam", "ham", "spam"],
        test_texts=["b", "d"],
        test_labels=["ham", "spam"],
    )


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [("a", "spam", "train"), ("b", "ham", "train")],
            "training data has no test split (2 train rows) "
            "(a model version must be evaluated on rows it was not trained on)",
        ),
        (
            [("a", "spam", "test"), ("b", "ham", "test")],
            "training data has no train split (2 test rows)",
        ),
        (
            [("a", "spam", "train"), ("b", "spam", "train"), ("c", "ham", "test")],
            "the train split has a single class 'spam' (2 rows); a classifier needs at least 2",
        ),
        (
            [("a", "spam", "train"), ("b", None, "test"), ("c", "ham", "train")],
            "training data has 1 rows without a label",
        ),
        (
            [("a", "spam", "train"), ("b", "ham", "validation"), ("c", "ham", "dev")],
            "training data has split values other than 'train' and 'test': 'dev', 'validation'",
        ),
    ],
)
def test_training_splits_refuses_an_unusable_version(
    rows: list[tuple[str, str | None, str]], message: str
) -> None:
    with pytest.raises(InputError) as caught:
        training_splits(frame(rows), text_column="body")
    assert str(caught.value) == message


def test_training_splits_names_missing_columns() -> None:
    with pytest.raises(InputError) as caught:
        training_splits(frame([("a", "spam", "train")]), text_column="text", split_column="fold")
    assert str(caught.value) == "training data has no column 'text', 'fold'"


def test_only_labeled_and_mixed_versions_are_trainable():
    from govflow.models.training_data import check_trainable

    check_trainable("labeled", "dv-1")
    check_trainable("mixed", "dv-2")
    with pytest.raises(InputError) as err:
        check_trainable("synthetic", "dv-3")
    assert str(err.value) == (
        "version dv-3 is at stage 'synthetic'; a model trains on a labeled or mixed version "
        "(build a mixed version with the synthesize flow to train on synthetic rows)"
    )


def test_synthetic_rows_in_the_test_split_are_refused():
    frame = pd.DataFrame(
        {
            "text": ["a", "b", "c"],
            "label": ["x", "y", "x"],
            "split": ["train", "train", "test"],
            "origin": [None, None, "synthetic"],
        }
    )
    with pytest.raises(InputError) as err:
        training_splits(frame, text_column="text")
    assert str(err.value) == (
        "training data has 1 synthetic rows in the test split; synthetic rows may only train"
    )
