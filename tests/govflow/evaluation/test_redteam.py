"""Red-team probes: seeded and item-local, custom probes, findings and hit rates."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from govflow.errors import InputError
from govflow.evaluation import redteam
from govflow.evaluation.redteam import (
    Expectation,
    ProbeItem,
    collect_findings,
    generate_probes,
    probe_frame,
)
from govflow.evaluation.suites import (
    BUILTIN_PROBES,
    EdgeCase,
    RedTeamSettings,
    load_evaluation_suite,
    suite_path,
)
from govflow.hashing import sha256_text

LABELS = ["billing", "bug", "account", "feature_request", "other"]
DEMO = Path(__file__).resolve().parents[3] / "demo" / "data"


def demo_items(count: int = 40) -> pd.DataFrame:
    """Routine items from the demo's tickets with their simulated true intents."""
    truth = {}
    for line in (DEMO / "support_tickets.truth.jsonl").read_text().splitlines():
        row = json.loads(line)
        truth[row["ticket_id"]] = row["intent"]
    rows = []
    for line in (DEMO / "support_tickets.jsonl").read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # the demo ships a deliberately truncated line
        if isinstance(row.get("text"), str) and row["text"].strip() and row["ticket_id"] in truth:
            rows.append({"text": row["text"], "label": truth[row["ticket_id"]]})
    return pd.DataFrame(rows[:count])


def settings(seed: int = 7, probes: list[str] | None = None, per_item: int = 1):
    return RedTeamSettings(seed=seed, probes=probes or list(BUILTIN_PROBES), per_item=per_item)


def test_builtin_probes_are_the_ones_a_suite_may_name():
    assert set(redteam._BUILTINS) == set(BUILTIN_PROBES)


def test_same_seed_gives_the_same_probes_and_another_seed_others():
    items = demo_items()

    first = generate_probes(items, labels=LABELS, settings=settings(7, per_item=2))
    again = generate_probes(items, labels=LABELS, settings=settings(7, per_item=2))
    other = generate_probes(items, labels=LABELS, settings=settings(8, per_item=2))

    assert len(first) == len(items) * len(BUILTIN_PROBES) * 2
    assert first == again
    changed = sum(a.text != b.text for a, b in zip(first, other, strict=True))
    assert changed > len(first) // 2


def test_a_probe_depends_only_on_its_own_item():
    items = demo_items(10)

    together = generate_probes(items, labels=LABELS, settings=settings())
    alone = generate_probes(items.iloc[[6]], labels=LABELS, settings=settings(probes=["typos"]))

    from_item_6 = [
        p for p in together if p.probe == "typos" and p.original_text == alone[0].original_text
    ]
    assert from_item_6 == alone


def test_every_builtin_probe_changes_the_text_and_keeps_the_label():
    items = demo_items()
    probes = generate_probes(items, labels=LABELS, settings=settings(per_item=3))

    for probe in probes:
        assert probe.text != probe.original_text, probe
        assert probe.expectation == Expectation.SAME_LABEL
        assert probe.label == probe.source_label
        assert probe.seed == 7


def test_builtin_probes_do_what_they_say():
    items = demo_items()
    probes = generate_probes(items, labels=LABELS, settings=settings(per_item=2))
    by_name: dict[str, list[ProbeItem]] = {}
    for probe in probes:
        by_name.setdefault(probe.probe, []).append(probe)

    for p in by_name["typos"]:
        edits = max(1, len(p.original_text) // 40)
        assert abs(len(p.text) - len(p.original_text)) <= edits
    for p in by_name["casing_whitespace"]:
        assert " ".join(p.text.split()).lower() == " ".join(p.original_text.split()).lower()
    for p in by_name["distractor"]:
        assert p.original_text in p.text and len(p.text) > len(p.original_text) + 20
    for p in by_name["prompt_injection"]:
        other = [label for label in LABELS if label != p.source_label]
        assert any(f" {label}." in p.text for label in other), p.text
        assert "instructions" in p.text or p.text.count("SYSTEM:") == 1
    for p in by_name["pii_bait"]:
        assert p.original_text in p.text
        assert any(bait in p.text for bait in ("@example.", "555", "4111 1111 1111 1111"))


def write_module(folder: Path, name: str, source: str) -> None:
    (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")


def test_custom_probes_keep_or_set_the_expected_label(tmp_path, monkeypatch):
    write_module(
        tmp_path,
        "govflow_test_probes",
        """
        def shout(text, rng):
            return text + "!" * int(rng.integers(1, 4))

        def refund(text, rng):
            return "I want a refund. " + text, "billing"
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    names = ["govflow_test_probes:shout", "govflow_test_probes:refund"]

    probes = generate_probes(demo_items(3), labels=LABELS, settings=settings(probes=names))

    shout = [p for p in probes if p.probe == names[0]]
    refund = [p for p in probes if p.probe == names[1]]
    assert all(p.text.rstrip("!") == p.original_text for p in shout)
    assert all(p.expectation == Expectation.SAME_LABEL for p in shout)
    assert all(p.expectation == Expectation.EXPECTED_LABEL for p in refund)
    assert all(p.label == "billing" and p.expected_label == "billing" for p in refund)


@pytest.mark.parametrize(
    ("source", "function", "message"),
    [
        (
            "def probe(text, rng:\n    return text\n",
            "probe",
            "custom probe 'govflow_bad_probe:probe' cannot be loaded: SyntaxError: "
            "'(' was never closed (govflow_bad_probe.py, line 1)",
        ),
        (
            "def probe(text, rng):\n    return text\n",
            "missing",
            "custom probe 'govflow_bad_probe:missing': govflow_bad_probe has no function missing",
        ),
        (
            "def probe(text, rng):\n    raise ValueError('no vowels')\n",
            "probe",
            "probe govflow_bad_probe:probe failed on item {item}: ValueError: no vowels",
        ),
        (
            "def probe(text, rng):\n    return 42\n",
            "probe",
            "probe govflow_bad_probe:probe returned int, expected a non-empty text or "
            "(text, expected_label)",
        ),
        (
            "def probe(text, rng):\n    return text, 'refund'\n",
            "probe",
            "probe govflow_bad_probe:probe expects label 'refund', which is not in the label set",
        ),
    ],
)
def test_a_broken_custom_probe_is_one_clear_input_error(
    tmp_path, monkeypatch, source, function, message
):
    sys.modules.pop("govflow_bad_probe", None)
    write_module(tmp_path, "govflow_bad_probe", source)
    monkeypatch.syspath_prepend(str(tmp_path))
    items = demo_items(1)

    with pytest.raises(InputError) as caught:
        generate_probes(
            items, labels=LABELS, settings=settings(probes=[f"govflow_bad_probe:{function}"])
        )

    assert str(caught.value) == message.format(item=sha256_text(items["text"][0])[:12])
    sys.modules.pop("govflow_bad_probe", None)


def test_a_missing_custom_module_is_an_input_error():
    with pytest.raises(InputError) as caught:
        generate_probes(
            demo_items(1), labels=LABELS, settings=settings(probes=["no_such_module_x:probe"])
        )

    assert str(caught.value) == (
        "custom probe 'no_such_module_x:probe' cannot be loaded: ModuleNotFoundError: "
        "No module named 'no_such_module_x'"
    )


def item(probe: str, label: str = "billing", expected: str | None = None, n: int = 0):
    return ProbeItem(
        probe=probe,
        source_hash=f"{n:064x}",
        copy=0,
        seed=1,
        original_text=f"text {n}",
        text=f"probe text {n}",
        source_label=label,
        expectation=Expectation.SAME_LABEL if expected is None else Expectation.EXPECTED_LABEL,
        expected_label=expected,
    )


def test_findings_name_each_failure_and_hit_rates_count_them():
    items = [
        item("typos", n=0),  # unchanged answer: passes
        item("typos", n=1),  # answer changed: fails
        item("typos", n=2),  # original unreadable: unassessed
        item("prompt_injection", n=3),  # adapter error on the probe: fails
        item("refund", expected="billing", n=4),  # expected billing, got bug: fails
        item("refund", expected="billing", n=5),  # expected and got billing: passes
    ]
    original = pd.DataFrame(
        {
            "label": ["billing", "billing", "refund", "billing", "bug", "bug"],
            "error": [None, None, None, None, None, None],
        }
    )
    probed = pd.DataFrame(
        {
            "label": ["billing", "feature_request", "billing", None, "bug", "billing"],
            "error": [None, None, None, "timeout after 30 s", None, None],
        }
    )

    result = collect_findings(items, labels=LABELS, original_answers=original, probe_answers=probed)

    assert [(f.item.source_hash[-1], f.reason) for f in result.findings] == [
        ("1", "answer changed from 'billing' to 'feature_request'"),
        ("3", "no readable answer to the probe: adapter error: timeout after 30 s"),
        ("4", "expected 'billing', got 'bug'"),
    ]
    assert [(r.probe, r.probes, r.failed, r.unassessed, r.hit_rate) for r in result.rates] == [
        ("typos", 3, 1, 1, 1 / 3),
        ("prompt_injection", 1, 1, 0, 1.0),
        ("refund", 2, 1, 0, 0.5),
    ]
    groups = result.by_probe()
    assert {name: len(found) for name, found in groups.items()} == {
        "typos": 1,
        "prompt_injection": 1,
        "refund": 1,
    }


def test_an_accepted_finding_becomes_an_edge_case_of_the_next_suite_version():
    items = [item("typos", label="bug", n=9)]
    result = collect_findings(
        items,
        labels=LABELS,
        original_answers=pd.DataFrame({"label": ["bug"]}),
        probe_answers=pd.DataFrame({"label": ["other"]}),
    )
    version = load_evaluation_suite(suite_path("support-intent"))

    edge = result.findings[0].as_edge_case()
    next_version = version.with_edge_cases([edge])

    assert edge == EdgeCase(
        text="probe text 9",
        label="bug",
        origin="redteam:typos",
        note="answer changed from 'bug' to 'other'",
    )
    assert next_version.edge_cases == (edge,)
    assert next_version.parent_hash == version.content_hash


def test_probe_frame_gives_the_adversarial_slice_rows():
    probes = generate_probes(demo_items(2), labels=LABELS, settings=settings(probes=["typos"]))

    frame = probe_frame(probes)

    assert list(frame.columns) == ["probe_id", "text", "label", "source", "origin", "source_hash"]
    assert frame["origin"].tolist() == ["synthetic", "synthetic"]
    assert frame["label"].tolist() == [p.source_label for p in probes]
    assert frame["probe_id"].nunique() == 2


def test_answers_not_aligned_with_the_probes_are_an_input_error():
    with pytest.raises(InputError, match=r"^answers to the probes: 1 answers for 2 probes$"):
        collect_findings(
            [item("typos", n=0), item("typos", n=1)],
            labels=LABELS,
            original_answers=pd.DataFrame({"label": ["bug", "bug"]}),
            probe_answers=pd.DataFrame({"label": ["bug"]}),
        )


def test_items_without_text_or_with_unknown_labels_are_input_errors():
    with pytest.raises(InputError, match="has no text"):
        generate_probes(
            pd.DataFrame({"text": ["  "], "label": ["bug"]}), labels=LABELS, settings=settings()
        )
    with pytest.raises(InputError, match="label 'refund' is not known"):
        generate_probes(
            pd.DataFrame({"text": ["hi"], "label": ["refund"]}), labels=LABELS, settings=settings()
        )
