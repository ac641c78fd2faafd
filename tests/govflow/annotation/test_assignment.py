"""Seeded assignment: distinct annotators per item, balanced loads, gold mixed in."""

from __future__ import annotations

from collections import Counter

from govflow.annotation.assignment import assign_calibration, assign_round, plan_reassignment

ITEMS = [f"h{n:02d}" for n in range(30)]
PEOPLE = ["a", "b", "c", "d"]


def test_every_item_goes_to_overlap_distinct_annotators_with_loads_within_one():
    plan = assign_round(items=ITEMS, annotators=PEOPLE, gold=[], overlap=3, gold_rate=0, seed=1)
    per_item: dict[str, set[str]] = {}
    for item, person, is_gold in plan.rows:
        assert not is_gold
        per_item.setdefault(item, set()).add(person)
    assert set(per_item) == set(ITEMS)
    assert all(len(people) == 3 for people in per_item.values())
    loads = Counter(person for _, person, _ in plan.rows)
    assert sorted(loads.values()) == [22, 22, 23, 23]
    assert plan == assign_round(
        items=ITEMS, annotators=PEOPLE, gold=[], overlap=3, gold_rate=0, seed=1
    )


def test_gold_is_mixed_in_at_the_rate_and_items_that_are_gold_are_marked():
    gold = ["g1", "g2", "g3", "g4", "h00"]
    plan = assign_round(items=ITEMS, annotators=PEOPLE, gold=gold, overlap=2, gold_rate=0.2, seed=0)
    regular, mixed = plan.rows[:60], plan.rows[60:]  # mixed-in gold follows the regular rows
    assert Counter(person for _, person, _ in mixed) == {"a": 3, "b": 3, "c": 3, "d": 3}
    assert all(is_gold and item in gold for item, _, is_gold in mixed)
    for person in PEOPLE:  # nobody gets a gold item that is already in their regular work
        own = {item for item, p, _ in regular if p == person}
        assert not own & {item for item, p, _ in mixed if p == person}
    assert plan.gold_mixed_in == 12
    assert sum(1 for item, _, is_gold in plan.rows if item == "h00" and is_gold) >= 2
    counts = plan.counts(items=30, annotators=4)
    assert counts["assignments"] == 60 + 12


def test_reassignment_gives_missing_regular_items_to_the_least_loaded_other_annotator():
    moved, unplaced = plan_reassignment(
        missing=[("h1", "a", False), ("h2", "a", False), ("g1", "a", True), ("h3", "b", False)],
        active=["a", "b", "c", "d"],
        holders={"h1": {"a", "c"}, "h2": {"a"}, "h3": {"b", "c", "d"}},
        load={"a": 3, "b": 3, "c": 5, "d": 4},
    )
    assert moved == [("h1", "a", "d"), ("h2", "a", "c")]  # c and d tie at 5: by id
    assert unplaced == 1  # h3: every other active annotator holds it or is late


def test_calibration_gives_each_person_their_share_of_gold():
    pairs = assign_calibration(gold=["g1", "g2", "g3"], people=["a", "b"], per_person=2, seed=3)
    assert Counter(person for _, person in pairs) == {"a": 2, "b": 2}
    assert pairs == assign_calibration(
        gold=["g1", "g2", "g3"], people=["a", "b"], per_person=2, seed=3
    )
