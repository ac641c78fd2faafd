"""The Python adapter: a plain function named ``module:function`` labels batches of texts.

The function takes a list of texts and returns a list of the same length whose items are a
label, a ``(label, confidence)`` pair or a mapping with ``label`` and optional
``confidence``. Loading refuses a missing module, attribute or a non-callable at once
(``InputError``). At prediction time a broken contract costs rows, not the run:

- the function raises, or returns something that is not a list of the right length: every
  row of that batch is an error row with the reason (nothing can be matched to its text);
- one item is malformed, names a label outside the label set or a confidence outside
  [0, 1]: that row is an error row.

So every text gets a row, and an evaluation's error-rate limit decides whether the run
fails, as it does for the HTTP adapter.
"""

from __future__ import annotations

import importlib
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from govflow.errors import InputError
from govflow.models.predictions import AdapterInfo, Predictions, RowResult
from govflow.models.spec import PythonSpec

__all__ = ["ADAPTER_VERSION", "PythonFunctionAdapter", "load_entrypoint"]

ADAPTER_VERSION = "1"


def load_entrypoint(entrypoint: str) -> Callable[..., Any]:
    """Import ``module:attr.path`` and return the callable it names."""
    module_name, sep, attr_path = entrypoint.partition(":")
    if not sep or not module_name or not attr_path:
        raise InputError(f"python model entrypoint {entrypoint!r} is not 'module:function'")
    try:
        target: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise InputError(
            f"python model {entrypoint!r}: module {module_name!r} cannot be imported: {exc}"
        ) from exc
    except Exception as exc:
        raise InputError(
            f"python model {entrypoint!r}: importing {module_name!r} failed with "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    for part in attr_path.split("."):
        if not hasattr(target, part):
            raise InputError(f"python model {entrypoint!r}: {module_name!r} has no {attr_path!r}")
        target = getattr(target, part)
    if not callable(target):
        raise InputError(
            f"python model {entrypoint!r}: {attr_path!r} is not callable ({type(target).__name__})"
        )
    return target


class PythonFunctionAdapter:
    """Calls a Python function once per batch of ``spec.batch_size`` texts."""

    def __init__(self, spec: PythonSpec, *, label_set: Sequence[str]) -> None:
        self._spec = spec
        self._label_set = tuple(label_set)
        self._function = load_entrypoint(spec.entrypoint)

    @property
    def label_set(self) -> tuple[str, ...]:
        return self._label_set

    def describe(self) -> AdapterInfo:
        return AdapterInfo(
            adapter=self._spec.adapter,
            adapter_version=ADAPTER_VERSION,
            params={
                "entrypoint": self._spec.entrypoint,
                "version": self._spec.version,
                "label_set": list(self._label_set),
            },
        )

    def predict(self, texts: Sequence[str]) -> Predictions:
        rows: list[RowResult] = []
        size = self._spec.batch_size
        for start in range(0, len(texts), size):
            rows.extend(self._predict_batch(list(texts[start : start + size])))
        return Predictions.from_rows(rows)

    def _predict_batch(self, batch: list[str]) -> list[RowResult]:
        name = self._spec.entrypoint
        try:
            answers = self._function(batch)
        except Exception as exc:
            reason = f"python model {name} raised {type(exc).__name__}: {exc}"
            return [RowResult.failed(reason)] * len(batch)
        if not isinstance(answers, list | tuple):
            reason = f"python model {name} returned {type(answers).__name__}, not a list"
            return [RowResult.failed(reason)] * len(batch)
        if len(answers) != len(batch):
            reason = f"python model {name} returned {len(answers)} results for {len(batch)} texts"
            return [RowResult.failed(reason)] * len(batch)
        return [self._row(answer) for answer in answers]

    def _row(self, answer: Any) -> RowResult:
        confidence: Any = math.nan
        if isinstance(answer, Mapping):
            label, confidence = answer.get("label"), answer.get("confidence", math.nan)
        elif isinstance(answer, tuple | list) and len(answer) == 2:
            label, confidence = answer
        else:
            label = answer
        if not isinstance(label, str):
            return RowResult.failed(f"python model answer {answer!r} holds no label")
        if label not in self._label_set:
            return RowResult.failed(f"label {label!r} is not in the label set")
        if confidence is None:
            confidence = math.nan
        if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real):
            return RowResult.failed(f"confidence {confidence!r} is not a number")
        confidence = float(confidence)
        if not math.isnan(confidence) and not 0.0 <= confidence <= 1.0:
            return RowResult.failed(f"confidence {confidence} is outside [0, 1]")
        return RowResult(label=label, confidence=confidence)
