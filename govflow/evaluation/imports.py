"""Record runs of external evaluation tools as govflow evaluation runs.

An inspect_ai log's samples become one slice of the project's suite (``routine`` by
default): its thresholds judge them exactly as govflow's own runs, the run is recorded with
``source = inspect_ai`` against the suite version and the model version it evaluated, and it
goes through the same sign-off (``flows/signoff.py``).
"""

from __future__ import annotations

from pathlib import Path

from govflow.domain import EvaluationSource, EvaluationStatus
from govflow.errors import InputError
from govflow.ledger.engine import Ledger

__all__ = ["import_inspect_run"]


def import_inspect_run(
    *,
    ledger: Ledger,
    log: Path,
    model_version_id: str,
    suite_path: Path | None,
    slice_name: str,
    actor: str,
) -> tuple[str, EvaluationStatus]:
    """Judge an inspect_ai log's samples on one suite slice; record the run (once)."""
    from govflow.evaluation.execute import resolve_suite_version, results_json
    from govflow.evaluation.inspect_import import inspect_answers, read_inspect_log
    from govflow.evaluation.report import evaluation_markdown
    from govflow.evaluation.runs import evaluate_suite
    from govflow.evaluation.suites import SuiteVersion
    from govflow.evaluation.suites import suite_path as default_path
    from govflow.ledger.evaluations import record_evaluation_run
    from govflow.ledger.model_versions import get_model_version

    run = read_inspect_log(log)
    with ledger.reader() as session:
        model = get_model_version(session=session, version_id=model_version_id)
        project, model_id = model.project, model.id
    version, suite_version_id = resolve_suite_version(
        ledger=ledger, path=suite_path or default_path(project), authors=[], actor=actor
    )
    names = [s.name for s in version.suite.slices]
    if slice_name not in names:
        raise InputError(f"suite {version.suite.project} has no slice {slice_name!r}: {names}")
    one = SuiteVersion(
        suite=version.suite.model_copy(
            update={"slices": [version.suite.slice(slice_name)], "redteam": None}
        ),
        path=version.path,
    )
    truth, answers = inspect_answers(run)
    evaluation = evaluate_suite(
        one,
        truth={slice_name: truth},
        candidate={slice_name: answers},
        model=model_id,
        data_versions={slice_name: f"inspect:{run.content_hash[:16]}"},
    )
    status = EvaluationStatus(evaluation.status.value)
    results = results_json(evaluation, None, None, evaluation_markdown(evaluation))
    results["inspect"] = {
        "task": run.task,
        "model": run.model,
        "eval_id": run.eval_id,
        "run_id": run.run_id,
        "log_sha256": run.content_hash,
        "metrics": dict(run.metrics),
    }
    with ledger.session() as session:
        recorded, _ = record_evaluation_run(
            session=session,
            project=project,
            model_version_id=model_id,
            suite_version_id=suite_version_id,
            production_model_version_id=None,
            data_versions=dict(evaluation.data_versions),
            source=EvaluationSource.INSPECT_AI,
            status=status,
            results=results,
            flow_run_id=None,
            actor=actor,
        )
        return recorded.id, status
