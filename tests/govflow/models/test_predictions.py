"""Predictions: row invariants, error counts, the frame form and the error-rate check."""

from __future__ import annotations

import math

import numpy as np
import pytest

from govflow.errors import ErrorRateExceeded
from govflow.models.predictions import Predictions, RowResult, check_error_rate


def sample() -> Predictions:
    return Predictions.from_rows(
        [
            RowResult(label="spam", confidence=0.9),
            RowResult.failed("HTTP 500 after 3 attempts"),
            RowResult(label="ham"),
            RowResult.failed("unparseable answer: 'maybe'"),
            RowResult.failed("HTTP 500 after 3 attempts"),
        ]
    )


def test_from_rows_keeps_order_labels_confidence_and_errors() -> None:
    p = sample()
    assert list(p.labels) == ["spam", None, "ham", None, None]
    assert p.confidence[0] == 0.9
    assert [math.isnan(c) for c in p.confidence] == [False, True, True, True, True]
    assert list(p.errors) == [
        None,
        "HTTP 500 after 3 attempts",
        None,
        "unparseable answer: 'maybe'",
        "HTTP 500 after 3 attempts",
    ]
    assert len(p) == 5
    assert list(p.is_error) == [False, True, False, True, True]


def test_error_counts_and_reasons_most_frequent_first() -> None:
    p = sample()
    assert p.n_errors == 3
    assert p.error_rate == 0.6
    assert p.error_reasons() == {
        "HTTP 500 after 3 attempts": 2,
        "unparseable answer: 'maybe'": 1,
    }


def test_error_rate_is_zero_for_an_empty_batch() -> None:
    p = Predictions.from_rows([])
    assert (len(p), p.n_errors, p.error_rate) == (0, 0, 0.0)


def test_to_frame_gives_one_row_per_input_with_missing_values() -> None:
    frame = sample().to_frame()
    assert list(frame.columns) == ["label", "confidence", "error"]
    assert frame["label"].isna().tolist() == [False, True, False, True, True]
    assert frame["label"].dropna().tolist() == ["spam", "ham"]
    assert frame["error"].dropna().tolist() == [
        "HTTP 500 after 3 attempts",
        "unparseable answer: 'maybe'",
        "HTTP 500 after 3 attempts",
    ]
    assert frame["confidence"].iloc[0] == 0.9
    assert frame["confidence"].isna().sum() == 4
    assert frame["label"].dtype == "string" and frame["error"].dtype == "string"


@pytest.mark.parametrize(
    ("labels", "confidence", "errors", "message"),
    [
        (["a", "b"], [0.5], [None, None], "differ in length: 2, 1, 2"),
        ([None], [math.nan], [None], "row 0 has neither a label nor an error"),
        (["a"], [math.nan], ["boom"], "row 0 is an error row but carries a label"),
        ([None], [0.4], ["boom"], "row 0 is an error row but carries a label or confidence"),
        (["a", "b"], [0.5, 1.5], [None, None], "row 1 has confidence 1.5 outside [0, 1]"),
    ],
)
def test_predictions_refuse_inconsistent_rows(
    labels: list, confidence: list, errors: list, message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Predictions(
            labels=np.array(labels, dtype=object),
            confidence=np.array(confidence, dtype=np.float64),
            errors=np.array(errors, dtype=object),
        )


def test_check_error_rate_raises_with_the_rate_limit_and_top_reason_above_limit() -> None:
    with pytest.raises(ErrorRateExceeded) as caught:
        check_error_rate(sample(), 0.05)
    assert str(caught.value) == (
        "error rate 60.0% above the limit 5.0% (3 of 5 rows); "
        "most frequent: 'HTTP 500 after 3 attempts' x2"
    )
    assert caught.value.n_errors == 3
    assert caught.value.n_rows == 5
    assert caught.value.error_rate == 0.6
    assert caught.value.limit == 0.05


def test_check_error_rate_passes_at_the_limit() -> None:
    rows = [RowResult(label="a")] * 19 + [RowResult.failed("timed out after 3 attempts")]
    p = Predictions.from_rows(rows)
    assert p.error_rate == 0.05
    check_error_rate(p, 0.05)  # equal to the limit is allowed
    with pytest.raises(ErrorRateExceeded, match=r"^error rate 5\.0% above the limit 4\.0%"):
        check_error_rate(p, 0.04)


def test_check_error_rate_refuses_a_limit_outside_zero_one() -> None:
    with pytest.raises(ValueError, match=r"limit must be within \[0, 1\], got 5"):
        check_error_rate(sample(), 5)
