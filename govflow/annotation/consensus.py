"""From a round's counted labels to consensus, and which items go to people.

Pure: takes the round's labels as a frame (``govflow.ledger.annotations.round_labels``) and
returns the consensus per item with the reasons an item is contested, plus the seeded
audit sample of auto-accepted items.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from govflow.hashing import content_hash

__all__ = [
    "ItemConsensus",
    "Method",
    "RoundConsensus",
    "audit_sample",
    "compute_consensus",
    "guideline_excerpt",
]

Method = Literal["dawid_skene", "majority"]


@dataclass
class ItemConsensus:
    """The machine's view of one item: its label, how sure, and why a person should look."""

    item: str
    label: str | None
    confidence: float | None
    agreement: float | None
    votes: list[tuple[str, str]]
    reasons: list[str] = field(default_factory=list)

    @property
    def contested(self) -> bool:
        return bool(self.reasons)


@dataclass
class RoundConsensus:
    """Consensus over a round's counted labels, with the statistics reported for it."""

    items: list[ItemConsensus]
    reliability: dict[str, float]
    statistics: dict[str, Any]

    def by_item(self) -> dict[str, ItemConsensus]:
        return {entry.item: entry for entry in self.items}


def compute_consensus(
    *,
    labels: pd.DataFrame,
    items: list[str],
    label_set: list[str],
    ordinal: bool,
    method: Method,
    min_agreement: float,
    min_confidence: float,
    min_labels: int,
) -> RoundConsensus:
    """Aggregate the counted labels of ``items`` and mark the items people must decide.

    ``labels`` is ``round_labels`` output; excluded labels and labels of items outside
    ``items`` (gold mixed in from elsewhere) do not count. An item is contested when it
    has fewer than ``min_labels`` counted labels, its pairwise agreement is below
    ``min_agreement``, or the consensus confidence (Dawid-Skene posterior or majority
    share) is below ``min_confidence``.
    """
    from govflow.annotation.aggregation import dawid_skene, majority_vote
    from govflow.annotation.agreement import (
        annotator_agreement_with_consensus,
        cohen_kappa_pairwise,
        fleiss_kappa,
        krippendorff_alpha,
        per_item_agreement,
    )
    from govflow.annotation.labels import LabelMatrix

    counted = labels[~labels["is_excluded"] & labels["item"].isin(set(items))]
    matrix = LabelMatrix.from_records(
        counted["item"],
        counted["annotator"],
        counted["label"],
        label_set=label_set,
    )
    index = {item: i for i, item in enumerate(matrix.item_ids or ())}
    if matrix.n_rows and method == "dawid_skene":
        fitted = dawid_skene(matrix)
        winners, confidence = fitted.labels, fitted.posteriors.max(axis=1)
    else:
        voted = majority_vote(matrix)
        winners, confidence = voted.labels, voted.confidence
    agreement = per_item_agreement(matrix)
    reliability: dict[str, float] = {}
    if matrix.n_rows:
        scores = annotator_agreement_with_consensus(matrix, winners)
        reliability = {
            str(name): float(score)
            for name, score in zip(matrix.annotator_ids or (), scores.score, strict=True)
            if not math.isnan(score)
        }
    votes: dict[str, list[tuple[str, str]]] = {}
    for item, annotator, label in counted[["item", "annotator", "label"]].itertuples(index=False):
        votes.setdefault(item, []).append((annotator, label))
    entries: list[ItemConsensus] = []
    for item in items:
        position = index.get(item)
        entry = ItemConsensus(
            item=item, label=None, confidence=None, agreement=None, votes=votes.get(item, [])
        )
        if position is not None:
            entry.label = label_set[int(winners[position])]
            entry.confidence = float(confidence[position])
            share = agreement[position]
            entry.agreement = None if math.isnan(share) else float(share)
        if len(entry.votes) < min_labels:
            entry.reasons.append(f"only {len(entry.votes)} counted label(s)")
        if entry.agreement is not None and entry.agreement < min_agreement:
            entry.reasons.append(f"low agreement {entry.agreement:.2f}")
        if entry.confidence is not None and entry.confidence < min_confidence:
            entry.reasons.append(f"low confidence {entry.confidence:.2f}")
        entries.append(entry)
    statistics: dict[str, Any] = {
        "method": method,
        "items": len(items),
        "labels_counted": len(counted),
        "labels_excluded": int(labels["is_excluded"].sum()),
        "contested": sum(1 for e in entries if e.contested),
    }
    if matrix.n_rows:
        statistics["krippendorff_alpha_nominal"] = _finite(krippendorff_alpha(matrix))
        if ordinal:
            statistics["krippendorff_alpha_ordinal"] = _finite(
                krippendorff_alpha(matrix, level="ordinal")
            )
        statistics["fleiss_kappa"] = _finite(fleiss_kappa(matrix))
        pairs = [k for k in cohen_kappa_pairwise(matrix).values() if not math.isnan(k)]
        statistics["cohen_kappa_mean"] = _finite(float(np.mean(pairs))) if pairs else None
        shares = agreement[~np.isnan(agreement)]
        statistics["mean_item_agreement"] = _finite(float(shares.mean())) if shares.size else None
    return RoundConsensus(items=entries, reliability=reliability, statistics=statistics)


def _finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 6)


def audit_sample(entries: list[ItemConsensus], *, rate: float, seed: str) -> list[str]:
    """Pick a seeded random sample of auto-accepted items for people to check.

    The sample is ``round(rate * n)`` items, and at least one when ``rate > 0`` and any
    item was auto-accepted, so systematic errors can surface even in small rounds.
    """
    accepted = sorted(e.item for e in entries if not e.contested and e.label is not None)
    if rate <= 0 or not accepted:
        return []
    size = min(len(accepted), max(1, math.floor(rate * len(accepted) + 0.5)))
    rng = np.random.default_rng(int(content_hash(seed)[:15], 16))
    picked = rng.choice(len(accepted), size=size, replace=False)
    return sorted(accepted[i] for i in picked)


def guideline_excerpt(instructions: str, limit: int = 600) -> str:
    """The first paragraphs of a guideline's instructions, for a reviewer's form."""
    text = " ".join(instructions.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
