"""The long-table label representation shared by the agreement and aggregation modules.

A ``LabelMatrix`` is three equal-length integer arrays, one row per label given:
``item_idx`` (0..n_items-1), ``annotator_idx`` (0..n_annotators-1) and ``label_idx``
(0..n_labels-1). A missing label is an absent row; an (item, annotator) pair appears at
most once. The label index order is the label order used by ordinal metrics.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

IntArray = npt.NDArray[np.int64]

# How many offending values an error message quotes before summarising the rest.
_MAX_QUOTED = 5


def _quote(values: Sequence[Any]) -> str:
    shown = ", ".join(repr(v) for v in values[:_MAX_QUOTED])
    more = len(values) - _MAX_QUOTED
    return f"{shown} (and {more} more)" if more > 0 else shown


def _as_series(values: npt.ArrayLike) -> pd.Series:
    # Lists go through pandas' own inference: numpy would turn [1, "a"] into strings.
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    if isinstance(values, np.ndarray):
        return pd.Series(values)
    return pd.Series(list(values))  # type: ignore[arg-type]


def _frozen_index(name: str, values: npt.ArrayLike, size: int) -> IntArray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, got dtype {array.dtype}")
    array = array.astype(np.int64, copy=True)
    if array.size and (array.min() < 0 or array.max() >= size):
        bad = array[(array < 0) | (array >= size)]
        raise ValueError(f"{name} values must be in 0..{size - 1}, got {_quote(bad.tolist())}")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class LabelMatrix:
    """Labels as a long table of (item, annotator, label) index triples.

    The arrays are copied to int64 and made read-only on construction. ``item_ids``,
    ``annotator_ids`` and ``label_names``, when given, map each index back to its name.
    """

    item_idx: IntArray
    annotator_idx: IntArray
    label_idx: IntArray
    n_items: int
    n_annotators: int
    n_labels: int
    # Kept out of the repr: a matrix can name hundreds of thousands of items.
    item_ids: tuple[Hashable, ...] | None = field(default=None, repr=False)
    annotator_ids: tuple[Hashable, ...] | None = field(default=None, repr=False)
    label_names: tuple[Hashable, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("n_items", "n_annotators", "n_labels"):
            value = getattr(self, name)
            if int(value) != value or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
            object.__setattr__(self, name, int(value))
        items = _frozen_index("item_idx", self.item_idx, self.n_items)
        annotators = _frozen_index("annotator_idx", self.annotator_idx, self.n_annotators)
        labels = _frozen_index("label_idx", self.label_idx, self.n_labels)
        if not items.size == annotators.size == labels.size:
            raise ValueError(
                "item_idx, annotator_idx and label_idx must have the same length, got "
                f"{items.size}, {annotators.size} and {labels.size}"
            )
        for name, size in (
            ("item_ids", self.n_items),
            ("annotator_ids", self.n_annotators),
            ("label_names", self.n_labels),
        ):
            names = getattr(self, name)
            if names is None:
                continue
            names = tuple(names)
            if len(names) != size:
                raise ValueError(f"{name} has {len(names)} entries, expected {size}")
            object.__setattr__(self, name, names)
        object.__setattr__(self, "item_idx", items)
        object.__setattr__(self, "annotator_idx", annotators)
        object.__setattr__(self, "label_idx", labels)
        self._reject_duplicates()

    def _reject_duplicates(self) -> None:
        keys = self.item_idx * self.n_annotators + self.annotator_idx
        n_cells = self.n_items * self.n_annotators
        # A dense tally is linear time; sort instead when the cells would dwarf the rows.
        if n_cells <= 4 * keys.size + 1024:
            tally = np.bincount(keys, minlength=n_cells)
            if tally.max(initial=0) < 2:
                return
            duplicated = np.flatnonzero(tally > 1)
        else:
            ordered = np.sort(keys)
            duplicated = np.unique(ordered[1:][np.diff(ordered) == 0])
            if not duplicated.size:
                return
        n_pairs = duplicated.size
        item, annotator = (int(x) for x in divmod(duplicated[0], self.n_annotators))
        item_name = self.item_ids[item] if self.item_ids is not None else item
        annotator_name = (
            self.annotator_ids[annotator] if self.annotator_ids is not None else annotator
        )
        raise ValueError(
            f"duplicate (item, annotator) pair: item {item_name!r} is labelled more than once "
            f"by annotator {annotator_name!r} ({n_pairs} duplicated pair(s) in total)"
        )

    @property
    def n_rows(self) -> int:
        """Return the number of labels given (rows of the long table)."""
        return int(self.item_idx.size)

    def counts(self) -> npt.NDArray[np.int64]:
        """Return the (n_items, n_labels) matrix of how many annotators gave each label."""
        flat = np.bincount(
            self.item_idx * self.n_labels + self.label_idx,
            minlength=self.n_items * self.n_labels,
        )
        return flat.reshape(self.n_items, self.n_labels)

    def labels_per_item(self) -> npt.NDArray[np.int64]:
        """Return how many labels each item received."""
        return np.bincount(self.item_idx, minlength=self.n_items)

    @classmethod
    def from_records(
        cls,
        items: npt.ArrayLike,
        annotators: npt.ArrayLike,
        labels: npt.ArrayLike,
        label_set: Sequence[Hashable] | None = None,
    ) -> LabelMatrix:
        """Build a label matrix from parallel sequences of item ids, annotator ids and labels.

        Items and annotators are indexed in order of first appearance. Labels are indexed by
        their position in ``label_set`` when given (so its order is the ordinal order and
        unused labels still count towards ``n_labels``), else by sorted unique value.
        """
        item_values = _as_series(items)
        annotator_values = _as_series(annotators)
        label_values = _as_series(labels)
        lengths = {len(item_values), len(annotator_values), len(label_values)}
        if len(lengths) != 1:
            raise ValueError(
                "items, annotators and labels must have the same length, got "
                f"{len(item_values)}, {len(annotator_values)} and {len(label_values)}"
            )
        for name, values in (
            ("items", item_values),
            ("annotators", annotator_values),
            ("labels", label_values),
        ):
            missing = values.isna()
            if missing.any():
                raise ValueError(
                    f"{name} contain {int(missing.sum())} missing value(s), first at row "
                    f"{int(np.flatnonzero(missing.to_numpy())[0])}; drop unlabelled rows instead"
                )
        item_idx, item_ids = pd.factorize(item_values)
        annotator_idx, annotator_ids = pd.factorize(annotator_values)
        if label_set is None:
            label_idx, label_names = pd.factorize(label_values, sort=True)
            names = tuple(label_names)
        else:
            names = tuple(label_set)
            if len(set(names)) != len(names):
                raise ValueError(f"label_set has repeated labels: {list(names)!r}")
            label_idx = pd.Index(names, dtype=object).get_indexer(label_values)
            unknown = label_idx < 0
            if unknown.any():
                bad = pd.unique(label_values[unknown]).tolist()
                raise ValueError(
                    f"label(s) {_quote(bad)} not in label_set {list(names)!r} "
                    f"({int(unknown.sum())} row(s))"
                )
        return cls(
            item_idx=np.asarray(item_idx, dtype=np.int64),
            annotator_idx=np.asarray(annotator_idx, dtype=np.int64),
            label_idx=np.asarray(label_idx, dtype=np.int64),
            n_items=len(item_ids),
            n_annotators=len(annotator_ids),
            n_labels=len(names),
            item_ids=tuple(item_ids),
            annotator_ids=tuple(annotator_ids),
            label_names=names,
        )
