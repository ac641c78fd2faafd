"""Hardened gates against a real Prefect server: stale forms, pasted tokens, long notes.

Issue #17 points 1-5: a form left open never decides another gate; a token typed into the
wrong field never reaches the audit chain; the token itself never reaches Prefect; notes
are capped.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select, text

from govflow.ledger.engine import Ledger
from govflow.ledger.models import AuditEvent, ReviewDecision
from govflow.ledger.people import gate_code
from govflow.prefect_api import PrefectAPI
from tests.support.gates import contested_request, decide


def _events(url: str, action: str) -> list[AuditEvent]:
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        found = list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            )
        )
        session.expunge_all()
    ledger.dispose()
    return found


def _decisions(url: str) -> list[tuple]:
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        rows = session.execute(
            select(
                ReviewDecision.item_key, ReviewDecision.choice, ReviewDecision.reviewer_id
            ).order_by(ReviewDecision.id)
        ).all()
    ledger.dispose()
    return [tuple(r) for r in rows]


def _form(gate: dict, reviewer: str, token_file: Path, choice: str) -> dict:
    """The run input a reviewer's open form would post for ``gate``."""
    token = token_file.read_text().strip()
    values = {f"item_{i + 1:02d}": choice for i in range(len(gate["items"]))}
    return {
        "gate": gate["gate_id"],
        "reviewer_id": reviewer,
        "reviewer_code": gate_code(token, gate["pause_key"]),
        "note": "",
        **values,
    }


def test_stale_rest_form_is_refused_audited_and_the_open_gate_asks_again(
    gates, roster, run_cli, govflow_env
):
    url = govflow_env["GOVFLOW_DATABASE_URL"]
    future, run_id = gates.start(contested_request(keys=("T1", "T2", "T3", "T4"), batch_size=2))
    first = gates.wait_paused(run_id)
    stale = _form(first, "rita", roster["rita"], "billing")  # rita opens batch 1 and waits

    answered = decide(run_cli, roster, run_id, "bob", "--all", "bug")  # bob answers batch 1
    second = gates.wait_paused(run_id, not_gate=first["gate_id"])
    with PrefectAPI() as api:
        api.wait_for_input(run_id, f"paused-{second['pause_key']}-schema", timeout=30)
        posted = api.resume(run_id, stale)  # rita submits the form she still has open
    again = gates.wait_paused(run_id, attempt_key="-a2")
    with PrefectAPI() as api:
        verdict = json.loads(api.read_input(run_id, f"govflow-verdict-{second['pause_key']}"))

    assert answered.code == 0, answered.err
    assert (first["items"], second["items"]) == (["T1", "T2"], ["T3", "T4"])
    assert posted["status"] == "ACCEPT"  # same shape: only govflow can tell it is stale
    reason = (
        f"the form was built for gate {first['gate_id']} (items T1, T2), not for this gate "
        f"{second['gate_id']} (items T3, T4); answer the form shown now"
    )
    assert (verdict["accepted"], verdict["reason"], verdict["decisions"]) == (False, reason, {})
    assert again["gate_id"] == second["gate_id"]
    assert _decisions(url) == [("T1", "bug", "bob"), ("T2", "bug", "bob")]
    [rejected] = _events(url, "review.rejected")
    assert (rejected.subject, rejected.details) == (
        second["gate_id"],
        {"attempt": 1, "reviewer_id": "rita", "stale_form": True, "reason": reason},
    )

    retried = decide(run_cli, roster, run_id, "rita", "--all", "billing")
    assert retried.code == 0, retried.err
    future.result(timeout=60)
    assert _decisions(url)[2:] == [("T3", "billing", "rita"), ("T4", "billing", "rita")]


def test_a_token_typed_as_the_reviewer_id_never_reaches_the_audit_chain(
    gates, roster, run_cli, govflow_env
):
    url = govflow_env["GOVFLOW_DATABASE_URL"]
    token = roster["bob"].read_text().strip()
    future, run_id = gates.start(contested_request(keys=("T1",)))
    gate = gates.wait_paused(run_id)

    swapped = decide(run_cli, roster, run_id, token, "--all", "bug", token_of="bob")
    gates.wait_paused(run_id, attempt_key="-a2")
    shown = run_cli("review", "show", run_id)
    accepted = decide(run_cli, roster, run_id, "bob", "--all", "bug")
    future.result(timeout=60)

    assert swapped.code == 1
    assert swapped.err == "Error: rejected: unknown reviewer id; the gate is open again\n"
    assert shown.out.startswith(
        "> **Your previous submission was rejected:** unknown reviewer id. Please answer again."
    )
    assert accepted.code == 0, accepted.err
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        everything = " ".join(
            str(row)
            for table in ("review_tasks", "review_decisions", "audit_events", "people")
            for row in session.execute(text(f"SELECT * FROM {table}")).all()
        )
    ledger.dispose()
    assert token not in everything and token not in shown.out
    [rejected] = _events(url, "review.rejected")
    assert rejected.details["reviewer_id"] is None
    assert len(rejected.details["submitted_id_sha256"]) == 64
    with PrefectAPI() as api:
        verdict = api.read_input(run_id, f"govflow-verdict-{gate['pause_key']}")
    assert token not in verdict


def test_a_used_code_cannot_answer_the_next_form_and_no_token_reaches_prefect(
    gates, roster, run_cli, prefect_server
):
    future, run_id = gates.start(contested_request(keys=("T1",)))
    gate = gates.wait_paused(run_id)
    used = _form(gate, "bob", roster["bob"], "bug") | {"reviewer_id": "rita"}
    with PrefectAPI() as api:
        api.resume(run_id, used)  # wrong person with bob's code: refused, the gate reopens
    reopened = gates.wait_paused(run_id, attempt_key="-a2")
    replay = _form(gate, "bob", roster["bob"], "bug") | {"gate": reopened["gate_id"]}
    with PrefectAPI() as api:
        api.wait_for_input(run_id, f"paused-{reopened['pause_key']}-schema", timeout=30)
        api.resume(run_id, replay)  # bob's code of the first form, replayed on the second
    third = gates.wait_paused(run_id, attempt_key="-a3")
    with PrefectAPI() as api:
        verdict = json.loads(api.read_input(run_id, f"govflow-verdict-{reopened['pause_key']}"))

    assert verdict["reason"] == "the one-time code does not match reviewer 'bob' for this form"
    assert third["attempt"] == 3
    assert decide(run_cli, roster, run_id, "bob", "--all", "bug").code == 0
    future.result(timeout=60)
    # Only one-time codes were ever submitted: the token is in none of Prefect's files
    # (its SQLite database, WAL and logs), deleted rows and freed pages included.
    token = roster["bob"].read_text().strip().encode()
    for path in Path(prefect_server.home).rglob("*"):
        if path.is_file():
            assert token not in path.read_bytes(), path


def test_a_note_longer_than_the_cap_is_refused_and_nothing_is_stored(
    gates, roster, run_cli, govflow_env, tmp_path
):
    future, run_id = gates.start(contested_request(keys=("T1",)))
    gate = gates.wait_paused(run_id)
    note = "n" * 1_000_000

    by_cli = decide(run_cli, roster, run_id, "bob", "--all", "bug", "--note", note[:2001])
    with PrefectAPI() as api:
        api.wait_for_input(run_id, f"paused-{gate['pause_key']}-schema", timeout=30)
        by_api = api.resume(run_id, _form(gate, "bob", roster["bob"], "bug") | {"note": note})

    assert (by_cli.code, by_cli.err) == (
        2,
        "Error: the note has 2001 characters; at most 2000 are kept\n",
    )
    assert by_api["status"] == "REJECT"
    assert "is too long" in by_api["details"]["reason"]
    assert decide(run_cli, roster, run_id, "bob", "--all", "bug", "--note", "short").code == 0
    assert future.result(timeout=60)["decisions"][0]["note"] == "short"
