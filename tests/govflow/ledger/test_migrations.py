from sqlalchemy import inspect, text

from govflow.ledger.engine import Ledger
from govflow.ledger.migrate import current_revision, head_revision, upgrade_to_head

EXPECTED_TABLES = {
    "alembic_version",
    "annotation_rounds",
    "annotations",
    "assignments",
    "audit_events",
    "audit_head",
    "dataset_version_parents",
    "dataset_versions",
    "gold_items",
    "guideline_versions",
    "people",
    "quarantined_rows",
    "review_decisions",
    "review_tasks",
    "sources",
    "validation_runs",
    "waivers",
    "model_versions",
    "evaluation_suite_versions",
    "evaluation_runs",
    "redteam_findings",
    "signoffs",
    "promotion_certificates",
    "model_aliases",
    "monitoring_runs",
    "monitoring_alerts",
    "interventions",
    "output_reviews",
    "synthetic_batches",
    "synthetic_items",
    "synthetic_mixes",
}


def test_upgrade_creates_every_table_from_empty(ledger_url):
    ledger = Ledger.open(ledger_url, upgrade=False)
    assert current_revision(ledger) is None

    before, after = upgrade_to_head(ledger)

    assert (before, after) == (None, head_revision())
    assert set(inspect(ledger.engine).get_table_names()) == EXPECTED_TABLES
    with ledger.engine.connect() as conn:
        head = conn.execute(text("SELECT id, seq, hash FROM audit_head")).all()
    assert head == [(1, 0, "0" * 64)]
    ledger.dispose()


def test_upgrade_is_idempotent_when_at_head(ledger_url):
    ledger = Ledger.open(ledger_url, upgrade=False)
    upgrade_to_head(ledger)

    assert upgrade_to_head(ledger) == (head_revision(), head_revision())
    with ledger.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_head")).scalar_one() == 1
    ledger.dispose()


def test_open_upgrades_on_first_use(ledger_url):
    ledger = Ledger.open(ledger_url)

    assert current_revision(ledger) == head_revision()
    ledger.dispose()


def test_sqlite_ledger_uses_wal_and_busy_timeout(sqlite_url):
    ledger = Ledger.open(sqlite_url)
    with ledger.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 30000
    ledger.dispose()


def test_migrations_match_the_models(ledger_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from govflow.ledger.models import Base

    ledger = Ledger.open(ledger_url)
    with ledger.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ledger.dispose()
    assert differences == []
