"""Tell people a gate is waiting: the gate summary and an optional webhook notification."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import httpx

from govflow.hashing import canonical_time
from govflow.ledger.audit import append_event
from govflow.ledger.engine import Ledger
from govflow.review.models import ReviewRequest

logger = logging.getLogger(__name__)
WEBHOOK_TIMEOUT_S = 5.0


def ui_url_for_run(flow_run_id: str) -> str | None:
    """Return the Prefect UI deep link of a flow run, if the UI's address is known."""
    from govflow.prefect_api import ui_base_url

    base = ui_base_url()
    return f"{base}/runs/flow-run/{flow_run_id}" if base else None


def gate_summary(
    request: ReviewRequest, *, flow_run_id: str, due: datetime, attempt: int, key: str
) -> dict[str, Any]:
    """Summarize an open gate for the inbox, the CLI and notifications (no secrets)."""
    return {
        "gate_id": request.gate_id,
        "pause_key": key,
        "attempt": attempt,
        "name": request.name,
        "kind": request.kind.value,
        "tier": request.tier,
        "items": [item.key for item in request.items],
        "suggestions": {
            item.key: item.suggestion for item in request.items if item.suggestion is not None
        },
        "choices": list(request.choices),
        "assignees": request.assignees,
        "deadline": canonical_time(due),
        "flow_run_id": flow_run_id,
        "dataset_version_id": request.dataset_version_id,
        "guideline_version_id": request.guideline_version_id,
        "reasons": sorted({r for item in request.items for r in item.reasons}),
        "ui_url": ui_url_for_run(flow_run_id),
    }


def notify_new_gate(summary: dict[str, Any], *, ledger: Ledger, actor: str) -> bool:
    """POST the summary to GOVFLOW_REVIEW_WEBHOOK_URL if set; a failure is audited, not fatal.

    The review itself must not depend on a chat service being up, so a failed notification
    is recorded (audit event and a warning in the run's log) and the gate opens anyway.
    """
    from govflow.settings import get_settings

    url = get_settings().review_webhook_url
    if not url:
        return False
    payload = {"event": "govflow.review.requested", **summary}
    try:
        response = httpx.post(url, json=payload, timeout=WEBHOOK_TIMEOUT_S)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        logger.warning("review notification to the webhook failed: %s", exc)
        with ledger.session() as session:
            append_event(
                session=session,
                actor=actor,
                action="review.notification_failed",
                subject=summary["gate_id"],
                details={"error": str(exc)[:300]},
            )
        return False
    return True
