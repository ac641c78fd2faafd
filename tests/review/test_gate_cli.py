import json

import pytest
from sqlalchemy import select, text

from govflow.ledger.engine import Ledger
from govflow.ledger.models import AuditEvent, ReviewDecision, ReviewTask
from govflow.prefect_api import PrefectAPI
from tests.support.gates import contested_request, decide


def _ledger_rows(url):
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        tasks = session.scalars(select(ReviewTask).order_by(ReviewTask.created_at)).all()
        decisions = session.scalars(select(ReviewDecision).order_by(ReviewDecision.id)).all()
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
        everything = " ".join(
            str(row)
            for table in ("review_tasks", "review_decisions", "audit_events", "people")
            for row in session.execute(text(f"SELECT * FROM {table}")).all()
        )
    ledger.dispose()
    return tasks, decisions, actions, everything


def test_gate_pauses_and_cli_decide_resumes_with_typed_decisions(
    gates, roster, run_cli, govflow_env
):
    future, run_id = gates.start(contested_request())
    gate = gates.wait_paused(run_id)

    result = decide(
        run_cli,
        roster,
        run_id,
        "bob",
        "--set",
        "T1=bug",
        "--set",
        "T2=billing",
        "--set",
        "T3=bug",
        "--note",
        "clear cases",
    )

    assert result.code == 0, result.err
    assert result.out == "accepted: 3 decision(s) by bob: T1=bug, T2=billing, T3=bug\n"
    outcome = future.result(timeout=60)
    assert [
        (d["item_key"], d["choice"], d["reviewer_id"], d["outcome"]) for d in outcome["decisions"]
    ] == [
        ("T1", "bug", "bob", "decided"),
        ("T2", "billing", "bob", "decided"),
        ("T3", "bug", "bob", "decided"),
    ]
    tasks, decisions, actions, everything = _ledger_rows(govflow_env["GOVFLOW_DATABASE_URL"])
    assert [(t.id, t.status, t.tier, t.flow_run_id) for t in tasks] == [
        (gate["gate_id"], "decided", 1, run_id)
    ]
    assert [(d.item_key, d.choice, d.reviewer_id, d.note, d.tier) for d in decisions] == [
        ("T1", "bug", "bob", "clear cases", 1),
        ("T2", "billing", "bob", "clear cases", 1),
        ("T3", "bug", "bob", "clear cases", 1),
    ]
    assert actions[-2:] == ["review.requested", "review.decided"]
    token = roster["bob"].read_text().strip()
    assert token not in everything
    with PrefectAPI() as api:
        key = gate["pause_key"]
        assert api.read_input(run_id, f"paused-{key}-response") is None
        assert api.read_input(run_id, f"paused-{key}-schema") is not None
        assert json.loads(api.read_input(run_id, f"govflow-verdict-{key}"))["accepted"] is True


@pytest.mark.parametrize(
    ("reviewer", "token_of", "request_overrides", "reason"),
    [
        ("bob", "rita", {}, "the one-time code does not match reviewer 'bob' for this form"),
        ("nobody", "bob", {}, "unknown reviewer id"),
        (
            "ann",
            "ann",
            {},
            "reviewer 'ann' (role annotator) may not decide tier 1 gates: "
            "reviewers, specialists and leads only",
        ),
        (
            "bob",
            "bob",
            {"tier": 2},
            "reviewer 'bob' (role reviewer) may not decide tier 2 gates: "
            "specialists and leads only",
        ),
        (
            "bob",
            "bob",
            {"submitted_by": ["bob"]},
            "'bob' submitted this batch and may not decide it",
        ),
        ("rita", "rita", {"assignees": ["bob"]}, "this gate is assigned to bob only"),
    ],
    ids=["wrong-token", "unknown", "annotator", "tier-2", "submitter", "not-assignee"],
)
def test_rejected_submission_reopens_gate_with_reason(
    gates, roster, run_cli, govflow_env, reviewer, token_of, request_overrides, reason
):
    future, run_id = gates.start(contested_request(keys=("T1",), **request_overrides))
    gates.wait_paused(run_id)

    rejected = decide(run_cli, roster, run_id, reviewer, "--all", "bug", token_of=token_of)

    assert rejected.code == 1
    assert rejected.err == f"Error: rejected: {reason}; the gate is open again\n"
    reopened = gates.wait_paused(run_id, attempt_key="-a2")
    shown = run_cli("review", "show", run_id)
    assert shown.out.startswith(
        f"> **Your previous submission was rejected:** {reason}. Please answer again."
    )
    _, decisions, actions, everything = _ledger_rows(govflow_env["GOVFLOW_DATABASE_URL"])
    assert decisions == []
    assert actions.count("review.rejected") == 1
    assert roster[token_of].read_text().strip() not in everything

    good = "lee" if request_overrides.get("tier") == 2 else "bob"
    if request_overrides.get("submitted_by") or request_overrides.get("assignees"):
        good = "bob" if "bob" not in request_overrides.get("submitted_by", []) else "rita"
    accepted = decide(
        run_cli,
        roster,
        run_id,
        good,
        "--all",
        "billing",
    )
    assert accepted.code == 0, accepted.err
    outcome = future.result(timeout=60)
    assert [(d["item_key"], d["choice"], d["reviewer_id"]) for d in outcome["decisions"]] == [
        ("T1", "billing", good)
    ]
    assert reopened["attempt"] == 2


def test_annotator_of_an_item_may_not_decide_it(gates, roster, run_cli):
    request = contested_request(keys=("T1", "T2"))
    request["items"][1]["conflicted"] = ["rita"]
    future, run_id = gates.start(request)
    gates.wait_paused(run_id)

    rejected = decide(
        run_cli,
        roster,
        run_id,
        "rita",
        "--all",
        "bug",
    )
    accepted = decide(
        run_cli,
        roster,
        run_id,
        "bob",
        "--all",
        "bug",
    )

    assert (
        rejected.err
        == "Error: rejected: 'rita' annotated T2 and may not decide it; the gate is open again\n"
    )
    assert accepted.code == 0
    assert future.result(timeout=60)["decisions"][1]["reviewer_id"] == "bob"
    gates_left = run_cli("review", "inbox", "--json")
    assert gates_left.code == 0, gates_left.err
    assert [g for g in json.loads(gates_left.out) if g["flow_run_id"] == run_id] == []


def test_invalid_choices_are_refused_before_submitting(gates, roster, run_cli):
    future, run_id = gates.start(contested_request(keys=("T1", "T2")))
    gate = gates.wait_paused(run_id)

    invalid = decide(
        run_cli,
        roster,
        run_id,
        "bob",
        "--set",
        "T1=maybe",
        "--set",
        "T2=bug",
    )
    unknown = decide(
        run_cli,
        roster,
        run_id,
        "bob",
        "--set",
        "T9=bug",
    )
    missing = decide(
        run_cli,
        roster,
        run_id,
        "bob",
        "--set",
        "T1=bug",
    )
    with PrefectAPI() as api:
        by_api = api.resume(
            run_id,
            {
                "gate": gate["gate_id"],
                "reviewer_id": "bob",
                "reviewer_code": "x",
                "note": "",
                "item_01": "maybe",
                "item_02": "bug",
            },
        )

    assert (invalid.code, unknown.code, missing.code) == (2, 2, 2)
    assert invalid.err == (
        "Error: invalid choice(s) maybe; choose one of bug, billing, exclude, escalate\n"
    )
    assert unknown.err == "Error: unknown item(s) T9; this gate asks about T1, T2\n"
    assert missing.err == (
        "Error: no choice for item(s) T2 (use --set ITEM=CHOICE, --all CHOICE or --from-file)\n"
    )
    assert by_api["status"] == "REJECT"
    assert (
        "'maybe' is not one of ['bug', 'billing', 'exclude', 'escalate']"
        in by_api["details"]["reason"]
    )
    done = decide(
        run_cli,
        roster,
        run_id,
        "bob",
        "--all",
        "exclude",
    )
    assert done.code == 0
    assert future.result(timeout=60)["decisions"][0]["choice"] == "exclude"


def test_escalation_goes_to_tier_2_with_the_note(gates, roster, run_cli, govflow_env, tmp_path):
    future, run_id = gates.start(contested_request(keys=("T1", "T2")))
    tier1 = gates.wait_paused(run_id)
    decisions_file = tmp_path / "d.json"
    decisions_file.write_text(
        json.dumps({"decisions": {"T1": "bug", "T2": "escalate"}, "note": "needs billing expert"})
    )

    first = decide(
        run_cli,
        roster,
        run_id,
        "bob",
        "--from-file",
        str(decisions_file),
    )
    tier2 = gates.wait_paused(run_id, attempt_key="-a1", not_gate=tier1["gate_id"])
    shown = run_cli("review", "show", run_id)
    reviewer_blocked = decide(
        run_cli,
        roster,
        run_id,
        "rita",
        "--all",
        "billing",
    )
    gates.wait_paused(run_id, attempt_key="-a2")
    second = decide(
        run_cli,
        roster,
        run_id,
        "sam",
        "--all",
        "billing",
    )

    assert first.out == "accepted: 2 decision(s) by bob: T1=bug, T2=escalate\n"
    assert (tier2["tier"], tier2["items"], tier2["choices"]) == (
        2,
        ["T2"],
        ["bug", "billing", "exclude"],
    )
    assert "- T2: escalated at tier 1 by bob: needs billing expert" in shown.out
    assert reviewer_blocked.code == 1
    assert second.code == 0, second.err
    outcome = future.result(timeout=60)
    assert [
        (d["item_key"], d["choice"], d["reviewer_id"], d["tier"]) for d in outcome["decisions"]
    ] == [
        ("T1", "bug", "bob", 1),
        ("T2", "billing", "sam", 2),
    ]
    tasks, decisions, actions, _ = _ledger_rows(govflow_env["GOVFLOW_DATABASE_URL"])
    assert [(t.tier, t.status) for t in tasks] == [(1, "decided"), (2, "decided")]
    assert [(d.item_key, d.choice, d.tier) for d in decisions] == [
        ("T1", "bug", 1),
        ("T2", "escalate", 1),
        ("T2", "billing", 2),
    ]
    assert "review.escalated" in actions


def test_deadline_escalates_then_applies_conservative_default(gates, roster, govflow_env):
    from prefect import get_client

    request = contested_request(keys=("T1",), deadline=3)
    future, run_id = gates.start(request)

    outcome = future.result(timeout=90)

    assert [
        (d["item_key"], d["choice"], d["outcome"], d["reviewer_id"], d["tier"])
        for d in outcome["decisions"]
    ] == [("T1", "exclude", "timed_out", None, 2)]
    tasks, decisions, actions, _ = _ledger_rows(govflow_env["GOVFLOW_DATABASE_URL"])
    assert [(t.tier, t.status) for t in tasks] == [(1, "timed_out"), (2, "timed_out")]
    assert [(d.choice, d.outcome) for d in decisions] == [
        ("escalate", "timed_out"),
        ("exclude", "timed_out"),
    ]
    assert actions.count("review.timed_out") == 2
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
    assert state.is_completed(), state


def test_answered_gate_is_not_asked_again_in_a_new_run(gates, roster, run_cli, govflow_env):
    request = contested_request(keys=("T1", "T2"))
    future, run_id = gates.start(request)
    gates.wait_paused(run_id)
    decide(
        run_cli,
        roster,
        run_id,
        "bob",
        "--all",
        "bug",
    )
    first = future.result(timeout=60)
    before = _ledger_rows(govflow_env["GOVFLOW_DATABASE_URL"])

    again, _ = gates.start(request)
    second = again.result(timeout=60)

    assert second == first
    after = _ledger_rows(govflow_env["GOVFLOW_DATABASE_URL"])
    assert (len(after[0]), len(after[1]), after[2]) == (len(before[0]), len(before[1]), before[2])


def test_large_requests_are_split_into_capped_forms(gates, roster, run_cli):
    keys = tuple(f"T{i}" for i in range(1, 8))
    future, run_id = gates.start(contested_request(keys=keys, batch_size=4))

    first = gates.wait_paused(run_id)
    decide(
        run_cli,
        roster,
        run_id,
        "bob",
        "--all",
        "bug",
    )
    second = gates.wait_paused(run_id, attempt_key="-a1", not_gate=first["gate_id"])
    decide(
        run_cli,
        roster,
        run_id,
        "rita",
        "--all",
        "billing",
    )

    outcome = future.result(timeout=60)
    assert (first["items"], second["items"]) == (["T1", "T2", "T3", "T4"], ["T5", "T6", "T7"])
    assert [d["choice"] for d in outcome["decisions"]] == ["bug"] * 4 + ["billing"] * 3
