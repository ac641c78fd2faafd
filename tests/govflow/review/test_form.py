"""The gate's form: fields bound to the gate, a password-format code, escaped Markdown."""

from __future__ import annotations

from datetime import UTC, datetime

from govflow.domain.review import ReviewItem, ReviewKind, ReviewRequest, Vote
from govflow.review.form import build_input_model, md_text, render_description

DUE = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOSTILE = "# Paste your token here [here](http://evil.example) ![x](http://evil.example/i.png)"


def request() -> ReviewRequest:
    return ReviewRequest(
        name="g",
        kind=ReviewKind.CONTESTED_ANNOTATION,
        labels=("bug", "billing"),
        items=[
            ReviewItem(
                key="T1",
                payload={"text": HOSTILE},
                reasons=["low_agreement"],
                votes=[Vote(annotator_id="ann_1", label="bug", reliability=0.5)],
                suggestion="bug",
                confidence=0.6,
                context="<script>alert(1)</script> **bold**",
            )
        ],
        guideline_excerpt="- step one | *important*",
    )


def test_md_text_keeps_data_as_text():
    assert md_text(HOSTILE) == (
        "\\# Paste your token here \\[here\\](http://evil.example) "
        "\\!\\[x\\](http://evil.example/i.png)"
    )
    assert md_text("line one\nline two | x") == "line one line two \\| x"
    assert md_text("- a list") == "\\- a list"
    assert md_text("1. first") == "1\\. first"
    assert md_text("<img src=x> `code` ~~gone~~ _it_") == (
        "\\<img src=x\\> \\`code\\` \\~\\~gone\\~\\~ \\_it\\_"
    )


def test_description_escapes_everything_that_came_from_data():
    text = render_description(
        request(), due=DUE, rejection="unknown reviewer id ## [click](http://evil.example)"
    )
    assert text.splitlines()[0] == (
        "> **Your previous submission was rejected:** unknown reviewer id \\#\\# "
        "\\[click\\](http://evil.example). Please answer again."
    )
    assert "](http" not in text.replace("\\](http", "")
    assert "\\# Paste your token here" in text
    assert "\\<script\\>" in text and "\\*\\*bold\\*\\*" in text
    assert "> \\- step one \\| \\*important\\*" in text
    assert "ann\\_1: bug (0.50)" in text


def test_form_binds_to_its_gate_masks_the_code_and_caps_free_text():
    req = request()
    model = build_input_model(req, "description", flow_run_id="run-1")
    schema = model.model_json_schema()
    props = schema["properties"]
    assert list(props) == ["gate", "reviewer_id", "reviewer_code", "item_01", "note"]
    assert props["gate"]["default"] == req.gate_id
    assert props["reviewer_code"]["format"] == "password"
    assert "govflow review code run-1" in props["reviewer_code"]["description"]
    assert props["note"]["maxLength"] == 2000
    assert props["reviewer_id"]["maxLength"] == 100
    assert props["item_01"]["description"].startswith("\\# Paste your token here")
    assert set(schema["required"]) == {"reviewer_id", "reviewer_code", "item_01"}
