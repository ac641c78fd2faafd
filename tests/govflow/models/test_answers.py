"""Reading labels and logprob confidences out of chat answers."""

from __future__ import annotations

import math

import pytest

from govflow.models.answers import ParsedLabel, label_confidence, parse_label

LABELS = ("positive", "negative", "N/A")


@pytest.mark.parametrize(
    ("content", "label", "span"),
    [
        ("positive", "positive", (0, 8)),
        ("  Negative.\n", "negative", (2, 10)),
        ('"POSITIVE"', "positive", (1, 9)),
        ("**negative**", "negative", (2, 10)),
        ("n/a", "N/A", (0, 3)),
        ('["positive"]', "positive", (2, 10)),
        ('{"label": "negative"}', "negative", (11, 19)),
        ('{"label": " Positive ", "why": "tone"}', "positive", (11, 21)),
        ('```json\n{"label": "positive"}\n```', "positive", (19, 27)),
        ("```\nnegative\n```", "negative", (4, 12)),
    ],
)
def test_parse_label_accepts_a_bare_or_json_label(
    content: str, label: str, span: tuple[int, int]
) -> None:
    assert parse_label(content, LABELS) == ParsedLabel(label=label, start=span[0], end=span[1])


@pytest.mark.parametrize(
    "content",
    [
        "",
        "I think it is positive",
        "positive or negative",
        "neutral",
        '{"label": "neutral"}',
        '{"answer": "positive"}',
        '["positive", "negative"]',
        '{"label": 1}',
        "positive\nnegative",
    ],
)
def test_parse_label_refuses_anything_else(content: str) -> None:
    assert parse_label(content, LABELS) is None


def _tokens(*pairs: tuple[str, float]) -> list[dict]:
    return [
        {"token": t, "logprob": lp, "bytes": list(t.encode()), "top_logprobs": []}
        for t, lp in pairs
    ]


def test_confidence_is_exp_of_the_label_tokens_logprobs() -> None:
    content = "positive"
    parsed = parse_label(content, LABELS)
    assert parsed is not None
    tokens = _tokens(("pos", -0.1), ("itive", -0.2))
    assert label_confidence(content, parsed, tokens) == pytest.approx(math.exp(-0.3), abs=1e-15)


def test_confidence_of_a_json_answer_counts_only_the_label_tokens() -> None:
    content = '{"label": "negative"}'
    parsed = parse_label(content, LABELS)
    assert parsed is not None
    tokens = _tokens(
        ('{"', -0.5), ("label", -0.01), ('":', -0.02), (' "', -0.03), ("neg", -0.4),
        ("ative", -0.05), ('"}', -0.6),
    )  # fmt: skip
    assert label_confidence(content, parsed, tokens) == pytest.approx(math.exp(-0.45), abs=1e-15)


def test_confidence_counts_a_token_straddling_the_label_edge_whole() -> None:
    content = " negative"
    parsed = parse_label(content, LABELS)
    assert parsed is not None
    tokens = _tokens((" neg", -0.25), ("ative", -0.5))
    assert label_confidence(content, parsed, tokens) == pytest.approx(math.exp(-0.75), abs=1e-15)


def test_confidence_aligns_content_trimmed_by_the_server() -> None:
    content = "negative"
    parsed = parse_label(content, LABELS)
    assert parsed is not None
    tokens = _tokens(("\n", -1.0), ("negative", -0.125))
    assert label_confidence(content, parsed, tokens) == pytest.approx(math.exp(-0.125))


@pytest.mark.parametrize(
    "tokens",
    [
        None,
        [],
        "not a list",
        [{"token": "positive"}],
        [{"token": "positive", "logprob": None}],
        [{"token": "positive", "logprob": True}],
        [{"token": "something else", "logprob": -0.1}],
    ],
)
def test_confidence_is_missing_when_tokens_are_absent_or_do_not_fit(tokens: object) -> None:
    parsed = parse_label("positive", LABELS)
    assert parsed is not None
    assert math.isnan(label_confidence("positive", parsed, tokens))
