"""Near-copy screening of synthetic rows against organic rows: govflow vs datasketch.

A seeded generator builds ``--organic`` texts (Zipf vocabulary of made-up words, 22-34
words, about 170 characters) and ``--synthetic`` texts of which 5% are planted copies of
organic rows: a third exact, the rest with 1-6 random character edits (some stay above
Jaccard 0.8 on character 5-grams, some fall below). Both sides screen the same rows at the
same threshold (Jaccard 0.8 on character 5-grams, 128 permutations):

- govflow: ``govflow.synthetic.nearcopy.ReferenceIndex`` (16 x 8 banding, estimated
  Jaccard verification);
- datasketch: ``MinHash`` per text (``MinHash.bulk``) and ``MinHashLSH(threshold=0.8)``
  (it picks its own banding), candidates verified by their MinHash Jaccard estimate.

Each side runs in its own process (peak RSS from /proc VmHWM, which, unlike ru_maxrss,
does not carry the parent's peak over fork/exec); generation is not timed. The rows each
side flags are compared: found by both (and whether with the same organic row), by one
only, with the true Jaccard of each disagreement, and the share of planted copies at true
Jaccard >= 0.8 each side found. Last line:
``synthetic_validate: datasketch/govflow at 100k vs 1M = X.XXx, peak RSS = X.XX GB``.

Usage: .venv/bin/python benchmarks/synthetic_validate.py [--organic 1000000]
       [--synthetic 100000] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

THRESHOLD = 0.8
NUM_PERM = 128
SYLLABLES = ["ka", "lo", "mi", "ter", "san", "dor", "vel", "qui", "pra", "nos", "ex", "ul", "ri"]


def make_texts(n_organic: int, n_synthetic: int, seed: int) -> tuple[list[str], list[str], dict]:
    rng = np.random.default_rng(seed)
    parts = rng.integers(0, len(SYLLABLES), size=(20_000, 3))
    vocab = np.array(["".join(SYLLABLES[k] for k in row) for row in parts])
    weights = 1.0 / np.arange(1, vocab.size + 1) ** 1.05
    weights /= weights.sum()

    def draw(n: int) -> list[str]:
        texts: list[str] = []
        for start in range(0, n, 50_000):  # in chunks: a (1M, 34) word array alone is 1.2 GB
            size = min(50_000, n - start)
            words = vocab[rng.choice(vocab.size, size=(size, 34), p=weights)].tolist()
            lengths = rng.integers(22, 35, size=size).tolist()
            texts.extend(" ".join(row[:k]) for row, k in zip(words, lengths, strict=True))
        return texts

    organic = draw(n_organic)
    synthetic = draw(n_synthetic)
    planted = np.flatnonzero(rng.random(n_synthetic) < 0.05)
    sources = rng.integers(0, n_organic, size=planted.size)
    letters = "abcdefghijklmnopqrstuvwxyz"
    for k, (i, j) in enumerate(zip(planted.tolist(), sources.tolist(), strict=True)):
        text = list(organic[j])
        if k % 3:
            for _ in range(int(rng.integers(1, 7))):
                text[int(rng.integers(0, len(text)))] = letters[int(rng.integers(0, 26))]
        synthetic[i] = "".join(text)
    return organic, synthetic, {"planted": planted.tolist(), "sources": sources.tolist()}


def grams(text: str) -> set[str]:
    flat = text.lower()
    return {flat[i : i + 5] for i in range(max(len(flat) - 4, 1))}


def jaccard(a: str, b: str) -> float:
    x, y = grams(a), grams(b)
    return len(x & y) / len(x | y)


def peak_rss_gb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e9
    return float("nan")


def run_govflow(organic: list[str], synthetic: list[str]) -> dict:
    import pyarrow as pa

    from govflow.synthetic.nearcopy import ReferenceIndex

    organic_array = pa.array(organic, type=pa.large_string())
    del organic
    t0 = time.perf_counter()
    index = ReferenceIndex(organic_array, threshold=THRESHOLD)
    t1 = time.perf_counter()
    found = index.match(pa.array(synthetic, type=pa.large_string()))
    t2 = time.perf_counter()
    flagged = {int(i): int(found.reference[i]) for i in np.flatnonzero(found.matched)}
    return {"index_s": t1 - t0, "match_s": t2 - t1, "flagged": flagged}


def run_datasketch(organic: list[str], synthetic: list[str]) -> dict:
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    def sketches(texts: list[str]) -> list[LeanMinHash]:
        out = []
        for start in range(0, len(texts), 10_000):
            chunk = [[g.encode() for g in grams(t)] for t in texts[start : start + 10_000]]
            out.extend(LeanMinHash(m) for m in MinHash.bulk(chunk, num_perm=NUM_PERM))
        return out

    t0 = time.perf_counter()
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    organic_sketches = sketches(organic)
    with lsh.insertion_session() as session:
        for i, m in enumerate(organic_sketches):
            session.insert(i, m, check_duplication=False)
    t1 = time.perf_counter()
    flagged = {}
    for i, m in enumerate(sketches(synthetic)):
        best, best_j = -1, -1.0
        for j in lsh.query(m):
            estimate = m.jaccard(organic_sketches[j])
            if estimate >= THRESHOLD and (estimate > best_j or (estimate == best_j and j < best)):
                best, best_j = j, estimate
        if best >= 0:
            flagged[i] = best
    t2 = time.perf_counter()
    return {"index_s": t1 - t0, "match_s": t2 - t1, "flagged": flagged, "b_r": [lsh.b, lsh.r]}


def child(side: str, args: argparse.Namespace, out: Path) -> None:
    organic, synthetic, _ = make_texts(args.organic, args.synthetic, args.seed)
    generated_gb = peak_rss_gb()
    result = (run_govflow if side == "govflow" else run_datasketch)(organic, synthetic)
    result["generated_rss_gb"] = generated_gb
    result["peak_rss_gb"] = peak_rss_gb()
    result["flagged"] = {str(k): v for k, v in result["flagged"].items()}
    out.write_text(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--organic", type=int, default=1_000_000)
    parser.add_argument("--synthetic", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--side", choices=["govflow", "datasketch"])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--sides", default="govflow,datasketch", help="Which sides to run.")
    args = parser.parse_args()
    if args.side:
        child(args.side, args, args.out)
        return

    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for side in args.sides.split(","):
            out = Path(folder) / f"{side}.json"
            cmd = [sys.executable, __file__, "--side", side, "--out", str(out),
                   "--organic", str(args.organic), "--synthetic", str(args.synthetic),
                   "--seed", str(args.seed)]  # fmt: skip
            subprocess.run(cmd, check=True)
            results[side] = json.loads(out.read_text())
            r = results[side]
            print(
                f"{side}: index {r['index_s']:.1f} s, match {r['match_s']:.1f} s, "
                f"total {r['index_s'] + r['match_s']:.1f} s, peak RSS {r['peak_rss_gb']:.2f} GB, "
                f"{len(r['flagged']):,} rows flagged (RSS after generating the rows "
                f"{r['generated_rss_gb']:.2f} GB)"
            )
    if len(results) < 2:
        return

    organic, synthetic, truth = make_texts(args.organic, args.synthetic, args.seed)
    gov = {int(k): v for k, v in results["govflow"]["flagged"].items()}
    ds = {int(k): v for k, v in results["datasketch"]["flagged"].items()}
    both = gov.keys() & ds.keys()
    same = sum(gov[i] == ds[i] for i in both)
    print(f"datasketch banding b x r = {results['datasketch']['b_r']}; govflow 16 x 8")
    print(f"flagged by both: {len(both):,} ({same:,} with the same organic row)")
    for name, only, pairs in (("govflow", gov.keys() - ds.keys(), gov),
                              ("datasketch", ds.keys() - gov.keys(), ds)):  # fmt: skip
        true = [jaccard(synthetic[i], organic[pairs[i]]) for i in only]
        near = sum(abs(j - THRESHOLD) <= 0.1 for j in true)
        print(f"{name} only: {len(only):,}, of which {near:,} at true Jaccard within 0.1 of "
              f"{THRESHOLD}")  # fmt: skip
    real = [i for i, j in zip(truth["planted"], truth["sources"], strict=True)
            if jaccard(synthetic[i], organic[j]) >= THRESHOLD]  # fmt: skip
    print(
        f"planted copies at true Jaccard >= {THRESHOLD}: {len(real):,}; found by govflow "
        f"{sum(i in gov for i in real):,}, by datasketch {sum(i in ds for i in real):,}"
    )
    g, d = results["govflow"], results["datasketch"]
    ratio = (d["index_s"] + d["match_s"]) / (g["index_s"] + g["match_s"])
    size = f"{_short(args.synthetic)} vs {_short(args.organic)}"
    print(
        f"synthetic_validate: datasketch/govflow at {size} = {ratio:.2f}x, "
        f"peak RSS = {g['peak_rss_gb']:.2f} GB"
    )


def _short(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


if __name__ == "__main__":
    main()
