"""A synthetic batch's report: counts by check, fidelity per class, diversity, spot-check.

``BatchReport`` is plain data (stored in the ledger with the batch, published as Markdown);
``comparison_png`` draws organic and synthetic distributions per class: text length
histograms and the shares of the most frequent tokens side by side.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from govflow.reports.markdown import md_text
from govflow.synthetic.fidelity import ClassFidelity, Diversity

__all__ = ["BatchReport", "comparison_png"]

_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class BatchReport:
    """Everything a reader needs to judge one batch."""

    batch_id: str
    rows_requested: int
    rows_generated: int
    rows_rejected: dict[str, int]
    quarantined_by_check: dict[str, int]
    rows_passed: int
    fidelity: list[ClassFidelity]
    diversity: Diversity
    spot_check: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def markdown(self) -> str:
        lines = [
            f"# Synthetic batch {md_text(self.batch_id)}",
            "",
            f"Requested {self.rows_requested}, generated {self.rows_generated}, "
            f"passed the checks {self.rows_passed}.",
            "",
            "| check | rows quarantined |",
            "|---|---|",
            *(f"| {md_text(k)} | {v} |" for k, v in self.quarantined_by_check.items()),
        ]
        if self.rows_rejected:
            lines += ["", "Rejected generator answers:"]
            lines += [f"- {md_text(reason)}: {n}" for reason, n in self.rows_rejected.items()]
        lines += ["", "| class | organic | synthetic | length (KS) | vocabulary (TV) | missed |"]
        lines += ["|---|---|---|---|---|---|"]
        for f in self.fidelity:
            lines.append(
                f"| {md_text(f.label)} | {f.organic_rows} | {f.synthetic_rows} | {f.length:.3f} "
                f"| {f.vocabulary:.3f} | {md_text('; '.join(f.missed)) or '-'} |"
            )
        d = self.diversity
        lines += [
            "",
            f"Diversity: distinct-1 {d.distinct_1:.3f}, distinct-2 {d.distinct_2:.3f}, "
            f"near-duplicate share {d.near_duplicate_share:.3f}"
            + (f" (missed: {md_text('; '.join(d.missed))})" if d.missed else ""),
        ]
        if self.spot_check:
            lines += ["", f"Spot-check: {md_text(str(self.spot_check.get('outcome')))}"]
        return "\n".join(lines) + "\n"


def comparison_png(
    organic: Mapping[str, Sequence[str]], synthetic: Mapping[str, Sequence[str]], *, top: int = 12
) -> bytes:
    """Draw, per class, length histograms and top-token shares of organic vs synthetic."""
    from govflow.reports.plots import figure, to_png

    labels = sorted(synthetic)
    fig = figure(width=11.0, height=3.2 * max(len(labels), 1))
    axes = fig.subplots(max(len(labels), 1), 2, squeeze=False)
    for row, label in enumerate(labels):
        left, right = axes[row]
        org, syn = list(organic.get(label, [])), list(synthetic[label])
        lengths = [len(t) for t in org] + [len(t) for t in syn]
        bins = 20 if lengths else 1
        span = (min(lengths, default=0), max(lengths, default=1))
        left.hist(
            [len(t) for t in org],
            bins=bins,
            range=span,
            alpha=0.6,
            density=True,
            label=f"organic ({len(org)})",
        )
        left.hist(
            [len(t) for t in syn],
            bins=bins,
            range=span,
            alpha=0.6,
            density=True,
            label=f"synthetic ({len(syn)})",
        )
        left.set_title(f"{label}: text length (characters)")
        left.legend()
        org_tokens = Counter(t for text in org for t in _TOKEN.findall(text.lower()))
        syn_tokens = Counter(t for text in syn for t in _TOKEN.findall(text.lower()))
        words = [w for w, _ in (org_tokens + syn_tokens).most_common(top)]
        n_org, n_syn = max(sum(org_tokens.values()), 1), max(sum(syn_tokens.values()), 1)
        positions = range(len(words))
        right.barh(
            [p - 0.2 for p in positions],
            [org_tokens[w] / n_org for w in words],
            height=0.4,
            label="organic",
        )
        right.barh(
            [p + 0.2 for p in positions],
            [syn_tokens[w] / n_syn for w in words],
            height=0.4,
            label="synthetic",
        )
        right.set_yticks(list(positions), words)
        right.invert_yaxis()
        right.set_title(f"{label}: top token shares")
        right.legend()
    return to_png(fig)
