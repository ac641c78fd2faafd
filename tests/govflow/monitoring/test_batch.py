"""monitor_batch: bad batches are refused whole, with one clear line; results serialize."""

from __future__ import annotations

import json

import numpy as np
import pytest

from govflow.errors import InputError
from govflow.monitoring.batch import BatchMonitoring, monitor_batch
from govflow.monitoring.performance import AccuracyStatus
from tests.govflow.monitoring.conftest import MODEL_VERSION, DemoSetting


def test_monitor_batch_refuses_an_empty_batch(demo: DemoSetting) -> None:
    with pytest.raises(InputError) as caught:
        monitor_batch(demo.batches[1].iloc[:0], demo.reference, demo.config)
    assert str(caught.value) == "the current batch is empty: there is nothing to compare"


def test_monitor_batch_names_the_missing_columns(demo: DemoSetting) -> None:
    batch = demo.batches[1].drop(columns=["channel", "confidence"])
    with pytest.raises(InputError) as caught:
        monitor_batch(batch, demo.reference, demo.config)
    assert str(caught.value) == (
        "the current batch has no column 'confidence', 'channel' (it has 'record_id', 'text', "
        "'received_at', 'label', 'predicted_label', 'model_version', 'scored_at')"
    )


def test_monitor_batch_refuses_confidences_outside_zero_to_one(demo: DemoSetting) -> None:
    batch = demo.batches[1].copy()
    batch.loc[[17, 40], "confidence"] = [1.3, -0.2]
    with pytest.raises(InputError) as caught:
        monitor_batch(batch, demo.reference, demo.config)
    assert str(caught.value) == (
        "column 'confidence' has 2 values outside [0, 1] (first at row 17: 1.3)"
    )


def test_monitor_batch_refuses_confidences_that_are_not_numbers(demo: DemoSetting) -> None:
    batch = demo.batches[1].assign(confidence="high")
    with pytest.raises(InputError) as caught:
        monitor_batch(batch, demo.reference, demo.config)
    assert str(caught.value) == "column 'confidence' must hold numbers, not str values"


def test_monitor_batch_refuses_a_model_version_the_ledger_does_not_know(
    demo: DemoSetting,
) -> None:
    batch = demo.batches[1].copy()
    batch.loc[[3, 4, 9], "model_version"] = "mv-retired"
    with pytest.raises(InputError) as caught:
        monitor_batch(batch, demo.reference, demo.config, model_versions=[MODEL_VERSION])
    assert str(caught.value) == (
        "3 rows name a model version the ledger does not know: 'mv-retired'"
    )


def test_monitor_batch_refuses_a_reference_too_small_for_its_test(demo: DemoSetting) -> None:
    reference = demo.reference.assign(confidence=np.nan)  # no evaluation predictions at all
    with pytest.raises(InputError) as caught:
        monitor_batch(demo.batches[1], reference, demo.config)
    assert str(caught.value) == (
        "column 'confidence': the reference has no values (all missing or empty)"
    )
    tiny = demo.reference.iloc[:3]
    with pytest.raises(InputError) as caught:
        monitor_batch(demo.batches[1], tiny, demo.config)
    assert str(caught.value) == (
        "column 'text': the domain classifier needs at least 5 texts on each side (5-fold), "
        "the reference has 3"
    )


def test_monitor_batch_without_calibration_or_labels_leaves_accuracy_open(
    demo: DemoSetting,
) -> None:
    batch = demo.batches[1].drop(columns=["label"])
    result = monitor_batch(batch, demo.reference, demo.config)
    assert result.expected_accuracy is None
    assert (result.realized_accuracy.n_labeled, result.realized_accuracy.status) == (
        0,
        AccuracyStatus.UNKNOWN,
    )


def test_batch_monitoring_round_trips_through_json(demo: DemoSetting) -> None:
    result = monitor_batch(
        demo.batches[2], demo.reference, demo.config, calibration=demo.calibration
    )
    text = result.model_dump_json()
    again = BatchMonitoring.model_validate_json(text)
    assert again.drift == result.drift
    assert again.to_people == result.to_people
    assert json.loads(text)["n_rows"] == 150


def test_monitor_batch_counts_error_rows_apart(demo: DemoSetting) -> None:
    batch = demo.batches[1].copy()
    batch.loc[[0, 1], ["predicted_label", "confidence"]] = [None, np.nan]
    result = monitor_batch(batch, demo.reference, demo.config, calibration=demo.calibration)
    assert result.label_psi.n_current == 148
    assert result.confidence_psi.n_current == 148
    expected = result.expected_accuracy
    assert expected is not None and expected.n_without_confidence == 2
    # The demo's config has a default threshold, so error rows go to people.
    assert result.to_people[0].startswith("no prediction")
