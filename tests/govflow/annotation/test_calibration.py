"""Scoring annotators on gold: who is excluded from a round, who passes a session."""

from __future__ import annotations

import pandas as pd

from govflow.annotation.calibration import (
    AnnotatorCalibration,
    CalibrationVerdict,
    judge_on_gold,
    score_session,
)
from govflow.domain import PersonStatus


def test_judge_on_gold_excludes_low_accuracy_and_already_flagged_annotators():
    labels = pd.DataFrame(
        [
            ("g1", "a", "bug"),
            ("g2", "a", "bug"),
            ("g3", "a", "billing"),
            ("g1", "b", "billing"),
            ("g2", "b", "billing"),
            ("g3", "b", "billing"),
            ("g1", "c", "billing"),
            ("x", "d", "bug"),
        ],
        columns=["item", "annotator", "label"],
    )
    verdicts = judge_on_gold(
        labels,
        gold={"g1": "bug", "g2": "bug", "g3": "billing"},
        statuses={
            "a": PersonStatus.ACTIVE,
            "b": PersonStatus.ACTIVE,
            "c": PersonStatus.ACTIVE,
            "d": PersonStatus.NEEDS_CALIBRATION,
        },
        threshold=0.7,
        min_gold=2,
        round_id="ar-1",
    )
    assert verdicts == [
        AnnotatorCalibration("a", 3, 3, 1.0, False, None),
        AnnotatorCalibration(
            "b",
            3,
            1,
            1 / 3,
            True,
            "gold accuracy 0.33 (1/3) below the threshold 0.70 in round ar-1",
        ),
        AnnotatorCalibration("c", 1, 0, 0.0, False, None),  # fewer than min_gold scored
        AnnotatorCalibration(
            "d", 0, 0, None, True, "already needs calibration when the round was judged"
        ),
    ]


def test_score_session_counts_unanswered_items_as_wrong():
    verdicts = score_session(
        assigned=[("a", "g1"), ("a", "g2"), ("b", "g1"), ("b", "g2")],
        given={("a", "g1"): "bug", ("a", "g2"): "billing", ("b", "g1"): "bug"},
        gold={"g1": "bug", "g2": "billing"},
        threshold=0.7,
    )
    assert verdicts == [
        CalibrationVerdict("a", 2, 2, 1.0, True),
        CalibrationVerdict("b", 2, 1, 0.5, False),
    ]
