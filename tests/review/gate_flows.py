"""Small flows that open review gates, for the tests (run in-process or served)."""

from __future__ import annotations

from typing import Any

from prefect import flow

from govflow.ledger.engine import Ledger
from govflow.review.gate import request_review
from govflow.review.models import ReviewRequest


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
