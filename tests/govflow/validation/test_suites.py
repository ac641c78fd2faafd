"""Loading suites: repository suites load; broken, empty and mis-counted suites fail loudly."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from govflow.errors import InputError
from govflow.hashing import content_hash
from govflow.validation.suites import (
    SUITES_DIR,
    SuiteSpec,
    list_suites,
    load_suite,
    load_suite_file,
)

NOT_NULL = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "text"}}
IN_SET = {
    "type": "expect_column_values_to_be_in_set",
    "kwargs": {"column": "channel", "value_set": ["email", "chat"]},
    "severity": "warning",
}


def write_suite(
    folder: Path,
    name: str = "tickets.raw",
    expectations: list[Any] | None = None,
    govflow: dict[str, Any] | None = None,
    **document: Any,
) -> Path:
    """Write a suite file and return its path."""
    expectations = [NOT_NULL, IN_SET] if expectations is None else expectations
    settings = {"expected_expectations": len(expectations), "quarantine_threshold": 0.05}
    body = {
        "name": name,
        "expectations": expectations,
        "meta": {"govflow": settings | (govflow or {})},
    } | document
    path = folder / f"{name}.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_every_repository_suite_loads() -> None:
    names = list_suites()
    specs = [load_suite(*name.rsplit(".", 1)) for name in names]

    assert [spec.name for spec in specs] == names


@pytest.mark.parametrize(
    ("dataset", "stage", "count"),
    [
        ("support_tickets", "raw", 12),
        ("support_tickets", "preprocessed", 13),
        ("annotated_text", "raw", 13),
    ],
)
def test_load_suite_counts_the_bundled_suites(dataset: str, stage: str, count: int) -> None:
    spec = load_suite(dataset, stage)

    assert (spec.expected_expectations, len(spec.expectations)) == (count, count)


def test_load_suite_reads_identity_settings_and_raw_suite() -> None:
    spec = load_suite("support_tickets", "raw")
    document = json.loads((SUITES_DIR / "support_tickets.raw.json").read_text())

    assert spec.name == "support_tickets.raw"
    assert spec.path == SUITES_DIR / "support_tickets.raw.json"
    assert spec.content_hash == content_hash(document)
    assert spec.quarantine_threshold == 0.05
    assert spec.suite == document
    assert [e["severity"] for e in spec.expectations].count("critical") == 3


def test_suite_hash_changes_with_content_only(tmp_path: Path) -> None:
    first = load_suite_file(write_suite(tmp_path))
    again = load_suite_file(write_suite(tmp_path))
    changed = load_suite_file(write_suite(tmp_path, govflow={"quarantine_threshold": 0.1}))

    assert first.content_hash == again.content_hash
    assert changed.content_hash != first.content_hash


def test_suite_spec_round_trips_through_json_and_pickle() -> None:
    spec = load_suite("support_tickets", "raw")

    assert SuiteSpec.model_validate_json(spec.model_dump_json()) == spec
    assert pickle.loads(pickle.dumps(spec)) == spec


def test_load_suite_missing_file_names_path_and_lists_available(tmp_path: Path) -> None:
    write_suite(tmp_path, "tickets.raw")
    write_suite(tmp_path, "tickets.clean")

    with pytest.raises(InputError) as caught:
        load_suite("tickets", "preprocessed", directory=tmp_path)

    assert str(caught.value) == (
        f"no expectation suite at {tmp_path / 'tickets.preprocessed.json'} "
        f"(suites available in {tmp_path}: tickets.clean, tickets.raw)"
    )


def test_load_suite_empty_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "tickets.raw.json"
    path.write_text("\n")

    with pytest.raises(InputError) as caught:
        load_suite_file(path)

    assert caught.value.message == f"suite file {path} is empty"


def test_load_suite_invalid_json_raises(tmp_path: Path) -> None:
    path = tmp_path / "tickets.raw.json"
    path.write_text('{"name": "tickets.raw",')

    with pytest.raises(InputError) as caught:
        load_suite_file(path)

    assert caught.value.message == (
        f"suite file {path} is not valid JSON: Expecting property name enclosed in double "
        "quotes (line 1, column 24)"
    )


def test_load_suite_unknown_expectation_type_raises(tmp_path: Path) -> None:
    # GE itself would log this, drop the expectation and validate the rest as a pass.
    bogus = {"type": "expect_column_values_to_be_a_valid_ticket", "kwargs": {"column": "text"}}
    path = write_suite(tmp_path, expectations=[NOT_NULL, bogus])

    with pytest.raises(InputError) as caught:
        load_suite_file(path)

    assert str(caught.value) == (
        "suite tickets.raw: expectation 2 has unknown type "
        "'expect_column_values_to_be_a_valid_ticket' (check the spelling; a custom "
        "expectation's module must be imported before the suite is loaded)"
    )


def test_load_suite_count_mismatch_raises(tmp_path: Path) -> None:
    path = write_suite(tmp_path, expectations=[], govflow={"expected_expectations": 8})

    with pytest.raises(InputError) as caught:
        load_suite_file(path)

    assert caught.value.message == f"suite tickets.raw declares 8 expectations but 0 loaded: {path}"


def test_load_suite_with_no_expectations_raises_even_when_declared(tmp_path: Path) -> None:
    path = write_suite(tmp_path, expectations=[], govflow={"expected_expectations": 0})

    with pytest.raises(InputError) as caught:
        load_suite_file(path)

    assert caught.value.message == (
        "suite tickets.raw has bad meta.govflow settings: "
        "expected_expectations: Input should be greater than or equal to 1"
    )


def test_load_suite_without_govflow_settings_raises(tmp_path: Path) -> None:
    path = tmp_path / "tickets.raw.json"
    path.write_text(json.dumps({"name": "tickets.raw", "expectations": [NOT_NULL]}))

    with pytest.raises(InputError) as caught:
        load_suite_file(path)

    assert (
        caught.value.message == f"suite tickets.raw has no govflow settings in meta.govflow: {path}"
    )


def test_load_suite_misspelled_setting_raises(tmp_path: Path) -> None:
    path = write_suite(tmp_path, govflow={"quarantine_treshold": 0.1})

    with pytest.raises(InputError) as caught:
        load_suite_file(path)

    assert caught.value.message == (
        "suite tickets.raw has bad meta.govflow settings: "
        "quarantine_treshold: Extra inputs are not permitted"
    )


def test_load_suite_bad_arguments_raise(tmp_path: Path) -> None:
    bad = {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "channel"}}
    path = write_suite(tmp_path, expectations=[NOT_NULL, bad])

    with pytest.raises(InputError) as caught:
        load_suite_file(path)

    assert caught.value.message == (
        "suite tickets.raw: expectation 2 (expect_column_values_to_be_in_set) is invalid: "
        "value_set: field required"
    )


def test_load_suite_bad_severity_raises(tmp_path: Path) -> None:
    path = write_suite(tmp_path, expectations=[NOT_NULL | {"severity": "fatal"}])

    with pytest.raises(InputError) as caught:
        load_suite_file(path)

    assert caught.value.message == (
        "suite tickets.raw: expectation 1 (expect_column_values_to_not_be_null) is invalid: "
        "Invalid severity 'fatal'. Must be one of: critical, warning, info"
    )


def test_load_suite_name_must_match_file_name(tmp_path: Path) -> None:
    path = write_suite(tmp_path, "tickets.raw")
    path.write_text(path.read_text().replace('"tickets.raw"', '"tickets.clean"'))

    with pytest.raises(InputError) as caught:
        load_suite_file(path)

    assert caught.value.message == (
        f"suite file {path} names its suite 'tickets.clean', expected 'tickets.raw'"
    )


def test_preprocessed_suite_keeps_every_raw_check_but_the_column_set() -> None:
    raw = load_suite("support_tickets", "raw").expectations
    preprocessed = load_suite("support_tickets", "preprocessed").expectations

    def checks(expectations: list[dict[str, Any]]) -> list[str]:
        return [
            json.dumps(e, sort_keys=True)
            for e in expectations
            if e["type"] != "expect_table_columns_to_match_set"
        ]

    assert set(checks(raw)) <= set(checks(preprocessed))


def test_importing_validation_modules_does_not_import_great_expectations() -> None:
    code = (
        "import sys, govflow.validation.suites, govflow.validation.checkpoint, "
        "govflow.ledger.validations; print('great_expectations' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert proc.stdout.strip() == "False"
