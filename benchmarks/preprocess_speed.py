"""Throughput of ``govflow.preprocess.preprocess_frame`` on synthetic short texts.

For each size (100k, 1M) a seeded generator builds texts of 10-16 words (~100 characters)
from a Zipf-distributed vocabulary of 5,000 made-up words, with numbers that must survive
redaction (order numbers, years, prices, ISO dates, versions) in about a quarter of them,
whitespace and Unicode noise in ~5%, PII (e-mail, phone or card) in ~1%, exact copies of
earlier rows for ~2% and one-word edits of earlier rows for ~1%. Generation is not timed.

Prints the seconds per stage, the total and rows/s for each size, with the step counts and
the share of injected edits found as a sanity check; the last line is
``preprocess_speed: 1M rows = X.XX s (Y rows/s)``.

Usage: .venv/bin/python benchmarks/preprocess_speed.py [--sizes 100000,1000000] [--seed 7]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from govflow.preprocess import preprocess_frame

SYLLABLES = ["ka", "lo", "mi", "ter", "san", "dor", "vel", "qui", "pra", "nos", "ex", "ul", "ri"]
PII = [
    "mail me at jane.doe+{i}@example.co.uk",
    "call +1 (415) 555-{i:04d}",
    "phone 020 7946 {i:04d}",
    "card 4111 1111 1111 1111 thanks",
    "card 5500-0000-0000-0004 please",
]
NUMBERS = ["order #{i:05d}", "in {y}", "costs ${p}.50", "on {y}-05-01", "version 1.{p}.3"]
NOISE = ["  ", "\t", "\u00a0", "\n", "cafe\u0301", "\u200b"]


def make_texts(n: int, seed: int) -> tuple[list[str], list[tuple[int, int]]]:
    """Return ``n`` synthetic texts and the (row, source row) of each injected one-word edit."""
    rng = np.random.default_rng(seed)
    parts = rng.integers(0, len(SYLLABLES), size=(5000, 3))
    vocab = np.array(["".join(SYLLABLES[k] for k in row) for row in parts])
    weights = 1.0 / np.arange(1, vocab.size + 1) ** 1.1
    words = vocab[rng.choice(vocab.size, size=(n, 20), p=weights / weights.sum())]
    lengths = rng.integers(10, 17, size=n)
    texts = [" ".join(row[:k]) for row, k in zip(words.tolist(), lengths.tolist(), strict=True)]

    draw = rng.random(n)
    for i in np.flatnonzero(draw < 0.25):
        template = NUMBERS[i % len(NUMBERS)]
        texts[i] += " " + template.format(i=i % 100000, y=1990 + i % 40, p=i % 90)
    for i in np.flatnonzero((draw >= 0.25) & (draw < 0.30)):
        texts[i] = texts[i].replace(" ", NOISE[i % len(NOISE)], 1)
    for i in np.flatnonzero((draw >= 0.30) & (draw < 0.31)):
        texts[i] += " " + PII[i % len(PII)].format(i=i % 10000)
    # Copies come last so that they copy the finished text of an earlier row.
    for i in np.flatnonzero((draw >= 0.31) & (draw < 0.33)):
        if i:
            texts[i] = texts[int(rng.integers(0, i))]
    edits = []
    for i in np.flatnonzero((draw >= 0.33) & (draw < 0.34)):
        if i:
            source = int(rng.integers(0, i))
            words = texts[source].split(" ")
            words[int(rng.integers(0, len(words)))] = str(vocab[int(rng.integers(0, 5000))])
            texts[i] = " ".join(words)
            edits.append((int(i), source))
    return texts, edits


def edit_recall(texts: list[str], edits: list[tuple[int, int]], near_of: np.ndarray) -> str:
    """Describe how many injected edits ended up in their source's near-duplicate cluster."""

    def root(row: int) -> int:
        return int(near_of[row]) if near_of[row] >= 0 else row

    def jaccard(a: str, b: str) -> float:
        left, right = set(a.lower().split()), set(b.lower().split())
        return len(left & right) / len(left | right)

    found = [root(i) == root(source) for i, source in edits]
    close = [jaccard(texts[i], texts[source]) >= 0.85 for i, source in edits]
    found_close = sum(f for f, c in zip(found, close, strict=True) if c)
    return (
        f"injected one-word edits in their source's cluster: {sum(found)} of {len(edits)}; "
        f"{found_close} of {sum(close)} with word Jaccard >= 0.85"
    )


def run(n: int, seed: int) -> float:
    """Pre-process ``n`` synthetic rows, print the report and return the total seconds."""
    texts, edits = make_texts(n, seed)
    df = pd.DataFrame({"id": np.arange(n), "text": texts})
    df["text"] = df["text"].astype(pd.StringDtype("pyarrow"))
    start = time.perf_counter()
    result = preprocess_frame(df, "text")
    total = time.perf_counter() - start
    assert len(result.frame) == n
    print(f"== {n:,} rows, {df['text'].str.len().mean():.0f} chars on average")
    for stage, seconds in result.timings.items():
        print(f"  {stage:<12} {seconds:7.2f} s  {n / max(seconds, 1e-9):>13,.0f} rows/s")
    print(f"  {'total':<12} {total:7.2f} s  {n / total:>13,.0f} rows/s")
    for step in result.steps:
        shown = {k: v for k, v in step.items() if k not in ("step", "version")}
        print(f"  {step['step']}: {shown}")
    print(f"  {edit_recall(texts, edits, result.frame['near_duplicate_of'].to_numpy())}")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    totals = {n: run(n, args.seed) for n in sizes}
    n = max(totals)
    label = f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n:,}"
    print(f"preprocess_speed: {label} rows = {totals[n]:.2f} s ({n / totals[n]:,.0f} rows/s)")


if __name__ == "__main__":
    main()
