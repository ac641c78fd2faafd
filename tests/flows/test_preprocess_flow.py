import json

from sqlalchemy import select

from flows.ingest import IngestParams, ingest
from flows.preprocess import PreprocessParams, preprocess
from govflow.ledger.datasets import list_versions, read_version_hashes, read_version_records
from govflow.ledger.engine import Ledger
from govflow.ledger.lineage import build_lineage
from govflow.ledger.models import ValidationRun
from tests.support.datasets import jsonl, ticket, write_dataset


def test_preprocess_redacts_dedupes_marks_and_records_lineage(
    prefect_server, govflow_env, tmp_path
):
    records = [ticket(n) for n in range(1, 41)]
    records[0]["text"] = "Contact me at jane.doe+billing@example.com or +1 (415) 555-0132 please"
    records[1]["text"] = "card 4111 1111 1111 1111 was charged  twice"
    records[2]["text"] = records[3]["text"]  # exact duplicate of the next row
    records[4]["text"] = (
        "the export to pdf produces an empty file every single time I try it on my laptop today"
    )
    records[5]["text"] = (
        "the export to pdf produces an empty file every single time I try it on my desktop today"
    )
    config = write_dataset(tmp_path, jsonl(records))
    ingested = ingest(IngestParams(config_path=str(config), data_docs=False))

    result = preprocess(
        PreprocessParams(config_path=str(config), version_id=ingested.validated_version_id)
    )

    assert result.rows_in == 40
    assert result.exact_duplicates_removed == 1
    assert result.redactions == {"emails": 1, "phones": 1, "cards": 1}
    assert result.near_duplicates_marked == 2
    assert (result.rows_passed, result.rows_quarantined) == (39, 0)
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.reader() as session:
        curated = read_version_records(session=session, version_id=result.curated_version_id)
        tree = build_lineage(session=session, version_id=result.curated_version_id)
        stored = {}  # every distinct stored row, from every version's snapshot
        for version in list_versions(session=session):
            hashes = read_version_hashes(session=session, version_id=version.id)
            records = read_version_records(session=session, version_id=version.id)
            stored |= dict(zip(hashes, map(json.dumps, records), strict=True))
        everything = " ".join(stored.values())
        suites = sorted(session.scalars(select(ValidationRun.suite_name)))
    ledger.dispose()
    assert curated[0]["text"] == "Contact me at [EMAIL] or [PHONE] please"
    assert curated[1]["text"] == "card [CARD] was charged twice"
    assert curated[3]["near_duplicate_of"] is None
    assert curated[4]["near_duplicate_of"] == curated[3]["content_hash"]
    assert "jane.doe" not in json.dumps(curated)
    # The raw version keeps what arrived; no processed version holds the original PII.
    assert everything.count("jane.doe+billing@example.com") == 1
    assert suites == ["support_tickets.preprocessed", "support_tickets.raw", "tickets.schema"]
    stages = []
    node = tree
    while node:
        stages.append(node["stage"])
        node = node["parents"][0] if node["parents"] else None
    assert stages == ["curated", "preprocessed", "validated", "raw"]
    steps = [step["step"] for step in tree["parents"][0]["transformations"]]
    assert steps == [
        "validate",
        "normalize",
        "redact_pii",
        "dedupe_exact",
        "near_duplicates",
        "drop_exact_duplicates",
    ]


def test_ingest_from_a_sql_table(prefect_server, govflow_env, tmp_path):
    import sqlite3

    import yaml

    database = tmp_path / "source.db"
    with sqlite3.connect(database) as conn:
        conn.execute(
            "CREATE TABLE tickets (ticket_id TEXT, text TEXT, channel TEXT, created_at TEXT)"
        )
        conn.executemany(
            "INSERT INTO tickets VALUES (?, ?, ?, ?)",
            [(f"T{n:05d}", f"sql ticket {n}", "chat", "2026-10-02T08:00:00Z") for n in range(1, 21)]
            + [("T00021", "bad time", "chat", "yesterday")],
        )
    config = tmp_path / "sql.source.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "sql_tickets",
                "source": {
                    "kind": "sql",
                    "url": f"sqlite:///{database}",
                    "query": "SELECT * FROM tickets ORDER BY ticket_id",
                },
                "columns": [
                    {"name": "ticket_id", "type": "string"},
                    {"name": "text", "type": "string"},
                    {"name": "channel", "type": "string"},
                    {"name": "created_at", "type": "datetime"},
                ],
                "suites": {"raw": "support_tickets.raw"},
            }
        )
    )

    result = ingest(IngestParams(config_path=str(config), data_docs=False))

    assert (result.rows_read, result.rows_quarantined_at_acquisition, result.rows_passed) == (
        21,
        1,
        20,
    )
