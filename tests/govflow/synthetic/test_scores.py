from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from govflow.errors import CapExceeded
from govflow.synthetic.fidelity import (
    class_fidelity,
    distinct_n,
    diversity,
    length_fidelity,
    vocabulary_fidelity,
)
from govflow.synthetic.mixing import CapWaiver, check_caps, mix
from govflow.synthetic.plan import Caps, CheckThresholds
from govflow.synthetic.sampling import (
    batch_passes,
    nearest_organic,
    sample_positions,
    spot_check_size,
)

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_length_fidelity_is_the_ks_complement():
    assert length_fidelity(["aa", "bbbb"], ["cc", "dddd"]) == 1.0
    # lengths {1, 2} vs {3, 4}: the empirical CDFs differ by 1 at 2
    assert length_fidelity(["a", "bb"], ["ccc", "dddd"]) == 0.0
    assert length_fidelity(["a", "bb", "ccc", "dddd"], ["aa", "bbbb"]) == 0.75


def test_vocabulary_fidelity_is_the_tv_complement():
    assert vocabulary_fidelity(["a b"], ["b a"]) == 1.0
    # p = {a: .5, b: .5}, q = {a: .25, c: .75}: TV = 0.5 * (.25 + .5 + .75) = 0.75
    assert vocabulary_fidelity(["a b"], ["a c c c"]) == pytest.approx(0.25)


def test_class_fidelity_lists_missed_thresholds():
    scores = class_fidelity("billing", ["a b", "a b c"], ["x y z w"], CheckThresholds())
    assert scores.missed == ["length 0.000 < 0.4", "vocabulary 0.000 < 0.55"]
    assert not scores.passed


def test_distinct_n_and_diversity():
    assert distinct_n(["a b a b"], 1) == 0.5
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    scores = diversity(["a b a b", "a b"], near_duplicates=1, thresholds=CheckThresholds())
    assert scores.near_duplicate_share == 0.5
    assert scores.missed == ["near-duplicate share 0.500 > 0.2"]


@pytest.mark.parametrize(
    ("rows", "p", "size"), [(500, 0.05, 59), (500, 0.01, 299), (500, 0.1, 29), (21, 0.05, 21)]
)
def test_spot_check_size_is_zero_acceptance_sampling(rows, p, size):
    assert spot_check_size(rows, defect_rate=p) == size


def test_sample_is_seeded_and_one_defect_fails():
    first = sample_positions(100, 10, seed=1, batch_id="b1")
    assert first == sample_positions(100, 10, seed=1, batch_id="b1")
    assert first != sample_positions(100, 10, seed=2, batch_id="b1")
    assert first == sorted(first) and len(set(first)) == 10
    assert batch_passes(["accept", "accept"])
    assert not batch_passes(["accept", "wrong_label"])
    assert not batch_passes(["unrealistic"])


def test_nearest_organic_neighbour():
    # 13 five-grams of "refund my invoice", all in the 14 of "refund my invoices"
    assert nearest_organic("refund my invoice", ["crash on export", "refund my invoices"]) == (
        1,
        0.929,
    )


def frames(organic_counts, synthetic_counts):
    organic = pd.DataFrame(
        {
            "text": "t",
            "label": [k for k, n in organic_counts.items() for _ in range(n)],
            "split": "train",
        }
    )
    synthetic = pd.DataFrame(
        {"text": "s", "label": [k for k, n in synthetic_counts.items() for _ in range(n)]}
    )
    return organic, synthetic


def test_caps_name_the_class_and_the_numbers():
    organic, synthetic = frames({"billing": 50, "bug": 250}, {"billing": 60})
    assert check_caps(organic["label"], synthetic["label"], Caps()) == [
        "billing: 60 synthetic of 110 rows = 54.5% above the cap 50%"
    ]
    organic, synthetic = frames({"billing": 50, "bug": 50}, {"billing": 20, "bug": 20})
    assert check_caps(organic["label"], synthetic["label"], Caps()) == [
        "all classes: 40 synthetic of 140 rows = 28.6% above the cap 20%"
    ]
    with pytest.raises(CapExceeded) as err:
        mix(organic, synthetic, caps=Caps(), now=NOW)
    assert str(err.value) == (
        "synthetic share above the cap: all classes: 40 synthetic of 140 rows = 28.6% "
        "above the cap 20%"
    )


def test_mix_within_caps_marks_origin_and_keeps_synthetic_in_train():
    organic, synthetic = frames({"billing": 24, "bug": 134}, {"billing": 21})
    mixed = mix(organic, synthetic, caps=Caps(), now=NOW)
    assert len(mixed) == 179
    assert mixed["origin"].value_counts().to_dict() == {"organic": 158, "synthetic": 21}
    assert set(mixed[mixed.origin == "synthetic"]["split"]) == {"train"}


def test_a_valid_waiver_allows_the_mix_and_an_expired_one_does_not():
    organic, synthetic = frames({"billing": 50, "bug": 250}, {"billing": 60})
    waiver = CapWaiver(reviewer_id="lee", reason="rare class", expires_at=NOW + timedelta(days=1))
    assert len(mix(organic, synthetic, caps=Caps(), waiver=waiver, now=NOW)) == 360
    with pytest.raises(CapExceeded):
        mix(organic, synthetic, caps=Caps(), waiver=waiver, now=NOW + timedelta(days=2))
