"""Gold answers from a file: ``{<key field>: value, "label": L}`` per JSONL line."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from govflow.errors import InputError

__all__ = ["match_gold", "read_gold_file"]


def read_gold_file(path: str | Path, key_field: str) -> list[tuple[str, str]]:
    """Read (key, label) pairs; a missing file or a malformed line is one clear error."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"cannot read gold file {path}: {problem}") from exc
    answers = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            answers.append((str(row[key_field]), str(row["label"])))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(
                f"gold file {path} line {number}: expected {{{key_field!r}: ..., 'label': ...}}"
            ) from exc
    return answers


def match_gold(
    answers: list[tuple[str, str]], items_by_key: Mapping[str, str], *, path: str | Path
) -> list[tuple[str, str]]:
    """Turn (key, label) answers into (item hash, label); every key must name an item."""
    unknown = [key for key, _ in answers if key not in items_by_key]
    if unknown:
        shown = ", ".join(unknown[:5]) + (
            f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else ""
        )
        raise InputError(f"gold file {path} names records not in the version: {shown}")
    return [(items_by_key[key], label) for key, label in answers]
