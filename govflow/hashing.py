"""Canonical serialization and content hashes used for every content-addressed key."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

GENESIS_HASH = "0" * 64


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return canonical_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot serialize {type(value).__name__} canonically")


def canonical_json(value: Any) -> str:
    """Serialize ``value`` deterministically: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_default,
        allow_nan=False,
    )


def sha256_text(text: str) -> str:
    """Return the hex SHA-256 of ``text`` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(value: Any) -> str:
    """Return the hex SHA-256 of the canonical JSON of ``value``."""
    return sha256_text(canonical_json(value))


def combine_hashes(hashes: Iterable[str]) -> str:
    """Hash an ordered sequence of hex digests into one digest."""
    digest = hashlib.sha256()
    for item in hashes:
        digest.update(item.encode("ascii"))
        digest.update(b"\n")
    return digest.hexdigest()


def canonical_time(value: datetime) -> str:
    """Format a timestamp as UTC ISO-8601 with microseconds; naive values are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def clean_record(record: dict[str, Any]) -> dict[str, Any]:
    """Replace float NaN (pandas' missing value) with None so records hash canonically."""
    return {
        key: (None if isinstance(val, float) and math.isnan(val) else val)
        for key, val in record.items()
    }
