"""Count what a ledger stores now that version rows live in snapshots."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import func, select

from govflow.ledger.datasets import count_items
from govflow.ledger.models import DatasetVersion


def snapshot_files(store: str | Path | None = None) -> int:
    """Count the published snapshot files in a local store (scratch files excluded)."""
    root = Path(store or os.environ["GOVFLOW_SNAPSHOT_URL"])
    if not root.exists():
        return 0
    return sum(1 for path in root.glob("*/*.parquet") if path.parent.name != ".tmp")


def stored_counts(session) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Return distinct stored items and the version rows summed over every version."""
    return {
        "items": count_items(session=session),
        "version_rows": session.scalar(
            select(func.coalesce(func.sum(DatasetVersion.row_count), 0))
        ),
    }
