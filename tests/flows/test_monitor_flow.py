"""Production monitoring end to end (issue #13) on the session's Prefect server and a real ledger.

The demo model is trained on the demo's labeled tickets and put behind ``production``; the
demo's two production batches (raw inputs, scored by the flow) are monitored: the first,
like the training data, raises nothing; the second drifts and opens an intervention, which
closes only once its re-annotation round, its new suite version and a signed re-evaluation
are recorded. Low-confidence outputs go to reviewers, whose corrections become a
``feedback`` version. Bad batches are refused before anything is written.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from flows.audit import AuditParams, audit
from flows.intervene import InterveneParams, intervene
from flows.monitor import MonitorParams, monitor
from flows.score import ScoreParams, score
from govflow.domain import InterventionStatus, OutputVerdict, Role, Stage
from govflow.errors import InputError
from govflow.ledger.datasets import parent_ids, register_frame
from govflow.ledger.engine import Ledger
from govflow.ledger.models import (
    AnnotationRound,
    DatasetVersion,
    EvaluationSuiteVersion,
    Intervention,
    MonitoringAlert,
    MonitoringRun,
    OutputReview,
)
from govflow.ledger.monitoring import read_output_reviews
from govflow.ledger.people import add_person
from govflow.prefect_api import PrefectAPI
from tests.support.gates import decide
from tests.support.production import MONITOR_CONFIG, PRODUCTION_SOURCE, release_demo_model

pytestmark = [pytest.mark.slow, pytest.mark.prefect]

# A deadline that passes in about 2 s: nobody answers, so every output is withheld.
NOBODY = 0.0006


@pytest.fixture
def production(prefect_server, roster, govflow_env, monkeypatch) -> str:
    monkeypatch.setenv("GOVFLOW_REVIEW_POLL_INTERVAL", "1")
    return release_demo_model(
        govflow_env["GOVFLOW_DATABASE_URL"], Path(govflow_env["GOVFLOW_HOME"])
    )


def _params(batch: str | None, **overrides) -> MonitorParams:
    return MonitorParams(
        config_path=str(PRODUCTION_SOURCE),
        monitor_config=str(MONITOR_CONFIG),
        owner="olga",
        path=batch,
        **overrides,
    )


def _batch(n: int) -> str:
    return f"data/production/batch-{n}.jsonl"


def _events(prefix: str, timeout: float = 20) -> list[dict]:
    deadline = time.monotonic() + timeout
    with PrefectAPI() as api:
        while True:
            page = api.post_json(
                "/events/filter", {"filter": {"event": {"prefix": [prefix]}}, "limit": 50}
            )
            if page["events"] or time.monotonic() > deadline:
                return page["events"]
            time.sleep(0.5)


def test_a_clean_batch_raises_nothing_and_a_drifted_batch_alerts_with_its_statistics(
    production, govflow_env
):
    clean = monitor(_params(_batch(1), review_deadline_hours=NOBODY))
    drifted = monitor(_params(_batch(2), review_deadline_hours=NOBODY))

    assert (clean.is_drifted, clean.alerts, clean.interventions, clean.events) == (
        False,
        [],
        [],
        [],
    )
    assert (clean.rows, clean.n_scored, clean.n_to_people) == (150, 150, 8)
    assert (clean.verdicts, clean.feedback_version_id) == ({"withheld": 8}, None)
    assert drifted.is_drifted
    assert drifted.drifted_columns == ["text", "predicted_label", "confidence"]
    assert drifted.alerts == [
        "drift: drift in 3 of 4 columns (text, predicted_label, confidence), at or above the "
        "drift share 50%"
    ]
    assert drifted.events == ["govflow.drift.detected"]
    assert drifted.verdicts == {"withheld": drifted.n_to_people}

    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.reader() as session:
        production_version = session.get(DatasetVersion, drifted.production_version_id)
        assert (production_version.stage, production_version.row_count) == (Stage.PRODUCTION, 150)
        run = session.get(MonitoringRun, drifted.monitoring_run_id)
        assert (run.model_version_id, run.is_drifted, run.reference["kind"]) == (
            production,
            True,
            "training",
        )
        alert = session.scalars(select(MonitoringAlert)).one()
        stats = {c["column"]: (c["test"], c["threshold"]) for c in alert.details["columns"]}
        assert stats == {
            "text": ("domain_classifier", 0.55),
            "predicted_label": ("chisquare", 0.05),
            "confidence": ("ks", 0.05),
        }
        recorded = {c["column"]: c["statistic"] for c in run.results["drift"]["columns"]}
        assert {c["column"]: c["statistic"] for c in alert.details["columns"]} == {
            name: recorded[name] for name in ("text", "predicted_label", "confidence")
        }
        assert recorded["channel"] < 3.84  # chi-square, 3 channels: p above 0.05
        intervention = session.scalars(select(Intervention)).one()
        assert (intervention.id, intervention.owner, intervention.status) == (
            drifted.interventions[0],
            "olga",
            InterventionStatus.OPEN,
        )
        assert intervention.slice_version_id == drifted.production_version_id
        reviews = read_output_reviews(
            session=session, production_version_id=clean.production_version_id
        )
        assert {(r.verdict, r.reviewer_id, r.label) for r in reviews} == {
            (OutputVerdict.WITHHELD, None, None)
        }
        assert session.scalar(select(func.count()).select_from(MonitoringRun)) == 2
    ledger.dispose()
    pictures = Path(govflow_env["GOVFLOW_HOME"]) / "monitoring" / drifted.production_version_id
    assert sorted(p.name for p in pictures.iterdir()) == [
        "confidence.png",
        "drift-history.png",
        "predicted_label.png",
        "text.png",
    ]
    (event,) = _events("govflow.drift.detected")
    assert event["resource"]["prefect.resource.id"] == f"govflow.intervention.{intervention.id}"
    assert event["payload"]["kind"] == "drift"
    assert [c["column"] for c in event["payload"]["details"]["columns"]] == [
        "text",
        "predicted_label",
        "confidence",
    ]

    # The same run again (as after a suspend: same scoring time): nothing new, no event.
    again = monitor(_params(_batch(2), review_deadline_hours=NOBODY, scored_at=drifted.scored_at))
    assert (again.monitoring_run_id, again.interventions, again.events) == (
        drifted.monitoring_run_id,
        drifted.interventions,
        [],
    )


def test_low_confidence_outputs_reach_a_gate_and_corrections_become_feedback(
    production, flows, roster, run_cli, govflow_env
):
    future, run_id = flows.start_flow(monitor, params=_params(_batch(1)))
    gate = flows.wait_paused(run_id, timeout=180)
    items = gate["items"]
    answered = decide(
        run_cli,
        roster,
        run_id,
        "bob",
        "--all",
        "approve",
        "--set",
        f"{items[0]}=correct:billing",
        "--set",
        f"{items[1]}=withhold",
    )
    assert answered.code == 0, answered.err
    result = future.result(timeout=180)

    assert gate["kind"] == "production_output"
    assert len(items) == 8
    assert answered.code == 0, answered.err
    assert result.verdicts == {"approved": 6, "corrected": 1, "withheld": 1}
    late = [
        json.loads(line).get("label")
        for line in (PRODUCTION_SOURCE.parent / _batch(1)).read_text().splitlines()
    ]
    reviewed = [int(key.removeprefix("row-")) for key in items if key != items[1]]  # not withheld
    realized = result.realized_with_reviews
    assert realized["n_labeled"] == sum(1 for label in late if label) + sum(
        1 for position in reviewed if not late[position]
    )
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.reader() as session:
        feedback = session.get(DatasetVersion, result.feedback_version_id)
        assert (feedback.stage, feedback.row_count) == (Stage.FEEDBACK, 7)
        assert parent_ids(session=session, version_id=feedback.id) == [result.production_version_id]
        assert feedback.details == {"model_version_id": production, "reviewers": ["bob"]}
        reviews = read_output_reviews(
            session=session, production_version_id=result.production_version_id
        )
        corrected = [r for r in reviews if r.verdict is OutputVerdict.CORRECTED]
        assert [(f"row-{r.position}", r.label, r.reviewer_id) for r in corrected] == [
            (items[0], "billing", "bob")
        ]
        assert session.scalar(select(func.count()).select_from(OutputReview)) == 8
    ledger.dispose()


def test_scored_records_are_monitored_without_scoring_them_again(production, tmp_path):
    scored = score(
        ScoreParams(
            config_path=str(PRODUCTION_SOURCE),
            monitor_config=str(MONITOR_CONFIG),
            path=_batch(1),
            output_path=str(tmp_path / "scored.jsonl"),
            scored_at="2026-12-01T10:00:00Z",
        )
    )
    records = [json.loads(line) for line in (tmp_path / "scored.jsonl").read_text().splitlines()]
    monitored = monitor(_params(str(tmp_path / "scored.jsonl"), review_deadline_hours=NOBODY))

    assert (scored.rows, scored.n_scored, scored.model_version_id) == (150, 150, production)
    assert {(r["model_version"], r["scored_at"]) for r in records} == {
        (production, "2026-12-01T10:00:00Z")
    }
    assert all(0 <= r["confidence"] <= 1 and r["predicted_label"] for r in records)
    assert (monitored.n_scored, monitored.rows, monitored.alerts) == (0, 150, [])


def _write(folder: Path, name: str, records: list[dict]) -> str:
    path = folder / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def _without_channel(folder: Path) -> str:
    """A production source config that does not declare the monitored ``channel`` column."""
    import yaml

    config = yaml.safe_load(PRODUCTION_SOURCE.read_text())
    config["columns"] = [c for c in config["columns"] if c["name"] != "channel"]
    path = folder / "nochannel.source.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def _scored(n: int, **overrides) -> list[dict]:
    rows = [
        json.loads(line)
        for line in (PRODUCTION_SOURCE.parent / _batch(1)).read_text().splitlines()[:n]
    ]
    return [
        r
        | {
            "predicted_label": "bug",
            "confidence": 0.9,
            "model_version": overrides.get("model_version", "mv-x"),
            "scored_at": "2026-12-01T10:00:00Z",
        }
        | overrides
        for r in rows
    ]


def test_bad_batches_are_refused_with_the_reason_and_nothing_is_registered(
    production, govflow_env, tmp_path
):
    url = govflow_env["GOVFLOW_DATABASE_URL"]
    ledger = Ledger.open(url)
    with ledger.session() as session:
        tiny, _ = register_frame(
            session=session,
            frame=__import__("pandas").DataFrame(_scored(3, model_version=production)),
            name="window",
            stage=Stage.PRODUCTION,
            actor="t",
        )
    ledger.dispose()
    cases = {
        "no rows": (_write(tmp_path, "notext.jsonl", [{"record_id": "P9", "channel": "chat"}]), {}),
        "confidence": (
            _write(tmp_path, "conf.jsonl", _scored(20, model_version=production, confidence=1.5)),
            {},
        ),
        "unknown model": (
            _write(tmp_path, "mv.jsonl", _scored(20, model_version="mv-retired")),
            {},
        ),
        "missing column": (
            _write(tmp_path, "nochannel.jsonl", _scored(20, model_version=production)),
            {"config_path": _without_channel(tmp_path)},
        ),
        "small reference": (
            _write(tmp_path, "ok.jsonl", _scored(20, model_version=production)),
            {"reference_version_id": tiny.id},
        ),
    }
    messages = {}
    for name, (path, extra) in cases.items():
        with pytest.raises(InputError) as caught:
            monitor(_params(path, review_deadline_hours=NOBODY).model_copy(update=extra))
        messages[name] = str(caught.value)

    assert messages["no rows"] == (
        "the production batch is empty: there is nothing to monitor (1 row read, quarantined "
        "at acquisition: missing_required 1)"
    )
    assert messages["confidence"] == (
        "column 'confidence' has 20 values outside [0, 1] (first at row 0: 1.5)"
    )
    assert messages["unknown model"] == (
        "20 rows name a model version the ledger does not know: 'mv-retired'"
    )
    assert messages["missing column"].startswith("the current batch has no column 'channel'")
    assert messages["small reference"] == (
        "column 'text': the domain classifier needs at least 5 texts on each side (5-fold), "
        "the reference has 3"
    )
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        names = set(session.scalars(select(DatasetVersion.name)))
        assert "support_tickets_production" not in names
        assert session.scalar(select(func.count()).select_from(MonitoringRun)) == 0
    ledger.dispose()


@pytest.fixture
def signers(roster, govflow_env, tmp_path):
    """The roster plus a second specialist, so a quorum of two can sign."""
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.session() as session:
        _, token = add_person(
            session=session, person_id="sue", display_name="Sue", role=Role.SPECIALIST, actor="t"
        )
    ledger.dispose()
    (tmp_path / "sue.token").write_text(token + "\n")
    return roster | {"sue": tmp_path / "sue.token"}


def test_an_intervention_opens_its_round_and_suite_version_and_closes_once_signed(
    production, flows, signers, run_cli, govflow_env
):
    drifted = monitor(_params(_batch(2), review_deadline_hours=NOBODY))
    (intervention_id,) = drifted.interventions
    params = InterveneParams(intervention_id=intervention_id, monitor_config=str(MONITOR_CONFIG))
    future, run_id = flows.start_flow(intervene, params=params)
    gate = flows.wait_paused(run_id, timeout=180)
    while gate["kind"] == "edge_case":
        assert decide(run_cli, signers, run_id, "sam", "--all", "invalid_probe").code == 0
        gate = flows.wait_paused(run_id, not_gate=gate["gate_id"], timeout=180)
    assert gate["kind"] == "evaluation_signoff"
    before = run_cli("interventions", "show", intervention_id)
    refused = run_cli("interventions", "close", intervention_id)
    assert decide(run_cli, signers, run_id, "sue", "--all", "approve").code == 0
    gate = flows.wait_paused(run_id, not_gate=gate["gate_id"], timeout=180)
    assert decide(run_cli, signers, run_id, "sam", "--all", "approve").code == 0
    result = future.result(timeout=180)

    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.reader() as session:
        found = session.get(Intervention, intervention_id)
        round_ = session.get(AnnotationRound, found.reannotation_round_id)
        sliced = session.get(DatasetVersion, round_.dataset_version_id)
        suite = session.get(EvaluationSuiteVersion, found.suite_version_id)
        assert sliced.stage is Stage.REANNOTATION
        assert parent_ids(session=session, version_id=sliced.id) == [drifted.production_version_id]
        origins = {case["origin"] for case in suite.content["edge_cases"]}
        assert f"production:{drifted.production_version_id}" in origins
        assert found.suite_version_hash == suite.content_hash
        assert (found.status, result.outcome, result.left) == (
            InterventionStatus.CLOSED,
            "closed",
            [],
        )
    ledger.dispose()
    assert before.code == 0, before.err
    assert "left: sign-off of re-evaluation" in before.out
    assert refused.code == 1
    assert refused.err.startswith(f"Error: intervention {intervention_id} cannot close")


def _labels_of_training(url: str, model_version_id: str) -> list[str]:
    from govflow.ledger.datasets import read_version_records
    from govflow.ledger.models import ModelVersion

    ledger = Ledger.open(url)
    with ledger.reader() as session:
        training = session.get(ModelVersion, model_version_id).training_version_id
        records = read_version_records(session=session, version_id=training)
    ledger.dispose()
    return [r["label"] for r in records]


def test_an_audit_above_tolerance_opens_an_intervention_with_the_error_rate(
    production, flows, roster, run_cli, govflow_env
):
    params = AuditParams(
        project="support-intent",
        monitor_config=str(MONITOR_CONFIG),
        owner="olga",
        per_label=1,
        seed=3,
    )
    future, run_id = flows.start_flow(audit, params=params)
    gate = flows.wait_paused(run_id, timeout=180)
    labels = _labels_of_training(govflow_env["GOVFLOW_DATABASE_URL"], production)
    recorded = {key: labels[int(key.removeprefix("row-"))] for key in gate["items"]}
    first = gate["items"][0]
    wrong = {first: "other" if recorded[first] != "other" else "bug"}
    answered = decide(
        run_cli,
        roster,
        run_id,
        "sam",
        *[
            arg
            for key in gate["items"]
            for arg in ("--set", f"{key}={wrong.get(key, recorded[key])}")
        ],
    )
    assert answered.code == 0, answered.err
    result = future.result(timeout=180)

    assert (gate["kind"], len(gate["items"]), gate["assignees"]) == ("label_audit", 5, ["sam"])
    finding = result.finding
    assert (finding["n_sampled"], finding["n_judged"], finding["n_wrong"]) == (5, 5, 1)
    assert finding["error_rate"] == pytest.approx(0.2)
    assert finding["ci_low"] < 0.2 < finding["ci_high"]
    assert result.alert.startswith("label error rate 20.0% above 5.0% (1 of 5 audited labels")
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.reader() as session:
        opened = session.get(Intervention, result.intervention_id)
        assert (opened.trigger.value, opened.owner, opened.slice_version_id) == (
            "label_errors",
            "olga",
            result.version_id,
        )
    ledger.dispose()
