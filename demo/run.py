"""The quickstart demo (``make demo``): the whole governed pipeline on bundled DEMO DATA.

Steps, each shown with the real ``govflow`` command it runs so it can be repeated by hand:

1. Prefect: with ``PREFECT_API_URL`` set, use that server (and never stop it). Otherwise
   start ``prefect server start`` on 127.0.0.1 (port ``GOVFLOW_DEMO_PORT``, which must be
   free, else 4200 if free, else any free port) with ``PREFECT_HOME=$GOVFLOW_HOME/prefect``
   (SQLite), and stop it on exit, Ctrl-C or SIGTERM.
2. The ledger (``govflow db upgrade``) and the annotation guideline (``govflow guidelines
   publish``; identical content is a no-op).
3. The roster: simulated annotators ann-1..ann-5, reviewer rev-1, specialist spec-1 and lead
   lead-1. Tokens are saved to ``$GOVFLOW_HOME/demo-tokens/<id>.token`` (mode 0600) and
   printed; a re-run reuses them (a missing file gets ``govflow reviewers rotate-token``).
4. ``govflow serve`` in the background (stopped on exit), serving deployments/prefect.yaml.
5. ``govflow run pipeline/pipeline``: ingest, pre-process, annotate, consensus, review,
   labeled checkpoint and curated labeled version, on ``demo/data/support_tickets.jsonl``.
6. While the run waits for annotators, the simulated annotators (``python -m
   demo.annotators``, DEMO DATA) answer the round and ``govflow annotations import`` brings
   the labels back. At each review gate the demo prints the Prefect UI link and the
   ``govflow review decide`` command, and waits for a person to answer; nothing is answered
   for them. When the run completes: the run's summary (its Markdown artifact), the curated
   labeled version's lineage and ``govflow audit verify``.
7. ``govflow run release/release`` on the labeled version: train the default model, evaluate
   it on ``evaluations/support-intent.yaml`` (routine, edge-case, adversarial and policy
   slices), red-team it. The specialist's findings gate and the two sign-off gates (spec-1,
   then lead-1: a quorum of two) are printed with their report and commands; once both
   sign, the certificate promotes the model to ``production`` and the demo prints the
   model's lineage, from the model down to the reviewers.

Running it again is safe: the ledger is content-addressed and answered gates are never asked
again, so a second run completes without waiting for anyone. Stopping the demo (Ctrl-C,
SIGTERM) cancels its unfinished run, which nothing could finish once ``govflow serve``
stops; answers already given stay in the ledger and are not asked again.

The background processes die with the demo however it ends, SIGKILL included: each is told
by the kernel when the demo goes (Linux's parent-death signal), and a small watchdog per
process group, holding one end of a pipe the demo holds the other end of, stops the whole
group (flow-run subprocesses of ``govflow serve`` included) once that pipe closes.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STARTED = time.monotonic()
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PORT_VARIABLE = "GOVFLOW_DEMO_PORT"
DEFAULT_PORT = 4200
POLL_S = 2.0
SERVER_STARTUP_S = 120.0
# How long an orphaned process group gets to stop on SIGTERM before the watchdog kills it.
WATCHDOG_GRACE_S = 5.0
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
DEPLOYMENT = "pipeline/pipeline"
RELEASE = "release/release"
PARAMS = {
    "config_path": "demo/support_tickets.source.yaml",
    "project": "support-intent",
    "guideline_path": "demo/guidelines/support-intent.v1.yaml",
    "gold_path": "demo/data/support_tickets.gold.jsonl",
    "overlap": 3,
    "gold_rate": 0.1,
    "seed": 0,
}
# (id, role, display name): the demo roster.
PEOPLE = [
    *((f"ann-{n}", "annotator", f"Demo annotator {n} (simulated)") for n in range(1, 6)),
    ("rev-1", "reviewer", "Demo reviewer"),
    ("spec-1", "specialist", "Demo specialist"),
    ("lead-1", "lead", "Demo lead"),
]
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


class DemoError(Exception):
    """The demo cannot go on; the message says why."""


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwind so that whatever the demo started is stopped."""


def say(text: str = "") -> None:
    print(text, flush=True)


def elapsed() -> float:
    return time.monotonic() - STARTED


def display_path(path: Path) -> str:
    """Show ``path`` relative to the current folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class Demo:
    """Everything the demo started, and the environment its commands run in."""

    def __init__(self) -> None:
        self.home_was_set = bool(os.environ.get("GOVFLOW_HOME"))
        self.home = Path(os.environ.get("GOVFLOW_HOME") or ROOT / ".govflow").resolve()
        # The demo's own library calls and every command it runs read the same settings.
        os.environ["GOVFLOW_HOME"] = str(self.home)
        self.api_url = os.environ.get("PREFECT_API_URL", "").rstrip("/")
        self.own_server = not self.api_url
        self.started: list[tuple[str, subprocess.Popen[bytes], Path]] = []
        # A pipe the demo never writes to: its watchdogs see end-of-file once the demo is
        # gone, however it ended (see spawn).
        self.lifeline: tuple[int, int] | None = None
        self.run_id: str | None = None
        self.gate_seen = False
        self.tokens = self.home / "demo-tokens"
        self.logs = self.home / "demo-logs"

    # Commands --------------------------------------------------------------------------
    def govflow(self, *args: str, show_stdout: bool = True) -> str:
        """Run one govflow command visibly; return its stdout; fail the demo if it fails."""
        say(f"\n$ govflow {shlex.join(args)}")
        proc = subprocess.run(
            [str(BIN / "govflow"), *args], cwd=ROOT, text=True, capture_output=True
        )
        if proc.stderr:
            print(proc.stderr, end="", file=sys.stderr, flush=True)
        if show_stdout:
            print(proc.stdout, end="", flush=True)
        if proc.returncode != 0:
            raise DemoError(f"`govflow {args[0]} {args[1] if len(args) > 1 else ''}` failed")
        return proc.stdout

    def cli_prefix(self) -> str:
        """The environment and program a person types to reach this demo's server."""
        program = display_path(BIN / "govflow")
        assignments = [f"PREFECT_API_URL={self.api_url}"] if self.own_server else []
        if self.home_was_set or Path.cwd().resolve() != ROOT:
            assignments.append(f"GOVFLOW_HOME={shlex.quote(str(self.home))}")
        return " ".join([*assignments, program])

    # Background processes --------------------------------------------------------------
    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start a background process in its own process group, logging to demo-logs/.

        The group dies with the demo, even a demo killed with SIGKILL: see the module's
        docstring.
        """
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{name}.log"
        self._stop_leftover(name)
        with log.open("ab") as handle:
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_parent_death_signal(),
            )
        self.started.append((name, proc, log))
        (self.logs / f"{name}.pid").write_text(f"{proc.pid}\n")
        self._watch(proc.pid)
        return proc

    def _watch(self, group: int) -> None:
        """Start a watchdog that stops process group ``group`` once the demo is gone."""
        if self.lifeline is None:
            self.lifeline = os.pipe()
        read_end = self.lifeline[0]
        subprocess.Popen(
            [sys.executable, "-c", WATCHDOG, str(group), str(read_end)],
            cwd=ROOT,
            pass_fds=(read_end,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Out of the demo's own group: Ctrl-C or a kill of that group must not stop it.
            start_new_session=True,
        )

    def _stop_leftover(self, name: str) -> None:
        """Stop a process of this name that an earlier demo, killed hard, left running."""
        pid_file = self.logs / f"{name}.pid"
        try:
            pid = int(pid_file.read_text())
        except (OSError, ValueError):
            return
        command = subprocess.run(
            ["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True
        ).stdout
        marker = "prefect" if name == "prefect-server" else "govflow"
        if marker in command:
            say(f"stopping the {name} process an earlier demo left running (pid {pid})")
            _stop_group(pid)
        pid_file.unlink(missing_ok=True)

    def stop_all(self) -> None:
        """Stop what the demo started, newest first."""
        while self.started:
            name, proc, _ = self.started.pop()
            if proc.poll() is None:
                say(f"stopping {name} (pid {proc.pid})")
                _stop_group(proc.pid, proc)
            (self.logs / f"{name}.pid").unlink(missing_ok=True)

    def check_alive(self) -> None:
        for name, proc, log in self.started:
            if proc.poll() is not None:
                raise DemoError(f"{name} exited with code {proc.returncode}:\n{_tail(log)}")

    # Step 1: Prefect -------------------------------------------------------------------
    def start_prefect(self) -> None:
        import httpx

        if not self.own_server:
            say(f"using the Prefect server at PREFECT_API_URL={self.api_url}")
            return
        self._stop_leftover("prefect-server")  # before choosing: it may hold the port
        port = _choose_port()
        prefect_home = self.home / "prefect"
        prefect_home.mkdir(parents=True, exist_ok=True)
        self.api_url = f"http://127.0.0.1:{port}/api"
        server_env = os.environ | {
            "PREFECT_HOME": str(prefect_home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_API_HOST": "127.0.0.1",
            "PREFECT_SERVER_API_PORT": str(port),
            "PREFECT_UI_API_URL": self.api_url,
            # A busy 2-core machine can hold SQLite's lock for seconds: wait, don't answer 503.
            "PREFECT_SERVER_DATABASE_TIMEOUT": "60",
            "PREFECT_API_LOG_RETRYABLE_ERRORS": "true",
        }
        server_env.pop("PREFECT_SERVER_API_AUTH_STRING", None)
        argv = ["prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
        say(f"\n$ PREFECT_HOME={display_path(prefect_home)} {shlex.join(argv)} &")
        proc = self.spawn("prefect-server", [str(BIN / "prefect"), *argv[1:]], server_env)
        deadline = time.monotonic() + SERVER_STARTUP_S
        while True:
            self.check_alive()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise DemoError(f"the Prefect server did not start:\n{_tail(self.logs_of(proc))}")
            time.sleep(0.3)
        # Everything the demo runs talks to this server and keeps Prefect's files beside it.
        os.environ |= {
            "PREFECT_API_URL": self.api_url,
            "PREFECT_HOME": str(prefect_home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
        for variable in ("PREFECT_API_AUTH_STRING", "PREFECT_UI_URL", "PREFECT_PROFILE"):
            os.environ.pop(variable, None)
        say(f"Prefect server up at {self.api_url.removesuffix('/api')} ({elapsed():.1f} s)")

    def logs_of(self, proc: subprocess.Popen[bytes]) -> Path:
        return next(log for _, p, log in self.started if p is proc)

    # Step 3: roster --------------------------------------------------------------------
    def ensure_roster(self) -> None:
        self.tokens.mkdir(mode=0o700, parents=True, exist_ok=True)
        existing = {
            person["id"]
            for person in json.loads(self.govflow("reviewers", "list", "--json", show_stdout=False))
        }
        say("\nDemo people and their tokens (DEMO ONLY: never print real tokens):")
        rows = []
        for person_id, role, name in PEOPLE:
            path = self.tokens / f"{person_id}.token"
            if person_id in existing and path.exists():
                token = path.read_text().strip()
            else:
                if person_id in existing:
                    args = ("reviewers", "rotate-token", person_id)
                else:
                    args = ("reviewers", "add", person_id, "--role", role, "--name", name)
                token = self.govflow(*args, show_stdout=False).strip()
                _write_secret(path, token)
            rows.append((person_id, role, token, display_path(path)))
        say("")
        for person_id, role, token, path in rows:
            say(f"  {person_id:<7} {role:<11} {token}  ({path})")

    # Step 4-5: serve and trigger -------------------------------------------------------
    def start_serving(self) -> None:
        say("\n$ govflow serve &")
        # Pick up new and resumed runs within 2 s rather than Prefect's default 10 s.
        serve_env = os.environ | {"PREFECT_RUNNER_POLL_FREQUENCY": "2"}
        self.spawn("govflow-serve", [str(BIN / "govflow"), "serve"], serve_env)
        flow, _, deployment = DEPLOYMENT.partition("/")
        deadline = time.monotonic() + SERVER_STARTUP_S
        with self.api() as api:
            while api.request("GET", f"/deployments/name/{flow}/{deployment}").status_code != 200:
                self.check_alive()
                if time.monotonic() > deadline:
                    raise DemoError(f"deployment {DEPLOYMENT} did not appear on the server")
                time.sleep(0.5)
        say(f"serving the deployments of deployments/prefect.yaml ({elapsed():.1f} s)")

    def api(self) -> Any:
        from govflow.prefect_api import PrefectAPI

        return PrefectAPI(self.api_url)

    def trigger(self) -> str:
        params_file = self.home / "demo-params.json"
        params_file.write_text(json.dumps({"params": PARAMS}, indent=2) + "\n")
        self.run_id = self.govflow(
            "run", DEPLOYMENT, "--params-file", display_path(params_file)
        ).strip()
        return self.run_id

    # Step 6: follow the run ------------------------------------------------------------
    def follow(self, run_id: str, *, what: str = "pipeline run") -> dict[str, Any]:
        from govflow.review.inbox import list_open_gates

        answered_rounds: set[str] = set()
        announced: set[str] = set()
        last_state = None
        while True:
            self.check_alive()
            with self.api() as api:
                run = api.flow_run(run_id)
                family = _family(api, run_id)
                gates = [g for g in list_open_gates(api) if g["flow_run_id"] in family]
            state = run.get("state") or {}
            if state.get("name") != last_state:
                last_state = state.get("name")
                say(f"[{elapsed():6.1f} s] {what} {run['name']}: {last_state}")
            for round_id in self.collecting_rounds(family) - answered_rounds:
                answered_rounds.add(round_id)
                self.annotate(round_id)
            for gate in gates:
                if gate["pause_key"] in announced:
                    continue
                announced.add(gate["pause_key"])
                if not self.gate_seen:
                    self.gate_seen = True
                    say(f"\nfirst review gate reached {elapsed():.1f} s after the demo started")
                self.announce(gate)
            if state.get("type") in TERMINAL:
                return run
            time.sleep(POLL_S)

    def collecting_rounds(self, family: set[str]) -> set[str]:
        """Rounds waiting for annotators on behalf of this run or one of its children."""
        from sqlalchemy import select

        from govflow.domain import RoundStatus
        from govflow.ledger.engine import Ledger
        from govflow.ledger.models import AnnotationRound

        ledger = Ledger.open(upgrade=False)
        try:
            with ledger.reader() as session:
                rounds = session.scalars(
                    select(AnnotationRound).where(AnnotationRound.status == RoundStatus.COLLECTING)
                ).all()
                return {r.id for r in rounds if r.flow_run_id in family}
        finally:
            ledger.dispose()

    def annotate(self, round_id: str) -> None:
        say(f"\nannotation round {round_id} is waiting for annotators: the simulated ones answer")
        out = self.home / "demo-submissions" / f"{round_id}.jsonl"
        argv = ["-m", "demo.annotators", "--round", round_id, "--out", display_path(out)]
        say(f"\n$ python {shlex.join(argv)}")
        proc = subprocess.run([sys.executable, *argv], cwd=ROOT, text=True)
        if proc.returncode != 0:
            raise DemoError("the simulated annotators failed")
        self.govflow("annotations", "import", display_path(out), "--round", round_id)

    def announce(self, gate: dict[str, Any]) -> None:
        """Show a gate: what it asks, the UI link and the exact command that answers it."""
        from govflow.prefect_api import ui_base_url

        run_id = gate["flow_run_id"]
        link = f"{ui_base_url()}/runs/flow-run/{run_id}"
        reviewer = _reviewer_for(gate)
        token = display_path(self.tokens / f"{reviewer}.token")
        say(
            f"\n=== review gate: {gate['kind']} (tier {gate['tier']}), "
            f"{len(gate['items'])} item(s), choices: {', '.join(gate['choices'])}"
        )
        shown = self.govflow("review", "show", run_id, show_stdout=False)
        # The command's own closing hints give way to the fuller ones printed below.
        hints = ("answer in the UI:", "or: govflow review decide")
        say("\n".join(line for line in shown.splitlines() if not line.startswith(hints)).rstrip())
        suggested = _suggestions(gate)
        sets = " ".join(f"--set {shlex.quote(f'{key}={suggested[key]}')}" for key in gate["items"])
        say(f"\nAnswer it in the Prefect UI ('Resume' on the run's page), as {reviewer}:")
        say(f"    {link}")
        say("or from a terminal (pre-filled with the machine's suggestions; change what you")
        say("disagree with, or use --all CHOICE):")
        say(
            f"    {self.cli_prefix()} review decide {run_id} --reviewer {reviewer} "
            f"--token-file {token} {sets}"
        )
        say("The demo waits for the answer (Ctrl-C stops it; answers already given are kept).")

    # Step 7: the outcome ---------------------------------------------------------------
    def report(self, run: dict[str, Any]) -> str:
        state = run.get("state") or {}
        if state.get("type") != "COMPLETED":
            raise DemoError(
                f"the pipeline run {run['name']} ended {state.get('name')}: "
                f"{state.get('message') or '(no message)'}\n"
                f"(log: {display_path(self.logs / 'govflow-serve.log')})"
            )
        summary = self.summary_artifact(run["id"])
        version_id = self.labeled_version(run["id"])
        if summary is None or version_id is None:
            raise DemoError(f"the pipeline run {run['name']} left no summary or labeled version")
        say("\n=== the run's summary (its Prefect artifact; the lineage follows)\n")
        say(summary.split("\n## Lineage", 1)[0].rstrip())
        self.govflow("lineage", version_id)
        self.govflow("audit", "verify")
        say(f"\ndone in {elapsed():.1f} s: the curated labeled version is {version_id}")
        return version_id

    # Step 8: a model under governance ----------------------------------------------------
    def release(self, labeled_id: str) -> None:
        """Train, evaluate and red-team a model on the labeled version; a quorum signs it
        off (the demo prints each signer's command) and the certificate promotes it."""
        say(
            "\n=== the model: train on the labeled version, evaluate on evaluations/"
            "support-intent.yaml, red-team, sign-off by two signers, promote"
        )
        params_file = self.home / "demo-release-params.json"
        params_file.write_text(
            json.dumps(
                {"params": {"project": PARAMS["project"], "version_id": labeled_id}}, indent=2
            )
            + "\n"
        )
        run_id = self.govflow("run", RELEASE, "--params-file", display_path(params_file)).strip()
        self.run_id = run_id
        run = self.follow(run_id, what="release run")
        state = run.get("state") or {}
        if state.get("type") != "COMPLETED":
            raise DemoError(
                f"the release run {run['name']} ended {state.get('name')}: "
                f"{state.get('message') or '(no message)'}"
            )
        aliases = json.loads(
            self.govflow(
                "models", "aliases", "--project", PARAMS["project"], "--json", show_stdout=False
            )
        )
        production = next(
            (a["model_version_id"] for a in aliases if a["alias"] == "production"), None
        )
        if production is None:
            raise DemoError("the release ended without a model in production (a signer rejected?)")
        self.govflow("models", "aliases", "--project", PARAMS["project"])
        self.govflow("lineage", production)
        self.govflow("audit", "verify")
        say(f"\nmodel {production} is in production ({elapsed():.1f} s after the demo started)")

    def labeled_version(self, run_id: str) -> str | None:
        """The labeled version the run (or one of its subflows) registered, from the ledger.

        A re-run registers nothing new: its subflow finds the version the first run made, so
        fall back to the newest labeled version of the demo dataset.
        """
        from sqlalchemy import select

        from govflow.domain import Stage
        from govflow.ledger.engine import Ledger
        from govflow.ledger.models import DatasetVersion

        with self.api() as api:
            family = _family(api, run_id)
        ledger = Ledger.open()
        try:
            with ledger.reader() as session:
                labeled = select(DatasetVersion.id).where(DatasetVersion.stage == Stage.LABELED)
                found = (
                    session.scalars(
                        labeled.where(DatasetVersion.flow_run_id.in_(sorted(family)))
                    ).first()
                    or session.scalars(
                        labeled.where(DatasetVersion.name == "support_tickets").order_by(
                            DatasetVersion.created_at.desc()
                        )
                    ).first()
                )
        finally:
            ledger.dispose()
        return found

    def summary_artifact(self, run_id: str) -> str | None:
        """The Markdown summary the pipeline run published, if any."""
        with self.api() as api:
            artifacts = api.post_json(
                "/artifacts/filter",
                {
                    "artifacts": {
                        "flow_run_id": {"any_": [run_id]},
                        "type": {"any_": ["markdown"]},
                        "key": {"like_": "pipeline-"},
                    },
                    "sort": "CREATED_DESC",
                    "limit": 1,
                },
            )
        return str(artifacts[0]["data"]) if artifacts else None

    def cancel_unfinished(self) -> None:
        """Cancel the demo's run and its children if they are still going: once `govflow
        serve` stops, nothing would ever finish them. A new `make demo` starts afresh, and
        gates answered meanwhile are not asked again."""
        if self.run_id is None:
            return
        with contextlib.suppress(Exception), self.api() as api:
            for run_id in sorted(_family(api, self.run_id)):
                state = api.flow_run(run_id).get("state") or {}
                if state.get("type") not in TERMINAL:
                    api.set_state(
                        run_id,
                        {"type": "CANCELLED", "message": "the demo was stopped"},
                        force=True,
                    )
                    say(f"cancelled flow run {run_id} ({state.get('name')})")


# Helpers ---------------------------------------------------------------------------------
def _choose_port() -> int:
    """The port for the demo's Prefect server; refuse a chosen port something already uses.

    A server found answering there (an orphan of an earlier demo, say) would be talked to as
    if it were the demo's own until the real one failed to bind.
    """
    if os.environ.get(PORT_VARIABLE):
        raw = os.environ[PORT_VARIABLE]
        try:
            port = int(raw)
        except ValueError:
            raise DemoError(f"{PORT_VARIABLE}={raw!r} is not a port number") from None
        if _port_is_taken(port):
            raise DemoError(
                f"port {port} ({PORT_VARIABLE}) is already in use on 127.0.0.1: something, "
                "perhaps the Prefect server of an earlier demo, is listening there. Stop it, "
                f"or choose a free port with {PORT_VARIABLE}."
            )
        return port
    if not _port_is_taken(DEFAULT_PORT):
        return DEFAULT_PORT
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    say(f"port {DEFAULT_PORT} is taken: the demo's Prefect server uses port {port}")
    return port


def _port_is_taken(port: int) -> bool:
    """Whether something accepts connections on, or is bound to, 127.0.0.1:``port``."""
    with socket.socket() as sock:
        sock.settimeout(1)
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            return True
    with socket.socket() as sock:
        # As servers bind: connections of an earlier server lingering in TIME_WAIT are fine.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _parent_death_signal() -> Callable[[], None] | None:
    """On Linux, a function for ``preexec_fn`` that has the kernel send the child SIGTERM
    when the demo dies (the parent-death signal fires when the forking *thread* exits: the
    demo starts its background processes from its main thread)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    demo = os.getpid()

    def arm() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != demo:  # the demo died before the signal was armed
            os._exit(1)

    return arm


# Run by each watchdog: ``python -c WATCHDOG GROUP FD``.
WATCHDOG = "import sys; from demo.run import watch_group; watch_group(*map(int, sys.argv[1:]))"


def watch_group(group: int, lifeline: int) -> None:
    """Stop process group ``group`` once the demo is gone; return early if the group ends.

    The demo never writes to the pipe: end-of-file on ``lifeline`` means the demo exited, by
    any means, and the kernel closed its end.
    """
    for handled in (signal.SIGINT, signal.SIGHUP):
        signal.signal(handled, signal.SIG_IGN)
    while True:
        readable, _, _ = select.select([lifeline], [], [], 1.0)
        if readable:
            break
        if not _group_alive(group):
            return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + WATCHDOG_GRACE_S
    while _group_alive(group) and time.monotonic() < deadline:
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_group(pid: int, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Terminate a process group (the process and its children); kill it if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc is not None:
            if proc.poll() is not None:
                break
        elif not _alive(pid):
            break
        time.sleep(0.2)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    if proc is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    # Children of the group that outlived their parent (uvicorn workers, flow subprocesses).
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _write_secret(path: Path, secret: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    path.chmod(0o600)


def _family(api: Any, run_id: str) -> set[str]:
    """The run and its child runs, at any depth."""
    family, frontier = {run_id}, [run_id]
    while frontier:
        children = api.post_json(
            "/flow_runs/filter",
            {"flow_runs": {"parent_flow_run_id": {"any_": frontier}}, "limit": 200},
        )
        frontier = [c["id"] for c in children if c["id"] not in family]
        family.update(frontier)
    return family


def _reviewer_for(gate: dict[str, Any]) -> str:
    if gate.get("assignees"):
        ours = [p for p, _, _ in PEOPLE if p in gate["assignees"]]
        if ours:
            return ours[0]
    if gate["kind"] == "promotion_approval":
        return "lead-1"
    return "spec-1" if gate["tier"] >= 2 else "rev-1"


def _suggestions(gate: dict[str, Any]) -> dict[str, str]:
    """Pre-fill each item with the machine's suggestion (from the gate's summary) when that
    is a valid choice; else a safe default."""
    proposed = gate.get("suggestions") or {}
    choices = [choice for choice in gate["choices"] if choice != "escalate"]
    fallback = "approve" if "approve" in choices else choices[0]
    return {
        key: proposed[key] if proposed.get(key) in choices else fallback for key in gate["items"]
    }


def _on_signal(signum: int, _frame: object) -> None:
    raise Terminated(signal.Signals(signum).name)


def run_demo(intro: str, steps: Callable[[Demo], int]) -> int:
    """Run a demo script's steps with the signal handling and clean-up every demo shares:
    exit 1 on a ``DemoError``, 130 on Ctrl-C, 143 on SIGTERM or SIGHUP, and always stop what
    the demo started."""
    # Explicitly: a shell starting the demo in the background would leave Ctrl-C ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    demo = Demo()
    say(intro)
    try:
        return steps(demo)
    except DemoError as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        say("\ninterrupted: stopping what the demo started")
        return 130
    except Terminated as exc:
        say(f"\n{exc}: stopping what the demo started")
        return 143
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        demo.cancel_unfinished()
        demo.stop_all()


def _main_steps(demo: Demo) -> int:
    demo.start_prefect()
    demo.govflow("db", "upgrade")
    demo.govflow("guidelines", "publish", "support-intent", PARAMS["guideline_path"])
    demo.ensure_roster()
    demo.start_serving()
    run_id = demo.trigger()
    labeled = demo.report(demo.follow(run_id))
    demo.release(labeled)
    return 0


def main() -> int:
    return run_demo(
        "govflow demo: support-ticket intents, end to end (DEMO DATA: tickets generated by\n"
        "demo/generate_sample.py, annotators simulated by demo/annotators.py)",
        _main_steps,
    )


if __name__ == "__main__":
    sys.exit(main())
