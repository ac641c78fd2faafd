"""The webhook notification sent when a gate opens (GOVFLOW_REVIEW_WEBHOOK_URL)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from govflow.ledger.engine import Ledger
from govflow.ledger.models import AuditEvent
from tests.support.gates import contested_request
from tests.support.prefect_server import free_port

SUMMARY_ONLY = ("state", "paused_at", "flow_run_name")  # added by the inbox, not the flow


class Receiver:
    """A local webhook endpoint that records every POST body and answers ``status``."""

    def __init__(self, status: int) -> None:
        self.bodies: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                receiver.bodies.append(self.rfile.read(length).decode("utf-8"))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/review"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], Receiver]]:
    """Start a receiver answering ``status`` and point GOVFLOW_REVIEW_WEBHOOK_URL at it."""
    started: list[Receiver] = []

    def start(status: int = 200) -> Receiver:
        receiver = Receiver(status)
        started.append(receiver)
        monkeypatch.setenv("GOVFLOW_REVIEW_WEBHOOK_URL", receiver.url)
        return receiver

    yield start
    for receiver in started:
        receiver.close()


@pytest.fixture(autouse=True)
def _flush_prefect_clients(prefect_server) -> Iterator[None]:
    """Send this process's queued Prefect logs and events while the server is still up.

    The session fixture stops the server without draining them; an event still in flight
    then retries for about a minute at interpreter exit (what prefect_test_harness avoids).
    """
    yield
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    EventsWorker.drain_all(timeout=10)


def _audit(url: str) -> list[AuditEvent]:
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        session.expunge_all()
    ledger.dispose()
    return events


def _decide(run_cli, run_id: str, reviewer: str, token_file, choice: str):
    return run_cli(
        "review",
        "decide",
        run_id,
        "--reviewer",
        reviewer,
        "--token-file",
        str(token_file),
        "--all",
        choice,
    )


def test_new_gate_is_posted_once_without_secrets(
    gates, roster, run_cli, webhook, prefect_server, govflow_env
):
    receiver = webhook(200)
    future, run_id = gates.start(contested_request(keys=("T1", "T2")))
    gate = gates.wait_paused(run_id)

    assert len(receiver.bodies) == 1
    body = json.loads(receiver.bodies[0])
    assert body["event"] == "govflow.review.requested"
    assert (body["gate_id"], body["kind"], body["tier"], body["items"]) == (
        gate["gate_id"],
        "contested_annotation",
        1,
        ["T1", "T2"],
    )
    assert body["flow_run_id"] == run_id
    assert body["deadline"] == gate["deadline"]
    assert body["ui_url"] == f"{prefect_server.ui_url}/runs/flow-run/{run_id}"
    assert body["ui_url"].endswith(f"/runs/flow-run/{run_id}")
    assert body == {"event": "govflow.review.requested"} | {
        k: v for k, v in gate.items() if k not in SUMMARY_ONLY
    }

    accepted = _decide(run_cli, run_id, "bob", roster["bob"], "bug")

    assert accepted.code == 0, accepted.err
    assert accepted.out == "accepted: 2 decision(s) by bob: T1=bug, T2=bug\n"
    assert [d["choice"] for d in future.result(timeout=60)["decisions"]] == ["bug", "bug"]
    assert len(receiver.bodies) == 1
    for token_file in roster.values():
        assert token_file.read_text().strip() not in receiver.bodies[0]
    actions = [e.action for e in _audit(govflow_env["GOVFLOW_DATABASE_URL"])]
    assert "review.notification_failed" not in actions


def test_rejected_submission_reopens_the_gate_without_a_second_notification(
    gates, roster, run_cli, webhook
):
    receiver = webhook(200)
    future, run_id = gates.start(contested_request(keys=("T1",)))
    gates.wait_paused(run_id)

    rejected = _decide(run_cli, run_id, "bob", roster["rita"], "bug")
    reopened = gates.wait_paused(run_id, attempt_key="-a2")
    accepted = _decide(run_cli, run_id, "rita", roster["rita"], "billing")

    assert rejected.code == 1
    assert rejected.err == (
        "Error: rejected: the one-time code does not match reviewer 'bob' for this form; "
        "the gate is open again\n"
    )
    assert reopened["attempt"] == 2
    assert accepted.code == 0, accepted.err
    assert future.result(timeout=60)["decisions"][0]["reviewer_id"] == "rita"
    assert len(receiver.bodies) == 1
    assert json.loads(receiver.bodies[0])["attempt"] == 1
    assert roster["rita"].read_text().strip() not in receiver.bodies[0]


@pytest.mark.parametrize("failure", ["http-500", "closed-port"])
def test_failed_notification_is_audited_and_the_gate_still_opens(
    gates, roster, run_cli, webhook, monkeypatch, govflow_env, failure
):
    if failure == "http-500":
        receiver = webhook(500)
        expected_error = f"Server error '500 Internal Server Error' for url '{receiver.url}'"
    else:
        url = f"http://127.0.0.1:{free_port()}/hooks/review"
        monkeypatch.setenv("GOVFLOW_REVIEW_WEBHOOK_URL", url)
        expected_error = "[Errno 111] Connection refused"
    future, run_id = gates.start(contested_request(keys=("T1",)))
    gate = gates.wait_paused(run_id)

    accepted = _decide(run_cli, run_id, "bob", roster["bob"], "bug")

    assert accepted.code == 0, accepted.err
    assert accepted.out == "accepted: 1 decision(s) by bob: T1=bug\n"
    assert future.result(timeout=60)["decisions"][0]["choice"] == "bug"
    if failure == "http-500":
        assert len(receiver.bodies) == 1
    events = _audit(govflow_env["GOVFLOW_DATABASE_URL"])
    failed = [e for e in events if e.action == "review.notification_failed"]
    assert [(e.subject, e.actor) for e in failed] == [(gate["gate_id"], f"flow-run:{run_id}")]
    assert failed[0].details["error"].startswith(expected_error)
    assert [e.action for e in events][-3:] == [
        "review.requested",
        "review.notification_failed",
        "review.decided",
    ]
