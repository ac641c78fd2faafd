import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import select, text

from govflow.errors import AuditHeadMismatch
from govflow.hashing import GENESIS_HASH
from govflow.ledger.audit import (
    Problem,
    append_event,
    count_events,
    event_hash,
    locate_recorded_head,
    verify_chain,
)
from govflow.ledger.models import AuditEvent, AuditHead


def _append(ledger, count, actor="tester"):
    for index in range(count):
        with ledger.session() as session:
            append_event(
                session=session,
                actor=actor,
                action="test.event",
                subject=f"subject-{index}",
                details={"index": index, "nested": {"b": 2, "a": [1, 2.5, None]}},
            )


def _verify(ledger):
    with ledger.reader() as session:
        return verify_chain(session=session)


def test_verify_reports_intact_chain_with_event_count(ledger):
    _append(ledger, 5)

    report = _verify(ledger)

    assert report.is_intact
    assert report.events == 5


def test_verify_empty_chain_is_intact(ledger):
    report = _verify(ledger)
    assert (report.is_intact, report.events) == (True, 0)


def test_append_never_stores_secret_values(ledger):
    with ledger.session() as session:
        append_event(
            session=session, actor="a", action="x", subject="s", details={"token": "hunter2"}
        )
    with ledger.reader() as session:
        event = session.scalars(select(AuditEvent)).one()
    assert event.details == {"token": "<redacted>"}
    assert _verify(ledger).is_intact


@pytest.mark.parametrize(
    ("statement", "seq", "problem"),
    [
        ("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3", 3, Problem.CHANGED),
        ("UPDATE audit_events SET details = '{\"index\": 99}' WHERE seq = 2", 2, Problem.CHANGED),
        ("DELETE FROM audit_events WHERE seq = 3", 3, Problem.MISSING),
        ("DELETE FROM audit_events WHERE seq = 5", 5, Problem.MISSING),
    ],
    ids=["edit-actor", "edit-details", "delete-middle", "delete-last"],
)
def test_verify_detects_tampering(ledger, statement, seq, problem):
    _append(ledger, 5)
    with ledger.engine.begin() as conn:
        conn.execute(text(statement))

    report = _verify(ledger)

    assert not report.is_intact
    assert (report.first_break.seq, report.first_break.problem) == (seq, problem)


def test_verify_detects_swapped_events(ledger):
    _append(ledger, 5)
    with ledger.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET seq = 100 WHERE seq = 2"))
        conn.execute(text("UPDATE audit_events SET seq = 2 WHERE seq = 4"))
        conn.execute(text("UPDATE audit_events SET seq = 4 WHERE seq = 100"))

    found = _verify(ledger).first_break

    assert (found.seq, found.problem) == (2, Problem.REORDERED)
    assert "swapped or renumbered" in found.detail


def test_verify_detects_rewritten_event_with_recomputed_hash(ledger):
    _append(ledger, 4)
    with ledger.session() as session:
        event = session.get(AuditEvent, 2)
        forged = event_hash(
            occurred_at=event.occurred_at,
            actor="mallory",
            action=event.action,
            subject=event.subject,
            details=event.details,
            prev_hash=event.prev_hash,
        )
        session.execute(
            text("UPDATE audit_events SET actor = 'mallory', hash = :h WHERE seq = 2"),
            {"h": forged},
        )

    found = _verify(ledger).first_break

    assert (found.seq, found.problem) == (2, Problem.CHANGED)
    assert found.detail == "event 2 was rewritten: event 3 recorded a different hash for it"


def _locate(ledger, recorded_head):
    with ledger.reader() as session:
        report = verify_chain(session=session)
        return locate_recorded_head(session=session, report=report, recorded_head=recorded_head)


def test_locate_recorded_head_finds_every_earlier_head_of_a_grown_chain(ledger):
    heads = [GENESIS_HASH]
    for _ in range(3):
        _append(ledger, 1)
        with ledger.reader() as session:
            heads.append(session.get(AuditHead, 1).hash)

    assert [_locate(ledger, head) for head in heads] == [0, 1, 2, 3]


def test_locate_recorded_head_refuses_a_chain_rewritten_from_the_start(ledger):
    _append(ledger, 3)
    with ledger.reader() as session:
        recorded = session.get(AuditHead, 1).hash
    with ledger.session() as session:
        prev = GENESIS_HASH
        for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
            event.actor, event.prev_hash = "mallory", prev
            event.hash = prev = event_hash(
                occurred_at=event.occurred_at,
                actor=event.actor,
                action=event.action,
                subject=event.subject,
                details=event.details,
                prev_hash=prev,
            )
            session.flush()
        session.get(AuditHead, 1).hash = prev

    with pytest.raises(AuditHeadMismatch) as mismatch:
        _locate(ledger, recorded)

    assert _verify(ledger).is_intact  # without the recorded head, nothing shows
    assert (mismatch.value.expected, mismatch.value.events, mismatch.value.head) == (
        recorded,
        3,
        prev,
    )


def test_locate_recorded_head_only_in_an_intact_chain(ledger):
    _append(ledger, 2)
    with ledger.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 1"))

    with pytest.raises(ValueError) as refused:
        _locate(ledger, GENESIS_HASH)

    assert str(refused.value) == "locate a recorded head only in a chain that verified intact"


WRITER = textwrap.dedent(
    """
    import sys
    from govflow.ledger.engine import Ledger
    from govflow.ledger.audit import append_event

    url, actor, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ledger = Ledger.open(url)
    for index in range(count):
        with ledger.session() as session:
            append_event(session=session, actor=actor, action="concurrent",
                         subject=f"{actor}-{index}", details={"index": index})
    """
)


def test_concurrent_appends_from_two_processes_form_one_chain(ledger):
    per_writer = 150
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, ledger.url, name, str(per_writer)])
        for name in ("writer-a", "writer-b")
    ]
    assert [w.wait(timeout=240) for w in writers] == [0, 0]

    report = _verify(ledger)

    assert report.is_intact, report.first_break
    assert report.events == 2 * per_writer
    with ledger.reader() as session:
        assert count_events(session=session) == 2 * per_writer
        seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
        actors = set(session.scalars(select(AuditEvent.actor)))
    assert seqs == list(range(1, 2 * per_writer + 1))
    assert actors == {"writer-a", "writer-b"}
