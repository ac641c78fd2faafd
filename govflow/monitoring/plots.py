"""Pictures of monitoring results, drawn through ``govflow.reports.plots``.

- ``drift_history_figure``: each column's drift score over the last batches, one line per
  column with its threshold dashed in the same colour. p-value tests (drift below the
  threshold, log scale) and distances (drift above it) get a panel each, so that no line
  is read against the other kind's scale.
- ``distribution_figure``: a drifted column's reference against its current values:
  overlaid density histograms on shared bins for numeric columns (text columns: their
  lengths), side-by-side bars of shares for categorical and binary ones.

The ``*_png`` functions render the same figures as PNG bytes; ``drifted_distributions``
draws one per drifted column of a batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from govflow.errors import InputError
from govflow.monitoring.config import ColumnKind
from govflow.monitoring.drift import ColumnDrift, DriftSummary
from govflow.reports.plots import figure, to_png

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "HISTORY_COLUMNS",
    "distribution_figure",
    "distribution_png",
    "drift_history_figure",
    "drift_history_png",
    "drifted_distributions",
]

HISTORY_COLUMNS = ("batch", "column", "test", "score", "threshold", "is_p_value")
_MAX_BARS = 20
_P_FLOOR = 1e-300  # a p-value of 0 cannot sit on a log axis


def drift_history_figure(history: pd.DataFrame) -> Figure:
    """Draw drift scores per column over batches (rows as ``report.drift_rows`` gives them)."""
    missing = [c for c in HISTORY_COLUMNS if c not in history.columns]
    if missing:
        raise InputError(f"drift history has no column {', '.join(map(repr, missing))}")
    if history.empty:
        raise InputError("drift history is empty: there is nothing to draw")
    batches = list(dict.fromkeys(history["batch"].astype(str)))
    kinds = [flag for flag in (True, False) if (history["is_p_value"] == flag).any()]
    fig = figure(7.5, 3.2 * len(kinds))
    axes = fig.subplots(len(kinds), 1, squeeze=False)[:, 0]
    colours = _colours(sorted(history["column"].astype(str).unique()))
    for ax, is_p in zip(axes, kinds, strict=True):
        part = history[history["is_p_value"] == is_p]
        for column, rows in part.groupby(part["column"].astype(str), sort=True):
            x = [batches.index(str(b)) for b in rows["batch"]]
            scores = rows["score"].to_numpy(dtype=float)
            if is_p:
                scores = np.maximum(scores, _P_FLOOR)
            tests = "/".join(dict.fromkeys(rows["test"].astype(str)))
            ax.plot(x, scores, marker="o", color=colours[column], label=f"{column} ({tests})")
            ax.plot(
                x,
                rows["threshold"].to_numpy(dtype=float),
                linestyle="--",
                color=colours[column],
                linewidth=1,
            )
        if is_p:
            ax.set_yscale("log")
            ax.set_ylabel("p-value (drift below dashed)")
        else:
            ax.set_ylabel("distance (drift above dashed)")
        ax.set_xticks(range(len(batches)), batches)
        ax.legend(fontsize="small", loc="best")
    axes[0].set_title("Drift score per column over batches")
    axes[-1].set_xlabel("batch")
    return fig


def drift_history_png(history: pd.DataFrame) -> bytes:
    """Render ``drift_history_figure`` as PNG bytes."""
    return to_png(drift_history_figure(history))


def distribution_figure(reference: pd.Series, current: pd.Series, drift: ColumnDrift) -> Figure:
    """Draw a column's reference distribution against its current one."""
    fig = figure(6.4, 3.6)
    ax = fig.subplots()
    if drift.kind in (ColumnKind.NUMERIC, ColumnKind.TEXT):
        ref, cur = _numbers(reference, drift.kind), _numbers(current, drift.kind)
        if ref.size == 0 or cur.size == 0:
            raise InputError(f"column {drift.column!r} has no values to draw")
        edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="auto")
        edges = edges if edges.size <= 61 else np.linspace(edges[0], edges[-1], 61)
        ax.hist(ref, bins=edges, density=True, alpha=0.5, label="reference")
        ax.hist(cur, bins=edges, density=True, alpha=0.5, label="current")
        ax.set_xlabel(f"{drift.column} length" if drift.kind is ColumnKind.TEXT else drift.column)
        ax.set_ylabel("density")
    else:
        ref_shares = reference.dropna().astype(str).value_counts(normalize=True)
        cur_shares = current.dropna().astype(str).value_counts(normalize=True)
        shares = pd.DataFrame({"reference": ref_shares, "current": cur_shares}).fillna(0.0)
        shares = shares.sort_values("reference", ascending=False, kind="stable").head(_MAX_BARS)
        x = np.arange(len(shares))
        ax.bar(x - 0.2, shares["reference"], width=0.4, label="reference")
        ax.bar(x + 0.2, shares["current"], width=0.4, label="current")
        ax.set_xticks(x, [str(v) for v in shares.index], rotation=30, ha="right")
        ax.set_ylabel("share of rows")
    score = f"p = {drift.p_value:.3g}" if drift.p_value is not None else f"{drift.statistic:.3g}"
    ax.set_title(f"{drift.column}: {drift.test} {score} (threshold {drift.threshold:.3g})")
    ax.legend(fontsize="small")
    return fig


def distribution_png(reference: pd.Series, current: pd.Series, drift: ColumnDrift) -> bytes:
    """Render ``distribution_figure`` as PNG bytes."""
    return to_png(distribution_figure(reference, current, drift))


def drifted_distributions(
    reference: pd.DataFrame, current: pd.DataFrame, summary: DriftSummary
) -> dict[str, bytes]:
    """Return a distribution picture (PNG) per drifted column, in the summary's order."""
    return {
        result.column: distribution_png(reference[result.column], current[result.column], result)
        for result in summary.columns
        if result.drifted
    }


def _numbers(series: pd.Series, kind: ColumnKind) -> np.ndarray:
    if kind is ColumnKind.TEXT:
        return series.dropna().astype(str).str.len().to_numpy(dtype=float)
    values = series.to_numpy(dtype=float, na_value=np.nan)
    return values[np.isfinite(values)]


def _colours(columns: list[str]) -> dict[str, str]:
    cycle = [f"C{i}" for i in range(10)]
    return {column: cycle[i % len(cycle)] for i, column in enumerate(columns)}
