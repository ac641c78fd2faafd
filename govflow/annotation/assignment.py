"""Who labels what: seeded assignment of a round's items, reassignment, calibration sets.

Pure numpy; the ledger (``govflow.ledger.rounds``) stores what these functions decide.

A round gives every distinct item to ``overlap`` annotators, round-robin over a seeded
shuffle so loads differ by at most one, and mixes in gold items (known answers) at
``gold_rate`` of each annotator's load: ``round(gold_rate * regular load)`` (half up),
chosen with the seed among gold items not already in their regular work (fewer if the
project has too few). An item of the round that is itself a gold item is marked gold on its
regular assignments too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Plan", "assign_calibration", "assign_round", "plan_reassignment"]


@dataclass(frozen=True)
class Plan:
    """Assignment rows (item, annotator, is_gold) and how many gold items were mixed in."""

    rows: list[tuple[str, str, bool]]
    gold_mixed_in: int

    def counts(self, *, items: int, annotators: int) -> dict[str, int]:
        return {
            "items": items,
            "annotators": annotators,
            "assignments": len(self.rows),
            "gold": sum(1 for _, _, is_gold in self.rows if is_gold),
        }


def assign_round(
    *,
    items: Sequence[str],
    annotators: Sequence[str],
    gold: Sequence[str],
    overlap: int,
    gold_rate: float,
    seed: int,
) -> Plan:
    """Deal ``items`` to ``overlap`` distinct annotators each and mix gold in (seeded)."""
    item_array = np.array(list(dict.fromkeys(items)), dtype=object)
    gold_set = set(gold)
    rng = np.random.default_rng(seed)
    people = np.array(list(annotators), dtype=object)[rng.permutation(len(annotators))]
    item_array = item_array[rng.permutation(len(item_array))]
    # Consecutive slots of one item go to consecutive annotators (mod n), so they are distinct
    # while overlap <= n, and dealing slots round-robin keeps loads within one of each other.
    slots = np.arange(len(item_array) * overlap)
    slot_items = item_array[slots // overlap]
    slot_people = people[slots % len(people)]
    rows = [(str(h), str(p), h in gold_set) for h, p in zip(slot_items, slot_people, strict=True)]
    gold_hashes = np.array(sorted(gold_set), dtype=object)
    mixed_in = 0
    for person in people:
        regular = slot_items[slot_people == person]
        wanted = int(np.floor(gold_rate * len(regular) + 0.5))
        candidates = gold_hashes[~np.isin(gold_hashes, regular)]
        take = min(wanted, len(candidates))
        if take == 0:
            continue
        chosen = candidates[np.sort(rng.choice(len(candidates), size=take, replace=False))]
        rows.extend((str(h), str(person), True) for h in chosen)
        mixed_in += take
    return Plan(rows=rows, gold_mixed_in=mixed_in)


def assign_calibration(
    *, gold: Sequence[str], people: Sequence[str], per_person: int, seed: int
) -> list[tuple[str, str]]:
    """Give each person ``per_person`` gold items (all of them if fewer), chosen with the seed."""
    rng = np.random.default_rng(seed)
    take = min(per_person, len(gold))
    return [
        (gold[int(index)], person)
        for person in people
        for index in np.sort(rng.choice(len(gold), size=take, replace=False))
    ]


def plan_reassignment(
    *,
    missing: Sequence[tuple[str, str, bool]],
    active: Sequence[str],
    holders: Mapping[str, set[str]],
    load: Mapping[str, int],
) -> tuple[list[tuple[str, str, str]], int]:
    """Give each missing regular item to another active annotator, least loaded first.

    ``missing`` holds (item, annotator, is_gold); ``holders`` who already has each item;
    returns (item, from, to) moves and how many items could not be placed. Gold work is for
    calibrating its annotator, so nobody else takes it over.
    """
    holders = {item: set(people) for item, people in holders.items()}
    load = Counter(load)
    late = {annotator for _, annotator, _ in missing}
    moved: list[tuple[str, str, str]] = []
    unplaced = 0
    for item, annotator, is_gold in missing:
        if is_gold:
            continue
        candidates = [p for p in active if p not in late and p not in holders.get(item, set())]
        if not candidates:
            unplaced += 1
            continue
        chosen = min(candidates, key=lambda p: (load[p], p))
        load[chosen] += 1
        holders.setdefault(item, set()).add(chosen)
        moved.append((item, annotator, chosen))
    return moved, unplaced
