"""Guideline refinement: a specialist's clarification becomes a draft and a re-annotation queue.

A tier 2 reviewer (a domain specialist) attaches a clarification to a contested-annotation
decision by starting the form's note with ``clarify:``. The clarification drafts the next
guideline version (instructions plus a "Clarifications" entry, changelog naming the gate and
item). A lead publishes it through a promotion-approval gate; only then are the round's
other items that were annotated under the old version with the same disputed labels queued
for targeted re-annotation: a ``reannotation`` dataset version of those items and a new
round under the new guideline. Both steps are idempotent (content-addressed draft,
deterministic round id).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from govflow.annotation.rounds import open_round
from govflow.ledger.audit import append_event
from govflow.ledger.datasets import PreparedItems, register_dataset_version
from govflow.ledger.guidelines import (
    GuidelineDocument,
    GuidelineExample,
    GuidelineStatus,
    publish_guideline,
)
from govflow.ledger.models import AnnotationRound, GuidelineVersion
from govflow.review.models import GateResult

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


def draft_clarified_guideline(
    *, session: Session, base: GuidelineVersion, clarifications: list[Clarification], actor: str
) -> GuidelineVersion:
    """Draft the next guideline version carrying the clarifications (idempotent)."""
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
    document = GuidelineDocument(
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
    draft, _ = publish_guideline(
        session=session, document=document, actor=actor, status=GuidelineStatus.DRAFT
    )
    return draft


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


def queue_reannotation(
    *,
    session: Session,
    source_round: AnnotationRound,
    guideline: GuidelineVersion,
    items: list[str],
    dataset: str,
    actor: str,
    flow_run_id: str | None,
) -> AnnotationRound | None:
    """Register the queued items as a ``reannotation`` version and open a round for them."""
    if not items:
        return None
    # The items are stored already (they were annotated): only membership rows are new.
    prepared = PreparedItems(hashes=list(items), payloads=None)
    version = register_dataset_version(
        session=session,
        name=dataset,
        stage="reannotation",
        items=prepared,
        actor=actor,
        parent_ids=[source_round.dataset_version_id],
        flow_run_id=flow_run_id,
        transformations=[
            {
                "step": "reannotation_queue",
                "source_round": source_round.id,
                "guideline_version_id": guideline.id,
                "items": len(items),
            }
        ],
    ).version
    queued, is_new = open_round(
        session=session,
        project=source_round.project,
        dataset_version_id=version.id,
        guideline_version_id=guideline.id,
        overlap=source_round.overlap,
        gold_rate=0.0,
        actor=actor,
        seed=int(source_round.details.get("seed", 0)),
    )
    if is_new:
        append_event(
            session=session,
            actor=actor,
            action="annotation.reannotation_queued",
            subject=queued.id,
            details={
                "source_round": source_round.id,
                "guideline_version_id": guideline.id,
                "guideline_version": guideline.version,
                "items": len(items),
            },
        )
    return queued
