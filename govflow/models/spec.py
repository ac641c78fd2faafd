"""Model specifications (which adapter, with which parameters) and model version ids.

A ``ModelSpec`` is a pydantic union discriminated by ``adapter``; unknown fields are
refused, so a typo never silently falls back to a default. ``model_version_id`` derives a
model version's id from exactly the training data version, the full spec (defaults
included) and the seed, so training twice on the same inputs gives the same id.
"""

from __future__ import annotations

import string
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from govflow.errors import InputError
from govflow.hashing import content_hash, sha256_text

__all__ = [
    "ModelSpec",
    "OpenAIChatSpec",
    "PromptTemplate",
    "PythonSpec",
    "SklearnTextSpec",
    "model_version_id",
    "parse_model_spec",
]

_PROMPT_FIELDS = {"text", "labels"}


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_error_rate: float = Field(
        0.05, ge=0.0, le=1.0, description="An evaluation with more error rows than this fails."
    )


class SklearnTextSpec(_Spec):
    """The embedded default: word and character n-gram TF-IDF into logistic regression."""

    adapter: Literal["sklearn-text"] = "sklearn-text"
    word_ngram_range: tuple[int, int] = (1, 2)
    char_ngram_range: tuple[int, int] = (2, 5)
    min_df: int = Field(1, ge=1)
    max_features: int | None = Field(None, ge=1, description="Per vectorizer; None keeps all.")
    sublinear_tf: bool = True
    C: float = Field(1.0, gt=0.0, description="Inverse regularization strength.")
    class_weight: Literal["balanced"] | None = None
    max_iter: int = Field(1000, ge=1)

    @model_validator(mode="after")
    def _check_ranges(self) -> SklearnTextSpec:
        for name in ("word_ngram_range", "char_ngram_range"):
            low, high = getattr(self, name)
            if not 1 <= low <= high:
                raise ValueError(f"{name} must be (low, high) with 1 <= low <= high")
        return self


class PromptTemplate(BaseModel):
    """A versioned prompt; ``$text`` is the row's text, ``$labels`` the label set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    version: int = Field(ge=1)
    system: str | None = None
    user: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check_placeholders(self) -> PromptTemplate:
        # string.Template ($name) rather than str.format: prompts often show JSON braces.
        for part, text in (("system", self.system), ("user", self.user)):
            if text is None:
                continue
            template = string.Template(text)
            if not template.is_valid():
                raise ValueError(f"prompt {part} has a malformed $placeholder")
            unknown = set(template.get_identifiers()) - _PROMPT_FIELDS
            if unknown:
                raise ValueError(
                    f"prompt {part} names unknown placeholders {sorted(unknown)}; "
                    "use $text and $labels"
                )
        if "text" not in string.Template(self.user).get_identifiers():
            raise ValueError("prompt user message must contain $text")
        return self

    @property
    def text_sha256(self) -> str:
        """Hash of the template's text, so two texts under one id and version are told apart."""
        return sha256_text(f"{self.system or ''}\n{self.user}")

    def render(self, *, text: str, labels: tuple[str, ...]) -> list[dict[str, str]]:
        """Return the chat messages for one row."""
        values = {"text": text, "labels": ", ".join(labels)}
        messages = []
        if self.system is not None:
            messages.append(
                {"role": "system", "content": string.Template(self.system).substitute(values)}
            )
        messages.append({"role": "user", "content": string.Template(self.user).substitute(values)})
        return messages


class OpenAIChatSpec(_Spec):
    """Any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, llama.cpp, hosted)."""

    adapter: Literal["openai-chat"] = "openai-chat"
    base_url: str = Field(pattern=r"^https?://\S+$", description="Up to and including /v1.")
    model: str = Field(min_length=1)
    prompt: PromptTemplate
    api_key_env: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Environment variable holding the API key; None sends no key.",
    )
    timeout_s: float = Field(30.0, gt=0.0)
    max_retries: int = Field(2, ge=0, description="Attempts per row = max_retries + 1.")
    backoff_s: float = Field(1.0, ge=0.0, description="First retry delay; doubles each retry.")
    max_backoff_s: float = Field(30.0, ge=0.0, description="Cap on any delay, Retry-After too.")
    concurrency: int = Field(4, ge=1, le=256)
    max_tokens: int = Field(32, ge=1)
    logprobs: bool = True
    top_logprobs: int | None = Field(None, ge=1, le=20)


class PythonSpec(_Spec):
    """A plain Python function ``module:function`` (dotted attributes allowed after ':')."""

    adapter: Literal["python"] = "python"
    entrypoint: str = Field(
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$", description="module:function"
    )
    version: str | None = Field(
        None, description="Bump when the function's behaviour changes: it is part of the id."
    )
    batch_size: int = Field(1000, ge=1)


ModelSpec = Annotated[SklearnTextSpec | OpenAIChatSpec | PythonSpec, Field(discriminator="adapter")]

_SPEC_ADAPTER: TypeAdapter[Any] = TypeAdapter(ModelSpec)


def parse_model_spec(data: Any) -> SklearnTextSpec | OpenAIChatSpec | PythonSpec:
    """Validate ``data`` (a mapping) into a spec; every problem on one line as ``InputError``."""
    try:
        return _SPEC_ADAPTER.validate_python(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"])
            problems.append(f"{where}: {error['msg']}" if where else error["msg"])
        raise InputError("invalid model spec: " + "; ".join(problems)) from exc


def model_version_id(
    *,
    training_version_id: str | None,
    spec: SklearnTextSpec | OpenAIChatSpec | PythonSpec,
    seed: int,
) -> str:
    """Return ``mv-<24 hex>`` from the training data version, the full spec and the seed.

    Adapters that do not train (HTTP, Python) pass ``training_version_id=None``.
    """
    key = {
        "training_version_id": training_version_id,
        "spec": spec.model_dump(mode="json"),
        "seed": seed,
    }
    return "mv-" + content_hash(key)[:24]
