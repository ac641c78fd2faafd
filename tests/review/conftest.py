from __future__ import annotations

import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

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


@pytest.fixture
def roster(govflow_env, tmp_path) -> dict[str, Any]:
    """Add one person per role; return their token files."""
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
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
            path = tmp_path / f"{person_id}.token"
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
        from govflow.cli.review import _gate_of

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


@pytest.fixture
def gates(prefect_server, govflow_env):
    runner = GateRunner(govflow_env["GOVFLOW_DATABASE_URL"])
    yield runner
    runner.pool.shutdown(wait=False, cancel_futures=True)


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
