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

__all__ = ["SPLITS", "TRAINABLE_STAGES", "TrainingSplits", "check_trainable", "training_splits"]

SPLITS = ("train", "test")
# A model learns from people's labels, optionally mixed with accepted synthetic rows under
# caps; never from a synthetic batch alone, nor from rows no checkpoint has passed.
TRAINABLE_STAGES = ("labeled", "mixed")


def check_trainable(stage: str, version_id: str) -> None:
    """Refuse a version whose stage a model may not be trained on."""
    if str(stage) not in TRAINABLE_STAGES:
        raise InputError(
            f"version {version_id} is at stage {stage!r}; "
            "a model trains on a labeled or mixed version",
            hint="build a mixed version with the synthesize flow to train on synthetic rows",
        )


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
    if "origin" in frame.columns:
        leaked = int(((frame["origin"] == "synthetic") & (split == "test")).sum())
        if leaked:
            raise InputError(
                f"training data has {leaked} synthetic rows in the test split; "
                "synthetic rows may only train"
            )
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
