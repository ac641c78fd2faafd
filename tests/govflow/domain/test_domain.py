"""The one tier rule and the label enums."""

from __future__ import annotations

import pytest

from govflow.domain import (
    TIER_ROLES,
    LabelSource,
    Role,
    may_answer_tier,
    tier_audience,
)


@pytest.mark.parametrize(
    ("roles", "tier", "expected"),
    [
        (["annotator"], 1, False),
        (["reviewer"], 1, True),
        (["specialist"], 1, True),
        (["lead"], 1, True),
        (["annotator"], 2, False),
        (["reviewer"], 2, False),
        (["specialist"], 2, True),
        (["lead"], 2, True),
        (["annotator", "specialist"], 2, True),
        ([], 1, False),
    ],
)
def test_may_answer_tier_follows_the_tier_roles(roles, tier, expected):
    assert may_answer_tier(roles, tier) is expected


def test_tier_roles_are_reviewers_up_at_tier_1_and_specialists_up_at_tier_2():
    assert {
        1: frozenset({Role.REVIEWER, Role.SPECIALIST, Role.LEAD}),
        2: frozenset({Role.SPECIALIST, Role.LEAD}),
    } == TIER_ROLES
    assert tier_audience(1) == "reviewers, specialists and leads"
    assert tier_audience(2) == "specialists and leads"


def test_may_answer_tier_refuses_an_unknown_tier():
    with pytest.raises(ValueError, match="unknown review tier 3: review tiers are 1 and 2"):
        may_answer_tier(["lead"], 3)


def test_label_source_for_tier_names_the_tier():
    assert LabelSource.for_tier(1) is LabelSource.TIER1
    assert LabelSource.for_tier(2) is LabelSource.TIER2
