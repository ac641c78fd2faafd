"""The Python adapter: loading ``module:function`` and turning its answers into rows."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from govflow.errors import InputError
from govflow.models.python_fn import PythonFunctionAdapter, load_entrypoint
from govflow.models.spec import PythonSpec
from tests.govflow.models import python_models

HERE = "tests.govflow.models.python_models"
LABELS = ("spam", "ham")


def adapter(function: str, **spec: object) -> PythonFunctionAdapter:
    return PythonFunctionAdapter(
        PythonSpec(entrypoint=f"{HERE}:{function}", **spec), label_set=LABELS
    )


def test_plain_labels_come_back_in_order_with_missing_confidence() -> None:
    predictions = adapter("by_keyword").predict(["win a prize", "lunch at noon"])
    assert list(predictions.labels) == ["spam", "ham"]
    assert all(math.isnan(c) for c in predictions.confidence)
    assert predictions.n_errors == 0


def test_pairs_and_mappings_carry_confidences() -> None:
    predictions = adapter("with_confidence").predict(["a", "b", "c"])
    assert list(predictions.labels) == ["spam", "ham", "ham"]
    assert predictions.confidence[:2].tolist() == [0.75, 0.5]
    assert math.isnan(predictions.confidence[2])


def test_malformed_items_become_error_rows_one_by_one() -> None:
    predictions = adapter("mixed_quality").predict(["t"] * 6)
    assert list(predictions.labels) == ["spam", None, None, None, None, None]
    assert list(predictions.errors) == [
        None,
        "label 'eggs' is not in the label set",
        "confidence 1.5 is outside [0, 1]",
        "confidence 'high' is not a number",
        "python model answer 7 holds no label",
        "python model answer {'confidence': 0.2} holds no label",
    ]


@pytest.mark.parametrize(
    ("function", "reason"),
    [
        ("raises", "python model {ep} raised RuntimeError: model weights not found"),
        ("too_few", "python model {ep} returned 2 results for 3 texts"),
        ("not_a_list", "python model {ep} returned str, not a list"),
    ],
)
def test_a_broken_batch_makes_every_row_of_it_an_error_row(function: str, reason: str) -> None:
    predictions = adapter(function).predict(["a", "b", "c"])
    expected = reason.format(ep=f"{HERE}:{function}")
    assert list(predictions.errors) == [expected] * 3
    assert list(predictions.labels) == [None] * 3


def test_texts_are_passed_in_batches_of_batch_size() -> None:
    python_models.CALLS.clear()
    predictions = adapter("by_keyword", batch_size=4).predict([f"t{i}" for i in range(10)])
    assert python_models.CALLS == [4, 4, 2]
    assert len(predictions) == 10


def test_a_dotted_attribute_after_the_colon_is_followed() -> None:
    assert adapter("Namespace.classify").predict(["x"]).labels.tolist() == ["ham"]


def test_describe_names_the_entrypoint_and_its_version() -> None:
    info = adapter("by_keyword", version="2024-06").describe()
    assert info.adapter == "python"
    assert info.params == {
        "entrypoint": f"{HERE}:by_keyword",
        "version": "2024-06",
        "label_set": ["spam", "ham"],
    }


@pytest.mark.parametrize(
    ("entrypoint", "message"),
    [
        (
            "no_such_module_xyz:fn",
            "python model 'no_such_module_xyz:fn': module 'no_such_module_xyz' cannot be "
            "imported: No module named 'no_such_module_xyz'",
        ),
        (
            f"{HERE}:missing",
            f"python model '{HERE}:missing': '{HERE}' has no 'missing'",
        ),
        (
            f"{HERE}:NOT_A_FUNCTION",
            f"python model '{HERE}:NOT_A_FUNCTION': 'NOT_A_FUNCTION' is not callable (int)",
        ),
        ("nocolon", "python model entrypoint 'nocolon' is not 'module:function'"),
    ],
)
def test_load_entrypoint_refuses_what_it_cannot_call(entrypoint: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        load_entrypoint(entrypoint)
    assert str(caught.value) == message


def test_load_entrypoint_reports_a_module_that_fails_on_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "govflow_broken_model.py").write_text("raise ValueError('no GPU here')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(InputError) as caught:
        load_entrypoint("govflow_broken_model:predict")
    assert str(caught.value) == (
        "python model 'govflow_broken_model:predict': importing 'govflow_broken_model' "
        "failed with ValueError: no GPU here"
    )
