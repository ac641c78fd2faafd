"""Scoring, alerts, production-output gates, feedback and slices on the demo's stream."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govflow.domain import AlertKind, OutputVerdict
from govflow.domain.review import GateResult, ItemDecision, Outcome, ReviewKind
from govflow.errors import InputError
from govflow.models.predictions import Predictions, RowResult
from govflow.monitoring.batch import monitor_batch
from govflow.monitoring.production import (
    alerts_for,
    feedback_frame,
    output_request,
    output_verdicts,
    score_missing,
    slice_positions,
)
from tests.govflow.monitoring.conftest import DemoSetting


class _Fixed:
    """A stand-in model that answers billing 0.9 for every text (counts its calls)."""

    label_set = ("billing", "bug")

    def __init__(self) -> None:
        self.seen: list[str] = []

    def predict(self, texts):
        self.seen.extend(texts)
        return Predictions.from_rows(RowResult("billing", 0.9) for _ in texts)


def test_score_missing_predicts_only_rows_without_a_prediction(demo: DemoSetting) -> None:
    frame = pd.DataFrame(
        {
            "text": ["a", "b", "c"],
            "predicted_label": ["bug", None, None],
            "confidence": [0.7, np.nan, np.nan],
            "model_version": ["mv-old", None, None],
            "scored_at": ["2026-12-01T00:00:00Z", None, None],
        }
    )
    model = _Fixed()
    scored, n = score_missing(
        frame, model, model_version_id="mv-1", record=demo.config.record, scored_at="T"
    )
    assert (n, model.seen) == (2, ["b", "c"])
    assert scored[["predicted_label", "confidence", "model_version", "scored_at"]].to_dict(
        "records"
    ) == [
        {
            "predicted_label": "bug",
            "confidence": 0.7,
            "model_version": "mv-old",
            "scored_at": "2026-12-01T00:00:00Z",
        },
        {
            "predicted_label": "billing",
            "confidence": 0.9,
            "model_version": "mv-1",
            "scored_at": "T",
        },
        {
            "predicted_label": "billing",
            "confidence": 0.9,
            "model_version": "mv-1",
            "scored_at": "T",
        },
    ]


def test_score_missing_adds_the_prediction_columns_of_raw_inputs(demo: DemoSetting) -> None:
    scored, n = score_missing(
        pd.DataFrame({"text": ["x"]}),
        _Fixed(),
        model_version_id="mv-1",
        record=demo.config.record,
        scored_at="T",
    )
    assert n == 1
    assert list(scored.columns) == [
        "text",
        "predicted_label",
        "confidence",
        "model_version",
        "scored_at",
    ]
    with pytest.raises(InputError) as no_text:
        score_missing(
            pd.DataFrame({"body": ["x"]}),
            _Fixed(),
            model_version_id="mv-1",
            record=demo.config.record,
            scored_at="T",
        )
    assert str(no_text.value) == "the batch has no column 'text' to score"


def test_a_clean_batch_raises_no_alert_and_a_drifted_one_names_columns_and_tests(
    demo: DemoSetting,
) -> None:
    clean = monitor_batch(demo.batches[1], demo.reference, demo.config)
    drifted = monitor_batch(demo.batches[2], demo.reference, demo.config)

    assert alerts_for(clean) == []
    (alert,) = alerts_for(drifted)
    assert (alert.kind, alert.event) == (AlertKind.DRIFT, "govflow.drift.detected")
    assert alert.summary == (
        "drift in 3 of 4 columns (text, predicted_label, confidence), at or above the drift "
        "share 50%"
    )
    columns = {c["column"]: c for c in alert.details["columns"]}
    assert [(c["column"], c["test"], c["threshold"]) for c in alert.details["columns"]] == [
        ("text", "domain_classifier", 0.55),
        ("predicted_label", "chisquare", 0.05),
        ("confidence", "ks", 0.05),
    ]
    assert columns["text"]["statistic"] == pytest.approx(0.871983, abs=1e-6)
    assert columns["predicted_label"]["statistic"] == pytest.approx(156.91593, abs=1e-5)
    assert columns["confidence"]["statistic"] == pytest.approx(0.451667, abs=1e-6)


def test_expected_accuracy_below_its_floor_is_an_alert_of_its_own(demo: DemoSetting) -> None:
    drifted = monitor_batch(
        demo.batches[2], demo.reference, demo.config, calibration=demo.calibration
    )
    kinds = [(a.kind, a.event) for a in alerts_for(drifted)]
    assert kinds == [
        (AlertKind.DRIFT, "govflow.drift.detected"),
        (AlertKind.EXPECTED_ACCURACY, "govflow.accuracy.below"),
    ]
    assert alerts_for(drifted)[1].summary == "expected accuracy 82.7% below 85.0%"


def _gate(request, choices: dict[str, tuple[str, str | None, Outcome]]) -> GateResult:
    return GateResult(
        gate_id=request.gate_id,
        kind=ReviewKind.PRODUCTION_OUTPUT,
        decisions=[
            ItemDecision(
                item_key=key,
                choice=choice,
                outcome=outcome,
                reviewer_id=who,
                tier=1,
                payload_hash="0" * 64,
                gate_id=request.gate_id,
            )
            for key, (choice, who, outcome) in choices.items()
        ],
    )


def test_gate_answers_become_verdicts_and_only_approved_or_corrected_rows_feedback(
    demo: DemoSetting,
) -> None:
    frame = demo.batches[1].head(4).reset_index(drop=True)
    to_people = {0: "random sample", 2: "confidence 0.21 below 0.30 for bug", 3: "x"}
    request = output_request(
        frame, to_people, config=demo.config, production_version_id="dv-p", deadline_hours=2
    )
    assert request is not None
    assert [i.key for i in request.items] == ["row-0", "row-2", "row-3"]
    assert request.choices == (
        "approve",
        "withhold",
        "correct:billing",
        "correct:bug",
        "correct:account",
        "correct:feature_request",
        "correct:other",
        "escalate",
    )
    gate = _gate(
        request,
        {
            "row-0": ("approve", "bob", Outcome.DECIDED),
            "row-2": ("correct:billing", "bob", Outcome.DECIDED),
            "row-3": ("withhold", None, Outcome.TIMED_OUT),
        },
    )
    verdicts = output_verdicts(
        gate, frame, to_people, ["h0", "h1", "h2", "h3"], record=demo.config.record
    )
    predicted = frame["predicted_label"].tolist()
    assert [(v.position, v.verdict, v.label, v.reviewer_id) for v in verdicts] == [
        (0, OutputVerdict.APPROVED, predicted[0], "bob"),
        (2, OutputVerdict.CORRECTED, "billing", "bob"),
        (3, OutputVerdict.WITHHELD, None, None),
    ]
    feedback = feedback_frame(frame, verdicts, record=demo.config.record)
    assert feedback[["text", "label", "label_source", "reviewer_id"]].to_dict("records") == [
        {
            "text": frame["text"][0],
            "label": predicted[0],
            "label_source": "production_review:approved",
            "reviewer_id": "bob",
        },
        {
            "text": frame["text"][2],
            "label": "billing",
            "label_source": "production_review:corrected",
            "reviewer_id": "bob",
        },
    ]
    assert (
        output_request(
            frame, {}, config=demo.config, production_version_id="dv-p", deadline_hours=2
        )
        is None
    )


def test_slice_positions_are_stratified_seeded_and_include_the_audit_sample(
    demo: DemoSetting,
) -> None:
    frame = demo.batches[2]
    record = demo.config.record
    first = slice_positions(frame, record=record, per_label=3, audit_rate=0.05, seed=0)
    again = slice_positions(frame, record=record, per_label=3, audit_rate=0.05, seed=0)
    without_audit = slice_positions(frame, record=record, per_label=3, audit_rate=0.0, seed=0)

    assert first == again
    labels = frame["predicted_label"].iloc[without_audit].value_counts()
    assert labels.to_dict() == {label: 3 for label in labels.index}
    assert set(without_audit) < set(first)


def test_realized_accuracy_counts_reviewers_labels_where_no_late_label_came(
    demo: DemoSetting,
) -> None:
    from govflow.ledger.monitoring import OutputReviewRecord
    from govflow.monitoring.production import realized_alert, reviewed_accuracy

    frame = pd.DataFrame(
        {
            "predicted_label": ["bug", "bug", "bug", "bug"],
            "label": ["bug", None, None, "billing"],
        }
    )
    verdicts = [
        OutputReviewRecord(1, "h1", "bug", OutputVerdict.CORRECTED, "billing", "x", "bob", None, 1),
        OutputReviewRecord(2, "h2", "bug", OutputVerdict.WITHHELD, None, "x", None, None, 2),
        OutputReviewRecord(3, "h3", "bug", OutputVerdict.APPROVED, "bug", "x", "bob", None, 1),
    ]
    realized = reviewed_accuracy(frame, verdicts, config=demo.config)
    assert (realized.n_labeled, realized.n_correct) == (3, 1)  # row 3 keeps its late label
    assert realized_alert(realized) is None  # 3 labels: fewer than min_labels, no verdict
    many = pd.concat([frame] * 20, ignore_index=True)
    below = reviewed_accuracy(many, [], config=demo.config)
    alert = realized_alert(below)
    assert alert is not None and alert.kind is AlertKind.REALIZED_ACCURACY
    assert alert.summary == (
        "realized accuracy 50.0% below 85.0% (20 of 40 rows labeled late or by reviewers)"
    )
