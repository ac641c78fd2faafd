"""A small httpx client for the Prefect REST API (for the CLI; no Prefect import).

Respects ``PREFECT_API_URL`` and ``PREFECT_API_AUTH_STRING`` as Prefect defines them (the
environment first, then the active Prefect profile file), and translates transport failures
into ``PrefectUnavailable`` with the URL and the fix.
"""

from __future__ import annotations

import base64
import os
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from govflow.errors import NotFound, PrefectUnavailable

__all__ = ["PrefectAPI", "PrefectUnavailable", "RunState", "api_url", "auth_headers", "ui_base_url"]

DEFAULT_TIMEOUT_S = 15.0
PAGE = 200  # the server's maximum page size
RETRIES = 5
CONNECT_RETRIES = 2
BACKOFF_S = 0.2
RETRY_STATUSES = frozenset({502, 503, 504})
TERMINAL_TYPES = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})


@dataclass(frozen=True)
class RunState:
    """A flow run's state as the REST API reports it: the one place its JSON is read."""

    type: str | None
    name: str | None
    pause_key: str | None = None
    timestamp: str | None = None
    message: str | None = None

    @classmethod
    def of(cls, run: dict[str, Any]) -> RunState:
        """Read the state of a flow run record (``GET /flow_runs/{id}``)."""
        state = run.get("state") or {}
        details = state.get("state_details") or {}
        return cls(
            type=state.get("type"),
            name=state.get("name"),
            pause_key=details.get("pause_key") or None,
            timestamp=state.get("timestamp"),
            message=state.get("message"),
        )

    @property
    def is_paused(self) -> bool:
        """Paused or Suspended: waiting at a pause (Prefect's type PAUSED covers both)."""
        return self.type == "PAUSED"

    @property
    def is_suspended(self) -> bool:
        """Suspended: waiting with no process (only deployed top-level runs suspend)."""
        return self.type == "PAUSED" and self.name == "Suspended"

    @property
    def is_running(self) -> bool:
        return self.type == "RUNNING"

    @property
    def is_terminal(self) -> bool:
        return self.type in TERMINAL_TYPES

    @property
    def is_completed(self) -> bool:
        return self.type == "COMPLETED"

    def waits_at(self, key_prefix: str) -> bool:
        """Tell whether the run is paused or suspended at a pause key starting with a prefix."""
        return self.is_paused and (self.pause_key or "").startswith(key_prefix)


def _profile_setting(name: str) -> str | None:
    """Read a setting from the active Prefect profile (``~/.prefect/profiles.toml``)."""
    home = Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect")).expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH", home / "profiles.toml")).expanduser()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or data.get("active", "local")
    value = data.get("profiles", {}).get(active, {}).get(name)
    return str(value) if value else None


def api_url() -> str:
    """Return the Prefect API URL, or fail with how to set it."""
    url = os.environ.get("PREFECT_API_URL") or _profile_setting("PREFECT_API_URL")
    if not url:
        raise PrefectUnavailable(
            "PREFECT_API_URL is not set",
            hint="export PREFECT_API_URL=http://127.0.0.1:4200/api (or start `make demo`)",
        )
    return url.rstrip("/")


def ui_base_url() -> str | None:
    """Return the Prefect UI's base URL: PREFECT_UI_URL, else the API URL without /api."""
    explicit = os.environ.get("PREFECT_UI_URL") or _profile_setting("PREFECT_UI_URL")
    if explicit:
        return explicit.rstrip("/")
    try:
        url = api_url()
    except PrefectUnavailable:
        return None
    return url[: -len("/api")] if url.endswith("/api") else url


def auth_headers() -> dict[str, str]:
    auth = os.environ.get("PREFECT_API_AUTH_STRING") or _profile_setting("PREFECT_API_AUTH_STRING")
    if not auth:
        return {}
    return {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}


class PrefectAPI:
    """Thin synchronous access to the endpoints govflow needs."""

    def __init__(self, url: str | None = None, *, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.url = (url or api_url()).rstrip("/")
        self._client = httpx.Client(base_url=self.url, headers=auth_headers(), timeout=timeout)

    def __enter__(self) -> PrefectAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request, retrying what Prefect itself retries: 502/503/504 and lost connections.

        A Prefect server on SQLite answers 503 when its database is briefly locked; the
        request was rolled back, so sending it again is safe.
        """
        for attempt in range(RETRIES + 1):
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt < CONNECT_RETRIES and not isinstance(exc, httpx.TimeoutException):
                    time.sleep(BACKOFF_S * 2**attempt)
                    continue
                raise PrefectUnavailable(
                    f"cannot reach the Prefect API at {self.url}: {exc}",
                    hint="check PREFECT_API_URL and that the Prefect server is running",
                ) from exc
            if response.status_code in RETRY_STATUSES and attempt < RETRIES:
                time.sleep(BACKOFF_S * 2**attempt)
                continue
            break
        if response.status_code in (401, 403):
            raise PrefectUnavailable(
                f"the Prefect API at {self.url} refused the credentials",
                hint="set PREFECT_API_AUTH_STRING to the server's user:password",
            )
        return response

    def get_json(self, path: str) -> Any:
        response = self.request("GET", path)
        self._raise_for_status(response, path)
        return response.json()

    def post_json(self, path: str, body: dict[str, Any]) -> Any:
        response = self.request("POST", path, json=body)
        self._raise_for_status(response, path)
        return response.json() if response.content else None

    def _raise_for_status(self, response: httpx.Response, path: str) -> None:
        if response.is_error:
            raise PrefectUnavailable(
                f"Prefect API {path} answered {response.status_code}: {response.text[:200]}"
            )

    # Flow runs -----------------------------------------------------------------------
    def flow_run(self, flow_run_id: str) -> dict[str, Any]:
        response = self.request("GET", f"/flow_runs/{flow_run_id}")
        if response.status_code == 404:
            raise NotFound("flow run", flow_run_id, where=self.url)
        self._raise_for_status(response, f"/flow_runs/{flow_run_id}")
        return response.json()

    def run_state(self, flow_run_id: str) -> RunState:
        """Return the run's current state."""
        return RunState.of(self.flow_run(flow_run_id))

    def paused_runs(self, limit: int = 2000) -> list[dict[str, Any]]:
        """Return paused and suspended runs, oldest first (pages of the server's maximum)."""
        runs: list[dict[str, Any]] = []
        while len(runs) < limit:
            page = self.post_json(
                "/flow_runs/filter",
                {
                    "flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}},
                    "sort": "START_TIME_ASC",
                    "limit": min(PAGE, limit - len(runs)),
                    "offset": len(runs),
                },
            )
            runs.extend(page)
            if len(page) < PAGE:
                break
        return runs

    def read_input(self, flow_run_id: str, key: str) -> str | None:
        response = self.request("GET", f"/flow_runs/{flow_run_id}/input/{key}")
        if response.status_code == 404:
            return None
        self._raise_for_status(response, f"/flow_runs/{flow_run_id}/input/{key}")
        return response.text

    def wait_for_input(self, flow_run_id: str, key: str, *, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while True:
            value = self.read_input(flow_run_id, key)
            if value is not None or time.monotonic() >= deadline:
                return value
            time.sleep(0.1)

    def resume(self, flow_run_id: str, run_input: dict[str, Any]) -> dict[str, Any]:
        return self.post_json(f"/flow_runs/{flow_run_id}/resume", {"run_input": run_input})

    def wake(self, flow_run_id: str) -> None:
        """Reschedule a suspended run the way Prefect's resume endpoint does, without input."""
        self.set_state(flow_run_id, {"type": "SCHEDULED", "name": "Resuming"}, force=True)

    def set_state(self, flow_run_id: str, state: dict[str, Any], *, force: bool) -> dict[str, Any]:
        return self.post_json(
            f"/flow_runs/{flow_run_id}/set_state", {"state": state, "force": force}
        )
