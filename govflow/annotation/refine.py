"""Guideline refinement: a specialist's clarification becomes a draft and a re-annotation queue.

A tier 2 reviewer (a domain specialist) attaches a clarification to a contested-annotation
decision by starting the form's note with ``clarify:``. The clarification drafts the next
guideline version (instructions plus a "Clarifications" entry, changelog naming the gate and
item). A lead publishes it through a promotion-approval gate; only then are the round's
other items that were annotated under the old version with the same disputed labels queued
for targeted re-annotation: a ``reannotation`` dataset version of those items and a new
round under the new guideline. Both steps are idempotent (content-addressed draft,
deterministic round id). This module decides what to draft and what to queue; the ledger
(``govflow.ledger.guidelines``, ``govflow.ledger.rounds``) stores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from govflow.domain.review import GateResult
from govflow.ledger.guidelines import GuidelineDocument, GuidelineExample

if TYPE_CHECKING:
    from govflow.ledger.models import GuidelineVersion

__all__ = [
    "CLARIFY_PREFIX",
    "Clarification",
    "clarifications_from",
    "clarified_document",
    "reannotation_items",
]

CLARIFY_PREFIX = "clarify:"


@dataclass(frozen=True)
class Clarification:
    """A specialist's guideline clarification attached to a decision on one item."""

    gate_id: str
    item_key: str
    item_hash: str
    reviewer: str
    text: str
    chosen: str
    disputed: tuple[str, ...]


def clarifications_from(
    result: GateResult, *, item_hashes: dict[str, str], votes: dict[str, list[str]]
) -> list[Clarification]:
    """Return the tier 2 decisions whose note starts with ``clarify:``, in item order."""
    found = []
    for decision in result.decisions:
        note = (decision.note or "").strip()
        if decision.tier < 2 or decision.reviewer_id is None:
            continue
        if not note.lower().startswith(CLARIFY_PREFIX):
            continue
        text = note[len(CLARIFY_PREFIX) :].strip()
        if not text:
            continue
        item_hash = item_hashes[decision.item_key]
        found.append(
            Clarification(
                gate_id=decision.gate_id,
                item_key=decision.item_key,
                item_hash=item_hash,
                reviewer=decision.reviewer_id,
                text=text,
                chosen=decision.choice,
                disputed=tuple(sorted(set(votes.get(item_hash, [])))),
            )
        )
    return found


def clarified_document(
    base: GuidelineVersion, clarifications: list[Clarification]
) -> GuidelineDocument:
    """The next guideline version's document: ``base`` plus the clarifications."""
    entries = "\n".join(
        f"- {c.text} (labels in dispute: {', '.join(c.disputed) or 'none'}; "
        f"decided `{c.chosen}` by {c.reviewer} on item {c.item_key})"
        for c in clarifications
    )
    heading = "### Clarifications"
    instructions = (
        f"{base.text.rstrip()}\n{entries}"
        if heading in base.text
        else f"{base.text.rstrip()}\n\n{heading}\n\n{entries}"
    )
    first = clarifications[0]
    return GuidelineDocument(
        project=base.project,
        label_set=[str(label) for label in base.label_set],
        ordinal=base.is_ordinal,
        instructions=instructions,
        examples=[GuidelineExample(**example) for example in base.examples],
        changelog=(
            f"Clarification from {first.reviewer} on item {first.item_key} "
            f"(gate {first.gate_id}): {first.text}"
            + (f" (+{len(clarifications) - 1} more)" if len(clarifications) > 1 else "")
        ),
        prompted_by=f"{first.gate_id}:{first.item_key}",
    )


def reannotation_items(labels: pd.DataFrame, clarifications: list[Clarification]) -> list[str]:
    """Items labelled under the old version whose votes split over the same disputed labels.

    ``labels`` holds the round's labels (``round_labels``); an item qualifies when at least
    two of a clarification's disputed labels appear among its counted votes (excluded
    labels do not make a dispute). The items the specialist decided are not queued again.
    """
    decided = {c.item_hash for c in clarifications}
    own = labels[~labels["is_excluded"]]
    by_item = own.groupby("item")["label"].agg(lambda s: set(s))
    queued: set[str] = set()
    for clarification in clarifications:
        disputed = set(clarification.disputed)
        if len(disputed) < 2:
            continue
        hits = by_item[by_item.map(lambda seen, d=disputed: len(seen & d) >= 2)]
        queued.update(hits.index)
    return sorted(queued - decided)
