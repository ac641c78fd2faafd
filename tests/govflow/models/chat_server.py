"""A tiny OpenAI-compatible chat-completions server on 127.0.0.1, answering from a script.

It stands in for vLLM, Ollama or a hosted API at the HTTP level, so the adapter's real
httpx transport, timeouts and retries are exercised. The row's text is the user message
after ``Text: ``; the script maps a text to the replies of its successive attempts (the
last one repeats). The server records every request and the most requests in flight.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "Text: "


@dataclass(frozen=True)
class Reply:
    status: int = 200
    content: str | None = None
    logprobs: list[tuple[str, float]] | None = None
    raw_body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def completion(content: str, logprobs: list[tuple[str, float]] | None) -> dict[str, Any]:
    choice: dict[str, Any] = {
        "index": 0,
        "message": {"role": "assistant", "content": content},
        "finish_reason": "stop",
        "logprobs": None,
    }
    if logprobs is not None:
        choice["logprobs"] = {
            "content": [
                {"token": t, "logprob": lp, "bytes": list(t.encode()), "top_logprobs": []}
                for t, lp in logprobs
            ]
        }
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "test-model",
        "choices": [choice],
    }


class ChatServer:
    """Serve scripted chat completions until ``stop``; use as a context manager."""

    def __init__(self, script: dict[str, list[Reply]], default: Reply | None = None) -> None:
        self.script = script
        self.default = default or Reply(content="positive")
        self.attempts: Counter[str] = Counter()
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        # A client that timed out leaves a broken pipe behind: expected, not news.
        self._server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_reply(self, text: str) -> Reply:
        with self._lock:
            attempt = self.attempts[text]
            self.attempts[text] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        replies = self.script.get(text, [self.default])
        return replies[min(attempt, len(replies) - 1)]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.requests.append((dict(self.headers), body))
                user = body["messages"][-1]["content"]
                reply = server._next_reply(user.removeprefix(PREFIX))
                try:
                    time.sleep(reply.delay_s)
                    if self.path != "/v1/chat/completions":
                        self._send(404, json.dumps({"error": "not found"}), {})
                    elif reply.raw_body is not None:
                        self._send(reply.status, reply.raw_body, reply.headers)
                    elif reply.status != 200:
                        error = {"error": {"message": f"scripted {reply.status}"}}
                        self._send(reply.status, json.dumps(error), reply.headers)
                    else:
                        answer = completion(reply.content or "", reply.logprobs)
                        self._send(200, json.dumps(answer), reply.headers)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _send(self, status: int, body: str, headers: dict[str, str]) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler
