"""The OpenAI-compatible HTTP adapter against a real scripted server on 127.0.0.1."""

from __future__ import annotations

import math
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from govflow.errors import ConfigError, ErrorRateExceeded
from govflow.models.openai_chat import OpenAIChatAdapter, _retry_after
from govflow.models.predictions import check_error_rate
from govflow.models.spec import OpenAIChatSpec, PromptTemplate
from tests.govflow.models.chat_server import ChatServer, Reply

LABELS = ("positive", "negative")
KEY_ENV = "GOVFLOW_TEST_CHAT_KEY"
KEY = "sk-test-0123456789"
JSON_TOKENS = [
    ('{"', -0.3),
    ("label", 0.0),
    ('":', 0.0),
    (' "', 0.0),
    ("negative", -0.2),
    ('"}', -0.1),
]


def make_spec(base_url: str, **overrides: Any) -> OpenAIChatSpec:
    fields: dict[str, Any] = {
        "base_url": base_url,
        "model": "test-model",
        "prompt": PromptTemplate(
            id="sentiment", version=3, system="Answer with one of: $labels.", user="Text: $text"
        ),
        "api_key_env": KEY_ENV,
        "timeout_s": 5.0,
        "max_retries": 2,
        "backoff_s": 0.01,
        "max_backoff_s": 0.05,
        "concurrency": 2,
    }
    fields.update(overrides)
    return OpenAIChatSpec(**fields)


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def test_labels_and_logprob_confidences_come_from_the_answers() -> None:
    script = {
        "great film": [Reply(content="Positive", logprobs=[("Pos", -0.05), ("itive", -0.05)])],
        "awful film": [Reply(content='{"label": "negative"}', logprobs=JSON_TOKENS)],
        "fine film": [Reply(content="positive")],  # this server gives no logprobs
    }
    with ChatServer(script) as server:
        adapter = OpenAIChatAdapter(make_spec(server.base_url), label_set=LABELS)
        predictions = adapter.predict(["great film", "awful film", "fine film"])
    assert list(predictions.labels) == ["positive", "negative", "positive"]
    assert list(predictions.errors) == [None, None, None]
    assert predictions.confidence[0] == pytest.approx(math.exp(-0.1), abs=1e-15)
    assert predictions.confidence[1] == pytest.approx(math.exp(-0.2), abs=1e-15)
    assert math.isnan(predictions.confidence[2])
    assert server.attempts == {"great film": 1, "awful film": 1, "fine film": 1}


def test_requests_carry_the_key_the_rendered_prompt_and_the_settings() -> None:
    with ChatServer({}) as server:
        spec = make_spec(server.base_url, top_logprobs=3, max_tokens=8)
        OpenAIChatAdapter(spec, label_set=LABELS).predict(["a text"])
    [(headers, body)] = server.requests
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert body == {
        "model": "test-model",
        "messages": [
            {"role": "system", "content": "Answer with one of: positive, negative."},
            {"role": "user", "content": "Text: a text"},
        ],
        "temperature": 0,
        "max_tokens": 8,
        "logprobs": True,
        "top_logprobs": 3,
    }


def test_no_logprobs_are_asked_for_when_switched_off() -> None:
    with ChatServer({}) as server:
        spec = make_spec(server.base_url, logprobs=False, api_key_env=None)
        OpenAIChatAdapter(spec, label_set=LABELS).predict(["a text"])
    [(headers, body)] = server.requests
    assert "logprobs" not in body and "top_logprobs" not in body
    assert "Authorization" not in headers


def test_an_unparseable_answer_is_an_error_row_never_a_label() -> None:
    script = {
        "t1": [Reply(content="I would say it is positive, mostly.")],
        "t2": [Reply(content='{"label": "neutral"}')],
        "t3": [Reply(content="negative")],
    }
    with ChatServer(script) as server:
        predictions = OpenAIChatAdapter(make_spec(server.base_url), label_set=LABELS).predict(
            ["t1", "t2", "t3"]
        )
    assert list(predictions.labels) == [None, None, "negative"]
    assert list(predictions.errors) == [
        "unparseable answer: 'I would say it is positive, mostly.'",
        'unparseable answer: \'{"label": "neutral"}\'',
        None,
    ]
    assert server.attempts == {"t1": 1, "t2": 1, "t3": 1}  # a bad answer is not retried


def test_server_errors_are_retried_until_success() -> None:
    script = {"flaky": [Reply(status=500), Reply(status=503), Reply(content="negative")]}
    with ChatServer(script) as server:
        predictions = OpenAIChatAdapter(make_spec(server.base_url), label_set=LABELS).predict(
            ["flaky"]
        )
    assert list(predictions.labels) == ["negative"]
    assert server.attempts["flaky"] == 3


def test_persistent_server_errors_become_error_rows_after_the_last_attempt() -> None:
    script = {"broken": [Reply(status=500)]}
    with ChatServer(script) as server:
        predictions = OpenAIChatAdapter(make_spec(server.base_url), label_set=LABELS).predict(
            ["broken", "fine"]
        )
    assert list(predictions.errors) == ["HTTP 500 after 3 attempts", None]
    assert list(predictions.labels) == [None, "positive"]
    assert server.attempts == {"broken": 3, "fine": 1}


def test_a_client_error_is_not_retried() -> None:
    script = {"bad": [Reply(status=400, raw_body='{"error": "context length exceeded"}')]}
    with ChatServer(script) as server:
        predictions = OpenAIChatAdapter(make_spec(server.base_url), label_set=LABELS).predict(
            ["bad"]
        )
    assert list(predictions.errors) == [
        'HTTP 400 (not retried): \'{"error": "context length exceeded"}\''
    ]
    assert server.attempts["bad"] == 1


@pytest.mark.timeout(30)
def test_rate_limits_are_retried_with_retry_after_capped() -> None:
    # Retry-After asks for 100 s; max_backoff_s (0.05 s) caps it, or this test times out.
    script = {
        "busy": [Reply(status=429, headers={"Retry-After": "100"}), Reply(content="positive")]
    }
    with ChatServer(script) as server:
        predictions = OpenAIChatAdapter(make_spec(server.base_url), label_set=LABELS).predict(
            ["busy"]
        )
    assert list(predictions.labels) == ["positive"]
    assert server.attempts["busy"] == 2


def test_a_hanging_server_times_out_into_an_error_row() -> None:
    script = {"hang": [Reply(content="positive", delay_s=1.5)]}
    with ChatServer(script) as server:
        spec = make_spec(server.base_url, timeout_s=0.3, max_retries=1)
        predictions = OpenAIChatAdapter(spec, label_set=LABELS).predict(["hang", "quick"])
    assert list(predictions.errors) == ["timed out after 2 attempts", None]
    assert list(predictions.labels) == [None, "positive"]
    assert server.attempts["hang"] == 2


def test_a_refused_connection_becomes_an_error_row() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the adapter connects
    spec = make_spec(f"http://127.0.0.1:{port}/v1", max_retries=1)
    predictions = OpenAIChatAdapter(spec, label_set=LABELS).predict(["anyone?"])
    assert list(predictions.errors) == ["connection failed (ConnectError) after 2 attempts"]


def test_a_malformed_response_is_an_error_row() -> None:
    script = {"odd": [Reply(raw_body='{"choices": []}')], "html": [Reply(raw_body="<html>")]}
    with ChatServer(script) as server:
        predictions = OpenAIChatAdapter(make_spec(server.base_url), label_set=LABELS).predict(
            ["odd", "html"]
        )
    assert list(predictions.errors) == [
        "malformed response: '{\"choices\": []}'",
        "malformed response: '<html>'",
    ]


def test_a_body_that_does_not_decode_is_an_error_row_not_retried() -> None:
    script = {"zip": [Reply(raw_body="plain text", headers={"Content-Encoding": "gzip"})]}
    with ChatServer(script) as server:
        predictions = OpenAIChatAdapter(make_spec(server.base_url), label_set=LABELS).predict(
            ["zip"]
        )
    [error] = predictions.errors
    assert error.startswith("request failed (DecodingError): ")
    assert server.attempts["zip"] == 1


def test_concurrency_never_exceeds_the_cap() -> None:
    texts = [f"row {i}" for i in range(12)]
    with ChatServer({}, default=Reply(content="negative", delay_s=0.2)) as server:
        spec = make_spec(server.base_url, concurrency=3)
        predictions = OpenAIChatAdapter(spec, label_set=LABELS).predict(texts)
    assert list(predictions.labels) == ["negative"] * 12
    assert len(server.requests) == 12
    assert server.max_in_flight == 3


def test_evaluation_fails_with_the_reason_when_errors_pass_the_limit() -> None:
    script = {f"bad {i}": [Reply(status=502)] for i in range(3)}
    texts = [f"bad {i}" for i in range(3)] + [f"good {i}" for i in range(22)]
    with ChatServer(script) as server:
        spec = make_spec(server.base_url, max_retries=0, max_error_rate=0.1)
        predictions = OpenAIChatAdapter(spec, label_set=LABELS).predict(texts)
    with pytest.raises(ErrorRateExceeded) as caught:
        check_error_rate(predictions, spec.max_error_rate)
    assert str(caught.value) == (
        "error rate 12.0% above the limit 10.0% (3 of 25 rows); "
        "most frequent: 'HTTP 502 after 1 attempt' x3"
    )


def test_a_missing_key_variable_is_a_config_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(ConfigError) as caught:
        OpenAIChatAdapter(make_spec("http://127.0.0.1:9/v1"), label_set=LABELS)
    assert str(caught.value) == (
        f"environment variable {KEY_ENV} is not set "
        "(it must hold the API key for http://127.0.0.1:9/v1)"
    )


def test_the_key_is_never_described_or_shown() -> None:
    adapter = OpenAIChatAdapter(make_spec("http://127.0.0.1:9/v1"), label_set=LABELS)
    info = adapter.describe()
    assert KEY not in info.model_dump_json()
    assert KEY not in repr(adapter)
    assert info.params["api_key_env"] == KEY_ENV
    assert info.params["prompt_id"] == "sentiment"
    assert info.params["prompt_version"] == 3
    assert len(info.params["prompt_sha256"]) == 64


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert _retry_after("7") == 7.0
    assert _retry_after("0.5") == 0.5
    assert _retry_after(None) is None
    assert _retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    assert 100 < (_retry_after(later) or 0) <= 120
    earlier = format_datetime(datetime.now(UTC) - timedelta(seconds=60), usegmt=True)
    assert _retry_after(earlier) == 0.0
