"""A production batch between the model, the monitor, people and the ledger.

Plain functions the ``score``, ``monitor`` and ``intervene`` flows compose:

- ``score_missing``: predictions for the rows that carry none, stamped with the model version
  and the scoring time; rows that already carry a prediction are left as they are;
- ``build_reference``: the model's training version with the model's predictions on its
  evaluation (test) rows, and the calibration fitted on those rows;
- ``alerts_for``: one alert per finding that opens an intervention (drift, expected or
  realized accuracy below its floor), with the exact columns, tests and statistics;
- ``output_request`` and ``output_verdicts``: the outputs the activation conditions select,
  as a production-output gate, and what people (or the deadline: withheld) made of them;
- ``feedback_frame``: the approved and corrected outputs as labeled rows;
- ``slice_positions``: the rows of an affected slice to re-annotate, stratified by predicted
  label and seeded, plus a deterministic audit sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from govflow.domain import AlertKind, OutputVerdict
from govflow.domain.review import (
    CORRECT,
    GateResult,
    Outcome,
    ReviewItem,
    ReviewKind,
    ReviewRequest,
)
from govflow.errors import InputError
from govflow.ledger.monitoring import OutputReviewRecord
from govflow.monitoring.batch import BatchMonitoring
from govflow.monitoring.config import MonitorConfig, RecordColumns
from govflow.monitoring.performance import (
    AccuracyStatus,
    Calibration,
    RealizedAccuracy,
    fit_calibration,
    realized_accuracy,
)

__all__ = [
    "AlertSpec",
    "Reference",
    "alerts_for",
    "build_reference",
    "feedback_frame",
    "output_request",
    "output_verdicts",
    "realized_alert",
    "reviewed_accuracy",
    "score_missing",
    "slice_positions",
]


def _needs_score(frame: pd.DataFrame, record: RecordColumns) -> np.ndarray:
    if record.predicted_label not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    return frame[record.predicted_label].isna().to_numpy()


def score_missing(
    frame: pd.DataFrame,
    adapter: Any,
    *,
    model_version_id: str,
    record: RecordColumns,
    scored_at: str,
) -> tuple[pd.DataFrame, int]:
    """Predict the rows without a predicted label; return the frame and how many were scored.

    Scored rows get the label, the confidence (missing on a model's error rows), the model
    version and ``scored_at``; rows with a prediction keep theirs.
    """
    if record.text not in frame.columns:
        raise InputError(f"the batch has no column {record.text!r} to score")
    todo = _needs_score(frame, record)
    out = frame.copy()
    for column, empty in (
        (record.predicted_label, None),
        (record.confidence, np.nan),
        (record.model_version, None),
        (record.time, None),
    ):
        if column not in out.columns:
            out[column] = pd.Series([empty] * len(out), index=out.index, dtype="object")
    if not todo.any():
        return out, 0
    texts = out.loc[todo, record.text].astype("object").where(out.loc[todo, record.text].notna())
    predictions = adapter.predict(["" if t is None else str(t) for t in texts.tolist()])
    for column in (record.predicted_label, record.model_version, record.time):
        out[column] = out[column].astype("object")
    out[record.confidence] = pd.to_numeric(out[record.confidence], errors="coerce").astype(
        "float64"
    )
    out.loc[todo, record.predicted_label] = list(predictions.labels)
    out.loc[todo, record.confidence] = predictions.confidence
    out.loc[todo, record.model_version] = model_version_id
    out.loc[todo, record.time] = scored_at
    return out, int(todo.sum())


@dataclass(frozen=True)
class Reference:
    """The frame a batch is compared with, and the calibration fitted on the evaluation rows."""

    frame: pd.DataFrame
    calibration: Calibration
    n_evaluation: int


def build_reference(
    training: pd.DataFrame,
    adapter: Any,
    *,
    config: MonitorConfig,
    label_column: str = "label",
    split_column: str = "split",
) -> Reference:
    """Return the training version with the model's predictions on its test rows only."""
    record = config.record
    for needed in (record.text, label_column, split_column):
        if needed not in training.columns:
            raise InputError(f"the reference (training) version has no column {needed!r}")
    test = (training[split_column] == "test").to_numpy()
    if not test.any():
        raise InputError("the reference (training) version has no test rows to calibrate on")
    frame = training.copy()
    frame[record.predicted_label] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    frame[record.confidence] = np.nan
    predictions = adapter.predict([str(t) for t in frame.loc[test, record.text]])
    frame.loc[test, record.predicted_label] = list(predictions.labels)
    frame.loc[test, record.confidence] = predictions.confidence
    right = np.asarray(
        [p == t for p, t in zip(predictions.labels, frame.loc[test, label_column], strict=True)],
        dtype=bool,
    )
    calibration = fit_calibration(predictions.confidence, right, method=config.accuracy.calibration)
    # The training label is no ground truth of production: drop it from the reference.
    frame = frame.drop(columns=[label_column])
    return Reference(frame=frame, calibration=calibration, n_evaluation=int(test.sum()))


@dataclass(frozen=True)
class AlertSpec:
    """An alert to record: its kind, one line for people, and the exact numbers."""

    kind: AlertKind
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    event: str = "govflow.alert.raised"


def alerts_for(result: BatchMonitoring) -> list[AlertSpec]:
    """Return the alerts a batch raises (none for a clean batch)."""
    alerts: list[AlertSpec] = []
    lines = result.alerts()
    drift = result.drift
    if drift.drifted:
        drifted = [c for c in drift.columns if c.drifted]
        alerts.append(
            AlertSpec(
                kind=AlertKind.DRIFT,
                summary=lines[0],
                details={
                    "columns": [
                        {
                            "column": c.column,
                            "test": c.test.value,
                            "statistic": c.statistic,
                            "p_value": c.p_value,
                            "threshold": c.threshold,
                        }
                        for c in drifted
                    ],
                    "n_drifted": drift.n_drifted,
                    "n_columns": len(drift.columns),
                    "drift_share": drift.drift_share,
                    "findings": lines,
                },
                event="govflow.drift.detected",
            )
        )
    expected = result.expected_accuracy
    if expected is not None and expected.status is AccuracyStatus.BELOW:
        alerts.append(
            AlertSpec(
                kind=AlertKind.EXPECTED_ACCURACY,
                summary=f"expected accuracy {expected.value:.1%} below {expected.minimum:.1%}",
                details=expected.model_dump(mode="json"),
                event="govflow.accuracy.below",
            )
        )
    realized = result.realized_accuracy
    if realized.status is AccuracyStatus.BELOW and realized.accuracy is not None:
        alerts.append(
            AlertSpec(
                kind=AlertKind.REALIZED_ACCURACY,
                summary=(
                    f"realized accuracy {realized.accuracy:.1%} below {realized.minimum:.1%} "
                    f"({realized.n_correct} of {realized.n_labeled} labeled rows)"
                ),
                details=realized.model_dump(mode="json"),
                event="govflow.accuracy.below",
            )
        )
    return alerts


def _key(position: int) -> str:
    return f"row-{position}"


def output_request(
    frame: pd.DataFrame,
    to_people: dict[int, str],
    *,
    config: MonitorConfig,
    production_version_id: str,
    deadline_hours: float,
) -> ReviewRequest | None:
    """Return the production-output gate for the selected rows (None when none is selected)."""
    if not to_people:
        return None
    record = config.record
    items = []
    for position in sorted(to_people):
        row = frame.iloc[position]
        confidence = row[record.confidence]
        has_confidence = confidence is not None and not pd.isna(confidence)
        label = row[record.predicted_label]
        items.append(
            ReviewItem(
                key=_key(position),
                payload={
                    "text": None if pd.isna(row[record.text]) else str(row[record.text]),
                    "predicted_label": None if pd.isna(label) else str(label),
                    "confidence": round(float(confidence), 4) if has_confidence else None,
                    "model_version": str(row[record.model_version]),
                },
                reasons=[to_people[position]],
                suggestion=None if pd.isna(label) else str(label),
                confidence=float(confidence) if has_confidence else None,
            )
        )
    return ReviewRequest(
        name=f"production-output-{production_version_id}",
        kind=ReviewKind.PRODUCTION_OUTPUT,
        labels=tuple(config.label_set),
        items=items,
        deadline=timedelta(hours=deadline_hours),
        dataset_version_id=production_version_id,
    )


def output_verdicts(
    gate: GateResult,
    frame: pd.DataFrame,
    to_people: dict[int, str],
    hashes: Sequence[str],
    *,
    record: RecordColumns,
) -> list[OutputReviewRecord]:
    """Turn a production-output gate's decisions into verdicts; a timed-out item is withheld."""
    verdicts = []
    for decision in gate.decisions:
        position = int(decision.item_key.removeprefix("row-"))
        predicted = frame.iloc[position][record.predicted_label]
        predicted = None if pd.isna(predicted) else str(predicted)
        choice = decision.choice
        if decision.outcome is Outcome.TIMED_OUT or choice == "withhold":
            verdict, label = OutputVerdict.WITHHELD, None
        elif choice == "approve":
            verdict, label = OutputVerdict.APPROVED, predicted
        elif choice.startswith(CORRECT):
            verdict, label = OutputVerdict.CORRECTED, choice.removeprefix(CORRECT)
        else:
            raise InputError(f"{decision.item_key}: no production-output verdict for {choice!r}")
        if verdict is OutputVerdict.APPROVED and predicted is None:
            # Nothing to approve on a model's error row: it stays out of the feedback.
            verdict, label = OutputVerdict.WITHHELD, None
        verdicts.append(
            OutputReviewRecord(
                position=position,
                item_hash=hashes[position],
                predicted_label=predicted,
                verdict=verdict,
                label=label,
                reason=to_people.get(position, ""),
                reviewer_id=decision.reviewer_id,
                review_task_id=decision.gate_id,
                tier=decision.tier,
            )
        )
    return verdicts


def reviewed_accuracy(
    frame: pd.DataFrame, verdicts: Sequence[OutputReviewRecord], *, config: MonitorConfig
) -> RealizedAccuracy:
    """Return realized accuracy on the rows with a late label or, lacking one, a reviewer's
    (an approval keeps the model's label, a correction gives another; withheld rows count
    for nothing)."""
    record = config.record
    truth = (
        frame[record.label].astype("object").copy()
        if record.label in frame.columns
        else pd.Series([None] * len(frame), index=frame.index, dtype="object")
    )
    for verdict in verdicts:
        if verdict.label is not None and pd.isna(truth.iloc[verdict.position]):
            truth.iloc[verdict.position] = verdict.label
    return realized_accuracy(frame[record.predicted_label], truth, settings=config.accuracy)


def realized_alert(realized: RealizedAccuracy) -> AlertSpec | None:
    """Return the alert of a realized accuracy below its floor (with reviewers' labels)."""
    if realized.status is not AccuracyStatus.BELOW or realized.accuracy is None:
        return None
    return AlertSpec(
        kind=AlertKind.REALIZED_ACCURACY,
        summary=(
            f"realized accuracy {realized.accuracy:.1%} below {realized.minimum:.1%} "
            f"({realized.n_correct} of {realized.n_labeled} rows labeled late or by reviewers)"
        ),
        details=realized.model_dump(mode="json"),
        event="govflow.accuracy.below",
    )


def feedback_frame(
    frame: pd.DataFrame, verdicts: Sequence[OutputReviewRecord], *, record: RecordColumns
) -> pd.DataFrame:
    """Return approved and corrected outputs as labeled rows (who decided, what the model said)."""
    kept = [v for v in verdicts if v.verdict in (OutputVerdict.APPROVED, OutputVerdict.CORRECTED)]
    rows = frame.iloc[[v.position for v in kept]].copy().reset_index(drop=True)
    rows[record.label] = [v.label for v in kept]
    rows["label_status"] = "accepted"
    rows["label_source"] = [f"production_review:{v.verdict.value}" for v in kept]
    rows["reviewer_id"] = [v.reviewer_id for v in kept]
    return rows


def slice_positions(
    frame: pd.DataFrame,
    *,
    record: RecordColumns,
    per_label: int,
    audit_rate: float,
    seed: int,
) -> list[int]:
    """Return a stratified, seeded sample (``per_label`` rows per predicted label, or per
    label where there are no predictions) plus the rows whose text falls in the
    deterministic audit sample at ``audit_rate``; ascending."""
    from govflow.monitoring.activation import sample_point

    if per_label < 1:
        raise InputError(f"per_label must be at least 1, got {per_label}")
    rng = np.random.default_rng(seed)
    # A labeled version (an audit's slice) has no predictions: stratify by its labels.
    by = record.predicted_label if record.predicted_label in frame.columns else record.label
    labels = frame[by].astype("object").fillna("<none>")
    chosen: set[int] = set()
    for label in sorted(labels.unique(), key=str):
        positions = np.flatnonzero((labels == label).to_numpy())
        take = min(per_label, positions.size)
        chosen.update(int(p) for p in rng.choice(positions, size=take, replace=False))
    texts = frame[record.text].tolist()
    chosen.update(
        i
        for i, text in enumerate(texts)
        if isinstance(text, str) and sample_point(text) < audit_rate
    )
    return sorted(chosen)
