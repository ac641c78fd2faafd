"""The demo project's monitoring setting, built for real once per session.

A scikit-learn text model (govflow's embedded default) is trained on 60% of the demo's
training tickets with their true intents (``demo/data/support_tickets.truth.jsonl``) and
evaluated on the other 40%. The reference is the training version: every ticket's text and
channel, with the model's prediction and confidence on the evaluation rows only (what a
model version's evaluation records); the calibration is fitted on those evaluation rows.
The two production batches (``demo/data/production``) are scored by the same model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from govflow.models.sklearn_text import train_text_classifier
from govflow.models.spec import SklearnTextSpec
from govflow.monitoring.config import MonitorConfig, load_monitor_config
from govflow.monitoring.performance import Calibration, fit_calibration

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "demo" / "data"
CONFIG = ROOT / "monitoring" / "support-intent.yaml"
MODEL_VERSION = "mv-demo-1"


@dataclass(frozen=True)
class DemoSetting:
    config: MonitorConfig
    reference: pd.DataFrame
    calibration: Calibration
    batches: dict[int, pd.DataFrame]


def training_tickets() -> pd.DataFrame:
    """Return the demo's training tickets that have a text, with their true intent."""
    rows = []
    for line in (DATA / "support_tickets.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # the sample's deliberately truncated line
    truth = pd.read_json(DATA / "support_tickets.truth.jsonl", lines=True)
    tickets = pd.DataFrame(rows).merge(truth, on="ticket_id")
    return tickets[tickets["text"].notna()].reset_index(drop=True)


def production_batch(number: int) -> pd.DataFrame:
    """Return one production batch as the files hold it (no predictions)."""
    return pd.read_json(
        DATA / "production" / f"batch-{number}.jsonl", lines=True, dtype={"label": "object"}
    )


@pytest.fixture(scope="session")
def demo() -> DemoSetting:
    tickets = training_tickets()
    train, evaluation = train_test_split(
        tickets, test_size=0.4, random_state=1, stratify=tickets["intent"]
    )
    model = train_text_classifier(
        train["text"].tolist(), train["intent"].tolist(), seed=7, params=SklearnTextSpec()
    )
    classes = np.asarray(model.classes_, dtype=object)

    def score(frame: pd.DataFrame) -> pd.DataFrame:
        proba = model.predict_proba(frame["text"].tolist())
        return frame.assign(
            predicted_label=classes[proba.argmax(axis=1)],
            confidence=proba.max(axis=1),
            model_version=MODEL_VERSION,
            scored_at="2026-12-02T18:00:00Z",
        )

    scored = score(evaluation)
    reference = tickets.assign(predicted_label=None, confidence=np.nan)
    reference.loc[scored.index, ["predicted_label", "confidence"]] = scored[
        ["predicted_label", "confidence"]
    ]
    calibration = fit_calibration(
        scored["confidence"].to_numpy(),
        (scored["predicted_label"] == scored["intent"]).to_numpy(),
    )
    return DemoSetting(
        config=load_monitor_config(CONFIG),
        reference=reference,
        calibration=calibration,
        batches={n: score(production_batch(n)) for n in (1, 2)},
    )
