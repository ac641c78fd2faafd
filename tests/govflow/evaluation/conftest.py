"""A real evaluation of the shipped suite, with a red team and a slice scan, for report tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from govflow.evaluation.redteam import RedTeamResult, collect_findings, generate_probes
from govflow.evaluation.runs import Evaluation, evaluate_suite
from govflow.evaluation.slicescan import SliceScan, scan_slices
from govflow.evaluation.suites import load_evaluation_suite, suite_path

LABELS = ["billing", "bug", "account", "feature_request", "other"]


@dataclass(frozen=True)
class Evaluated:
    evaluation: Evaluation
    redteam: RedTeamResult
    scan: SliceScan


def _answers(truth: list[str], rng: np.random.Generator, accuracy: float) -> pd.DataFrame:
    right = rng.random(len(truth)) < accuracy
    labels = [
        t if r else LABELS[(LABELS.index(t) + 1) % 5] for t, r in zip(truth, right, strict=True)
    ]
    confidence = np.where(right, 0.9, 0.6)
    return pd.DataFrame({"label": labels, "confidence": confidence, "error": None})


@pytest.fixture(scope="session")
def evaluated() -> Evaluated:
    """Candidate m/2 against production m/1: the candidate is weak on 'other' texts."""
    rng = np.random.default_rng(2026)
    suite = load_evaluation_suite(suite_path("support-intent"))
    sizes = {"routine": 300, "edge_cases": 12, "adversarial": 80}
    truth = {name: [LABELS[i] for i in rng.integers(0, 5, n)] for name, n in sizes.items()}
    truth["policy"] = [c.expected_label for c in suite.policy_cases]
    candidate = {name: _answers(t, rng, 0.9) for name, t in truth.items()}
    routine_other = [i for i, t in enumerate(truth["routine"]) if t == "other"]
    candidate["routine"].loc[routine_other[:30], "label"] = "bug"
    production = {name: _answers(t, rng, 0.88) for name, t in truth.items()}
    # Two policy answers are wrong at random; a third makes 13 of 16, below the 0.85 floor.
    policy = candidate["policy"]
    right = [i for i, t in enumerate(truth["policy"]) if policy.loc[i, "label"] == t]
    policy.loc[right[0], "label"] = next(x for x in LABELS if x != truth["policy"][right[0]])
    evaluation = evaluate_suite(
        suite,
        truth=truth,
        candidate=candidate,
        production=production,
        model="support-intent/2",
        production_model="support-intent/1",
        data_versions={"routine": "ds-routine-7", "policy": suite.content_hash[:12]},
    )
    items = pd.DataFrame({"text": [f"Ticket {i}: I was charged twice." for i in range(6)]})
    items["label"] = "billing"
    assert suite.suite.redteam is not None
    probes = generate_probes(items, labels=LABELS, settings=suite.suite.redteam)
    probe_answers = pd.DataFrame({"label": ["billing"] * len(probes), "error": None})
    injected = [i for i, p in enumerate(probes) if p.probe == "prompt_injection"]
    probe_answers.loc[injected[:2], "label"] = "bug"
    redteam = collect_findings(
        probes,
        labels=LABELS,
        original_answers=pd.DataFrame({"label": ["billing"] * len(probes)}),
        probe_answers=probe_answers,
    )
    frame = pd.DataFrame(
        {
            "text": [f"text {'x' * (i % 50)}" for i in range(300)],
            "label": truth["routine"],
            "predicted": candidate["routine"]["label"],
        }
    )
    return Evaluated(evaluation, redteam, scan_slices(frame))
