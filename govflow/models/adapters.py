"""Build the adapter a model spec names: ``load_adapter``.

Each adapter's module is imported only when its kind is asked for, so picking an HTTP or
Python model does not import scikit-learn and skops (about 2 s).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from govflow.errors import InputError, ModelArtifactError
from govflow.models.artifacts import ArtifactRef
from govflow.models.predictions import ModelAdapter
from govflow.models.spec import OpenAIChatSpec, PythonSpec, SklearnTextSpec

__all__ = ["load_adapter"]


def load_adapter(
    spec: SklearnTextSpec | OpenAIChatSpec | PythonSpec,
    *,
    label_set: Sequence[str],
    artifact: ArtifactRef | None = None,
    home: Path | None = None,
) -> ModelAdapter:
    """Return a ready adapter for ``spec``.

    ``sklearn-text`` loads its trained pipeline from the store under ``home`` after the
    hash and type checks of ``artifacts.load_model``; the other kinds take no artifact.
    """
    if isinstance(spec, SklearnTextSpec):
        if artifact is None or home is None:
            raise InputError("an sklearn-text model needs its stored artifact and the home")
        from sklearn.pipeline import Pipeline

        from govflow.models.artifacts import load_model
        from govflow.models.sklearn_text import SklearnTextAdapter

        pipeline = load_model(artifact, home=home)
        if not isinstance(pipeline, Pipeline):
            raise ModelArtifactError(
                f"model artifact {artifact.uri} holds a {type(pipeline).__name__}, not a Pipeline"
            )
        return SklearnTextAdapter(
            pipeline, spec=spec, label_set=label_set, artifact_sha256=artifact.sha256
        )
    if artifact is not None:
        raise InputError(f"a {spec.adapter} model takes no artifact")
    if isinstance(spec, OpenAIChatSpec):
        from govflow.models.openai_chat import OpenAIChatAdapter

        return OpenAIChatAdapter(spec, label_set=label_set)
    from govflow.models.python_fn import PythonFunctionAdapter

    return PythonFunctionAdapter(spec, label_set=label_set)
