"""Reading a label and its confidence out of a chat model's answer.

An answer counts only when it is exactly one of the labels (case-insensitive, surrounding
whitespace, punctuation, quotes and a Markdown code fence ignored) or a JSON object
``{"label": "<label>"}``. Anything else ("I think it is spam") is unparseable: guessing a
label out of free text would turn a model's failure into a silent wrong answer.

Confidence is ``exp`` of the summed log-probabilities of the answer tokens that overlap
the label's characters: the probability the model gave to spelling out this label at
that place, with the prompt and any preceding JSON syntax as given. A token that straddles
the label's edge (a leading space, a closing quote) is counted whole. Missing logprobs,
or tokens that do not add up to the answer text, give NaN (missing), never a guess.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ParsedLabel", "label_confidence", "parse_label"]

_EDGE = " \t\r\n\"'`.,;:!?*()[]<>"
_FENCE = re.compile(r"^\s*```[A-Za-z]*\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)
_JSON_LABEL = re.compile(r'"label"\s*:\s*"')


@dataclass(frozen=True)
class ParsedLabel:
    """The label found and the character span ``[start, end)`` it occupies in the answer."""

    label: str
    start: int
    end: int


def _bare(content: str, start: int, lookup: dict[str, str]) -> ParsedLabel | None:
    core = content.strip(_EDGE)
    label = lookup.get(core.casefold())
    if label is None:
        return None
    lead = start + len(content) - len(content.lstrip(_EDGE))
    return ParsedLabel(label=label, start=lead, end=lead + len(core))


def _json(content: str, start: int, lookup: dict[str, str]) -> ParsedLabel | None:
    try:
        value = json.loads(content)
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("label"), str):
        return None
    label = lookup.get(value["label"].strip().casefold())
    if label is None:
        return None
    match = _JSON_LABEL.search(content)
    if match is None:  # e.g. an escaped key; the label stands, its span is unknown
        return ParsedLabel(label=label, start=-1, end=-1)
    end = match.end()
    while end < len(content) and not (content[end] == '"' and content[end - 1] != "\\"):
        end += 1
    return ParsedLabel(label=label, start=start + match.end(), end=start + end)


def parse_label(content: str, label_set: Sequence[str]) -> ParsedLabel | None:
    """Return the label ``content`` answers with, or None when it is unparseable."""
    lookup = {label.casefold(): label for label in label_set}
    offset = 0
    fenced = _FENCE.match(content)
    if fenced:
        offset = fenced.start(1)
        content = fenced.group(1)
    return _bare(content, offset, lookup) or _json(
        content.strip(), offset + _lstrip(content), lookup
    )


def _lstrip(text: str) -> int:
    return len(text) - len(text.lstrip())


def label_confidence(content: str, parsed: ParsedLabel, tokens: Any) -> float:
    """Return the label's probability from OpenAI-style ``logprobs.content`` tokens, or NaN."""
    if parsed.start < 0 or not isinstance(tokens, list) or not tokens:
        return math.nan
    pieces = []
    for token in tokens:
        if not isinstance(token, dict) or not isinstance(token.get("token"), str):
            return math.nan
        logprob = token.get("logprob")
        if not isinstance(logprob, int | float) or isinstance(logprob, bool):
            return math.nan
        pieces.append((token["token"], float(logprob)))
    joined = "".join(piece for piece, _ in pieces)
    # Some servers trim the content but not the tokens: align the content inside them.
    shift = joined.find(content)
    if shift < 0:
        return math.nan
    start, end = parsed.start + shift, parsed.end + shift
    total, position, used = 0.0, 0, 0
    for piece, logprob in pieces:
        if position < end and position + len(piece) > start:
            total += logprob
            used += 1
        position += len(piece)
    if used == 0 or not math.isfinite(total):
        return math.nan
    return min(1.0, math.exp(total))
