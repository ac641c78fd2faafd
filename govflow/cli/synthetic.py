"""``govflow synthetic``: synthetic batches, their checks, spot-checks and provenance."""

from __future__ import annotations

from typing import Any

import typer

from govflow.cli._common import open_ledger, print_json

app = typer.Typer(
    help="List and show synthetic batches: provenance, checks, spot-check, acceptance.",
    no_args_is_help=True,
)


@app.command("list")
def list_(
    project: str | None = typer.Option(None, "--project", help="Only this project's batches."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List synthetic batches, oldest first, with their status and row counts.

    Example: govflow synthetic list --project support-intent
    """
    from govflow.hashing import canonical_time
    from govflow.ledger.synthetic import list_batches

    with open_ledger().reader() as session:
        rows = [
            {
                "id": b.id,
                "project": b.project,
                "status": b.status.value,
                "generator": b.generator,
                "seed": b.seed,
                "rows_generated": b.rows_generated,
                "rows_passed": b.rows_passed,
                "rows_accepted": b.rows_accepted,
                "created_at": canonical_time(b.created_at),
            }
            for b in list_batches(session=session, project=project)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("no synthetic batches yet (make one with the synthesize deployment)")
        return
    typer.echo(
        f"{'ID':<27}  {'STATUS':<11}  {'MADE':>4}  {'PASSED':>6}  {'ACCEPTED':>8}  GENERATOR"
    )
    for r in rows:
        accepted = "-" if r["rows_accepted"] is None else r["rows_accepted"]
        typer.echo(
            f"{r['id']:<27}  {r['status']:<11}  {r['rows_generated']:>4}  "
            f"{r['rows_passed'] if r['rows_passed'] is not None else '-':>6}  {accepted:>8}  "
            f"{r['generator']} (seed {r['seed']})"
        )


@app.command()
def show(
    batch_id: str = typer.Argument(..., help="A synthetic batch id (sb-...)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a batch: versions, plan, checks, fidelity, spot-check and every row's provenance.

    Example: govflow synthetic show sb-17992abf1da01fa49673ae11
    """
    from govflow.hashing import canonical_time
    from govflow.ledger.synthetic import batch_items, get_batch

    with open_ledger().reader() as session:
        batch = get_batch(session=session, batch_id=batch_id)
        items = batch_items(session=session, batch_id=batch.id)
        shown: dict[str, Any] = {
            "id": batch.id,
            "project": batch.project,
            "status": batch.status.value,
            "reason": batch.status_reason,
            "source_version_id": batch.source_version_id,
            "generated_version_id": batch.generated_version_id,
            "passed_version_id": batch.passed_version_id,
            "validation_run_id": batch.validation_run_id,
            "spot_check_gate": batch.review_task_id,
            "generator": batch.generator,
            "generator_version": batch.generator_version,
            "plan_hash": batch.plan_hash,
            "seed": batch.seed,
            "rows": {
                "requested": batch.rows_requested,
                "generated": batch.rows_generated,
                "passed": batch.rows_passed,
                "accepted": batch.rows_accepted,
            },
            "report": batch.report,
            "created_at": canonical_time(batch.created_at),
            "items": [
                {
                    "position": i.position,
                    "item_hash": i.item_hash,
                    "label": i.label,
                    "passed_checks": i.passed_checks,
                    "predicted_label": i.predicted_label,
                    "spot_check": i.spot_check,
                    "reviewer_id": i.reviewer_id,
                    "accepted": i.is_accepted,
                    "provenance": i.provenance,
                }
                for i in items
            ],
        }
    if as_json:
        print_json(shown)
        return
    rows = shown["rows"]
    lines = [
        f"{shown['id']}  {shown['project']}  [{shown['status']}]"
        + (f"  {shown['reason']}" if shown["reason"] else ""),
        f"  generator {shown['generator']} v{shown['generator_version']}, seed {shown['seed']}, "
        f"plan {shown['plan_hash'][:12]}",
        f"  rows: {rows['requested']} requested, {rows['generated']} made, "
        f"{rows['passed']} passed the checks, {rows['accepted'] if rows['accepted'] is not None else '-'} accepted",  # noqa: E501
        f"  versions: source {shown['source_version_id']}, generated "
        f"{shown['generated_version_id']}, passed {shown['passed_version_id'] or '-'}",
        f"  validation run {shown['validation_run_id'] or '-'}, spot-check gate "
        f"{shown['spot_check_gate'] or '-'}",
    ]
    report = shown["report"]
    checks = report.get("quarantined_by_check", {})
    if checks:
        lines.append("  quarantined by check: " + ", ".join(f"{k} {v}" for k, v in checks.items()))
    for f in report.get("fidelity", []):
        if not {"label", "length", "vocabulary"} <= f.keys():
            continue
        missed = f"  (missed: {'; '.join(f['missed'])})" if f.get("missed") else ""
        lines.append(
            f"  fidelity {f['label']}: length {f['length']:.3f}, vocabulary "
            f"{f['vocabulary']:.3f}{missed}"
        )
    diversity = report.get("diversity")
    if diversity:
        lines.append(
            f"  diversity: distinct-1 {diversity['distinct_1']:.3f}, distinct-2 "
            f"{diversity['distinct_2']:.3f}, near-duplicate share "
            f"{diversity['near_duplicate_share']:.3f}"
        )
    lines.append("  POS  LABEL            CHECKS  SPOT-CHECK            ACCEPTED  SEEDS")
    for item in shown["items"]:
        spot = f"{item['spot_check'] or '-'}" + (
            f" ({item['reviewer_id']})" if item["reviewer_id"] else ""
        )
        seeds = ",".join(s[:8] for s in item["provenance"].get("seed_items", []))
        lines.append(
            f"  {item['position']:>3}  {item['label'][:15]:<15}  "
            f"{'passed' if item['passed_checks'] else 'failed':<6}  {spot[:20]:<20}  "
            f"{'yes' if item['accepted'] else 'no':<8}  {seeds}"
        )
    typer.echo("\n".join(lines))
