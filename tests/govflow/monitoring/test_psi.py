"""Population stability of predicted labels and confidences, against a textbook PSI."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from govflow.errors import InputError
from govflow.monitoring.config import PsiSettings
from govflow.monitoring.psi import (
    EMPTY_BIN_SHARE,
    PsiBand,
    confidence_psi,
    fill_empty_bins,
    label_psi,
    psi_band,
    psi_value,
)

LABELS = ["billing", "bug", "account", "feature_request", "other"]
SETTINGS = PsiSettings()


def textbook_psi(expected_counts: dict[str, int], actual_counts: dict[str, int]) -> float:
    """PSI as credit-scoring texts write it: sum (A% - E%) ln(A% / E%), empty bins at 1e-4."""
    n_expected = sum(expected_counts.values())
    n_actual = sum(actual_counts.values())
    total = 0.0
    for key in set(expected_counts) | set(actual_counts):
        e = expected_counts.get(key, 0) / n_expected or 0.0001
        a = actual_counts.get(key, 0) / n_actual or 0.0001
        total += (a - e) * math.log(a / e)
    return total


def test_label_psi_equals_the_textbook_formula() -> None:
    reference = {"billing": 40, "bug": 30, "account": 20, "feature_request": 6, "other": 4}
    current = {"billing": 70, "bug": 10, "account": 12, "feature_request": 8}
    result = label_psi(
        pd.Series([k for k, n in reference.items() for _ in range(n)]),
        pd.Series([k for k, n in current.items() for _ in range(n)]),
        label_set=LABELS,
        settings=SETTINGS,
    )
    assert result.psi == pytest.approx(textbook_psi(reference, current), rel=1e-12)
    assert result.band is PsiBand.MAJOR
    assert result.bins == LABELS
    assert result.reference_shares == [0.4, 0.3, 0.2, 0.06, 0.04]
    assert result.current_shares == [0.7, 0.1, 0.12, 0.08, 0.0]
    assert (result.n_reference, result.n_current) == (100, 100)


def test_label_psi_ignores_error_rows_and_labels_nobody_predicted() -> None:
    reference = pd.Series(["billing"] * 60 + ["bug"] * 40 + [None] * 7)
    current = pd.Series(["billing"] * 50 + ["bug"] * 50 + [None] * 30)
    result = label_psi(reference, current, label_set=LABELS, settings=SETTINGS)
    expected = (0.5 - 0.6) * math.log(0.5 / 0.6) + (0.5 - 0.4) * math.log(0.5 / 0.4)
    assert result.psi == pytest.approx(expected, rel=1e-12)
    assert (result.n_reference, result.n_current) == (100, 100)


def test_label_psi_adds_a_bin_for_a_label_outside_the_label_set() -> None:
    result = label_psi(
        pd.Series(["billing", "bug"] * 10),
        pd.Series(["billing", "bug", "refund"] * 10),
        label_set=LABELS,
        settings=SETTINGS,
    )
    assert result.bins == [*LABELS, "refund"]
    assert result.current_shares[-1] == pytest.approx(1 / 3)


def test_confidence_psi_cuts_at_reference_deciles() -> None:
    reference = pd.Series(np.arange(1, 1001) / 1000)
    current = pd.Series(np.full(200, 0.995))
    result = confidence_psi(reference, current, settings=SETTINGS)
    assert len(result.bins) == 10
    assert result.bins[0] == "(-inf, 0.1009]" and result.bins[-1] == "(0.9001, inf)"
    assert result.reference_shares == pytest.approx([0.1] * 10)
    assert result.current_shares == [0.0] * 9 + [1.0]
    expected = 9 * (0.1 - EMPTY_BIN_SHARE) * math.log(0.1 / EMPTY_BIN_SHARE) + (
        0.1 - 1.0
    ) * math.log(0.1)
    assert result.psi == pytest.approx(expected, rel=1e-12)


def test_confidence_psi_merges_repeated_deciles_of_tied_confidences() -> None:
    # Six in ten reference confidences are exactly 1.0: the 50th-90th percentiles coincide.
    reference = pd.Series([1.0] * 600 + list(np.linspace(0.5, 0.99, 400)))
    current = pd.Series([1.0] * 300 + list(np.linspace(0.5, 0.99, 700)))
    result = confidence_psi(reference, current, settings=SETTINGS)
    assert len(result.bins) == 6
    assert result.bins[-2:] == ["(0.996, 1]", "(1, inf)"]
    assert result.reference_shares[-2:] == [0.6, 0.0]
    assert result.current_shares[-2:] == [0.3, 0.0]


def test_confidence_psi_with_fixed_bins_uses_tenths_and_skips_empty_bins() -> None:
    fixed = PsiSettings(confidence_bins="fixed")
    reference = pd.Series([0.15] * 50 + [0.95] * 50)
    current = pd.Series([0.15] * 20 + [0.95] * 80 + [np.nan] * 5)
    result = confidence_psi(reference, current, settings=fixed)
    assert result.bins[1] == "(0.1, 0.2]" and len(result.bins) == 10
    expected = (0.2 - 0.5) * math.log(0.2 / 0.5) + (0.8 - 0.5) * math.log(0.8 / 0.5)
    assert result.psi == pytest.approx(expected, rel=1e-12)
    assert result.n_current == 100


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0.0, PsiBand.STABLE),
        (0.0999, PsiBand.STABLE),
        (0.1, PsiBand.MODERATE),
        (0.25, PsiBand.MODERATE),
        (0.2501, PsiBand.MAJOR),
    ],
)
def test_psi_band_reads_under_0_1_stable_to_0_25_moderate_above_major(
    value: float, band: PsiBand
) -> None:
    assert psi_band(value, settings=SETTINGS) is band


def test_fill_empty_bins_uses_a_millionth_of_a_share_at_most_1e_4() -> None:
    assert fill_empty_bins([0.5, 0.0, 0.5]).tolist() == [0.5, 1e-4, 0.5]
    assert fill_empty_bins([0.99995, 0.0, 0.00005]).tolist() == [0.99995, 5e-11, 0.00005]
    assert psi_value([0.5, 0.5], [0.5, 0.5]) == 0.0


def test_confidence_psi_refuses_a_batch_without_confidences() -> None:
    with pytest.raises(InputError) as caught:
        confidence_psi(pd.Series([0.5, 0.9]), pd.Series([np.nan, np.nan]), settings=SETTINGS)
    assert str(caught.value) == "confidence: the current batch has no values"


def test_label_psi_refuses_an_empty_reference() -> None:
    with pytest.raises(InputError) as caught:
        label_psi(
            pd.Series([], dtype=object), pd.Series(["bug"]), label_set=LABELS, settings=SETTINGS
        )
    assert str(caught.value) == "predicted_label: the reference has no values to compare with"
