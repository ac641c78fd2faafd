"""Exchange formats: annotation tasks out, labels in (parsing and judging; no ledger access).

Formats (``ExchangeFormat``):

- ``jsonl`` export: one ``{"round", "item", "annotator", "data"}`` object per assignment;
  import: one ``{"round", "item", "annotator", "label"}`` object per line.
- ``label-studio`` export: a JSON list of Label Studio tasks (the "Basic Label Studio JSON
  format" of its import page), ``{"id": n, "data": {...payload, "govflow_item": hash,
  "govflow_round": round}, "meta": {"annotator": person}}``; ``data`` keys are the item's
  own fields, so a labeling config refers to them as ``$text`` etc.
- ``label-studio`` import: Label Studio's JSON export, a list of tasks each with
  ``annotations: [{"completed_by": ..., "was_cancelled": ..., "result": [...]}]``. The item
  is ``data.govflow_item``; the label is the single value of the ``choices`` results
  (``{"type": "choices", "value": {"choices": ["bug"]}}``); the annotator is
  ``completed_by`` when it is text or an object with ``email``/``username`` (a full person
  id, else the part before "@"), otherwise the task's ``meta.annotator`` (Label Studio's
  full export gives ``completed_by`` as a numeric user id, which names nobody here).
  Report line numbers count tasks, from 1.

Gold items are marked only in the ledger's assignments: exports carry nothing that tells
gold from regular work.
"""

from __future__ import annotations

import enum
import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from govflow.errors import InputError
from govflow.hashing import canonical_json

__all__ = [
    "ExchangeFormat",
    "ImportReport",
    "Judged",
    "RejectReason",
    "Rejection",
    "Submission",
    "judge_submissions",
    "parse_submissions",
    "quote_some",
    "render_tasks",
    "write_task_files",
]


class ExchangeFormat(enum.StrEnum):
    JSONL = "jsonl"
    LABEL_STUDIO = "label-studio"


class RejectReason(enum.StrEnum):
    UNPARSEABLE = "unparseable"
    CANCELLED = "cancelled"
    WRONG_ROUND = "wrong_round"
    UNKNOWN_ITEM = "unknown_item"
    UNKNOWN_ANNOTATOR = "unknown_annotator"
    LABEL_NOT_IN_GUIDELINE = "label_not_in_guideline"
    NOT_ASSIGNED = "not_assigned"
    DUPLICATE_IN_FILE = "duplicate_in_file"
    ALREADY_ANNOTATED = "already_annotated"


class Rejection(BaseModel):
    """One submission that was not stored, and why (``line``: JSONL line or task number)."""

    line: int
    item: str | None
    annotator: str | None
    reason: RejectReason
    message: str


class ImportReport(BaseModel):
    """What an import did with every submission: ``lines == accepted + already + rejected``."""

    round_id: str
    lines: int
    accepted: int
    already_recorded: int
    rejected: list[Rejection] = Field(default_factory=list)
    rejected_by_reason: dict[str, int] = Field(default_factory=dict)


@dataclass
class Submission:
    """One label as read from a file, before it is judged against the round."""

    line: int
    round_id: str | None
    item: str
    annotator: str
    label: str


def render_tasks(
    rows: Iterable[tuple[str, str, str]], *, round_id: str, fmt: ExchangeFormat | str
) -> str:
    """Render (annotator, item hash, payload JSON) rows as an annotators' task file."""
    fmt = ExchangeFormat(fmt)
    if fmt is ExchangeFormat.JSONL:
        return "".join(
            canonical_json(
                {"round": round_id, "item": h, "annotator": a, "data": json.loads(payload)}
            )
            + "\n"
            for a, h, payload in rows
        )
    tasks = [
        {
            "id": n,
            "data": {**json.loads(payload), "govflow_item": h, "govflow_round": round_id},
            "meta": {"annotator": a},
        }
        for n, (a, h, payload) in enumerate(rows, start=1)
    ]
    return json.dumps(tasks, indent=2, ensure_ascii=False) + "\n"


_SUFFIXES = {ExchangeFormat.JSONL: ".jsonl", ExchangeFormat.LABEL_STUDIO: ".label-studio.json"}


def write_task_files(
    directory: Path, exports: Mapping[str, Mapping[ExchangeFormat, str]]
) -> dict[str, str]:
    """Write each annotator's task files into ``directory``; return their JSONL paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, str] = {}
    for person, texts in exports.items():
        for fmt, text in texts.items():
            (directory / f"{person}{_SUFFIXES[ExchangeFormat(fmt)]}").write_text(
                text, encoding="utf-8"
            )
        paths[person] = str(directory / f"{person}.jsonl")
    return paths


def parse_submissions(content: str, fmt: ExchangeFormat | str) -> list[Submission | Rejection]:
    """Read every submission of a file; rows that cannot be read become rejections."""
    fmt = ExchangeFormat(fmt)
    return _parse_jsonl(content) if fmt is ExchangeFormat.JSONL else _parse_label_studio(content)


@dataclass(frozen=True)
class Judged:
    """Submissions sorted into new labels, labels already stored, and rejections."""

    accepted: list[Submission]
    already_recorded: int
    rejected: list[Rejection]

    def report(self, *, round_id: str, lines: int) -> ImportReport:
        rejected = sorted(self.rejected, key=lambda r: r.line)
        by_reason = Counter(r.reason.value for r in rejected)
        return ImportReport(
            round_id=round_id,
            lines=lines,
            accepted=len(self.accepted),
            already_recorded=self.already_recorded,
            rejected=rejected,
            rejected_by_reason=dict(sorted(by_reason.items())),
        )


def judge_submissions(
    parsed: Sequence[Submission | Rejection],
    *,
    round_id: str,
    known_items: Collection[str],
    people: Collection[str],
    labels: Collection[str],
    assigned: Collection[tuple[str, str]],
    stored: Mapping[tuple[str, str], str],
) -> Judged:
    """Judge each submission against the round: the first broken rule rejects it.

    An annotator written as an e-mail address whose full form names nobody is matched by
    the part before "@". A label equal to the stored one counts as already recorded.
    """
    rejected: list[Rejection] = [p for p in parsed if isinstance(p, Rejection)]
    accepted: list[Submission] = []
    already, seen = 0, set()
    for p in (p for p in parsed if isinstance(p, Submission)):
        if p.annotator not in people and "@" in p.annotator:
            p.annotator = p.annotator.split("@", 1)[0]
        key = (p.item, p.annotator)
        problem: tuple[RejectReason, str] | None = None
        if p.round_id is not None and p.round_id != round_id:
            problem = RejectReason.WRONG_ROUND, f"belongs to round {p.round_id!r}, not {round_id!r}"
        elif p.item not in known_items:
            problem = RejectReason.UNKNOWN_ITEM, "unknown item"
        elif p.annotator not in people:
            problem = RejectReason.UNKNOWN_ANNOTATOR, f"unknown annotator {p.annotator!r}"
        elif p.label not in labels:
            problem = (
                RejectReason.LABEL_NOT_IN_GUIDELINE,
                f"label {p.label!r} is not in the guideline's label set",
            )
        elif key not in assigned:
            problem = RejectReason.NOT_ASSIGNED, f"not assigned to {p.annotator} in this round"
        elif key in seen:
            problem = (
                RejectReason.DUPLICATE_IN_FILE,
                f"duplicate: {p.annotator} already labelled this item earlier in the file",
            )
        elif key in stored and stored[key] != p.label:
            problem = RejectReason.ALREADY_ANNOTATED, f"already annotated with {stored[key]!r}"
        if problem is None or problem[0] is RejectReason.ALREADY_ANNOTATED:
            seen.add(key)
        if problem is not None:
            reason, message = problem
            rejected.append(
                Rejection(
                    line=p.line, item=p.item, annotator=p.annotator, reason=reason, message=message
                )
            )
        elif key in stored:
            already += 1
        else:
            accepted.append(p)
    return Judged(accepted=accepted, already_recorded=already, rejected=rejected)


def quote_some(values: Sequence[str], limit: int = 5) -> str:
    """Quote the first ``limit`` values and say how many more there are."""
    shown = ", ".join(repr(v) for v in values[:limit])
    return f"{shown} (and {len(values) - limit} more)" if len(values) > limit else shown


def _unparseable(line: int, message: str, **known: Any) -> Rejection:
    return Rejection(
        line=line,
        item=known.get("item"),
        annotator=known.get("annotator"),
        reason=RejectReason.UNPARSEABLE,
        message=message,
    )


def _parse_jsonl(content: str) -> list[Submission | Rejection]:
    parsed: list[Submission | Rejection] = []
    for line, text in enumerate(content.splitlines(), start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            parsed.append(_unparseable(line, f"not valid JSON: {exc.msg}"))
            continue
        except RecursionError:
            parsed.append(_unparseable(line, "not valid JSON: nested too deeply"))
            continue
        if not isinstance(row, dict):
            parsed.append(_unparseable(line, "expected a JSON object"))
            continue
        absent = [k for k in ("round", "item", "annotator", "label") if not _text(row.get(k))]
        if absent:
            message = f"missing or non-text field {quote_some(absent)}"
            parsed.append(_unparseable(line, message, item=_text(row.get("item"))))
            continue
        parsed.append(Submission(line, row["round"], row["item"], row["annotator"], row["label"]))
    return parsed


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _ls_annotator(completed_by: Any, meta: Any) -> str | None:
    if isinstance(completed_by, dict):
        completed_by = completed_by.get("email") or completed_by.get("username")
    if _text(completed_by):
        return completed_by
    return _text(meta.get("annotator")) if isinstance(meta, dict) else None


def _parse_label_studio(content: str) -> list[Submission | Rejection]:
    try:
        tasks = json.loads(content)
    except json.JSONDecodeError as exc:
        raise InputError(f"not a Label Studio JSON export: {exc.msg}") from exc
    except RecursionError:
        raise InputError("not a Label Studio JSON export: nested too deeply") from None
    if not isinstance(tasks, list):
        raise InputError("not a Label Studio JSON export: expected a list of tasks")
    parsed: list[Submission | Rejection] = []
    for line, task in enumerate(tasks, start=1):
        data = task.get("data") if isinstance(task, dict) else None
        item = _text(data.get("govflow_item")) if isinstance(data, dict) else None
        if item is None:
            parsed.append(_unparseable(line, "task has no data.govflow_item"))
            continue
        round_id = _text(data.get("govflow_round"))
        for annotation in task.get("annotations") or []:
            if not isinstance(annotation, dict):
                parsed.append(_unparseable(line, "annotation is not an object", item=item))
                continue
            annotator = _ls_annotator(annotation.get("completed_by"), task.get("meta"))
            if annotation.get("was_cancelled"):
                parsed.append(
                    Rejection(
                        line=line,
                        item=item,
                        annotator=annotator,
                        reason=RejectReason.CANCELLED,
                        message="the annotation was cancelled (skipped) in Label Studio",
                    )
                )
                continue
            choices = [
                choice
                for result in annotation.get("result") or []
                if isinstance(result, dict) and result.get("type") == "choices"
                for choice in (result.get("value") or {}).get("choices") or []
            ]
            if annotator is None:
                message = "no annotator: neither completed_by nor meta.annotator names one"
                parsed.append(_unparseable(line, message, item=item))
            elif len(choices) != 1 or not _text(choices[0]):
                message = f"expected exactly one choice, found {len(choices)}"
                parsed.append(_unparseable(line, message, item=item, annotator=annotator))
            else:
                parsed.append(Submission(line, round_id, item, annotator, choices[0]))
    return parsed
