"""Pictures of an evaluation, drawn through ``govflow.reports.plots`` and returned as PNG bytes.

- ``slice_metrics_png``: per slice, the candidate's metric with its interval beside
  production's, one panel per metric, with each slice's floor or ceiling marked.
- ``reliability_png``: a slice's reliability diagram, accuracy against mean confidence per
  calibration bin (the diagonal is perfect calibration), with the rows per bin below.

matplotlib is imported by ``govflow.reports.plots`` when a figure is made, not at import.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from govflow.evaluation.metrics import Estimate, Metric, ReliabilityBin
from govflow.evaluation.runs import Evaluation, SliceEvaluation
from govflow.reports.plots import figure, to_png

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["reliability_png", "slice_metrics_png"]

_CANDIDATE = "#1f77b4"
_PRODUCTION = "#7f7f7f"
_LIMIT = "#d62728"


def slice_metrics_png(
    evaluation: Evaluation,
    *,
    metrics: Sequence[Metric | str] = (Metric.ACCURACY, Metric.MACRO_F1, Metric.ERROR_RATE),
    width: float = 9.0,
    height: float = 3.6,
) -> bytes:
    """Draw each metric per slice: candidate and production with their intervals."""
    chosen = [Metric(m) for m in metrics]
    fig = figure(width, height)
    axes = fig.subplots(1, len(chosen), squeeze=False)[0]
    names = [s.spec.name for s in evaluation.slices]
    for ax, metric in zip(axes, chosen, strict=True):
        for x, item in enumerate(evaluation.slices):
            if metric not in item.spec.metrics or metric == Metric.PER_CLASS_RECALL:
                continue
            result = item.metrics.get(metric)
            _point(ax, x - 0.12, result.candidate, _CANDIDATE)
            if result.production is not None:
                _point(ax, x + 0.12, result.production, _PRODUCTION)
            threshold = item.spec.thresholds.get(metric)
            limit = None
            if threshold is not None:
                limit = threshold.floor if threshold.floor is not None else threshold.ceiling
            if limit is not None:
                ax.hlines(limit, x - 0.3, x + 0.3, colors=_LIMIT, linestyles="dashed")
        ax.set_title(metric.value)
        ax.set_xticks(range(len(names)), names, rotation=20)
        ax.set_xlim(-0.6, len(names) - 0.4)
        ax.grid(axis="y", alpha=0.3)
    handles = [
        axes[0].plot([], [], "o", color=_CANDIDATE, label=evaluation.model)[0],
        axes[0].plot([], [], "--", color=_LIMIT, label="floor / ceiling")[0],
    ]
    if evaluation.production_model:
        handles.insert(
            1,
            axes[0].plot([], [], "s", color=_PRODUCTION, label=evaluation.production_model)[0],
        )
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8)
    fig.suptitle(f"{evaluation.project}: metrics per slice with 95% intervals")
    return to_png(fig)


def reliability_png(item: SliceEvaluation, *, width: float = 5.0, height: float = 5.0) -> bytes:
    """Draw the reliability diagram of one slice (candidate, and production when present)."""
    fig = figure(width, height)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot([0, 1], [0, 1], ":", color="black", label="perfect calibration")
    _reliability_line(top, item.metrics.reliability, _CANDIDATE, "candidate", "o-")
    if item.metrics.production_reliability is not None:
        _reliability_line(
            top, item.metrics.production_reliability, _PRODUCTION, "production", "s--"
        )
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    ece = item.metrics.get(Metric.ECE).candidate.value
    ece_text = "n/a" if math.isnan(ece) else f"{ece:.3f}"
    top.set_title(f"{item.spec.name}: reliability (ECE {ece_text})")
    top.legend(loc="upper left", fontsize=8)
    bins = item.metrics.reliability
    bottom.bar(
        [(b.lower + b.upper) / 2 for b in bins],
        [b.count for b in bins],
        width=[b.upper - b.lower for b in bins],
        color=_CANDIDATE,
        alpha=0.6,
    )
    bottom.set_xlabel("confidence")
    bottom.set_ylabel("rows")
    return to_png(fig)


def _point(ax: Axes, x: float, estimate: Estimate, color: str) -> None:
    if math.isnan(estimate.value):
        return
    if math.isnan(estimate.low):
        ax.plot([x], [estimate.value], "o", color=color)
        return
    ax.errorbar(
        [x],
        [estimate.value],
        yerr=[[estimate.value - estimate.low], [estimate.high - estimate.value]],
        fmt="o",
        color=color,
        capsize=3,
    )


def _reliability_line(
    ax: Axes, bins: Sequence[ReliabilityBin], color: str, label: str, style: str
) -> None:
    shown = [b for b in bins if b.count]
    ax.plot(
        [b.mean_confidence for b in shown],
        [b.accuracy for b in shown],
        style,
        color=color,
        label=label,
    )
