"""``govflow run`` against a real Prefect server: parameters are checked before any run exists.

The deployment is registered from a real flow (its parameter schema is the one Prefect
generates from the pydantic models below) and nothing serves it: a run created by mistake
would stay Scheduled, and the tests count the deployment's runs to prove none was created.
"""

from __future__ import annotations

import uuid

import pytest
from prefect import flow
from pydantic import BaseModel, ConfigDict, Field

from govflow.cli.run import check_parameters
from govflow.errors import InputError
from govflow.prefect_api import PrefectAPI

pytestmark = pytest.mark.prefect


class Source(BaseModel):
    path: str
    fmt: str = "jsonl"


class Step(BaseModel):
    name: str
    weight: float = 1.0


class Extras(BaseModel):
    """Free-form settings: any key is welcome."""

    model_config = ConfigDict(extra="allow")
    label: str = "x"


class Params(BaseModel):
    config_path: str
    chunk_size: int | None = Field(default=None, ge=100)
    source: Source | None = None
    steps: list[Step] = Field(default_factory=list)
    limits: dict[str, int] = Field(default_factory=dict)
    extras: Extras = Field(default_factory=Extras)


@flow(name="run-params-test")
def run_params_test(params: Params, dry_run: bool = False) -> None:
    """Never runs in these tests: only its deployment's parameter schema is used."""


@flow(name="run-params-none")
def run_params_none() -> None:
    """A flow that takes no parameters."""


@pytest.fixture
def deployment(prefect_server) -> tuple[str, str]:
    """Register a deployment of the flow (unserved); return its FLOW/NAME and id."""
    name = f"params-{uuid.uuid4().hex[:8]}"
    deployment_id = run_params_test.to_deployment(
        name=name, parameters={"params": {"config_path": "default.yaml"}}
    ).apply()
    return f"run-params-test/{name}", str(deployment_id)


def _runs_of(deployment_id: str) -> list[dict]:
    with PrefectAPI() as api:
        return api.post_json(
            "/flow_runs/filter", {"deployments": {"id": {"any_": [deployment_id]}}}
        )


def test_run_unknown_top_level_parameter_is_refused_before_any_run(deployment, run_cli):
    name, deployment_id = deployment

    result = run_cli("run", name, "--param", "bogus=1")

    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"Error: unknown parameter 'bogus' for deployment {name} (it takes: dry_run, params)\n"
    )
    assert _runs_of(deployment_id) == []


def test_run_misspelt_nested_parameter_is_named_with_a_suggestion(deployment, run_cli):
    name, deployment_id = deployment

    result = run_cli("run", name, "--param", "params.chunk_sise=500")

    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"Error: unknown parameter 'params.chunk_sise' for deployment {name} "
        "(did you mean 'params.chunk_size'?)\n"
    )
    assert _runs_of(deployment_id) == []


def test_run_unknown_fields_inside_optional_and_listed_models_are_all_named(
    deployment, run_cli, tmp_path
):
    name, deployment_id = deployment
    params_file = tmp_path / "p.json"
    params_file.write_text(
        '{"params": {"source": {"path": "a", "fromat": "csv"},'
        ' "steps": [{"name": "a"}, {"name": "b", "wieght": 2}]}}'
    )

    result = run_cli("run", name, "--params-file", str(params_file))

    assert result.code == 2
    assert result.err == (
        f"Error: unknown parameters 'params.source.fromat', 'params.steps[1].wieght' "
        f"for deployment {name} (did you mean 'params.source.fmt', 'params.steps[1].weight'?)\n"
    )
    assert _runs_of(deployment_id) == []


def test_run_accepts_keys_where_the_schema_allows_any(deployment, run_cli):
    name, deployment_id = deployment

    result = run_cli(
        "run",
        name,
        "--param",
        "params.limits.rows=5",
        "--param",
        "params.extras.anything=yes",
        "--param",
        "params.chunk_size=500",
    )

    assert result.code == 0, result.err
    (created,) = _runs_of(deployment_id)
    assert created["id"] == result.out.strip()
    assert created["parameters"]["params"] == {
        "config_path": "default.yaml",
        "chunk_size": 500,
        "limits": {"rows": 5},
        "extras": {"anything": "yes"},
    }


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("params.chunk_size=50", "params.chunk_size: 50 is less than the minimum of 100"),
        ("params.chunk_size=many", "params.chunk_size: 'many' is not of type 'integer'"),
        ("params.limits.rows=lots", "params.limits.rows: 'lots' is not of type 'integer'"),
        ("params.steps=[{}]", "params.steps[0]: 'name' is a required property"),
        ("dry_run=maybe", "dry_run: 'maybe' is not of type 'boolean'"),
    ],
    ids=["minimum", "type-in-optional", "map-value", "required-in-list", "top-level"],
)
def test_run_invalid_parameter_value_is_named_before_any_run(deployment, run_cli, pair, message):
    name, deployment_id = deployment

    result = run_cli("run", name, "--param", pair)

    assert (result.code, result.out) == (2, "")
    assert result.err == f"Error: invalid parameter {message} (deployment {name})\n"
    assert _runs_of(deployment_id) == []


def test_review_show_unknown_flow_run_exits_4(prefect_server, run_cli):
    missing = str(uuid.uuid4())

    result = run_cli("review", "show", missing)

    assert result.code == 4
    assert result.err == f"Error: flow run '{missing}' not found on {prefect_server.api_url}\n"


def test_run_passes_prefect_placeholders_to_the_server_to_hydrate(deployment, run_cli):
    name, deployment_id = deployment
    placeholder = '{"__prefect_kind": "json", "value": "{\\"rows\\": 5}"}'

    result = run_cli("run", name, "--param", f"params.limits={placeholder}")

    assert result.code == 0, result.err
    (created,) = _runs_of(deployment_id)
    assert created["parameters"]["params"]["limits"] == {"rows": 5}


def test_check_parameters_refuses_any_key_for_a_flow_without_parameters():
    from prefect.utilities.callables import parameter_schema

    schema = parameter_schema(run_params_none.fn).model_dump_for_openapi()

    with pytest.raises(InputError) as raised:
        check_parameters({"x": 1}, {"x": 1}, schema, deployment="f/d")
    check_parameters({}, {}, schema, deployment="f/d")

    assert str(raised.value) == "unknown parameter 'x' for deployment f/d (it takes: nothing)"
    assert raised.value.exit_code == 2
