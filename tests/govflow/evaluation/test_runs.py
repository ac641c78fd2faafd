"""Evaluating a suite: every slice measured and judged; unreadable answers count as errors."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pytest

from govflow.errors import InputError
from govflow.evaluation.metrics import compute_slice_metrics
from govflow.evaluation.runs import encode_answers, evaluate_suite
from govflow.evaluation.suites import SuiteVersion, load_evaluation_suite, suite_path
from govflow.evaluation.thresholds import VerdictStatus

LABELS = ["billing", "bug", "account", "feature_request", "other"]


@pytest.fixture(scope="module")
def suite() -> SuiteVersion:
    return load_evaluation_suite(suite_path("support-intent"))


def true_labels(seed: int, n: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [LABELS[i] for i in rng.integers(0, len(LABELS), n)]


def answers(truth: list[str], accuracy: float, seed: int, confidence: float = 0.85):
    """A model's answers: right with probability ``accuracy``, else another label."""
    rng = np.random.default_rng(seed)
    labels = [
        t if rng.random() < accuracy else LABELS[(LABELS.index(t) + 1) % len(LABELS)] for t in truth
    ]
    return pd.DataFrame({"label": labels, "confidence": confidence, "error": None})


def slice_data(seed: int, sizes: dict[str, int]) -> dict[str, list[str]]:
    return {name: true_labels(seed + i, n) for i, (name, n) in enumerate(sizes.items())}


SIZES = {"routine": 400, "edge_cases": 60, "adversarial": 120, "policy": 16}


def test_every_slice_is_measured_and_judged_against_production(suite: SuiteVersion):
    truth = slice_data(1, SIZES)
    # The policy slice's floor is 0.85 on 16 cases: the candidate answers those perfectly.
    candidate = {n: answers(t, 1.0 if n == "policy" else 0.9, 10) for n, t in truth.items()}
    production = {n: answers(t, 1.0 if n == "policy" else 0.9, 10) for n, t in truth.items()}

    evaluation = evaluate_suite(
        suite,
        truth=truth,
        candidate=candidate,
        production=production,
        model="support-intent/7",
        production_model="support-intent/6",
        data_versions={"routine": "ds-1"},
    )

    assert evaluation.suite_hash == suite.content_hash
    assert [s.spec.name for s in evaluation.slices] == list(SIZES)
    assert [s.metrics.n for s in evaluation.slices] == list(SIZES.values())
    routine = evaluation.slice("routine")
    # Identical answers: every paired difference is exactly 0, so non-inferiority holds.
    assert routine.metrics.get("accuracy").difference.low == 0.0
    assert [s.verdict.status for s in evaluation.slices] == [VerdictStatus.PASSED] * 4
    assert evaluation.status == VerdictStatus.PASSED
    assert [c.message for c in evaluation.slice("policy").verdict.checks] == [
        "accuracy 1 meets floor 0.85",
        "error_rate 0 within max_error_rate 0.02",
    ]
    assert evaluation.data_versions == {"routine": "ds-1"}


def test_a_worse_candidate_fails_routine_non_inferiority(suite: SuiteVersion):
    truth = slice_data(2, SIZES)
    candidate = {name: answers(t, 0.8, 11) for name, t in truth.items()}
    production = {name: answers(t, 0.95, 12) for name, t in truth.items()}

    evaluation = evaluate_suite(
        suite,
        truth=truth,
        candidate=candidate,
        production=production,
        model="m/2",
        production_model="m/1",
    )

    routine = evaluation.slice("routine").verdict
    assert routine.status == VerdictStatus.FAILED
    assert any(r.startswith("accuracy difference lower bound -0.") for r in routine.reasons)
    assert evaluation.status == VerdictStatus.FAILED


def test_without_production_too_few_examples_leaves_the_evaluation_insufficient(
    suite: SuiteVersion,
):
    sizes = {"routine": 400, "edge_cases": 0, "adversarial": 120, "policy": 16}
    truth = slice_data(3, sizes)
    candidate = {name: answers(t, 1.0, 13) for name, t in truth.items()}

    evaluation = evaluate_suite(suite, truth=truth, candidate=candidate, model="m/1")

    edge = evaluation.slice("edge_cases").verdict
    assert edge.status == VerdictStatus.INSUFFICIENT_EVIDENCE
    assert edge.reasons[0].startswith("0 examples, fewer than min_samples 20")
    assert evaluation.slice("routine").verdict.status == VerdictStatus.PASSED
    assert evaluation.status == VerdictStatus.INSUFFICIENT_EVIDENCE
    assert evaluation.production_model is None
    messages = [c.message for c in evaluation.slice("routine").verdict.checks]
    assert "accuracy non-inferiority not applicable: no production model to compare" in messages


def test_each_slice_bootstraps_with_its_own_seed(suite: SuiteVersion):
    truth = slice_data(4, SIZES)
    candidate = {name: answers(t, 0.85, 14) for name, t in truth.items()}

    evaluation = evaluate_suite(suite, truth=truth, candidate=candidate, model="m/1")

    codes = np.array([LABELS.index(t) for t in truth["routine"]])
    predictions, _ = encode_answers(candidate["routine"], LABELS, rows=400, where="x")
    direct = compute_slice_metrics(
        codes,
        predictions,
        labels=LABELS,
        seed=[20261201, zlib.crc32(b"routine")],
    )
    assert evaluation.slice("routine").metrics == direct


def test_answers_outside_the_label_set_count_as_adapter_errors():
    frame = pd.DataFrame(
        {
            "label": ["billing", "refund", None, "bug", None],
            "confidence": [0.9, 0.8, np.nan, 0.7, np.nan],
            "error": [None, None, None, "", "timeout after 30 s"],
        }
    )

    predictions, unreadable = encode_answers(frame, LABELS, rows=5, where="slice routine")

    assert unreadable == 2  # "refund" and a missing answer without an error message
    assert predictions.error.tolist() == [False, True, True, False, True]
    assert predictions.labels[~predictions.error].tolist() == [0, 1]


def test_unreadable_answers_raise_the_error_rate_not_the_wrong_labels(suite: SuiteVersion):
    truth = {name: ["billing"] * 40 for name in SIZES}
    candidate = {name: pd.DataFrame({"label": ["billing"] * 39 + ["refund"]}) for name in SIZES}

    evaluation = evaluate_suite(suite, truth=truth, candidate=candidate, model="m/1")

    routine = evaluation.slice("routine")
    assert routine.unreadable_answers == 1
    assert routine.metrics.get("accuracy").candidate.value == 1.0
    assert routine.metrics.get("error_rate").candidate.value == 1 / 40
    assert "error_rate 0.025 above max_error_rate 0.02" in routine.verdict.reasons


def test_a_true_label_outside_the_label_set_is_an_input_error(suite: SuiteVersion):
    truth = {name: ["billing", "refund"] for name in SIZES}
    candidate = {name: pd.DataFrame({"label": ["billing", "billing"]}) for name in SIZES}

    with pytest.raises(InputError) as caught:
        evaluate_suite(suite, truth=truth, candidate=candidate, model="m/1")

    assert str(caught.value) == (
        "slice routine: true label 'refund' (row 1) is not one of the suite's labels "
        "(billing, bug, account, feature_request, other)"
    )


@pytest.mark.parametrize(
    ("truth", "candidate", "production", "message"),
    [
        (
            ["routine", "policy"],
            list(SIZES),
            None,
            "true labels: missing for edge_cases, adversarial",
        ),
        (
            list(SIZES),
            [*SIZES, "extra"],
            None,
            "candidate answers: given for slices the suite does not have: extra",
        ),
        (
            list(SIZES),
            list(SIZES),
            ["routine"],
            "production answers: missing for edge_cases, adversarial, policy",
        ),
    ],
)
def test_slices_must_match_the_suite(suite, truth, candidate, production, message):
    frame = pd.DataFrame({"label": ["bug"]})

    with pytest.raises(InputError) as caught:
        evaluate_suite(
            suite,
            truth={name: ["bug"] for name in truth},
            candidate={name: frame for name in candidate},
            production=None if production is None else {name: frame for name in production},
            model="m/2",
            production_model="m/1",
        )

    assert str(caught.value) == message


def test_answers_of_the_wrong_length_or_without_labels_are_input_errors():
    with pytest.raises(InputError, match=r"^slice x: 2 answers for 3 examples$"):
        encode_answers(pd.DataFrame({"label": ["a", "b"]}), LABELS, rows=3, where="slice x")
    with pytest.raises(InputError, match=r"^slice x: answers need a 'label' column"):
        encode_answers(pd.DataFrame({"answer": ["a"]}), LABELS, rows=1, where="slice x")
