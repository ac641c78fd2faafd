"""Small flows that open review gates, for the tests (run in-process or served)."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import INPUTS

from govflow.domain.review import ReviewRequest
from govflow.ledger.datasets import prepare_items, register_dataset_version
from govflow.ledger.engine import Ledger
from govflow.review.gate import request_review


@flow(name="review-gate-test", persist_result=False)
def review_gate_flow(
    request: dict[str, Any], ledger_url: str, poll_interval: int = 1, mode: str = "auto"
) -> dict[str, Any]:
    """Ask the request's question and return the decisions as JSON."""
    result = request_review(
        ReviewRequest.model_validate(request),
        ledger=Ledger.open(ledger_url),
        poll_interval=poll_interval,
        mode=mode,  # type: ignore[arg-type]
    )
    return result.model_dump(mode="json")


@task(persist_result=True, cache_policy=INPUTS)
def prepare_batch(marker_path: str, keys: list[str]) -> list[str]:
    """Stand-in for expensive work before a gate: it must not run again after a suspend."""
    with open(marker_path, "a", encoding="utf-8") as marker:
        marker.write("prepared\n")
    return keys


@flow(name="served-review-gate-test", persist_result=True)
def served_gate_flow(request: dict[str, Any], ledger_url: str, marker_path: str) -> dict[str, Any]:
    """A deployed flow: cached work, an idempotent ledger write, then a (suspending) gate."""
    ledger = Ledger.open(ledger_url)
    keys = prepare_batch(marker_path, [item["key"] for item in request["items"]])
    with ledger.session() as session:
        register_dataset_version(
            session=session,
            name="gate-test",
            stage="raw",
            items=prepare_items([{"key": key} for key in keys]),
            actor="flow",
        )
    result = request_review(ReviewRequest.model_validate(request), ledger=ledger)
    return result.model_dump(mode="json")


@flow(name="parallel-review-test", persist_result=False)
def parallel_gate_flow(request: dict[str, Any]) -> dict[str, Any]:
    """Fan a large request out to child runs of the review-batch deployment."""
    from govflow.review.parallel import request_review_in_parallel

    result = request_review_in_parallel(ReviewRequest.model_validate(request))
    return result.model_dump(mode="json")


if __name__ == "__main__":
    from prefect import serve

    from flows.review import review_batch

    serve(
        served_gate_flow.to_deployment(name="served-review-gate-test"),
        review_batch.to_deployment(name="review-batch"),
    )
