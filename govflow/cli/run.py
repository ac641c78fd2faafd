"""``govflow run``: trigger a deployment through the Prefect REST API."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer

from govflow.errors import GovflowError, InputError

TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _parse_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def collect_parameters(params: list[str], params_file: Path | None) -> dict[str, Any]:
    """Merge ``--params-file`` (JSON object) with ``--param key=value`` pairs (JSON values)."""
    merged: dict[str, Any] = {}
    if params_file is not None:
        try:
            data = json.loads(params_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"{params_file}: not a readable JSON file: {exc}") from exc
        if not isinstance(data, dict):
            raise InputError(f"{params_file}: expected a JSON object of parameters")
        merged.update(data)
    for pair in params:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--param expects key=value, got {pair!r}")
        target = merged
        *parents, leaf = key.strip().split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                raise InputError(f"--param {key}: {parent} is not an object")
        target[leaf] = _parse_value(value)
    return merged


def merge_defaults(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Overlay ``given`` on the deployment's defaults, object by object.

    Prefect merges run parameters with a deployment's defaults only at the top level, so
    ``--param params.data_docs=false`` alone would replace the whole ``params`` object.
    """
    merged = dict(defaults)
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_defaults(merged[key], value)
        else:
            merged[key] = value
    return merged


def run(
    deployment: str = typer.Argument(..., help="FLOW/DEPLOYMENT, e.g. ingest/ingest-nightly."),
    params: list[str] = typer.Option(
        [], "--param", "-p", help="key=value (value parsed as JSON if it can be); repeat."
    ),
    params_file: Path | None = typer.Option(None, help="A JSON file of parameters."),
    idempotency_key: str | None = typer.Option(
        None, help="The same key never creates a second run."
    ),
    wait: bool = typer.Option(False, "--wait", help="Follow the run until it finishes."),
    timeout: float = typer.Option(3600.0, help="With --wait: give up after this many seconds."),
) -> None:
    """Create a flow run of a deployment and print its id and UI link.

    With --wait, follow it to the end, saying where it waits for people.

    Example: govflow run pipeline/pipeline --param config_path=demo/support_tickets.source.yaml
    --idempotency-key demo-1 --wait
    """
    from govflow.prefect_api import PrefectAPI, ui_base_url

    flow_name, sep, deployment_name = deployment.partition("/")
    if not sep or not flow_name or not deployment_name:
        raise InputError(f"expected FLOW/DEPLOYMENT, got {deployment!r}")
    parameters = collect_parameters(params, params_file)
    with PrefectAPI() as api:
        response = api.request("GET", f"/deployments/name/{flow_name}/{deployment_name}")
        if response.status_code == 404:
            raise GovflowError(
                f"deployment {deployment!r} not found on {api.url}",
                hint="is `govflow serve` running? `prefect deployment ls` lists deployments",
            )
        found = response.json()
        deployment_id = found["id"]
        body: dict[str, Any] = {
            "parameters": merge_defaults(found.get("parameters") or {}, parameters)
        }
        if idempotency_key:
            body["idempotency_key"] = idempotency_key
        created = api.request("POST", f"/deployments/{deployment_id}/create_flow_run", json=body)
        if created.status_code == 409 or created.status_code == 422:
            detail = created.json().get("detail", created.text)
            raise InputError(f"Prefect refused the parameters: {detail}")
        api._raise_for_status(created, "create_flow_run")
        flow_run = created.json()
        run_id = flow_run["id"]
        base = ui_base_url()
        typer.echo(run_id)
        typer.echo(f"flow run {flow_run['name']}: {base}/runs/flow-run/{run_id}", err=True)
        if wait:
            _follow(api, run_id, timeout=timeout)


def _follow(api: Any, run_id: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = None
    told: set[tuple[str, str]] = set()
    while time.monotonic() < deadline:
        state = api.flow_run(run_id).get("state") or {}
        label = (state.get("type"), state.get("name"))
        if label != last:
            last = label
            if state.get("type") != "PAUSED":
                typer.echo(f"state: {state.get('name')}", err=True)
        if state.get("type") in TERMINAL:
            if state.get("type") != "COMPLETED":
                raise GovflowError(
                    f"flow run {run_id} ended {state.get('name')}: {state.get('message') or ''}"
                )
            return
        # A stage running as a subflow waits in its own (child) run; say where people are needed.
        waiting = [{"id": run_id, "state": state}] if state.get("type") == "PAUSED" else []
        if state.get("type") == "RUNNING":
            waiting = api.post_json(
                "/flow_runs/filter",
                {
                    "flow_runs": {
                        "parent_flow_run_id": {"any_": [run_id]},
                        "state": {"type": {"any_": ["PAUSED"]}},
                    },
                    "limit": 50,
                },
            )
        for paused in waiting:
            paused_state = paused.get("state") or {}
            key = (paused_state.get("state_details") or {}).get("pause_key") or ""
            if (paused["id"], key) in told:
                continue
            told.add((paused["id"], key))
            typer.echo(_waiting_message(paused["id"], paused_state.get("name"), key), err=True)
        time.sleep(1)
    raise GovflowError(f"flow run {run_id} still running after {timeout:.0f} s")


def _waiting_message(run_id: str, state_name: str | None, key: str) -> str:
    if key.startswith("collect-"):
        round_id = key.removeprefix("collect-").rsplit("-w", 1)[0]
        return (
            f"waiting for annotators: run {run_id} is {state_name} until round {round_id} is "
            f"imported; see `govflow annotations progress --round {round_id}`"
        )
    return (
        f"waiting for people: run {run_id} is {state_name} at a review gate; "
        f"see `govflow review show {run_id}`"
    )
