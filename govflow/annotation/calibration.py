"""Calibration on gold: who labels well enough to count, and who passed a session.

Pure pandas; the ledger (``govflow.ledger.calibration``) stores the verdicts, marks labels
excluded and changes people's status.

- In an annotation round, an annotator whose accuracy on the round's gold items (at least
  ``min_gold`` scored) is below the threshold is excluded, and so is anyone already marked
  ``needs_calibration`` when the round is judged.
- In a calibration session, an annotator passes when their accuracy over every gold item
  given to them (unanswered items count as wrong) reaches the threshold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

import pandas as pd

from govflow.domain import PersonStatus

__all__ = ["AnnotatorCalibration", "CalibrationVerdict", "judge_on_gold", "score_session"]


@dataclass(frozen=True)
class AnnotatorCalibration:
    """One annotator's gold record in a round and whether their labels count."""

    annotator: str
    gold_scored: int
    gold_correct: int
    accuracy: float | None
    excluded: bool
    reason: str | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class CalibrationVerdict:
    """One annotator's result in a calibration session."""

    annotator: str
    assigned: int
    correct: int
    accuracy: float
    passed: bool

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def judge_on_gold(
    labels: pd.DataFrame,
    *,
    gold: Mapping[str, str],
    statuses: Mapping[str, PersonStatus],
    threshold: float,
    min_gold: int,
    round_id: str,
) -> list[AnnotatorCalibration]:
    """Score each annotator of a round's ``labels`` on the gold answers; say who is excluded.

    ``labels`` has the columns item, annotator and label (``round_labels``).
    """
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
    return verdicts


def score_session(
    *,
    assigned: Iterable[tuple[str, str]],
    given: Mapping[tuple[str, str], str],
    gold: Mapping[str, str],
    threshold: float,
) -> list[CalibrationVerdict]:
    """Score a calibration session: (annotator, item) assignments against their labels."""
    totals: dict[str, list[int]] = {}
    for annotator, item in assigned:
        tally = totals.setdefault(annotator, [0, 0])
        tally[0] += 1
        tally[1] += int(given.get((annotator, item)) == gold.get(item))
    verdicts = []
    for annotator, (count, correct) in sorted(totals.items()):
        accuracy = correct / count
        verdicts.append(
            CalibrationVerdict(annotator, count, correct, round(accuracy, 6), accuracy >= threshold)
        )
    return verdicts
