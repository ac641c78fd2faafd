"""The monitor config: the demo's file, and one clear error line for each kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from govflow.errors import InputError
from govflow.monitoring.config import (
    ColumnKind,
    ColumnMonitor,
    DriftTest,
    MonitorConfig,
    load_monitor_config,
)
from tests.govflow.monitoring.conftest import CONFIG

VALID = """\
project: p
label_set: [a, b]
columns:
  - {name: x, kind: numeric}
activation: {default_below: 0.5}
accuracy: {expected_min: 0.8, realized_min: 0.8}
"""


def write(tmp_path: Path, text: str, name: str = "monitor.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(InputError) as caught:
        load_monitor_config(write(tmp_path, text))
    return str(caught.value).split(": invalid monitor config: ", 1)[-1]


def test_load_monitor_config_reads_the_demo_config() -> None:
    config = load_monitor_config(CONFIG)
    assert config.project == "support-intent"
    assert config.label_set == ["billing", "bug", "account", "feature_request", "other"]
    assert [(c.name, c.kind, c.test) for c in config.columns] == [
        ("text", ColumnKind.TEXT, None),
        ("channel", ColumnKind.CATEGORICAL, None),
        ("predicted_label", ColumnKind.CATEGORICAL, None),
        ("confidence", ColumnKind.NUMERIC, None),
    ]
    assert config.drift_share == 0.5
    assert (config.psi.moderate, config.psi.major, config.psi.confidence_bins) == (
        0.1,
        0.25,
        "deciles",
    )
    assert config.text.oov_rate_max == 0.1
    assert config.text.domain_classifier.seed == 13
    assert config.activation.below == {"billing": 0.4, "account": 0.35}
    assert (config.activation.default_below, config.activation.sample_rate) == (0.3, 0.05)
    assert config.activation.combine == "or"
    assert (config.accuracy.expected_min, config.accuracy.min_labels) == (0.85, 30)
    assert config.record.time == "scored_at"


def test_load_monitor_config_fills_evidently_defaults(tmp_path: Path) -> None:
    config = load_monitor_config(write(tmp_path, VALID))
    assert config.drift_share == 0.5
    assert config.column("x") == ColumnMonitor(name="x", kind=ColumnKind.NUMERIC)
    assert config.text.domain_classifier.folds == 5
    assert config.record.predicted_label == "predicted_label"


def test_load_monitor_config_names_an_unknown_test(tmp_path: Path) -> None:
    text = VALID.replace("{name: x, kind: numeric}", "{name: x, kind: numeric, test: kss}")
    assert error_of(tmp_path, text) == (
        "columns[0].test: unknown value 'kss' (input should be 'ks', 'chisquare', 'z', "
        "'wasserstein', 'jensenshannon', 'psi' or 'domain_classifier')"
    )


def test_load_monitor_config_refuses_a_test_for_another_kind(tmp_path: Path) -> None:
    text = VALID.replace("{name: x, kind: numeric}", "{name: x, kind: categorical, test: ks}")
    assert error_of(tmp_path, text) == (
        "columns[0]: test ks does not apply to categorical columns "
        "(use chisquare, jensenshannon, psi, z)"
    )


def test_load_monitor_config_refuses_a_threshold_without_a_test(tmp_path: Path) -> None:
    text = VALID.replace("{name: x, kind: numeric}", "{name: x, kind: numeric, threshold: 0.2}")
    assert error_of(tmp_path, text) == (
        "columns[0]: a threshold needs a test: the default test depends on the reference size"
    )


def test_load_monitor_config_refuses_a_p_value_threshold_of_one(tmp_path: Path) -> None:
    text = VALID.replace(
        "{name: x, kind: numeric}", "{name: x, kind: numeric, test: ks, threshold: 1.5}"
    )
    assert error_of(tmp_path, text) == (
        "columns[0]: the ks threshold is a p-value and must be below 1"
    )


def test_load_monitor_config_reports_every_problem_on_one_line(tmp_path: Path) -> None:
    text = """\
project: p
label_set: [a, b]
columns:
  - {name: x, kind: nominal}
  - {name: y, kind: text, treshold: 0.6}
drift_share: 1.5
psi: {moderate: 0.3, major: 0.2}
activation: {combine: xor}
accuracy: {expected_min: 0.8}
"""
    message = error_of(tmp_path, text)
    assert message.split("; ") == [
        "columns[0].kind: unknown value 'nominal' (input should be 'numeric', 'categorical', "
        "'binary' or 'text')",
        "columns[1].treshold: Extra inputs are not permitted",
        "drift_share: Input should be less than or equal to 1",
        "psi: moderate (0.3) must be below major (0.2)",
        "activation.combine: Input should be 'and' or 'or'",
        "accuracy.realized_min: Field required",
    ]


def test_load_monitor_config_refuses_activation_without_a_condition(tmp_path: Path) -> None:
    text = VALID.replace("activation: {default_below: 0.5}", "activation: {combine: and}")
    assert error_of(tmp_path, text) == (
        "activation: needs at least one condition: below, default_below or sample_rate"
    )


def test_load_monitor_config_refuses_thresholds_for_labels_outside_the_set(
    tmp_path: Path,
) -> None:
    text = VALID.replace("activation: {default_below: 0.5}", "activation: {below: {c: 0.5}}")
    assert error_of(tmp_path, text) == ("activation.below names labels outside the label set: c")


def test_load_monitor_config_refuses_a_column_listed_twice(tmp_path: Path) -> None:
    text = VALID.replace(
        "  - {name: x, kind: numeric}\n",
        "  - {name: x, kind: numeric}\n  - {name: x, kind: categorical}\n",
    )
    assert error_of(tmp_path, text) == "columns lists 'x' more than once"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("monitor.toml", VALID, "unsupported monitor config type '.toml' (use .yaml or .yml)"),
        (
            "monitor.yaml",
            "project: [unclosed",
            "not valid YAML at line 1: expected ',' or ']', but got '<stream end>'",
        ),
        ("monitor.yaml", "- a\n- b\n", "expected a mapping of monitor settings at the top level"),
    ],
)
def test_load_monitor_config_refuses_unreadable_files(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = write(tmp_path, text, name)
    with pytest.raises(InputError) as caught:
        load_monitor_config(path)
    assert str(caught.value) == f"{path}: {message}"


def test_load_monitor_config_says_when_the_file_is_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_monitor_config(tmp_path / "absent.yaml")
    assert str(caught.value) == f"{tmp_path / 'absent.yaml'}: monitor config not found"


def test_text_columns_always_use_the_domain_classifier() -> None:
    column = ColumnMonitor(name="t", kind="text", threshold=0.6)
    assert column.effective_test is DriftTest.DOMAIN_CLASSIFIER
    with pytest.raises(ValueError, match="ROC AUC within"):
        ColumnMonitor(name="t", kind="text", threshold=0.4)


def test_monitor_config_is_frozen() -> None:
    config = load_monitor_config(CONFIG)
    with pytest.raises(ValueError):
        config.drift_share = 0.2  # type: ignore[misc]
    assert isinstance(config, MonitorConfig)


def test_load_monitor_config_refuses_a_label_listed_twice(tmp_path: Path) -> None:
    text = VALID.replace("label_set: [a, b]", "label_set: [a, b, a]")
    assert error_of(tmp_path, text) == "label_set lists a label twice"
