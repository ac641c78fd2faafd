"""From a round's labels to decisions: gold calibration, consensus, and what goes to people.

Everything reads and writes the ledger and is safe to repeat: the calibration verdict of a
round is stored in the round's details the first time and read back afterwards, so a re-run
(a suspended flow restarts from the top) never re-judges annotators whose status has since
changed; exclusions are an idempotent update (labels are marked, never deleted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from govflow.annotation.rounds import get_round
from govflow.hashing import content_hash
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import lock_key
from govflow.ledger.models import (
    Annotation,
    AnnotationRound,
    Assignment,
    GoldItem,
    GuidelineVersion,
    Person,
    PersonStatus,
)
from govflow.ledger.people import set_status

Method = Literal["dawid_skene", "majority"]


@dataclass(frozen=True)
class AnnotatorCalibration:
    """One annotator's gold record in a round and whether their labels count."""

    annotator: str
    gold_scored: int
    gold_correct: int
    accuracy: float | None
    excluded: bool
    reason: str | None


def round_labels(*, session: Session, round_id: str) -> pd.DataFrame:
    """Return every label of the round: item, annotator, label, is_gold, is_excluded."""
    rows = session.execute(
        select(
            Annotation.item_hash,
            Annotation.annotator_id,
            Annotation.label,
            Assignment.is_gold,
            Annotation.is_excluded,
        )
        .join(
            Assignment,
            (Assignment.round_id == Annotation.round_id)
            & (Assignment.item_hash == Annotation.item_hash)
            & (Assignment.annotator_id == Annotation.annotator_id),
            isouter=True,
        )
        .where(Annotation.round_id == round_id)
        .order_by(Annotation.item_hash, Annotation.annotator_id)
    ).all()
    frame = pd.DataFrame(rows, columns=["item", "annotator", "label", "is_gold", "is_excluded"])
    frame["is_gold"] = frame["is_gold"].fillna(False).astype(bool)
    frame["is_excluded"] = frame["is_excluded"].astype(bool)
    return frame


def calibrate_round(
    *,
    session: Session,
    round_id: str,
    threshold: float,
    min_gold: int,
    actor: str,
) -> list[AnnotatorCalibration]:
    """Score annotators on the round's gold items; flag and exclude those below ``threshold``.

    Annotators already marked ``needs_calibration`` when the round is judged are excluded
    too. Excluded labels stay in the ledger with ``is_excluded`` and the reason. The verdict
    is stored in the round and returned unchanged on every later call.
    """
    lock_key(session=session, key=f"calibration:{round_id}")
    found = get_round(session=session, round_id=round_id)
    stored = found.details.get("calibration")
    if stored is not None:
        return [AnnotatorCalibration(**entry) for entry in stored]
    labels = round_labels(session=session, round_id=round_id)
    gold = dict(
        session.execute(
            select(GoldItem.item_hash, GoldItem.label).where(GoldItem.project == found.project)
        ).all()
    )
    statuses = dict(
        session.execute(
            select(Person.id, Person.status).where(
                Person.id.in_([str(a) for a in labels["annotator"].unique()])
            )
        ).all()
    )
    verdicts: list[AnnotatorCalibration] = []
    for annotator, own in labels.groupby("annotator", sort=True):
        expected = own["item"].map(gold)
        scored = own[expected.notna()]
        correct = int((scored["label"] == expected[expected.notna()]).sum())
        accuracy = correct / len(scored) if len(scored) else None
        reason = None
        if PersonStatus(statuses[annotator]) is PersonStatus.NEEDS_CALIBRATION:
            reason = "already needs calibration when the round was judged"
        elif accuracy is not None and len(scored) >= min_gold and accuracy < threshold:
            reason = (
                f"gold accuracy {accuracy:.2f} ({correct}/{len(scored)}) below the "
                f"threshold {threshold:.2f} in round {round_id}"
            )
        verdicts.append(
            AnnotatorCalibration(
                annotator=str(annotator),
                gold_scored=len(scored),
                gold_correct=correct,
                accuracy=accuracy,
                excluded=reason is not None,
                reason=reason,
            )
        )
    for verdict in verdicts:
        if verdict.reason is None:  # excluded exactly when there is a reason
            continue
        if PersonStatus(statuses[verdict.annotator]) is not PersonStatus.NEEDS_CALIBRATION:
            set_status(
                session=session,
                person_id=verdict.annotator,
                status=PersonStatus.NEEDS_CALIBRATION,
                actor=actor,
                reason=verdict.reason,
            )
        result = session.execute(
            update(Annotation)
            .where(
                Annotation.round_id == round_id,
                Annotation.annotator_id == verdict.annotator,
                Annotation.is_excluded.is_(False),
            )
            .values(is_excluded=True, exclusion_reason=f"needs_calibration: {verdict.reason}")
        )
        append_event(
            session=session,
            actor=actor,
            action="annotation.labels_excluded",
            subject=round_id,
            details={
                "annotator": verdict.annotator,
                "labels": int(result.rowcount or 0),
                "reason": verdict.reason,
            },
        )
    found.details = {
        **found.details,
        "calibration": [verdict.__dict__ for verdict in verdicts],
    }
    flag_modified(found, "details")
    session.flush([found])
    return verdicts


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


def guideline_excerpt(guideline: GuidelineVersion, limit: int = 600) -> str:
    """The first paragraphs of a guideline's instructions, for a reviewer's form."""
    text = " ".join(guideline.text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def round_for_update(*, session: Session, round_id: str) -> AnnotationRound:
    """Lock and return a round (its details are updated by collection and consensus)."""
    lock_key(session=session, key=f"round:{round_id}")
    return get_round(session=session, round_id=round_id)
