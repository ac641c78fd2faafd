"""acquire() from a real local HTTP server: pagination, retries, timeouts, limits, secrets."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govflow.errors import SourceError
from govflow.hashing import canonical_json
from govflow.ledger.datasets import prepare_items
from govflow.records import frame_to_records
from govflow.sources.acquire import acquire
from govflow.sources.config import DatasetConfig
from govflow.sources.storable import MAX_DEPTH, TOO_DEEP

TOKEN_ENV = "GOVFLOW_TEST_TICKETS_TOKEN"
TOKEN = "Bearer s3cr3t-t0ken-value"


@dataclass
class Request:
    """What the server saw: path, query parameters, headers and when it arrived."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    raw: bytes | None = None


Script = Callable[[Request, "Server"], Reply]


class Server:
    """A ThreadingHTTPServer on 127.0.0.1:0 answering every GET with ``script``."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[Request] = []
        self.release = threading.Event()  # lets a hanging handler go at teardown
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                request = Request(
                    parts.path, dict(parse_qsl(parts.query)), dict(self.headers), time.monotonic()
                )
                owner.requests.append(request)
                reply = owner.script(request, owner)
                body = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status, reply.reason)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll interval keeps shutdown (once per test) quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/items"

    def start(self) -> Server:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def serve() -> Iterator[Callable[[Script], Server]]:
    """Start scripted servers for a test and stop them afterwards."""
    servers: list[Server] = []

    def start(script: Script) -> Server:
        server = Server(script).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def config(url: str, **source: Any) -> DatasetConfig:
    """A dataset of {id: integer, text: string} records under ``data`` in each page."""
    return DatasetConfig.model_validate(
        {
            "name": "tickets",
            "source": {
                "kind": "http",
                "url": url,
                "records_path": "data",
                "backoff_s": 0.01,
                **source,
            },
            "columns": [{"name": "id", "type": "integer"}, {"name": "text", "type": "string"}],
        }
    )


def records(*ids: Any) -> list[dict[str, Any]]:
    return [{"id": i, "text": f"ticket {i}"} for i in ids]


def error_of(cfg: DatasetConfig) -> SourceError:
    with pytest.raises(SourceError) as caught:
        acquire(cfg)
    return caught.value


CURSOR_PAGES = {
    None: {"data": records(1, 2), "next": "c2"},
    "c2": {"data": records(3, "four"), "next": "c3"},
    "c3": {"data": records(5), "next": None},
}


def test_acquire_follows_cursor_pagination_across_three_pages(serve) -> None:
    server = serve(lambda request, _: Reply(body=CURSOR_PAGES[request.query.get("cursor")]))
    cfg = config(server.url, pagination={"type": "cursor"}, params={"status": "open"})

    result = acquire(cfg)

    assert [r.query for r in server.requests] == [
        {"status": "open"},
        {"status": "open", "cursor": "c2"},
        {"status": "open", "cursor": "c3"},
    ]
    assert result.frame["id"].tolist() == [1, 2, 3, 5]
    assert result.frame["_source_row"].tolist() == [1, 2, 3, 5]
    assert result.quarantined == [
        {
            "source_row": 4,
            "reasons": [{"check": "wrong_type", "column": "id", "observed": "four"}],
            "raw": '{"id":"four","text":"ticket four"}',
        }
    ]
    assert result.rows_in == 5
    assert result.source.kind == "http"
    assert result.source.uri == server.url
    assert result.source.params == {
        "records_path": "data",
        "params": {"status": "open"},
        "pagination": {"type": "cursor", "cursor_param": "cursor", "next_cursor_path": "next"},
    }
    assert acquire(cfg).fingerprint == result.fingerprint


def test_acquire_requests_numbered_pages_until_a_short_one(serve) -> None:
    pages = {"1": records(1, 2), "2": records(3, 4), "3": records(5)}
    server = serve(
        lambda request, _: Reply(body={"result": {"items": pages[request.query["page"]]}})
    )
    cfg = config(server.url, records_path="result.items", pagination={"type": "page", "size": 2})

    result = acquire(cfg)

    assert [r.query for r in server.requests] == [
        {"page": "1", "per_page": "2"},
        {"page": "2", "per_page": "2"},
        {"page": "3", "per_page": "2"},
    ]
    assert result.frame["id"].tolist() == [1, 2, 3, 4, 5]
    assert result.quarantined == []


def test_acquire_retries_503_and_then_succeeds(serve) -> None:
    def script(request: Request, server: Server) -> Reply:
        if len(server.requests) <= 2:
            return Reply(status=503, body={"error": "busy"})
        return Reply(body={"data": records(1)})

    server = serve(script)

    result = acquire(config(server.url))

    assert len(server.requests) == 3
    assert result.frame["id"].tolist() == [1]


def test_acquire_gives_up_after_max_retries_on_500(serve) -> None:
    server = serve(lambda request, _: Reply(status=500, body={"error": "boom"}))

    error = error_of(config(server.url))

    assert len(server.requests) == 5  # max_retries=4 by default, plus the first attempt
    assert str(error) == (
        f"{server.url}: GET {server.url} failed after 5 attempts: 500 Internal Server Error"
    )


def test_acquire_waits_as_long_as_retry_after_says_on_429(serve) -> None:
    def script(request: Request, server: Server) -> Reply:
        if len(server.requests) == 1:
            return Reply(status=429, headers={"Retry-After": "1"})
        return Reply(body={"data": records(1)})

    server = serve(script)

    result = acquire(config(server.url))

    assert len(server.requests) == 2
    assert server.requests[1].at - server.requests[0].at >= 0.95
    assert result.rows_in == 1


def test_acquire_caps_a_long_retry_after_at_max_backoff(serve) -> None:
    def script(request: Request, server: Server) -> Reply:
        if len(server.requests) == 1:
            return Reply(status=429, headers={"Retry-After": "3600"})
        return Reply(body={"data": records(1)})

    server = serve(script)
    started = time.monotonic()

    acquire(config(server.url, max_backoff_s=0.2))

    assert len(server.requests) == 2
    assert time.monotonic() - started < 2


def test_acquire_fails_when_the_server_hangs(serve) -> None:
    def script(request: Request, server: Server) -> Reply:
        server.release.wait(timeout=5)
        return Reply(body={"data": []})

    server = serve(script)
    started = time.monotonic()

    error = error_of(config(server.url, timeout_s=0.5, max_retries=1))

    assert str(error) == (
        f"{server.url}: GET {server.url} failed after 2 attempts: timed out after 0.5 s"
    )
    assert len(server.requests) == 2
    assert time.monotonic() - started < 3


def test_acquire_fails_at_once_on_404(serve) -> None:
    server = serve(lambda request, _: Reply(status=404, body={"error": "no such thing"}))

    error = error_of(config(server.url))

    assert len(server.requests) == 1
    assert str(error) == f"{server.url}: GET {server.url} failed: 404 Not Found"


def test_acquire_sends_the_auth_header_from_the_environment_only(
    serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    server = serve(lambda request, _: Reply(body={"data": records(1)}))
    cfg = config(server.url, auth_header="Authorization", auth_env=TOKEN_ENV)

    result = acquire(cfg)

    assert server.requests[0].headers["Authorization"] == TOKEN
    assert result.source.params["auth_header"] == "Authorization"
    assert "s3cr3t" not in json.dumps(result.source.params)
    assert "s3cr3t" not in result.source.uri
    assert "s3cr3t" not in result.source.id


def test_acquire_keeps_the_credential_out_of_errors_a_server_echoes(
    serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    server = serve(
        lambda request, _: Reply(status=401, reason=f"Bad {request.headers['Authorization']}")
    )
    cfg = config(server.url, auth_header="Authorization", auth_env=TOKEN_ENV)

    error = error_of(cfg)

    assert str(error) == (
        f"{server.url}: GET {server.url} failed: 401 Bad *** (check the credential in ${TOKEN_ENV})"
    )
    assert "s3cr3t" not in str(error)


def test_acquire_masks_a_url_password_and_retries_a_refused_connection() -> None:
    # Nothing listens on port 1 of the loopback interface.
    error = error_of(config("http://reader:pw-s3cret@127.0.0.1:1/items", max_retries=1))

    assert error.source == "http://reader:***@127.0.0.1:1/items"
    assert error.problem.startswith(
        "GET http://127.0.0.1:1/items failed after 2 attempts: ConnectError: "
    )
    assert "s3cret" not in str(error)


def test_acquire_sends_url_credentials_as_basic_auth(serve) -> None:
    server = serve(lambda request, _: Reply(body={"data": records(1)}))
    url = server.url.replace("http://", "http://reader:pw-s3cret@")

    result = acquire(config(url))

    assert server.requests[0].headers["Authorization"] == "Basic cmVhZGVyOnB3LXMzY3JldA=="
    assert result.source.uri == server.url.replace("http://", "http://reader:***@")


def test_acquire_fails_before_any_request_when_the_env_variable_is_missing(
    serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    server = serve(lambda request, _: Reply(body={"data": records(1)}))

    error = error_of(config(server.url, auth_header="Authorization", auth_env=TOKEN_ENV))

    assert str(error) == (
        f"{server.url}: environment variable {TOKEN_ENV} is not set "
        "(it holds the Authorization header)"
    )
    assert server.requests == []


def test_acquire_fails_when_a_cursor_repeats(serve) -> None:
    pages = {None: "a", "a": "b", "b": "a"}
    server = serve(
        lambda request, _: Reply(
            body={"data": records(len(request.query)), "next": pages[request.query.get("cursor")]}
        )
    )

    error = error_of(config(server.url, pagination={"type": "cursor"}))

    assert str(error) == f"{server.url}: page 3 returned cursor 'a' again: the pagination loops"
    assert len(server.requests) == 3


def test_acquire_fails_when_max_pages_is_reached(serve) -> None:
    def script(request: Request, _: Server) -> Reply:
        page = int(request.query["page"])
        return Reply(body={"data": records(2 * page, 2 * page + 1)})

    server = serve(script)

    error = error_of(config(server.url, pagination={"type": "page", "size": 2}, max_pages=3))

    assert str(error) == (
        f"{server.url}: more pages remain after max_pages=3 (raise max_pages or narrow the request)"
    )
    assert len(server.requests) == 3


def test_acquire_fails_when_an_api_ignores_the_page_parameter(serve) -> None:
    server = serve(lambda request, _: Reply(body={"data": records(1, 2)}))

    error = error_of(config(server.url, pagination={"type": "page", "size": 2}))

    assert str(error) == f"{server.url}: page 2 repeats page 1: is page_param 'page' right?"


def test_acquire_names_the_page_that_is_not_json(serve) -> None:
    def script(request: Request, _: Server) -> Reply:
        if "cursor" in request.query:
            return Reply(raw=b"<html>maintenance</html>")
        return Reply(body={"data": records(1), "next": "c2"})

    server = serve(script)

    error = error_of(config(server.url, pagination={"type": "cursor"}))

    assert str(error) == (
        f"{server.url}: page 2 ({server.url}?cursor=c2) is not JSON: Expecting value"
    )


def test_acquire_names_the_page_without_records_path(serve) -> None:
    server = serve(lambda request, _: Reply(body={"items": records(1)}))

    error = error_of(config(server.url))

    assert str(error) == f"{server.url}: page 1 ({server.url}) has no list at 'data'"


def test_acquire_quarantines_records_that_are_not_objects(serve) -> None:
    server = serve(lambda request, _: Reply(body={"data": [*records(1), "oops", [2]]}))

    result = acquire(config(server.url))

    assert result.quarantined == [
        {
            "source_row": 2,
            "reasons": [{"check": "not_an_object", "column": None, "observed": "a JSON string"}],
            "raw": '"oops"',
        },
        {
            "source_row": 3,
            "reasons": [{"check": "not_an_object", "column": None, "observed": "a JSON array"}],
            "raw": "[2]",
        },
    ]
    assert result.rows_in == 3


def test_acquire_stops_at_max_records(serve) -> None:
    server = serve(lambda request, _: Reply(body={"data": records(*range(1, 4)), "next": "more"}))

    result = acquire(config(server.url, max_records=2))

    assert result.frame["id"].tolist() == [1, 2]
    assert result.notes == ["stopped at max_records=2"]
    assert len(server.requests) == 1


def test_acquire_quarantines_records_that_cannot_be_stored(serve) -> None:
    nested = "[" * 200 + "]" * 200
    body = (
        '{"data": [{"id": 1, "text": "ok"}, {"id": 2, "text": "\\ud800"}, '
        f'{{"id": 3, "text": {nested}}}, {{"id": 4, "text": NaN}}, "\\udfff", '
        '{"id": 5, "text": "end"}]}'
    ).encode()
    server = serve(lambda request, _: Reply(raw=body))

    result = acquire(config(server.url))
    again = acquire(config(server.url))

    # Levels beyond the limit are cut from the raw text: the record is level 1.
    kept = MAX_DEPTH - 1
    assert result.quarantined == [
        {
            "source_row": 2,
            "reasons": [
                {
                    "check": "invalid_unicode",
                    "column": "text",
                    "observed": "surrogate code point U+D800 at character 1",
                }
            ],
            "raw": '{"id":2,"text":"\\ud800"}',
        },
        {
            "source_row": 3,
            "reasons": [{"check": "too_deep", "column": "text", "observed": TOO_DEEP}],
            "raw": '{"id":3,"text":' + "[" * kept + '"…"' + "]" * kept + "}",
        },
        {
            "source_row": 4,
            "reasons": [{"check": "non_finite_number", "column": "text", "observed": "NaN"}],
            "raw": '{"id":4,"text":NaN}',
        },
        {
            "source_row": 5,
            "reasons": [{"check": "not_an_object", "column": None, "observed": "a JSON string"}],
            "raw": '"\\udfff"',
        },
    ]
    assert result.frame["id"].tolist() == [1, 5]
    assert result.rows_in == 6
    assert again.fingerprint == result.fingerprint


def test_acquire_names_the_page_nested_too_deeply_to_parse(serve) -> None:
    body = b'{"data": [' + b"[" * 5000 + b"]" * 5000 + b"]}"
    server = serve(lambda request, _: Reply(raw=body))

    error = error_of(config(server.url))

    assert str(error) == (
        f"{server.url}: page 1 ({server.url}) is not JSON Python can read: it is nested too deeply"
    )


_texts = st.text(
    st.one_of(st.characters(exclude_categories=()), st.characters(categories=["Cs"])),
    max_size=8,
)
_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _texts),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
    max_leaves=10,
)
_items = st.one_of(
    st.fixed_dictionaries({"id": st.integers(), "text": _values}),
    st.dictionaries(st.sampled_from(["id", "text"]) | _texts, _values, max_size=3),
    _values,
)


def _storable(item: Any) -> bool:
    """Whether an item can be a stored row, decided without govflow's own checks."""
    try:
        json.dumps(item, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError):
        return False
    return isinstance(item, dict)


def test_acquire_accounts_for_every_record_of_arbitrary_json_pages(serve) -> None:
    page = {"body": b""}
    server = serve(lambda request, _: Reply(raw=page["body"]))

    @settings(max_examples=50, deadline=None, database=None)
    @given(items=st.lists(_items, max_size=6))
    def check(items: list[Any]) -> None:
        page["body"] = json.dumps({"data": items}).encode("ascii")

        result = acquire(config(server.url))

        assert result.rows_in == len(items) == len(result.frame) + len(result.quarantined)
        quarantined = {row["source_row"] for row in result.quarantined}
        unstorable = {n for n, item in enumerate(items, start=1) if not _storable(item)}
        assert unstorable <= quarantined
        prepare_items(frame_to_records(result.frame))
        for row in result.quarantined:
            assert row["reasons"]
            canonical_json(row).encode("utf-8")

    check()
