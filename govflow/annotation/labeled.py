"""Build the labeled dataset a round produces, ready for its checkpoint.

Every item of the annotated version becomes one row: the item's own fields plus the label
and how it was reached. Rows whose label was not accepted stay in the frame with a
``label_status`` saying why (excluded by a reviewer, held for re-annotation, no usable
labels), so the checkpoint quarantines them with that reason: rows in = rows passed + rows
quarantined. Derived columns let the suite judge batch properties with plain expectations:
``class_share`` (class balance), ``split_count`` (a text in more than one split is leakage).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from govflow.domain import LabelSource, LabelStatus
from govflow.hashing import content_hash
from govflow.validation.suites import SuiteSpec

__all__ = ["LABEL_SET_PARAMETER", "FinalLabel", "bind_label_set", "labeled_frame", "split_of"]

LABEL_SET_PARAMETER = {"$PARAMETER": "label_set"}


@dataclass(frozen=True)
class FinalLabel:
    """An item's label after people have had their say; ``label`` is None if not accepted."""

    label: str | None
    status: LabelStatus
    source: LabelSource
    decided_by: str | None = None


def split_of(text_key: str, test_fraction: float) -> str:
    """Deterministic split by content: the same text always lands in the same split."""
    return "test" if int(text_key[:8], 16) % 10_000 < round(test_fraction * 10_000) else "train"


def labeled_frame(
    *,
    records: list[dict[str, Any]],
    hashes: list[str],
    final: dict[str, FinalLabel],
    consensus: dict[str, Any],
    guideline_version: int,
    text_field: str,
    test_fraction: float,
) -> pd.DataFrame:
    """Return one row per item with its label, status, provenance and derived checks.

    ``consensus`` maps item hash to an object with ``confidence``, ``agreement`` and
    ``votes``. A ``split`` field already in the record is kept; otherwise the split is
    derived from the text's hash.
    """
    rows = []
    for record, item in zip(records, hashes, strict=True):
        decided = final[item]
        seen = consensus.get(item)
        text = record.get(text_field)
        text_key = content_hash(" ".join(str(text).split()).lower() if text is not None else item)
        row = dict(record)
        row.update(
            {
                "label": decided.label,
                "label_status": decided.status.value,
                "label_source": decided.source.value,
                "decided_by": decided.decided_by,
                "label_confidence": None if seen is None else seen.confidence,
                "agreement": None if seen is None else seen.agreement,
                "n_labels": 0 if seen is None else len(seen.votes),
                "guideline_version": guideline_version,
                "source_item": item,
                "text_key": text_key,
                "split": record.get("split") or split_of(text_key, test_fraction),
            }
        )
        rows.append(row)
    frame = pd.DataFrame.from_records(rows)
    accepted = frame["label_status"] == LabelStatus.ACCEPTED.value
    shares = frame.loc[accepted, "label"].value_counts(normalize=True)
    frame["class_share"] = frame["label"].map(shares).where(accepted).astype("float64")
    frame["split_count"] = frame.groupby("text_key")["split"].transform("nunique").astype("int64")
    return frame


def bind_label_set(suite: SuiteSpec, labels: list[str]) -> SuiteSpec:
    """Put the guideline's label set where the suite names the ``label_set`` parameter.

    The suite file uses Great Expectations' suite-parameter form ``{"$PARAMETER":
    "label_set"}``, so it loads and lints as a normal suite; the bound copy has its own
    content hash, so validation runs of different label sets never share a cache entry.
    """
    text = json.dumps(suite.suite, sort_keys=True)
    marker = json.dumps(LABEL_SET_PARAMETER, sort_keys=True)
    bound = json.loads(text.replace(marker, json.dumps(labels)))
    return suite.model_copy(update={"suite": bound, "content_hash": content_hash(bound)})
