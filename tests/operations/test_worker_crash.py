"""A worker dies (SIGKILL, with its flow-run process) in the middle of a deployed ingest.

The run has already suspended at its validation gate and been answered; it resumed on the
worker and is inside the transaction that registers the validated version when the worker
and the flow process are killed. Prefect has no process left to report the loss: the run is
marked Crashed by Prefect's documented zombie-run automation (flow-run heartbeats every
PREFECT_FLOWS_HEARTBEAT_FREQUENCY seconds; an automation crashes a run whose heartbeats
stop). The operator retries it (``prefect flow-run retry``) and a fresh worker completes it:
the answered gate is not asked again and the ledger holds every row exactly once.
"""

from __future__ import annotations

from sqlalchemy import select

from govflow.ledger.datasets import version_id_for
from govflow.ledger.engine import Ledger
from govflow.ledger.models import DatasetVersion
from tests.flows.conftest import jsonl, ticket, write_dataset
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

DEPLOYMENT = "ingest/ingest"
UNIQUE_CHECK = "expect_column_values_to_be_unique(ticket_id)"
# The shortest heartbeat Prefect allows, and a window one missed heartbeat wider: a live run
# always sends an event within it, a dead one is marked Crashed 10-45 s after it died.
HEARTBEAT_S = 30
SILENCE_S = 40


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
    # 200 rows; 11 share one ticket id: the uniqueness check fails and the gate opens.
    records = [ticket(n) for n in range(1, 191)] + [
        ticket(1, text=f"re-exported ticket {n}") for n in range(10)
    ]
    (tmp_path / "data").mkdir()
    config = write_dataset(tmp_path / "data", jsonl(records))

    [run_id] = trigger_runs(
        stack,
        DEPLOYMENT,
        [{"params": {"config_path": str(config), "data_docs": False}}],
        key="crash",
    )
    wait_state(stack, run_id, "Suspended")
    raw = _raw_version(stack.ledger_url, run_id)
    # Waiving every failed check lets every raw row through: this is the version to come.
    validated_id = version_id_for(name=raw.name, stage="validated", content_hash=raw.content_hash)
    with advisory_lock(stack.ledger_url, validated_id) as lock:
        answer = decide(
            stack, run_id, "bob", tokens, "--all", "waive", "--note", "ids are reused upstream"
        )
        # The resumed run recorded the decision and now waits inside register-passed-rows.
        waiting_task = wait_until(
            lambda: lock_waiters(lock) and running_tasks(stack, run_id),
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

    assert answer.out == (
        f"accepted: 2 decision(s) by bob: {UNIQUE_CHECK}=waive, quarantine_rate=waive\n"
    )
    assert len(waiting_task) == 1 and waiting_task[0].startswith("register-passed-rows-")
    assert len(flow_processes) == 1
    assert state_after_kill == "Running"
    assert crashed["message"] == "Flow run marked as crashed due to missing heartbeats."
    assert f"Flow run '{run_id}' has been scheduled for retry" in retry.out
    assert doomed.started_runs() == {run_id: 2}  # the first attempt and the resume
    assert fresh.started_runs() == {run_id: 1}
    # One suspension at the gate; after the crash and the retry it was not asked again.
    assert state_history(stack, run_id) == [
        *("Scheduled", "Pending", "Submitting", "Running", "Suspended"),
        *("Resuming", "Pending", "Submitting", "Running", "Crashed"),
        *("Scheduled", "Pending", "Submitting", "Running", "Completed"),
    ]
    # The killed transaction left nothing behind: the crash changed no row.
    assert after_crash == answered
    assert answered == dict.fromkeys(answered, 0) | {
        "people": 1,
        "sources": 1,
        "dataset_versions": 1,  # raw only
        "items": 200,
        "dataset_version_items": 200,
        "validation_runs": 2,
        "quarantined_rows": 11,
        "review_tasks": 1,
        "review_decisions": 2,
        "audit_events": 6,
        "audit_head": 1,
    }
    assert final == answered | {
        "dataset_versions": 2,
        "dataset_version_parents": 1,
        "dataset_version_items": 400,
        "waivers": 2,
        "audit_events": 9,
    }
    assert audit_actions(stack.ledger_url) == {
        "reviewer.added": 1,
        "dataset.registered": 2,
        "validation.recorded": 2,
        "review.requested": 1,
        "review.decided": 1,
        "validation.waived": 2,
    }
    assert stack.run("govflow", "review", "inbox").check().out == "no open review gates\n"
    verify = stack.run("govflow", "audit", "verify").check()
    assert verify.out.startswith("audit chain intact: 9 events")
