import pytest

from govflow.cli.serve import read_deployments

SPECS = read_deployments()


def test_prefect_yaml_declares_the_expected_deployments():
    assert [(s.name, s.entrypoint) for s in SPECS] == [
        ("ingest-nightly", "flows/ingest.py:ingest"),
        ("ingest", "flows/ingest.py:ingest"),
        ("preprocess", "flows/preprocess.py:preprocess"),
        ("review-batch", "flows/review.py:review_batch"),
        ("annotate", "flows/annotate.py:annotate"),
        ("pipeline", "flows/pipeline.py:pipeline"),
        ("calibrate", "flows/calibrate.py:calibrate"),
        ("synthesize", "flows/synthesize.py:synthesize"),
        ("train", "flows/train.py:train"),
        ("evaluate", "flows/evaluate.py:evaluate"),
        ("release", "flows/release.py:release"),
        ("rollback", "flows/rollback.py:rollback"),
        ("signoff", "flows/signoff.py:signoff"),
        ("monitor-hourly", "flows/monitor.py:monitor"),
        ("monitor", "flows/monitor.py:monitor"),
        ("score", "flows/score.py:score"),
        ("intervene", "flows/intervene.py:intervene"),
        ("audit-weekly", "flows/audit.py:audit"),
        ("audit", "flows/audit.py:audit"),
    ]
    assert SPECS[0].crons == [("0 2 * * *", "UTC")]


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_every_entrypoint_is_a_flow_accepting_its_default_parameters(spec):
    flow = spec.load_flow()
    required = {
        name
        for name, prop in flow.parameters.properties.items()
        if name in (flow.parameters.required or [])
    }

    if spec.parameters:
        validated = flow.validate_parameters(spec.parameters)
        assert set(validated) == set(spec.parameters)
    else:
        # Triggered with its parameters every time (review-batch gets one request per run).
        assert required == {"request"}


def test_shipped_crash_detection_is_the_automation_the_crash_test_exercises():
    import yaml

    from govflow.cli.serve import PREFECT_FILE
    from tests.support.operations import crash_detection_automation

    shipped = yaml.safe_load((PREFECT_FILE.parent / "automations.yaml").read_text())

    assert shipped["automations"][0] == crash_detection_automation(within_s=300)


def test_shipped_intervention_automation_runs_the_deployment_named_by_alert_events():
    import yaml
    from prefect.events.actions import RunDeployment
    from prefect.events.schemas.automations import AutomationCore

    from govflow.cli.serve import PREFECT_FILE

    shipped = yaml.safe_load((PREFECT_FILE.parent / "automations.yaml").read_text())
    automation = AutomationCore.model_validate(shipped["automations"][1])

    assert len(shipped["automations"]) == 2
    assert automation.trigger.expect == {
        "govflow.drift.detected",
        "govflow.accuracy.below",
        "govflow.label-errors.detected",
    }
    (action,) = automation.actions
    assert isinstance(action, RunDeployment) and action.source == "inferred"
    assert action.parameters == {
        "params": {
            "intervention_id": "{{ event.payload.intervention_id }}",
            "monitor_config": "{{ event.payload.monitor_config }}",
        }
    }
