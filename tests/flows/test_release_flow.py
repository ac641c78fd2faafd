"""Models under governance end to end (issue #11) on a real Prefect server and ledger.

A labeled version of the demo tickets is trained on, evaluated on the shipped suite
(routine, edge cases, adversarial and policy slices), its red-team findings are judged by a
specialist, and signers answer through the CLI: one release is rejected by a signer, the
next is signed by a quorum of two, certified and promoted; a reviewer without the role and
the one who requested the training are refused; the model's lineage reaches the reviewers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from flows.release import ReleaseParams, release
from govflow.domain import Role
from govflow.evaluation.execute import run_evaluation
from govflow.evaluation.suites import suite_path
from govflow.ledger.engine import Ledger
from govflow.ledger.model_versions import alias_of
from govflow.ledger.models import (
    AuditEvent,
    EvaluationRun,
    EvaluationSuiteVersion,
    ModelVersion,
    PromotionCertificate,
    RedTeamFinding,
    SignOff,
)
from govflow.ledger.people import add_person
from tests.support.gates import decide
from tests.support.labeled import PROJECT, register_demo_labeled

pytestmark = pytest.mark.slow


@pytest.fixture
def signers(roster, govflow_env, tmp_path):
    """The roster plus a second specialist: sam and sue sign, lee requests releases."""
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.session() as session:
        _, token = add_person(
            session=session, person_id="sue", display_name="Sue", role=Role.SPECIALIST, actor="t"
        )
    ledger.dispose()
    (tmp_path / "sue.token").write_text(token + "\n")
    return roster | {"sue": tmp_path / "sue.token"}


def _gate(flows, run_id, kind, *, not_gate=None):
    gate = flows.wait_paused(run_id, not_gate=not_gate, timeout=180)
    assert gate["kind"] == kind, gate
    return gate


def _evaluate(ledger, env, model_version_id, data_version_id, *, flow_run_id):
    return run_evaluation(
        ledger=ledger,
        home=Path(env["GOVFLOW_HOME"]),
        project=PROJECT,
        model_version_id=model_version_id,
        suite_path=suite_path(PROJECT),
        data_version_id=data_version_id,
        compare_production=True,
        authors=[],
        flow_run_id=flow_run_id,
        actor="test",
    )


def test_release_is_rejected_by_one_signer_then_a_quorum_promotes(
    flows, signers, run_cli, govflow_env
):
    url = govflow_env["GOVFLOW_DATABASE_URL"]
    labeled = register_demo_labeled(url, reviewer="bob")

    # 1. A release that a signer rejects: nothing is promoted.
    future, run_id = flows.start_flow(
        release, params=ReleaseParams(project=PROJECT, version_id=labeled, requested_by="lee")
    )
    findings = _gate(flows, run_id, "edge_case")
    judged = decide(run_cli, signers, run_id, "sam", "--all", "real_weakness")
    first = _gate(flows, run_id, "evaluation_signoff", not_gate=findings["gate_id"])
    shown = run_cli("review", "show", run_id)
    requester = decide(run_cli, signers, run_id, "lee", "--all", "approve")
    reviewer = decide(run_cli, signers, run_id, "bob", "--all", "approve")
    signed = decide(run_cli, signers, run_id, "sam", "--all", "approve")
    second = _gate(flows, run_id, "evaluation_signoff", not_gate=first["gate_id"])
    refused = decide(
        run_cli, signers, run_id, "sue", "--all", "reject", "--note", "policy slice too thin"
    )
    rejected = future.result(timeout=120)

    assert judged.code == 0, judged.err
    assert sorted(first["assignees"]) == ["sam", "sue"]  # lee requested it; bob is a reviewer
    assert first["items"] == ["evaluation", "waive edge_cases"]
    assert "# Evaluation of mv-" in shown.out and "## Red team" in shown.out
    assert requester.err == (
        "Error: rejected: this gate is assigned to sam, sue only; the gate is open again\n"
    )
    assert reviewer.err == (
        "Error: rejected: reviewer 'bob' (role reviewer) may not decide tier 2 gates: "
        "specialists and leads only; the gate is open again\n"
    )
    assert signed.code == 0, signed.err
    assert second["assignees"] == ["sue"]
    assert refused.code == 0, refused.err
    assert (rejected.outcome, rejected.reason) == (
        "rejected",
        "rejected by sue: promotion blocked",
    )
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        assert alias_of(session=session, project=PROJECT) is None
        signoffs = session.execute(
            select(SignOff.signer_id, SignOff.decision, SignOff.waived).order_by(SignOff.decided_at)
        ).all()
        assert [(s, d.value, w) for s, d, w in signoffs] == [
            ("sam", "approve", ["edge_cases"]),
            ("sue", "reject", []),
        ]
        findings_rows = session.scalars(select(RedTeamFinding)).all()
        assert findings_rows and {f.status.value for f in findings_rows} == {"real_weakness"}
        suites = session.scalars(
            select(EvaluationSuiteVersion).order_by(EvaluationSuiteVersion.version)
        ).all()
        assert [s.version for s in suites] == [1, 2]
        assert len(suites[1].content["edge_cases"]) == len(findings_rows)
        assert session.scalar(select(PromotionCertificate)) is None
    # A deployed run re-runs from the top after each gate: the same flow run evaluates on the
    # suite version it started with, so it finds its first evaluation (and its answered
    # findings gate) again; any other run evaluates on suite v2.
    again = _evaluate(ledger, govflow_env, rejected.model_version_id, labeled, flow_run_id=run_id)
    assert (again.run_id, again.suite_version_id) == (rejected.evaluation_run_id, suites[0].id)
    other = _evaluate(ledger, govflow_env, rejected.model_version_id, labeled, flow_run_id="x")
    assert other.suite_version_id == suites[1].id
    assert other.run_id != rejected.evaluation_run_id
    ledger.dispose()

    # 2. A new candidate (another seed), measured on suite v2 with the accepted weaknesses
    # in its edge cases: a quorum of two signs, the certificate moves production.
    future, run_id = flows.start_flow(
        release,
        params=ReleaseParams(project=PROJECT, version_id=labeled, seed=1, requested_by="lee"),
    )
    gate = flows.wait_paused(run_id, timeout=180)
    seen = {gate["gate_id"]}
    while gate["kind"] == "edge_case":
        assert decide(run_cli, signers, run_id, "sue", "--all", "invalid_probe").code == 0
        gate = flows.wait_paused(run_id, not_gate=gate["gate_id"], timeout=180)
        seen.add(gate["gate_id"])
    assert gate["kind"] == "evaluation_signoff"
    assert decide(run_cli, signers, run_id, "sue", "--all", "approve").code == 0
    gate = flows.wait_paused(run_id, not_gate=gate["gate_id"], timeout=180)
    assert gate["assignees"] == ["sam"]
    assert decide(run_cli, signers, run_id, "sam", "--all", "approve").code == 0
    promoted = future.result(timeout=120)

    assert promoted.outcome == "promoted"
    assert promoted.signers == ["sue", "sam"]
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        production = alias_of(session=session, project=PROJECT)
        assert production is not None and production.id == promoted.model_version_id
        certificate = session.get(PromotionCertificate, promoted.certificate_id)
        assert certificate.previous_model_version_id is None
        assert certificate.content["signers"] == ["sue", "sam"]
        run = session.get(EvaluationRun, certificate.evaluation_run_id)
        assert run.suite_version_id == suites[1].id
        # The accepted weaknesses are the edge-case slice now: still under its min_samples 20,
        # so both signers waived it on their forms, and the certificate says so.
        edge = next(s for s in run.results["slices"] if s["slice"] == "edge_cases")
        assert (edge["n"], edge["status"]) == (len(findings_rows), "insufficient_evidence")
        assert certificate.content["waived"] == ["edge_cases"]
        moved = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "model.alias_moved")
        ).all()
        assert [(e.subject, e.details["to"]) for e in moved] == [
            (f"{PROJECT}:production", promoted.model_version_id)
        ]
        assert session.scalar(select(ModelVersion).where(ModelVersion.seed == 1)) is not None
    ledger.dispose()

    # Releasing the production model again asks nobody and records nothing new.
    future, _ = flows.start_flow(
        release,
        params=ReleaseParams(project=PROJECT, version_id=labeled, seed=1, requested_by="lee"),
    )
    repeated = future.result(timeout=180)
    assert (repeated.outcome, repeated.reason) == (
        "unchanged",
        f"{promoted.model_version_id} is already in production "
        f"(certificate {promoted.certificate_id})",
    )
    assert repeated.evaluation_run_id == promoted.evaluation_run_id

    lineage = run_cli("lineage", promoted.model_version_id, "--json")
    tree = json.loads(lineage.out)
    assert tree["aliases"] == ["production"]
    assert [s["signer"] for s in tree["evaluations"][-1]["signoffs"]] == ["sue", "sam"]
    annotated = tree["training_data"]["parents"][0]
    assert annotated["reviews"][0]["decided_by"][0]["reviewer"] == "bob"
