"""Model specs: the discriminated union, one-line errors, prompts and model version ids."""

from __future__ import annotations

from typing import Any

import pytest

from govflow.errors import InputError
from govflow.hashing import content_hash
from govflow.models.spec import (
    OpenAIChatSpec,
    PromptTemplate,
    PythonSpec,
    SklearnTextSpec,
    model_version_id,
    parse_model_spec,
)

PROMPT = {"id": "sentiment", "version": 2, "user": "Labels: $labels\nText: $text\nLabel:"}
CHAT = {
    "adapter": "openai-chat",
    "base_url": "http://127.0.0.1:8000/v1",
    "model": "qwen",
    "prompt": PROMPT,
}


def test_parse_model_spec_picks_the_adapter_by_its_name() -> None:
    assert parse_model_spec({"adapter": "sklearn-text"}) == SklearnTextSpec()
    chat = parse_model_spec(CHAT)
    assert isinstance(chat, OpenAIChatSpec)
    assert (chat.timeout_s, chat.max_retries, chat.concurrency, chat.max_error_rate) == (
        30.0,
        2,
        4,
        0.05,
    )
    python = parse_model_spec({"adapter": "python", "entrypoint": "pkg.mod:fn", "version": "3"})
    assert python == PythonSpec(entrypoint="pkg.mod:fn", version="3")


def test_parse_model_spec_refuses_an_unknown_field_on_one_line() -> None:
    with pytest.raises(InputError) as caught:
        parse_model_spec({"adapter": "sklearn-text", "max_iters": 5})
    assert str(caught.value) == (
        "invalid model spec: sklearn-text.max_iters: Extra inputs are not permitted"
    )


def test_parse_model_spec_refuses_an_unknown_adapter() -> None:
    with pytest.raises(InputError) as caught:
        parse_model_spec({"adapter": "torch"})
    assert str(caught.value) == (
        "invalid model spec: Input tag 'torch' found using 'adapter' does not match any of "
        "the expected tags: 'sklearn-text', 'openai-chat', 'python'"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"concurrency": 0},
            "openai-chat.concurrency: Input should be greater than or equal to 1",
        ),
        (
            {"base_url": "localhost:8000"},
            "openai-chat.base_url: String should match pattern '^https?://\\S+$'",
        ),
        (
            {"api_key_env": "MY-KEY"},
            "openai-chat.api_key_env: String should match pattern '^[A-Za-z_][A-Za-z0-9_]*$'",
        ),
        (
            {"prompt": {**PROMPT, "user": "Classify: $txt"}},
            "openai-chat.prompt: Value error, prompt user names unknown placeholders ['txt']; "
            "use $text and $labels",
        ),
        (
            {"prompt": {**PROMPT, "user": "Classify $labels"}},
            "openai-chat.prompt: Value error, prompt user message must contain $text",
        ),
        (
            {"max_error_rate": 1.5},
            "openai-chat.max_error_rate: Input should be less than or equal to 1",
        ),
    ],
)
def test_parse_model_spec_names_the_bad_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_model_spec({**CHAT, **change})
    assert str(caught.value) == f"invalid model spec: {message}"


def test_sklearn_spec_refuses_an_inverted_ngram_range() -> None:
    with pytest.raises(InputError) as caught:
        parse_model_spec({"adapter": "sklearn-text", "char_ngram_range": [5, 2]})
    assert str(caught.value) == (
        "invalid model spec: sklearn-text: Value error, char_ngram_range must be (low, high) "
        "with 1 <= low <= high"
    )


def test_python_spec_refuses_an_entrypoint_without_a_function() -> None:
    with pytest.raises(InputError, match=r"python\.entrypoint: String should match pattern"):
        parse_model_spec({"adapter": "python", "entrypoint": "pkg.mod"})


def test_prompt_renders_text_and_labels_and_keeps_json_braces() -> None:
    prompt = PromptTemplate(
        id="p",
        version=1,
        system='Answer as {"label": ...} with one of: $labels.',
        user="Text: $text",
    )
    messages = prompt.render(text="costs $5 {really}", labels=("spam", "ham"))
    assert messages == [
        {"role": "system", "content": 'Answer as {"label": ...} with one of: spam, ham.'},
        {"role": "user", "content": "Text: costs $5 {really}"},
    ]


def test_prompt_text_hash_tells_two_texts_under_one_version_apart() -> None:
    one = PromptTemplate(id="p", version=1, user="Text: $text")
    two = PromptTemplate(id="p", version=1, user="Text:\n$text")
    assert one.text_sha256 != two.text_sha256
    assert len(one.text_sha256) == 64


def test_model_version_id_is_the_content_hash_of_exactly_its_inputs() -> None:
    spec = SklearnTextSpec()
    expected = (
        "mv-"
        + content_hash(
            {"training_version_id": "dv-abc", "spec": spec.model_dump(mode="json"), "seed": 7}
        )[:24]
    )
    assert model_version_id(training_version_id="dv-abc", spec=spec, seed=7) == expected
    assert model_version_id(training_version_id="dv-abc", spec=SklearnTextSpec(), seed=7) == (
        expected
    )


def test_model_version_id_changes_with_data_spec_and_seed() -> None:
    base = model_version_id(training_version_id="dv-abc", spec=SklearnTextSpec(), seed=7)
    others = {
        model_version_id(training_version_id="dv-abd", spec=SklearnTextSpec(), seed=7),
        model_version_id(training_version_id="dv-abc", spec=SklearnTextSpec(C=2.0), seed=7),
        model_version_id(training_version_id="dv-abc", spec=SklearnTextSpec(), seed=8),
        model_version_id(training_version_id=None, spec=SklearnTextSpec(), seed=7),
    }
    assert base not in others
    assert len(others) == 4
    assert base.startswith("mv-") and len(base) == 27


def test_model_version_id_of_a_chat_model_changes_with_the_prompt_text() -> None:
    spec = parse_model_spec(CHAT)
    edited = spec.model_copy(
        update={"prompt": PromptTemplate(**{**PROMPT, "user": "Text: $text\nLabel:"})}
    )
    assert model_version_id(training_version_id=None, spec=spec, seed=0) != model_version_id(
        training_version_id=None, spec=edited, seed=0
    )
