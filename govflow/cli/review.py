"""``govflow review``: the reviewers' and engineers' way to open gates, besides the UI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from govflow.cli._common import print_json
from govflow.errors import GovflowError, InputError

app = typer.Typer(help="Answer and inspect open review gates.", no_args_is_help=True)


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
    from govflow.review.inbox import list_open_gates, may_answer, reviewer_roles

    with PrefectAPI() as api:
        gates = list_open_gates(api)
    if kind:
        gates = [g for g in gates if g["kind"] == kind]
    if tier:
        gates = [g for g in gates if g["tier"] == tier]
    if reviewer:
        roles = reviewer_roles(reviewer)
        gates = [g for g in gates if may_answer(g, reviewer, roles)]
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
    from govflow.prefect_api import RunState
    from govflow.review.inbox import gate_of_run

    run = api.flow_run(run_id)
    state = RunState.of(run)
    if not state.is_paused:
        raise InputError(f"flow run {run_id} is not waiting for a review (state {state.name})")
    gate = gate_of_run(api, run)
    if gate is None:
        raise InputError(f"flow run {run_id} is paused, but not at a govflow review gate")
    base = f"{(state.name or '').lower()}-{gate['pause_key']}"
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
    from govflow.ledger.people import gate_code
    from govflow.prefect_api import PrefectAPI
    from govflow.review.form import (
        CODE_FIELD,
        GATE_FIELD,
        MAX_NOTE_CHARS,
        NOTE_FIELD,
        REVIEWER_FIELD,
        item_field,
    )
    from govflow.review.inbox import VERDICT_INPUT_PREFIX

    token = _read_token(token_file)
    with PrefectAPI() as api:
        gate, base = _open_gate(api, run_id)
        chosen, file_note = _collect_choices(gate, sets, all_choice, from_file)
        text = note or file_note or ""
        if len(text.strip()) > MAX_NOTE_CHARS:
            raise InputError(
                f"the note has {len(text.strip())} characters; at most {MAX_NOTE_CHARS} are kept"
            )
        # The schema is written after the Paused state: resuming earlier is rejected.
        if api.wait_for_input(run_id, f"{base}-schema", timeout=30) is None:
            raise GovflowError(f"flow run {run_id} has no input form yet; try again shortly")
        run_input: dict[str, Any] = {
            GATE_FIELD: gate["gate_id"],
            REVIEWER_FIELD: reviewer,
            # The token never leaves this machine: the form takes a code good for this form only.
            CODE_FIELD: gate_code(token, gate["pause_key"]),
            NOTE_FIELD: text,
        }
        for index, key in enumerate(gate["items"]):
            run_input[item_field(index)] = chosen[key]
        result = api.resume(run_id, run_input)
        if result.get("status") != "ACCEPT":
            reason = (result.get("details") or {}).get("reason") or result.get("status")
            raise GovflowError(f"Prefect refused the answer: {reason}")
        verdict = api.wait_for_input(run_id, VERDICT_INPUT_PREFIX + gate["pause_key"], timeout=wait)
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
def code(
    run_id: str = typer.Argument(..., help="The paused flow run's id."),
    token_file: Path = typer.Option(
        ..., "--token-file", help="File holding your token (- for stdin)."
    ),
) -> None:
    """Print your one-time code for the form a run is asking now (to paste in the Prefect UI).

    The code is computed here from your token; the token never leaves this machine, and the
    code is useless once this form has been answered.

    Example: govflow review code 0b7c3f4e-9a53-4b36-8d0e-4c1f0c2a6e11 --token-file ~/.govflow-token
    """
    from govflow.ledger.people import gate_code
    from govflow.prefect_api import PrefectAPI

    token = _read_token(token_file)
    with PrefectAPI() as api:
        gate, _ = _open_gate(api, run_id)
    typer.echo(gate_code(token, gate["pause_key"]))


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
    from govflow.prefect_api import PrefectAPI
    from govflow.review.sweep import WaitKind, sweep_expired

    with PrefectAPI() as api:
        swept = sweep_expired(api=api, actor="govflow-sweeper")
    for wait in swept:
        if wait.kind is WaitKind.GATE:
            typer.echo(f"timed out {wait.subject} (flow run {wait.flow_run_id}); run rescheduled")
    for wait in swept:
        if wait.kind is WaitKind.ROUND:
            typer.echo(
                f"annotation round {wait.subject} passed its deadline (flow run "
                f"{wait.flow_run_id}); run rescheduled"
            )
    if not any(wait.kind is WaitKind.GATE for wait in swept):
        typer.echo("no expired gates")
