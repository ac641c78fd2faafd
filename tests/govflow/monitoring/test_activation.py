"""A2I-style activation: per-class confidence thresholds, a content-hash sample, and/or."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from govflow.errors import InputError
from govflow.monitoring.activation import activate, sample_point
from govflow.monitoring.config import ActivationSettings, RecordColumns

RECORD = RecordColumns()


def batch(rows: list[tuple[str | None, str | None, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": [r[0] for r in rows],
            "predicted_label": pd.Series([r[1] for r in rows], dtype=object),
            "confidence": [r[2] for r in rows],
        }
    )


def texts_with_points(n: int) -> list[tuple[str, float]]:
    texts = [
        f"ticket n\u00famero {i} \u2014 Ren\u00e9e" if i % 3 else f"ticket {i}" for i in range(n)
    ]
    return [(t, sample_point(t)) for t in texts]


def test_sample_point_reads_the_first_15_hex_digits_of_the_text_sha256() -> None:
    text = "Zephyr sync stops halfway on Android."
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert sample_point(text) == int(digest[:15], 16) / 16**15
    assert 0.0 <= sample_point(text) < 1.0


def test_confidence_below_the_class_threshold_or_the_default_activates() -> None:
    settings = ActivationSettings(below={"billing": 0.6}, default_below=0.3)
    frame = batch(
        [
            ("a", "billing", 0.41),  # below billing's 0.60
            ("b", "billing", 0.6),  # at the threshold: not below
            ("c", "bug", 0.41),  # bug uses the default 0.30
            ("d", "bug", 0.29),
        ]
    )
    result = activate(frame, settings=settings, record=RECORD)
    assert result.mask.tolist() == [True, False, False, True]
    assert result.reasons == {
        0: "confidence 0.41 below 0.60 for billing",
        3: "confidence 0.29 below 0.30 for bug",
    }
    assert result.n_selected == 2 and result.positions() == [0, 3]


def test_reasons_show_enough_digits_to_tell_value_and_threshold_apart() -> None:
    settings = ActivationSettings(below={"billing": 0.6})
    result = activate(batch([("a", "billing", 0.5996)]), settings=settings, record=RECORD)
    assert result.reasons == {0: "confidence 0.5996 below 0.6000 for billing"}


def test_a_class_without_threshold_and_no_default_is_never_sent_for_confidence() -> None:
    settings = ActivationSettings(below={"billing": 0.6})
    result = activate(
        batch([("a", "bug", 0.01), ("b", None, np.nan)]), settings=settings, record=RECORD
    )
    assert result.reasons == {}


def test_missing_confidence_and_error_rows_meet_the_confidence_condition() -> None:
    settings = ActivationSettings(below={"billing": 0.6}, default_below=0.3)
    frame = batch([("a", "billing", np.nan), ("b", None, np.nan), ("c", "bug", np.nan)])
    result = activate(frame, settings=settings, record=RECORD)
    assert result.reasons == {
        0: "no confidence for billing",
        1: "no prediction",
        2: "no confidence for bug",
    }


def test_random_sample_is_decided_by_the_text_alone() -> None:
    rows = texts_with_points(2000)
    settings = ActivationSettings(sample_rate=0.1)
    frame = batch([(t, "bug", 0.9) for t, _ in rows])
    result = activate(frame, settings=settings, record=RECORD)
    expected = [i for i, (_, point) in enumerate(rows) if point < 0.1]
    assert result.positions() == expected
    assert set(result.reasons.values()) == {"random sample"}
    assert 160 <= len(expected) <= 240  # 10% of 2,000, within about 3 standard deviations
    # The same texts in another order, in a smaller batch, with other predictions.
    reordered = batch([(t, "billing", 0.1) for t, _ in reversed(rows[:500])])
    again = activate(reordered, settings=settings, record=RECORD)
    chosen = {reordered["text"].iat[i] for i in again.positions()}
    assert chosen == {rows[i][0] for i in expected if i < 500}


def test_raising_the_sample_rate_only_adds_texts() -> None:
    frame = batch([(t, "bug", 0.9) for t, _ in texts_with_points(1000)])
    low = set(
        activate(frame, settings=ActivationSettings(sample_rate=0.05), record=RECORD).positions()
    )
    high = set(
        activate(frame, settings=ActivationSettings(sample_rate=0.2), record=RECORD).positions()
    )
    assert low < high


def test_missing_texts_are_never_sampled() -> None:
    frame = batch([(None, "bug", 0.9)] * 5)
    result = activate(frame, settings=ActivationSettings(sample_rate=1.0), record=RECORD)
    assert result.reasons == {}


def test_or_joins_every_condition_met_and_and_needs_all_of_them() -> None:
    rows = texts_with_points(400)
    in_sample = next(t for t, p in rows if p < 0.5)
    out_sample = next(t for t, p in rows if p >= 0.5)
    frame = batch(
        [
            (in_sample, "billing", 0.2),  # both conditions
            (out_sample, "billing", 0.2),  # confidence only
            (in_sample, "billing", 0.9),  # sample only
            (out_sample, "billing", 0.9),  # neither
        ]
    )
    either = ActivationSettings(below={"billing": 0.5}, sample_rate=0.5, combine="or")
    both = ActivationSettings(below={"billing": 0.5}, sample_rate=0.5, combine="and")
    assert activate(frame, settings=either, record=RECORD).reasons == {
        0: "confidence 0.20 below 0.50 for billing; random sample",
        1: "confidence 0.20 below 0.50 for billing",
        2: "random sample",
    }
    assert activate(frame, settings=both, record=RECORD).reasons == {
        0: "confidence 0.20 below 0.50 for billing and random sample",
    }


def test_activate_names_the_columns_it_lacks() -> None:
    frame = pd.DataFrame({"predicted_label": ["a"], "confidence": [0.5]})
    with pytest.raises(InputError) as caught:
        activate(frame, settings=ActivationSettings(sample_rate=0.1), record=RECORD)
    assert str(caught.value) == "activation needs the column 'text'"
