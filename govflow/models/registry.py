"""Train a model version from a ledger version, and load a recorded one back safely.

``train_model_version`` is idempotent by content: the version id derives from the training
data version, the spec and the seed, so training twice on the same inputs finds the
recorded version and fits nothing. ``load_recorded_adapter`` rebuilds an adapter from the
ledger row, refusing an artifact whose bytes no longer match the recorded hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from govflow.errors import InputError
from govflow.ledger.engine import Ledger
from govflow.ledger.model_versions import get_model_version, register_model_version
from govflow.ledger.models import ModelVersion
from govflow.models.artifacts import ArtifactRef
from govflow.models.predictions import ModelAdapter
from govflow.models.spec import SklearnTextSpec, model_version_id, parse_model_spec

__all__ = [
    "TrainedModel",
    "load_production_adapter",
    "load_recorded_adapter",
    "train_model_version",
]


@dataclass(frozen=True)
class TrainedModel:
    """The recorded model version and whether this call created it."""

    version_id: str
    project: str
    is_new: bool
    train_rows: int
    test_rows: int


def train_model_version(
    *,
    ledger: Ledger,
    home: Path,
    frame: pd.DataFrame,
    project: str,
    training_version_id: str,
    spec: dict,
    seed: int,
    label_set: list[str],
    text_column: str,
    requested_by: str | None,
    flow_run_id: str | None,
    actor: str,
) -> TrainedModel:
    """Fit (or find) the model version of these inputs and record it with its artifact."""
    from govflow.models.training_data import training_splits

    parsed = parse_model_spec(spec)
    splits = training_splits(frame, text_column=text_column)
    version_id = model_version_id(
        training_version_id=training_version_id if isinstance(parsed, SklearnTextSpec) else None,
        spec=parsed,
        seed=seed,
    )
    with ledger.reader() as session:
        found = session.get(ModelVersion, version_id)
    sizes = {"train_rows": len(splits.train_texts), "test_rows": len(splits.test_texts)}
    if found is not None:
        return TrainedModel(version_id, project, False, **sizes)
    outside = sorted(set(splits.train_labels) - set(label_set))
    if outside:
        raise InputError(
            f"training labels {', '.join(map(repr, outside))} are not in the project's "
            f"label set {label_set}"
        )
    artifact = None
    if isinstance(parsed, SklearnTextSpec):
        from govflow.models.artifacts import save_model
        from govflow.models.sklearn_text import train_text_classifier

        pipeline = train_text_classifier(
            splits.train_texts, splits.train_labels, seed=seed, params=parsed
        )
        ref = save_model(pipeline, home=home)
        artifact = {"uri": ref.uri, "sha256": ref.sha256, "size_bytes": ref.size_bytes}
    with ledger.session() as session:
        _, is_new = register_model_version(
            session=session,
            version_id=version_id,
            project=project,
            adapter=parsed.adapter,
            spec=parsed.model_dump(mode="json"),
            seed=seed,
            training_version_id=training_version_id,
            label_set=label_set,
            artifact=artifact,
            details={"requested_by": requested_by, "text_column": text_column, **sizes},
            flow_run_id=flow_run_id,
            actor=actor,
        )
    return TrainedModel(version_id, project, is_new, **sizes)


def load_recorded_adapter(*, ledger: Ledger, home: Path, version_id: str) -> ModelAdapter:
    """Rebuild the adapter of a recorded model version (its artifact checked by hash)."""
    from govflow.models.adapters import load_adapter

    with ledger.reader() as session:
        version = get_model_version(session=session, version_id=version_id)
        spec = parse_model_spec(version.spec)
        labels = [str(label) for label in version.label_set]
        artifact = (
            ArtifactRef(
                uri=version.artifact_uri,
                sha256=version.artifact_sha256 or "",
                size_bytes=version.artifact_size or 0,
            )
            if version.artifact_uri
            else None
        )
    return load_adapter(spec, label_set=labels, artifact=artifact, home=home if artifact else None)


def load_production_adapter(
    *, ledger: Ledger, home: Path, project: str
) -> tuple[str, ModelAdapter]:
    """Return the id and adapter of the model behind ``production`` in ``project``."""
    from govflow.ledger.model_versions import alias_of

    with ledger.reader() as session:
        production = alias_of(session=session, project=project)
        if production is None:
            raise InputError(
                f"project {project} has no model behind the production alias",
                hint="release a model first (govflow run release)",
            )
        version_id = production.id
    return version_id, load_recorded_adapter(ledger=ledger, home=home, version_id=version_id)
