"""A worker dies (SIGKILL, with its flow-run process) in the middle of a deployed ingest.

The run has already suspended at its validation gate and been answered; it resumed on the
worker and is inside the transaction that registers the validated version when the worker
and the flow process are killed. No process is left to report the loss, so Prefect 3.9 sees
it only through flow-run heartbeats (every PREFECT_FLOWS_HEARTBEAT_FREQUENCY seconds) and
the zombie-run automation its docs describe, which marks a run Crashed when its events stop.
The operator retries it (``prefect flow-run retry``) and a fresh worker completes it: the
answered gate is not asked again and the ledger holds every row exactly once. Meanwhile a
second run waits at its gate, longer than the automation's silence window: suspended runs
send no heartbeats, and the automation must not take them for dead.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from govflow.ledger.datasets import version_id_for
from govflow.ledger.engine import Ledger
from govflow.ledger.models import DatasetVersion
from tests.support.datasets import jsonl, ticket, write_dataset
from tests.support.operations import (
    add_reviewers,
    advisory_lock,
    audit_actions,
    decide,
    install_crash_detection,
    ledger_counts,
    lock_waiters,
    register_deployments,
    run_states,
    running_tasks,
    state_history,
    trigger_runs,
    wait_state,
    wait_until,
    wait_workers_online,
)

pytestmark = pytest.mark.slow

DEPLOYMENT = "ingest/ingest"
UNIQUE_CHECK = "expect_column_values_to_be_unique(ticket_id)"
# The shortest heartbeat Prefect allows, and a window one missed heartbeat wider: a live run
# always sends an event within it; a dead one is marked Crashed 10-45 s after it died.
HEARTBEAT_S = 30
SILENCE_S = 40


def _batch(folder, first: int):
    """200 tickets, 11 of which share one id: the uniqueness check fails and the gate opens."""
    records = [ticket(n) for n in range(first, first + 190)] + [
        ticket(first, text=f"re-exported ticket {n}") for n in range(10)
    ]
    folder.mkdir(parents=True)
    return write_dataset(folder, jsonl(records))


def _raw_version(ledger_url: str, run_id: str) -> DatasetVersion:
    ledger = Ledger.open(ledger_url)
    with ledger.reader() as session:
        version = session.scalars(
            select(DatasetVersion).where(
                DatasetVersion.flow_run_id == run_id, DatasetVersion.stage == "raw"
            )
        ).one()
        session.expunge(version)
    ledger.dispose()
    return version


def test_killed_worker_run_crashes_and_retry_completes_without_asking_again(
    stack, workers, tmp_path
):
    register_deployments(stack)
    install_crash_detection(stack, within_s=SILENCE_S)
    tokens = add_reviewers(stack.ledger_url, tmp_path / "tokens", {"bob": "reviewer"})
    heartbeats = {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(HEARTBEAT_S)}
    doomed = workers("ops-worker-doomed", env=heartbeats)
    wait_workers_online(stack, [doomed])
    configs = [_batch(tmp_path / "doomed", 1), _batch(tmp_path / "waiting", 501)]

    run_id, waiting_id = trigger_runs(
        stack,
        DEPLOYMENT,
        [{"params": {"config_path": str(config), "data_docs": False}} for config in configs],
        key="crash",
    )
    wait_state(stack, run_id, "Suspended")
    wait_state(stack, waiting_id, "Suspended")  # and stays there: nobody answers it
    raw = _raw_version(stack.ledger_url, run_id)
    # Waiving every failed check lets every raw row through: this is the version to come.
    validated_id = version_id_for(name=raw.name, stage="validated", content_hash=raw.content_hash)
    with advisory_lock(stack.ledger_url, validated_id) as lock:
        answer = decide(
            stack, run_id, "bob", tokens, "--all", "waive", "--note", "ids are reused upstream"
        )
        # The resumed run recorded the decision and now waits inside register-passed-rows.
        waiting_task = wait_until(
            lambda: lock_waiters(lock) and running_tasks(stack, run_id, "register-passed-rows"),
            "the resumed run to wait for the validated version's lock",
        )
        answered = ledger_counts(stack.ledger_url)
        flow_processes = doomed.kill()
    # Nothing is left to report the loss: the run still looks Running to Prefect.
    state_after_kill = run_states(stack, [run_id])[run_id]["name"]
    fresh = workers("ops-worker-fresh", env=heartbeats)  # the replacement machine
    crashed = wait_state(stack, run_id, "Crashed", timeout=SILENCE_S + 120)
    after_crash = ledger_counts(stack.ledger_url)

    wait_workers_online(stack, [fresh])
    retry = stack.run("prefect", "flow-run", "retry", run_id).check()
    wait_state(stack, run_id, "Completed")
    final = ledger_counts(stack.ledger_url)
    inbox = json.loads(stack.run("govflow", "review", "inbox", "--json").check().out)

    assert answer.out == (
        f"accepted: 2 decision(s) by bob: {UNIQUE_CHECK}=waive, quarantine_rate=waive\n"
    )
    assert len(waiting_task) == 1
    assert len(flow_processes) == 1
    assert state_after_kill == "Running"
    assert crashed["message"] == "Flow run marked as crashed due to missing heartbeats."
    assert f"Flow run '{run_id}' has been scheduled for retry" in retry.out
    # The first attempt and the resume ran on the killed worker, the retry on the fresh one.
    assert doomed.started_runs() == {run_id: 2, waiting_id: 1}
    assert fresh.started_runs() == {run_id: 1}
    # One suspension at the gate; after the crash and the retry it was not asked again.
    assert state_history(stack, run_id) == [
        *("Scheduled", "Pending", "Submitting", "Running", "Suspended"),
        *("Resuming", "Pending", "Submitting", "Running", "Crashed"),
        *("Scheduled", "Pending", "Submitting", "Running", "Completed"),
    ]
    # The other run waited at its gate through the whole silence window and more.
    assert state_history(stack, waiting_id) == [
        *("Scheduled", "Pending", "Submitting", "Running", "Suspended")
    ]
    assert [(g["flow_run_id"], g["items"]) for g in inbox] == [
        (waiting_id, [UNIQUE_CHECK, "quarantine_rate"])
    ]
    # The killed transaction left nothing behind: the crash changed no row.
    assert after_crash == answered
    assert answered == dict.fromkeys(answered, 0) | {
        "people": 1,
        "sources": 2,
        "dataset_versions": 2,  # both raw versions
        "items": 400,
        "version_rows": 400,
        "validation_runs": 4,
        "quarantined_rows": 22,
        "review_tasks": 2,
        "review_decisions": 2,
        "audit_events": 10,
        "audit_head": 1,
    }
    assert final == answered | {
        "dataset_versions": 3,
        "dataset_version_parents": 1,
        "version_rows": 600,
        "waivers": 2,
        "audit_events": 13,
    }
    assert audit_actions(stack.ledger_url) == {
        "reviewer.added": 1,
        "dataset.registered": 3,
        "validation.recorded": 4,
        "review.requested": 2,
        "review.decided": 1,
        "validation.waived": 2,
    }
    verify = stack.run("govflow", "audit", "verify").check()
    assert verify.out.startswith("audit chain intact: 13 events")
