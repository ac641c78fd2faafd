"""The evaluation report: exact Markdown lines and table rows from a real evaluation."""

from __future__ import annotations

import math

import pandas as pd

from govflow.evaluation.report import evaluation_markdown, evaluation_table_rows
from govflow.evaluation.runs import evaluate_suite
from govflow.evaluation.suites import load_evaluation_suite, suite_path
from tests.govflow.evaluation.conftest import Evaluated


def test_report_opens_with_the_overall_verdict_and_what_was_evaluated(evaluated: Evaluated):
    lines = evaluation_markdown(evaluated.evaluation).splitlines()

    assert lines[0] == "# Evaluation of support-intent/2 on support-intent"
    assert lines[2] == (
        "**Overall: FAILED**. Failed: routine, adversarial, policy. Too few examples (fails "
        "closed unless a person waives it at the gate): edge_cases."
    )
    suite_hash = evaluated.evaluation.suite_hash
    assert lines[4:11] == [
        "| | |",
        "| --- | --- |",
        f"| Suite version | `{suite_hash[:16]}` |",
        "| Candidate | support-intent/2 |",
        "| Production | support-intent/1 |",
        f"| Data read | policy: `{suite_hash[:12]}`, routine: `ds-routine-7` |",
        "| Intervals | 95% percentile bootstrap, 1,000 resamples, paired against production |",
    ]


def test_report_lists_every_slice_with_its_verdict_and_reasons(evaluated: Evaluated):
    text = evaluation_markdown(evaluated.evaluation)

    for row in [
        "| routine | routine | 300 | 0 | FAILED |",
        "| edge_cases | edge_cases | 12 | 0 | INSUFFICIENT EVIDENCE |",
        "| adversarial | adversarial | 80 | 0 | FAILED |",
        "| policy | policy | 16 | 0 | FAILED |",
        "### routine (routine): FAILED",
        "- recall[other] 0.415 below floor 0.5",
        "- 12 examples, fewer than min_samples 20: insufficient evidence (fails closed unless "
        "a person waives it at the gate)",
        "- accuracy 0.812 below floor 0.85",
    ]:
        assert row in text.splitlines(), row


def test_report_shows_each_metric_with_intervals_difference_and_checks(evaluated: Evaluated):
    routine = evaluated.evaluation.slice("routine")
    accuracy = routine.metrics.get("accuracy")
    c, p, d = accuracy.candidate, accuracy.production, accuracy.difference
    assert p is not None and d is not None

    lines = evaluation_markdown(evaluated.evaluation).splitlines()

    assert (
        f"| accuracy | {c.value:.3f} [{c.low:.3f}, {c.high:.3f}] | "
        f"{p.value:.3f} [{p.low:.3f}, {p.high:.3f}] | "
        f"{d.value:+.3f} [{d.low:+.3f}, {d.high:+.3f}] | floor 0.8: met; max_drop 0.02: MISSED |"
    ) in lines
    assert any(
        line.startswith("| ece |") and line.endswith("| ceiling 0.15: met; max_drop 0.03: met |")
        for line in lines
    )
    # The edge_cases slice computes macro_f1 without a threshold on it.
    assert any(line.startswith("| macro_f1 |") and line.endswith("| none |") for line in lines)


def test_report_has_red_team_hit_rates_and_examples(evaluated: Evaluated):
    lines = evaluation_markdown(evaluated.evaluation, redteam=evaluated.redteam).splitlines()

    start = lines.index("## Red team")
    assert lines[start + 2 : start + 9] == [
        "| Probe | Probes | Failures | Unassessed | Hit rate |",
        "| --- | ---: | ---: | ---: | ---: |",
        "| typos | 6 | 0 | 0 | 0.0% |",
        "| casing_whitespace | 6 | 0 | 0 | 0.0% |",
        "| distractor | 6 | 0 | 0 | 0.0% |",
        "| prompt_injection | 6 | 2 | 0 | 33.3% |",
        "| pii_bait | 6 | 0 | 0 | 0.0% |",
    ]
    assert lines[start + 10] == "Examples from prompt_injection (2 findings):"
    first = evaluated.redteam.findings[0]
    assert lines[start + 12] == (f"- `{first.item.text}`: answer changed from 'billing' to 'bug'")


def test_report_has_the_slice_scan_with_every_tested_slice(evaluated: Evaluated):
    text = evaluation_markdown(evaluated.evaluation, scan=evaluated.scan)
    lines = text.splitlines()

    assert "## Slice scan (routine)" in lines
    assert (
        "Overall accuracy 0.830 on 300 scored rows (0 adapter errors left out). "
        "Flagged: label=other."
    ) in lines
    other = next(s for s in evaluated.scan.tested if s.name == "label=other")
    assert (
        f"| label=other | 53 | 0.415 | +50.0% | {other.p_value:.3g} | {other.adjusted_p:.3g} "
        "| major |"
    ) in lines
    rows = [line for line in lines if line.startswith("| label=") or line.startswith("| length")]
    assert len(rows) == len(evaluated.scan.tested) == 9


def test_table_rows_cover_every_shown_metric_of_every_slice(evaluated: Evaluated):
    rows = evaluation_table_rows(evaluated.evaluation)

    assert [(r["slice"], r["metric"]) for r in rows][:3] == [
        ("routine", "accuracy"),
        ("routine", "macro_f1"),
        ("routine", "recall[billing]"),
    ]
    assert len(rows) == 9 + 3 + 2 + 2
    first = rows[0]
    accuracy = evaluated.evaluation.slice("routine").metrics.get("accuracy")
    assert first["candidate"] == accuracy.candidate.value
    assert first["difference_low"] == accuracy.difference.low
    assert first["checks"] == (
        "accuracy 0.83 meets floor 0.8; accuracy difference lower bound -0.08 below -0.02"
    )
    assert first["verdict"] == "failed"


def test_report_without_production_says_non_inferiority_does_not_apply():
    suite = load_evaluation_suite(suite_path("support-intent"))
    names = [s.name for s in suite.suite.slices]
    truth = {name: ["billing", "bug"] * 30 for name in names}
    answers = pd.DataFrame({"label": ["billing", "bug"] * 30})

    evaluation = evaluate_suite(
        suite, truth=truth, candidate={n: answers for n in names}, model="m/1"
    )
    text = evaluation_markdown(evaluation)
    rows = evaluation_table_rows(evaluation)

    assert "| Production | none: non-inferiority checks do not apply |" in text.splitlines()
    assert "| Intervals | 95% percentile bootstrap, 1,000 resamples |" in text.splitlines()
    assert (
        "| accuracy | 1.000 [1.000, 1.000] | n/a | n/a | floor 0.8: met; max_drop 0.02: n/a |"
        in text.splitlines()
    )
    assert rows[0]["production"] is None and rows[0]["difference"] is None
    ece = next(r for r in rows if r["metric"] == "ece")
    assert ece["candidate"] is None  # no confidences given: not measurable, not NaN
    assert not any(isinstance(v, float) and math.isnan(v) for r in rows for v in r.values())
