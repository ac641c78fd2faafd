"""Scale-out: two process workers on one Prefect server, Prefect and the ledger on Postgres.

Four datasets are triggered at once through the ``pipeline`` deployment with ``govflow run``:
each is ingested, pre-processed and annotated into a labeled version, its stages running as
subflows, so each of its human steps *pauses* it and it keeps its worker slot (two workers
with two slots each: all four wait at once). Two datasets fail validation at ingest and
open a gate; every run waits for annotators, whose labels come back through ``govflow
annotations export`` / ``import``; every round has two genuinely disputed tickets and one
audit-sampled ticket, decided at a contested-annotation gate with ``govflow review decide``.
Every run completes; the ledger holds exactly the rows the four datasets imply (tickets
shared between datasets stored once, nothing lost, nothing written twice) and its audit
chain is intact.
"""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest
from sqlalchemy import select

from govflow.ledger.engine import Ledger
from govflow.ledger.models import (
    AnnotationRound,
    DatasetVersion,
    ReviewDecision,
    ReviewTask,
    Waiver,
)
from tests.support.datasets import jsonl, ticket, write_dataset
from tests.support.operations import (
    Answer,
    add_reviewers,
    answer_gates_until_done,
    audit_actions,
    ledger_counts,
    register_deployments,
    state_history,
    subflow_runs,
    trigger_runs,
    wait_workers_online,
)

pytestmark = pytest.mark.slow

DEPLOYMENT = "pipeline/pipeline"
PROJECT = "support-intent"
GUIDELINE = "demo/guidelines/support-intent.v1.yaml"
LABELS = ["billing", "bug", "account", "feature_request", "other"]
PHRASES = {
    "billing": "please refund the second charge on my latest invoice",
    "bug": "the export page crashes with an error whenever it opens",
    "account": "i cannot sign in since my password was reset",
    "feature_request": "could you add a dark mode to the dashboard",
    "other": "just wanted to say thanks for the quick help",
}
ANNOTATORS = ["ann1", "ann2", "ann3", "ann4"]  # overlap 3: every ticket goes to three of them
UNIQUE_CHECK = "expect_column_values_to_be_unique(ticket_id)"
VALIDATION_CHOICES = ["continue_clean", "waive", "abort", "escalate"]
CONTESTED_CHOICES = [*LABELS, "exclude", "escalate"]
SHARED = range(1, 9)  # T00001-T00008 are in every dataset
OWN = {1: 56, 2: 62, 3: 58, 4: 60}  # each dataset's good tickets: T0d001...


def truth(number: int) -> str:
    return LABELS[number % len(LABELS)]


def text(number: int) -> str:
    """The intent's phrase and ten made-up words of the ticket's own (no near duplicates)."""
    digest = hashlib.sha256(str(number).encode()).hexdigest()
    words = [
        "".join(chr(ord("a") + int(c, 16)) for c in digest[i : i + 6]) for i in range(0, 60, 6)
    ]
    return f"{PHRASES[truth(number)]} {' '.join(words)}"


def good(number: int, **overrides) -> dict:
    return ticket(number, **({"text": text(number)} | overrides))


def disputed(dataset: int) -> tuple[int, int]:
    """Two tickets its annotators label three different ways: one decided, one excluded."""
    return 1000 * dataset + 2, 1000 * dataset + 3


def _write_datasets(folder) -> list:
    """Write the four datasets and return their configs.

    1: clean. 2: four bad rows (two quarantined at acquisition, two by the suite), 5.4% of
    the 74 rows read, under its 6% threshold: every quarantine of a batch counts against it.
    3: ten re-exports reuse one ticket id: the 11 rows with it fail the critical uniqueness
    check (a gate; the clean rows continue). 4: five tickets from an unknown channel, 6.8% of
    the rows: only the quarantine rate fails (a gate; waived).
    """
    shared = [good(n) for n in SHARED]
    own = {d: [good(1000 * d + n) for n in range(1, count + 1)] for d, count in OWN.items()}
    broken = [
        '{"ticket_id": "T02901", "text": ',  # broken JSON: quarantined at acquisition
        jsonl([good(2902, text=None)])[0],  # missing required text: at acquisition
        jsonl([good(2903, channel="fax")])[0],  # not a channel: by the suite
        jsonl([good(2904, ticket_id="X-2904")])[0],  # malformed id: by the suite
    ]
    reexported = [ticket(3001, text=f"re-exported ticket {n}") for n in range(10)]
    fax = [good(4900 + n, channel="fax") for n in range(1, 6)]
    datasets = {
        1: jsonl(shared + own[1]),
        2: jsonl(shared + own[2]) + broken,
        3: jsonl(shared + own[3] + reexported),
        4: jsonl(shared + own[4] + fax),
    }
    configs = []
    for index, lines in datasets.items():
        (folder / f"tickets-{index}").mkdir(parents=True)
        configs.append(
            write_dataset(
                folder / f"tickets-{index}",
                lines,
                name=f"tickets-{index}",
                quarantine_threshold=0.06 if index == 2 else None,
            )
        )
    return configs


def _curated(dataset: int) -> list[int]:
    """The ticket numbers of a dataset's curated version (what its round labels)."""
    own = [1000 * dataset + n for n in range(1, OWN[dataset] + 1)]
    if dataset == 3:
        own.remove(3001)  # its id was reused: quarantined with the re-exports
    return [*SHARED, *own]


def _labels(dataset: int, tasks: list[dict]) -> list[dict]:
    """Everyone gives the true label, except on the disputed tickets: three different labels."""
    holders: dict[str, list[str]] = {}
    for task in tasks:
        holders.setdefault(task["data"]["ticket_id"], []).append(task["annotator"])
    lines = []
    for task in tasks:
        number = int(task["data"]["ticket_id"][1:])
        label = truth(number)
        if number in disputed(dataset):
            rank = sorted(holders[task["data"]["ticket_id"]]).index(task["annotator"])
            label = LABELS[(LABELS.index(label) + rank) % len(LABELS)]
        lines.append(
            {
                "round": task["round"],
                "item": task["item"],
                "annotator": task["annotator"],
                "label": label,
            }
        )
    return lines


def _contested_answer(dataset: int, gate: dict) -> tuple[str, ...]:
    decided, excluded = disputed(dataset)
    args = ["--note", "disputed tickets read again"]
    for key in gate["items"]:
        number = int(key[1:])
        if number == decided:
            args += ["--set", f"{key}={truth(number)}"]
        elif number == excluded:
            args += ["--set", f"{key}=exclude"]
        else:  # the audit sample: the reviewer agrees with the suggestion
            args += ["--set", f"{key}={gate['suggestions'][key]}"]
    return tuple(args)


def _distinct_class_shares() -> None:
    """Design check: a shared ticket's labeled row differs between datasets.

    Annotated rows carry their class's share of the dataset's accepted labels, so a shared
    ticket is one item per dataset at the annotated stage only if those shares differ.
    """
    for label in {truth(n) for n in SHARED}:
        shares = []
        for dataset in OWN:
            accepted = [n for n in _curated(dataset) if n != disputed(dataset)[1]]
            shares.append(sum(truth(n) == label for n in accepted) / len(accepted))
        assert len(set(shares)) == len(shares), (label, shares)


def _ledger_rows(ledger_url: str):
    """Rows per version (by dataset and stage), review tasks, decisions, waivers, rounds."""
    ledger = Ledger.open(ledger_url)
    with ledger.reader() as session:
        rows: dict[str, dict[str, int]] = {}
        for version in session.scalars(select(DatasetVersion)):
            rows.setdefault(version.name, {})[version.stage] = version.row_count
        tasks = session.execute(
            select(ReviewTask.kind, ReviewTask.tier, ReviewTask.status, ReviewTask.flow_run_id)
        ).all()
        decisions = session.execute(
            select(ReviewTask.kind, ReviewDecision.reviewer_id, ReviewDecision.choice).join(
                ReviewTask, ReviewTask.id == ReviewDecision.review_task_id
            )
        ).all()
        waivers = session.execute(select(Waiver.reviewer_id, Waiver.expectation)).all()
        rounds = {
            r.id: (r.status, r.flow_run_id, r.details["collection"])
            for r in session.scalars(select(AnnotationRound))
        }
    ledger.dispose()
    return rows, tasks, Counter(decisions), sorted(waivers), rounds


def _labeled(ledger_url: str) -> dict[str, dict[str, str]]:
    """Each dataset's labeled version as {ticket id: label}."""
    from govflow.ledger.datasets import read_version_records

    ledger = Ledger.open(ledger_url)
    with ledger.reader() as session:
        found = {
            version.name: {
                r["ticket_id"]: r["label"]
                for r in read_version_records(session=session, version_id=version.id)
            }
            for version in session.scalars(
                select(DatasetVersion).where(DatasetVersion.stage == "labeled")
            )
        }
    ledger.dispose()
    return found


def test_two_workers_run_concurrent_pipelines_and_human_steps_exactly_once(
    stack, workers, tmp_path
):
    _distinct_class_shares()
    register_deployments(stack)
    tokens = add_reviewers(
        stack.ledger_url,
        tmp_path / "tokens",
        {"bob": "reviewer", "rita": "lead"} | dict.fromkeys(ANNOTATORS, "annotator"),
    )
    # Every human step pauses a pipeline run in its process: four runs waiting at once need
    # four slots. Two each: four runs cannot all go to the first worker that polls either.
    fast = {"GOVFLOW_REVIEW_POLL_INTERVAL": "1"}
    pool = [
        workers("ops-worker-1", limit=2, env=fast),
        workers("ops-worker-2", limit=2, env=fast),
    ]
    wait_workers_online(stack, pool)
    configs = _write_datasets(tmp_path / "data")

    run_ids = trigger_runs(
        stack,
        DEPLOYMENT,
        [
            {
                "params": {
                    "config_path": str(config),
                    "project": PROJECT,
                    "guideline_path": GUIDELINE,
                    "gold_path": None,
                    "gold_rate": 0.0,
                    # Data Docs are the flow tests' business; here they only add seconds.
                    "data_docs": False,
                }
            }
            for config in configs
        ],
        key="scale-out",
    )
    dataset_of = {run_id: index for index, run_id in enumerate(run_ids, start=1)}
    validation = {
        3: Answer("bob", ("--all", "continue_clean", "--note", "known re-export")),
        4: Answer("rita", ("--all", "waive", "--note", "new channel, rows kept out")),
    }
    reviewer = {1: "bob", 2: "rita", 3: "bob", 4: "rita"}

    def answer(gate: dict) -> Answer:
        dataset = dataset_of[gate["root_flow_run_id"]]
        if gate["kind"] == "validation_failure":
            return validation[dataset]
        return Answer(reviewer[dataset], _contested_answer(dataset, gate))

    outcome = answer_gates_until_done(
        stack,
        run_ids,
        answer,
        tokens,
        label=lambda run_id, tasks: _labels(dataset_of[run_id], tasks),
    )

    states = {run_id: outcome.states[run_id]["name"] for run_id in run_ids}
    logs = "\n".join(w.log()[-4000:] for w in pool)
    assert states == dict.fromkeys(run_ids, "Completed"), logs

    # Each run's stages ran once each, as subflows of it.
    children = {run_id: subflow_runs(stack, run_id) for run_id in run_ids}
    for run_id in run_ids:
        assert {flow: len(runs) for flow, runs in children[run_id].items()} == {
            "ingest": 1,
            "preprocess": 1,
            "annotate": 1,
        }
        assert all(
            run["state"]["name"] == "Completed"
            for runs in children[run_id].values()
            for run in runs
        )
    ingest_run = {r: children[r]["ingest"][0]["id"] for r in run_ids}
    annotate_run = {r: children[r]["annotate"][0]["id"] for r in run_ids}

    # Each round was exported and imported once, by the central ledger, and resumed its run.
    assert sorted(dataset_of[r.run_id] for r in outcome.labeled) == [1, 2, 3, 4]
    for labeled in outcome.labeled:
        dataset, round_id = dataset_of[labeled.run_id], labeled.waiting["round"]
        assert labeled.waiting["flow_run_id"] == annotate_run[labeled.run_id]
        tickets = Counter(t["data"]["ticket_id"] for t in labeled.tasks)
        assert tickets == dict.fromkeys((f"T{n:05d}" for n in _curated(dataset)), 3)
        assert len(labeled.labels) == 3 * len(_curated(dataset))
        assert labeled.output.splitlines() == [
            f"accepted {3 * len(_curated(dataset))}, already recorded 0, rejected 0",
            f"round {round_id} is complete: resumed flow run {annotate_run[labeled.run_id]}",
        ]

    # Each gate was asked once, of the run's stage that opened it, and answered once.
    asked = sorted((dataset_of[a.run_id], a.gate["kind"], a.gate["tier"]) for a in outcome.answered)
    assert asked == [
        (1, "contested_annotation", 1),
        (2, "contested_annotation", 1),
        (3, "contested_annotation", 1),
        (3, "validation_failure", 1),
        (4, "contested_annotation", 1),
        (4, "validation_failure", 1),
    ]
    for answered in outcome.answered:
        run_id, gate = answered.run_id, answered.gate
        dataset = dataset_of[run_id]
        if gate["kind"] == "validation_failure":
            assert gate["flow_run_id"] == ingest_run[run_id]
            assert (gate["items"], gate["choices"]) == (
                [UNIQUE_CHECK, "quarantine_rate"] if dataset == 3 else ["quarantine_rate"],
                VALIDATION_CHOICES,
            )
            choice = "continue_clean" if dataset == 3 else "waive"
            decided = ", ".join(f"{key}={choice}" for key in gate["items"])
            who = validation[dataset].reviewer
            assert answered.output == (
                f"accepted: {len(gate['items'])} decision(s) by {who}: {decided}\n"
            )
            continue
        assert gate["flow_run_id"] == annotate_run[run_id]
        assert gate["choices"] == CONTESTED_CHOICES
        # The two disputed tickets and one audit-sampled ticket, whose suggestion is right.
        numbers = {int(key[1:]) for key in gate["items"]}
        (audit,) = numbers - set(disputed(dataset))
        assert len(gate["items"]) == 3 and set(disputed(dataset)) < numbers
        assert audit in _curated(dataset)
        assert gate["suggestions"][f"T{audit:05d}"] == truth(audit)
        assert answered.output.startswith(f"accepted: 3 decision(s) by {reviewer[dataset]}: ")

    # A pipeline run never suspends: its stages pause in its process, once per human step.
    assert [state_history(stack, r).count("Running") for r in run_ids] == [1, 1, 1, 1]
    assert [state_history(stack, r).count("Paused") for r in run_ids] == [0, 0, 0, 0]
    assert [state_history(stack, ingest_run[r]).count("Paused") for r in run_ids] == [0, 0, 1, 1]
    assert [state_history(stack, annotate_run[r]).count("Paused") for r in run_ids] == [2] * 4
    # Each run was started once, by one worker (a run claimed by both was started by one:
    # Prefect aborts the other claim), two per worker: all four held a slot at once.
    started = [w.started_runs() for w in pool]
    assert sum(started, Counter()) == dict.fromkeys(run_ids, 1), logs
    assert [sum(s.values()) for s in started] == [2, 2], logs

    versions, tasks, decisions, waivers, rounds = _ledger_rows(stack.ledger_url)
    stages = ["raw", "validated", "preprocessed", "curated", "annotated", "labeled"]
    assert versions == {
        "tickets-1": dict(zip(stages, [64, 64, 64, 64, 64, 63], strict=True)),
        "tickets-2": dict(zip(stages, [72, 70, 70, 70, 70, 69], strict=True)),
        "tickets-3": dict(zip(stages, [76, 65, 65, 65, 65, 64], strict=True)),
        "tickets-4": dict(zip(stages, [73, 68, 68, 68, 68, 67], strict=True)),
    }
    # Every ticket that reached a round is labeled with its true label, but the excluded one.
    assert _labeled(stack.ledger_url) == {
        f"tickets-{d}": {f"T{n:05d}": truth(n) for n in _curated(d) if n != disputed(d)[1]}
        for d in OWN
    }
    assert sorted(tasks) == sorted(
        [("validation_failure", 1, "decided", ingest_run[run_ids[d]]) for d in (2, 3)]
        + [("contested_annotation", 1, "decided", annotate_run[r]) for r in run_ids]
    )
    assert decisions == {
        ("validation_failure", "bob", "continue_clean"): 2,
        ("validation_failure", "rita", "waive"): 1,
        # per round: the decided ticket, the excluded one, the audit sample
        ("contested_annotation", "bob", "exclude"): 2,
        ("contested_annotation", "rita", "exclude"): 2,
        **Counter(
            ("contested_annotation", reviewer[d], truth(n))
            for d in OWN
            for n in (disputed(d)[0], audit_of(outcome, dataset_of, d))
        ),
    }
    assert waivers == [("rita", "quarantine_rate")]
    assert sorted(rounds.values(), key=lambda r: r[1]) == sorted(
        (
            (
                "collected",
                annotate_run[r],
                {
                    "ended_by": "complete",
                    "assigned": 3 * len(_curated(dataset_of[r])),
                    "annotated": 3 * len(_curated(dataset_of[r])),
                    "missing": 0,
                    "missing_by_annotator": {},
                },
            )
            for r in run_ids
        ),
        key=lambda r: r[1],
    )

    counts = ledger_counts(stack.ledger_url)
    curated = sum(len(_curated(d)) for d in OWN)  # 64 + 70 + 65 + 68 = 267
    assert curated == 267
    assert counts == dict.fromkeys(counts, 0) | {
        "sources": 4,
        "dataset_versions": 4 * 6,  # raw, validated, preprocessed, curated, annotated, labeled
        "dataset_version_parents": 20,
        # raw rows: 8 shared + 56 + (62 + 2 bad the suite quarantined) + (58 + 10 re-exports)
        # + (60 + 5 fax): 261; pre-processed rows (new fields): 8 shared + 56 + 62 + 57 + 60:
        # 243; annotated rows (round fields): one per dataset's ticket, 267. Validated,
        # curated and labeled versions hold some of their parent's items, nothing new.
        "items": 261 + 243 + 267,
        "version_rows": 285 + 267 * 4 + 263,
        "validation_runs": 4 * 4,  # per run: schema check, raw, preprocessed, labeled suite
        "quarantined_rows": 4 + 11 + 5 + 4,  # ingest of 2, 3, 4; one excluded ticket per round
        "people": 6,
        "guideline_versions": 1,
        "annotation_rounds": 4,
        "assignments": 3 * curated,
        "annotations": 3 * curated,
        "review_tasks": 6,
        "review_decisions": 2 + 1 + 4 * 3,
        "waivers": 1,
        "audit_events": 76,
        "audit_head": 1,
    }
    assert audit_actions(stack.ledger_url) == {
        "reviewer.added": 6,
        "guideline.published": 1,  # by one run; the others found it published
        "dataset.registered": 24,
        "validation.recorded": 16,
        "review.requested": 6,
        "review.decided": 6,
        "validation.waived": 1,
        "annotation.round_opened": 4,
        "annotation.collecting": 4,
        "annotation.imported": 4,
        "annotation.collected": 4,
    }
    verify = stack.run("govflow", "audit", "verify").check()
    assert verify.out.startswith(f"audit chain intact: {counts['audit_events']} events")


def audit_of(outcome, dataset_of, dataset: int) -> int:
    """The ticket a round's audit sample picked."""
    (gate,) = [
        a.gate
        for a in outcome.answered
        if dataset_of[a.run_id] == dataset and a.gate["kind"] == "contested_annotation"
    ]
    (number,) = {int(key[1:]) for key in gate["items"]} - set(disputed(dataset))
    return number
