import json

from sqlalchemy import text

from govflow.ledger.datasets import prepare_items, register_dataset_version
from govflow.ledger.engine import Ledger


def test_audit_verify_exit_codes_before_and_after_direct_edit(run_cli, tmp_path, govflow_env):
    data = tmp_path / "t.jsonl"
    data.write_text('{"text": "a"}\n{"text": "b"}\n', encoding="utf-8")
    run_cli("datasets", "register", str(data), "--name", "one")
    run_cli("datasets", "register", str(data), "--name", "two")

    intact = run_cli("audit", "verify")
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET subject = 'dv-forged' WHERE seq = 1"))
    ledger.dispose()
    broken = run_cli("audit", "verify")

    assert intact.code == 0
    assert intact.out.startswith("audit chain intact: 2 events (head ")
    assert broken.code == 1
    assert broken.err == (
        "Error: audit chain broken at event 1: changed: "
        "event 1 (dataset.registered dv-forged) no longer matches its hash\n"
    )


def test_audit_verify_names_a_deleted_event(run_cli, tmp_path, govflow_env):
    data = tmp_path / "t.jsonl"
    data.write_text('{"text": "a"}\n', encoding="utf-8")
    for name in ("a", "b", "c"):
        run_cli("datasets", "register", str(data), "--name", name)
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    ledger.dispose()

    result = run_cli("audit", "verify")

    assert result.code == 1
    assert result.err == (
        "Error: audit chain broken at event 2: missing: event 2 deleted before event 3\n"
    )


def test_lineage_shows_parents_source_and_json(run_cli, tmp_path, govflow_env):
    data = tmp_path / "t.jsonl"
    data.write_text('{"text": "a"}\n{"text": "b"}\n', encoding="utf-8")
    raw_id = run_cli("datasets", "register", str(data), "--name", "tickets").out.strip()
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.session() as session:
        child = register_dataset_version(
            session=session,
            name="tickets",
            stage="preprocessed",
            items=prepare_items([{"text": "a"}]),
            actor="flow-run:1234",
            parent_ids=[raw_id],
            flow_run_id="1234",
            transformations=[{"step": "dedupe_exact", "duplicates": 1}],
        ).version
    ledger.dispose()

    tree = run_cli("lineage", child.id)
    as_json = run_cli("lineage", child.id, "--json")

    assert tree.code == 0
    lines = tree.out.splitlines()
    assert lines[0].startswith(f"{child.id}  tickets [preprocessed]  1 rows  sha256:")
    assert "│   flow run 1234" in tree.out
    assert "│   transformation dedupe_exact" in tree.out
    assert lines[-3].startswith(f"└── {raw_id}  tickets [raw]  2 rows  sha256:")
    assert lines[-1] == f"        source file: {data}"
    node = json.loads(as_json.out)
    assert (node["id"], node["stage"], node["flow_run_id"]) == (child.id, "preprocessed", "1234")
    assert [p["id"] for p in node["parents"]] == [raw_id]
    assert node["parents"][0]["source"]["uri"] == str(data)


def test_lineage_unknown_version_is_one_error_line(run_cli):
    result = run_cli("lineage", "dv-doesnotexist")

    assert result.code == 4
    assert result.err == (
        "Error: dataset version 'dv-doesnotexist' not found "
        "(run `govflow datasets list` to see version ids)\n"
    )


def test_db_upgrade_is_idempotent_and_reports_state(run_cli):
    first = run_cli("db", "upgrade")
    second = run_cli("db", "upgrade")
    status = run_cli("db", "status")

    assert first.code == second.code == status.code == 0
    assert first.out.startswith("upgraded ledger at sqlite:///")
    assert first.out.endswith(": empty -> 0002\n")
    assert second.out.endswith("is up to date (revision 0002)\n")
    assert status.out.splitlines()[1] == "revision: 0002 (up to date)"
