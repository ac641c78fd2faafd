"""Review gate latency: answering with the real CLI, and listing a large inbox.

Starts its own local Prefect server (SQLite) with a temporary PREFECT_HOME and a temporary
SQLite ledger, then:

1. Runs one flow (in this process, in a thread) that opens GATES gates in sequence, each a
   one-item contested_annotation ReviewRequest (mode="pause", poll_interval=1), and records
   ``time.time()`` right after each ``request_review`` returns. Each gate is answered with
   the real CLI, ``python -m govflow.cli.main review decide ...`` in a subprocess. Measured
   per gate:
   - end to end: from starting ``decide`` to the flow running again (the headline: what a
     reviewer waits for before the pipeline moves on; never negative);
   - decide wall time: how long the command takes to return;
   - decide return -> flow running: ``decide`` waits for the flow's verdict, which the flow
     publishes just before ``request_review`` returns, so this is usually negative (the
     flow was already running); shown as max(0, delta);
   - resume -> flow running: from the server's Running state (set when the resume is
     accepted) to the flow's mark; bounded by the poll interval plus the submission check.
2. Creates INBOX_GATES flow runs through the REST API, each Paused with a ``pause_key`` and a
   ``govflow-gate-<key>`` run input shaped by ``govflow.review.inbox.summarize_gate``, and times
   ``govflow review inbox --json`` (subprocess wall time, best of 3), checking it lists them
   all.

Targets: end-to-end p50 < 2 s; inbox of 200 gates < 1 s.
The last line is: review_latency: p50 = X.XX s, p95 = X.XX s, inbox(200 gates) = X.XX s
(p50/p95 of the end-to-end latency).

Usage: .venv/bin/python benchmarks/review_latency.py [--gates 20] [--inbox-gates 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.prefect_server import PrefectServer, free_port, remove  # noqa: E402

WORK = Path(tempfile.mkdtemp(prefix="govflow-review-bench-"))
PORT = free_port()
# Prefect reads its settings when it is imported: configure it before anything imports it.
os.environ.update(
    {
        "PREFECT_HOME": str(WORK / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{PORT}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "GOVFLOW_HOME": str(WORK / "govflow"),
        "GOVFLOW_DATABASE_URL": f"sqlite:///{WORK / 'ledger.db'}",
        "GOVFLOW_ACTOR": "benchmark",
    }
)
for name in ("PREFECT_API_AUTH_STRING", "PREFECT_UI_URL", "GOVFLOW_REVIEW_WEBHOOK_URL"):
    os.environ.pop(name, None)

from prefect import flow  # noqa: E402

from govflow.domain.review import ReviewItem, ReviewRequest  # noqa: E402
from govflow.ledger.engine import Ledger  # noqa: E402
from govflow.ledger.models import Role  # noqa: E402
from govflow.ledger.people import add_person  # noqa: E402
from govflow.prefect_api import PrefectAPI  # noqa: E402
from govflow.review.gate import request_review  # noqa: E402
from govflow.review.inbox import GATE_INPUT_PREFIX, summarize_gate  # noqa: E402
from govflow.review.inbox import gate_of_run as _gate_of  # noqa: E402

LEDGER_URL = os.environ["GOVFLOW_DATABASE_URL"]
# When each answer reached the flow. Module-level: Prefect copies flow parameters.
MARKS: list[float] = []
CLI = [sys.executable, "-m", "govflow.cli.main"]


def gate_request(index: int, prefix: str = "L") -> ReviewRequest:
    key = f"{prefix}{index:03d}"
    return ReviewRequest(
        name=f"bench-{prefix}{index:03d}",
        kind="contested_annotation",
        labels=("bug", "billing"),
        items=[
            ReviewItem(
                key=key,
                payload={"text": f"ticket {key}: the app crashes when I pay"},
                reasons=["low_agreement"],
                votes=[
                    {"annotator_id": "ann", "label": "bug", "reliability": 0.9},
                    {"annotator_id": "zed", "label": "billing", "reliability": 0.6},
                ],
                suggestion="bug",
                confidence=0.55,
            )
        ],
    )


@flow(name="review-latency-bench", persist_result=False)
def gates_in_sequence(count: int, ledger_url: str) -> None:
    """Open ``count`` gates one after the other; note when each answer reaches the flow."""
    ledger = Ledger.open(ledger_url)
    for index in range(count):
        request_review(gate_request(index), ledger=ledger, poll_interval=1, mode="pause")
        MARKS.append(time.time())


def add_reviewer() -> Path:
    ledger = Ledger.open(LEDGER_URL)
    with ledger.session() as session:
        _, token = add_person(
            session=session, person_id="bob", display_name="Bob", role=Role.REVIEWER, actor="bench"
        )
    ledger.dispose()
    path = WORK / "bob.token"
    path.write_text(token + "\n")
    return path


def find_run(api: PrefectAPI, name: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = api.post_json("/flow_runs/filter", {"flow_runs": {"name": {"any_": [name]}}})
        if runs:
            return runs[0]["id"]
        time.sleep(0.1)
    raise TimeoutError(f"flow run {name} never appeared")


def wait_for_gate(api: PrefectAPI, run_id: str, item_key: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api.flow_run(run_id)
        if (run.get("state") or {}).get("type") == "PAUSED":
            gate = _gate_of(api, run)
            if gate is not None and gate["items"] == [item_key]:
                return
        time.sleep(0.05)
    raise TimeoutError(f"flow run {run_id} did not pause at the gate for {item_key}")


def running_times(api: PrefectAPI, run_id: str) -> list[float]:
    states = api.get_json(f"/flow_run_states/?flow_run_id={run_id}")
    return sorted(
        datetime.fromisoformat(s["timestamp"].replace("Z", "+00:00")).timestamp()
        for s in states
        if s["type"] == "RUNNING"
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(label: str, values: list[float]) -> str:
    return (
        f"  {label:<34} p50 {statistics.median(values):6.2f} s   p95 {pct(values, 0.95):6.2f} s"
        f"   min {min(values):6.2f} s   max {max(values):6.2f} s"
    )


def measure_latency(count: int, token_file: Path) -> list[float]:
    marks = MARKS
    name = f"latency-{uuid.uuid4().hex[:8]}"
    errors: list[BaseException] = []

    def run_flow() -> None:
        try:
            gates_in_sequence.with_options(flow_run_name=name)(count, LEDGER_URL)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    thread = threading.Thread(target=run_flow, daemon=True)
    thread.start()
    starts, ends = [], []
    with PrefectAPI() as api:
        run_id = find_run(api, name)
        answer = ["--token-file", str(token_file), "--all", "bug"]
        for index in range(count):
            key = f"L{index:03d}"
            wait_for_gate(api, run_id, key)
            started = time.time()
            proc = subprocess.run(
                [*CLI, "review", "decide", run_id, "--reviewer", "bob", *answer],
                capture_output=True,
                text=True,
                timeout=120,
            )
            ends.append(time.time())
            starts.append(started)
            if proc.returncode != 0 or not proc.stdout.startswith("accepted: 1 decision(s)"):
                raise RuntimeError(f"decide failed for {key}: {proc.stdout}{proc.stderr}")
            deadline = time.monotonic() + 30
            while len(marks) <= index and time.monotonic() < deadline and not errors:
                time.sleep(0.01)
            if errors:
                raise RuntimeError("the gate flow failed") from errors[0]
            if len(marks) <= index:
                raise TimeoutError(f"the flow did not continue after {key}")
        thread.join(timeout=60)
        resumed = running_times(api, run_id)

    end_to_end = [m - s for m, s in zip(marks, starts, strict=True)]
    wall = [e - s for e, s in zip(ends, starts, strict=True)]
    after_return = [m - e for m, e in zip(marks, ends, strict=True)]
    resume_to_mark = [m - max(r for r in resumed if r <= m) for m in marks]
    print(f"answering {count} gates with `govflow review decide` (poll_interval=1):")
    print(summary("decide start -> flow running", end_to_end))
    print(summary("decide command wall time", wall))
    print(summary("decide return -> flow running", [max(0.0, d) for d in after_return]))
    print(
        f"  (flow already running when decide returned: {sum(d <= 0 for d in after_return)}"
        f"/{count}; raw deltas {min(after_return):+.2f} .. {max(after_return):+.2f} s)"
    )
    print(summary("resume accepted -> flow running", resume_to_mark))
    return end_to_end


def create_paused_gates(count: int) -> None:
    """Create ``count`` flow runs paused at a govflow gate, the way request_review leaves them."""
    due = datetime.now(UTC) + timedelta(days=2)
    from govflow.ledger.engine import Ledger
    from govflow.ledger.reviews import open_review_task

    ledger = Ledger.open(LEDGER_URL)
    with PrefectAPI() as api:
        flow_id = api.post_json("/flows/", {"name": "review-inbox-bench"})["id"]

        def one(index: int) -> None:
            request = gate_request(index, prefix="I")
            key = f"{request.gate_id}-a1"
            run = api.post_json(
                "/flow_runs/",
                {"flow_id": flow_id, "name": f"inbox-{index:03d}", "state": {"type": "RUNNING"}},
            )
            result = api.set_state(
                run["id"],
                {
                    "type": "PAUSED",
                    "name": "Paused",
                    "state_details": {
                        "pause_key": key,
                        "pause_reschedule": False,
                        "pause_timeout": due.isoformat(),
                    },
                },
                force=True,
            )
            if result.get("status") != "ACCEPT":
                raise RuntimeError(f"could not pause {run['id']}: {result}")
            # As request_review does: the review task in the ledger, then the run input.
            with ledger.session() as session:
                task = open_review_task(
                    session=session, request=request, flow_run_id=run["id"], actor="bench"
                )
                value = summarize_gate(task, flow_run_id=run["id"], key=key)
            api.post_json(
                f"/flow_runs/{run['id']}/input",
                {"key": GATE_INPUT_PREFIX + key, "value": json.dumps(value)},
            )

        # One at a time: concurrent writes made the SQLite-backed server answer 503.
        for index in range(count):
            one(index)


def time_inbox(expected: int, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        proc = subprocess.run(
            [*CLI, "review", "inbox", "--json"], capture_output=True, text=True, timeout=120
        )
        times.append(time.perf_counter() - started)
        if proc.returncode != 0:
            raise RuntimeError(f"inbox failed: {proc.stderr}")
        listed = json.loads(proc.stdout)
        if len(listed) != expected:
            raise RuntimeError(f"inbox listed {len(listed)} gates, expected {expected}")
    print(
        f"`govflow review inbox --json` with {expected} open gates: "
        + ", ".join(f"{t:.2f} s" for t in times)
    )
    return min(times)


def drain_prefect_clients() -> None:
    """Send queued logs and events before the server goes away (else exit waits ~1 min)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    EventsWorker.drain_all(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gates", type=int, default=20)
    parser.add_argument("--inbox-gates", type=int, default=200)
    args = parser.parse_args()

    server = PrefectServer(PORT, WORK / "prefect").start()
    try:
        token_file = add_reviewer()
        end_to_end = measure_latency(args.gates, token_file)
        create_paused_gates(args.inbox_gates)
        inbox = time_inbox(args.inbox_gates)
        drain_prefect_clients()
    finally:
        server.stop()
        remove(WORK)
    print(
        f"review_latency: p50 = {statistics.median(end_to_end):.2f} s, "
        f"p95 = {pct(end_to_end, 0.95):.2f} s, inbox({args.inbox_gates} gates) = {inbox:.2f} s"
    )


if __name__ == "__main__":
    main()
