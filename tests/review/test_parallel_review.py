"""Two reviewers answer two batches of one request at the same time, in separate child runs."""

from __future__ import annotations

import time

from govflow.prefect_api import PrefectAPI
from tests.support.gates import contested_request


def _suspended_children(expected: int, timeout: float = 90) -> list[dict]:
    deadline = time.monotonic() + timeout
    with PrefectAPI() as api:
        while time.monotonic() < deadline:
            runs = [
                run
                for run in api.paused_runs()
                if (run.get("state") or {}).get("name") == "Suspended"
            ]
            if len(runs) >= expected:
                return runs
            time.sleep(0.3)
    raise TimeoutError(f"fewer than {expected} child runs suspended")


def test_batches_are_answered_in_parallel_child_runs(served, gates, roster, run_cli):
    from tests.review.gate_flows import parallel_gate_flow

    keys = tuple(f"T{i}" for i in range(1, 6))
    request = contested_request(keys=keys, batch_size=3)
    future = gates.pool.submit(parallel_gate_flow, request=request)

    children = _suspended_children(2)
    inbox = run_cli("review", "inbox", "--json")
    first, second = children[0]["id"], children[1]["id"]
    answers = [
        gates.pool.submit(
            run_cli,
            "review",
            "decide",
            first,
            "--reviewer",
            "bob",
            "--token-file",
            str(roster["bob"]),
            "--all",
            "bug",
        ),
        gates.pool.submit(
            run_cli,
            "review",
            "decide",
            second,
            "--reviewer",
            "rita",
            "--token-file",
            str(roster["rita"]),
            "--all",
            "billing",
        ),
    ]
    results = [answer.result(timeout=120) for answer in answers]
    outcome = future.result(timeout=180)

    assert inbox.code == 0, inbox.err
    assert [r.code for r in results] == [0, 0], [r.err for r in results]
    by_reviewer = {}
    for decision in outcome["decisions"]:
        by_reviewer.setdefault(decision["reviewer_id"], []).append(decision["item_key"])
    assert sorted(len(items) for items in by_reviewer.values()) == [2, 3]
    assert set(by_reviewer) == {"bob", "rita"}
    assert [d["item_key"] for d in outcome["decisions"]] == list(keys)
