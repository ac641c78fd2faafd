"""The demo's background processes: they die with the demo, and a busy port starts nothing.

Processes are followed through /proc (Linux), by pid and start time, so that a recycled pid
is never mistaken for a survivor.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.demo.test_demo import ROOT, DemoProcess
from tests.support.prefect_server import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]
STARTUP_S = 180


def _env(home: Path, port: int) -> dict[str, str]:
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PREFECT_", "GOVFLOW_"))
    } | {"GOVFLOW_HOME": str(home), "GOVFLOW_DEMO_PORT": str(port)}


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a process, or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _descendants(root: int) -> dict[tuple[int, int], str]:
    """Every process below ``root``, keyed by (pid, start time), with its command line."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = stat
    found, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (_, ppid, started) in parents.items():
            if ppid == parent and (pid, started) not in found:
                found[(pid, started)] = _cmdline(pid)
                frontier.append(pid)
    return found


def _alive(pid: int, started: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[2] == started and stat[0] not in ("Z", "X")


def test_killing_the_demo_takes_its_server_serve_and_flow_runs_with_it(tmp_path):
    port = free_port()
    demo = DemoProcess(_env(tmp_path / "home", port), tmp_path / "demo.log")
    survivors: dict[tuple[int, int], str] = {}
    try:
        deadline = time.monotonic() + STARTUP_S
        while (line := demo.next_line(deadline)) is not None:
            if line.startswith("$ govflow run pipeline/pipeline"):
                break
        # Wait until `govflow serve` runs the pipeline in a subprocess of its own.
        while time.monotonic() < deadline:
            processes = _descendants(demo.proc.pid)
            if any("multiprocessing" in c or "prefect.engine" in c for c in processes.values()):
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"no flow-run process appeared: {processes}")
        assert any(" server start " in cmd for cmd in processes.values()), processes
        assert any("govflow serve" in cmd for cmd in processes.values()), processes

        demo.proc.kill()
        demo.proc.wait(timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            survivors = {key: cmd for key, cmd in processes.items() if _alive(*key)}
            if not survivors:
                break
            time.sleep(0.5)
    finally:
        for pid, _ in (key for key in survivors if _alive(*key)):
            os.kill(pid, signal.SIGKILL)
        if demo.proc.poll() is None:
            demo.proc.kill()

    assert survivors == {}


class _Answering(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"true")

    def log_message(self, *args: object) -> None:
        pass


def test_demo_refuses_a_port_that_already_answers_and_starts_nothing(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answering)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    home = tmp_path / "home"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "demo.run"],
            cwd=ROOT,
            env=_env(home, port),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.shutdown()
        server.server_close()

    assert done.returncode == 1
    assert done.stderr == (
        f"\ndemo failed: port {port} (GOVFLOW_DEMO_PORT) is already in use on 127.0.0.1: "
        "something, perhaps the Prefect server of an earlier demo, is listening there. "
        "Stop it, or choose a free port with GOVFLOW_DEMO_PORT.\n"
    )
    assert "$ PREFECT_HOME=" not in done.stdout
    assert not (home / "demo-logs").exists()
