"""The spot-check: how many rows people look at, which ones, and what their answers mean.

Zero-acceptance sampling: with a tolerated defect rate ``p``, a sample of
``n = ceil(ln(0.05) / ln(1 - p))`` rows with no defect shows, at 95% confidence, that the
batch's defect rate is below ``p`` (59 rows at p = 5%); a smaller batch is checked whole.
One defect (wrong label, unrealistic) fails the batch.
"""

from __future__ import annotations

import enum
import math
import random
import re
from collections.abc import Sequence

from govflow.hashing import sha256_text

__all__ = [
    "DEFECTS",
    "SpotCheckChoice",
    "batch_passes",
    "nearest_organic",
    "sample_positions",
    "spot_check_size",
]

_CONFIDENCE = 0.05


class SpotCheckChoice(enum.StrEnum):
    ACCEPT = "accept"
    WRONG_LABEL = "wrong_label"
    UNREALISTIC = "unrealistic"


DEFECTS = frozenset({SpotCheckChoice.WRONG_LABEL.value, SpotCheckChoice.UNREALISTIC.value})


def spot_check_size(batch_rows: int, *, defect_rate: float) -> int:
    """Return the sample size for ``batch_rows`` rows at tolerated ``defect_rate``."""
    n = math.ceil(math.log(_CONFIDENCE) / math.log(1.0 - defect_rate))
    return min(n, batch_rows)


def sample_positions(batch_rows: int, size: int, *, seed: int, batch_id: str) -> list[int]:
    """Return ``size`` row positions, sorted, chosen by a seed tied to the batch."""
    rng = random.Random(int(sha256_text(f"{batch_id}\n{seed}")[:16], 16))
    return sorted(rng.sample(range(batch_rows), size))


def batch_passes(choices: Sequence[str]) -> bool:
    """Tell whether a sample's answers pass the batch: every sampled row accepted."""
    return all(choice == SpotCheckChoice.ACCEPT.value for choice in choices)


def _grams(text: str) -> set[str]:
    flat = re.sub(r"\s+", " ", text.lower())
    return {flat[i : i + 5] for i in range(max(len(flat) - 4, 1))}


def nearest_organic(text: str, organic: Sequence[str]) -> tuple[int, float] | None:
    """Return the organic text closest to ``text`` (exact Jaccard of character 5-grams)."""
    grams = _grams(text)
    best: tuple[int, float] | None = None
    for i, other in enumerate(organic):
        theirs = _grams(other)
        score = len(grams & theirs) / len(grams | theirs) if grams | theirs else 0.0
        if best is None or score > best[1]:
            best = (i, round(score, 3))
    return best
