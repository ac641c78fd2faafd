"""The content-addressed model store: reproducible bytes, hash and type checks on load."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.svm import LinearSVC

from govflow.errors import ModelArtifactError
from govflow.models.artifacts import (
    TRUSTED_TYPES,
    ArtifactRef,
    _types_named,
    load_model,
    model_bytes,
    save_model,
)
from govflow.models.sklearn_text import train_text_classifier
from govflow.models.spec import SklearnTextSpec
from tests.govflow.models.conftest import make_corpus


class Shout(BaseEstimator, TransformerMixin):
    """A harmless transformer standing in for any type the store must not trust."""

    def fit(self, texts, labels=None):  # type: ignore[no-untyped-def]
        return self

    def transform(self, texts):  # type: ignore[no-untyped-def]
        return [text.upper() for text in texts]


def _schema(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return json.loads(archive.read("schema.json"))


def test_save_then_load_gives_the_same_predictions(trained: Pipeline, tmp_path: Path) -> None:
    ref = save_model(trained, home=tmp_path)
    data = (tmp_path / ref.uri).read_bytes()
    assert ref.uri == f"models/{ref.sha256}.skops"
    assert ref.sha256 == hashlib.sha256(data).hexdigest()
    assert ref.size_bytes == len(data)
    loaded = load_model(ref, home=tmp_path)
    texts, _ = make_corpus(n=60, seed=8)
    assert np.array_equal(loaded.predict_proba(texts), trained.predict_proba(texts))
    assert model_bytes(loaded) == data  # a loaded model serializes to the same address


def test_saving_twice_writes_one_file_and_leaves_no_temp_files(
    trained: Pipeline, tmp_path: Path
) -> None:
    first = save_model(trained, home=tmp_path)
    second = save_model(trained, home=tmp_path)
    assert first == second
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [f"{first.sha256}.skops"]


def test_saving_repairs_a_damaged_file_at_the_address(trained: Pipeline, tmp_path: Path) -> None:
    ref = save_model(trained, home=tmp_path)
    (tmp_path / ref.uri).write_bytes(b"damaged")
    assert save_model(trained, home=tmp_path) == ref
    assert hashlib.sha256((tmp_path / ref.uri).read_bytes()).hexdigest() == ref.sha256


def test_stored_bytes_are_canonical_zip_entries(trained: Pipeline) -> None:
    data = model_bytes(trained)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.compress_type for info in infos} == {zipfile.ZIP_STORED}
    names = [info.filename for info in infos]
    assert names[-1] == "schema.json"
    assert names[:-1] == [f"{i}.npy" for i in range(1, len(names))]
    text = json.dumps(_schema(data))
    assert "_stop_words_id" not in text
    ids = {node_id for node_id in _ids(_schema(data))}
    assert min(ids) == 1 and max(ids) == len(ids)  # renumbered densely from 1


def _ids(node: object) -> list[int]:
    found = []
    if isinstance(node, dict):
        if "__id__" in node:
            found.append(node["__id__"])
        for value in node.values():
            found.extend(_ids(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_ids(value))
    return found


def test_a_file_changed_on_disk_is_refused(trained: Pipeline, tmp_path: Path) -> None:
    ref = save_model(trained, home=tmp_path)
    path = tmp_path / ref.uri
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    actual = hashlib.sha256(bytes(data)).hexdigest()
    with pytest.raises(ModelArtifactError) as caught:
        load_model(ref, home=tmp_path)
    assert str(caught.value) == (
        f"model artifact {ref.uri} changed on disk: its sha256 is {actual[:12]}..., "
        f"the ledger recorded {ref.sha256[:12]}... (restore the file or retrain the model)"
    )


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    sha = "0" * 64
    ref = ArtifactRef(uri=f"models/{sha}.skops", sha256=sha, size_bytes=10)
    with pytest.raises(ModelArtifactError) as caught:
        load_model(ref, home=tmp_path)
    assert str(caught.value) == f"model artifact models/{sha}.skops is missing under {tmp_path}"


def test_a_reference_outside_the_store_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("x")
    sha = hashlib.sha256(b"x").hexdigest()
    ref = ArtifactRef(uri="../secret", sha256=sha, size_bytes=1)
    with pytest.raises(ModelArtifactError) as caught:
        load_model(ref, home=tmp_path / "home")
    assert str(caught.value) == (
        f"model artifact reference '../secret' is not a store address for sha256 {sha[:12]!r}"
    )


def test_a_file_that_is_not_a_skops_zip_is_refused(tmp_path: Path) -> None:
    data = b"not a zip at all"
    sha = hashlib.sha256(data).hexdigest()
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / f"{sha}.skops").write_bytes(data)
    ref = ArtifactRef(uri=f"models/{sha}.skops", sha256=sha, size_bytes=len(data))
    with pytest.raises(ModelArtifactError) as caught:
        load_model(ref, home=tmp_path)
    assert str(caught.value) == (
        f"model artifact models/{sha}.skops is not a skops file: File is not a zip file"
    )


def test_a_model_with_a_foreign_type_is_refused_naming_it(tmp_path: Path) -> None:
    texts, labels = make_corpus(n=30)
    model = make_pipeline(Shout(), TfidfVectorizer(), LinearSVC()).fit(texts, labels)
    ref = save_model(model, home=tmp_path)  # stored fine: the check is on the way in
    with pytest.raises(ModelArtifactError) as caught:
        load_model(ref, home=tmp_path)
    assert str(caught.value) == (
        f"model artifact {ref.uri} holds types outside the trusted list: "
        "sklearn.svm._classes.LinearSVC, tests.govflow.models.test_artifacts.Shout"
    )
    # skops itself would trust LinearSVC: the store's list is narrower than skops' default.
    assert skops.io.get_untrusted_types(data=model_bytes(model)) == [
        "tests.govflow.models.test_artifacts.Shout"
    ]


def test_trusted_types_are_exactly_what_sklearn_text_pipelines_are_made_of() -> None:
    texts, labels = make_corpus(n=90)
    two_class = [label if label != "praise" else "billing" for label in labels]
    specs = [
        SklearnTextSpec(),
        SklearnTextSpec(
            class_weight="balanced",
            max_features=40,
            min_df=2,
            sublinear_tf=False,
            word_ngram_range=(1, 1),
            char_ngram_range=(3, 3),
            C=0.5,
        ),
    ]
    seen: set[str] = set()
    for spec in specs:
        for y in (labels, two_class):
            data = model_bytes(train_text_classifier(texts, y, seed=0, params=spec))
            seen |= _types_named(_schema(data))
            assert skops.io.get_untrusted_types(data=data) == []
    assert seen == TRUSTED_TYPES
