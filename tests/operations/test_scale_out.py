"""Scale-out: two process workers on one Prefect server, Prefect and the ledger on Postgres.

Four batches of one ticket source are triggered at once with ``govflow run``; two of them
fail validation and open a gate, answered with ``govflow review decide`` by two reviewers.
Every run completes; the ledger holds exactly the rows the four batches imply (items shared
between batches stored once, nothing lost, nothing written twice) and its audit chain is
intact.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from govflow.ledger.engine import Ledger
from govflow.ledger.models import DatasetVersion, ReviewDecision, Waiver
from tests.flows.conftest import jsonl, ticket, write_dataset
from tests.support.operations import (
    Answer,
    add_reviewers,
    answer_gates_until_done,
    audit_actions,
    ledger_counts,
    register_deployments,
    state_history,
    trigger_runs,
    wait_workers_online,
)

pytestmark = pytest.mark.slow

DEPLOYMENT = "ingest/ingest"
SHARED = [ticket(n) for n in range(1, 41)]  # 40 tickets every batch contains
UNIQUE_CHECK = "expect_column_values_to_be_unique(ticket_id)"


def _unique(batch: int, count: int) -> list[dict]:
    return [ticket(1000 * batch + n) for n in range(1, count + 1)]


def _duplicated_ids(batch: int) -> list[dict]:
    # 10 more rows reuse one ticket id of the batch: the 11 rows with that id fail the
    # critical uniqueness check and 5.5% of the batch is quarantined (the suite allows 5%).
    return [ticket(1000 * batch + 1, text=f"re-exported ticket {n}") for n in range(10)]


def _write_batches(folder) -> list:
    """Write four batches (200 lines each) and return their configs."""
    broken = [
        '{"ticket_id": "T02901", "text": ',  # broken JSON: quarantined at acquisition
        jsonl([ticket(2902, text=None)])[0],  # missing required text: at acquisition
        jsonl([ticket(2903, channel="fax")])[0],  # not a channel: by the suite
        jsonl([ticket(2904, ticket_id="X-2904")])[0],  # malformed id: by the suite
    ]
    batches = [
        jsonl(SHARED + _unique(1, 160)),  # clean
        jsonl(SHARED + _unique(2, 156)) + broken,  # a few bad rows, under the threshold
        jsonl(SHARED + _unique(3, 150) + _duplicated_ids(3)),  # gate: continue with clean rows
        jsonl(SHARED + _unique(4, 150) + _duplicated_ids(4)),  # gate: waive
    ]
    configs = []
    for index, lines in enumerate(batches, start=1):
        (folder / f"batch{index}").mkdir(parents=True)
        configs.append(write_dataset(folder / f"batch{index}", lines))
    return configs


def _accepted(reviewer: str, choice: str) -> str:
    return (
        f"accepted: 2 decision(s) by {reviewer}: "
        f"{UNIQUE_CHECK}={choice}, quarantine_rate={choice}\n"
    )


def _ledger_rows(ledger_url: str) -> tuple[dict[str, dict[str, int]], list, list]:
    """Rows per version (by flow run and stage), the decisions and the waivers."""
    ledger = Ledger.open(ledger_url)
    with ledger.reader() as session:
        rows: dict[str, dict[str, int]] = {}
        for version in session.scalars(select(DatasetVersion)):
            rows.setdefault(version.flow_run_id, {})[version.stage] = version.row_count
        decisions = session.execute(
            select(ReviewDecision.reviewer_id, ReviewDecision.item_key, ReviewDecision.choice)
        ).all()
        waivers = session.execute(select(Waiver.reviewer_id, Waiver.expectation)).all()
    ledger.dispose()
    return rows, sorted(decisions), sorted(waivers)


def test_two_workers_run_concurrent_ingests_and_gates_exactly_once(stack, workers, tmp_path):
    register_deployments(stack)
    tokens = add_reviewers(
        stack.ledger_url, tmp_path / "tokens", {"bob": "reviewer", "rita": "lead"}
    )
    # Two runs at a time each: four runs at once cannot all go to the first worker that polls.
    pool = [workers("ops-worker-1", limit=2), workers("ops-worker-2", limit=2)]
    wait_workers_online(stack, pool)
    configs = _write_batches(tmp_path / "data")

    run_ids = trigger_runs(
        stack,
        DEPLOYMENT,
        # Data Docs are the flow tests' business; here they would only add seconds per run.
        [{"params": {"config_path": str(config), "data_docs": False}} for config in configs],
        key="scale-out",
    )
    policy = {
        run_ids[2]: Answer("bob", ("--all", "continue_clean", "--note", "known re-export")),
        run_ids[3]: Answer("rita", ("--all", "waive", "--note", "ids reused upstream")),
    }
    outcome = answer_gates_until_done(
        stack, run_ids, lambda gate: policy[gate["flow_run_id"]], tokens
    )

    states = {run_id: outcome.states[run_id]["name"] for run_id in run_ids}
    logs = "\n".join(w.log()[-4000:] for w in pool)
    assert states == dict.fromkeys(run_ids, "Completed"), logs
    # Each gate was asked once, of the run that failed validation, and answered once.
    assert len(outcome.answered) == 2
    assert {a.gate["flow_run_id"]: (a.gate["items"], a.gate["tier"]) for a in outcome.answered} == {
        run_ids[2]: ([UNIQUE_CHECK, "quarantine_rate"], 1),
        run_ids[3]: ([UNIQUE_CHECK, "quarantine_rate"], 1),
    }
    assert {a.gate["flow_run_id"]: a.output for a in outcome.answered} == {
        run_ids[2]: _accepted("bob", "continue_clean"),
        run_ids[3]: _accepted("rita", "waive"),
    }
    assert [state_history(stack, r).count("Suspended") for r in run_ids] == [0, 0, 1, 1]
    # Each run was executed once, and once more if it resumed after its gate; both workers
    # took some of the work (a run claimed by both was started by one: Prefect aborts the
    # other claim).
    executions = [state_history(stack, r).count("Running") for r in run_ids]
    started = [w.started_runs() for w in pool]
    assert executions == [1, 1, 2, 2]
    assert sum(started, Counter()) == dict(zip(run_ids, executions, strict=True)), logs
    assert all(started), logs

    versions, decisions, waivers = _ledger_rows(stack.ledger_url)
    assert versions == {
        run_ids[0]: {"raw": 200, "validated": 200},
        run_ids[1]: {"raw": 198, "validated": 196},
        run_ids[2]: {"raw": 200, "validated": 189},
        run_ids[3]: {"raw": 200, "validated": 200},
    }
    assert decisions == [
        ("bob", UNIQUE_CHECK, "continue_clean"),
        ("bob", "quarantine_rate", "continue_clean"),
        ("rita", UNIQUE_CHECK, "waive"),
        ("rita", "quarantine_rate", "waive"),
    ]
    assert waivers == [("rita", UNIQUE_CHECK), ("rita", "quarantine_rate")]
    counts = ledger_counts(stack.ledger_url)
    assert counts == dict.fromkeys(counts, 0) | {
        "sources": 4,
        "dataset_versions": 8,
        "dataset_version_parents": 4,
        # 40 shared tickets stored once + 160 + 158 + 160 + 160 of each batch's own
        "items": 678,
        "dataset_version_items": (200 + 198 + 200 + 200) + (200 + 196 + 189 + 200),
        "validation_runs": 8,  # a schema check and a suite run per batch
        "quarantined_rows": 2 + 2 + 11 + 11,
        "people": 2,
        "review_tasks": 2,
        "review_decisions": 4,
        "waivers": 2,
        "audit_events": 24,
        "audit_head": 1,
    }
    assert audit_actions(stack.ledger_url) == {
        "reviewer.added": 2,
        "dataset.registered": 8,
        "validation.recorded": 8,
        "review.requested": 2,
        "review.decided": 2,
        "validation.waived": 2,
    }
    verify = stack.run("govflow", "audit", "verify").check()
    assert verify.out.startswith("audit chain intact: 24 events")
