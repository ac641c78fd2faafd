"""Tell people a gate is waiting: POST its summary (``govflow.review.inbox``) to a webhook."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from govflow.ledger.audit import append_event
from govflow.ledger.engine import Ledger

__all__ = ["notify_new_gate"]

logger = logging.getLogger(__name__)
WEBHOOK_TIMEOUT_S = 5.0


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
