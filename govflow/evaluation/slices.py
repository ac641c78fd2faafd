"""Build an evaluation's slices from a labeled dataset version and a suite version.

- ``routine``: the held-out test split (accepted labels only);
- ``edge_cases``: test-split items a specialist adjudicated at tier 2, plus the suite's
  edge cases (accepted red-team findings);
- ``policy``: the suite's policy cases;
- ``adversarial``: red-team probes generated from the routine items.

Pure: takes the version's rows as a frame and returns, per slice, the texts and true labels
(and, for the adversarial slice, the probes behind them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from govflow.domain import LabelSource, LabelStatus
from govflow.errors import InputError
from govflow.evaluation.redteam import ProbeItem, generate_probes
from govflow.evaluation.suites import SliceKind, SuiteVersion

__all__ = ["EvaluationData", "build_slices"]


@dataclass(frozen=True)
class EvaluationData:
    """Per slice: the texts to predict and their true labels, in the same order."""

    texts: dict[str, list[str]]
    truth: dict[str, list[str]]
    routine: pd.DataFrame  # the routine rows (text, label, item_hash, source, origin)
    probes: list[ProbeItem] = field(default_factory=list)


def build_slices(
    frame: pd.DataFrame, version: SuiteVersion, *, text_column: str = "text"
) -> EvaluationData:
    """Split a labeled version's rows into the suite's slices (see the module docstring)."""
    needed = [text_column, "label", "label_status", "split"]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputError(
            f"the evaluation data is not a labeled version: it has no {', '.join(missing)}"
        )
    suite = version.suite
    accepted = frame[frame["label_status"] == LabelStatus.ACCEPTED.value]
    test = accepted[accepted["split"] == "test"]
    outside = sorted(set(test["label"]) - set(suite.labels))
    if outside:
        raise InputError(
            f"labels {', '.join(map(repr, outside))} of the evaluation data are not in the "
            f"labels of suite {suite.project}"
        )
    routine = pd.DataFrame(
        {
            "text": test[text_column].astype(str).tolist(),
            "label": test["label"].astype(str).tolist(),
            "item_hash": (
                test["source_item"].astype(str).tolist()
                if "source_item" in test.columns
                else [None] * len(test)
            ),
            "source": (
                test["channel"].astype(str).tolist()
                if "channel" in test.columns
                else ["unknown"] * len(test)
            ),
            "origin": (
                test["origin"].astype(str).tolist() if "origin" in test.columns else "organic"
            ),
        }
    )
    if routine["item_hash"].isna().any():
        routine = routine.drop(columns=["item_hash"])
    adjudicated = test[test.get("label_source") == LabelSource.TIER2.value]
    texts: dict[str, list[str]] = {}
    truth: dict[str, list[str]] = {}
    probes: list[ProbeItem] = []
    for spec in suite.slices:
        if spec.kind is SliceKind.ROUTINE:
            texts[spec.name] = routine["text"].tolist()
            truth[spec.name] = routine["label"].tolist()
        elif spec.kind is SliceKind.EDGE_CASES:
            texts[spec.name] = adjudicated[text_column].astype(str).tolist() + [
                case.text for case in version.edge_cases
            ]
            truth[spec.name] = adjudicated["label"].astype(str).tolist() + [
                case.label for case in version.edge_cases
            ]
        elif spec.kind is SliceKind.POLICY:
            texts[spec.name] = [case.text for case in version.policy_cases]
            truth[spec.name] = [case.expected_label for case in version.policy_cases]
        else:
            assert suite.redteam is not None  # the suite checks this on load
            probes = generate_probes(routine, labels=suite.labels, settings=suite.redteam)
            texts[spec.name] = [probe.text for probe in probes]
            truth[spec.name] = [probe.label for probe in probes]
    return EvaluationData(texts=texts, truth=truth, routine=routine, probes=probes)
