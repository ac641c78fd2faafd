"""Assemble a dataset version's ancestry: parents, runs, validations, decisions, guidelines."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from govflow.domain.review import ESCALATE
from govflow.hashing import canonical_time
from govflow.ledger.datasets import get_version, parent_ids
from govflow.ledger.models import (
    Annotation,
    AnnotationRound,
    DatasetVersion,
    GuidelineVersion,
    ReviewDecision,
    ReviewTask,
    ValidationRun,
    Waiver,
)
from govflow.ledger.synthetic import synthetic_lineage

__all__ = ["build_lineage", "build_model_lineage", "render_model_tree", "render_tree"]


def build_lineage(*, session: Session, version_id: str, max_depth: int = 50) -> dict[str, Any]:
    """Return the version's lineage as a JSON-ready tree (parents nested under ``parents``)."""
    root = get_version(session=session, version_id=version_id)
    return _node(session, root, depth=0, max_depth=max_depth, seen=set())


def _node(
    session: Session, version: DatasetVersion, *, depth: int, max_depth: int, seen: set[str]
) -> dict[str, Any]:
    seen = seen | {version.id}
    node: dict[str, Any] = {
        "id": version.id,
        "name": version.name,
        "stage": version.stage,
        "row_count": version.row_count,
        "content_hash": version.content_hash,
        "created_at": canonical_time(version.created_at),
        "created_by": version.created_by,
        "flow_run_id": version.flow_run_id,
        "source": (
            {"id": version.source.id, "kind": version.source.kind, "uri": version.source.uri}
            | ({"params": version.source.params} if version.source.params else {})
            if version.source
            else None
        ),
        "transformations": version.transformations,
        "validations": _validations(session, version.id),
        "reviews": _reviews(session, version.id),
        "guidelines": _guidelines(session, version.id),
        "annotation_rounds": _rounds(session, version.id),
        "synthetic": synthetic_lineage(session=session, version_id=version.id),
        "parents": [],
    }
    if depth >= max_depth:
        node["truncated"] = True
        return node
    for parent_id in parent_ids(session=session, version_id=version.id):
        if parent_id in seen:
            continue
        parent = session.get(DatasetVersion, parent_id)
        if parent is not None:
            node["parents"].append(
                _node(session, parent, depth=depth + 1, max_depth=max_depth, seen=seen)
            )
    return node


def _validations(session: Session, version_id: str) -> list[dict[str, Any]]:
    runs = session.scalars(
        select(ValidationRun)
        .where(ValidationRun.dataset_version_id == version_id)
        .order_by(ValidationRun.created_at)
    )
    return [
        {
            "id": run.id,
            "suite": run.suite_name,
            "success": run.success,
            "rows_in": run.rows_in,
            "rows_passed": run.rows_passed,
            "rows_quarantined": run.rows_quarantined,
            "waivers": _waivers(session, run.id),
        }
        for run in runs
    ]


def _waivers(session: Session, run_id: str) -> list[dict[str, Any]]:
    """Who signed each waiver of a validation run, why, and until when."""
    return [
        {
            "expectation": waiver.expectation,
            "signed_by": waiver.reviewer_id,
            "reason": waiver.reason,
            "gate": waiver.review_task_id,
            "signed_at": canonical_time(waiver.created_at),
            "expires_at": canonical_time(waiver.expires_at),
        }
        for waiver in session.scalars(
            select(Waiver).where(Waiver.validation_run_id == run_id).order_by(Waiver.expectation)
        )
    ]


def _reviews(session: Session, version_id: str) -> list[dict[str, Any]]:
    tasks = session.scalars(
        select(ReviewTask)
        .where(ReviewTask.dataset_version_id == version_id)
        .order_by(ReviewTask.created_at)
    ).all()
    decisions = session.scalars(
        select(ReviewDecision)
        .where(ReviewDecision.review_task_id.in_([task.id for task in tasks]))
        .order_by(ReviewDecision.id)
    ).all()
    by_task: dict[str, list[ReviewDecision]] = {}
    for decision in decisions:
        by_task.setdefault(decision.review_task_id, []).append(decision)
    return [
        {
            "gate": task.id,
            "kind": task.kind.value,
            "tier": task.tier,
            "status": task.status.value,
            "decisions": len(by_task.get(task.id, [])),
            "decided_by": _deciders(task, by_task.get(task.id, [])),
        }
        for task in tasks
    ]


def _deciders(task: ReviewTask, decisions: list[ReviewDecision]) -> list[dict[str, Any]]:
    """Per person (or the deadline policy): decisions, tier, when, and overridden suggestions."""
    suggested = {item["key"]: item.get("suggestion") for item in task.items}
    people: dict[str | None, dict[str, Any]] = {}
    for decision in decisions:
        entry = people.setdefault(
            decision.reviewer_id,
            {
                "reviewer": decision.reviewer_id,
                "outcome": decision.outcome.value,
                "tier": decision.tier,
                "decisions": 0,
                "overrides": 0,
                "decided_at": canonical_time(decision.decided_at),
            },
        )
        entry["decisions"] += 1
        suggestion = suggested.get(decision.item_key)
        # Escalating defers the question: only a different answer overrides the machine.
        if suggestion is not None and decision.choice not in (suggestion, ESCALATE):
            entry["overrides"] += 1
    return list(people.values())


def _rounds(session: Session, version_id: str) -> list[dict[str, Any]]:
    rounds = session.execute(
        select(AnnotationRound, GuidelineVersion.version)
        .join(GuidelineVersion, GuidelineVersion.id == AnnotationRound.guideline_version_id)
        .where(AnnotationRound.dataset_version_id == version_id)
        .order_by(AnnotationRound.id)
    ).all()
    found = []
    for round_, guideline in rounds:
        people = session.execute(
            select(
                Annotation.annotator_id,
                func.count(Annotation.id),
                func.sum(case((Annotation.is_excluded, 1), else_=0)),
                func.max(Annotation.exclusion_reason),
            )
            .where(Annotation.round_id == round_.id)
            .group_by(Annotation.annotator_id)
            .order_by(Annotation.annotator_id)
        ).all()
        annotators = [
            {
                "annotator": annotator,
                "labels": int(labels),
                "excluded": int(excluded or 0),
                "exclusion_reason": reason if excluded else None,
            }
            for annotator, labels, excluded, reason in people
        ]
        found.append(
            {
                "round": round_.id,
                "status": round_.status.value,
                "guideline_version": guideline,
                "annotations": sum(a["labels"] for a in annotators),
                "annotators": len(annotators),
                "excluded": sum(a["excluded"] for a in annotators),
                "by_annotator": annotators,
            }
        )
    return found


def _guidelines(session: Session, version_id: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(GuidelineVersion.id, GuidelineVersion.project, GuidelineVersion.version)
        .join(Annotation, Annotation.guideline_version_id == GuidelineVersion.id)
        .where(Annotation.dataset_version_id == version_id)
        .distinct()
        .order_by(GuidelineVersion.project, GuidelineVersion.version)
    ).all()
    return [{"id": gid, "project": project, "version": ver} for gid, project, ver in rows]


def render_tree(node: dict[str, Any]) -> str:
    """Render a lineage tree for a terminal."""
    lines: list[str] = []
    _render(node, lines, prefix="", is_last=True, is_root=True)
    return "\n".join(lines)


def _render(
    node: dict[str, Any], lines: list[str], *, prefix: str, is_last: bool, is_root: bool
) -> None:
    branch = "" if is_root else ("└── " if is_last else "├── ")
    lines.append(
        f"{prefix}{branch}{node['id']}  {node['name']} [{node['stage']}]  "
        f"{node['row_count']} rows  sha256:{node['content_hash'][:12]}"
    )
    child_prefix = prefix + ("" if is_root else ("    " if is_last else "│   "))
    facts: list[str] = [f"created {node['created_at']} by {node['created_by']}"]
    if node["flow_run_id"]:
        facts.append(f"flow run {node['flow_run_id']}")
    if node["source"]:
        facts.append(f"source {node['source']['kind']}: {node['source']['uri']}")
    for step in node["transformations"]:
        facts.append(f"transformation {step.get('step', step)}")
    for run in node["validations"]:
        verdict = "passed" if run["success"] else "failed"
        facts.append(
            f"validation {run['suite']} {verdict}: {run['rows_passed']}/{run['rows_in']} rows "
            f"passed, {run['rows_quarantined']} quarantined"
        )
        for waiver in run.get("waivers", []):
            facts.append(
                f"  waiver of {waiver['expectation']} signed by "
                f"{waiver['signed_by'] or 'nobody'} at gate {waiver['gate']}, "
                f"expires {waiver['expires_at'][:10]}: {waiver['reason']}"
            )
    for review in node["reviews"]:
        facts.append(
            f"review {review['kind']} (tier {review['tier']}) {review['status']}: "
            f"{review['decisions']} decisions [{review['gate']}]"
        )
        for who in review.get("decided_by", []):
            name = who["reviewer"] or "the deadline policy (nobody answered)"
            overrides = (
                f", {who['overrides']} overriding the suggestion" if who["overrides"] else ""
            )
            facts.append(
                f"  {name}: {who['decisions']} decisions at tier {who['tier']}, "
                f"{who['decided_at'][:16]}Z{overrides}"
            )
    for guide in node["guidelines"]:
        facts.append(f"guideline {guide['project']} v{guide['version']}")
    for r in node.get("annotation_rounds", []):
        facts.append(
            f"annotation round {r['round']} ({r['status']}, guideline v{r['guideline_version']}): "
            f"{r['annotations']} labels by {r['annotators']} annotators, {r['excluded']} excluded"
        )
        for a in r.get("by_annotator", []):
            excluded = (
                f", {a['excluded']} excluded ({a['exclusion_reason']})" if a["excluded"] else ""
            )
            facts.append(f"  {a['annotator']}: {a['labels']} labels{excluded}")
    facts.extend(_synthetic_facts(node.get("synthetic")))
    has_parents = bool(node["parents"])
    for fact in facts:
        lines.append(f"{child_prefix}{'│' if has_parents else ' '}   {fact}")
    for index, parent in enumerate(node["parents"]):
        _render(
            parent,
            lines,
            prefix=child_prefix,
            is_last=index == len(node["parents"]) - 1,
            is_root=False,
        )


def _synthetic_facts(synthetic: dict[str, Any] | None) -> list[str]:
    if not synthetic:
        return []
    if "mix" in synthetic:
        mix = synthetic["mix"]
        caps = mix["caps"]
        facts = [
            f"mix of {mix['organic_version_id']} and batches {', '.join(mix['batches'])} under "
            f"caps {100 * caps['global_share']:g}% overall, {100 * caps['class_share']:g}% per "
            f"class: {mix['shares'].get('all', '')}"
        ]
        if mix["waiver"]:
            waiver = mix["waiver"]
            facts.append(
                f"  cap waiver signed by {waiver['signed_by']} at gate {waiver['gate']}, "
                f"expires {(waiver['expires_at'] or '')[:10]}: {waiver['reason']}"
            )
        facts += [f"  over the cap: {line}" for line in mix["violations"]]
        return facts
    batch = synthetic["batch"]
    checked = ", ".join(f"{k} {v}" for k, v in batch["spot_check"].items()) or "none"
    return [
        f"synthetic batch {batch['id']} by {batch['generator']} v{batch['generator_version']} "
        f"(plan {batch['plan_hash'][:12]}, seed {batch['seed']}): {batch['status']}, "
        f"{batch['rows_generated']} made, {batch['rows_passed']} passed the checks, "
        f"{batch['rows_accepted']} accepted",
        f"  spot-check at gate {batch['spot_check_gate']}: {checked} "
        f"by {', '.join(batch['reviewers']) or 'nobody'}",
        f"  from {len(batch['seed_items'])} seed items",
    ]


def build_model_lineage(*, session: Session, model_version_id: str) -> dict[str, Any]:
    """A model version's lineage: its training data (down to sources and reviewers), its
    evaluations (suite versions, verdicts, findings, signers), certificates and aliases."""
    from govflow.ledger.evaluations import read_findings, read_signoffs, runs_of_model
    from govflow.ledger.model_versions import get_model_version
    from govflow.ledger.models import ModelAlias, PromotionCertificate

    model = get_model_version(session=session, version_id=model_version_id)
    evaluations = []
    for run in runs_of_model(session=session, model_version_id=model.id):
        findings = read_findings(session=session, evaluation_run_id=run.id)
        evaluations.append(
            {
                "id": run.id,
                "source": run.source.value,
                "status": run.status.value,
                "suite_version_id": run.suite_version_id,
                "production_model_version_id": run.production_model_version_id,
                "data_versions": run.data_versions,
                "created_at": canonical_time(run.created_at),
                "slices": [
                    {k: s[k] for k in ("slice", "n", "status")}
                    for s in (run.results or {}).get("slices", [])
                ],
                "findings": {
                    status: sum(1 for f in findings if f.status.value == status)
                    for status in sorted({f.status.value for f in findings})
                },
                "signoffs": [
                    {
                        "signer": s.signer_id,
                        "decision": s.decision.value,
                        "waived": list(s.waived),
                        "decided_at": canonical_time(s.decided_at),
                    }
                    for s in read_signoffs(session=session, evaluation_run_id=run.id)
                ],
            }
        )
    certificates = session.scalars(
        select(PromotionCertificate)
        .where(PromotionCertificate.model_version_id == model.id)
        .order_by(PromotionCertificate.issued_at)
    ).all()
    aliases = session.scalars(
        select(ModelAlias).where(ModelAlias.model_version_id == model.id)
    ).all()
    return {
        "id": model.id,
        "project": model.project,
        "adapter": model.adapter,
        "seed": model.seed,
        "artifact_sha256": model.artifact_sha256,
        "created_at": canonical_time(model.created_at),
        "created_by": model.created_by,
        "requested_by": (model.details or {}).get("requested_by"),
        "aliases": [a.alias for a in aliases],
        "certificates": [
            {
                "id": c.id,
                "kind": c.kind.value,
                "previous_model_version_id": c.previous_model_version_id,
                "signers": c.content.get("signers", []),
                "issued_at": canonical_time(c.issued_at),
                "expires_at": canonical_time(c.expires_at),
                "used_at": canonical_time(c.used_at) if c.used_at else None,
            }
            for c in certificates
        ],
        "evaluations": evaluations,
        "training_data": (
            build_lineage(session=session, version_id=model.training_version_id)
            if model.training_version_id
            else None
        ),
    }


def render_model_tree(node: dict[str, Any]) -> str:
    """Render a model version's lineage for a terminal."""
    lines = [
        f"{node['id']}  model of {node['project']} [{node['adapter']}]  "
        f"sha256:{(node['artifact_sha256'] or '-')[:12]}",
        f"    created {node['created_at']} by {node['created_by']}"
        + (f", requested by {node['requested_by']}" if node["requested_by"] else ""),
    ]
    if node["aliases"]:
        lines.append(f"    aliases: {', '.join(node['aliases'])}")
    for cert in node["certificates"]:
        lines.append(
            f"    certificate {cert['id']} ({cert['kind']}) signed by "
            f"{', '.join(cert['signers']) or 'nobody'}, replacing "
            f"{cert['previous_model_version_id'] or 'nothing'}, "
            f"used {cert['used_at'] or 'not yet'}"
        )
    for run in node["evaluations"]:
        verdicts = ", ".join(f"{s['slice']} {s['status']} (n={s['n']})" for s in run["slices"])
        lines.append(
            f"    evaluation {run['id']} ({run['source']}) {run['status']} on suite "
            f"{run['suite_version_id']}: {verdicts}"
        )
        if run["findings"]:
            found = ", ".join(f"{n} {status}" for status, n in run["findings"].items())
            lines.append(f"      red-team findings: {found}")
        for s in run["signoffs"]:
            waived = f", waived {', '.join(s['waived'])}" if s["waived"] else ""
            lines.append(
                f"      {s['decision']} by {s['signer']} at {s['decided_at'][:16]}Z{waived}"
            )
    if node["training_data"]:
        lines.append("    trained on:")
        lines += ["    " + line for line in render_tree(node["training_data"]).splitlines()]
    return "\n".join(lines)
