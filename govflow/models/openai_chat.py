"""The HTTP adapter: any OpenAI-compatible chat-completions endpoint, over httpx.

One request per row (chat completions take one conversation each), sent from a thread pool
of ``concurrency`` workers through one shared client, so at most that many requests are in
flight. Each row is retried on timeouts, connection failures, 429 and 5xx with exponential
backoff (``backoff_s``, doubling, capped by ``max_backoff_s``; a ``Retry-After`` header
replaces the computed delay, under the same cap); other 4xx answers are not retried. A row
that still fails, or whose answer names no label (see ``answers``), is an error row with
the reason; it never becomes a label.

The API key is read from the environment variable the spec names when the adapter is
built, sent only as the ``Authorization`` header, and never logged, described or stored.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from govflow.errors import ConfigError
from govflow.models.answers import label_confidence, parse_label
from govflow.models.predictions import AdapterInfo, Predictions, RowResult
from govflow.models.spec import OpenAIChatSpec

__all__ = ["ADAPTER_VERSION", "OpenAIChatAdapter", "api_headers"]

ADAPTER_VERSION = "1"
_EXCERPT = 80


class _Retryable(Exception):
    """One attempt failed in a way worth retrying; ``reason`` names it without a count."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def api_headers(*, api_key_env: str | None, base_url: str) -> dict[str, str]:
    """The JSON headers of a chat-completions request, with the key read from ``api_key_env``.

    Raises ``ConfigError`` when the variable is named but not set.
    """
    headers = {"Content-Type": "application/json"}
    if api_key_env is not None:
        key = os.environ.get(api_key_env)
        if not key:
            raise ConfigError(
                f"environment variable {api_key_env} is not set",
                hint=f"it must hold the API key for {base_url}",
            )
        headers["Authorization"] = f"Bearer {key}"
    return headers


def _attempts(n: int) -> str:
    return f"{n} attempt" if n == 1 else f"{n} attempts"


def _excerpt(text: str) -> str:
    return repr(text if len(text) <= _EXCERPT else text[:_EXCERPT] + "...")


class OpenAIChatAdapter:
    """Labels texts by asking a chat model, one request per row, ``concurrency`` at a time."""

    def __init__(self, spec: OpenAIChatSpec, *, label_set: Sequence[str]) -> None:
        if not label_set:
            raise ConfigError("an openai-chat model needs a non-empty label set")
        self._spec = spec
        self._label_set = tuple(label_set)
        self._headers = api_headers(api_key_env=spec.api_key_env, base_url=spec.base_url)

    def __repr__(self) -> str:
        return f"OpenAIChatAdapter(model={self._spec.model!r}, base_url={self._spec.base_url!r})"

    @property
    def label_set(self) -> tuple[str, ...]:
        return self._label_set

    def describe(self) -> AdapterInfo:
        spec = self._spec
        return AdapterInfo(
            adapter=spec.adapter,
            adapter_version=ADAPTER_VERSION,
            params={
                "base_url": spec.base_url,
                "model": spec.model,
                "prompt_id": spec.prompt.id,
                "prompt_version": spec.prompt.version,
                "prompt_sha256": spec.prompt.text_sha256,
                "api_key_env": spec.api_key_env,
                "max_tokens": spec.max_tokens,
                "logprobs": spec.logprobs,
                "top_logprobs": spec.top_logprobs,
                "label_set": list(self._label_set),
            },
        )

    def predict(self, texts: Sequence[str]) -> Predictions:
        spec = self._spec
        limits = httpx.Limits(
            max_connections=spec.concurrency, max_keepalive_connections=spec.concurrency
        )
        with (
            httpx.Client(
                timeout=httpx.Timeout(spec.timeout_s), limits=limits, headers=self._headers
            ) as client,
            ThreadPoolExecutor(max_workers=spec.concurrency) as pool,
        ):
            rows = list(pool.map(lambda text: self._label_one(client, text), texts))
        return Predictions.from_rows(rows)

    def _payload(self, text: str) -> dict[str, Any]:
        spec = self._spec
        payload: dict[str, Any] = {
            "model": spec.model,
            "messages": spec.prompt.render(text=text, labels=self._label_set),
            "temperature": 0,
            "max_tokens": spec.max_tokens,
        }
        if spec.logprobs:
            payload["logprobs"] = True
            if spec.top_logprobs is not None:
                payload["top_logprobs"] = spec.top_logprobs
        return payload

    def _label_one(self, client: httpx.Client, text: Any) -> RowResult:
        if not isinstance(text, str):
            return RowResult.failed(f"text is not a string ({type(text).__name__})")
        spec = self._spec
        url = spec.base_url.rstrip("/") + "/chat/completions"
        payload = self._payload(text)
        attempts = spec.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return self._attempt(client, url, payload)
            except _Retryable as failure:
                if attempt == attempts:
                    return RowResult.failed(f"{failure.reason} after {_attempts(attempts)}")
                delay = spec.backoff_s * 2 ** (attempt - 1)
                if failure.retry_after is not None:
                    delay = failure.retry_after
                time.sleep(min(delay, spec.max_backoff_s))
        raise AssertionError("unreachable: the last attempt returns")

    def _attempt(self, client: httpx.Client, url: str, payload: dict[str, Any]) -> RowResult:
        try:
            response = client.post(url, json=payload)
        except httpx.TimeoutException as exc:
            raise _Retryable("timed out") from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed ({type(exc).__name__})") from exc
        except httpx.RequestError as exc:
            # e.g. a body that does not decode: the server answered, retrying won't help.
            return RowResult.failed(f"request failed ({type(exc).__name__}): {exc}")
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status}", _retry_after(response.headers.get("Retry-After")))
        if status != 200:
            return RowResult.failed(f"HTTP {status} (not retried): {_excerpt(response.text)}")
        return self._read(response)

    def _read(self, response: httpx.Response) -> RowResult:
        try:
            choice = response.json()["choices"][0]
            content = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            return RowResult.failed(f"malformed response: {_excerpt(response.text)}")
        if not isinstance(content, str):
            return RowResult.failed(f"malformed response: content is {type(content).__name__}")
        parsed = parse_label(content, self._label_set)
        if parsed is None:
            return RowResult.failed(f"unparseable answer: {_excerpt(content)}")
        logprobs = choice.get("logprobs") if isinstance(choice, dict) else None
        tokens = logprobs.get("content") if isinstance(logprobs, dict) else None
        confidence = label_confidence(content, parsed, tokens) if tokens else math.nan
        return RowResult(label=parsed.label, confidence=confidence)
