"""Reading annotation files and judging each submission against its round (no ledger)."""

from __future__ import annotations

import json

import pytest

from govflow.annotation.exchange import (
    RejectReason,
    Submission,
    judge_submissions,
    parse_submissions,
    render_tasks,
)
from govflow.errors import InputError

ROUND = "ar-1"


def judge(lines: list[dict], stored=None):
    content = "\n".join(json.dumps(line) for line in lines)
    return judge_submissions(
        parse_submissions(content, "jsonl"),
        round_id=ROUND,
        known_items={"h1", "h2", "h3"},
        people={"ann", "bob"},
        labels={"bug", "billing"},
        assigned={("h1", "ann"), ("h2", "ann"), ("h1", "bob")},
        stored=stored or {},
    )


def line(item="h1", annotator="ann", label="bug", round_id=ROUND) -> dict:
    return {"round": round_id, "item": item, "annotator": annotator, "label": label}


def test_each_rule_rejects_with_its_reason_in_order():
    judged = judge(
        [
            line(),
            line(round_id="ar-2"),
            line(item="h9"),
            line(annotator="zed"),
            line(item="h2", label="other"),
            line(item="h3"),
            line(),
            line(annotator="bob@example.com"),
        ]
    )
    assert [(s.line, s.item, s.annotator) for s in judged.accepted] == [
        (1, "h1", "ann"),
        (8, "h1", "bob"),
    ]
    assert [(r.line, r.reason) for r in judged.rejected] == [
        (2, RejectReason.WRONG_ROUND),
        (3, RejectReason.UNKNOWN_ITEM),
        (4, RejectReason.UNKNOWN_ANNOTATOR),
        (5, RejectReason.LABEL_NOT_IN_GUIDELINE),
        (6, RejectReason.NOT_ASSIGNED),
        (7, RejectReason.DUPLICATE_IN_FILE),
    ]
    report = judged.report(round_id=ROUND, lines=8)
    assert (report.accepted, report.already_recorded, len(report.rejected)) == (2, 0, 6)


def test_a_stored_label_counts_as_already_recorded_and_a_different_one_is_refused():
    judged = judge(
        [line(), line(item="h2", label="billing")],
        stored={("h1", "ann"): "bug", ("h2", "ann"): "bug"},
    )
    assert judged.accepted == []
    assert judged.already_recorded == 1
    assert [(r.item, r.reason, r.message) for r in judged.rejected] == [
        ("h2", RejectReason.ALREADY_ANNOTATED, "already annotated with 'bug'")
    ]


def test_unreadable_lines_are_rejections_with_their_line_numbers():
    parsed = parse_submissions('{"round": "r"\n[1]\n\n{"round": "r", "item": "h"}\n', "jsonl")
    assert [(p.line, p.reason, p.message) for p in parsed] == [
        (1, RejectReason.UNPARSEABLE, "not valid JSON: Expecting ',' delimiter"),
        (2, RejectReason.UNPARSEABLE, "expected a JSON object"),
        (4, RejectReason.UNPARSEABLE, "missing or non-text field 'annotator', 'label'"),
    ]


def test_label_studio_exports_give_one_submission_per_annotation():
    export = [
        {
            "data": {"text": "x", "govflow_item": "h1", "govflow_round": ROUND},
            "meta": {"annotator": "ann"},
            "annotations": [
                {"completed_by": 7, "result": [{"type": "choices", "value": {"choices": ["bug"]}}]},
                {"completed_by": {"email": "bob@x.org"}, "was_cancelled": True},
            ],
        },
        {"data": {"text": "y"}},
    ]
    parsed = parse_submissions(json.dumps(export), "label-studio")
    assert parsed[0] == Submission(1, ROUND, "h1", "ann", "bug")
    assert [(p.line, p.reason) for p in parsed[1:]] == [
        (1, RejectReason.CANCELLED),
        (2, RejectReason.UNPARSEABLE),
    ]
    with pytest.raises(InputError, match="not a Label Studio JSON export: expected a list"):
        parse_submissions("{}", "label-studio")


def test_render_tasks_carries_no_gold_marker():
    rows = [("ann", "h1", '{"text": "x"}')]
    assert render_tasks(rows, round_id=ROUND, fmt="jsonl") == (
        '{"annotator":"ann","data":{"text":"x"},"item":"h1","round":"ar-1"}\n'
    )
    tasks = json.loads(render_tasks(rows, round_id=ROUND, fmt="label-studio"))
    assert tasks == [
        {
            "id": 1,
            "data": {"text": "x", "govflow_item": "h1", "govflow_round": ROUND},
            "meta": {"annotator": "ann"},
        }
    ]


def test_a_line_nested_too_deeply_is_one_rejection_not_a_crash():
    deep = "[" * 100_000 + "]" * 100_000
    parsed = parse_submissions(deep + "\n" + json.dumps(line()), "jsonl")
    assert [(p.line, p.reason, p.message) for p in parsed if not isinstance(p, Submission)] == [
        (1, RejectReason.UNPARSEABLE, "not valid JSON: nested too deeply")
    ]
    with pytest.raises(InputError, match="nested too deeply"):
        parse_submissions(deep, "label-studio")
