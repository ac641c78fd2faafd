import json
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import func, select

from govflow.errors import InputError, NotFound
from govflow.hashing import sha256_text
from govflow.ledger.audit import count_events, verify_chain
from govflow.ledger.guidelines import (
    GuidelineDocument,
    approve_draft,
    diff_guidelines,
    get_guideline,
    list_guidelines,
    load_guideline_document,
    publish_guideline,
)
from govflow.ledger.models import AuditEvent, GuidelineVersion

BASE = {
    "project": "support-intent",
    "label_set": ["billing", "bug", "other"],
    "instructions": "Pick the intent the customer most needs handled.",
    "examples": [{"text": "Charged twice", "label": "billing"}],
    "changelog": "first version",
}


def _doc(**changes):
    return GuidelineDocument.model_validate(BASE | changes)


def _publish(ledger, document, *, status="published", actor="lead:carol"):
    with ledger.session() as session:
        return publish_guideline(session=session, document=document, actor=actor, status=status)


def _rows(ledger):
    with ledger.reader() as session:
        return list_guidelines(session=session, project="support-intent")


def _counts(ledger):
    with ledger.reader() as session:
        rows = session.scalar(select(func.count()).select_from(GuidelineVersion))
        return rows, count_events(session=session)


def _events(ledger):
    with ledger.reader() as session:
        return [
            (e.action, e.subject, e.actor, e.details)
            for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))
        ]


def _write(tmp_path, data, name="guide.yaml"):
    path = tmp_path / name
    path.write_text(json.dumps(data) if name.endswith(".json") else _yaml(data))
    return path


def _yaml(data):
    import yaml

    return yaml.safe_dump(data, sort_keys=False)


def test_publish_numbers_versions_and_links_parents(ledger):
    first, first_new = _publish(ledger, _doc())
    second, second_new = _publish(
        ledger, _doc(instructions="Pick one intent.", changelog="shorter", prompted_by="gate-7")
    )

    rows = _rows(ledger)
    assert (first_new, second_new) == (True, True)
    assert [(r.version, r.parent_id, r.status) for r in rows] == [
        (1, None, "published"),
        (2, first.id, "published"),
    ]
    assert first.id == "gl-" + sha256_text("support-intent\n1")[:24]
    assert second.id == "gl-" + sha256_text("support-intent\n2")[:24]
    assert rows[1].label_set == ["billing", "bug", "other"]
    assert rows[1].examples == [{"text": "Charged twice", "label": "billing"}]
    assert (rows[1].text, rows[1].changelog, rows[1].prompted_by) == (
        "Pick one intent.",
        "shorter",
        "gate-7",
    )
    assert rows[1].created_by == "lead:carol"
    assert _events(ledger) == [
        (
            "guideline.published",
            first.id,
            "lead:carol",
            {
                "project": "support-intent",
                "version": 1,
                "parent_id": None,
                "content_hash": first.content_hash,
                "changelog": "first version",
                "prompted_by": None,
            },
        ),
        (
            "guideline.published",
            second.id,
            "lead:carol",
            {
                "project": "support-intent",
                "version": 2,
                "parent_id": first.id,
                "content_hash": second.content_hash,
                "changelog": "shorter",
                "prompted_by": "gate-7",
            },
        ),
    ]


def test_publish_identical_content_is_a_no_op(ledger):
    first, _ = _publish(ledger, _doc())

    again, is_new = _publish(ledger, _doc(changelog="re-run", prompted_by="gate-1"))

    assert is_new is False
    assert again.id == first.id
    assert _counts(ledger) == (1, 1)


def test_projects_number_their_versions_independently(ledger):
    _publish(ledger, _doc())
    other, _ = _publish(ledger, _doc(project="toxicity"))

    assert (other.version, other.parent_id) == (1, None)


def test_draft_then_approve_publishes_it(ledger):
    first, _ = _publish(ledger, _doc())
    draft, is_new = _publish(ledger, _doc(instructions="New wording."), status="draft")

    with ledger.reader() as session:
        in_force_before = get_guideline(session=session, project="support-intent")
    with ledger.session() as session:
        approved = approve_draft(session=session, guideline_id=draft.id, actor="lead:dan")
    with ledger.reader() as session:
        in_force_after = get_guideline(session=session, project="support-intent")

    assert (is_new, draft.version, draft.parent_id) == (True, 2, first.id)
    assert in_force_before.version == 1
    assert (approved.status, in_force_after.version) == ("published", 2)
    assert [(a, s, actor) for a, s, actor, _ in _events(ledger)] == [
        ("guideline.published", first.id, "lead:carol"),
        ("guideline.drafted", draft.id, "lead:carol"),
        ("guideline.approved", draft.id, "lead:dan"),
    ]
    assert _events(ledger)[2][3] == {"project": "support-intent", "version": 2}
    with ledger.reader() as session:
        assert verify_chain(session=session).is_intact


def test_approve_a_published_version_is_an_input_error(ledger):
    first, _ = _publish(ledger, _doc())

    with pytest.raises(InputError) as raised, ledger.session() as session:
        approve_draft(session=session, guideline_id=first.id, actor="lead:dan")

    assert str(raised.value) == "guideline support-intent v1 is already published"
    assert _counts(ledger) == (1, 1)


def test_approve_unknown_id_is_not_found(ledger):
    with pytest.raises(NotFound) as raised, ledger.session() as session:
        approve_draft(session=session, guideline_id="gl-nope", actor="lead:dan")

    assert str(raised.value) == "guideline version 'gl-nope' not found"


def test_get_latest_skips_drafts_and_explicit_version_returns_any(ledger):
    _publish(ledger, _doc())
    _publish(ledger, _doc(instructions="Second."))
    _publish(ledger, _doc(instructions="Third, still a draft."), status="draft")

    with ledger.reader() as session:
        latest = get_guideline(session=session, project="support-intent")
        draft = get_guideline(session=session, project="support-intent", version=3)

    assert (latest.version, latest.text) == (2, "Second.")
    assert (draft.version, draft.status) == (3, "draft")


def test_get_missing_guidelines_is_not_found_with_a_hint(ledger):
    with ledger.reader() as session, pytest.raises(NotFound) as no_project:
        get_guideline(session=session, project="nope")
    _publish(ledger, _doc(), status="draft")
    with ledger.reader() as session, pytest.raises(NotFound) as only_drafts:
        get_guideline(session=session, project="support-intent")
    with ledger.reader() as session, pytest.raises(NotFound) as no_version:
        get_guideline(session=session, project="support-intent", version=5)

    assert str(no_project.value) == (
        "guideline project 'nope' not found "
        "(publish one with `govflow guidelines publish nope FILE`)"
    )
    assert str(only_drafts.value) == (
        "published guideline 'support-intent' not found "
        "(support-intent has only drafts so far (v1-v1); approve one first)"
    )
    assert str(no_version.value) == ("guideline 'support-intent v5' not found (the latest is v1)")


def test_unknown_status_is_an_input_error(ledger):
    with pytest.raises(InputError) as raised, ledger.session() as session:
        publish_guideline(session=session, document=_doc(), actor="x", status="final")

    assert str(raised.value) == "unknown guideline status 'final' (use 'published' or 'draft')"


def test_load_reads_yaml_and_json(tmp_path):
    data = BASE | {"ordinal": False, "prompted_by": "  "}

    from_yaml = load_guideline_document(_write(tmp_path, data))
    from_json = load_guideline_document(_write(tmp_path, data, name="guide.json"))

    assert from_yaml == from_json
    assert from_yaml.prompted_by is None
    assert from_yaml.examples[0].note is None


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"examples": [{"text": "t", "label": "billing"}, {"text": "u", "label": "refund"}]},
            "examples[1].label: 'refund' is not in label_set",
        ),
        ({"label_set": ["bug", "billing", "bug"]}, "label_set: duplicate labels: bug"),
        ({"label_set": ["billing"], "examples": []}, "label_set: needs at least 2 labels, got 1"),
        ({"label_set": ["billing", " "]}, "label_set: labels cannot be empty"),
        ({"changelog": "  "}, "changelog: cannot be empty"),
        ({"instructions": ""}, "instructions: cannot be empty"),
        ({"project": "support intent"}, "project: use 1-200 letters, digits, '.', '_' or '-'"),
        ({"labels": ["a", "b"]}, "labels: Extra inputs are not permitted"),
    ],
)
def test_load_rejects_invalid_documents_naming_file_and_field(tmp_path, changes, problem):
    path = _write(tmp_path, BASE | changes)

    with pytest.raises(InputError) as raised:
        load_guideline_document(path)

    assert str(raised.value) == f"{path}: invalid guideline: {problem}"


def test_load_reports_missing_and_malformed_files(tmp_path):
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("project: [unclosed\n")
    a_list = tmp_path / "list.json"
    a_list.write_text("[1, 2]")

    messages = []
    for path in (tmp_path / "missing.yaml", tmp_path / "guide.txt", bad_yaml, a_list):
        with pytest.raises(InputError) as raised:
            load_guideline_document(path)
        messages.append(str(raised.value))

    assert messages[0] == f"{tmp_path}/missing.yaml: guideline file not found"
    assert messages[1] == (
        f"{tmp_path}/guide.txt: unsupported guideline file type '.txt' (use .yaml, .yml or .json)"
    )
    assert messages[2].startswith(f"{bad_yaml}: not valid YAML at line 2: ")
    assert messages[3] == f"{a_list}: expected a mapping of guideline fields at the top level"


def test_diff_lists_label_instruction_and_example_changes(ledger):
    old, _ = _publish(
        ledger,
        _doc(
            label_set=["low", "mid", "high"],
            instructions="Rate the severity.\nWhen unsure, pick mid.",
            examples=[{"text": "Down for all", "label": "high"}],
        ),
    )
    new, _ = _publish(
        ledger,
        _doc(
            label_set=["low", "high", "mid", "critical"],
            ordinal=True,
            instructions="Rate the severity.\nWhen unsure, pick low.",
            examples=[
                {"text": "Down for all", "label": "critical", "note": "outage"},
                {"text": "Typo", "label": "low"},
            ],
            changelog="add critical for outages",
        ),
    )

    assert diff_guidelines(old, new) == textwrap.dedent(
        """\
        support-intent v1 -> v2
        labels added: critical
        scale order: low < mid < high -> low < high < mid
        ordinal: no -> yes
        instructions:
        --- v1
        +++ v2
        @@ -1,2 +1,2 @@
         Rate the severity.
        -When unsure, pick mid.
        +When unsure, pick low.
        examples added:
          + critical: "Down for all" (outage)
          + low: "Typo"
        examples removed:
          - high: "Down for all"
        changelog v2: add critical for outages"""
    )


def test_diff_without_content_changes_says_so(ledger):
    first, _ = _publish(ledger, _doc())

    assert diff_guidelines(first, first) == (
        "support-intent v1 -> v1\n"
        "no changes to labels, instructions or examples\n"
        "changelog v1: first version"
    )


PUBLISHER = textwrap.dedent(
    """
    import sys
    from govflow.ledger.engine import Ledger
    from govflow.ledger.guidelines import GuidelineDocument, publish_guideline

    url, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ledger = Ledger.open(url)
    for index in range(count):
        document = GuidelineDocument(
            project="support-intent",
            label_set=["billing", "bug"],
            instructions=f"{name} wording {index}",
            changelog=f"{name} {index}",
        )
        with ledger.session() as session:
            publish_guideline(session=session, document=document, actor=name)
    """
)


def test_concurrent_publishers_take_distinct_consecutive_versions(ledger):
    per_writer = 15
    writers = [
        subprocess.Popen([sys.executable, "-c", PUBLISHER, ledger.url, name, str(per_writer)])
        for name in ("lead-a", "lead-b")
    ]
    assert [w.wait(timeout=240) for w in writers] == [0, 0]

    rows = _rows(ledger)

    assert [r.version for r in rows] == list(range(1, 2 * per_writer + 1))
    assert [r.parent_id for r in rows] == [None, *(r.id for r in rows[:-1])]
    assert {r.created_by for r in rows} == {"lead-a", "lead-b"}
    assert _counts(ledger) == (2 * per_writer, 2 * per_writer)
