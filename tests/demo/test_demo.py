"""The quickstart: the demo data, the simulated annotators, and ``make demo`` end to end.

The end-to-end test runs ``python -m demo.run`` as a user would, with PREFECT_API_URL unset
(so the demo starts, and must stop, a Prefect server of its own on a free port) and a fresh
GOVFLOW_HOME; it answers every gate with the ``govflow review decide`` command the demo
prints, then checks the ledger row for row and runs the demo a second time.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from demo.annotators import PROFILES, read_truth, simulate
from demo.generate_sample import (
    BAD_ROWS,
    COUNT,
    GOLD,
    OUT,
    RESUBMITTED,
    TRUTH,
    generate_with_truth,
    pick_gold,
)
from govflow.ledger.engine import Ledger
from govflow.ledger.models import (
    Annotation,
    AnnotationRound,
    Assignment,
    DatasetVersion,
    EvaluationRun,
    ModelVersion,
    Person,
    PersonStatus,
    PromotionCertificate,
    ReviewDecision,
    ValidationRun,
)
from tests.support.prefect_server import free_port

ROOT = Path(__file__).resolve().parents[2]
DEMO_TIMEOUT_S = 420
DECIDE = re.compile(r"^\s+(?P<command>.*\sreview decide\s.*)$")


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_sample_files_are_reproduced_byte_for_byte():
    tickets, truth = generate_with_truth()

    lines = _lines(OUT)
    assert len(lines) == len(tickets) == COUNT
    for line, ticket in zip(lines, tickets, strict=True):
        expected = ticket.get("_raw_line") or json.dumps(ticket, ensure_ascii=False)
        assert line == expected
    assert [json.loads(line) for line in _lines(TRUTH)] == truth
    assert [json.loads(line) for line in _lines(GOLD)] == pick_gold(truth)


def test_gold_answers_are_unambiguous_tickets_that_reach_annotation():
    truth = read_truth()
    gold = [json.loads(line) for line in _lines(GOLD)]
    excluded = {f"T{n:05d}" for n in [*BAD_ROWS, *RESUBMITTED, *RESUBMITTED.values()]}

    assert len(gold) == 18
    assert Counter(row["label"] for row in gold) == {
        "billing": 4,
        "bug": 4,
        "account": 4,
        "feature_request": 3,
        "other": 3,
    }
    for row in gold:
        assert row["ticket_id"] not in excluded
        assert truth[row["ticket_id"]] == {
            "ticket_id": row["ticket_id"],
            "intent": row["label"],
            "ambiguous_with": None,
        }


def test_simulated_annotators_are_seeded_and_follow_their_profiles():
    truth = read_truth()
    assignments = [
        {
            "round": "ar-x",
            "item": f"item-{ticket_id}",
            "annotator": person,
            "data": {"ticket_id": ticket_id},
        }
        for ticket_id in truth
        for person in PROFILES
    ]

    first = simulate(assignments, truth)
    again = simulate(list(reversed(assignments)), truth)

    assert first == list(reversed(again))
    assert [(a["round"], a["item"], a["annotator"]) for a in first] == [
        (a["round"], a["item"], a["annotator"]) for a in assignments
    ]
    right: Counter[str] = Counter()
    for answer, assignment in zip(first, assignments, strict=True):
        intent = truth[assignment["data"]["ticket_id"]]["intent"]
        right[answer["annotator"]] += answer["label"] == intent
    shares = {annotator: right[annotator] / len(truth) for annotator in PROFILES}
    assert all(0.75 <= shares[a] <= 0.95 for a in ("ann-1", "ann-2", "ann-3", "ann-4")), shares
    assert 0.25 <= shares["ann-5"] <= 0.5, shares


class DemoProcess:
    """``python -m demo.run`` with its stdout read line by line in a thread."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "demo.run"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.out: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_line(self, deadline: float) -> str | None:
        """The next line of output, or None at the end; fail after the deadline."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=60)
                pytest.fail(
                    f"demo still running after {DEMO_TIMEOUT_S} s:\n"
                    + "\n".join(self.out[-40:])
                    + "\n"
                    + self.log.read_text()[-3000:]
                )
            try:
                line = self.lines.get(timeout=min(remaining, 5))
            except queue.Empty:
                continue
            if line is not None:
                self.out.append(line)
            return line


def _decide(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a printed ``VAR=value ... govflow review decide ...`` command."""
    words = shlex.split(command)
    assignments = {}
    while "=" in words[0] and not words[0].startswith("-"):
        name, _, value = words.pop(0).partition("=")
        assignments[name] = value
    assert words[0].endswith("govflow"), command
    return subprocess.run(
        [sys.executable, "-m", "govflow.cli.main", *words[1:]],
        cwd=ROOT,
        env=env | assignments,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _run_demo(env: dict[str, str], log: Path) -> tuple[int, list[str], list[str]]:
    """Run the demo to its end, answering each gate it prints; return its code, output and
    the decide commands it printed."""
    demo = DemoProcess(env, log)
    deadline = time.monotonic() + DEMO_TIMEOUT_S
    commands = []
    while (line := demo.next_line(deadline)) is not None:
        match = DECIDE.match(line)
        if match:
            commands.append(match["command"])
            answered = _decide(match["command"], env)
            context = "\n".join(demo.out[-30:]) + "\n" + answered.stdout + answered.stderr
            assert answered.returncode == 0, context
            assert answered.stdout.startswith("accepted: "), context
    return demo.proc.wait(timeout=60), demo.out, commands


def _port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.prefect
@pytest.mark.slow
def test_demo_runs_end_to_end_and_a_second_run_asks_nobody(tmp_path):
    port = free_port()
    home = tmp_path / "home"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PREFECT_", "GOVFLOW_"))
    } | {"GOVFLOW_HOME": str(home), "GOVFLOW_DEMO_PORT": str(port)}

    started = time.monotonic()
    code, out, commands = _run_demo(env, tmp_path / "first.log")
    first_s = time.monotonic() - started

    assert code == 0, "\n".join(out[-40:]) + (tmp_path / "first.log").read_text()[-3000:]
    text = "\n".join(out)
    assert not _port_is_open(port)
    assert f"Prefect server up at http://127.0.0.1:{port}" in text
    assert commands, "the demo reached no review gate"
    gate_line = next(line for line in out if line.startswith("first review gate reached"))
    first_gate_s = float(re.search(r"reached ([\d.]+) s", gate_line)[1])
    assert 0 < first_gate_s < first_s
    for command in commands:
        assert f"PREFECT_API_URL=http://127.0.0.1:{port}/api" in command
        assert f"--token-file {home}/demo-tokens/" in command
    done = next(line for line in out if line.startswith("done in "))
    labeled_id = done.rsplit(" ", 1)[1]
    assert labeled_id.startswith("dv-")
    assert f"$ govflow lineage {labeled_id}" in text
    assert re.search(r"audit chain intact: \d+ events", text)
    for person in ("ann-1", "ann-5", "rev-1", "spec-1", "lead-1"):
        token_file = home / "demo-tokens" / f"{person}.token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert token_file.read_text().strip() in text

    ledger = Ledger.open(f"sqlite:///{home / 'ledger.db'}")
    try:
        with ledger.reader() as session:
            counts = _ledger_counts(session)
            stages = dict(
                session.execute(select(DatasetVersion.stage, DatasetVersion.row_count)).all()
            )
            runs = session.scalars(select(ValidationRun).order_by(ValidationRun.rows_in)).all()
            (round_,) = session.scalars(select(AnnotationRound)).all()
            labeled = session.get(DatasetVersion, labeled_id)
            calibration = {
                person.id: person.status
                for person in session.scalars(select(Person))
                if person.status != PersonStatus.ACTIVE
            }
            certificate_signers = [
                c.content["signers"] for c in session.scalars(select(PromotionCertificate))
            ]
            model_trained_on = dict(
                session.execute(select(ModelVersion.id, ModelVersion.training_version_id)).all()
            )
    finally:
        ledger.dispose()
    # 160 lines: 4 quarantined on acquisition, 2 by the raw suite, 3 resubmissions removed.
    assert stages["raw"] == 156
    assert stages["validated"] == 154
    assert stages["preprocessed"] == 151
    assert stages["curated"] == 151
    acquisition = next(r for r in runs if r.rows_in == COUNT)
    assert (acquisition.rows_passed, acquisition.rows_quarantined) == (156, 4)
    raw_suite = next(r for r in runs if r.suite_name == "support_tickets.raw")
    assert (raw_suite.rows_in, raw_suite.rows_passed, raw_suite.rows_quarantined) == (156, 154, 2)
    assert round_.details["items"] == 151
    assert counts["assignments"] == round_.details["assignments"]
    assert counts["annotations"] == counts["assignments"]
    assert counts["decisions"] == sum(command.count(" --set ") for command in commands)
    assert calibration == {"ann-5": PersonStatus.NEEDS_CALIBRATION}
    assert labeled is not None and labeled.stage == "labeled"
    # The model step: trained on the labeled version, signed by the specialist and the lead.
    production = re.search(r"^model (mv-[0-9a-f]+) is in production", text, re.MULTILINE)
    assert production is not None, text[-3000:]
    signers = [re.search(r"--reviewer (\S+)", c)[1] for c in commands if "approve" in c]
    assert signers == ["spec-1", "lead-1"]
    assert certificate_signers == [["spec-1", "lead-1"]]
    assert model_trained_on == {production[1]: labeled_id}

    # The second run asks nobody and writes no new labels or decisions.
    started = time.monotonic()
    code, again, commands = _run_demo(env, tmp_path / "second.log")
    print(f"first run {first_s:.1f} s (first gate at {first_gate_s:.1f} s), ", end="")
    print(f"second run {time.monotonic() - started:.1f} s")

    assert code == 0, "\n".join(again[-40:]) + (tmp_path / "second.log").read_text()[-3000:]
    assert commands == []
    assert not any("first review gate" in line for line in again)
    assert next(line for line in again if line.startswith("done in ")).endswith(labeled_id)
    assert any(line.startswith(f"model {production[1]} is in production") for line in again)
    assert not _port_is_open(port)
    ledger = Ledger.open(f"sqlite:///{home / 'ledger.db'}")
    try:
        with ledger.reader() as session:
            assert _ledger_counts(session) == counts
    finally:
        ledger.dispose()


def _ledger_counts(session) -> dict[str, int]:
    return {
        "assignments": session.scalar(select(func.count()).select_from(Assignment)),
        "annotations": session.scalar(select(func.count()).select_from(Annotation)),
        "decisions": session.scalar(select(func.count()).select_from(ReviewDecision)),
        "versions": session.scalar(select(func.count()).select_from(DatasetVersion)),
        "models": session.scalar(select(func.count()).select_from(ModelVersion)),
        "evaluations": session.scalar(select(func.count()).select_from(EvaluationRun)),
        "certificates": session.scalar(select(func.count()).select_from(PromotionCertificate)),
    }
