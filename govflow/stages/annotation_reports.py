"""What a round reports: a table per annotator, the agreement summary, a confusion matrix.

The confusion matrix is drawn as SVG by hand (no plotting library): rows are the final
label of each item, columns the label an annotator gave, cells count counted labels.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from govflow.annotation.consensus import AnnotatorCalibration, RoundConsensus


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


def confusion_svg(table: pd.DataFrame, title: str) -> str:
    """Draw the confusion table as an SVG heat map with counts in the cells."""
    labels = [str(label) for label in table.index]
    cell, left, top = 64, 130, 120
    size = len(labels)
    peak = max(int(table.to_numpy().max()), 1)
    width, height = left + cell * size + 20, top + cell * size + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<text x="10" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<text x="{left}" y="40">annotator label →</text>',
        f'<text x="10" y="{top - 8}">final label ↓</text>',
    ]
    for j, name in enumerate(labels):
        x = left + j * cell + cell / 2
        parts.append(
            f'<text x="{x}" y="{top - 8}" text-anchor="end" '
            f'transform="rotate(-40 {x} {top - 8})">{escape(name)}</text>'
        )
    for i, name in enumerate(labels):
        y = top + i * cell
        parts.append(
            f'<text x="{left - 6}" y="{y + cell / 2 + 4}" text-anchor="end">{escape(name)}</text>'
        )
        for j in range(size):
            count = int(table.iat[i, j])
            shade = int(255 - 200 * count / peak)
            fill = f"rgb({shade},{shade},255)" if i == j else f"rgb(255,{shade},{shade})"
            x = left + j * cell
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" '
                f'stroke="#999"/>'
            )
            parts.append(
                f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" text-anchor="middle">'
                f"{count}</text>"
            )
    parts.append("</svg>")
    return "\n".join(parts)
