"""Review a batch in a run of its own, so several people can answer batches at the same time.

In:  ``request``: a ``ReviewRequest`` as JSON (at most one form's worth of items).
Out: the batch's ``GateResult`` (also recorded in the ledger as review tasks and decisions).
People: whoever the request names: tier 1 reviewers, specialists and leads (or the request's
     assignees) by the request's deadline; escalations go to tier 2 specialists and leads;
     when nobody answers, the kind's conservative default applies and is recorded as timed out.
Started from a deployment it suspends while waiting, holding no worker.
"""

from __future__ import annotations

from typing import Any

from prefect import flow


@flow(name="review-batch", persist_result=True)
def review_batch(request: dict[str, Any]) -> dict[str, Any]:
    """Ask one batch's question and return the decisions as JSON."""
    from govflow.domain.review import ReviewRequest
    from govflow.review.gate import request_review

    return request_review(ReviewRequest.model_validate(request)).model_dump(mode="json")
