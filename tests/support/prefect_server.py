"""A real, local Prefect server for the tests: started once per session, on a free port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

STARTUP_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrefectServer:
    """``prefect server start`` in a subprocess with its own PREFECT_HOME and SQLite file.

    ``database_url`` puts the server's own database elsewhere (e.g.
    ``postgresql+asyncpg://...``); ``extra_env`` adds server settings.
    """

    def __init__(
        self,
        port: int,
        home: Path,
        *,
        auth_string: str | None = None,
        database_url: str | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = port
        self.home = home
        self.auth_string = auth_string
        self.database_url = database_url
        self.extra_env = dict(extra_env or {})
        self.api_url = f"http://127.0.0.1:{port}/api"
        self.ui_url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = home / "server.log"

    def env(self) -> dict[str, str]:
        env = os.environ | {
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_API_HOST": "127.0.0.1",
            "PREFECT_SERVER_API_PORT": str(self.port),
            "PREFECT_UI_API_URL": self.api_url,
            # A loaded 2-core CI machine can hold SQLite's lock for seconds: wait, don't 503.
            "PREFECT_SERVER_DATABASE_TIMEOUT": "60",
            "PREFECT_API_LOG_RETRYABLE_ERRORS": "true",
        }
        if self.auth_string:
            env["PREFECT_SERVER_API_AUTH_STRING"] = self.auth_string
        else:
            env.pop("PREFECT_SERVER_API_AUTH_STRING", None)
        if self.database_url:
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = self.database_url
        return env | self.extra_env

    def start(self) -> PrefectServer:
        self.home.mkdir(parents=True, exist_ok=True)
        prefect = Path(sys.executable).parent / "prefect"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_healthy()
        return self

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        auth = tuple(self.auth_string.split(":", 1)) if self.auth_string else None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"Prefect server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.api_url}/health", auth=auth, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"Prefect server did not start: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


def temp_home(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
