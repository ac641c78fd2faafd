"""The project's declarative files: one way to read them and one way to word their errors.

Dataset configs, guidelines, evaluation suites and monitor configs are YAML (some also TOML
or JSON) mappings checked by pydantic models. ``read_mapping`` reads one and
``describe_errors`` renders pydantic's errors as one line, so every such file fails the
same way: ``<path>: <what> not found``, ``<path>: not valid YAML at line N: <problem>``,
``<path>: expected a mapping of <fields> at the top level``, ``<path>: invalid <what>:
field.path: message; ...``. Neither ever quotes the input, which may hold secrets, except
an enum's refused name when the caller says the file holds none.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from govflow.errors import InputError

__all__ = ["describe_errors", "read_mapping"]


def read_mapping(path: Path, *, what: str, fields: str, suffixes: Sequence[str]) -> dict[str, Any]:
    """Read a ``.yaml``/``.yml`` (or ``.toml``, ``.json`` when allowed) file holding a mapping.

    ``what`` names the file in errors ("monitor config"), ``fields`` what its top level holds
    ("monitor settings"), ``suffixes`` the accepted file types.
    """
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        allowed = (
            ", ".join(suffixes[:-1]) + f" or {suffixes[-1]}" if len(suffixes) > 1 else suffixes[0]
        )
        raise InputError(f"{path}: unsupported {what} type {suffix!r} (use {allowed})")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: {what} not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    data = _parse(path, raw, suffix)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping of {fields} at the top level")
    return data


def _parse(path: Path, raw: bytes, suffix: str) -> Any:
    if suffix in {".toml", ".json"}:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 text: {exc.reason} at byte {exc.start}") from None
        if suffix == ".toml":
            try:
                return tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise InputError(f"{path}: not valid TOML: {exc}") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON at line {exc.lineno}: {exc.msg}") from None
    import yaml

    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"{path}: not valid YAML{where}: {problem}") from None


def describe_errors(
    exc: ValidationError,
    *,
    noise: Callable[[tuple[int | str, ...], int], bool] | None = None,
    show_enum_input: bool = False,
) -> str:
    """Render pydantic's errors as one line: ``slices[0].thresholds.ece: message; ...``.

    ``noise(loc, index)`` says which parts of a location to leave out (for example the tag
    a discriminated union inserts); pydantic's ``[key]`` marker is always left out.
    ``show_enum_input`` quotes the refused name of an enum, for files that hold no secrets.
    """
    parts = []
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        location = ""
        for index, part in enumerate(loc):
            if part == "[key]" or (noise is not None and noise(loc, index)):
                continue
            location += f"[{part}]" if isinstance(part, int) else (f".{part}" if location else part)
        message = str(error["msg"]).removeprefix("Value error, ")
        if show_enum_input and error["type"] == "enum":
            message = f"unknown value {error['input']!r} ({message[0].lower()}{message[1:]})"
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)
