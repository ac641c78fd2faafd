"""Monitoring pictures: the drift history per column and reference-against-current plots."""

from __future__ import annotations

import struct

import numpy as np
import pandas as pd
import pytest

from govflow.errors import InputError
from govflow.monitoring.batch import monitor_batch
from govflow.monitoring.config import ColumnKind, ColumnMonitor, DriftTest
from govflow.monitoring.drift import column_drift
from govflow.monitoring.plots import (
    distribution_figure,
    distribution_png,
    drift_history_figure,
    drift_history_png,
    drifted_distributions,
)
from govflow.monitoring.report import drift_rows
from govflow.reports.plots import DPI
from tests.govflow.monitoring.conftest import DemoSetting


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


@pytest.fixture(scope="module")
def history(demo: DemoSetting) -> pd.DataFrame:
    rows = []
    for name, batch in (("batch-1", demo.batches[1]), ("batch-2", demo.batches[2])):
        result = monitor_batch(batch, demo.reference, demo.config)
        rows += drift_rows(result, batch=name)
    return pd.DataFrame(rows)


def test_drift_history_has_a_p_value_panel_and_a_distance_panel(history: pd.DataFrame) -> None:
    fig = drift_history_figure(history)
    p_axis, distance_axis = fig.axes
    assert p_axis.get_yscale() == "log"
    assert p_axis.get_ylabel() == "p-value (drift below dashed)"
    assert distance_axis.get_ylabel() == "distance (drift above dashed)"
    assert [t.get_text() for t in p_axis.get_legend().get_texts()] == [
        "channel (chisquare)",
        "confidence (ks)",
        "predicted_label (chisquare)",
    ]
    assert [t.get_text() for t in distance_axis.get_legend().get_texts()] == [
        "text (domain_classifier)"
    ]
    # One score line and one dashed threshold line per column, over both batches.
    assert len(p_axis.get_lines()) == 6 and len(distance_axis.get_lines()) == 2
    text_scores, text_threshold = distance_axis.get_lines()
    assert list(text_threshold.get_ydata()) == [0.55, 0.55]
    assert text_threshold.get_linestyle() == "--"
    assert [t.get_text() for t in distance_axis.get_xticklabels()] == ["batch-1", "batch-2"]
    assert text_scores.get_ydata()[1] > 0.8


def test_drift_history_puts_a_zero_p_value_on_the_log_axis() -> None:
    history = pd.DataFrame(
        {
            "batch": ["b1", "b2"],
            "column": ["product", "product"],
            "test": ["chisquare", "chisquare"],
            "score": [0.3, 0.0],  # a value the reference never had: p = 0
            "threshold": [0.05, 0.05],
            "is_p_value": [True, True],
        }
    )
    fig = drift_history_figure(history)
    assert len(fig.axes) == 1
    scores, threshold = fig.axes[0].get_lines()
    assert list(scores.get_ydata()) == [0.3, 1e-300]
    assert list(threshold.get_ydata()) == [0.05, 0.05]


def test_drift_history_png_has_the_figure_size(history: pd.DataFrame) -> None:
    assert png_size(drift_history_png(history)) == (int(7.5 * DPI), int(6.4 * DPI))


def test_drift_history_refuses_rows_without_scores() -> None:
    with pytest.raises(InputError) as caught:
        drift_history_figure(pd.DataFrame({"batch": ["b"], "column": ["x"]}))
    assert str(caught.value) == (
        "drift history has no column 'test', 'score', 'threshold', 'is_p_value'"
    )


def test_distribution_of_a_numeric_column_overlays_two_histograms() -> None:
    rng = np.random.default_rng(0)
    reference, current = pd.Series(rng.normal(0, 1, 500)), pd.Series(rng.normal(1, 1, 300))
    result = column_drift(reference, current, ColumnMonitor(name="amount", kind="numeric"))
    fig = distribution_figure(reference, current, result)
    (axis,) = fig.axes
    assert axis.get_title().startswith("amount: ks p = ")
    assert [t.get_text() for t in axis.get_legend().get_texts()] == ["reference", "current"]
    assert axis.get_ylabel() == "density"
    assert len(axis.containers) == 2


def test_distribution_of_a_categorical_column_draws_shares_side_by_side() -> None:
    reference = pd.Series(["email"] * 60 + ["chat"] * 40)
    current = pd.Series(["email"] * 20 + ["chat"] * 30 + ["fax"] * 50)
    result = column_drift(reference, current, ColumnMonitor(name="channel", kind="categorical"))
    (axis,) = distribution_figure(reference, current, result).axes
    ref_bars, cur_bars = axis.containers
    assert [t.get_text() for t in axis.get_xticklabels()] == ["email", "chat", "fax"]
    assert [b.get_height() for b in ref_bars] == [0.6, 0.4, 0.0]
    assert [b.get_height() for b in cur_bars] == [0.2, 0.3, 0.5]
    assert result.test is DriftTest.CHISQUARE


def test_distribution_of_a_text_column_shows_its_lengths(demo: DemoSetting) -> None:
    result = monitor_batch(demo.batches[2], demo.reference, demo.config)
    text = result.drift.column("text")
    assert text.kind is ColumnKind.TEXT
    png = distribution_png(demo.reference["text"], demo.batches[2]["text"], text)
    assert png_size(png) == (int(6.4 * DPI), int(3.6 * DPI))
    (axis,) = distribution_figure(demo.reference["text"], demo.batches[2]["text"], text).axes
    assert axis.get_xlabel() == "text length"


def test_drifted_distributions_draw_one_picture_per_drifted_column(demo: DemoSetting) -> None:
    result = monitor_batch(demo.batches[2], demo.reference, demo.config)
    pictures = drifted_distributions(demo.reference, demo.batches[2], result.drift)
    assert list(pictures) == ["text", "predicted_label", "confidence"]
    assert all(png_size(png) == (int(6.4 * DPI), int(3.6 * DPI)) for png in pictures.values())
