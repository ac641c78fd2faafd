"""The slice scan: weak slices flagged with Fisher tests and Benjamini-Hochberg, small skipped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import false_discovery_control, fisher_exact

from govflow.errors import InputError
from govflow.evaluation.slicescan import Severity, scan_slices


def rows(label: str, n: int, right: int, *, source: str = "email", length: int = 40, **extra):
    """``n`` rows of one true label of which ``right`` are answered correctly."""
    wrong = "other" if label != "other" else "bug"
    return [
        {
            "text": "x" * length,
            "label": label,
            "predicted": label if i < right else wrong,
            "source": source,
            **extra,
        }
        for i in range(n)
    ]


def frame(*groups: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([row for group in groups for row in group])


def test_a_clearly_weaker_class_is_flagged_major_and_tests_match_scipy():
    data = frame(
        rows("billing", 300, 285),
        rows("bug", 300, 282),
        rows("account", 200, 120),  # 0.60 against about 0.86 overall
        rows("other", 10, 2),  # too small to test
    )

    scan = scan_slices(data)

    assert scan.n == 810
    assert scan.overall_accuracy == pytest.approx((285 + 282 + 120 + 2) / 810)
    tested = {s.name: s for s in scan.tested}
    account = tested["label=account"]
    assert (account.n, account.correct, account.accuracy) == (200, 120, 0.6)
    expected_p = fisher_exact([[120, 80], [569, 41]]).pvalue
    assert account.p_value == pytest.approx(expected_p, rel=1e-12)
    adjusted = false_discovery_control([s.p_value for s in scan.tested], method="bh")
    assert [s.adjusted_p for s in scan.tested] == pytest.approx(list(adjusted), rel=1e-12)
    assert account.severity == Severity.MAJOR
    assert [s.name for s in scan.flagged] == ["label=account"]
    assert ("label=other", 10) in scan.skipped
    # Every row has source=email and the same length: slices holding every row are skipped.
    assert ("source=email", 810) in scan.skipped


def test_a_gap_that_is_not_significant_after_correction_is_not_flagged():
    # 25 rows at 0.76 against about 0.9: a 15% relative gap, but 25 rows prove little.
    data = frame(rows("billing", 400, 362), rows("bug", 400, 360), rows("account", 25, 19))

    scan = scan_slices(data)

    account = next(s for s in scan.tested if s.name == "label=account")
    assert account.relative_gap > 0.10
    assert account.adjusted_p > 0.05
    assert account.severity == Severity.NONE
    assert scan.flagged == ()


def test_a_small_relative_gap_is_not_flagged_however_significant():
    # 0.87 against about 0.90 on thousands of rows: significant, but a 3.6% gap.
    data = frame(rows("billing", 6000, 5460), rows("bug", 6000, 5220))

    scan = scan_slices(data)

    bug = next(s for s in scan.tested if s.name == "label=bug")
    assert bug.adjusted_p < 0.05
    assert 0 < bug.relative_gap < 0.05
    assert bug.severity == Severity.NONE


def test_a_gap_between_minor_and_major_is_minor():
    data = frame(rows("billing", 3000, 2850), rows("bug", 3000, 2550))

    scan = scan_slices(data)

    bug = next(s for s in scan.tested if s.name == "label=bug")
    # overall 0.9, bug 0.85: a relative gap of 5.6%
    assert bug.relative_gap == pytest.approx((0.9 - 0.85) / 0.9)
    assert bug.severity == Severity.MINOR


def test_text_length_quartiles_source_and_origin_are_scanned():
    data = frame(
        rows("billing", 40, 38, length=10, source="chat", origin="organic"),
        rows("billing", 40, 38, length=20, source="chat", origin="organic"),
        rows("billing", 40, 38, length=30, source="email", origin="organic"),
        rows("billing", 40, 10, length=50, source="email", origin="synthetic"),
    )

    scan = scan_slices(data)

    assert [(s.name, s.n) for s in scan.tested if s.feature == "length"] == [
        ("length Q1 (<= 17 chars)", 40),
        ("length Q2 (18-25 chars)", 40),
        ("length Q3 (26-35 chars)", 40),
        ("length Q4 (> 35 chars)", 40),
    ]
    names = {s.name for s in scan.tested}
    assert {"source=chat", "source=email", "origin=organic", "origin=synthetic"} <= names
    assert {s.name for s in scan.flagged} == {
        "length Q4 (> 35 chars)",
        "origin=synthetic",
        "source=email",
    }
    assert ("label=billing", 160) in scan.skipped


def test_adapter_errors_are_left_out_of_the_scan():
    data = frame(rows("billing", 50, 45), rows("bug", 50, 45))
    data.loc[0, "predicted"] = None
    data.loc[1, "error"] = "timeout"
    data.loc[2, "error"] = ""

    scan = scan_slices(data)

    assert (scan.n, scan.excluded_errors) == (98, 2)
    assert next(s for s in scan.tested if s.name == "label=billing").n == 48


def test_missing_columns_are_one_input_error():
    with pytest.raises(InputError) as caught:
        scan_slices(pd.DataFrame({"text": ["a"], "label": ["bug"]}))

    assert str(caught.value) == (
        "slice scan needs columns text, label, predicted; missing: predicted"
    )


def test_min_examples_setting_decides_what_is_skipped():
    data = frame(rows("billing", 100, 90), rows("bug", 30, 27))

    default = scan_slices(data)
    strict = scan_slices(data, min_examples=50)

    assert "label=bug" in {s.name for s in default.tested}
    assert ("label=bug", 30) in strict.skipped
    assert np.isfinite([s.p_value for s in default.tested]).all()


def test_a_suites_scan_settings_are_the_scan_arguments():
    from govflow.evaluation.suites import load_evaluation_suite, suite_path

    settings = load_evaluation_suite(suite_path("support-intent")).suite.slice_scan
    data = frame(rows("billing", 300, 285), rows("bug", 300, 282), rows("account", 200, 120))

    scan = scan_slices(data, **settings.model_dump())

    assert [s.name for s in scan.flagged] == ["label=account"]
