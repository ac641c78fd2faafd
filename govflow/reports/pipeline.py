"""The end-of-pipeline Markdown summary: counts, quarantines, decisions, agreement, lineage."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govflow.ledger.lineage import build_lineage, render_tree
from govflow.ledger.models import ReviewDecision, ReviewTask

__all__ = ["pipeline_markdown"]


def _versions(ingested: Any, pre: Any, ann: Any) -> list[str]:
    return [
        ingested.raw_version_id,
        ingested.validated_version_id,
        pre.preprocessed_version_id,
        pre.curated_version_id,
        ann.annotated_version_id,
        ann.labeled_version_id,
    ]


def pipeline_markdown(*, session: Session, ingested: Any, pre: Any, ann: Any) -> str:
    """Render the summary of one pipeline run from its stages' results and the ledger.

    ``ingested``, ``pre`` and ``ann`` are the ingest, preprocess and annotate flows' results
    (``flows.results``), read by attribute.
    """
    lines = [
        f"# Pipeline: {ingested.dataset}",
        "",
        f"Labeled version **`{ann.labeled_version_id}`**: {ann.rows_passed} items.",
        "",
        "| stage | rows in | quarantined | passed |",
        "|---|---|---|---|",
        f"| acquisition | {ingested.rows_read} | {ingested.rows_quarantined_at_acquisition} | "
        f"{ingested.rows_validated} |",
        f"| raw checkpoint | {ingested.rows_validated} | {ingested.rows_quarantined_by_suite} | "
        f"{ingested.rows_passed} |",
        f"| pre-processing (exact duplicates removed: {pre.exact_duplicates_removed}) | "
        f"{pre.rows_in} | {pre.rows_quarantined} | {pre.rows_passed} |",
        f"| labeled checkpoint | {ann.items} | {ann.rows_quarantined} | {ann.rows_passed} |",
        "",
        "## Annotation",
        "",
        f"- round `{ann.round_id}`: {ann.labels_counted} labels counted, "
        f"{ann.labels_excluded} excluded",
        f"- needs calibration: {', '.join(ann.needs_calibration) or 'nobody'}",
        f"- contested: {ann.contested}; audit sample: {ann.audited} "
        f"({ann.audit_overrides} overridden); decided by people: {ann.decided_by_people}",
        "- label status: "
        + ", ".join(f"{status} {count}" for status, count in ann.status_counts.items()),
    ]
    stats = ann.statistics
    for key, title in (
        ("krippendorff_alpha_nominal", "Krippendorff's alpha (nominal)"),
        ("fleiss_kappa", "Fleiss' kappa"),
        ("mean_item_agreement", "mean per-item agreement"),
    ):
        if stats.get(key) is not None:
            lines.append(f"- {title}: {stats[key]:.3f}")
    if ann.draft_guideline_id:
        state = "published" if ann.guideline_published else "not approved"
        lines.append(
            f"- guideline clarification `{ann.draft_guideline_id}` {state}; "
            f"re-annotation queue: {ann.reannotation_items} items "
            f"(round `{ann.reannotation_round_id or '-'}`)"
        )
    decisions = session.execute(
        select(ReviewTask.kind, ReviewTask.tier, ReviewDecision.outcome, func.count())
        .join(ReviewDecision, ReviewDecision.review_task_id == ReviewTask.id)
        .where(ReviewTask.dataset_version_id.in_(_versions(ingested, pre, ann)))
        .group_by(ReviewTask.kind, ReviewTask.tier, ReviewDecision.outcome)
        .order_by(ReviewTask.kind, ReviewTask.tier, ReviewDecision.outcome)
    ).all()
    lines += ["", "## Decisions", ""]
    if decisions:
        lines += ["| gate kind | tier | outcome | decisions |", "|---|---|---|---|"]
        lines += [f"| {k} | {t} | {o} | {n} |" for k, t, o, n in decisions]
    else:
        lines.append("No gate was opened.")
    tree = render_tree(build_lineage(session=session, version_id=ann.labeled_version_id))
    lines += ["", "## Lineage", "", "```", tree, "```"]
    return "\n".join(lines)
