"""Write Evidently's drift results for the shared cases to ``evidently_results.json``.

Evidently 0.7.23 does not import beside pandas 3 (it imports ``infer_dtype_from_object``,
which pandas 3 removed), so it is not a govflow dependency. Run this script in a virtualenv
of its own, with the numpy that govflow's venv has, from the repository root::

    python3.11 -m venv /tmp/evidently-oracle
    /tmp/evidently-oracle/bin/pip install evidently==0.7.23 "pandas<3" numpy==<govflow's>
    EVIDENTLY_DISABLE_TELEMETRY=1 PYTHONPATH=. /tmp/evidently-oracle/bin/python \\
        tests/govflow/monitoring/evidently_oracle.py

Each case goes through Evidently's own Report API (``DataDriftPreset`` for one column, with
the case's method and threshold), and through the legacy ``get_stattest`` to learn which
test it picked; both must agree. Cases whose override Evidently's registry refuses for the
column's type (none today) would fail here rather than be skipped.
"""

from __future__ import annotations

import json
import math
import sys

import evidently
import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.legacy.calculations.stattests import get_stattest
from evidently.legacy.core import ColumnType
from evidently.presets import DataDriftPreset

from tests.govflow.monitoring.drift_cases import (
    RESULTS,
    VERDICT_KINDS,
    DriftCase,
    build_cases,
    verdict_frames,
)


def _definition(kinds: dict[str, str]) -> DataDefinition:
    return DataDefinition(
        numerical_columns=[c for c, k in kinds.items() if k == "numeric"],
        categorical_columns=[c for c, k in kinds.items() if k != "numeric"],
    )


def _run_report(
    reference: pd.DataFrame, current: pd.DataFrame, kinds: dict[str, str], **preset: object
) -> dict[str, object]:
    definition = _definition(kinds)
    report = Report([DataDriftPreset(**preset)])  # type: ignore[arg-type]
    snapshot = report.run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    values: dict[str, object] = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith("DriftedColumnsCount"):
            values["count"] = metric["value"]["count"]
            values["share"] = metric["value"]["share"]
        elif config["type"].endswith("ValueDrift"):
            values[config["column"]] = {"score": metric["value"], "method": config["method"]}
    return values


def _case(case: DriftCase) -> dict[str, object]:
    column = "value"
    column_type = ColumnType.Numerical if case.kind == "numeric" else ColumnType.Categorical
    reference = case.reference.replace([-np.inf, np.inf], np.nan).dropna()
    current = case.current.replace([-np.inf, np.inf], np.nan).dropna()
    stattest = get_stattest(reference, current, column_type, case.test)
    legacy = stattest(reference, current, column_type, case.threshold)
    preset: dict[str, object] = {}
    if case.test is not None:
        preset["per_column_method"] = {column: case.test}
    if case.threshold is not None:
        preset["per_column_threshold"] = {column: case.threshold}
    report = _run_report(
        pd.DataFrame({column: case.reference}),
        pd.DataFrame({column: case.current}),
        {column: case.kind},
        **preset,
    )
    score = float(report[column]["score"])  # type: ignore[index]
    same = score == float(legacy.drift_score) or (
        math.isnan(score) and math.isnan(float(legacy.drift_score))
    )
    if not same or bool(report["count"]) != bool(legacy.drifted):
        raise SystemExit(f"{case.name}: Report and get_stattest disagree: {report} {legacy}")
    return {
        "digest": case.digest,
        "test": stattest.name,
        "score": score,
        "drifted": bool(legacy.drifted),
        "threshold": float(legacy.actual_threshold),
    }


def _demo_texts() -> dict[str, object]:
    """Run Evidently's text-content drift on the demo's production batches."""
    from evidently.legacy.calculations.stattests import (
        abs_text_content_drift_stat_test,
        perc_text_content_drift_stat_test,
    )

    data = RESULTS.parents[3] / "demo" / "data"
    training = []
    for line in (data / "support_tickets.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if row.get("text"):
            training.append(row["text"])
    reference = pd.Series(training)
    results: dict[str, object] = {}
    for number in (1, 2):
        path = data / "production" / f"batch-{number}.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines()
        current = pd.Series([json.loads(line)["text"] for line in lines])
        found = {}
        for test in (abs_text_content_drift_stat_test, perc_text_content_drift_stat_test):
            outcome = test(reference, current, ColumnType.Text, None)
            found[test.name] = {
                "roc_auc": float(outcome.drift_score),
                "drifted": bool(outcome.drifted),
            }
        results[f"batch-{number}"] = found
    return results


def main() -> int:
    cases = {case.name: _case(case) for case in build_cases()}
    reference, current = verdict_frames()
    verdict = _run_report(reference, current, VERDICT_KINDS)
    document = {
        "evidently": evidently.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "cases": cases,
        "verdict": {
            "count": verdict["count"],
            "share": verdict["share"],
            "scores": {c: verdict[c]["score"] for c in VERDICT_KINDS},  # type: ignore[index]
        },
        "demo_text": _demo_texts(),
    }
    RESULTS.write_text(json.dumps(document, indent=1, allow_nan=True) + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} cases and the verdict frame to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
