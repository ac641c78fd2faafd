"""Small ticket datasets written to a test's folder, with their dataset config."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

TICKET = {
    "ticket_id": "T00001",
    "text": "hello",
    "channel": "email",
    "created_at": "2026-10-01T10:00:00Z",
}


def ticket(number: int, **overrides) -> dict:
    return (
        TICKET
        | {
            "ticket_id": f"T{number:05d}",
            "text": f"ticket number {number} about an invoice for order {number * 7}",
        }
        | overrides
    )


def write_dataset(
    folder: Path,
    lines: list[str],
    *,
    name: str = "tickets",
    quarantine_threshold: float | None = None,
) -> Path:
    data = folder / "tickets.jsonl"
    data.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    config = folder / "tickets.source.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": name,
                "source": {"kind": "file", "path": "tickets.jsonl"},
                "columns": [
                    {"name": "ticket_id", "type": "string"},
                    {"name": "text", "type": "string", "max_length": 2000},
                    {"name": "channel", "type": "string"},
                    {"name": "created_at", "type": "datetime"},
                ],
                "key": "ticket_id",
                "suites": {
                    "raw": "support_tickets.raw",
                    "preprocessed": "support_tickets.preprocessed",
                },
                "chunk_size": 1000,
            }
            | (
                {}
                if quarantine_threshold is None
                else {"quarantine_threshold": quarantine_threshold}
            )
        )
    )
    return config


def jsonl(records: list[dict]) -> list[str]:
    return [json.dumps(record) for record in records]
