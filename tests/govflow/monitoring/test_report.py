"""The batch report: exact Markdown and rows for a known result, and for the demo's batch 2."""

from __future__ import annotations

from govflow.monitoring.batch import BatchMonitoring, monitor_batch
from govflow.monitoring.config import ColumnKind, DriftTest
from govflow.monitoring.drift import ColumnDrift, DriftSummary
from govflow.monitoring.performance import AccuracyStatus, ExpectedAccuracy, RealizedAccuracy
from govflow.monitoring.psi import PsiBand, PsiResult
from govflow.monitoring.report import batch_markdown, drift_rows, reason_counts, summary_row
from govflow.monitoring.text import (
    DomainClassifierResult,
    OovResult,
    TextDrift,
    TokenCount,
    TokenWeight,
)
from tests.govflow.monitoring.conftest import DemoSetting


def drift(column: str, kind: ColumnKind, test: DriftTest, **fields: object) -> ColumnDrift:
    values: dict[str, object] = {
        "is_default_test": True,
        "p_value": None,
        "n_reference": 500,
        "n_current": 200,
    }
    return ColumnDrift(column=column, kind=kind, test=test, **(values | fields))  # type: ignore[arg-type]


def psi(name: str, value: float, band: PsiBand, floor: float) -> PsiResult:
    return PsiResult(
        name=name,
        psi=value,
        band=band,
        bins=["a", "b"],
        reference_shares=[0.5, 0.5],
        current_shares=[0.4, 0.6],
        n_reference=500,
        n_current=200,
        noise_floor=floor,
    )


def known_result() -> BatchMonitoring:
    text = TextDrift(
        column="text",
        length=drift(
            "text length",
            ColumnKind.NUMERIC,
            DriftTest.KS,
            statistic=0.08,
            p_value=0.31,
            threshold=0.05,
            drifted=False,
        ),
        oov=OovResult(
            rate=0.125,
            threshold=0.1,
            drifted=True,
            n_tokens=2400,
            n_unknown=300,
            vocabulary_size=900,
            top_unknown=[
                TokenCount(token="zephyr", count=91),
                TokenCount(token="upgrade", count=15),
            ],
        ),
        domain=DomainClassifierResult(
            roc_auc=0.8712,
            threshold=0.55,
            drifted=True,
            folds=5,
            seed=13,
            n_reference=500,
            n_current=200,
            current_tokens=[TokenWeight(token="zephyr", weight=3.2)],
            reference_tokens=[TokenWeight(token="export", weight=-1.1)],
        ),
    )
    columns = [
        text.as_column_drift(),
        drift(
            "channel",
            ColumnKind.CATEGORICAL,
            DriftTest.CHISQUARE,
            statistic=2.6,
            p_value=0.4573,
            threshold=0.05,
            drifted=False,
        ),
        drift(
            "predicted_label",
            ColumnKind.CATEGORICAL,
            DriftTest.CHISQUARE,
            statistic=float("inf"),
            p_value=0.0,
            threshold=0.05,
            drifted=True,
        ),
        drift(
            "confidence",
            ColumnKind.NUMERIC,
            DriftTest.PSI,
            is_default_test=False,
            statistic=0.31,
            threshold=0.2,
            drifted=True,
        ),
    ]
    return BatchMonitoring(
        project="support-intent",
        n_rows=200,
        n_reference=500,
        drift=DriftSummary(
            columns=columns, drift_share=0.5, n_drifted=3, share_drifted=0.75, drifted=True
        ),
        text=[text],
        label_psi=psi("predicted_label", 0.6773, PsiBand.MAJOR, 0.089),
        confidence_psi=psi("confidence", 0.15, PsiBand.MODERATE, 0.2),
        expected_accuracy=ExpectedAccuracy(
            value=0.827,
            minimum=0.85,
            status=AccuracyStatus.BELOW,
            n_rows=198,
            n_without_confidence=2,
            method="isotonic",
        ),
        realized_accuracy=RealizedAccuracy(
            n_labeled=52,
            n_correct=45,
            accuracy=45 / 52,
            ci_low=0.747,
            ci_high=0.933,
            confidence_level=0.95,
            minimum=0.85,
            status=AccuracyStatus.OK,
            is_certain=False,
        ),
        to_people={
            2: "confidence 0.33 below 0.40 for billing",
            5: "confidence 0.20 below 0.40 for billing; random sample",
            9: "random sample",
            11: "no prediction",
        },
    )


EXPECTED_MARKDOWN = """\
# Monitoring: support-intent

200 production rows against 500 reference rows. Verdict: **drifted**: 3 of 4 columns drifted \
(drift share 50%).

## Alerts

- drift in 3 of 4 columns (text, predicted_label, confidence), at or above the drift share 50%
- text: new wording (classifier ROC AUC 0.87), most telling words 'zephyr'
- text: 12.5% of words unknown to the reference (limit 10.0%): 'zephyr' x91, 'upgrade' x15
- predicted_label: major shift (PSI 0.677, 0.089 expected by chance)
- expected accuracy 82.7% below 85.0%

## Drift per column

| column | kind | test | statistic | p-value | threshold | drifted |
|---|---|---|---|---|---|---|
| text | text | domain_classifier | 0.8712 |  | 0.55 | yes |
| channel | categorical | chisquare | 2.6 | 0.4573 | 0.05 | no |
| predicted_label | categorical | chisquare | inf | 0 | 0.05 | yes |
| confidence | numeric | psi (config) | 0.31 |  | 0.2 | yes |

## Text: text

- Length: ks p = 0.31 against 0.05 (no drift).
- Out of vocabulary: 12.5% of 2,400 words (limit 10.0%); drifted. Most frequent: `zephyr` x91, \
`upgrade` x15.
- Domain classifier: ROC AUC 0.871 (drift above 0.55; 5-fold, 500 reference and 200 current \
texts). Words of the current batch: `zephyr`.

## Output stability (PSI)

| distribution | PSI | band | expected by chance |
|---|---|---|---|
| predicted_label | 0.6773 | major | 0.0890 |
| confidence | 0.1500 | moderate | 0.2000 |

## Accuracy

- Expected accuracy: 82.7% (isotonic calibration, 198 rows with a confidence), minimum 85.0%: \
below.
- Realized accuracy: 86.5% (45 of 52 labeled rows; 95% Wilson interval 74.7% to 93.3%), minimum \
85.0%: ok.

## Sent to people

4 of 200 outputs (2.0%): confidence below threshold 2, random sample 2, no prediction 1.
"""


def test_batch_markdown_renders_every_section_exactly() -> None:
    assert batch_markdown(known_result()) == EXPECTED_MARKDOWN


def test_alerts_leave_out_a_psi_shift_that_chance_explains() -> None:
    alerts = known_result().alerts()
    assert not any(alert.startswith("confidence:") for alert in alerts)


def test_reason_counts_count_each_condition_of_a_combined_reason() -> None:
    assert reason_counts(known_result()) == {
        "confidence below threshold": 2,
        "random sample": 2,
        "no prediction": 1,
    }


def test_drift_rows_hold_test_statistic_and_threshold_per_column() -> None:
    rows = drift_rows(known_result(), batch="2026-12-02")
    assert rows[2] == {
        "batch": "2026-12-02",
        "column": "predicted_label",
        "kind": "categorical",
        "test": "chisquare",
        "statistic": float("inf"),
        "p_value": 0.0,
        "score": 0.0,
        "threshold": 0.05,
        "is_p_value": True,
        "drifted": True,
    }
    assert [row["score"] for row in rows] == [0.8712, 0.4573, 0.0, 0.31]


def test_summary_row_holds_the_headline_figures() -> None:
    assert summary_row(known_result(), batch="b2") == {
        "batch": "b2",
        "rows": 200,
        "drifted": True,
        "drifted_columns": 3,
        "monitored_columns": 4,
        "label_psi": 0.6773,
        "confidence_psi": 0.15,
        "expected_accuracy": 0.827,
        "realized_accuracy": 45 / 52,
        "labeled_rows": 52,
        "to_people": 4,
    }


def test_batch_markdown_of_the_demo_batch_names_the_new_product(demo: DemoSetting) -> None:
    result = monitor_batch(
        demo.batches[2], demo.reference, demo.config, calibration=demo.calibration
    )
    markdown = batch_markdown(result, title="support-intent, batch 2")
    assert markdown.startswith("# support-intent, batch 2\n\n150 production rows against 158")
    assert "Most frequent: `zephyr` x91" in markdown
    assert f"{result.n_to_people} of 150 outputs" in markdown
