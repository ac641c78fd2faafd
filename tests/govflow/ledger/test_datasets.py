import pytest
from sqlalchemy import func, select

from govflow.errors import NotFound
from govflow.ledger.audit import count_events
from govflow.ledger.datasets import (
    SourceSpec,
    count_items,
    get_version,
    prepare_items,
    read_version_records,
    register_dataset_version,
    version_id_for,
)
from govflow.ledger.models import AuditEvent, DatasetVersion, Source
from tests.support.snapshots import snapshot_files, stored_counts

RECORDS = [
    {"id": 1, "text": "refund please", "label": "billing"},
    {"id": 2, "text": "app crashes", "label": "bug"},
    {"id": 3, "text": "refund please", "label": "billing", "extra": None},
]


def _register(ledger, records=RECORDS, **kwargs):
    options = {
        "name": "tickets",
        "stage": "raw",
        "actor": "tester",
        "source": SourceSpec(kind="file", uri="/data/tickets.jsonl", params={"format": "jsonl"}),
    } | kwargs
    with ledger.session() as session:
        result = register_dataset_version(session=session, items=prepare_items(records), **options)
        return result.version.id, result.is_new


def _row_counts(ledger):
    with ledger.reader() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (DatasetVersion, Source)
        } | {
            "audit_events": count_events(session=session),
            "snapshots": snapshot_files(),
            **stored_counts(session),
        }


def test_register_stores_version_snapshot_source_and_event(ledger, snapshot_store):
    version_id, is_new = _register(ledger)

    assert is_new is True
    assert _row_counts(ledger) == {
        "dataset_versions": 1,
        "version_rows": 3,
        "items": 3,
        "snapshots": 1,
        "sources": 1,
        "audit_events": 1,
    }
    with ledger.reader() as session:
        version = get_version(session=session, version_id=version_id)
        assert (version.name, version.stage, version.row_count) == ("tickets", "raw", 3)
        assert version.id == version_id_for(
            name="tickets", stage="raw", content_hash=version.content_hash
        )
        assert version.snapshot_uri == (
            f"{snapshot_store}/{version.snapshot_sha256[:2]}/{version.snapshot_sha256}.parquet"
        )
        # The third record has a key the others lack: rows are kept whole, as JSON.
        assert version.snapshot_schema == {
            "columns": [{"name": "_record", "type": "string"}],
            "json_columns": [],
        }
        event = session.scalars(select(AuditEvent)).one()
        assert event.details["snapshot_sha256"] == version.snapshot_sha256
        assert read_version_records(session=session, version_id=version_id) == RECORDS


def test_register_same_content_twice_returns_same_id_and_no_new_rows(ledger):
    first_id, _ = _register(ledger)
    counts = _row_counts(ledger)

    second_id, is_new = _register(ledger)

    assert second_id == first_id
    assert is_new is False
    assert _row_counts(ledger) == counts


def test_register_shared_items_are_stored_once(ledger):
    _register(ledger)
    child_id, is_new = _register(
        ledger, records=RECORDS[:2], stage="preprocessed", source=None, parent_ids=[]
    )

    assert is_new is True
    with ledger.reader() as session:
        assert count_items(session=session) == 3
        assert count_items(session=session, version_id=child_id) == 2


def test_register_with_unknown_parent_is_rejected(ledger):
    with pytest.raises(NotFound, match="dataset version 'dv-missing' not found"):
        _register(ledger, parent_ids=["dv-missing"])
    assert _row_counts(ledger)["dataset_versions"] == 0


def test_get_version_accepts_a_unique_prefix(ledger):
    version_id, _ = _register(ledger)
    with ledger.reader() as session:
        assert get_version(session=session, version_id=version_id[:10]).id == version_id
        with pytest.raises(NotFound):
            get_version(session=session, version_id="dv-00000000")


def test_subset_version_reuses_stored_items(ledger):
    parent_id, _ = _register(ledger)
    items = prepare_items(RECORDS)

    with ledger.session() as session:
        child = register_dataset_version(
            session=session,
            name="tickets",
            stage="validated",
            items=items.subset([True, False, True]),
            actor="tester",
            parent_ids=[parent_id],
        ).version
    counts = _row_counts(ledger)

    assert child.row_count == 2
    assert child.content_hash == prepare_items([RECORDS[0], RECORDS[2]]).content_hash
    assert (counts["items"], counts["version_rows"], counts["snapshots"]) == (3, 5, 2)
    with ledger.reader() as session:
        assert read_version_records(session=session, version_id=child.id) == [
            RECORDS[0],
            RECORDS[2],
        ]


def test_two_versions_of_one_source_registered_at_once_both_land(postgres_url):
    """The second registration waits for the first one's source row instead of colliding."""
    import threading
    import time

    from sqlalchemy import create_engine, text

    from govflow.ledger.engine import Ledger

    ledger = Ledger.open(postgres_url)
    first_inside, first_may_commit = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        with ledger.session() as session:
            register_dataset_version(
                session=session,
                name="tickets",
                stage="raw",
                items=prepare_items([{"id": 1}]),
                actor="a",
                source=SourceSpec(kind="file", uri="/data/tickets.jsonl"),
            )
            first_inside.set()
            first_may_commit.wait(30)

    def second() -> None:
        try:
            with ledger.session() as session:
                outcome["id"] = register_dataset_version(
                    session=session,
                    name="tickets",
                    stage="raw",
                    items=prepare_items([{"id": 2}]),
                    actor="b",
                    source=SourceSpec(kind="file", uri="/data/tickets.jsonl"),
                ).version.id
        except Exception as exc:  # the test reports what went wrong
            outcome["error"] = exc

    one = threading.Thread(target=first)
    one.start()
    assert first_inside.wait(30)
    two = threading.Thread(target=second)
    two.start()
    watcher = create_engine(postgres_url)
    deadline = time.monotonic() + 30
    with watcher.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar()
            if waiting:
                break
            time.sleep(0.05)
    watcher.dispose()
    assert waiting == 1  # the second registration waits for the first transaction
    first_may_commit.set()
    one.join(30)
    two.join(30)

    assert "error" not in outcome, outcome.get("error")
    with ledger.reader() as session:
        sources = session.execute(text("SELECT count(*) FROM sources")).scalar()
        versions = session.execute(text("SELECT count(*) FROM dataset_versions")).scalar()
    ledger.dispose()
    assert (sources, versions) == (1, 2)
