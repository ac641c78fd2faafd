"""``govflow run``: check parameters against a deployment's schema, then trigger it over REST."""

from __future__ import annotations

import difflib
import json
import time
from pathlib import Path
from typing import Any

import typer

from govflow.errors import GovflowError, InputError, NotFound

__all__ = [
    "check_parameters",
    "collect_parameters",
    "merge_defaults",
    "run",
    "unknown_fields",
]

TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
# Prefect's marker of a parameter value the server fills in before validating it.
PLACEHOLDER = "__prefect_kind"


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


def _resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` (``#/definitions/...``, ``#/$defs/...``) and a single-schema ``allOf``."""
    seen: set[str] = set()
    while isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/") and ref not in seen:
            seen.add(ref)
            target: Any = root
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            schema = target
        elif isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
            schema = schema["allOf"][0]
        else:
            return schema
    return {}


def _variants(schema: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives a value may match: ``anyOf``/``oneOf`` branches, else the schema."""
    branches = schema.get("anyOf") or schema.get("oneOf")
    if not isinstance(branches, list):
        return [schema]
    return [v for branch in branches for v in _variants(_resolve(branch, root), root)]


def _describes_object(option: dict[str, Any]) -> bool:
    kind = option.get("type")
    if kind is None:  # an empty schema (any value) or a bare object schema
        return not option or "properties" in option or "additionalProperties" in option
    return kind == "object" or (isinstance(kind, list) and "object" in kind)


def unknown_fields(
    value: Any, schema: Any, root: dict[str, Any], path: str = ""
) -> list[tuple[str, list[str]]]:
    """Return each key of ``value`` that ``schema`` does not declare: its dotted path and the
    names declared beside it.

    Pydantic models ignore unknown keys, so a misspelt parameter would vanish silently. An
    object with ``properties`` is closed unless ``additionalProperties`` is given and not
    false; an object without ``properties`` (a free mapping) takes any key.
    """
    options = _variants(_resolve(schema, root), root)
    if isinstance(value, dict) and PLACEHOLDER in value:
        return []  # hydrated by the server (a JSON string, Jinja, a workspace variable)
    if isinstance(value, dict):
        objects = [o for o in options if _describes_object(o)]
        if not objects:
            return []  # not meant to be an object: the type check reports it
        declared: dict[str, Any] = {}
        extra: list[Any] = []
        for option in objects:
            properties = option.get("properties")
            allowed = option.get("additionalProperties")
            declared.update(properties if isinstance(properties, dict) else {})
            if not isinstance(properties, dict) or allowed not in (None, False):
                extra.append(allowed if isinstance(allowed, dict) else {})
        found = []
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if key in declared:
                found.extend(unknown_fields(item, declared[key], root, where))
            elif extra:
                found.extend(unknown_fields(item, extra[0], root, where))
            else:
                found.append((where, sorted(declared)))
        return found
    if isinstance(value, list):
        items = next((o["items"] for o in options if isinstance(o.get("items"), dict)), None)
        if items is None:
            return []
        return [
            field
            for index, item in enumerate(value)
            for field in unknown_fields(item, items, root, f"{path}[{index}]")
        ]
    return []


def _has_placeholder(value: Any) -> bool:
    if isinstance(value, dict):
        return PLACEHOLDER in value or any(_has_placeholder(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_placeholder(v) for v in value)
    return False


def check_parameters(
    given: dict[str, Any], merged: dict[str, Any], schema: dict[str, Any], *, deployment: str
) -> None:
    """Refuse keys in ``given`` that ``schema`` does not declare, and values in ``merged``
    (the deployment's defaults overlaid with ``given``) that break it.

    Raises ``InputError`` naming every unknown field (with close matches) or the first
    invalid value by its path, so that no run is created only to fail or to ignore a value.
    """
    if not schema:
        return  # the deployment recorded no schema: nothing to check against
    unknown = unknown_fields(given, schema, schema)
    if unknown:
        fields = ", ".join(repr(field) for field, _ in unknown)
        close = []
        for field, beside in unknown:
            parent, _, name = field.rpartition(".")
            prefix = f"{parent}." if parent else ""
            close += [prefix + m for m in difflib.get_close_matches(name, beside, n=1)]
        if close:
            hint = "did you mean " + ", ".join(repr(c) for c in close) + "?"
        else:
            hint = "it takes: " + (", ".join(unknown[0][1]) or "nothing")
        plural = "s" if len(unknown) > 1 else ""
        raise InputError(
            f"unknown parameter{plural} {fields} for deployment {deployment}", hint=hint
        )
    if _has_placeholder(merged):
        return  # the server validates after hydrating placeholders
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(schema).iter_errors(merged))
    if error is None:
        return
    # An anyOf (e.g. ``int | None``) fails as a whole; name the branch the value was meant for.
    while error.context:
        meant = [e for e in error.context if e.schema.get("type") != "null"] or error.context
        error = best_match(meant)
    where = error.json_path.removeprefix("$").removeprefix(".")
    subject = f"parameter {where}" if where else "parameters"
    raise InputError(f"invalid {subject}: {error.message} (deployment {deployment})")


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
            raise NotFound(
                "deployment",
                deployment,
                where=api.url,
                hint="is `govflow serve` running? `prefect deployment ls` lists deployments",
            )
        api._raise_for_status(response, f"/deployments/name/{flow_name}/{deployment_name}")
        found = response.json()
        deployment_id = found["id"]
        merged = merge_defaults(found.get("parameters") or {}, parameters)
        check_parameters(
            parameters,
            merged,
            found.get("parameter_openapi_schema") or {},
            deployment=deployment,
        )
        body: dict[str, Any] = {"parameters": merged}
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
