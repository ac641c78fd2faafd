"""What generators take and give: seed items, synthetic rows with provenance, rejected rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from govflow.hashing import sha256_text

__all__ = [
    "Generated",
    "Provenance",
    "RejectedRow",
    "SeedItem",
    "SyntheticRow",
    "guideline_seeds",
    "seeds_from_frame",
    "synthetic_frame",
]


@dataclass(frozen=True)
class SeedItem:
    """An organic item (or a guideline example) a generator may start from."""

    item_hash: str
    text: str
    label: str


@dataclass(frozen=True)
class Provenance:
    """Where a synthetic row came from: enough to make it again."""

    generator: str
    generator_version: str
    config_hash: str
    seed: int
    prompt_hash: str | None
    seed_items: tuple[str, ...]
    operations: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "generator": self.generator,
            "generator_version": self.generator_version,
            "config_hash": self.config_hash,
            "seed": self.seed,
            "prompt_hash": self.prompt_hash,
            "seed_items": list(self.seed_items),
            "operations": list(self.operations),
        }


@dataclass(frozen=True)
class SyntheticRow:
    """One generated item with the label it was made for."""

    text: str
    label: str
    provenance: Provenance


@dataclass(frozen=True)
class RejectedRow:
    """Something a generator returned that is not a usable row, and why."""

    label: str
    reason: str
    returned: str


@dataclass(frozen=True)
class Generated:
    """A generator's answer for one class: rows, rejected answers, rows asked for."""

    rows: list[SyntheticRow]
    rejected: list[RejectedRow] = field(default_factory=list)
    requested: int = 0


def seeds_from_frame(
    frame: pd.DataFrame, hashes: Iterable[str], *, label: str, text_column: str = "text"
) -> list[SeedItem]:
    """Return the rows of ``frame`` labelled ``label`` as seeds, ordered by item hash."""
    seeds = [
        SeedItem(item_hash=h, text=str(text), label=label)
        for h, text, row_label in zip(hashes, frame[text_column], frame["label"], strict=True)
        if row_label == label and isinstance(text, str) and text.strip()
    ]
    return sorted(seeds, key=lambda s: s.item_hash)


def guideline_seeds(examples: Iterable[Mapping[str, Any]], *, label: str) -> list[SeedItem]:
    """Return the guideline's examples of ``label`` as seeds (keyed ``guideline:<hash>``)."""
    return [
        SeedItem(item_hash="guideline:" + sha256_text(e["text"])[:16], text=e["text"], label=label)
        for e in examples
        if e.get("label") == label and isinstance(e.get("text"), str)
    ]


def synthetic_frame(rows: list[SyntheticRow], *, batch_id: str) -> pd.DataFrame:
    """Return one flat row per synthetic item: text, label, train split, origin, provenance."""
    return pd.DataFrame(
        {
            "text": [r.text for r in rows],
            "label": [r.label for r in rows],
            "split": ["train"] * len(rows),  # synthetic rows never enter a test split
            "origin": ["synthetic"] * len(rows),
            "synthetic_batch": [batch_id] * len(rows),
            "generator": [r.provenance.generator for r in rows],
            "generator_version": [r.provenance.generator_version for r in rows],
            "config_hash": [r.provenance.config_hash for r in rows],
            "seed": [r.provenance.seed for r in rows],
            "prompt_hash": [r.provenance.prompt_hash for r in rows],
            "seed_items": [",".join(r.provenance.seed_items) for r in rows],
        }
    )
