from pathlib import Path

import pytest

from govflow.errors import InputError
from govflow.synthetic.plan import (
    SynthesisPlan,
    load_plan,
    resolve_targets,
    targets_from_shares,
)

ROOT = Path(__file__).resolve().parents[3]
LABELS = ["billing", "bug", "account", "feature_request", "other"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    return path


def test_demo_plan_expands_billing_to_a_quarter():
    plan = load_plan(ROOT / "synthesis/support-intent.yaml")
    counts = {"other": 36, "account": 35, "bug": 33, "feature_request": 30, "billing": 24}
    assert resolve_targets(plan, counts, label_set=LABELS) == {"billing": 21}
    assert plan.caps.global_share == 0.2
    assert plan.caps.class_share == 0.5
    assert plan.checks.near_copy_jaccard == 0.8


def test_share_target_formula_matches_the_worked_example():
    # billing 24 of 160 up to 25%: (40 - 24) / 0.75 = 21.3 -> 22
    assert targets_from_shares(class_rows=24, total_rows=160, share=0.25) == 22
    assert targets_from_shares(class_rows=50, total_rows=100, share=0.25) == 0
    # exact shares need no extra row: 25 of 100 up to 1/3 -> 12.5 -> 13
    assert targets_from_shares(class_rows=25, total_rows=100, share=1 / 3) == 13


def test_unknown_class_is_one_clear_error(tmp_path):
    plan = load_plan(write(tmp_path, "project: p\ntargets:\n  - label: refunds\n    rows: 5\n"))
    with pytest.raises(InputError) as err:
        resolve_targets(plan, {"billing": 3}, label_set=LABELS)
    assert str(err.value) == (
        "synthesis plan names unknown class 'refunds' "
        "(the label set is billing, bug, account, feature_request, other)"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "project: p\ntargets:\n  - label: billing\n    rows: 0\n",
            "targets.0.rows: Input should be greater than or equal to 1",
        ),
        (
            "project: p\ntargets:\n  - label: billing\n",
            "targets.0: give exactly one of rows or up_to_share",
        ),
        (
            "project: p\ntargets:\n  - {label: billing, rows: 2}\ngenerator: {kind: magic}\n",
            "generator.kind: Input should be 'template', 'python' or 'openai-chat'",
        ),
        (
            "project: p\ntargets:\n  - {label: billing, rows: 2}\ngenerator: {kind: python}\n",
            "generator: a python generator needs entrypoint: module:function",
        ),
        (
            "project: p\ntargets: [{label: billing, rows: 2}]\nchecks: {near_copy_jaccard: 1.5}\n",
            "checks.near_copy_jaccard: Input should be less than or equal to 1",
        ),
        (
            "project: p\ntargets:\n  - {label: billing, rows: 2}\ncaps: {global: 0.3}\n",
            "caps.global: Extra inputs are not permitted",
        ),
    ],
)
def test_bad_plan_is_one_line_naming_the_field(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_plan(path)
    assert str(err.value) == f"synthesis plan {path}: {message}"


def test_missing_plan_file(tmp_path):
    with pytest.raises(InputError, match="no synthesis plan at"):
        load_plan(tmp_path / "nope.yaml")


def test_config_hash_includes_defaults_and_changes_with_the_seed():
    plan = SynthesisPlan.model_validate({"project": "p", "targets": [{"label": "a", "rows": 3}]})
    same = SynthesisPlan.model_validate(
        {"project": "p", "targets": [{"label": "a", "rows": 3}], "caps": {"global_share": 0.2}}
    )
    assert plan.config_hash == same.config_hash
    assert plan.with_seed(1).config_hash != plan.config_hash


def test_share_floor_targets_every_class_below_it_unless_named():
    plan = SynthesisPlan.model_validate(
        {"project": "p", "targets": [{"label": "billing", "rows": 5}], "share_floor": 0.2}
    )
    counts = {"billing": 10, "bug": 60, "account": 15, "feature_request": 25, "other": 0}
    # N = 110: account (15) needs ceil((22 - 15) / 0.8) = 9, other (0) ceil(22 / 0.8) = 28
    assert resolve_targets(plan, counts, label_set=LABELS) == {
        "billing": 5,
        "account": 9,
        "other": 28,
    }


def test_a_plan_without_targets_or_floor_is_refused(tmp_path):
    path = write(tmp_path, "project: p\n")
    with pytest.raises(InputError) as err:
        load_plan(path)
    assert str(err.value) == f"synthesis plan {path}: plan: give targets, a share_floor, or both"
