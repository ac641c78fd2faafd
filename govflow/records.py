"""Convert between DataFrames and the canonical records stored as ledger items."""

from __future__ import annotations

from typing import Any

import pandas as pd

PROVENANCE_COLUMNS = ("_source_row", "_source_file")


def frame_to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return JSON-safe records (no provenance columns; timestamps as ISO-8601 UTC strings)."""
    data = frame.drop(columns=[c for c in PROVENANCE_COLUMNS if c in frame.columns])
    converted = {}
    for column in data.columns:
        series = data[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            text = series.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            converted[column] = text.astype(object).where(series.notna(), None)
        else:
            converted[column] = series.astype(object).where(series.notna(), None)
    return pd.DataFrame(converted).to_dict(orient="records")


def records_to_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Build a frame from stored records (strings stay strings)."""
    return pd.DataFrame.from_records(records)


def frame_for_validation(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the frame as it will be stored: no provenance columns, timestamps as ISO text.

    Suites judge what the ledger keeps, so a checkpoint sees exactly the stored values.
    """
    data = frame.drop(columns=[c for c in PROVENANCE_COLUMNS if c in frame.columns])
    for column in data.columns:
        series = data[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            text = series.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").astype("string")
            data[column] = text.where(series.notna(), pd.NA)
    return data.reset_index(drop=True)
