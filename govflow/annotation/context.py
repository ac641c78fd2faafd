"""What an annotation round works on: the version's distinct items and the guideline in force."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["RoundContext", "item_keys"]


@dataclass(frozen=True)
class RoundContext:
    """What the rest of the flow needs to know about the round's inputs."""

    dataset: str
    version_id: str
    guideline_id: str
    guideline_version: int
    label_set: list[str]
    ordinal: bool
    guideline_excerpt: str
    hashes: list[str]
    records: list[dict[str, Any]]
    keys: dict[str, str]  # item hash -> the key people see in forms

    @property
    def records_by_hash(self) -> dict[str, dict[str, Any]]:
        return dict(zip(self.hashes, self.records, strict=True))

    @property
    def hashes_by_key(self) -> dict[str, str]:
        return {key: item for item, key in self.keys.items()}


def item_keys(
    records: list[dict[str, Any]], hashes: list[str], field: str | None
) -> dict[str, str]:
    """Name items in forms by ``field`` when it is present and unique, else by a short hash."""
    if field:
        values = [str(r.get(field)) if r.get(field) is not None else None for r in records]
        usable = [v for v in values if v]
        if len(usable) == len(values) and len(set(usable)) == len(usable):
            return dict(zip(hashes, usable, strict=True))
    return {h: h[:12] for h in hashes}
