"""Evaluation report: govflow's vectorized bootstrap against a plain scikit-learn loop.

One seeded simulation of 100,000 predictions over 4 slices (routine, edge cases, adversarial,
policy) and 5 classes, with per-slice accuracies, confusions between neighbouring classes,
over-confident confidences, unreadable answers and adapter errors, and a production model
that agrees with the candidate on most rows. Then, in the same run:

- govflow: ``evaluate_suite`` (every metric of every slice with its 95% interval from 1,000
  seeded resamples, the paired bootstrap of candidate minus production, the verdicts) and
  the Markdown report and table rows; best of ``--repeat`` calls.
- the reference: for each slice and each of the same resamples (``bootstrap_indices`` with
  the slice's seed), ``sklearn.metrics`` called once per metric and model
  (``accuracy_score``, ``f1_score(average="macro")``, ``recall_score(average=None)``), ECE
  and error rate in numpy, then the same percentiles; one run.

Every interval (candidate, production, difference) and point value must agree within 1e-9.
Targets: reference/govflow >= 10x, report under 5 s.

Usage: .venv/bin/python benchmarks/evaluate.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.metrics import accuracy_score, f1_score, recall_score

from govflow.evaluation.metrics import bootstrap_indices, calibration_bin
from govflow.evaluation.report import evaluation_markdown, evaluation_table_rows
from govflow.evaluation.runs import Evaluation, encode_answers, encode_truth, evaluate_suite
from govflow.evaluation.suites import EvaluationSuite, SuiteVersion

LABELS = ["billing", "bug", "account", "feature_request", "other"]
K = len(LABELS)
SLICES = {"routine": 55_000, "edge_cases": 15_000, "adversarial": 20_000, "policy": 10_000}
ACCURACY = {"routine": 0.9, "edge_cases": 0.7, "adversarial": 0.8, "policy": 0.85}
RESAMPLES = 1000
BINS = 15
SEED = 20261201
TOLERANCE = 1e-9
ALL_METRICS = ["accuracy", "macro_f1", "per_class_recall", "ece", "error_rate"]


def suite() -> SuiteVersion:
    """A suite with every metric on every slice, floors and non-inferiority margins."""
    thresholds = {
        "accuracy": {"floor": 0.6, "max_drop": 0.02},
        "macro_f1": {"floor": 0.6, "max_drop": 0.03},
        "per_class_recall": {"floor": 0.5},
        "ece": {"ceiling": 0.2, "max_drop": 0.03},
        "error_rate": {"ceiling": 0.05},
    }
    document = {
        "project": "benchmark",
        "labels": LABELS,
        "max_error_rate": 0.05,
        "calibration_bins": BINS,
        "bootstrap": {"resamples": RESAMPLES, "level": 0.95, "seed": SEED},
        # Named for the policy slice's kind; never read, as the suite is built in memory.
        "policy_file": "benchmark.policy.jsonl",
        "redteam": {"seed": 1, "probes": ["typos"]},
        "slices": [
            {
                "name": name,
                "kind": name,
                "min_samples": 100,
                "metrics": ALL_METRICS,
                "thresholds": thresholds,
            }
            for name in SLICES
        ],
    }
    return SuiteVersion(suite=EvaluationSuite.model_validate(document), path=Path("benchmark"))


def simulate(seed: int) -> tuple[dict[str, list[str]], dict[str, pd.DataFrame], dict]:
    """Return true labels, candidate answers and production answers per slice."""
    rng = np.random.default_rng(seed)
    truth, candidate, production = {}, {}, {}
    for name, n in SLICES.items():
        t = rng.choice(K, size=n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
        right = rng.random(n) < ACCURACY[name] - 0.04 * (t == 4)  # "other" is harder
        # Mistakes mostly go to a neighbouring class.
        shift = np.where(rng.random(n) < 0.7, 1, rng.integers(1, K, n))
        cand = np.where(right, t, (t + shift) % K)
        conf = np.where(right, rng.beta(8, 2, n), rng.beta(4, 3, n))
        agree = rng.random(n) < 0.85
        prod_right = rng.random(n) < ACCURACY[name] - 0.01
        prod = np.where(agree, cand, np.where(prod_right, t, (t + 1) % K))
        prod_conf = np.clip(conf + rng.normal(0, 0.05, n), 0, 1)
        truth[name] = [LABELS[i] for i in t]
        candidate[name] = answers(rng, cand, conf)
        production[name] = answers(rng, prod, prod_conf)
    return truth, candidate, production


def answers(rng: np.random.Generator, codes: np.ndarray, conf: np.ndarray) -> pd.DataFrame:
    """Adapter output: 1.5% unreadable answers, 0.5% adapter errors with a message."""
    n = codes.size
    labels = np.asarray(LABELS, dtype=object)[codes]
    unreadable = rng.random(n) < 0.015
    labels[unreadable] = "I think it is about money"
    failed = rng.random(n) < 0.005
    error = np.where(failed, "timeout after 30 s", None)
    labels[failed] = None
    return pd.DataFrame({"label": labels, "confidence": conf, "error": error})


def govflow_report(
    version: SuiteVersion, truth: dict, candidate: dict, production: dict
) -> tuple[Evaluation, str]:
    evaluation = evaluate_suite(
        version,
        truth=truth,
        candidate=candidate,
        production=production,
        model="candidate",
        production_model="production",
    )
    markdown = evaluation_markdown(evaluation)
    evaluation_table_rows(evaluation)
    return evaluation, markdown


def loop_values(t: np.ndarray, pred: np.ndarray, conf: np.ndarray, err: np.ndarray, idx) -> list:
    """Every metric of one model on one resample: sklearn for label metrics, numpy for ECE."""
    scored = ~err[idx]
    tt, pp, cc = t[idx][scored], pred[idx][scored], conf[idx][scored]
    labels = list(range(K))
    values = [
        accuracy_score(tt, pp),
        f1_score(tt, pp, labels=labels, average="macro", zero_division=0),
    ]
    values.extend(recall_score(tt, pp, labels=labels, average=None, zero_division=0))
    has = ~np.isnan(cc)
    bins = calibration_bin(cc[has], BINS)
    correct = (tt == pp)[has]
    gaps = np.abs(
        np.bincount(bins, weights=correct, minlength=BINS)
        - np.bincount(bins, weights=cc[has], minlength=BINS)
    )
    values.append(gaps.sum() / has.sum())
    values.append(err[idx].mean())
    return values


def reference(version: SuiteVersion, truth: dict, candidate: dict, production: dict) -> dict:
    """Return, per slice, (names, point, candidate, production, difference intervals)."""
    out = {}
    for name in SLICES:
        t = encode_truth(truth[name], LABELS, where=name)
        models = []
        for frame in (candidate[name], production[name]):
            preds, _ = encode_answers(frame, LABELS, rows=t.size, where=name)
            models.append((preds.labels, preds.confidence, preds.error))
        seed = [SEED, zlib.crc32(name.encode("utf-8"))]
        cand_rows, prod_rows = [], []
        for idx in bootstrap_indices(t.size, resamples=RESAMPLES, seed=seed):
            cand_rows.append(loop_values(t, *models[0], idx))
            prod_rows.append(loop_values(t, *models[1], idx))
        cand, prod = np.asarray(cand_rows), np.asarray(prod_rows)
        everything = np.arange(t.size)
        point = np.asarray(loop_values(t, *models[0], everything))
        out[name] = (point, interval(cand), interval(prod), interval(cand - prod))
    return out


def interval(values: np.ndarray) -> np.ndarray:
    return np.percentile(values, [2.5, 97.5], axis=0)


def compare(evaluation: Evaluation, expected: dict) -> float:
    """Return the largest absolute difference between govflow's and the loop's numbers."""
    worst = 0.0
    for name in SLICES:
        metrics = evaluation.slice(name).metrics
        ordered = [metrics.get("accuracy"), metrics.get("macro_f1")]
        ordered += [metrics.get("per_class_recall", label) for label in LABELS]
        ordered += [metrics.get("ece"), metrics.get("error_rate")]
        point, cand, prod, diff = expected[name]
        for column, result in enumerate(ordered):
            assert result.production is not None and result.difference is not None
            pairs = [
                (result.candidate.value, point[column]),
                (result.candidate.low, cand[0, column]),
                (result.candidate.high, cand[1, column]),
                (result.production.low, prod[0, column]),
                (result.production.high, prod[1, column]),
                (result.difference.low, diff[0, column]),
                (result.difference.high, diff[1, column]),
            ]
            worst = max(worst, max(abs(a - b) for a, b in pairs))
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed govflow reports")
    args = parser.parse_args(argv)
    print(
        f"numpy {np.__version__}, pandas {pd.__version__}, scikit-learn {sklearn.__version__}; "
        f"{sum(SLICES.values()):,} predictions in {len(SLICES)} slices "
        f"({', '.join(f'{k} {v:,}' for k, v in SLICES.items())}), {K} classes, "
        f"{RESAMPLES} paired resamples"
    )
    version = suite()
    truth, candidate, production = simulate(SEED)

    best = float("inf")
    evaluation: Evaluation | None = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        evaluation, _markdown = govflow_report(version, truth, candidate, production)
        best = min(best, time.perf_counter() - start)
    assert evaluation is not None
    print(
        f"  govflow report (metrics, intervals, paired differences, verdicts, Markdown): "
        f"{best:8.3f} s (best of {args.repeat})"
    )

    start = time.perf_counter()
    expected = reference(version, truth, candidate, production)
    loop_s = time.perf_counter() - start
    print(
        f"  sklearn loop (same resamples, once per resample):                     {loop_s:8.3f} s"
    )

    worst = compare(evaluation, expected)
    print(f"  largest |difference| over every point value and interval bound: {worst:.1e}")
    for item in evaluation.slices:
        accuracy = item.metrics.get("accuracy")
        assert accuracy.difference is not None
        print(
            f"  {item.spec.name:<12} n {item.metrics.n:>6,}  "
            f"accuracy {accuracy.candidate.value:.4f} "
            f"[{accuracy.candidate.low:.4f}, {accuracy.candidate.high:.4f}]  difference "
            f"{accuracy.difference.value:+.4f} [{accuracy.difference.low:+.4f}, "
            f"{accuracy.difference.high:+.4f}]  {item.verdict.status.value}"
        )
    ok = worst <= TOLERANCE
    if not ok:
        print("  RESULTS DISAGREE")
    ratio = loop_s / best
    met = ratio >= 10.0 and best < 5.0
    print(f"targets (sklearn-loop/govflow >= 10x, report < 5 s): {'met' if met else 'NOT met'}")
    size = f"{sum(SLICES.values()) / 1e3:g}k"
    print(
        f"evaluate: sklearn-loop/govflow at {size} x {RESAMPLES} resamples = {ratio:.2f}x, "
        f"report in {best:.2f} s"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
