"""Annotation statistics: govflow's numpy layer against krippendorff and crowd-kit.

For each size (100k and 200k items, 5 annotators each: 500k and 1M labels) one seeded
simulation of annotators with differing confusion matrices is labelled; then, in the same
run, both sides compute on the same data:

- Krippendorff's alpha (nominal): ``govflow.annotation.agreement.krippendorff_alpha`` against
  ``krippendorff.alpha``; best of ``--repeat`` calls each.
- Dawid-Skene with the same ``max_iter`` and ``tol``: ``govflow.annotation.aggregation.
  dawid_skene`` (best of ``--repeat``) against ``crowdkit.aggregation.DawidSkene`` (one fit:
  it is the slow side, so one run only favours it by the noise).

Building each side's input (``LabelMatrix``, the annotators x items matrix, the task/worker/
label DataFrame) is outside the timed calls. Results must agree: alpha within 1e-9, the
same Dawid-Skene labels on at least 99.9% of items and posteriors within 1e-3.
Targets: Dawid-Skene crowd-kit/govflow >= 3x, alpha krippendorff/govflow >= 1x.

Usage: .venv/bin/python benchmarks/consensus.py [--sizes 100000,200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import krippendorff
import numpy as np
import pandas as pd
from crowdkit.aggregation import DawidSkene

from govflow.annotation.aggregation import dawid_skene
from govflow.annotation.agreement import krippendorff_alpha
from govflow.annotation.labels import LabelMatrix

ACCURACIES = (0.9, 0.8, 0.7, 0.6, 0.5)
N_LABELS = 4
MAX_ITER = 100
TOL = 1e-5  # crowd-kit's default
SEED = 20240601

T = TypeVar("T")


@dataclass(frozen=True)
class Figures:
    n_labels_given: int
    alpha_govflow_s: float
    alpha_reference_s: float
    ds_govflow_s: float
    ds_reference_s: float
    ok: bool

    @property
    def alpha_ratio(self) -> float:
        return self.alpha_reference_s / self.alpha_govflow_s

    @property
    def ds_ratio(self) -> float:
        return self.ds_reference_s / self.ds_govflow_s


def simulate(n_items: int, seed: int) -> tuple[LabelMatrix, np.ndarray]:
    """Return every annotator's label for every item, and the true labels."""
    rng = np.random.default_rng(seed)
    n_annotators = len(ACCURACIES)
    accuracy = np.asarray(ACCURACIES)[:, None, None]
    truth = rng.choice(N_LABELS, size=n_items, p=rng.dirichlet(np.full(N_LABELS, 5.0)))
    confusion = rng.dirichlet(np.ones(N_LABELS), size=(n_annotators, N_LABELS)) * (1 - accuracy)
    confusion[:, np.arange(N_LABELS), np.arange(N_LABELS)] += accuracy[:, :, 0]
    items = np.repeat(np.arange(n_items), n_annotators)
    annotators = np.tile(np.arange(n_annotators), n_items)
    cumulative = confusion[annotators, truth[items]].cumsum(axis=1)
    labels = (rng.random(items.size)[:, None] > cumulative).sum(axis=1)
    labels = np.minimum(labels, N_LABELS - 1)
    m = LabelMatrix(items, annotators, labels, n_items, n_annotators, N_LABELS)
    return m, truth


def human_count(n: int) -> str:
    """Return 1000000 as "1M" and 500000 as "500k"."""
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1e3:g}k"


def best_of(repeat: int, call: Callable[[], T]) -> tuple[float, T]:
    """Return the fastest wall time of ``repeat`` calls and the last result."""
    best = float("inf")
    result: T
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return best, result


def run_size(n_items: int, repeat: int) -> Figures:
    m, truth = simulate(n_items, SEED + n_items)
    reliability = np.full((m.n_annotators, m.n_items), np.nan)
    reliability[m.annotator_idx, m.item_idx] = m.label_idx
    frame = pd.DataFrame({"task": m.item_idx, "worker": m.annotator_idx, "label": m.label_idx})
    print(f"{m.n_rows:,} labels ({n_items:,} items x {m.n_annotators} annotators)")

    alpha_ours_s, alpha_ours = best_of(repeat, lambda: krippendorff_alpha(m, "nominal"))
    alpha_ref_s, alpha_ref = best_of(
        repeat,
        lambda: krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal"),
    )
    alpha_diff = abs(alpha_ours - float(alpha_ref))
    print(
        f"  alpha  govflow {alpha_ours_s:8.3f} s   krippendorff {alpha_ref_s:8.3f} s   "
        f"ratio {alpha_ref_s / alpha_ours_s:6.2f}x   alpha {alpha_ours:.12f}   "
        f"|diff| {alpha_diff:.1e}"
    )

    ds_ours_s, ours = best_of(repeat, lambda: dawid_skene(m, max_iter=MAX_ITER, tol=TOL))
    reference = DawidSkene(n_iter=MAX_ITER, tol=TOL)
    start = time.perf_counter()
    reference.fit(frame)
    ds_ref_s = time.perf_counter() - start
    assert reference.probas_ is not None and reference.labels_ is not None
    ref_probas = reference.probas_.reindex(index=range(m.n_items), columns=range(N_LABELS))
    ref_labels = reference.labels_.reindex(range(m.n_items)).to_numpy(dtype=np.int64)
    same = float((ours.labels == ref_labels).mean())
    posterior_diff = float(np.abs(ours.posteriors - ref_probas.to_numpy()).max())
    print(
        f"  DS     govflow {ds_ours_s:8.3f} s   crowd-kit    {ds_ref_s:8.3f} s   "
        f"ratio {ds_ref_s / ds_ours_s:6.2f}x   iterations {ours.iterations}/"
        f"{len(reference.loss_history_)}   same labels {same:.4%}   "
        f"max |posterior diff| {posterior_diff:.1e}"
    )
    ds_accuracy = float((ours.labels == truth).mean())
    mv_accuracy = float((np.argmax(m.counts(), axis=1) == truth).mean())
    print(f"  accuracy vs truth: dawid-skene {ds_accuracy:.4f}, majority vote {mv_accuracy:.4f}")
    ok = alpha_diff <= 1e-9 and same >= 0.999 and posterior_diff <= 1e-3
    if not ok:
        print("  RESULTS DISAGREE")
    return Figures(m.n_rows, alpha_ours_s, alpha_ref_s, ds_ours_s, ds_ref_s, ok)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,200000", help="item counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls per fast side")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    print(
        f"numpy {np.__version__}, pandas {pd.__version__}; DS max_iter={MAX_ITER} tol={TOL}, "
        f"{N_LABELS} labels, annotator accuracies {ACCURACIES}"
    )
    figures = [run_size(n, args.repeat) for n in sizes]
    largest = figures[-1]
    met = largest.ds_ratio >= 3.0 and largest.alpha_ratio >= 1.0
    print(f"targets (DS >= 3x, alpha >= 1x at the largest size): {'met' if met else 'NOT met'}")
    size = human_count(largest.n_labels_given)
    print(
        f"consensus: dawid-skene crowd-kit/govflow = {largest.ds_ratio:.2f}x, "
        f"alpha krippendorff/govflow = {largest.alpha_ratio:.2f}x ({size} labels)"
    )
    return 0 if all(f.ok for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
