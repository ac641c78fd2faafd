"""The content-addressed model store: skops files under ``<home>/models/<sha256>.skops``.

Models are written with skops, never pickle: loading one cannot run arbitrary code. Two
checks guard every load. The file's SHA-256 must equal the one recorded when it was saved
(else "changed on disk"), and every type the file names must be on ``TRUSTED_TYPES``, the
exact set the sklearn-text pipeline is made of (else the foreign types are named). skops'
own audit then runs with that same list as its only extra trust.

skops' zip output is not reproducible as written: entries carry the current time, object
ids in ``schema.json`` and array file names are memory addresses, and scikit-learn's
vectorizers keep ``id(stop_words)`` as a cache marker. ``model_bytes`` rewrites the zip
canonically (ids renumbered in document order, arrays renamed to match, the cache marker
dropped, fixed timestamps, stored uncompressed so zlib builds cannot differ), so the same
fitted model gives the same bytes and the same address in every process. The bytes still
depend on the installed skops version, which ``schema.json`` records.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from govflow.errors import ModelArtifactError

__all__ = ["TRUSTED_TYPES", "ArtifactRef", "load_model", "model_bytes", "save_model"]

# Every type a fitted sklearn-text pipeline's skops file names, found by walking the
# schemas of pipelines trained with each spec option (the artifacts tests check it stays
# exactly this). skops stores JSON-able values as "builtins.str" JSON nodes, hence no int,
# float or bool; numpy.int64 is the vocabulary index type when max_features is set.
TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        "builtins.dict",
        "builtins.list",
        "builtins.str",
        "builtins.tuple",
        "numpy.float64",
        "numpy.int64",
        "numpy.ndarray",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.feature_extraction.text.TfidfVectorizer",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.pipeline.FeatureUnion",
        "sklearn.pipeline.Pipeline",
    }
)

# Attributes holding ``id()`` of another object: valid only in the process that set them.
_PROCESS_LOCAL_ATTRIBUTES = frozenset({"_stop_words_id"})
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_SCHEMA = "schema.json"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ArtifactRef:
    """Where a stored model is (``uri``, relative to the home) and what it must hash to."""

    uri: str
    sha256: str
    size_bytes: int


def _canonical_schema(schema: dict[str, Any], entries: set[str]) -> tuple[Any, dict[str, str]]:
    ids: dict[int, int] = {}
    files: dict[str, str] = {}

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "__id__" and isinstance(value, int):
                # Start at 1: skops skips memoizing a node whose saved id is falsy.
                out[key] = ids.setdefault(value, len(ids) + 1)
            elif key == "file" and isinstance(value, str) and value in entries:
                if value not in files:
                    files[value] = f"{len(files) + 1}{PurePosixPath(value).suffix}"
                out[key] = files[value]
            elif key == "content" and node.get("__loader__") == "ObjectNode":
                out[key] = walk(_without_process_local(value))
            else:
                out[key] = walk(value)
        return out

    return walk(schema), files


def _without_process_local(attributes: Any) -> Any:
    # An object's attributes are a DictNode state: "content" maps names to states and
    # "key_types" lists the key types in the same order, so both lose the same positions.
    if not (
        isinstance(attributes, dict)
        and isinstance(attributes.get("content"), dict)
        and isinstance(attributes.get("key_types"), dict)
        and isinstance(attributes["key_types"].get("content"), list)
    ):
        return attributes
    names = list(attributes["content"])
    keep = [i for i, name in enumerate(names) if name not in _PROCESS_LOCAL_ATTRIBUTES]
    if len(keep) == len(names):
        return attributes
    key_types = attributes["key_types"]["content"]
    return {
        **attributes,
        "content": {names[i]: attributes["content"][names[i]] for i in keep},
        "key_types": {**attributes["key_types"], "content": [key_types[i] for i in keep]},
    }


def model_bytes(model: Any) -> bytes:
    """Serialize ``model`` with skops into canonical, reproducible bytes."""
    import skops.io

    raw = skops.io.dumps(model)
    with zipfile.ZipFile(io.BytesIO(raw)) as source:
        entries = set(source.namelist()) - {_SCHEMA}
        schema, files = _canonical_schema(json.loads(source.read(_SCHEMA)), entries)
        if set(files) != entries:
            raise ModelArtifactError(
                f"skops wrote {len(entries)} data entries but the schema names {len(files)}"
            )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as target:
            for old, new in sorted(files.items(), key=lambda item: item[1]):
                target.writestr(_entry(new), source.read(old))
            target.writestr(_entry(_SCHEMA), json.dumps(schema, indent=2))
    return buffer.getvalue()


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
    info.create_system = 3
    info.external_attr = 0o644 << 16
    return info


def save_model(model: Any, *, home: Path) -> ArtifactRef:
    """Store ``model`` under ``home`` by content address; return its reference.

    The file is written to a temporary name and renamed, so a reader never sees half a
    file; a file already at the address with the right content is left as it is.
    """
    data = model_bytes(model)
    sha = hashlib.sha256(data).hexdigest()
    ref = ArtifactRef(uri=f"models/{sha}.skops", sha256=sha, size_bytes=len(data))
    path = home / ref.uri
    if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha:
        return ref
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{sha[:12]}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ref


def _types_named(schema: Any) -> set[str]:
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("__class__"), str) and isinstance(node.get("__module__"), str):
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _read_verified(ref: ArtifactRef, home: Path) -> bytes:
    if not _SHA256.match(ref.sha256) or ref.uri != f"models/{ref.sha256}.skops":
        raise ModelArtifactError(
            f"model artifact reference {ref.uri!r} is not a store address for sha256 "
            f"{ref.sha256[:12]!r}"
        )
    path = home / ref.uri
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ModelArtifactError(f"model artifact {ref.uri} is missing under {home}") from exc
    except OSError as exc:
        raise ModelArtifactError(f"model artifact {ref.uri} cannot be read: {exc}") from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != ref.sha256:
        raise ModelArtifactError(
            f"model artifact {ref.uri} changed on disk: its sha256 is {actual[:12]}..., "
            f"the ledger recorded {ref.sha256[:12]}...",
            hint="restore the file or retrain the model",
        )
    return data


def load_model(ref: ArtifactRef, *, home: Path) -> Any:
    """Load a stored model after checking its hash and that it names only trusted types."""
    data = _read_verified(ref, home)
    import skops.io

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            schema = json.loads(archive.read(_SCHEMA))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ModelArtifactError(f"model artifact {ref.uri} is not a skops file: {exc}") from exc
    foreign = sorted(_types_named(schema) - TRUSTED_TYPES)
    if foreign:
        raise ModelArtifactError(
            f"model artifact {ref.uri} holds types outside the trusted list: {', '.join(foreign)}"
        )
    try:
        untrusted = set(skops.io.get_untrusted_types(data=data)) - TRUSTED_TYPES
        if untrusted:
            raise ModelArtifactError(
                f"model artifact {ref.uri} holds types skops does not trust: "
                f"{', '.join(sorted(untrusted))}"
            )
        return skops.io.loads(data, trusted=sorted(TRUSTED_TYPES))
    except ModelArtifactError:
        raise
    except Exception as exc:
        # skops raises plain TypeError/ValueError/its own audit errors on malformed files.
        raise ModelArtifactError(f"model artifact {ref.uri} cannot be loaded: {exc}") from exc
