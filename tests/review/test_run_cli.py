import json

from govflow.cli.run import collect_parameters, merge_defaults
from tests.support.gates import contested_request, decide, wait_state


def test_collect_parameters_merges_file_and_pairs(tmp_path):
    params_file = tmp_path / "p.json"
    params_file.write_text(json.dumps({"a": 1, "nested": {"x": "y"}}))

    merged = collect_parameters(["b=2", "c=text", "nested.z=[1, 2]", 'd={"k": true}'], params_file)

    assert merged == {
        "a": 1,
        "b": 2,
        "c": "text",
        "nested": {"x": "y", "z": [1, 2]},
        "d": {"k": True},
    }


def test_given_parameters_overlay_the_deployment_defaults_object_by_object():
    defaults = {"params": {"config_path": "demo.yaml", "data_docs": True}, "other": 1}

    merged = merge_defaults(defaults, {"params": {"data_docs": False}, "extra": [1]})

    assert merged == {
        "params": {"config_path": "demo.yaml", "data_docs": False},
        "other": 1,
        "extra": [1],
    }
    assert defaults["params"]["data_docs"] is True  # the defaults are not modified


def test_run_with_idempotency_key_creates_one_run(served, roster, run_cli, govflow_env, tmp_path):
    params = tmp_path / "params.json"
    params.write_text(
        json.dumps(
            {
                "request": contested_request(keys=("T1",)),
                "ledger_url": govflow_env["GOVFLOW_DATABASE_URL"],
            }
        )
    )
    marker = f"marker_path={tmp_path / 'marker.txt'}"

    first = run_cli(
        "run",
        "served-review-gate-test/served-review-gate-test",
        "--params-file",
        str(params),
        "--param",
        marker,
        "--idempotency-key",
        "nightly-2026-11-27",
    )
    second = run_cli(
        "run",
        "served-review-gate-test/served-review-gate-test",
        "--params-file",
        str(params),
        "--param",
        marker,
        "--idempotency-key",
        "nightly-2026-11-27",
    )

    assert first.code == second.code == 0, first.err
    assert first.out == second.out
    run_id = first.out.strip()
    assert f"/runs/flow-run/{run_id}" in first.err
    wait_state(run_id, name="Suspended")
    answer = decide(
        run_cli,
        roster,
        run_id,
        "bob",
        "--all",
        "bug",
    )
    assert answer.code == 0, answer.err
    followed = run_cli(
        "run",
        "served-review-gate-test/served-review-gate-test",
        "--params-file",
        str(params),
        "--param",
        marker,
        "--idempotency-key",
        "nightly-2026-11-27",
        "--wait",
    )
    assert followed.code == 0, followed.err
    assert followed.out.strip() == run_id
    assert followed.err.splitlines()[-1] == "state: Completed"


def test_run_unknown_deployment_is_one_error_line(prefect_server, run_cli):
    result = run_cli("run", "nope/nothing")

    assert result.code == 4
    assert result.err.startswith("Error: deployment 'nope/nothing' not found on http://127.0.0.1:")
    assert result.err.endswith(
        "(is `govflow serve` running? `prefect deployment ls` lists deployments)\n"
    )
    bad = run_cli("run", "no-slash")
    assert (bad.code, bad.err) == (2, "Error: expected FLOW/DEPLOYMENT, got 'no-slash'\n")
