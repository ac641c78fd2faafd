"""Audit samples, label-audit gates and the label error rate with its Wilson interval."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import binomtest

from govflow.domain.review import GateResult, ItemDecision, Outcome, ReviewKind
from govflow.errors import InputError
from govflow.monitoring.audit import audit_request, audit_sample, label_error_rate

LABELS = pd.Series(["bug"] * 6 + ["billing"] * 3 + [None] * 2 + ["other"])


def test_audit_sample_is_stratified_seeded_and_skips_unlabeled_rows():
    first = audit_sample(LABELS, per_label=2, seed=7)
    assert first == audit_sample(LABELS, per_label=2, seed=7)
    assert sorted(LABELS.iloc[first].tolist()) == ["billing", "billing", "bug", "bug", "other"]
    assert not {9, 10} & set(first)
    with pytest.raises(InputError) as none:
        audit_sample(pd.Series([None, None]), per_label=1, seed=0)
    assert str(none.value) == "the version has no labeled rows to audit"


def _gate(choices: dict[str, tuple[str, Outcome]]) -> GateResult:
    return GateResult(
        gate_id="rt-1",
        kind=ReviewKind.LABEL_AUDIT,
        decisions=[
            ItemDecision(
                item_key=key,
                choice=choice,
                outcome=outcome,
                reviewer_id="sam" if outcome is Outcome.DECIDED else None,
                tier=2,
                payload_hash="0" * 64,
                gate_id="rt-1",
            )
            for key, (choice, outcome) in choices.items()
        ],
    )


def test_the_error_rate_counts_judged_items_only_with_a_wilson_interval():
    gate = _gate(
        {
            "row-0": ("bug", Outcome.DECIDED),
            "row-1": ("billing", Outcome.DECIDED),  # recorded bug: wrong
            "row-2": ("unjudged", Outcome.DECIDED),
            "row-3": ("unjudged", Outcome.TIMED_OUT),
            "row-4": ("other", Outcome.DECIDED),
        }
    )
    recorded = {"row-0": "bug", "row-1": "bug", "row-2": "bug", "row-3": "bug", "row-4": "other"}
    finding = label_error_rate(gate, recorded, tolerance=0.05)
    interval = binomtest(1, 3).proportion_ci(0.95, method="wilson")

    assert (finding.n_sampled, finding.n_judged, finding.n_wrong) == (5, 3, 1)
    assert finding.error_rate == pytest.approx(1 / 3)
    assert (finding.ci_low, finding.ci_high) == (interval.low, interval.high)
    assert finding.is_above_tolerance
    assert finding.wrong == [{"item": "row-1", "recorded": "bug", "specialist": "billing"}]
    nobody = label_error_rate(
        _gate({"row-3": ("unjudged", Outcome.TIMED_OUT)}), recorded, tolerance=0.05
    )
    assert (nobody.error_rate, nobody.is_above_tolerance) == (None, False)


def test_the_audit_gate_asks_specialists_with_the_recorded_label_shown():
    frame = pd.DataFrame({"text": ["a", "b"], "label": ["bug", "billing"]})
    request = audit_request(
        frame,
        [1],
        version_id="dv-1",
        label_set=["bug", "billing"],
        text_column="text",
        label_column="label",
        specialists=["sam"],
        deadline_hours=4,
    )
    assert (request.kind, request.tier, request.assignees) == (ReviewKind.LABEL_AUDIT, 2, ["sam"])
    assert request.choices == ("bug", "billing", "unjudged")
    (item,) = request.items
    assert (item.key, item.suggestion, item.payload) == (
        "row-1",
        "billing",
        {"text": "b", "recorded_label": "billing"},
    )


def test_audit_cases_are_the_mislabeled_items_with_the_specialists_labels():
    from govflow.monitoring.intervention import audit_cases

    frame = pd.DataFrame({"text": ["a", "b", " "], "label": ["bug", "bug", "bug"]})
    wrong = [
        {"item": "row-1", "recorded": "bug", "specialist": "billing"},
        {"item": "row-2", "recorded": "bug", "specialist": "billing"},  # blank text: skipped
    ]
    cases = audit_cases(
        frame, wrong, text_column="text", label_set=["bug", "billing"], origin="audit:dv-1"
    )
    assert [(c.text, c.label, c.origin) for c in cases] == [("b", "billing", "audit:dv-1")]
