"""load_dataset_config: YAML and TOML, defaults, one-line errors naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from govflow.errors import InputError
from govflow.sources.acquire import acquire
from govflow.sources.config import (
    CursorPagination,
    DatasetConfig,
    FileSource,
    HttpSource,
    PagePagination,
    SqlSource,
    load_dataset_config,
)

DEMO_CONFIG = Path(__file__).parents[3] / "demo" / "support_tickets.source.yaml"

YAML_CONFIG = """\
name: tickets
source:
  kind: http
  url: https://api.example.com/tickets
  records_path: data
  pagination: {type: cursor}
  auth_header: Authorization
  auth_env: TICKETS_TOKEN
columns:
  - {name: id, type: integer}
  - {name: text, type: string, max_length: 2000}
  - {name: score, type: float, required: false}
key: id
suites: {raw: tickets.raw}
"""

TOML_CONFIG = """\
name = "tickets"
key = "id"
suites = { raw = "tickets.raw" }

[source]
kind = "http"
url = "https://api.example.com/tickets"
records_path = "data"
pagination = { type = "cursor" }
auth_header = "Authorization"
auth_env = "TICKETS_TOKEN"

[[columns]]
name = "id"
type = "integer"

[[columns]]
name = "text"
type = "string"
max_length = 2000

[[columns]]
name = "score"
type = "float"
required = false
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_dataset_config(path)
    return str(caught.value)


def test_load_dataset_config_reads_yaml_and_toml_alike(tmp_path: Path) -> None:
    from_yaml = load_dataset_config(write(tmp_path, "t.yaml", YAML_CONFIG))
    from_toml = load_dataset_config(write(tmp_path, "t.toml", TOML_CONFIG))

    assert from_yaml == from_toml
    source = from_yaml.source
    assert isinstance(source, HttpSource)
    assert source.pagination == CursorPagination(
        type="cursor", cursor_param="cursor", next_cursor_path="next"
    )
    assert (source.timeout_s, source.max_retries, source.backoff_s, source.max_pages) == (
        10.0,
        4,
        0.5,
        1000,
    )
    assert source.max_records is None
    assert [(c.name, c.type, c.required, c.max_length) for c in from_yaml.columns] == [
        ("id", "integer", True, 10_000),
        ("text", "string", True, 2000),
        ("score", "float", False, 10_000),
    ]
    assert (from_yaml.chunk_size, from_yaml.quarantine_threshold, from_yaml.text_column) == (
        50_000,
        0.05,
        "text",
    )
    assert from_yaml.suites == {"raw": "tickets.raw"}


def test_load_dataset_config_resolves_file_paths_against_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "configs"
    folder.mkdir()
    path = write(
        folder,
        "t.yaml",
        "name: t\nsource: {kind: file, path: data/*.csv}\ncolumns: [{name: text, type: string}]\n",
    )
    monkeypatch.chdir(tmp_path)

    source = load_dataset_config(path).source

    assert isinstance(source, FileSource)
    assert source.path == "data/*.csv"
    assert source.resolved() == folder / "data" / "*.csv"
    assert source.is_glob


def test_load_dataset_config_accepts_page_pagination_and_sql_sources(tmp_path: Path) -> None:
    http = load_dataset_config(
        write(
            tmp_path,
            "h.yaml",
            "name: t\nsource: {kind: http, url: 'http://x/items', pagination: {type: page}}\n"
            "columns: [{name: text, type: string}]\n",
        )
    )
    sql = load_dataset_config(
        write(
            tmp_path,
            "s.yaml",
            "name: t\nsource: {kind: sql, url: 'sqlite:///x.db', query: select 1}\n"
            "columns: [{name: text, type: string}]\n",
        )
    )

    assert isinstance(http.source, HttpSource)
    assert http.source.pagination == PagePagination(
        type="page", page_param="page", start=1, size_param="per_page", size=100
    )
    assert sql.source == SqlSource(kind="sql", url="sqlite:///x.db", query="select 1")


def test_load_dataset_config_reports_every_invalid_field_on_one_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "t.yaml",
        "name: t\n"
        "source: {kind: http, url: 'ftp://x', timeout_s: 0, pagination: {type: page, sise: 5}}\n"
        "columns:\n  - {name: text, type: text}\n",
    )

    assert load_error(path) == (
        f"{path}: invalid dataset config: source.url: must start with http:// or https://; "
        "source.pagination.sise: Extra inputs are not permitted; "
        "source.timeout_s: Input should be greater than 0; "
        "columns[0].type: Input should be 'string', 'integer', 'float', 'boolean' or 'datetime'"
    )


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            "source: {kind: file, path: a.csv}\ncolumns: [{name: text, type: string}]\n",
            "name: Field required",
        ),
        (
            "name: t\nsource: {kind: ftp, path: a.csv}\ncolumns: [{name: text, type: string}]\n",
            "source: Input tag 'ftp' found using 'kind' does not match any of the expected "
            "tags: 'file', 'http', 'sql'",
        ),
        (
            "name: t\nsource: {kind: http, url: 'http://x', auth_header: Authorization}\n"
            "columns: [{name: text, type: string}]\n",
            "source: auth_header and auth_env must be given together",
        ),
        (
            "name: t\nsource: {kind: http, url: 'http://x', pagination: {type: cursor}}\n"
            "columns: [{name: text, type: string}]\n",
            "source: cursor pagination needs records_path (the page must be an object)",
        ),
        (
            "name: t\nsource: {kind: file, path: a.csv}\nkey: id\n"
            "columns: [{name: text, type: string}]\n",
            "key 'id' is not a declared column",
        ),
        (
            "name: t\nsource: {kind: file, path: a.csv}\n"
            "columns: [{name: text, type: string}, {name: text, type: integer}]\n",
            "duplicate columns: text",
        ),
        (
            "name: t\nsource: {kind: file, path: a.csv}\ncolumns: [{name: body, type: string}]\n",
            "text_column 'text' must be a declared string column "
            "(set text_column: null for a dataset without text)",
        ),
    ],
)
def test_load_dataset_config_names_the_invalid_field(
    tmp_path: Path, document: str, problem: str
) -> None:
    path = write(tmp_path, "t.yaml", document)

    assert load_error(path) == f"{path}: invalid dataset config: {problem}"


def test_load_dataset_config_never_echoes_a_bad_database_url(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "t.yaml",
        "name: t\nsource: {kind: sql, url: 's3cret-password-here', query: select 1}\n"
        "columns: [{name: text, type: string}]\n",
    )

    message = load_error(path)

    assert message == f"{path}: invalid dataset config: source.url: not a valid SQLAlchemy URL"
    assert "s3cret" not in message


def test_load_dataset_config_rejects_an_env_value_where_a_name_belongs(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "t.yaml",
        "name: t\nsource: {kind: http, url: 'http://x', auth_header: Authorization,"
        " auth_env: 'Bearer abc123'}\ncolumns: [{name: text, type: string}]\n",
    )

    message = load_error(path)

    assert message == (
        f"{path}: invalid dataset config: source.auth_env: "
        "must be the name of an environment variable, not its value"
    )


def test_load_dataset_config_reports_unreadable_files(tmp_path: Path) -> None:
    broken_yaml = write(tmp_path, "b.yaml", "name: t\nsource: {kind: file, path: [unclosed\n")
    broken_toml = write(tmp_path, "b.toml", 'name = "t"\nsource = {kind = \n')
    not_a_mapping = write(tmp_path, "l.yaml", "- a\n- b\n")
    wrong_suffix = write(tmp_path, "t.json", "{}")

    assert load_error(tmp_path / "none.yaml") == f"{tmp_path / 'none.yaml'}: config file not found"
    assert load_error(broken_yaml) == (
        f"{broken_yaml}: not valid YAML at line 3: expected ',' or ']', but got '<stream end>'"
    )
    assert load_error(broken_toml).startswith(f"{broken_toml}: not valid TOML: ")
    assert load_error(not_a_mapping) == (
        f"{not_a_mapping}: expected a mapping of settings at the top level"
    )
    assert load_error(wrong_suffix) == (
        f"{wrong_suffix}: unsupported config file type '.json' (use .yaml, .yml or .toml)"
    )


def test_demo_config_acquires_the_demo_tickets_and_quarantines_the_bad_ones() -> None:
    config = load_dataset_config(DEMO_CONFIG)

    result = acquire(config)

    assert isinstance(config, DatasetConfig)
    assert (config.name, config.key, config.text_column) == ("support_tickets", "ticket_id", "text")
    assert config.suites == {
        "raw": "support_tickets.raw",
        "preprocessed": "support_tickets.preprocessed",
    }
    # demo/generate_sample.py writes 160 tickets, four of them broken on purpose.
    assert result.rows_in == 160
    assert len(result.frame) == 156
    assert [
        (q["source_row"], [(r["check"], r["column"]) for r in q["reasons"]])
        for q in result.quarantined
    ] == [
        (23, [("invalid_json", None)]),
        (58, [("missing_required", "text")]),
        (77, [("wrong_type", "created_at")]),
        (101, [("too_long", "text")]),
    ]
    assert result.notes == []
    assert list(result.frame.columns) == [
        "ticket_id",
        "text",
        "channel",
        "created_at",
        "_source_row",
        "_source_file",
    ]
    assert result.frame["ticket_id"].is_unique
    assert result.frame["_source_file"].unique().tolist() == ["data/support_tickets.jsonl"]
    assert result.source.uri == str(DEMO_CONFIG.parent / "data" / "support_tickets.jsonl")
