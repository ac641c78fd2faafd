import json

from sqlalchemy import select, text

from govflow.hashing import GENESIS_HASH
from govflow.ledger.audit import event_hash
from govflow.ledger.datasets import prepare_items, register_dataset_version
from govflow.ledger.engine import Ledger
from govflow.ledger.migrate import head_revision
from govflow.ledger.models import AuditEvent, AuditHead


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
    head = head_revision()
    assert first.out.endswith(f": empty -> {head}\n")
    assert second.out.endswith(f"is up to date (revision {head})\n")
    assert status.out.splitlines()[1] == f"revision: {head} (up to date)"


def _register(run_cli, tmp_path, *names):
    data = tmp_path / "t.jsonl"
    data.write_text('{"text": "a"}\n', encoding="utf-8")
    for name in names:
        assert run_cli("datasets", "register", str(data), "--name", name).code == 0


def _head(url):
    ledger = Ledger.open(url)
    try:
        with ledger.reader() as session:
            return session.get(AuditHead, 1).hash
    finally:
        ledger.dispose()


def _rewrite_whole_chain(url, actor):
    """Forge every event's actor and recompute every hash, as someone able to rewrite the
    whole table would: the chain stays internally consistent."""
    ledger = Ledger.open(url)
    try:
        with ledger.session() as session:
            prev = GENESIS_HASH
            for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
                event.actor, event.prev_hash = actor, prev
                event.hash = prev = event_hash(
                    occurred_at=event.occurred_at,
                    actor=actor,
                    action=event.action,
                    subject=event.subject,
                    details=event.details,
                    prev_hash=prev,
                )
                # prev_hash and hash are unique: write each row before forging the next.
                session.flush()
            session.get(AuditHead, 1).hash = prev
    finally:
        ledger.dispose()


def test_audit_verify_prints_the_full_head_hash(run_cli, tmp_path, govflow_env):
    _register(run_cli, tmp_path, "one", "two")

    result = run_cli("audit", "verify")

    head = _head(govflow_env["GOVFLOW_DATABASE_URL"])
    assert len(head) == 64
    assert (result.code, result.out) == (0, f"audit chain intact: 2 events (head {head})\n")


def test_audit_verify_expect_head_passes_when_the_chain_grew_from_it(
    run_cli, tmp_path, govflow_env
):
    _register(run_cli, tmp_path, "one")
    recorded = _head(govflow_env["GOVFLOW_DATABASE_URL"])
    _register(run_cli, tmp_path, "two", "three")
    head = _head(govflow_env["GOVFLOW_DATABASE_URL"])

    grown = run_cli("audit", "verify", "--expect-head", recorded)
    same = run_cli("audit", "verify", "--expect-head", head.upper())

    assert (grown.code, grown.err) == (0, "")
    assert grown.out == (
        f"audit chain intact: 3 events (head {head})\n"
        f"descends from the recorded head {recorded} (event 1; 2 events since)\n"
    )
    assert (same.code, same.err) == (0, "")
    assert same.out.splitlines()[1] == (
        f"descends from the recorded head {head} (event 3; 0 events since)"
    )


def test_audit_verify_expect_head_fails_when_the_whole_chain_was_rewritten(
    run_cli, tmp_path, govflow_env
):
    url = govflow_env["GOVFLOW_DATABASE_URL"]
    _register(run_cli, tmp_path, "one", "two")
    recorded = _head(url)
    _rewrite_whole_chain(url, "mallory")
    forged = _head(url)

    plain = run_cli("audit", "verify")
    expecting = run_cli("audit", "verify", "--expect-head", recorded)

    assert (plain.code, plain.out) == (0, f"audit chain intact: 2 events (head {forged})\n")
    assert (expecting.code, expecting.out) == (1, "")
    assert expecting.err == (
        f"Error: the recorded head {recorded} is not in the audit chain (2 events, head "
        f"{forged}): the chain was rewritten, or the hash is from another ledger\n"
    )


def test_audit_verify_expect_head_reports_an_edit_before_the_recorded_head(
    run_cli, tmp_path, govflow_env
):
    url = govflow_env["GOVFLOW_DATABASE_URL"]
    _register(run_cli, tmp_path, "one", "two")
    recorded = _head(url)
    ledger = Ledger.open(url)
    with ledger.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET subject = 'dv-forged' WHERE seq = 1"))
    ledger.dispose()

    result = run_cli("audit", "verify", "--expect-head", recorded)

    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "Error: audit chain broken at event 1: changed: "
        "event 1 (dataset.registered dv-forged) no longer matches its hash\n"
    )


def test_audit_verify_expect_head_must_be_a_full_hash(run_cli, tmp_path):
    _register(run_cli, tmp_path, "one")

    result = run_cli("audit", "verify", "--expect-head", "1ae55a0cafa8c3aa")

    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "Error: --expect-head takes the full 64-character head hash that `govflow audit "
        "verify` printed, got '1ae55a0cafa8c3aa'\n"
    )
