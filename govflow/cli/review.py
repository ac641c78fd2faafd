"""``govflow review``: the reviewers' and engineers' way to open gates, besides the UI."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from govflow.cli._common import print_json
from govflow.errors import GovflowError, InputError

app = typer.Typer(help="Answer and inspect open review gates.", no_args_is_help=True)

GATE_PREFIX = "govflow-gate-"
VERDICT_PREFIX = "govflow-verdict-"


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _age(since: datetime | None) -> str:
    if since is None:
        return "-"
    seconds = int((datetime.now(UTC) - since).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _gate_of(api: Any, run: dict[str, Any]) -> dict[str, Any] | None:
    details = (run.get("state") or {}).get("state_details") or {}
    key = details.get("pause_key")
    if not key:
        return None
    raw = api.read_input(run["id"], GATE_PREFIX + key)
    if raw is None:
        return None
    gate = json.loads(raw)
    state = run.get("state") or {}
    gate["state"] = state.get("name")
    gate["paused_at"] = state.get("timestamp")
    gate["flow_run_name"] = run.get("name")
    return gate


def list_open_gates(api: Any, *, limit: int = 2000) -> list[dict[str, Any]]:
    """Return the govflow gates waiting in paused or suspended runs, oldest first.

    One query lists the paused runs; the gates' details come from the ledger when this
    machine can reach it (one more query), else from each run's stored gate summary (one
    request per run: Prefect has no bulk read of run inputs).
    """
    runs = api.paused_runs(limit=limit)
    known = _gates_from_ledger(runs)
    rest = [run for run in runs if run["id"] not in known]
    with ThreadPoolExecutor(max_workers=16) as pool:
        fetched = {
            run["id"]: gate
            for run, gate in zip(rest, pool.map(lambda r: _gate_of(api, r), rest), strict=True)
        }
    gates = [known.get(run["id"]) or fetched.get(run["id"]) for run in runs]
    return [gate for gate in gates if gate is not None]


def _gates_from_ledger(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Describe the paused runs' gates from the ledger's open review tasks, if reachable."""
    ledger = _local_ledger() if runs else None
    if ledger is None:
        return {}
    from govflow.hashing import canonical_time
    from govflow.ledger.reviews import open_tasks
    from govflow.review.notify import ui_url_for_run

    try:
        with ledger.reader() as session:
            tasks = open_tasks(session=session)
    except GovflowError:
        return {}
    by_run: dict[str, list[Any]] = {}
    for task in tasks:
        by_run.setdefault(task.flow_run_id or "", []).append(task)
    gates: dict[str, dict[str, Any]] = {}
    for run in runs:
        state = run.get("state") or {}
        key = (state.get("state_details") or {}).get("pause_key") or ""
        for task in by_run.get(run["id"], []):
            if not key.startswith(task.id + "-a"):
                continue
            gates[run["id"]] = {
                "gate_id": task.id,
                "pause_key": key,
                "attempt": int(key.rsplit("-a", 1)[1]),
                "name": task.details.get("name"),
                "kind": task.kind,
                "tier": task.tier,
                "items": [item["key"] for item in task.items],
                "suggestions": {
                    item["key"]: item["suggestion"]
                    for item in task.items
                    if item.get("suggestion") is not None
                },
                "choices": task.details.get("choices", []),
                "assignees": task.details.get("assignees", []),
                "deadline": canonical_time(task.deadline),
                "flow_run_id": run["id"],
                "dataset_version_id": task.dataset_version_id,
                "guideline_version_id": task.guideline_version_id,
                "reasons": task.details.get("reasons", []),
                "ui_url": ui_url_for_run(run["id"]),
                "state": state.get("name"),
                "paused_at": state.get("timestamp"),
                "flow_run_name": run.get("name"),
            }
    return gates


def _may_answer(gate: dict[str, Any], reviewer: str, roles: list[str] | None) -> bool:
    if gate.get("assignees") and reviewer not in gate["assignees"]:
        return False
    if roles is None:
        return True
    allowed = {"reviewer", "specialist", "lead"} if gate["tier"] == 1 else {"specialist", "lead"}
    return bool(allowed & set(roles))


def _local_ledger() -> Any | None:
    """Open the ledger if this machine has one configured; never create one as a side effect."""
    from govflow.ledger.engine import Ledger
    from govflow.settings import get_settings

    settings = get_settings()
    if not settings.database_url and not (settings.home / "ledger.db").exists():
        return None
    try:
        return Ledger.open()
    except GovflowError:
        return None


def _reviewer_roles(reviewer: str) -> list[str] | None:
    """Look the reviewer's roles up in the ledger, if this machine can reach it."""
    from govflow.ledger.people import get_person

    ledger = _local_ledger()
    if ledger is None:
        return None
    try:
        with ledger.reader() as session:
            return list(get_person(session=session, person_id=reviewer).roles)
    except GovflowError:
        return None


@app.command()
def inbox(
    reviewer: str | None = typer.Option(None, help="Only gates this reviewer may answer."),
    kind: str | None = typer.Option(None, help="Only gates of this kind."),
    tier: int | None = typer.Option(None, help="Only gates of this tier."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List open review gates across all flow runs, oldest first.

    Example: govflow review inbox --reviewer alice --tier 1
    """
    from govflow.prefect_api import PrefectAPI

    with PrefectAPI() as api:
        gates = list_open_gates(api)
    if kind:
        gates = [g for g in gates if g["kind"] == kind]
    if tier:
        gates = [g for g in gates if g["tier"] == tier]
    if reviewer:
        roles = _reviewer_roles(reviewer)
        gates = [g for g in gates if _may_answer(g, reviewer, roles)]
    if as_json:
        print_json(gates)
        return
    if not gates:
        typer.echo("no open review gates")
        return
    typer.echo(
        f"{'RUN':<36}  {'KIND':<20}  {'TIER':>4}  {'ITEMS':>5}  {'AGE':>5}  {'DEADLINE':<17}  LINK"
    )
    for gate in gates:
        typer.echo(
            f"{gate['flow_run_id']:<36}  {gate['kind']:<20}  {gate['tier']:>4}  "
            f"{len(gate['items']):>5}  {_age(_parse_time(gate['paused_at'])):>5}  "
            f"{gate['deadline'][:16]:<17}  {gate.get('ui_url') or '-'}"
        )


def _open_gate(api: Any, run_id: str) -> tuple[dict[str, Any], str]:
    """Return the run's open gate summary and its keyset base, or fail clearly."""
    run = api.flow_run(run_id)
    state = run.get("state") or {}
    if state.get("type") != "PAUSED":
        raise InputError(
            f"flow run {run_id} is not waiting for a review (state {state.get('name')})"
        )
    gate = _gate_of(api, run)
    if gate is None:
        raise InputError(f"flow run {run_id} is paused, but not at a govflow review gate")
    base = f"{state['name'].lower()}-{gate['pause_key']}"
    return gate, base


@app.command()
def show(
    run_id: str = typer.Argument(..., help="The paused flow run's id."),
    as_json: bool = typer.Option(False, "--json", help="Print the gate summary as JSON."),
) -> None:
    """Print an open gate's question, items and choices, as the Prefect UI shows them.

    Example: govflow review show 0b7c3f4e-9a53-4b36-8d0e-4c1f0c2a6e11
    """
    from govflow.prefect_api import PrefectAPI

    with PrefectAPI() as api:
        gate, base = _open_gate(api, run_id)
        description = api.wait_for_input(run_id, f"{base}-description", timeout=10)
    if as_json:
        print_json(gate | {"description": json.loads(description) if description else None})
        return
    if description:
        typer.echo(json.loads(description))
    typer.echo("")
    typer.echo(f"choices: {', '.join(gate['choices'])}")
    typer.echo(f"items: {', '.join(gate['items'])}")
    if gate.get("ui_url"):
        typer.echo(f"answer in the UI: {gate['ui_url']}")
    typer.echo(
        f"or: govflow review decide {run_id} --reviewer ID --token-file TOKEN "
        f"--all {gate['choices'][0]}"
    )


def _collect_choices(
    gate: dict[str, Any], sets: list[str], all_choice: str | None, from_file: Path | None
) -> tuple[dict[str, str], str | None]:
    chosen: dict[str, str] = {}
    note = None
    if all_choice:
        chosen.update({key: all_choice for key in gate["items"]})
    if from_file:
        try:
            data = json.loads(from_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"{from_file}: not a readable JSON file: {exc}") from exc
        if not isinstance(data, dict):
            raise InputError(f"{from_file}: expected a JSON object of item: choice")
        if isinstance(data.get("decisions"), dict):
            note = data.get("note")
            data = data["decisions"]
        chosen.update({str(k): str(v) for k, v in data.items()})
    for pair in sets:
        key, sep, choice = pair.partition("=")
        if not sep:
            raise InputError(f"--set expects ITEM=CHOICE, got {pair!r}")
        chosen[key.strip()] = choice.strip()
    unknown = sorted(set(chosen) - set(gate["items"]))
    if unknown:
        raise InputError(
            f"unknown item(s) {', '.join(unknown)}; this gate asks about {', '.join(gate['items'])}"
        )
    invalid = sorted({c for c in chosen.values() if c not in gate["choices"]})
    if invalid:
        raise InputError(
            f"invalid choice(s) {', '.join(invalid)}; choose one of {', '.join(gate['choices'])}"
        )
    missing = [key for key in gate["items"] if key not in chosen]
    if missing:
        raise InputError(
            f"no choice for item(s) {', '.join(missing)}",
            hint="use --set ITEM=CHOICE, --all CHOICE or --from-file",
        )
    return chosen, note


def _read_token(path: Path) -> str:
    try:
        token = (
            typer.get_text_stream("stdin").read() if str(path) == "-" else path.read_text()
        ).strip()
    except OSError as exc:
        raise InputError(f"cannot read the token file {path}: {exc.strerror}") from exc
    if not token:
        raise InputError(f"the token file {path} is empty")
    return token


@app.command()
def decide(
    run_id: str = typer.Argument(..., help="The paused flow run's id."),
    reviewer: str = typer.Option(..., "--reviewer", help="Your reviewer id."),
    token_file: Path = typer.Option(
        ..., "--token-file", help="File holding your token (- for stdin)."
    ),
    sets: list[str] = typer.Option([], "--set", help="ITEM=CHOICE; repeat for each item."),
    all_choice: str | None = typer.Option(None, "--all", help="The same choice for every item."),
    from_file: Path | None = typer.Option(
        None, "--from-file", help='JSON {"ITEM": "CHOICE"} or {"decisions": {...}, "note": ""}.'
    ),
    note: str | None = typer.Option(None, "--note", help="Why; shown to tier 2 on escalation."),
    wait: float = typer.Option(120.0, help="Seconds to wait for the flow's verdict."),
) -> None:
    """Answer an open gate; exit 1 if the flow rejects the submission.

    Example: govflow review decide 0b7c3f4e-9a53-4b36-8d0e-4c1f0c2a6e11 --reviewer alice
    --token-file ~/.govflow-token --set T00012=bug --set T00031=escalate
    """
    from govflow.prefect_api import PrefectAPI
    from govflow.review.form import NOTE_FIELD, REVIEWER_FIELD, TOKEN_FIELD, item_field

    token = _read_token(token_file)
    with PrefectAPI() as api:
        gate, base = _open_gate(api, run_id)
        chosen, file_note = _collect_choices(gate, sets, all_choice, from_file)
        # The schema is written after the Paused state: resuming earlier is rejected.
        if api.wait_for_input(run_id, f"{base}-schema", timeout=30) is None:
            raise GovflowError(f"flow run {run_id} has no input form yet; try again shortly")
        run_input: dict[str, Any] = {
            REVIEWER_FIELD: reviewer,
            TOKEN_FIELD: token,
            NOTE_FIELD: note or file_note or "",
        }
        for index, key in enumerate(gate["items"]):
            run_input[item_field(index)] = chosen[key]
        result = api.resume(run_id, run_input)
        if result.get("status") != "ACCEPT":
            reason = (result.get("details") or {}).get("reason") or result.get("status")
            raise GovflowError(f"Prefect refused the answer: {reason}")
        verdict = api.wait_for_input(run_id, VERDICT_PREFIX + gate["pause_key"], timeout=wait)
    if verdict is None:
        typer.echo(
            f"submitted to {run_id}; the flow has not checked it yet "
            f"(see `govflow review show {run_id}` or the ledger)"
        )
        return
    outcome = json.loads(verdict)
    if not outcome["accepted"]:
        raise GovflowError(f"rejected: {outcome['reason']}; the gate is open again")
    decided = ", ".join(f"{k}={v}" for k, v in outcome["decisions"].items())
    typer.echo(f"accepted: {len(outcome['decisions'])} decision(s) by {reviewer}: {decided}")


@app.command()
def sweep() -> None:
    """Apply deadlines to suspended gates nobody answered, and wake their runs.

    Suspended runs waiting for annotators past their round's deadline are woken too; they
    then apply the round's deadline policy (proceed or reassign).

    Paused (in-process) gates apply their own deadline; suspended runs hold no process, so
    this command (run periodically by `govflow serve`) records the timeout policy in the
    ledger and reschedules the run, which then escalates or applies the safe default.

    Example: govflow review sweep
    """
    from govflow.annotation.collect import sweep_expired_rounds
    from govflow.prefect_api import PrefectAPI
    from govflow.review.sweep import sweep_expired_gates

    with PrefectAPI() as api:
        swept = sweep_expired_gates(api=api, actor="govflow-sweeper")
        woken = sweep_expired_rounds(api=api)
    for gate_id, run_id in swept:
        typer.echo(f"timed out {gate_id} (flow run {run_id}); run rescheduled")
    for round_id, run_id in woken:
        typer.echo(
            f"annotation round {round_id} passed its deadline (flow run {run_id}); run rescheduled"
        )
    if not swept:
        typer.echo("no expired gates")
