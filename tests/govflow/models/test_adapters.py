"""``load_adapter``: one entry point from a spec to a ready, checked adapter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.pipeline import Pipeline

from govflow.errors import ConfigError, InputError, ModelArtifactError
from govflow.models.adapters import load_adapter
from govflow.models.artifacts import save_model
from govflow.models.openai_chat import OpenAIChatAdapter
from govflow.models.predictions import ModelAdapter
from govflow.models.python_fn import PythonFunctionAdapter
from govflow.models.sklearn_text import SklearnTextAdapter
from govflow.models.spec import parse_model_spec
from tests.govflow.models.conftest import LABELS

REPO = Path(__file__).resolve().parents[3]
CHAT = {
    "adapter": "openai-chat",
    "base_url": "http://127.0.0.1:9/v1",
    "model": "m",
    "prompt": {"id": "p", "version": 1, "user": "Text: $text"},
    "api_key_env": "GOVFLOW_TEST_ADAPTER_KEY",
}


def test_sklearn_text_loads_from_the_store_and_predicts(trained: Pipeline, tmp_path: Path) -> None:
    ref = save_model(trained, home=tmp_path)
    spec = parse_model_spec({"adapter": "sklearn-text"})
    adapter = load_adapter(spec, label_set=LABELS, artifact=ref, home=tmp_path)
    assert isinstance(adapter, SklearnTextAdapter)
    assert isinstance(adapter, ModelAdapter)
    assert adapter.describe().params["artifact_sha256"] == ref.sha256
    texts = ["please refund the invoice", "app is down with error 500"]
    assert adapter.predict(texts).labels.tolist() == trained.predict(texts).tolist()


def test_sklearn_text_with_a_changed_artifact_is_refused(trained: Pipeline, tmp_path: Path) -> None:
    ref = save_model(trained, home=tmp_path)
    with (tmp_path / ref.uri).open("ab") as handle:
        handle.write(b"\0")
    spec = parse_model_spec({"adapter": "sklearn-text"})
    with pytest.raises(ModelArtifactError, match=r"changed on disk"):
        load_adapter(spec, label_set=LABELS, artifact=ref, home=tmp_path)


def test_sklearn_text_needs_an_artifact() -> None:
    with pytest.raises(InputError) as caught:
        load_adapter(parse_model_spec({"adapter": "sklearn-text"}), label_set=LABELS)
    assert str(caught.value) == "an sklearn-text model needs its stored artifact and the home"


def test_openai_chat_and_python_adapters_are_built_from_their_specs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOVFLOW_TEST_ADAPTER_KEY", "k")
    chat = load_adapter(parse_model_spec(CHAT), label_set=LABELS)
    assert isinstance(chat, OpenAIChatAdapter)
    python = load_adapter(
        parse_model_spec(
            {"adapter": "python", "entrypoint": "tests.govflow.models.python_models:by_keyword"}
        ),
        label_set=("spam", "ham"),
    )
    assert isinstance(python, PythonFunctionAdapter)
    assert python.predict(["win now"]).labels.tolist() == ["spam"]


def test_openai_chat_without_its_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^environment variable GOVFLOW_TEST_ADAPTER_KEY"):
        load_adapter(parse_model_spec(CHAT), label_set=LABELS)


def test_an_artifact_for_an_adapter_that_takes_none_is_refused(
    trained: Pipeline, tmp_path: Path
) -> None:
    ref = save_model(trained, home=tmp_path)
    spec = parse_model_spec({"adapter": "python", "entrypoint": "x:y"})
    with pytest.raises(InputError) as caught:
        load_adapter(spec, label_set=LABELS, artifact=ref, home=tmp_path)
    assert str(caught.value) == "a python model takes no artifact"


def test_importing_the_package_and_specs_leaves_sklearn_skops_and_httpx_unloaded() -> None:
    script = (
        "import sys\n"
        "import govflow.models, govflow.models.spec, govflow.models.predictions\n"
        "import govflow.models.adapters, govflow.models.artifacts\n"
        "print(sorted(m for m in ('sklearn', 'skops', 'httpx') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
