"""Read inspect_ai eval logs (its JSON log format) as typed evaluation-run records.

Results from inspect_ai enter govflow as evaluation runs with the same sign-off path as
govflow's own. The log is parsed as plain JSON: inspect_ai is not imported (it is a heavy
package and only the test suite installs it, as the oracle that writes real logs).

Only complete runs are imported: a log whose status is ``error``, ``cancelled`` or
``started``, a log without samples, a log missing a field read here, a log in inspect's
binary ``.eval`` format or a file that is not an inspect log at all is one ``InputError``
saying which. Scores are turned into numbers as inspect's ``value_to_float`` does ("C" 1,
"P" 0.5, "I" and "N" 0, booleans, numbers, "yes"/"no"); a value it would not convert
(a list, a dict, free text) keeps its raw form and gets no number, rather than 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govflow.errors import InputError
from govflow.hashing import sha256_text

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["InspectRun", "InspectSample", "inspect_answers", "read_inspect_log", "score_to_float"]

_SUPPORTED_VERSIONS = (2,)
_ATTACHMENT = "attachment://"


@dataclass(frozen=True)
class InspectSample:
    """One scored sample: what went in, what was expected, what the model answered."""

    id: str | int
    epoch: int
    input: str
    target: str | tuple[str, ...]
    answer: str | None
    score: float | None
    score_value: Any
    error: str | None


@dataclass(frozen=True)
class InspectRun:
    """One inspect_ai evaluation run as govflow records it."""

    path: Path
    content_hash: str
    eval_id: str
    run_id: str
    task: str
    model: str
    created: str
    status: str
    dataset_name: str | None
    dataset_location: str | None
    dataset_samples: int | None
    scorer: str
    metrics: Mapping[str, float]
    samples: tuple[InspectSample, ...]


def read_inspect_log(path: str | Path) -> InspectRun:
    """Read one inspect_ai JSON log; raise ``InputError`` unless it is a complete run."""
    path = Path(path).expanduser()
    if path.suffix == ".eval":
        raise InputError(
            f"{path}: inspect's binary .eval log format is not read here",
            hint="run inspect with log_format='json', or convert: inspect log convert --to json",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: inspect log not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read inspect log: {exc}") from exc
    try:
        log = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not an inspect eval log: not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    if not isinstance(log, dict) or not {"version", "status", "eval"} <= log.keys():
        raise InputError(f"{path}: not an inspect eval log (no version, status and eval)")
    if log["version"] not in _SUPPORTED_VERSIONS:
        raise InputError(
            f"{path}: inspect log format version {log['version']!r} is not supported "
            f"(supported: {', '.join(map(str, _SUPPORTED_VERSIONS))})"
        )
    _check_status(path, log)
    field = _Fields(path)
    spec = field.mapping(log, "eval")
    dataset = field.mapping(spec, "dataset", "eval.")
    scores = field.items(field.mapping(log, "results"), "scores", "results.")
    if not scores:
        raise InputError(f"{path}: inspect log has no scorer results (results.scores is empty)")
    scorer = field.text(scores[0], "name", "results.scores[0].")
    raw_samples = log.get("samples")
    if not isinstance(raw_samples, list) or not raw_samples:
        raise InputError(
            f"{path}: inspect log has no samples",
            hint="run inspect with log_samples enabled, its default",
        )
    return InspectRun(
        path=path,
        content_hash=sha256_text(text),
        eval_id=field.text(spec, "eval_id", "eval."),
        run_id=field.text(spec, "run_id", "eval."),
        task=field.text(spec, "task", "eval."),
        model=field.text(spec, "model", "eval."),
        created=field.text(spec, "created", "eval."),
        status=log["status"],
        dataset_name=dataset.get("name"),
        dataset_location=dataset.get("location"),
        dataset_samples=dataset.get("samples"),
        scorer=scorer,
        metrics=_metrics(field, scores),
        samples=tuple(_sample(field, raw, index, scorer) for index, raw in enumerate(raw_samples)),
    )


def inspect_answers(run: InspectRun) -> tuple[list[str], pd.DataFrame]:
    """Return the samples' targets and answers in the shape ``evaluate_suite`` takes.

    So an inspect run meets the same thresholds and verdicts as govflow's own runs: the
    target is the true label, the answer (stripped) the model's label, a sample error the
    adapter error. A sample with several targets is an ``InputError``: a classification
    sample has one label.
    """
    import pandas as pd

    truth: list[str] = []
    for sample in run.samples:
        target = sample.target
        if isinstance(target, tuple):
            if len(target) != 1:
                raise InputError(
                    f"{run.path}: sample {sample.id!r} has {len(target)} targets; "
                    "a classification sample has one"
                )
            target = target[0]
        truth.append(target)
    answers = pd.DataFrame(
        {
            "label": [None if s.answer is None else s.answer.strip() for s in run.samples],
            "confidence": math.nan,
            "error": [s.error for s in run.samples],
        }
    )
    return truth, answers


def score_to_float(value: Any) -> float | None:
    """Map a score value to a number as inspect's ``value_to_float`` does; None if it won't."""
    if isinstance(value, str):
        mapped = {"C": 1.0, "P": 0.5, "I": 0.0, "N": 0.0}.get(value)
        if mapped is not None:
            return mapped
        lowered = value.lower()
        if lowered in ("yes", "true"):
            return 1.0
        if lowered in ("no", "false"):
            return 0.0
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    if isinstance(value, bool | int | float):
        return float(value)
    return None


def _check_status(path: Path, log: dict[str, Any]) -> None:
    status = log["status"]
    if status == "success":
        return
    if status == "error":
        error = log.get("error")
        message = error.get("message") if isinstance(error, dict) else None
        raise InputError(f"{path}: inspect run ended with an error: {message or 'no message'}")
    raise InputError(
        f"{path}: inspect run has status {status!r}: only complete (success) runs are imported"
    )


class _Fields:
    """Read required fields, naming the missing one and the file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _get(self, node: Any, key: str, where: str) -> Any:
        if not isinstance(node, dict) or key not in node or node[key] is None:
            raise InputError(f"{self.path}: inspect log lacks {where}{key}")
        return node[key]

    def mapping(self, node: Any, key: str, where: str = "") -> dict[str, Any]:
        value = self._get(node, key, where)
        if not isinstance(value, dict):
            raise InputError(f"{self.path}: inspect log's {where}{key} is not an object")
        return value

    def items(self, node: Any, key: str, where: str = "") -> list[Any]:
        value = self._get(node, key, where)
        if not isinstance(value, list):
            raise InputError(f"{self.path}: inspect log's {where}{key} is not a list")
        return value

    def text(self, node: Any, key: str, where: str = "") -> str:
        value = self._get(node, key, where)
        if not isinstance(value, str):
            raise InputError(f"{self.path}: inspect log's {where}{key} is not a string")
        return value

    def value(self, node: Any, key: str, where: str = "") -> Any:
        return self._get(node, key, where)


def _metrics(field: _Fields, scores: list[Any]) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for index, score in enumerate(scores):
        name = field.text(score, "name", f"results.scores[{index}].")
        for key, metric in field.mapping(score, "metrics", f"results.scores[{index}].").items():
            value = metric.get("value") if isinstance(metric, dict) else None
            if isinstance(value, int | float) and not isinstance(value, bool):
                metrics[f"{name}/{key}"] = float(value)
    return metrics


def _sample(field: _Fields, raw: Any, index: int, scorer: str) -> InspectSample:
    where = f"samples[{index}]."
    attachments = raw.get("attachments") if isinstance(raw, dict) else None
    attachments = attachments if isinstance(attachments, dict) else {}
    sample_id = field.value(raw, "id", where)
    target = field.value(raw, "target", where)
    error = raw.get("error")
    error_message = error.get("message") if isinstance(error, dict) else None
    scores = raw.get("scores") or {}
    score = scores.get(scorer) if isinstance(scores, dict) else None
    value = score.get("value") if isinstance(score, dict) else None
    answer = score.get("answer") if isinstance(score, dict) else None
    if answer is None and isinstance(raw.get("output"), dict):
        answer = raw["output"].get("completion")
    return InspectSample(
        id=sample_id,
        epoch=int(raw.get("epoch", 1)),
        input=_input_text(field.value(raw, "input", where), attachments),
        target=(
            _resolve(target, attachments)
            if isinstance(target, str)
            else tuple(_resolve(str(t), attachments) for t in target)
        ),
        answer=_resolve(answer, attachments) if isinstance(answer, str) else None,
        score=score_to_float(value) if value is not None else None,
        score_value=value,
        error=error_message,
    )


def _input_text(value: Any, attachments: dict[str, Any]) -> str:
    """Return a sample's input as text: the string, or the user messages' text joined."""
    if isinstance(value, str):
        return _resolve(value, attachments)
    parts = []
    for message in value if isinstance(value, list) else []:
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(_resolve(content, attachments))
        elif isinstance(content, list):
            parts.extend(
                _resolve(item["text"], attachments)
                for item in content
                if isinstance(item, dict) and item.get("type") == "text"
            )
    return "\n".join(parts)


def _resolve(text: str, attachments: dict[str, Any]) -> str:
    """Replace an ``attachment://<id>`` reference (inspect's way of storing long text)."""
    if text.startswith(_ATTACHMENT):
        stored = attachments.get(text.removeprefix(_ATTACHMENT))
        if isinstance(stored, str):
            return stored
    return text
