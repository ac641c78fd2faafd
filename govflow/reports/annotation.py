"""What a round reports: a table per annotator, the agreement summary, a confusion matrix.

The confusion matrix is a heat map drawn with matplotlib (``govflow.reports.plots``): rows
are the final label of each item, columns the label an annotator gave, cells count the
counted labels.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from govflow.annotation.calibration import AnnotatorCalibration
from govflow.annotation.consensus import RoundConsensus

__all__ = [
    "agreement_markdown",
    "annotator_rows",
    "confusion_counts",
    "confusion_png",
    "round_tasks_markdown",
]


def round_tasks_markdown(round_id: str, paths: dict[str, str]) -> str:
    """Say where each annotator's tasks are and how labels come back."""
    return "\n".join(
        [
            f"# Annotation round `{round_id}`",
            "",
            "Each annotator's tasks (JSONL; Label Studio JSON next to it):",
            "",
            *[f"- **{person}**: `{path}`" for person, path in paths.items()],
            "",
            f"Bring labels back with `govflow annotations import FILE --round {round_id}`; "
            "the flow resumes when nothing is missing.",
        ]
    )


def annotator_rows(
    labels: pd.DataFrame,
    calibration: list[AnnotatorCalibration],
    consensus: RoundConsensus,
    statuses: dict[str, str],
) -> list[dict[str, Any]]:
    """One row per annotator: items labelled, gold accuracy, agreement, status."""
    verdicts = {c.annotator: c for c in calibration}
    rows = []
    for annotator, own in labels.groupby("annotator", sort=True):
        verdict = verdicts.get(str(annotator))
        agreement = consensus.reliability.get(str(annotator))
        rows.append(
            {
                "annotator": str(annotator),
                "items": len(own),
                "gold_scored": verdict.gold_scored if verdict else 0,
                "gold_accuracy": _pct(verdict.accuracy if verdict else None),
                "agreement_with_consensus": _pct(agreement),
                "labels_counted": int((~own["is_excluded"]).sum()),
                "status": statuses.get(str(annotator), "unknown"),
            }
        )
    return rows


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def agreement_markdown(round_id: str, statistics: dict[str, Any], counts: dict[str, int]) -> str:
    """The agreement summary of a round, as Markdown."""
    names = {
        "krippendorff_alpha_nominal": "Krippendorff's alpha (nominal)",
        "krippendorff_alpha_ordinal": "Krippendorff's alpha (ordinal)",
        "fleiss_kappa": "Fleiss' kappa",
        "cohen_kappa_mean": "Cohen's kappa (mean over annotator pairs)",
        "mean_item_agreement": "Mean per-item agreement",
    }
    lines = [f"# Agreement: round `{round_id}`", "", "| measure | value |", "|---|---|"]
    for key, title in names.items():
        if key in statistics:
            value = statistics[key]
            lines.append(f"| {title} | {'-' if value is None else f'{value:.3f}'} |")
    lines += ["", "| count | value |", "|---|---|"]
    lines += [f"| {key.replace('_', ' ')} | {value} |" for key, value in counts.items()]
    return "\n".join(lines)


def confusion_counts(
    labels: pd.DataFrame, final: dict[str, str | None], label_set: list[str]
) -> pd.DataFrame:
    """Counted labels by final label (rows) and the annotator's label (columns)."""
    counted = labels[~labels["is_excluded"]].copy()
    counted["final"] = counted["item"].map(final)
    counted = counted[counted["final"].notna()]
    table = pd.crosstab(
        pd.Categorical(counted["final"], categories=label_set),
        pd.Categorical(counted["label"], categories=label_set),
        dropna=False,
    )
    table.index.name, table.columns.name = "final", "annotator"
    return table


def confusion_png(table: pd.DataFrame, title: str) -> bytes:
    """Draw the confusion table as a heat map with the count in every cell; return PNG bytes."""
    from govflow.reports.plots import figure, to_png

    labels = [str(label) for label in table.index]
    size = len(labels)
    fig = figure(width=1.2 + 0.9 * size, height=1.0 + 0.8 * size)
    ax = fig.add_subplot()
    counts = table.to_numpy()
    image = ax.imshow(counts, cmap="Blues", vmin=0, vmax=max(int(counts.max()), 1))
    ax.set_xticks(range(size), labels=labels, rotation=40, ha="right")
    ax.set_yticks(range(size), labels=labels)
    ax.set_xlabel("annotator label")
    ax.set_ylabel("final label")
    ax.set_title(title, fontsize=9)
    peak = max(int(counts.max()), 1)
    for i in range(size):
        for j in range(size):
            value = int(counts[i, j])
            ax.text(
                j,
                i,
                str(value),
                ha="center",
                va="center",
                color="white" if value > peak / 2 else "black",
            )
    fig.colorbar(image, ax=ax, shrink=0.8)
    return to_png(fig)
