"""The monitoring demo (``make demo-monitor``): the production model meets production data.

Run it after ``make demo`` has released a model to ``production`` (same ``GOVFLOW_HOME``).
DEMO DATA: the two batches of ``demo/data/production`` (``demo/generate_production.py``):
the first like the training tickets, the second drifted (a new "Zephyr" add-on, mostly
billing questions).

1. The Prefect server, as ``make demo`` starts it (or the one at ``PREFECT_API_URL``).
2. The ``monitor`` flow on each batch: the production model scores it, the production
   checkpoint validates it, drift, PSI and accuracy are computed against the model's
   training version. Outputs meeting the activation conditions go to a production-output
   gate; in this demo its deadline is short (``OUTPUT_DEADLINE_S`` per tier), and the demo
   prints how to answer it. Nobody answering withholds the outputs, never approves them.
3. ``govflow monitor status``: the drifted batch's alert and its open intervention.
4. The ``intervene`` flow, its first two steps: the re-annotation round over the affected
   slice and the evaluation suite's new version with the production slice.
5. ``govflow interventions show``: what is left before the intervention may close (the
   re-evaluation and its sign-off), and the command that does it.
"""

from __future__ import annotations

import json
import sys

from demo.run import ROOT, Demo, DemoError, run_demo, say

PROJECT = "support-intent"
SOURCE = ROOT / "demo" / "production.source.yaml"
MONITOR_CONFIG = ROOT / "monitoring" / f"{PROJECT}.yaml"
OUTPUT_DEADLINE_S = 20


def _production_model(demo: Demo) -> str:
    models = json.loads(
        demo.govflow("models", "list", "--project", PROJECT, "--json", show_stdout=False)
    )
    for model in models:
        if "production" in model["aliases"]:
            return model["id"]
    raise DemoError(
        f"no model of {PROJECT} is behind the production alias: run `make demo` first and "
        "sign its release"
    )


def _monitor(demo: Demo, batch: int) -> object:
    from flows.monitor import MonitorParams, monitor

    path = f"data/production/batch-{batch}.jsonl"
    say(f"\n== monitor: production batch {batch} (demo/data/production/batch-{batch}.jsonl)")
    say(
        f"outputs sent to people wait {OUTPUT_DEADLINE_S} s per tier here; answer with "
        f"`{demo.cli_prefix()} review inbox` and `review decide`, or let it pass (withheld)"
    )
    result = monitor(
        MonitorParams(
            config_path=str(SOURCE),
            monitor_config=str(MONITOR_CONFIG),
            owner="support-intent-oncall",
            path=path,
            review_deadline_hours=OUTPUT_DEADLINE_S / 3600,
        )
    )
    say(
        f"batch {batch}: {result.rows} rows scored by {result.model_version_id}, "
        f"{'DRIFTED in ' + ', '.join(result.drifted_columns) if result.is_drifted else 'no drift'}"
        f"; {result.n_to_people} outputs to people: {result.verdicts or 'none'}"
    )
    for alert in result.alerts:
        say(f"  ALERT {alert}")
    for intervention in result.interventions:
        say(f"  intervention opened: {intervention}")
    return result


def _steps(demo: Demo) -> int:
    demo.start_prefect()
    demo.govflow("db", "upgrade")
    _production_model(demo)
    _monitor(demo, 1)
    drifted = _monitor(demo, 2)
    demo.govflow("monitor", "status", "--project", PROJECT)
    if not drifted.interventions:  # type: ignore[attr-defined]
        say("the second batch raised no alert: nothing to intervene on")
        return 0
    intervention = drifted.interventions[0]  # type: ignore[attr-defined]
    from flows.intervene import InterveneParams, intervene

    say(f"\n== intervene {intervention}: re-annotation round and recalibrated benchmark")
    opened = intervene(
        InterveneParams(
            intervention_id=intervention,
            monitor_config=str(MONITOR_CONFIG),
            reevaluate=False,
        )
    )
    say(
        f"re-annotation round {opened.reannotation_round_id}; suite version "
        f"{opened.suite_version_id}"
    )
    demo.govflow("interventions", "list")
    demo.govflow("interventions", "show", intervention)
    say(
        f"\nTo close it: label round {opened.reannotation_round_id} (`govflow annotations "
        "export` / `import`), then re-evaluate the production model and sign it off:\n"
        f"  {demo.cli_prefix()} run intervene/intervene --param "
        f"params.intervention_id={intervention} --param "
        f"params.monitor_config=monitoring/{PROJECT}.yaml"
    )
    return 0


def main() -> int:
    return run_demo(
        "govflow monitoring demo (DEMO DATA: demo/data/production, two batches)", _steps
    )


if __name__ == "__main__":
    sys.exit(main())
