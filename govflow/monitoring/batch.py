"""One production batch judged end to end: drift, PSI, text, accuracy, and what goes to people.

``monitor_batch`` checks the batch before it computes anything, so a bad batch yields one
``InputError`` and no partial result: an empty batch or reference, a missing column, a
confidence outside [0, 1], a model version the caller does not know. Then:

- drift of every monitored column (``drift`` for numeric, categorical and binary ones,
  ``text`` for text ones, whose domain classifier counts in the verdict), and the verdict;
- PSI of the predicted labels and of the confidences (``psi``);
- expected accuracy, when a calibration fitted on the model's evaluation is given, and
  realized accuracy on the rows that carry a ground-truth label (``performance``);
- the activation conditions: which rows go to people, and why (``activation``).

The reference is a frame with the same columns: the model's training version, with the
model's predictions on its evaluation rows (rows without one are left out of the prediction
checks, as missing values are), or an earlier production window.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from govflow.errors import InputError
from govflow.monitoring.activation import activate
from govflow.monitoring.config import ColumnKind, MonitorConfig
from govflow.monitoring.drift import DriftSummary, check_columns, column_drift, summarize_drift
from govflow.monitoring.performance import (
    AccuracyStatus,
    Calibration,
    ExpectedAccuracy,
    RealizedAccuracy,
    expected_accuracy,
    realized_accuracy,
)
from govflow.monitoring.psi import PsiBand, PsiResult, confidence_psi, label_psi
from govflow.monitoring.text import TextDrift, text_drift

__all__ = ["BatchMonitoring", "check_batch", "monitor_batch"]


class BatchMonitoring(BaseModel):
    """Everything the monitor found in one batch; plain data, JSON-serializable."""

    model_config = ConfigDict(frozen=True)

    project: str
    n_rows: int
    n_reference: int
    drift: DriftSummary
    text: list[TextDrift]
    label_psi: PsiResult
    confidence_psi: PsiResult
    expected_accuracy: ExpectedAccuracy | None
    realized_accuracy: RealizedAccuracy
    to_people: dict[int, str]

    @property
    def n_to_people(self) -> int:
        """Return the number of rows the activation conditions send to people."""
        return len(self.to_people)

    def alerts(self) -> list[str]:
        """Return one line per finding that needs attention, most important first."""
        lines: list[str] = []
        drift = self.drift
        if drift.drifted:
            names = ", ".join(c.column for c in drift.columns if c.drifted)
            lines.append(
                f"drift in {drift.n_drifted} of {len(drift.columns)} columns ({names}), "
                f"at or above the drift share {drift.drift_share:.0%}"
            )
        for text in self.text:
            if text.domain.drifted and text.domain.current_tokens:
                words = ", ".join(repr(t.token) for t in text.domain.current_tokens[:3])
                lines.append(
                    f"{text.column}: new wording (classifier ROC AUC "
                    f"{text.domain.roc_auc:.2f}), most telling words {words}"
                )
            if text.oov.drifted:
                words = ", ".join(f"{t.token!r} x{t.count}" for t in text.oov.top_unknown[:3])
                lines.append(
                    f"{text.column}: {text.oov.rate:.1%} of words unknown to the reference "
                    f"(limit {text.oov.threshold:.1%}): {words}"
                )
        for psi in (self.label_psi, self.confidence_psi):
            # A PSI that sampling alone explains is no finding, whatever its band.
            if psi.band is not PsiBand.STABLE and psi.is_beyond_noise:
                lines.append(
                    f"{psi.name}: {psi.band} shift (PSI {psi.psi:.3f}, "
                    f"{psi.noise_floor:.3f} expected by chance)"
                )
        expected = self.expected_accuracy
        if expected is not None and expected.status is AccuracyStatus.BELOW:
            lines.append(f"expected accuracy {expected.value:.1%} below {expected.minimum:.1%}")
        realized = self.realized_accuracy
        if realized.status is AccuracyStatus.BELOW and realized.accuracy is not None:
            lines.append(
                f"realized accuracy {realized.accuracy:.1%} below {realized.minimum:.1%} "
                f"({realized.n_correct} of {realized.n_labeled} labeled rows, "
                f"{realized.confidence_level:.0%} interval {realized.ci_low:.1%}-"
                f"{realized.ci_high:.1%})"
            )
        return lines


def check_batch(
    current: pd.DataFrame,
    reference: pd.DataFrame,
    config: MonitorConfig,
    *,
    model_versions: Collection[str] | None = None,
) -> None:
    """Refuse a batch the monitor cannot judge, with one ``InputError`` saying why."""
    record = config.record
    names = list(
        dict.fromkeys(
            [record.predicted_label, record.confidence, *(c.name for c in config.columns)]
        )
    )
    if config.activation.sample_rate is not None:
        names.append(record.text)
    check_columns(reference, current, list(dict.fromkeys(names)))
    confidence = current[record.confidence]
    if not pd.api.types.is_numeric_dtype(confidence):
        raise InputError(
            f"column {record.confidence!r} must hold numbers, not {confidence.dtype} values"
        )
    values = confidence.to_numpy(dtype=np.float64, na_value=np.nan)
    outside = np.flatnonzero(~np.isnan(values) & ((values < 0) | (values > 1)))
    if outside.size:
        first = int(outside[0])
        raise InputError(
            f"column {record.confidence!r} has {outside.size} value"
            f"{'s' if outside.size > 1 else ''} outside [0, 1] (first at row {first}: "
            f"{float(values[first])!r})"
        )
    if model_versions is not None:
        if record.model_version not in current.columns:
            raise InputError(f"the current batch has no column {record.model_version!r}")
        versions = current[record.model_version]
        unknown = versions[~versions.isin(list(model_versions))]
        if len(unknown):
            shown = ", ".join(repr(v) for v in pd.unique(unknown)[:3])
            raise InputError(
                f"{len(unknown)} row{'s' if len(unknown) > 1 else ''} name a model version "
                f"the ledger does not know: {shown}"
            )


def monitor_batch(
    current: pd.DataFrame,
    reference: pd.DataFrame,
    config: MonitorConfig,
    *,
    calibration: Calibration | None = None,
    model_versions: Collection[str] | None = None,
) -> BatchMonitoring:
    """Judge one production batch against its reference (see the module docstring)."""
    check_batch(current, reference, config, model_versions=model_versions)
    record = config.record
    texts: list[TextDrift] = []
    results = []
    for column in config.columns:
        if column.kind is ColumnKind.TEXT:
            found = text_drift(
                reference[column.name], current[column.name], column=column, settings=config.text
            )
            texts.append(found)
            results.append(found.as_column_drift())
        else:
            results.append(column_drift(reference[column.name], current[column.name], column))
    labels_psi = label_psi(
        reference[record.predicted_label],
        current[record.predicted_label],
        label_set=config.label_set,
        settings=config.psi,
        name=record.predicted_label,
    )
    confidences_psi = confidence_psi(
        reference[record.confidence],
        current[record.confidence],
        settings=config.psi,
        name=record.confidence,
    )
    expected = None
    if calibration is not None:
        expected = expected_accuracy(
            calibration, current[record.confidence], minimum=config.accuracy.expected_min
        )
    truth = (
        current[record.label]
        if record.label in current.columns
        else pd.Series([None] * len(current), index=current.index, dtype="object")
    )
    realized = realized_accuracy(current[record.predicted_label], truth, settings=config.accuracy)
    activation = activate(current, settings=config.activation, record=record)
    return BatchMonitoring(
        project=config.project,
        n_rows=len(current),
        n_reference=len(reference),
        drift=summarize_drift(results, drift_share=config.drift_share),
        text=texts,
        label_psi=labels_psi,
        confidence_psi=confidences_psi,
        expected_accuracy=expected,
        realized_accuracy=realized,
        to_people=activation.reasons,
    )
