"""govflow's vocabulary: the enums every layer shares, and who may answer which review tier.

This package imports nothing heavy, so the ledger, the review gates, the flows and the fast
CLI commands can all use it. ``govflow.domain.review`` holds the review question and answer
models.

Statuses are stored in the ledger as their string values (see ``govflow.ledger.models``);
code compares members, never literals.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

__all__ = [
    "MAX_TIER",
    "TIER_ROLES",
    "AlertKind",
    "CertificateKind",
    "DeadlinePolicy",
    "EvaluationSource",
    "EvaluationStatus",
    "FindingStatus",
    "GateStatus",
    "GuidelineStatus",
    "InterventionStatus",
    "LabelSource",
    "LabelStatus",
    "Origin",
    "OutputVerdict",
    "PersonStatus",
    "Relation",
    "Role",
    "RoundKind",
    "RoundStatus",
    "SignOffDecision",
    "SourceKind",
    "Stage",
    "SyntheticStatus",
    "may_answer_tier",
    "tier_audience",
]


class Origin(enum.StrEnum):
    """Where an item's content came from."""

    ORGANIC = "organic"
    SYNTHETIC = "synthetic"


class Role(enum.StrEnum):
    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"
    SPECIALIST = "specialist"
    LEAD = "lead"


class PersonStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    NEEDS_CALIBRATION = "needs_calibration"


class Stage(enum.StrEnum):
    """The lifecycle step a dataset version belongs to (``DatasetVersion.stage``)."""

    RAW = "raw"  # every row that parsed and matched the declared schema
    VALIDATED = "validated"  # the raw rows that passed the raw checkpoint
    PREPROCESSED = "preprocessed"  # normalized, redacted, exact duplicates removed
    CURATED = "curated"  # the preprocessed rows that passed their checkpoint
    ANNOTATED = "annotated"  # every item of a round with its label and status
    LABELED = "labeled"  # the annotated rows that passed the labeled checkpoint
    REANNOTATION = "reannotation"  # items queued for another round under a new guideline
    CALIBRATION = "calibration"  # a project's gold items, labelled in calibration sessions
    PRODUCTION = "production"  # a batch of a model's production outputs that passed its checks
    FEEDBACK = "feedback"  # production outputs people approved or corrected, as labeled rows
    GENERATED = "generated"  # every row a generator made for one synthetic batch
    SYNTHETIC = "synthetic"  # the generated rows that passed the synthetic checkpoint
    MIXED = "mixed"  # organic labeled rows plus accepted synthetic rows, under caps


class SyntheticStatus(enum.StrEnum):
    """Where a synthetic batch stands."""

    SPOT_CHECK = "spot_check"  # screened; waiting for people's spot-check
    ACCEPTED = "accepted"  # the spot-check found no defect: its rows may be mixed
    QUARANTINED = "quarantined"  # a defect (or no answer): kept out as a whole, with the reason


class SourceKind(enum.StrEnum):
    FILE = "file"
    HTTP = "http"
    SQL = "sql"


class Relation(enum.StrEnum):
    """How a dataset version relates to a parent version."""

    DERIVED_FROM = "derived_from"


class GateStatus(enum.StrEnum):
    """Where a review gate (``ReviewTask``) stands."""

    OPEN = "open"  # waiting for people
    DECIDED = "decided"  # a person's submission was accepted
    TIMED_OUT = "timed_out"  # nobody answered by the deadline: the kind's policy applied


class GuidelineStatus(enum.StrEnum):
    """Whether a guideline version is in force (published) or awaiting approval (draft)."""

    PUBLISHED = "published"
    DRAFT = "draft"


class RoundKind(enum.StrEnum):
    ANNOTATION = "annotation"  # items of a dataset version, gold mixed in
    CALIBRATION = "calibration"  # gold items only, for annotators who need calibration


class RoundStatus(enum.StrEnum):
    """Where an annotation round stands."""

    OPEN = "open"  # assigned; nobody is waiting for it yet
    COLLECTING = "collecting"  # a flow run waits for the missing labels
    COLLECTED = "collected"  # complete, or its deadline policy ended collection


class DeadlinePolicy(enum.StrEnum):
    """What a round does at its deadline with labels still missing."""

    PROCEED = "proceed"  # go on with what arrived
    REASSIGN = "reassign"  # give missing items to other annotators once, then proceed


class LabelStatus(enum.StrEnum):
    """An item's label after people have had their say."""

    ACCEPTED = "accepted"
    EXCLUDED_BY_REVIEW = "excluded_by_review"
    EXCLUDED_AT_DEADLINE = "excluded_at_deadline"
    HELD_FOR_REANNOTATION = "held_for_reannotation"
    NO_CONSENSUS = "no_consensus"


class LabelSource(enum.StrEnum):
    """Who settled an item's label."""

    CONSENSUS = "consensus"  # the annotators' aggregate, nobody asked
    TIER1 = "tier1"  # a reviewer at a tier 1 gate
    TIER2 = "tier2"  # a specialist or lead at a tier 2 gate
    DEADLINE = "deadline"  # nobody answered: the gate's deadline policy

    @classmethod
    def for_tier(cls, tier: int) -> LabelSource:
        return cls(f"tier{tier}")


class EvaluationStatus(enum.StrEnum):
    """An evaluation's overall verdict (``govflow.evaluation.thresholds.VerdictStatus``)."""

    PASSED = "passed"
    FAILED = "failed"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"


class EvaluationSource(enum.StrEnum):
    """Who computed an evaluation run's results."""

    GOVFLOW = "govflow"
    INSPECT_AI = "inspect_ai"


class FindingStatus(enum.StrEnum):
    """What specialists decided about a red-team finding."""

    OPEN = "open"
    REAL_WEAKNESS = "real_weakness"  # added to the suite's edge cases
    INVALID_PROBE = "invalid_probe"  # the probe, not the model, was wrong


class AlertKind(enum.StrEnum):
    """What made the monitor (or an audit) raise an alert."""

    DRIFT = "drift"  # the batch counts as drifted (at least the drift share of columns)
    EXPECTED_ACCURACY = "expected_accuracy"  # calibrated confidences predict too low accuracy
    REALIZED_ACCURACY = "realized_accuracy"  # reviewers' or late labels show too low accuracy
    REDTEAM_WEAKNESS = "redteam_weakness"  # a red-team weakness seen in production
    LABEL_ERRORS = "label_errors"  # an audit found a label error rate above tolerance


class InterventionStatus(enum.StrEnum):
    OPEN = "open"  # something is left to do (see ``govflow.ledger.monitoring.what_is_left``)
    CLOSED = "closed"  # re-annotated, benchmark recalibrated, re-evaluation signed


class OutputVerdict(enum.StrEnum):
    """What became of one production output sent to people."""

    APPROVED = "approved"  # the model's label stands
    CORRECTED = "corrected"  # a reviewer gave the right label
    WITHHELD = "withheld"  # not to be used; also what nobody answering means
    ESCALATED = "escalated"  # sent to the next tier


class SignOffDecision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class CertificateKind(enum.StrEnum):
    PROMOTION = "promotion"  # a quorum signed an evaluation of the candidate
    ROLLBACK = "rollback"  # a lead approved going back to the previous version


MAX_TIER = 2
# Who may answer a gate at each review tier: the one place this rule lives.
TIER_ROLES: dict[int, frozenset[Role]] = {
    1: frozenset({Role.REVIEWER, Role.SPECIALIST, Role.LEAD}),
    2: frozenset({Role.SPECIALIST, Role.LEAD}),
}
_AUDIENCE = {1: "reviewers, specialists and leads", 2: "specialists and leads"}


def may_answer_tier(roles: Iterable[str], tier: int) -> bool:
    """Tell whether someone holding ``roles`` may answer a gate at review ``tier``.

    Roles only: whether the person is active is a separate check.
    """
    allowed = TIER_ROLES.get(tier)
    if allowed is None:
        raise ValueError(f"unknown review tier {tier!r}: review tiers are 1 and {MAX_TIER}")
    return any(role in allowed for role in roles)


def tier_audience(tier: int) -> str:
    """Say in words who may answer at ``tier`` (``"specialists and leads"``)."""
    return _AUDIENCE[tier]
