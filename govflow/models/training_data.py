"""Take the train and test splits out of a labeled dataset version, or say why not.

A labeled version (``govflow.annotation.labeled``) holds one row per item with its text, its
``label`` and a ``split`` of ``train`` or ``test``. Training needs both splits, labels on
every row and at least two classes among the training rows; anything else is refused with
one ``InputError`` naming the problem, before any model is fitted.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from govflow.errors import InputError

__all__ = ["SPLITS", "TrainingSplits", "training_splits"]

SPLITS = ("train", "test")


@dataclass(frozen=True)
class TrainingSplits:
    """Texts and labels of the train and test splits, in the frame's row order."""

    train_texts: list[str]
    train_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]


def training_splits(
    frame: pd.DataFrame,
    *,
    text_column: str,
    label_column: str = "label",
    split_column: str = "split",
) -> TrainingSplits:
    """Return the splits of ``frame``; refuse a version a model cannot be trained on."""
    missing = [c for c in (text_column, label_column, split_column) if c not in frame.columns]
    if missing:
        raise InputError(f"training data has no column {', '.join(map(repr, missing))}")
    split = frame[split_column]
    unknown = sorted(str(v) for v in split[~split.isin(SPLITS)].unique())
    if unknown:
        raise InputError(
            f"training data has split values other than 'train' and 'test': "
            f"{', '.join(map(repr, unknown))}"
        )
    unlabeled = int(frame[label_column].isna().sum())
    if unlabeled:
        raise InputError(f"training data has {unlabeled} rows without a label")
    train, test = frame[split == "train"], frame[split == "test"]
    if train.empty:
        raise InputError(f"training data has no train split ({len(test)} test rows)")
    if test.empty:
        raise InputError(
            f"training data has no test split ({len(train)} train rows)",
            hint="a model version must be evaluated on rows it was not trained on",
        )
    classes = sorted(str(c) for c in train[label_column].unique())
    if len(classes) < 2:
        raise InputError(
            f"the train split has a single class {classes[0]!r} ({len(train)} rows); "
            "a classifier needs at least 2"
        )
    return TrainingSplits(
        train_texts=train[text_column].tolist(),
        train_labels=[str(v) for v in train[label_column]],
        test_texts=test[text_column].tolist(),
        test_labels=[str(v) for v in test[label_column]],
    )
