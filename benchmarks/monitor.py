"""Production monitoring: govflow's drift tests against a plain scipy loop, and one whole batch.

Data (generated in each worker, not timed): a seeded numpy generator builds a 100,000-row
reference and a 1,000,000-row production batch with ten monitored columns: six numeric
(lognormal amounts, gamma latencies, a normal score with 1% missing, whole-day ages with
many ties, Poisson item counts, beta ratios; most shifted a little in production) and four
categorical (a 5-value channel, a 30-value Zipf country, a 4-value plan, a 50-value product
with two values production adds). With more than 1,000 reference rows Evidently's default
tests are the normed Wasserstein distance (numeric) and Jensen-Shannon distance (the rest).

- ``drift`` worker: the same statistics two ways, best of ``--repeat`` calls each.
  govflow: ``govflow.monitoring.drift.detect_drift`` (test choice included).
  scipy loop: per column on pandas, missing and infinite values dropped, then
  ``scipy.stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)`` or the
  ``value_counts`` shares of both sides over their union into
  ``scipy.spatial.distance.jensenshannon``; the loop is told which test each column gets.
  Both must agree within 1e-9 (absolute or relative) on every column.
- ``batch`` worker: ``govflow.monitoring.batch.monitor_batch`` end to end on the 1M-row
  batch, 13 monitored columns: the ten above, a 12-word text column (length test,
  out-of-vocabulary rate and domain classifier on 10,000 sampled texts per side), the
  predicted label and the confidence; plus label and confidence PSI, expected accuracy
  (isotonic calibration of a 5,000-row evaluation), realized accuracy on the 5% of rows
  with a label, activation (per-class thresholds and a 2% content-hash sample over every
  text), the Markdown report and the distribution plot of each drifted column.

Each worker runs in its own subprocess so its peak RSS (VmHWM) is its own. Targets: scipy
loop / govflow >= 1x at 1M rows x 10 columns, end-to-end batch < 30 s, peak RSS < 2 GB.
The last line is ``monitor: scipy-loop/govflow at 1M rows x 10 cols = X.XXx, end-to-end
batch = X.X s, peak RSS = X.XX GB`` (one line).

Usage: .venv/bin/python benchmarks/monitor.py [--rows 1000000] [--reference 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SEED = 20261203
NUMERIC = ["amount", "latency_ms", "score", "age_days", "items", "ratio"]
CATEGORICAL = ["channel", "country", "plan", "product"]
LABELS = ["billing", "bug", "account", "feature_request", "other"]
N_WORDS = 12
TOLERANCE = 1e-9
_CHUNK = 100_000


def make_frame(n: int, *, production: bool, seed: int, with_outputs: bool = True) -> pd.DataFrame:
    """Return ``n`` seeded rows of the ten monitored columns and (optionally) text and outputs."""
    rng = np.random.default_rng(seed)
    shift = 1.0 if production else 0.0
    score = rng.normal(0.02 * shift, 1.0, n)
    score[rng.random(n) < 0.01] = np.nan
    countries = np.array([f"C{i:02d}" for i in range(30)])
    country_p = 1.0 / np.arange(1, 31) ** 1.1
    products = np.array([f"P{i:02d}" for i in range(52)])
    product_p = np.r_[np.full(50, 1.0), np.full(2, 3.0 * shift)]
    frame = pd.DataFrame(
        {
            "amount": rng.lognormal(3.0 + 0.05 * shift, 1.0, n),
            "latency_ms": rng.gamma(2.0, 50.0 + 5.0 * shift, n),
            "score": score,
            "age_days": np.floor(rng.uniform(0, 3650, n)),
            "items": rng.poisson(3.0 + 0.2 * shift, n).astype(np.float64),
            "ratio": rng.beta(2.0, 5.0 + shift, n),
            "channel": pd.array(
                rng.choice(["email", "chat", "web_form", "phone", "api"], n), dtype="str"
            ),
            "country": pd.array(
                rng.choice(countries, n, p=country_p / country_p.sum()), dtype="str"
            ),
            "plan": pd.array(
                rng.choice(["basic", "pro", "team", "enterprise"], n, p=[0.4, 0.3, 0.2, 0.1]),
                dtype="str",
            ),
            "product": pd.array(
                rng.choice(products, n, p=product_p / product_p.sum()), dtype="str"
            ),
        }
    )
    if not with_outputs:
        return frame
    vocabulary = np.array([f"w{i}" for i in range(2000)] + ["zephyr"] * int(shift))
    zipf = 1.0 / np.arange(1, vocabulary.size + 1)
    texts = []
    for start in range(0, n, _CHUNK):  # a chunk at a time: a (1M, 12) array of words is 240 MB
        words = rng.choice(vocabulary, size=(min(_CHUNK, n - start), N_WORDS), p=zipf / zipf.sum())
        parts = [pd.Series(words[:, j], dtype="str") for j in range(N_WORDS)]
        texts.append(parts[0].str.cat(parts[1:], sep=" "))
    frame["text"] = pd.concat(texts, ignore_index=True)
    label_p = [0.4, 0.15, 0.15, 0.15, 0.15] if production else [0.2] * 5
    frame["predicted_label"] = pd.array(rng.choice(LABELS, n, p=label_p), dtype="str")
    frame["confidence"] = rng.beta(5.0, 2.0 - 0.3 * shift, n)
    frame["model_version"] = "mv-bench"
    truth = np.where(
        rng.random(n) < frame["confidence"] ** 1.5,
        frame["predicted_label"].to_numpy(dtype=object),
        rng.choice(LABELS, n),
    )
    labeled = rng.random(n) < 0.05
    frame["label"] = pd.array(np.where(labeled, truth, None), dtype="str")
    return frame


def scipy_loop(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, float]:
    """Compute each column's statistic with scipy, column by column on pandas."""
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import wasserstein_distance

    scores = {}
    for column in NUMERIC:
        ref = reference[column].replace([np.inf, -np.inf], np.nan).dropna()
        cur = current[column].replace([np.inf, -np.inf], np.nan).dropna()
        scores[column] = wasserstein_distance(ref, cur) / max(float(np.std(ref)), 0.001)
    for column in CATEGORICAL:
        ref_counts = reference[column].dropna().value_counts()
        cur_counts = current[column].dropna().value_counts()
        keys = ref_counts.index.union(cur_counts.index)
        p = ref_counts.reindex(keys, fill_value=0).to_numpy() / ref_counts.sum()
        q = cur_counts.reindex(keys, fill_value=0).to_numpy() / cur_counts.sum()
        scores[column] = float(jensenshannon(p, q))
    return scores


def best_of(repeat: int, call: Any) -> tuple[float, Any]:
    """Return the fastest wall time of ``repeat`` calls and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_rss_bytes() -> int:
    """Return this process's peak RSS: VmHWM on Linux (ru_maxrss carries over exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def drift_worker(rows: int, reference_rows: int, repeat: int) -> dict[str, Any]:
    from govflow.monitoring.config import ColumnMonitor
    from govflow.monitoring.drift import detect_drift

    reference = make_frame(reference_rows, production=False, seed=SEED, with_outputs=False)
    current = make_frame(rows, production=True, seed=SEED + 1, with_outputs=False)
    monitors = [ColumnMonitor(name=c, kind="numeric") for c in NUMERIC] + [
        ColumnMonitor(name=c, kind="categorical") for c in CATEGORICAL
    ]
    scipy_loop(reference.iloc[:1000], current.iloc[:1000])  # import and warm both sides
    detect_drift(reference.iloc[:1000], current.iloc[:1000], monitors)
    ours_s, summary = best_of(repeat, lambda: detect_drift(reference, current, monitors))
    loop_s, expected = best_of(repeat, lambda: scipy_loop(reference, current))
    columns = []
    for result in summary.columns:
        want = float(expected[result.column])
        diff = abs(result.statistic - want)
        columns.append(
            {
                "column": result.column,
                "test": str(result.test),
                "govflow": result.statistic,
                "scipy": want,
                "diff": diff,
                "ok": bool(diff <= TOLERANCE or diff <= TOLERANCE * abs(want)),
                "drifted": result.drifted,
            }
        )
    return {
        "govflow_s": ours_s,
        "scipy_s": loop_s,
        "columns": columns,
        "n_drifted": summary.n_drifted,
        "peak_rss": peak_rss_bytes(),
    }


def batch_worker(rows: int, reference_rows: int) -> dict[str, Any]:
    from govflow.monitoring.batch import monitor_batch
    from govflow.monitoring.config import (
        AccuracySettings,
        ActivationSettings,
        ColumnMonitor,
        MonitorConfig,
    )
    from govflow.monitoring.performance import fit_calibration
    from govflow.monitoring.plots import drifted_distributions
    from govflow.monitoring.report import batch_markdown

    reference = make_frame(reference_rows, production=False, seed=SEED)
    current = make_frame(rows, production=True, seed=SEED + 1)
    evaluation = make_frame(5000, production=False, seed=SEED + 2)
    correct = (evaluation["label"] == evaluation["predicted_label"]).to_numpy(dtype=bool)
    calibration = fit_calibration(
        evaluation["confidence"].to_numpy()[evaluation["label"].notna().to_numpy()],
        correct[evaluation["label"].notna().to_numpy()],
    )
    config = MonitorConfig(
        project="bench",
        label_set=LABELS,
        columns=[ColumnMonitor(name=c, kind="numeric") for c in [*NUMERIC, "confidence"]]
        + [ColumnMonitor(name=c, kind="categorical") for c in [*CATEGORICAL, "predicted_label"]]
        + [ColumnMonitor(name="text", kind="text")],
        activation=ActivationSettings(
            below={"billing": 0.6, "bug": 0.5}, default_below=0.4, sample_rate=0.02
        ),
        accuracy=AccuracySettings(expected_min=0.8, realized_min=0.8),
    )
    import matplotlib  # noqa: F401  (imported before the clock, like scipy and sklearn)
    import scipy.stats  # noqa: F401
    import sklearn.linear_model  # noqa: F401

    steps: dict[str, float] = {}
    start = time.perf_counter()
    result = monitor_batch(current, reference, config, calibration=calibration)
    steps["monitor_batch"] = time.perf_counter() - start
    mark = time.perf_counter()
    markdown = batch_markdown(result)
    pictures = drifted_distributions(reference, current, result.drift)
    steps["report_and_plots"] = time.perf_counter() - mark
    total = time.perf_counter() - start
    return {
        "total_s": total,
        "steps": steps,
        "n_rows": result.n_rows,
        "drifted": [c.column for c in result.drift.columns if c.drifted],
        "to_people": result.n_to_people,
        "expected_accuracy": result.expected_accuracy.value if result.expected_accuracy else None,
        "realized_accuracy": result.realized_accuracy.accuracy,
        "markdown_chars": len(markdown),
        "pictures": len(pictures),
        "peak_rss": peak_rss_bytes(),
    }


def run_worker(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run this script as ``--worker name`` in a subprocess and return its RESULT line."""
    command = [
        sys.executable, str(Path(__file__).resolve()), "--worker", name,
        "--rows", str(args.rows), "--reference", str(args.reference), "--repeat", str(args.repeat),
    ]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line.removeprefix("RESULT "))
    raise SystemExit(f"worker {name} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


def human_count(n: int) -> str:
    """Return 1000000 as "1M" and 100000 as "100k"."""
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1e3:g}k"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="production rows")
    parser.add_argument("--reference", type=int, default=100_000, help="reference rows")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls per side")
    parser.add_argument("--worker", choices=["drift", "batch"], help="internal")
    args = parser.parse_args(argv)
    if args.worker == "drift":
        print("RESULT " + json.dumps(drift_worker(args.rows, args.reference, args.repeat)))
        return 0
    if args.worker == "batch":
        print("RESULT " + json.dumps(batch_worker(args.rows, args.reference)))
        return 0

    import scipy

    print(
        f"numpy {np.__version__}, pandas {pd.__version__}, scipy {scipy.__version__}; "
        f"{args.rows:,} production rows against {args.reference:,} reference rows, seed {SEED}"
    )
    drift = run_worker("drift", args)
    ratio = drift["scipy_s"] / drift["govflow_s"]
    print(
        f"drift, 10 columns: govflow {drift['govflow_s']:.3f} s   scipy loop "
        f"{drift['scipy_s']:.3f} s   ratio {ratio:.2f}x   ({drift['n_drifted']} drifted, "
        f"peak RSS {drift['peak_rss'] / 1e9:.2f} GB)"
    )
    for column in drift["columns"]:
        print(
            f"  {column['column']:<11} {column['test']:<14} govflow {column['govflow']:.12f}  "
            f"scipy {column['scipy']:.12f}  |diff| {column['diff']:.1e}"
            f"{'' if column['ok'] else '  DISAGREE'}{'  drifted' if column['drifted'] else ''}"
        )
    batch = run_worker("batch", args)
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in batch["steps"].items())
    print(
        f"end-to-end batch: {batch['total_s']:.1f} s ({steps}); drifted {batch['drifted']}; "
        f"{batch['to_people']:,} to people; expected accuracy {batch['expected_accuracy']:.3f}, "
        f"realized {batch['realized_accuracy']:.3f}; {batch['pictures']} pictures; "
        f"peak RSS {batch['peak_rss'] / 1e9:.2f} GB"
    )
    agree = all(column["ok"] for column in drift["columns"])
    met = ratio >= 1.0 and batch["total_s"] < 30 and batch["peak_rss"] < 2e9
    print(
        f"statistics agree within {TOLERANCE:g}: {'yes' if agree else 'NO'}; targets "
        f"(>= 1x, < 30 s, < 2 GB): {'met' if met else 'NOT met'}"
    )
    print(
        f"monitor: scipy-loop/govflow at {human_count(args.rows)} rows x 10 cols = {ratio:.2f}x, "
        f"end-to-end batch = {batch['total_s']:.1f} s, peak RSS = {batch['peak_rss'] / 1e9:.2f} GB"
    )
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
