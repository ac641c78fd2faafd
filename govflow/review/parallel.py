"""Fan a large review out to one child run per batch: Prefect allows one open pause per run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from govflow.domain.review import GateResult, ItemDecision, ReviewRequest

REVIEW_DEPLOYMENT = "review-batch/review-batch"


def request_review_in_parallel(
    request: ReviewRequest, *, deployment: str = REVIEW_DEPLOYMENT
) -> GateResult:
    """Open every batch at once, each in a child run of ``deployment``; wait for all of them.

    Child runs are keyed by this run and the batch's gate id, so a re-run of the parent finds
    its children instead of starting new ones, and answered batches are not asked again.
    """
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext
    from prefect.deployments import run_deployment

    context = FlowRunContext.get()
    parent = str(context.flow_run.id) if context and context.flow_run else "no-parent"
    batches = request.batches()

    def run_batch(batch: ReviewRequest) -> list[ItemDecision]:
        child = run_deployment(
            deployment,
            parameters={"request": batch.model_dump(mode="json")},
            as_subflow=False,
            timeout=None,
            idempotency_key=f"{parent}:{batch.gate_id}",
        )
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(child.id).state
        if state is None or not state.is_completed():
            raise RuntimeError(f"review batch {batch.name} ended {state and state.name}")
        result = GateResult.model_validate(state.result())
        return result.decisions

    with ThreadPoolExecutor(max_workers=len(batches)) as pool:
        decided = [d for batch_decisions in pool.map(run_batch, batches) for d in batch_decisions]
    by_item = {d.item_key: d for d in decided}
    return GateResult(
        gate_id=request.gate_id,
        kind=request.kind,
        decisions=[by_item[item.key] for item in request.items],
    )
