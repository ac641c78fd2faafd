"""An operator's setup, for end-to-end tests: Prefect and the ledger on Postgres, process workers.

Everything goes through the tools an operator uses: ``prefect server start`` on a Postgres
database, ``prefect work-pool create`` and ``prefect deploy --all`` for the deployments of
``deployments/prefect.yaml``, ``prefect worker start`` subprocesses, ``govflow run`` to
trigger runs, ``govflow review inbox`` / ``decide`` to answer their gates and ``govflow
annotations rounds`` / ``export`` / ``import`` to label their annotation rounds. The test
process only reads the ledger and the Prefect REST API, to assert and to notice that a run
waits for people.

Prefect's settings are read once per process and the test session already points at its own
server, so everything that talks to the stack's server runs in a subprocess with
``Stack.env()`` (or uses ``PrefectAPI(stack.api_url)`` over HTTP).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from govflow.prefect_api import PrefectAPI
from tests.support.prefect_server import PrefectServer, free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
POOL = "govflow"
PREFECT_FILE = "deployments/prefect.yaml"
TERMINAL = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})
# A slow 2-core CI machine runs several flow processes at once: be generous, but poll.
RUN_TIMEOUT_S = 240.0


@dataclass
class CommandResult:
    args: list[str]
    code: int
    out: str
    err: str

    def check(self) -> CommandResult:
        if self.code != 0:
            raise AssertionError(
                f"{' '.join(self.args)} exited {self.code}\n"
                f"stdout:\n{self.out}\nstderr:\n{self.err}"
            )
        return self


# Databases ------------------------------------------------------------------------------
@contextmanager
def postgres_database(base_url: str, prefix: str) -> Iterator[str]:
    """Create an empty database next to ``base_url``'s; yield its psycopg URL; drop it after."""
    base = make_url(base_url).set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def with_driver(url: str, driver: str) -> str:
    return make_url(url).set(drivername=driver).render_as_string(hide_password=False)


# The stack ------------------------------------------------------------------------------
@dataclass
class Stack:
    """A Prefect server and a ledger URL, plus the environment of every client process."""

    server: PrefectServer
    ledger_url: str
    root: Path

    @property
    def api_url(self) -> str:
        return self.server.api_url

    def env(self, machine: str = "operator", **extra: str) -> dict[str, str]:
        """The environment of a process on ``machine``: its own PREFECT_HOME and GOVFLOW_HOME.

        Each worker gets a machine of its own, so nothing (Prefect's local result storage,
        Data Docs) is shared between them except the server and the ledger.
        """
        home = self.root / machine
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PREFECT_", "GOVFLOW_"))
        }
        return env | {
            "PREFECT_HOME": str(home / "prefect"),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "GOVFLOW_HOME": str(home / "govflow"),
            "GOVFLOW_DATABASE_URL": self.ledger_url,
            "GOVFLOW_ACTOR": f"ops:{machine}",
            **extra,
        }

    def run(
        self, *args: str | Path, machine: str = "operator", timeout: float = 180
    ) -> CommandResult:
        """Run a command (``govflow ...``, ``prefect ...``) from the repository root."""
        argv = [str(a) for a in args]
        if argv[0] in ("govflow", "prefect"):
            argv[0] = str(BIN / argv[0])
        proc = subprocess.run(
            argv,
            cwd=ROOT,
            env=self.env(machine),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return CommandResult(argv, proc.returncode, proc.stdout, proc.stderr)

    def api(self) -> PrefectAPI:
        return PrefectAPI(self.api_url)


@contextmanager
def postgres_stack(root: Path, postgres_base_url: str) -> Iterator[Stack]:
    """Start a Prefect server on a fresh Postgres database, with the ledger on another one."""
    with (
        postgres_database(postgres_base_url, "govflow_ops_prefect") as prefect_db,
        postgres_database(postgres_base_url, "govflow_ops_ledger") as ledger_db,
    ):
        server = PrefectServer(
            free_port(),
            root / "server",
            database_url=with_driver(prefect_db, "postgresql+asyncpg"),
            extra_env={
                # `ingest-nightly` has a 02:00 UTC cron: a test running at that minute must
                # not get a nightly run of the demo data on its workers.
                "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
            },
        )
        try:
            server.start()
            yield Stack(server=server, ledger_url=ledger_db, root=root)
        finally:
            server.stop()


def register_deployments(stack: Stack) -> list[str]:
    """Create the process work pool and deploy every deployment, as the README says."""
    stack.run("prefect", "work-pool", "create", POOL, "--type", "process").check()
    stack.run("prefect", "--no-prompt", "deploy", "--all", "--prefect-file", PREFECT_FILE).check()
    with stack.api() as api:
        return sorted(d["name"] for d in api.post_json("/deployments/filter", {"limit": 200}))


# Workers --------------------------------------------------------------------------------
def _parents() -> dict[int, int]:
    """Return {pid: parent pid} for every process, from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: split after the last ')'.
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def descendants(pid: int) -> list[int]:
    """Return every live process below ``pid`` (a worker's flow-run processes)."""
    parents = _parents()
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found.extend(children)
        frontier.extend(children)
    return found


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(os.getpgid(pid), sig)


def _quoted_run_id(line: str) -> str:
    return line.split("flow run '", 1)[1].split("'", 1)[0]


@dataclass
class Worker:
    """``prefect worker start --pool govflow --type process`` in its own session."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def started_runs(self) -> Counter[str]:
        """How often this worker started each flow run, as its log reports it.

        Two workers may claim the same scheduled run; the server lets one move it to
        Pending and aborts the other's submission, which then started nothing.
        """
        claimed: Counter[str] = Counter()
        aborted: Counter[str] = Counter()
        for line in self.log().splitlines():
            if f"Worker '{self.name}' submitting flow run '" in line:
                claimed[_quoted_run_id(line)] += 1
            elif "Aborted submission of flow run '" in line:
                aborted[_quoted_run_id(line)] += 1
        return claimed - aborted

    def flow_run_pids(self) -> list[int]:
        return descendants(self.process.pid) if self.process.poll() is None else []

    def kill(self) -> list[int]:
        """SIGKILL the worker and its flow-run processes, as a machine failure would.

        Prefect starts each flow-run process in a session of its own, so killing the
        worker's process group alone would leave them running: kill each group. The worker
        dies first, so it cannot report its flow run as crashed.
        """
        children = self.flow_run_pids()
        _signal_group(self.process.pid, signal.SIGKILL)
        for pid in children:
            _signal_group(pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        return children

    def stop(self) -> None:
        """Stop the worker (SIGTERM, then SIGKILL) and anything it left running."""
        if self.process.poll() is None:
            children = self.flow_run_pids()
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            for pid in children:
                _signal_group(pid, signal.SIGKILL)
        self.log_file.close()


def start_worker(
    stack: Stack, name: str, *, limit: int | None = None, env: Mapping[str, str] | None = None
) -> Worker:
    """Start a process worker on a machine of its own (see ``Stack.env``).

    It looks for work every second (Prefect's default is 10 s) so runs start promptly.
    """
    log_path = stack.root / f"{name}.log"
    log_file = log_path.open("ab")
    argv = [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--type", "process"]
    argv += ["--name", name]
    if limit is not None:
        argv += ["--limit", str(limit)]
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=stack.env(name, PREFECT_WORKER_QUERY_SECONDS="1", **dict(env or {})),
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Worker(name=name, process=process, log_path=log_path, log_file=log_file)


def wait_workers_online(stack: Stack, workers: Sequence[Worker], timeout: float = 120) -> None:
    """Wait until every worker has sent the server its first heartbeat."""
    names = {w.name for w in workers}
    deadline = time.monotonic() + timeout
    online: set[str] = set()
    with stack.api() as api:
        while time.monotonic() < deadline:
            for worker in workers:
                if worker.process.poll() is not None:
                    raise RuntimeError(f"worker {worker.name} exited:\n{worker.log()[-3000:]}")
            rows = api.post_json(f"/work_pools/{POOL}/workers/filter", {"limit": 100})
            online = {w["name"] for w in rows if w.get("status") == "ONLINE"}
            if names <= online:
                return
            time.sleep(0.3)
    raise TimeoutError(f"workers not online: {sorted(names - online)}")


# Runs -----------------------------------------------------------------------------------
def param_args(parameters: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Flatten parameters into ``--param a.b=<json>`` arguments for ``govflow run``."""
    args: list[str] = []
    for key, value in parameters.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            args += param_args(value, f"{path}.")
        else:
            args += ["--param", f"{path}={json.dumps(value)}"]
    return args


def trigger_runs(
    stack: Stack, deployment: str, parameter_sets: Sequence[Mapping[str, Any]], *, key: str
) -> list[str]:
    """Trigger one run per parameter set with ``govflow run``, all at once; return their ids."""

    def trigger(index: int) -> str:
        result = stack.run(
            "govflow",
            "run",
            deployment,
            *param_args(parameter_sets[index]),
            "--idempotency-key",
            f"{key}-{index}",
        ).check()
        return result.out.strip().splitlines()[0]

    with ThreadPoolExecutor(max_workers=len(parameter_sets)) as pool:
        return list(pool.map(trigger, range(len(parameter_sets))))


def run_states(stack: Stack, run_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    with stack.api() as api:
        return {run_id: api.flow_run(run_id).get("state") or {} for run_id in run_ids}


def wait_state(
    stack: Stack, run_id: str, name: str, *, timeout: float = RUN_TIMEOUT_S
) -> dict[str, Any]:
    """Poll until the run's state is named ``name``; fail early on another terminal state."""
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    with stack.api() as api:
        while time.monotonic() < deadline:
            state = api.flow_run(run_id).get("state") or {}
            if state.get("name") == name:
                return state
            if state.get("type") in TERMINAL:
                raise AssertionError(f"run {run_id} ended {state.get('name')}: {state}")
            time.sleep(0.3)
    raise TimeoutError(f"run {run_id} did not reach {name}; last state {state}")


def state_history(stack: Stack, run_id: str) -> list[str]:
    """The names of every state the run has been in, oldest first."""
    with stack.api() as api:
        states = api.get_json(f"/flow_run_states/?flow_run_id={run_id}")
    return [s["name"] for s in sorted(states, key=lambda s: s["timestamp"])]


def subflow_runs(stack: Stack, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """The flow runs started inside ``run_id`` (its subflows, one level down), by flow name."""
    with stack.api() as api:
        runs = api.post_json(
            "/flow_runs/filter",
            {"flow_runs": {"parent_flow_run_id": {"any_": [run_id]}}, "limit": 200},
        )
        flows = api.post_json(
            "/flows/filter", {"flows": {"id": {"any_": sorted({r["flow_id"] for r in runs})}}}
        )
    names = {f["id"]: f["name"] for f in flows}
    found: dict[str, list[dict[str, Any]]] = {}
    for run in sorted(runs, key=lambda r: r["start_time"] or ""):
        found.setdefault(names[run["flow_id"]], []).append(run)
    return found


@dataclass(frozen=True)
class Answer:
    """How a reviewer answers one gate: ``decide_args`` as for ``govflow review decide``."""

    reviewer: str
    decide_args: tuple[str, ...]


@dataclass
class AnsweredGate:
    """A gate and how it was answered; ``run_id`` is the triggered run it belongs to.

    A stage run as a subflow opens its gates in its own flow run (``gate["flow_run_id"]``),
    a child of the triggered run.
    """

    gate: dict[str, Any]
    answer: Answer
    output: str
    run_id: str = ""


@dataclass
class LabeledRound:
    """An annotation round labeled through the CLI while a run waited for it.

    ``waiting`` is the ``govflow annotations rounds`` entry (its ``flow_run_id`` is the run
    that waits: the annotate flow run, a child of ``run_id`` in a pipeline); ``tasks`` the
    exported assignments, ``labels`` the imported lines, ``output`` what the import said.
    """

    run_id: str
    waiting: dict[str, Any]
    tasks: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    output: str


# Labels for a round's exported assignments: (triggered run id, tasks) -> import lines.
Labeler = Callable[[str, list[dict[str, Any]]], list[dict[str, Any]]]


@dataclass
class Outcome:
    states: dict[str, dict[str, Any]]
    answered: list[AnsweredGate] = field(default_factory=list)
    labeled: list[LabeledRound] = field(default_factory=list)


COLLECT_PREFIX = "collect-"  # pause keys of runs waiting for annotators (annotation.collect)


def pause_key(run: Mapping[str, Any]) -> str | None:
    """The key a paused or suspended run waits under, if any."""
    state = run.get("state") or {}
    return (state.get("state_details") or {}).get("pause_key")


class RunTree:
    """Maps any flow run (a subflow at any depth) to the triggered run it belongs to."""

    def __init__(self, api: PrefectAPI, run_ids: Sequence[str]) -> None:
        self.api = api
        self.roots: dict[str, str | None] = {run_id: run_id for run_id in run_ids}

    def root_of(self, run: Mapping[str, Any]) -> str | None:
        """The triggered run above ``run``, or None if it belongs to none of them."""
        run_id = str(run["id"])
        if run_id not in self.roots:
            parent_task = run.get("parent_task_run_id")
            if parent_task is None:
                self.roots[run_id] = None
            else:
                task = self.api.get_json(f"/task_runs/{parent_task}")
                self.roots[run_id] = self.root_of(self.api.flow_run(task["flow_run_id"]))
        return self.roots[run_id]


def answer_gates_until_done(
    stack: Stack,
    run_ids: Sequence[str],
    answer: Callable[[dict[str, Any]], Answer],
    tokens: Mapping[str, Path],
    *,
    label: Labeler | None = None,
    timeout: float = RUN_TIMEOUT_S,
) -> Outcome:
    """Answer every gate the runs open (``govflow review inbox``/``decide``) until all end.

    Gates open at the same time are answered at once, as several reviewers would.
    A decision the flow rejects fails the helper, with the CLI's output. Gates of the runs'
    subflows count as theirs; ``answer`` finds the triggered run in
    ``gate["root_flow_run_id"]``.

    With ``label``, a run waiting for annotators has its round exported and labeled
    (``label``) and the labels imported, which resumes it (see ``label_round``). The REST
    API says when a run waits and under which key; the CLI is only asked then.
    """
    outcome = Outcome(states={})
    asked: set[str] = set()
    deadline = time.monotonic() + timeout
    with stack.api() as api, ThreadPoolExecutor(max_workers=4) as pool:
        tree = RunTree(api, run_ids)
        pending = []
        while time.monotonic() < deadline:
            for future in [f for f in pending if f.done()]:
                pending.remove(future)
                done = future.result()
                if isinstance(done, LabeledRound):
                    outcome.labeled.append(done)
                else:
                    outcome.answered.append(done)
            outcome.states = run_states(stack, run_ids)
            if not pending and all(s.get("type") in TERMINAL for s in outcome.states.values()):
                return outcome
            waiting = {
                key: (str(run["id"]), root)
                for run in api.paused_runs()
                if (key := pause_key(run))
                and key not in asked
                and (root := tree.root_of(run)) is not None
            }
            collecting = {k: v for k, v in waiting.items() if k.startswith(COLLECT_PREFIX)}
            if label is not None and collecting:
                rounds = json.loads(
                    stack.run(
                        "govflow", "annotations", "rounds", "--status", "collecting", "--json"
                    )
                    .check()
                    .out
                )
                for key, (run_id, root) in collecting.items():
                    for entry in rounds:
                        if entry["flow_run_id"] == run_id and key.startswith(
                            f"{COLLECT_PREFIX}{entry['round']}-w"
                        ):
                            asked.add(key)
                            pending.append(pool.submit(label_round, stack, root, entry, label))
            if len(collecting) < len(waiting):
                inbox = json.loads(stack.run("govflow", "review", "inbox", "--json").check().out)
                for gate in inbox:
                    if gate["pause_key"] not in waiting or gate["pause_key"] in asked:
                        continue
                    asked.add(gate["pause_key"])
                    gate["root_flow_run_id"] = waiting[gate["pause_key"]][1]
                    pending.append(pool.submit(_decide, stack, gate, answer(gate), tokens))
            time.sleep(0.5)
    raise TimeoutError(f"runs still open after {timeout:.0f} s: {outcome.states}")


def label_round(stack: Stack, run_id: str, waiting: dict[str, Any], label: Labeler) -> LabeledRound:
    """Export a waiting round's assignments, label them and import the labels, by the CLI.

    The tasks come from the central ledger (``govflow annotations export``), not from the
    files the flow wrote on its worker's machine.
    """
    round_id = waiting["round"]
    folder = stack.root / "annotations"
    folder.mkdir(exist_ok=True)
    exported = folder / f"{round_id}.tasks.jsonl"
    stack.run("govflow", "annotations", "export", "--round", round_id, "--out", exported).check()
    tasks = [json.loads(line) for line in exported.read_text().splitlines()]
    labels = label(run_id, tasks)
    labeled = folder / f"{round_id}.labels.jsonl"
    labeled.write_text("".join(json.dumps(line) + "\n" for line in labels))
    result = stack.run("govflow", "annotations", "import", labeled, "--round", round_id).check()
    return LabeledRound(run_id, waiting, tasks, labels, result.out)


def _decide(
    stack: Stack, gate: dict[str, Any], answer: Answer, tokens: Mapping[str, Path]
) -> AnsweredGate:
    result = decide(stack, gate["flow_run_id"], answer.reviewer, tokens, *answer.decide_args)
    return AnsweredGate(
        gate=gate,
        answer=answer,
        output=result.out,
        run_id=gate.get("root_flow_run_id", gate["flow_run_id"]),
    )


def decide(
    stack: Stack, run_id: str, reviewer: str, tokens: Mapping[str, Path], *args: str
) -> CommandResult:
    """Answer the run's open gate with ``govflow review decide`` as ``reviewer``."""
    return stack.run(
        "govflow",
        "review",
        "decide",
        run_id,
        "--reviewer",
        reviewer,
        "--token-file",
        tokens[reviewer],
        *args,
    ).check()


# People and the ledger ------------------------------------------------------------------
def add_reviewers(ledger_url: str, folder: Path, people: Mapping[str, str]) -> dict[str, Path]:
    """Add ``{person id: role}`` to the roster; return their token files."""
    from govflow.ledger.engine import Ledger
    from govflow.ledger.models import Role
    from govflow.ledger.people import add_person

    folder.mkdir(parents=True, exist_ok=True)
    ledger = Ledger.open(ledger_url)
    files = {}
    try:
        with ledger.session() as session:
            for person_id, role in people.items():
                _, token = add_person(
                    session=session,
                    person_id=person_id,
                    display_name=person_id.title(),
                    role=Role(role),
                    actor="ops-test",
                )
                files[person_id] = folder / f"{person_id}.token"
                files[person_id].write_text(token + "\n")
    finally:
        ledger.dispose()
    return files


def ledger_counts(ledger_url: str) -> dict[str, int]:
    """Rows per ledger table, plus distinct stored items and version rows (in snapshots)."""
    from govflow.ledger.engine import Ledger
    from govflow.ledger.models import Base
    from tests.support.snapshots import stored_counts

    ledger = Ledger.open(ledger_url)
    try:
        with ledger.reader() as session:
            return {
                table.name: session.scalar(select(func.count()).select_from(table))
                for table in Base.metadata.sorted_tables
            } | stored_counts(session)
    finally:
        ledger.dispose()


def audit_actions(ledger_url: str) -> Counter[str]:
    """How many audit events of each action the ledger holds."""
    from govflow.ledger.engine import Ledger
    from govflow.ledger.models import AuditEvent

    ledger = Ledger.open(ledger_url)
    try:
        with ledger.reader() as session:
            return Counter(session.scalars(select(AuditEvent.action)))
    finally:
        ledger.dispose()


# Crash detection ------------------------------------------------------------------------
CRASH_AUTOMATION = "govflow: crash flow runs that stopped sending heartbeats"


def crash_detection_automation(within_s: int) -> dict[str, Any]:
    """Prefect's documented zombie-run automation (docs: "Detect and respond to zombie flows").

    After a run's heartbeat, expect another event of that run (a heartbeat or any state
    change) within ``within_s``; else the run is marked Crashed. Flow processes send
    heartbeats every PREFECT_FLOWS_HEARTBEAT_FREQUENCY seconds (at least 30; 180 by default
    in Prefect 3.9), so ``within_s`` must exceed it. ``expect`` must be the wildcard of the
    current docs: the older recipe listed only terminal states, and a run suspended at a
    review gate (no process, no heartbeats) was then marked Crashed ``within_s`` after it
    suspended.
    """
    return {
        "name": CRASH_AUTOMATION,
        "description": "Marks runs whose process died (machine lost, worker killed) Crashed.",
        "enabled": True,
        "trigger": {
            "type": "event",
            "posture": "Proactive",
            "after": ["prefect.flow-run.heartbeat"],
            "expect": ["prefect.flow-run.*"],
            "match": {"prefect.resource.id": "prefect.flow-run.*"},
            "for_each": ["prefect.resource.id"],
            "threshold": 1,
            "within": within_s,
        },
        "actions": [
            {
                "type": "change-flow-run-state",
                "state": "CRASHED",
                "message": "Flow run marked as crashed due to missing heartbeats.",
            }
        ],
    }


def install_crash_detection(stack: Stack, *, within_s: int) -> None:
    """Create the automation with ``prefect automation create --from-file``."""
    path = stack.root / "crash-detection.yaml"
    path.write_text(yaml.safe_dump({"automations": [crash_detection_automation(within_s)]}))
    stack.run("prefect", "automation", "create", "--from-file", path).check()
    with stack.api() as api:
        names = [a["name"] for a in api.post_json("/automations/filter", {})]
    if CRASH_AUTOMATION not in names:
        raise AssertionError(f"the crash-detection automation was not created: {names}")


# Holding a run at a known point ---------------------------------------------------------
@contextmanager
def advisory_lock(ledger_url: str, key: str) -> Iterator[Any]:
    """Hold the Postgres advisory lock govflow's ledger takes for ``key`` (``lock_key``).

    A flow that registers the content ``key`` names waits inside its transaction until the
    lock is released: a deterministic place to stop a run in the middle of a write.
    """
    engine = create_engine(
        with_driver(ledger_url, "postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (key,))
            yield conn
    finally:
        engine.dispose()


def lock_waiters(conn: Any) -> list[int]:
    """Backends waiting for an advisory lock that ``conn`` holds."""
    rows = conn.exec_driver_sql(
        "SELECT waiting.pid FROM pg_locks held JOIN pg_locks waiting"
        " ON (waiting.database, waiting.classid, waiting.objid, waiting.objsubid)"
        " = (held.database, held.classid, held.objid, held.objsubid)"
        " WHERE held.locktype = 'advisory' AND waiting.locktype = 'advisory'"
        " AND held.pid = pg_backend_pid() AND held.granted AND NOT waiting.granted"
    )
    return [row[0] for row in rows]


def running_tasks(stack: Stack, run_id: str, task: str) -> list[str]:
    """The run's task runs of the task named ``task`` that are Running now."""
    with stack.api() as api:
        runs = api.post_json(
            "/task_runs/filter",
            {
                "flow_runs": {"id": {"any_": [run_id]}},
                "task_runs": {"state": {"type": {"any_": ["RUNNING"]}}},
            },
        )
    # Task run names are the task's name and a short suffix: register-passed-rows-9a9.
    return sorted(r["name"] for r in runs if r["name"].rsplit("-", 1)[0] == task)


def wait_until(check: Callable[[], Any], what: str, *, timeout: float = RUN_TIMEOUT_S) -> Any:
    """Poll ``check`` until it returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"timed out waiting for {what}")
