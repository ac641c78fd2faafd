"""Helpers for tests that open review gates: the roster, a gate runner, answering gates."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from govflow.ledger.engine import Ledger
from govflow.ledger.models import Role
from govflow.ledger.people import add_person
from govflow.prefect_api import PrefectAPI

PEOPLE = {
    "ann": Role.ANNOTATOR,
    "bob": Role.REVIEWER,
    "rita": Role.REVIEWER,
    "sam": Role.SPECIALIST,
    "lee": Role.LEAD,
}


def add_roster(ledger_url: str, folder: Path) -> dict[str, Path]:
    """Add one person per role; return their token files."""
    ledger = Ledger.open(ledger_url)
    files = {}
    with ledger.session() as session:
        for person_id, role in PEOPLE.items():
            _, token = add_person(
                session=session,
                person_id=person_id,
                display_name=person_id.title(),
                role=role,
                actor="test",
            )
            path = folder / f"{person_id}.token"
            path.write_text(token + "\n")
            files[person_id] = path
    ledger.dispose()
    return files


class GateRunner:
    """Run a gate flow in a background thread and find its paused run."""

    def __init__(self, ledger_url: str) -> None:
        self.ledger_url = ledger_url
        self.pool = ThreadPoolExecutor(max_workers=4)

    def start(self, request: dict[str, Any], **options: Any) -> tuple[Future, str]:
        from tests.review.gate_flows import review_gate_flow

        name = f"gate-test-{uuid.uuid4().hex[:10]}"
        future = self.pool.submit(
            review_gate_flow.with_options(flow_run_name=name),
            request=request,
            ledger_url=self.ledger_url,
            **options,
        )
        return future, self.run_id(name, future)

    def run_id(self, name: str, future: Future, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        with PrefectAPI() as api:
            while time.monotonic() < deadline:
                if future.done():
                    future.result()
                runs = api.post_json("/flow_runs/filter", {"flow_runs": {"name": {"any_": [name]}}})
                if runs:
                    return runs[0]["id"]
                time.sleep(0.2)
        raise TimeoutError(f"flow run {name} never appeared")

    def wait_paused(
        self,
        run_id: str,
        attempt_key: str | None = None,
        *,
        not_gate: str | None = None,
        timeout: float = 60,
    ) -> dict:
        """Wait until the run is paused at a govflow gate (optionally a given attempt/gate)."""
        from govflow.review.inbox import gate_of_run as _gate_of

        deadline = time.monotonic() + timeout
        with PrefectAPI() as api:
            while time.monotonic() < deadline:
                run = api.flow_run(run_id)
                if (run.get("state") or {}).get("type") == "PAUSED":
                    gate = _gate_of(api, run)
                    if (
                        gate
                        and (attempt_key is None or gate["pause_key"].endswith(attempt_key))
                        and gate["gate_id"] != not_gate
                    ):
                        return gate
                time.sleep(0.2)
        raise TimeoutError(f"flow run {run_id} did not pause at a gate")


def contested_request(keys=("T1", "T2", "T3"), **overrides: Any) -> dict[str, Any]:
    items = [
        {
            "key": key,
            "payload": {"text": f"ticket text {key}: the app crashes | sometimes"},
            "reasons": ["low_agreement"],
            "votes": [
                {"annotator_id": "ann", "label": "bug", "reliability": 0.91},
                {"annotator_id": "zed", "label": "billing", "reliability": 0.62},
            ],
            "suggestion": "bug",
            "confidence": 0.55,
            "conflicted": ["ann", "zed"],
        }
        for key in keys
    ]
    return {
        "name": "contested",
        "kind": "contested_annotation",
        "labels": ["bug", "billing"],
        "items": items,
        "guideline_version_id": None,
    } | overrides


def wait_state(run_id, *, name, timeout=90, not_pause_key=None):
    """Wait for the run's state ``name`` (optionally at a pause other than ``not_pause_key``)."""
    deadline = time.monotonic() + timeout
    with PrefectAPI() as api:
        while time.monotonic() < deadline:
            state = api.flow_run(run_id).get("state") or {}
            key = (state.get("state_details") or {}).get("pause_key")
            if state.get("name") == name and (not_pause_key is None or key != not_pause_key):
                return state
            time.sleep(0.3)
    raise TimeoutError(f"run {run_id} never reached {name}: last {state}")


def decide(run_cli, roster, run_id, reviewer, *args, token_of=None):
    """Answer a gate with the real CLI as ``reviewer`` (with ``token_of``'s token if given)."""
    token = roster[token_of or reviewer]
    return run_cli(
        "review", "decide", run_id, "--reviewer", reviewer, "--token-file", str(token), *args
    )


class FlowRunner(GateRunner):
    """Run any flow in a thread and find its run by name."""

    def start_flow(self, flow_fn, **kwargs):
        name = f"flow-test-{uuid.uuid4().hex[:10]}"
        future = self.pool.submit(flow_fn.with_options(flow_run_name=name), **kwargs)
        return future, self.run_id(name, future)
