import json
from pathlib import Path

from govflow.hashing import canonical_time, sha256_text
from govflow.ledger.audit import count_events
from govflow.ledger.engine import Ledger
from govflow.ledger.guidelines import list_guidelines

SAMPLE = Path(__file__).resolve().parents[2] / "demo" / "guidelines" / "support-intent.v1.yaml"
V1_ID = "gl-" + sha256_text("support-intent\n1")[:24]
V2_ID = "gl-" + sha256_text("support-intent\n2")[:24]


def _ledger_state(url):
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        rows = list_guidelines(session=session, project="support-intent")
        events = count_events(session=session)
    ledger.dispose()
    return rows, events


def _second_version(tmp_path):
    text = SAMPLE.read_text()
    text = text.replace("feature_request, other]", "feature_request, other, refund]")
    text = text.replace("changelog: first version", "changelog: split refunds from billing")
    path = tmp_path / "support-intent.v2.yaml"
    path.write_text(text)
    return path


def test_publish_twice_writes_one_version(run_cli, govflow_env):
    first = run_cli("guidelines", "publish", "support-intent", str(SAMPLE))
    second = run_cli("guidelines", "publish", "support-intent", str(SAMPLE))

    assert (first.code, first.out, first.err) == (
        0,
        f"published support-intent v1 ({V1_ID})\n",
        "",
    )
    assert (second.code, second.out, second.err) == (
        0,
        "unchanged: support-intent v1 is identical\n",
        "",
    )
    rows, events = _ledger_state(govflow_env["GOVFLOW_DATABASE_URL"])
    assert [(r.id, r.version, r.created_by) for r in rows] == [(V1_ID, 1, "tester")]
    assert events == 1


def test_show_prints_the_latest_published_version(run_cli, govflow_env):
    run_cli("guidelines", "publish", "support-intent", str(SAMPLE))

    result = run_cli("guidelines", "show", "support-intent")

    [row], _ = _ledger_state(govflow_env["GOVFLOW_DATABASE_URL"])
    created = canonical_time(row.created_at)[:19] + "Z"
    assert result.code == 0
    assert result.err == ""
    assert result.out == (
        "project:     support-intent\n"
        "version:     1\n"
        f"id:          {V1_ID}\n"
        "status:      published\n"
        "labels:      billing, bug, account, feature_request, other\n"
        f"created:     {created} by tester\n"
        "changelog:   first version\n"
        "\n"
        "Label each support ticket with the one intent the customer most needs handled.\n"
        "\n"
        "- **billing**: charges, invoices, refunds, payment methods, plans and prices.\n"
        "- **bug**: the product does not work as documented (errors, crashes, wrong results).\n"
        "- **account**: sign-in, passwords, profile, team members and permissions.\n"
        "- **feature_request**: asks for something the product does not do yet.\n"
        "- **other**: none of the above, or too unclear to tell.\n"
        "\n"
        "When a ticket mixes intents, pick the one that blocks the customer. Label the text as\n"
        "written; do not guess from the customer's name or plan.\n"
        "\n"
        "Examples:\n"
        "  [billing] I was charged twice for my March invoice.\n"
        "  [bug] The export button shows an error 500 every time I click it.\n"
        "  [account] I can't log in since I changed my email address.\n"
        "  [feature_request] Could you add a dark mode to the dashboard?\n"
        "  [bug] The app crashes when I open my invoices page.\n"
        "      note: Mentions invoices, but the blocker is the crash.\n"
    )


def test_show_json_and_ordinal_marker(run_cli, tmp_path):
    path = tmp_path / "severity.json"
    path.write_text(
        json.dumps(
            {
                "project": "severity",
                "label_set": ["low", "high"],
                "ordinal": True,
                "instructions": "Rate it.",
                "changelog": "first version",
                "prompted_by": "gate-3",
            }
        )
    )
    run_cli("guidelines", "publish", "severity", str(path))

    shown = run_cli("guidelines", "show", "severity")
    as_json = json.loads(run_cli("guidelines", "show", "severity", "--json").out)

    lines = shown.out.splitlines()
    assert lines[4] == "labels:      low, high (ordinal)"
    assert lines[6:8] == ["prompted by: gate-3", "changelog:   first version"]
    assert shown.out.endswith("changelog:   first version\n\nRate it.\n")
    assert {k: v for k, v in as_json.items() if k not in {"created_at", "content_hash"}} == {
        "id": "gl-" + sha256_text("severity\n1")[:24],
        "project": "severity",
        "version": 1,
        "status": "published",
        "label_set": ["low", "high"],
        "ordinal": True,
        "instructions": "Rate it.",
        "examples": [],
        "changelog": "first version",
        "prompted_by": "gate-3",
        "parent_id": None,
        "created_by": "tester",
    }


def test_diff_shows_what_changed_between_versions(run_cli, tmp_path):
    run_cli("guidelines", "publish", "support-intent", str(SAMPLE))
    published = run_cli("guidelines", "publish", "support-intent", str(_second_version(tmp_path)))

    result = run_cli("guidelines", "diff", "support-intent", "1", "2")

    assert published.out == f"published support-intent v2 ({V2_ID})\n"
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "support-intent v1 -> v2\nlabels added: refund\nchangelog v2: split refunds from billing\n"
    )


def test_unknown_project_is_exit_4(run_cli):
    shown = run_cli("guidelines", "show", "nope")
    diffed = run_cli("guidelines", "diff", "nope", "1", "2")

    for result in (shown, diffed):
        assert result.code == 4
        assert result.out == ""
        assert result.err == (
            "Error: guideline project 'nope' not found "
            "(publish one with `govflow guidelines publish nope FILE`)\n"
        )


def test_unknown_version_is_exit_4(run_cli):
    run_cli("guidelines", "publish", "support-intent", str(SAMPLE))

    result = run_cli("guidelines", "show", "support-intent", "--version", "3")

    assert (result.code, result.out) == (4, "")
    assert result.err == "Error: guideline 'support-intent v3' not found (the latest is v1)\n"


def test_project_mismatch_is_exit_2_and_writes_nothing(run_cli, govflow_env):
    result = run_cli("guidelines", "publish", "toxicity", str(SAMPLE))

    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"Error: {SAMPLE}: the guideline is for project 'support-intent', not 'toxicity'\n"
    )
    assert _ledger_state(govflow_env["GOVFLOW_DATABASE_URL"]) == ([], 0)


def test_invalid_file_is_exit_2(run_cli, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "project: p\nlabel_set: [a, b]\ninstructions: x\nchangelog: y\n"
        "examples:\n  - {text: t, label: c}\n"
    )

    result = run_cli("guidelines", "publish", "p", str(path))

    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"Error: {path}: invalid guideline: examples[0].label: 'c' is not in label_set\n"
    )


def test_every_command_has_help_with_an_example(run_cli):
    for command in ("show", "diff", "publish"):
        result = run_cli("guidelines", command, "--help")

        assert result.code == 0
        assert f"Example: govflow guidelines {command} " in result.out
