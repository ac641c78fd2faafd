import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from govflow.ledger.engine import Ledger
from govflow.ledger.models import AuditEvent, DatasetVersion
from tests.support.snapshots import snapshot_files, stored_counts


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


ROWS = [{"text": f"ticket {i}", "label": "bug" if i % 2 else "billing"} for i in range(40)]


def _counts(url):
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        stored = stored_counts(session)
        counts = (
            session.scalar(select(func.count()).select_from(DatasetVersion)),
            stored["version_rows"],
            stored["items"],
            session.scalar(select(func.count()).select_from(AuditEvent)),
            snapshot_files(),
        )
    ledger.dispose()
    return counts


def test_register_twice_prints_same_id_and_adds_no_rows(run_cli, tmp_path, govflow_env):
    data = _write_jsonl(tmp_path / "tickets.jsonl", ROWS)

    first = run_cli("datasets", "register", str(data), "--name", "tickets")
    counts = _counts(govflow_env["GOVFLOW_DATABASE_URL"])
    second = run_cli("datasets", "register", str(data), "--name", "tickets")

    assert (first.code, second.code) == (0, 0)
    assert first.out == second.out
    assert first.out.startswith("dv-") and len(first.out.strip()) == 27
    assert first.err == "registered tickets [raw]: 40 rows\n"
    assert second.err == "already registered tickets [raw]: 40 rows\n"
    assert counts == (1, 40, 40, 1, 1)
    assert _counts(govflow_env["GOVFLOW_DATABASE_URL"]) == counts


def test_register_csv_and_parquet_with_same_rows_get_same_content(run_cli, tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"text": ["a", "b"], "label": ["x", "y"]})
    frame.to_csv(tmp_path / "d.csv", index=False)
    frame.to_parquet(tmp_path / "d.parquet")

    from_csv = run_cli("datasets", "register", str(tmp_path / "d.csv"), "--name", "d")
    from_parquet = run_cli("datasets", "register", str(tmp_path / "d.parquet"), "--name", "d")

    assert from_csv.code == from_parquet.code == 0
    assert from_csv.out == from_parquet.out


def test_register_missing_file_is_one_error_line(run_cli, tmp_path):
    result = run_cli("datasets", "register", str(tmp_path / "nope.csv"), "--name", "x")

    assert result.code == 2
    assert result.err == f"Error: {tmp_path / 'nope.csv'}: file not found\n"
    assert result.out == ""


HINT = (
    "(fix the file, or ingest it with a dataset config through flows/ingest.py, which "
    "quarantines bad rows with their reasons)"
)


def test_register_broken_jsonl_names_the_line(run_cli, tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"text": "ok"}\n{"text": \n', encoding="utf-8")

    result = run_cli("datasets", "register", str(data), "--name", "x")

    assert result.code == 2
    assert result.err == (
        f"Error: {data}: line 2 is not valid JSON: Expecting value at column 10; "
        f"1 of 2 rows cannot be registered {HINT}\n"
    )


def test_register_undecodable_csv_is_reported(run_cli, tmp_path):
    data = tmp_path / "latin1.csv"
    data.write_bytes("text\ncaf\xe9\n".encode("latin-1"))

    result = run_cli("datasets", "register", str(data), "--name", "x")

    assert result.code == 2
    assert result.err == (
        f"Error: {data}: line 2 is not valid UTF-8: unexpected end of data at byte 4; "
        f"1 of 1 rows cannot be registered {HINT}\n"
    )


def test_register_hostile_jsonl_is_one_error_line_and_registers_nothing(
    run_cli, tmp_path, govflow_env
):
    data = tmp_path / "hostile.jsonl"
    lines = [
        '{"text": "fine"}',
        '{"text": ' + "[" * 10_000 + "]" * 10_000 + "}",
        '{"text": "\\ud800"}',
        '{"\\ud800": "key"}',
        '{"text": "fine"}',
    ]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = run_cli("datasets", "register", str(data), "--name", "x")

    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"Error: {data}: line 2 is nested too deeply: more than 128 levels of nesting; "
        f"3 of 5 rows cannot be registered {HINT}\n"
    )
    assert _counts(govflow_env["GOVFLOW_DATABASE_URL"]) == (0, 0, 0, 0, 0)


def test_register_surrogate_in_a_value_is_one_error_line(run_cli, tmp_path):
    data = tmp_path / "surrogate.jsonl"
    data.write_text('{"text": "fine"}\n{"text": "a\\ud800"}\n', encoding="utf-8")

    result = run_cli("datasets", "register", str(data), "--name", "x")

    assert result.code == 2
    assert result.err == (
        f"Error: {data}: line 2, field 'text', holds text that is not valid Unicode: "
        f"surrogate code point U+D800 at character 2; 1 of 2 rows cannot be registered {HINT}\n"
    )


def test_register_nan_or_infinity_in_jsonl_is_one_error_line(run_cli, tmp_path, govflow_env):
    data = tmp_path / "nan.jsonl"
    data.write_text('{"score": 0.5}\n{"score": Infinity}\n{"score": NaN}\n', encoding="utf-8")

    result = run_cli("datasets", "register", str(data), "--name", "x")

    assert result.code == 2
    assert result.err == (
        f"Error: {data}: line 2, field 'score', holds a number JSON cannot represent: "
        f"Infinity; 2 of 3 rows cannot be registered {HINT}\n"
    )
    assert _counts(govflow_env["GOVFLOW_DATABASE_URL"]) == (0, 0, 0, 0, 0)


def test_register_refuses_a_repeated_csv_header(run_cli, tmp_path, govflow_env):
    data = tmp_path / "dup.csv"
    data.write_text("a,a,b\n1,2,3\n", encoding="utf-8")

    result = run_cli("datasets", "register", str(data), "--name", "x")

    assert (result.code, result.out) == (2, "")
    assert result.err == f"Error: {data}: header (line 1) repeats columns: 'a'\n"
    assert _counts(govflow_env["GOVFLOW_DATABASE_URL"]) == (0, 0, 0, 0, 0)


def test_register_refuses_ragged_csv_rows(run_cli, tmp_path, govflow_env):
    data = tmp_path / "ragged.csv"
    data.write_text("a,b,c\n1,2,3\n4\n5,6\n", encoding="utf-8")

    result = run_cli("datasets", "register", str(data), "--name", "x")

    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"Error: {data}: line 3 has the wrong number of fields: expected 3 fields, got 1; "
        f"2 of 3 rows cannot be registered {HINT}\n"
    )
    assert _counts(govflow_env["GOVFLOW_DATABASE_URL"]) == (0, 0, 0, 0, 0)


GENERATED_LINES = st.one_of(
    st.sampled_from(
        [
            '{"text": ' + "[" * 3000 + "]" * 3000 + "}",
            '{"text": "\\ud800"}',
            '{"\\udfff": 1}',
            '{"score": NaN}',
            '{"score": 1e400}',
            '{"text": ',
            "[1]",
        ]
    ),
    st.dictionaries(
        st.text(max_size=4),
        st.one_of(
            st.integers(), st.floats(), st.text(st.characters(exclude_categories=()), max_size=4)
        ),
        max_size=3,
    ).map(json.dumps),
)


@settings(
    max_examples=6,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(lines=st.lists(GENERATED_LINES, min_size=1, max_size=4))
def test_register_of_generated_jsonl_is_a_version_or_one_error_line(run_cli, tmp_path, lines):
    data = tmp_path / "generated.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="ascii")

    result = run_cli("datasets", "register", str(data), "--name", "generated")

    if result.code == 0:
        assert re.fullmatch(r"dv-[0-9a-f]{24}\n", result.out), result.out
        assert re.fullmatch(
            rf"(already )?registered generated \[raw\]: {len(lines)} rows\n", result.err
        )
    else:
        assert (result.code, result.out) == (2, ""), result.err
        assert re.fullmatch(
            rf"Error: {re.escape(str(data))}: line \d+[ ,][^\n]+; "
            rf"\d+ of {len(lines)} rows cannot be registered \(fix the file[^\n]+\)\n",
            result.err,
        ), result.err


def test_register_unsupported_and_empty_files_are_reported(run_cli, tmp_path):
    (tmp_path / "d.xlsx").write_text("x")
    (tmp_path / "e.csv").write_text("")

    unsupported = run_cli("datasets", "register", str(tmp_path / "d.xlsx"), "--name", "x")
    empty = run_cli("datasets", "register", str(tmp_path / "e.csv"), "--name", "x")

    assert unsupported.code == empty.code == 2
    assert unsupported.err == (
        f"Error: {tmp_path / 'd.xlsx'}: unsupported file type '.xlsx' "
        "(use .csv, .jsonl, .ndjson, .parquet)\n"
    )
    assert empty.err == f"Error: {tmp_path / 'e.csv'}: file is empty\n"


def test_unreachable_database_masks_password(run_cli):
    url = "postgresql+psycopg://govflow:s3cret@127.0.0.1:1/ledger"

    result = run_cli("datasets", "list", env={"GOVFLOW_DATABASE_URL": url})

    assert result.code == 3
    assert "s3cret" not in result.err + result.out
    assert result.err.startswith(
        "Error: cannot reach the ledger at postgresql+psycopg://govflow:***@127.0.0.1:1/ledger: "
    )
    assert result.err.endswith(
        "(check GOVFLOW_DATABASE_URL and that the database server is running)\n"
    )
    assert "Traceback" not in result.err


def test_malformed_database_url_is_a_config_error(run_cli):
    result = run_cli("datasets", "list", env={"GOVFLOW_DATABASE_URL": "not a url"})

    assert result.code == 2
    assert result.err.startswith("Error: GOVFLOW_DATABASE_URL is not a database URL: 'not a url'")


def test_list_shows_versions_as_table_and_json(run_cli, tmp_path):
    data = _write_jsonl(tmp_path / "t.jsonl", ROWS[:3])
    version_id = run_cli("datasets", "register", str(data), "--name", "tickets").out.strip()

    table = run_cli("datasets", "list")
    as_json = run_cli("datasets", "list", "--json")

    lines = table.out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "STAGE", "ROWS", "CREATED"]
    assert lines[1].split()[:4] == [version_id, "tickets", "raw", "3"]
    rows = json.loads(as_json.out)
    assert [(r["id"], r["name"], r["stage"], r["rows"], r["created_by"]) for r in rows] == [
        (version_id, "tickets", "raw", 3, "tester")
    ]


def test_fast_commands_import_neither_prefect_nor_great_expectations(run_cli, tmp_path):
    data = _write_jsonl(tmp_path / "t.jsonl", ROWS[:3])
    for args in (
        ["--help"],
        ["datasets", "register", str(data), "--name", "t"],
        ["audit", "verify"],
    ):
        result = run_cli(*args, python_flags=("-X", "importtime"))
        assert result.code == 0, result.err
        imported = {line.split("|")[-1].strip().split(".")[0] for line in result.err.splitlines()}
        assert "prefect" not in imported, args
        assert "great_expectations" not in imported, args
