"""Run one evaluation end to end against the ledger: suite version, slices, models, verdict.

``resolve_suite_version`` joins the suite file with the edge cases the ledger has added to
it (accepted red-team findings) and records the result as a suite version.
``run_evaluation`` builds the slices from a labeled version, predicts with the candidate
(and the ``production`` model when there is one), judges every slice, runs the red team
and the slice scan, and records the evaluation run and its findings. Both are idempotent:
the same inputs find the recorded suite version and run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from govflow.domain import EvaluationSource, EvaluationStatus
from govflow.errors import InputError
from govflow.evaluation.redteam import RedTeamResult
from govflow.evaluation.runs import Evaluation
from govflow.evaluation.slicescan import SliceScan
from govflow.evaluation.suites import EdgeCase, SuiteVersion
from govflow.ledger.engine import Ledger
from govflow.ledger.models import EvaluationRun

__all__ = ["EvaluationOutcome", "resolve_suite_version", "run_evaluation"]


@dataclass(frozen=True)
class EvaluationOutcome:
    """What an evaluation produced and where it is recorded."""

    run_id: str
    suite_version_id: str
    status: EvaluationStatus
    evaluation: Evaluation
    redteam: RedTeamResult | None
    scan: SliceScan | None
    report: str
    insufficient: list[tuple[str, str]]  # (slice, why) for slices a signer may waive
    failed: list[str]  # reasons of failed slices
    findings: dict[str, list[dict[str, Any]]]  # open findings grouped by probe


def resolve_suite_version(
    *, ledger: Ledger, path: Path, authors: list[str], actor: str, pinned: str | None = None
) -> tuple[SuiteVersion, str]:
    """Return the suite file's version with the ledger's edge cases, and its ledger id.

    The edge cases are the newest suite version's, or those of ``pinned`` (a suite version
    id): a flow run re-run from the top evaluates on the suite version it started with, not
    on the one its own specialists' judgements added since.
    """
    from govflow.evaluation.suites import load_evaluation_suite
    from govflow.ledger.evaluations import latest_suite_version, register_suite_version
    from govflow.ledger.models import EvaluationSuiteVersion

    base = load_evaluation_suite(path)
    project = base.suite.project
    with ledger.reader() as session:
        latest = (
            session.get(EvaluationSuiteVersion, pinned)
            if pinned is not None
            else latest_suite_version(session=session, project=project)
        )
        edge = (
            [EdgeCase.model_validate(c) for c in latest.content.get("edge_cases", [])]
            if latest is not None
            else []
        )
        parent = latest.content_hash if latest is not None else None
    version = SuiteVersion(
        suite=base.suite,
        path=base.path,
        policy_cases=base.policy_cases,
        edge_cases=tuple(edge),
        parent_hash=parent,
    )
    with ledger.session() as session:
        recorded, _ = register_suite_version(
            session=session,
            project=project,
            content=version.content(),
            content_hash_=version.content_hash,
            parent_hash=None if parent == version.content_hash else parent,
            reason=f"suite file {path.name}",
            authors=authors,
            actor=actor,
        )
        return version, recorded.id


def _answers(predictions: Any) -> pd.DataFrame:
    frame = predictions.to_frame()
    return pd.DataFrame(
        {
            "label": frame["label"].astype("object").where(frame["label"].notna(), None),
            "confidence": frame["confidence"],
            "error": frame["error"].astype("object").where(frame["error"].notna(), None),
        }
    )


def _predict(adapter: Any, texts: dict[str, list[str]]) -> dict[str, pd.DataFrame]:
    """One prediction batch for every slice's texts, split back per slice."""
    names = list(texts)
    flat = [text for name in names for text in texts[name]]
    answers = _answers(adapter.predict(flat)) if flat else pd.DataFrame()
    split, start = {}, 0
    for name in names:
        end = start + len(texts[name])
        split[name] = answers.iloc[start:end].reset_index(drop=True)
        start = end
    return split


def run_evaluation(
    *,
    ledger: Ledger,
    home: Path,
    project: str,
    model_version_id: str,
    suite_path: Path,
    data_version_id: str | None,
    compare_production: bool,
    authors: list[str],
    flow_run_id: str | None,
    actor: str,
) -> EvaluationOutcome:
    """Evaluate a recorded model version on a suite (see the module docstring)."""
    from govflow.evaluation.redteam import collect_findings
    from govflow.evaluation.report import evaluation_markdown
    from govflow.evaluation.runs import evaluate_suite
    from govflow.evaluation.slices import build_slices
    from govflow.evaluation.slicescan import scan_slices
    from govflow.evaluation.suites import SliceKind
    from govflow.evaluation.thresholds import VerdictStatus
    from govflow.ledger.datasets import get_version, read_version_records
    from govflow.ledger.evaluations import record_evaluation_run, record_findings
    from govflow.ledger.model_versions import alias_of, get_model_version
    from govflow.models.registry import load_recorded_adapter
    from govflow.records import records_to_frame

    earlier = _earlier_run(ledger, flow_run_id=flow_run_id, model_version_id=model_version_id)
    version, suite_version_id = resolve_suite_version(
        ledger=ledger,
        path=suite_path,
        authors=authors,
        actor=actor,
        pinned=earlier.suite_version_id if earlier is not None else None,
    )
    if version.suite.project != project:
        raise InputError(
            f"suite {suite_path} is for project {version.suite.project!r}, not {project!r}"
        )
    with ledger.reader() as session:
        model = get_model_version(session=session, version_id=model_version_id)
        data_id = data_version_id or model.training_version_id
        if data_id is None:
            raise InputError(f"model version {model.id} names no data version to evaluate on")
        data = get_version(session=session, version_id=data_id)
        frame = records_to_frame(read_version_records(session=session, version_id=data.id))
        production = alias_of(session=session, project=project) if compare_production else None
        model_id = model.id
        text_column = str((model.details or {}).get("text_column") or "text")
    production_id = production.id if production is not None and production.id != model_id else None
    if earlier is not None and compare_production:
        # Re-run from the top: compare with the model that was in production the first time.
        production_id = earlier.production_model_version_id
    slices = build_slices(frame, version, text_column=text_column)
    candidate = _predict(
        load_recorded_adapter(ledger=ledger, home=home, version_id=model_id), slices.texts
    )
    produced = (
        _predict(
            load_recorded_adapter(ledger=ledger, home=home, version_id=production_id),
            slices.texts,
        )
        if production_id
        else None
    )
    data_versions = {spec.name: data.id for spec in version.suite.slices}
    evaluation = evaluate_suite(
        version,
        truth=slices.truth,
        candidate=candidate,
        production=produced,
        model=model_id,
        production_model=production_id,
        data_versions=data_versions,
    )
    redteam = None
    adversarial = [s for s in version.suite.slices if s.kind is SliceKind.ADVERSARIAL]
    if adversarial and slices.probes:
        routine_name = next(s.name for s in version.suite.slices if s.kind is SliceKind.ROUTINE)
        by_text = dict(
            zip(slices.texts[routine_name], candidate[routine_name].to_dict("records"), strict=True)
        )
        originals = pd.DataFrame([by_text[p.original_text] for p in slices.probes])
        redteam = collect_findings(
            slices.probes,
            labels=version.suite.labels,
            original_answers=originals,
            probe_answers=candidate[adversarial[0].name],
        )
    scan = None
    routine_specs = [s for s in version.suite.slices if s.kind is SliceKind.ROUTINE]
    if routine_specs and not slices.routine.empty:
        answers = candidate[routine_specs[0].name]
        scan_frame = slices.routine.assign(
            predicted=answers["label"].tolist(), error=answers["error"].tolist()
        )
        settings = version.suite.slice_scan
        scan = scan_slices(
            scan_frame,
            min_examples=settings.min_examples,
            minor_gap=settings.minor_gap,
            major_gap=settings.major_gap,
            alpha=settings.alpha,
        )
    report = evaluation_markdown(evaluation, redteam=redteam, scan=scan)
    status = EvaluationStatus(evaluation.status.value)
    findings = [
        {
            "id": f.item.probe_id,
            "probe": f.item.probe,
            "source_item_hash": f.item.source_hash,
            "text": f.item.text,
            "expected_label": f.item.label,
            "answer": f.probe_answer,
            "reason": f.reason,
        }
        for f in (redteam.findings if redteam else ())
    ]
    with ledger.session() as session:
        run, _ = record_evaluation_run(
            session=session,
            project=project,
            model_version_id=model_id,
            suite_version_id=suite_version_id,
            production_model_version_id=production_id,
            data_versions=data_versions,
            source=EvaluationSource.GOVFLOW,
            status=status,
            results=results_json(evaluation, redteam, scan, report),
            flow_run_id=flow_run_id,
            actor=actor,
        )
        record_findings(session=session, evaluation_run_id=run.id, findings=findings, actor=actor)
        run_id = run.id
    groups: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        groups.setdefault(finding["probe"], []).append(finding)
    return EvaluationOutcome(
        run_id=run_id,
        suite_version_id=suite_version_id,
        status=status,
        evaluation=evaluation,
        redteam=redteam,
        scan=scan,
        report=report,
        insufficient=[
            (s.spec.name, "; ".join(s.verdict.reasons))
            for s in evaluation.slices
            if s.verdict.status is VerdictStatus.INSUFFICIENT_EVIDENCE
        ],
        failed=[
            f"{s.spec.name}: {'; '.join(s.verdict.reasons)}"
            for s in evaluation.slices
            if s.verdict.status is VerdictStatus.FAILED
        ],
        findings=groups,
    )


def _earlier_run(
    ledger: Ledger, *, flow_run_id: str | None, model_version_id: str
) -> EvaluationRun | None:
    """The first evaluation this flow run recorded of this model, if it is a re-run."""
    from sqlalchemy import select

    if flow_run_id is None:
        return None
    with ledger.reader() as session:
        return session.scalars(
            select(EvaluationRun)
            .where(
                EvaluationRun.flow_run_id == flow_run_id,
                EvaluationRun.model_version_id == model_version_id,
            )
            .order_by(EvaluationRun.created_at)
            .limit(1)
        ).first()


def _number(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 6)


def results_json(
    evaluation: Evaluation,
    redteam: RedTeamResult | None,
    scan: SliceScan | None,
    report: str,
) -> dict[str, Any]:
    """What an evaluation run keeps in the ledger: per-slice verdicts and metrics, red team."""
    slices = []
    for item in evaluation.slices:
        metrics = {}
        for result in item.metrics.results:
            metrics[result.name] = {
                "value": _number(result.candidate.value),
                "low": _number(result.candidate.low),
                "high": _number(result.candidate.high),
                "difference": None
                if result.difference is None
                else {
                    "value": _number(result.difference.value),
                    "low": _number(result.difference.low),
                    "high": _number(result.difference.high),
                },
            }
        slices.append(
            {
                "slice": item.spec.name,
                "kind": item.spec.kind.value,
                "n": item.metrics.n,
                "status": item.verdict.status.value,
                "reasons": list(item.verdict.reasons),
                "metrics": metrics,
            }
        )
    return {
        "status": evaluation.status.value,
        "slices": slices,
        "redteam": [
            {"probe": r.probe, "probes": r.probes, "failed": r.failed, "hit_rate": r.hit_rate}
            for r in (redteam.rates if redteam else ())
        ],
        "slice_scan_flagged": [s.name for s in (scan.flagged if scan else ())],
        "report": report,
    }
