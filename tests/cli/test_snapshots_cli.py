"""``govflow datasets show/find/export`` and ``audit verify --data`` read the snapshots."""

from __future__ import annotations

import csv
import json

import pyarrow.parquet as pq

from govflow.ledger.datasets import prepare_items, register_dataset_version
from govflow.ledger.engine import Ledger

ROWS = [
    {"ticket_id": f"T{i}", "label": "bug" if i % 3 == 0 else "billing", "amount": i * 1.5}
    for i in range(10)
]


def _register(govflow_env):
    items = prepare_items(ROWS)
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.session() as session:
        version = register_dataset_version(
            session=session, name="tickets", stage="raw", items=items, actor="t"
        ).version
        found = (version.id, version.snapshot_uri)
    ledger.dispose()
    return (*found, items.hashes)


def test_show_find_and_export_read_the_version_rows(run_cli, govflow_env, tmp_path):
    version_id, _, hashes = _register(govflow_env)

    shown = run_cli("datasets", "show", version_id, "--where", "label = 'bug'", "--limit", "3")
    as_json = run_cli("datasets", "show", version_id[:12], "--limit", "2", "--json")
    found = run_cli("datasets", "find", hashes[4])
    exports = {
        suffix: run_cli("datasets", "export", version_id, str(tmp_path / f"out{suffix}"))
        for suffix in (".jsonl", ".csv", ".parquet")
    }
    blocked = run_cli(
        "datasets", "show", version_id, "--where", "1 = (SELECT 1 FROM read_csv('/etc/passwd'))"
    )
    unknown = run_cli("datasets", "find", "0" * 64)

    assert shown.code == 0
    assert shown.err == f"{version_id} (tickets [raw]): 3 of 10 rows shown\n"
    assert [json.loads(line) for line in shown.out.splitlines()] == [
        {"_hash": hashes[i], **ROWS[i]} for i in (0, 3, 6)
    ]
    assert json.loads(as_json.out) == [{"_hash": hashes[i], **ROWS[i]} for i in (0, 1)]
    assert found.out == json.dumps(ROWS[4]) + "\n" + version_id + "\n"
    assert {s: r.code for s, r in exports.items()} == {".jsonl": 0, ".csv": 0, ".parquet": 0}
    assert exports[".csv"].err == (
        f"exported 10 rows of {version_id} (tickets [raw]) to {tmp_path / 'out.csv'}\n"
    )
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == ROWS
    with open(tmp_path / "out.csv", encoding="utf-8") as handle:
        assert [row["ticket_id"] for row in csv.DictReader(handle)] == [
            r["ticket_id"] for r in ROWS
        ]
    assert pq.read_table(tmp_path / "out.parquet").to_pylist() == ROWS
    assert blocked.code == 2
    assert blocked.err.startswith("Error: cannot filter with")
    assert "file system operations are disabled" in blocked.err
    assert (unknown.code, unknown.err) == (
        4,
        f"Error: item '{'0' * 64}' not found (no stored version holds a row with this hash)\n",
    )


def test_an_altered_snapshot_is_refused_by_readers_and_audit_verify_data(run_cli, govflow_env):
    version_id, uri, _ = _register(govflow_env)

    intact = run_cli("audit", "verify", "--data")
    with open(uri, "r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01\x02")
    shown = run_cli("datasets", "show", version_id)
    audited = run_cli("audit", "verify", "--data")

    assert intact.code == 0
    assert intact.out.splitlines()[-1] == "snapshots intact: 1 dataset versions, every byte hashed"
    message = (
        f"the snapshot of version {version_id} (tickets [raw]) at {uri} does not match its "
        "recorded hash (it was altered or damaged; restore it from a backup)"
    )
    assert (shown.code, shown.err) == (3, f"Error: {message}\n")
    assert audited.code == 3
    assert audited.err == f"Error: 1 of 1 dataset versions fail: {message}\n"
