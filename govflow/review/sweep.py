"""Apply deadlines to suspended waits: no process waits inside a suspended run.

One sweep covers both kinds of human wait. A suspended run past its deadline is woken (its
state set to Scheduled "Resuming", as Prefect's resume endpoint does) and re-runs from the
top, where the wait applies its policy. For a gate, the sweep first records the gate's
timeout decisions, so that no answer can slip in between the deadline and the re-run; a
round's deadline policy (proceed, reassign) is applied by the woken run itself. Paused runs
hold a process that applies its own deadline, so the sweep leaves them alone.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from govflow.ledger.engine import Ledger
from govflow.ledger.models import utcnow
from govflow.ledger.reviews import expired_gates, timeout_open_gate
from govflow.ledger.rounds import expired_collections

__all__ = ["Swept", "WaitKind", "sweep_expired"]


class WaitKind(enum.StrEnum):
    GATE = "gate"
    ROUND = "round"


@dataclass(frozen=True)
class Swept:
    """A wait whose deadline passed and whose run was woken."""

    kind: WaitKind
    subject: str  # the gate or round id
    flow_run_id: str


def sweep_expired(*, api: Any, actor: str, ledger: Ledger | None = None) -> list[Swept]:
    """Wake every suspended run whose gate or round is past its deadline."""
    ledger = ledger or Ledger.open()
    now = utcnow()
    with ledger.reader() as session:
        waits = [Swept(WaitKind.GATE, g, r) for g, r in expired_gates(session=session, now=now)]
        waits += [
            Swept(WaitKind.ROUND, rd, r) for rd, r in expired_collections(session=session, now=now)
        ]
    swept: list[Swept] = []
    for wait in waits:
        if not api.run_state(wait.flow_run_id).is_suspended:
            continue
        if wait.kind is WaitKind.GATE:
            with ledger.session() as session:
                if not timeout_open_gate(session=session, gate_id=wait.subject, actor=actor):
                    continue
        api.wake(wait.flow_run_id)
        swept.append(wait)
    return swept
