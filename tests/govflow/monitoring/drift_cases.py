"""Seeded drift cases shared by the drift tests and the Evidently oracle script.

``evidently_oracle.py`` runs each case through Evidently (in a virtualenv of its own: it does
not import beside pandas 3) and writes ``evidently_results.json``; ``test_drift_evidently``
checks govflow against those numbers. Each case carries a digest of its data, so a numpy
that generates other numbers fails loudly instead of comparing different data.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).with_name("evidently_results.json")
SEED = 20261201


@dataclass(frozen=True)
class DriftCase:
    """One column's reference and current values, its kind and optional test override."""

    name: str
    kind: str  # numeric, categorical or binary
    reference: pd.Series
    current: pd.Series
    test: str | None = None
    threshold: float | None = None

    @property
    def digest(self) -> str:
        """Return a hash of the values, to prove both sides saw the same data."""
        payload = json.dumps(
            [_plain(self.reference), _plain(self.current)], allow_nan=True, default=str
        )
        return hashlib.sha256(payload.encode()).hexdigest()


def _plain(series: pd.Series) -> list[object]:
    return [None if isinstance(v, float) and np.isnan(v) else v for v in series.tolist()]


def _normal(rng: np.random.Generator, loc: float, n: int) -> pd.Series:
    return pd.Series(np.round(rng.normal(loc, 1.0, n), 6))


def _choice(rng: np.random.Generator, values: list[object], p: list[float], n: int) -> pd.Series:
    picked = rng.choice(np.arange(len(values)), size=n, p=p)
    return pd.Series([values[i] for i in picked], dtype=object)


def build_cases() -> list[DriftCase]:
    """Return every case, generated from one seeded generator in a fixed order."""
    rng = np.random.default_rng(SEED)
    cases: list[DriftCase] = []

    def add(name: str, kind: str, ref: pd.Series, cur: pd.Series, **override: object) -> None:
        cases.append(DriftCase(name, kind, ref, cur, **override))  # type: ignore[arg-type]

    cats = ["email", "chat", "web_form", "phone", "api"]
    # Reference of at most 1,000 rows: ks, chi-square, z.
    add("small_numeric_shift", "numeric", _normal(rng, 0, 800), _normal(rng, 0.3, 600))
    add("small_numeric_same", "numeric", _normal(rng, 0, 800), _normal(rng, 0, 600))
    with_gaps = _normal(rng, 0, 900)
    with_gaps[[3, 50, 400]] = [np.nan, np.inf, -np.inf]
    add("small_numeric_nan_inf", "numeric", with_gaps, _normal(rng, 0.1, 500))
    add("small_numeric_exactly_1000", "numeric", _normal(rng, 0, 1000), _normal(rng, 0.2, 700))
    add(
        "small_numeric_6_values",
        "numeric",
        pd.Series(rng.integers(0, 6, 700).astype(float)),
        pd.Series(rng.integers(0, 6, 500).astype(float)),
    )
    p4 = [0.4, 0.3, 0.2, 0.1]
    add(
        "small_numeric_4_values",
        "numeric",
        _choice(rng, [1.0, 2.0, 3.0, 4.0], p4, 600).astype(float),
        _choice(rng, [1.0, 2.0, 3.0, 4.0], [0.25] * 4, 400).astype(float),
    )
    add(
        "small_numeric_2_values",
        "numeric",
        pd.Series(rng.integers(0, 2, 500).astype(float)),
        pd.Series((rng.random(450) < 0.6).astype(float)),
    )
    p5 = [0.35, 0.25, 0.2, 0.15, 0.05]
    add(
        "small_categorical_same",
        "categorical",
        _choice(rng, cats, p5, 700),
        _choice(rng, cats, p5, 300),
    )
    add(
        "small_categorical_shift",
        "categorical",
        _choice(rng, cats, p5, 700),
        _choice(rng, cats, [0.2] * 5, 300),
    )
    add(
        "small_categorical_new_value",
        "categorical",
        _choice(rng, cats[:4], [0.4, 0.3, 0.2, 0.1], 500),
        _choice(rng, cats, [0.3, 0.3, 0.2, 0.1, 0.1], 300),
    )
    add(
        "small_binary_shift",
        "binary",
        _choice(rng, ["yes", "no"], [0.5, 0.5], 600),
        _choice(rng, ["yes", "no"], [0.7, 0.3], 400),
    )
    add(
        "small_binary_constant_same",
        "binary",
        pd.Series(["yes"] * 300, dtype=object),
        pd.Series(["yes"] * 200, dtype=object),
    )
    # More than 1,000 reference rows: Wasserstein and Jensen-Shannon.
    add("large_numeric_1001", "numeric", _normal(rng, 0, 1001), _normal(rng, 0.05, 800))
    add("large_numeric_shift", "numeric", _normal(rng, 0, 5000), _normal(rng, 0.2, 3000))
    add("large_numeric_same", "numeric", _normal(rng, 0, 5000), _normal(rng, 0, 3000))
    add(
        "large_numeric_constant_reference",
        "numeric",
        pd.Series(np.full(2000, 5.0)),
        pd.Series(np.round(rng.normal(5.0, 0.01, 1500), 6)),
    )
    add(
        "large_numeric_3_values",
        "numeric",
        _choice(rng, [0.0, 1.0, 2.0], [0.5, 0.3, 0.2], 3000).astype(float),
        _choice(rng, [0.0, 1.0, 2.0], [0.3, 0.3, 0.4], 2000).astype(float),
    )
    add(
        "large_categorical_shift",
        "categorical",
        _choice(rng, cats, p5, 4000),
        _choice(rng, cats, [0.15, 0.25, 0.2, 0.15, 0.25], 2500),
    )
    add(
        "large_binary_same",
        "binary",
        _choice(rng, ["yes", "no"], [0.6, 0.4], 3000),
        _choice(rng, ["yes", "no"], [0.6, 0.4], 2000),
    )
    # Tests and thresholds set in the config.
    add(
        "psi_numeric_binned",
        "numeric",
        _normal(rng, 0, 5000),
        _normal(rng, 0.4, 3000),
        test="psi",
    )
    add(
        "psi_categorical_empty_bin",
        "categorical",
        _choice(rng, cats, p5, 2000),
        _choice(rng, cats[:4], [0.4, 0.3, 0.2, 0.1], 1500),
        test="psi",
    )
    rare = _choice(rng, cats[:4], [0.4, 0.3, 0.2, 0.1], 20000)
    rare[7] = "api"  # one row in 20,000: a share of 5e-5, below 1e-4
    add(
        "psi_categorical_tiny_share",
        "categorical",
        rare,
        _choice(rng, cats[:3], [0.4, 0.4, 0.2], 1000),
        test="psi",
    )
    add(
        "jensenshannon_numeric_binned",
        "numeric",
        _normal(rng, 0, 600),
        _normal(rng, 0.5, 400),
        test="jensenshannon",
    )
    add(
        "jensenshannon_numeric_15_values",
        "numeric",
        pd.Series(rng.integers(0, 15, 1500).astype(float)),
        pd.Series(rng.integers(2, 17, 1000).astype(float)),
        test="jensenshannon",
    )
    add(
        "ks_large_threshold",
        "numeric",
        _normal(rng, 0, 3000),
        _normal(rng, 0.08, 2000),
        test="ks",
        threshold=0.01,
    )
    add(
        "wasserstein_small_threshold",
        "numeric",
        _normal(rng, 0, 500),
        _normal(rng, 0.25, 400),
        test="wasserstein",
        threshold=0.3,
    )
    add(
        "chisquare_binary",
        "binary",
        _choice(rng, ["yes", "no"], [0.5, 0.5], 3000),
        _choice(rng, ["yes", "no"], [0.55, 0.45], 2000),
        test="chisquare",
    )
    add(
        "z_categorical",
        "categorical",
        _choice(rng, cats[:4], [0.4, 0.3, 0.2, 0.1], 800),
        _choice(rng, cats[:4], [0.3, 0.3, 0.2, 0.2], 600),
        test="z",
    )
    return cases


def verdict_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return a reference and a current frame of four columns (amount and channel shift)."""
    rng = np.random.default_rng(SEED + 1)
    reference = pd.DataFrame(
        {
            "amount": np.round(rng.normal(10, 2, 600), 4),
            "latency": np.round(rng.normal(5, 1, 600), 4),
            "channel": rng.choice(["email", "chat", "web_form"], 600, p=[0.5, 0.3, 0.2]),
            "is_new": rng.choice(["yes", "no"], 600, p=[0.3, 0.7]),
        }
    )
    current = pd.DataFrame(
        {
            "amount": np.round(rng.normal(11, 2, 400), 4),
            "latency": np.round(rng.normal(5, 1, 400), 4),
            "channel": rng.choice(["email", "chat", "web_form"], 400, p=[0.2, 0.3, 0.5]),
            "is_new": rng.choice(["yes", "no"], 400, p=[0.3, 0.7]),
        }
    )
    return reference, current


VERDICT_KINDS = {
    "amount": "numeric",
    "latency": "numeric",
    "channel": "categorical",
    "is_new": "binary",
}
