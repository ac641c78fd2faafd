"""Synthetic-data tasks: load inputs, make and register a batch, check labels, record
verdicts, mix under caps, publish the report.

Thin wrappers over ``govflow.synthetic`` and ``govflow.ledger.synthetic``; every write is
keyed by content, so a run that restarts from the top (after a suspend) repeats nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import task
from prefect.artifacts import create_image_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from govflow.ledger.engine import Ledger
from govflow.synthetic.batch import SyntheticBatch
from govflow.synthetic.plan import SynthesisPlan

__all__ = [
    "SynthesisInputs",
    "check_labels",
    "load_synthesis_inputs",
    "make_batch",
    "mix_accepted",
    "plan_mix",
    "publish_synthetic_report",
    "record_synthetic_batch",
    "record_verdict",
    "register_generated",
]


@dataclass(frozen=True, eq=False)
class SynthesisInputs:
    project: str
    dataset: str
    version_id: str
    frame: pd.DataFrame
    hashes: list[str]
    label_set: list[str]
    examples: list[dict[str, Any]]
    plan: SynthesisPlan
    evaluation_texts: list[str] = field(default_factory=list)
    evaluation_ids: list[str] = field(default_factory=list)


@task(name="load-synthesis-inputs", cache_policy=NO_CACHE, persist_result=False)
def load_synthesis_inputs(
    *, project: str, version_id: str, plan_path: str, seed: int | None, suite_path: str | None
) -> SynthesisInputs:
    """Read the labeled version, the guideline, the plan and the evaluation items."""
    from govflow.evaluation.suites import load_evaluation_suite
    from govflow.ledger.datasets import get_version, read_version_hashes, read_version_records
    from govflow.ledger.guidelines import get_guideline
    from govflow.records import records_to_frame
    from govflow.synthetic.plan import load_plan

    plan = load_plan(plan_path)
    if seed is not None:
        plan = plan.with_seed(seed)
    with Ledger.open().reader() as session:
        version = get_version(session=session, version_id=version_id)
        frame = records_to_frame(read_version_records(session=session, version_id=version.id))
        hashes = read_version_hashes(session=session, version_id=version.id)
        guideline = get_guideline(session=session, project=project)
        labels = [str(label) for label in guideline.label_set]
        examples = [dict(e) for e in guideline.examples]
        dataset, version_id = version.name, version.id
    # The contamination firewall: the test split (the evaluation's routine and edge-case
    # slices) and the suite's own cases.
    is_test = frame["split"] == "test" if "split" in frame.columns else frame.index < 0
    texts = frame.loc[is_test, "text"].astype(str).tolist()
    ids = [h for h, test in zip(hashes, is_test, strict=True) if test]
    if suite_path:
        suite = load_evaluation_suite(suite_path)
        for kind, cases in (("policy", suite.policy_cases), ("edge", suite.edge_cases)):
            for number, case in enumerate(cases):
                texts.append(case.text)
                ids.append(f"{kind}-case-{number}")
    return SynthesisInputs(
        project=project,
        dataset=dataset,
        version_id=version_id,
        frame=frame,
        hashes=hashes,
        label_set=labels,
        examples=examples,
        plan=plan,
        evaluation_texts=texts,
        evaluation_ids=ids,
    )


@task(name="make-synthetic-batch", cache_policy=NO_CACHE, persist_result=False)
def make_batch(inputs: SynthesisInputs) -> SyntheticBatch:
    """Generate, screen and score the batch (raises ``GenerationFailed`` as a whole)."""
    from govflow.synthetic.batch import build_batch

    return build_batch(
        plan=inputs.plan,
        source_version_id=inputs.version_id,
        organic=inputs.frame,
        organic_hashes=inputs.hashes,
        label_set=inputs.label_set,
        guideline_examples=inputs.examples,
        evaluation_texts=inputs.evaluation_texts,
        evaluation_ids=inputs.evaluation_ids,
    )


@task(name="register-generated", cache_policy=NO_CACHE, persist_result=False)
def register_generated(
    batch: SyntheticBatch, *, dataset: str, parent_id: str
) -> tuple[str, list[str]]:
    """Register every generated row as a ``generated`` version (items of origin synthetic)."""
    from govflow.domain import Origin, Stage
    from govflow.ledger.datasets import prepare_items, register_dataset_version
    from govflow.records import frame_to_records
    from govflow.runtime import flow_actor

    items = prepare_items(frame_to_records(batch.stored_frame))
    run_id, actor = flow_actor()
    with Ledger.open().session() as session:
        version = register_dataset_version(
            session=session,
            name=dataset,
            stage=Stage.GENERATED,
            items=items,
            actor=actor,
            parent_ids=[parent_id],
            flow_run_id=run_id,
            origin=Origin.SYNTHETIC,
            transformations=[{"step": "synthesize", "batch_id": batch.batch_id}],
        ).version
        return version.id, items.hashes


@task(name="check-labels", cache_policy=NO_CACHE, persist_result=False)
def check_labels(
    *, project: str, texts: list[str], checker: str | dict[str, Any] | None, label_set: list[str]
) -> tuple[list[str | None], list[float | None]] | None:
    """Predict each row with the plan's label checker; None when there is none."""
    import math

    from govflow.ledger.model_versions import alias_of
    from govflow.models.adapters import load_adapter
    from govflow.models.registry import load_recorded_adapter
    from govflow.models.spec import parse_model_spec
    from govflow.settings import get_settings

    if checker is None:
        return None
    if checker == "production":
        ledger = Ledger.open()
        with ledger.reader() as session:
            model = alias_of(session=session, project=project)
            model_id = model.id if model else None
        if model_id is None:
            return None
        adapter = load_recorded_adapter(
            ledger=ledger, home=get_settings().home, version_id=model_id
        )
    else:
        assert isinstance(checker, dict)
        adapter = load_adapter(parse_model_spec(checker), label_set=label_set)
    predictions = adapter.predict(texts)
    labels = [None if label is None else str(label) for label in predictions.labels]
    confidence = [None if math.isnan(c) else float(c) for c in predictions.confidence]
    return labels, confidence


@task(name="record-synthetic-batch", cache_policy=NO_CACHE, persist_result=False)
def record_synthetic_batch(
    batch: SyntheticBatch,
    *,
    inputs: SynthesisInputs,
    generated_version_id: str,
    hashes: list[str],
    passed_version_id: str,
    validation_run_id: str,
    passed_mask: list[bool],
    predicted: list[str | None] | None,
) -> None:
    from govflow.ledger.synthetic import ItemRecord, record_batch
    from govflow.runtime import flow_actor

    run_id, actor = flow_actor()
    first = batch.rows[0].provenance
    with Ledger.open().session() as session:
        record_batch(
            session=session,
            batch_id=batch.batch_id,
            project=inputs.project,
            dataset=inputs.dataset,
            source_version_id=inputs.version_id,
            generated_version_id=generated_version_id,
            passed_version_id=passed_version_id,
            validation_run_id=validation_run_id,
            plan=inputs.plan.model_dump(mode="json"),
            plan_hash=inputs.plan.config_hash,
            generator=first.generator,
            generator_version=first.generator_version,
            seed=inputs.plan.seed,
            rows_requested=sum(batch.targets.values()),
            items=[
                ItemRecord(
                    item_hash=h,
                    label=row.label,
                    provenance=row.provenance.as_dict(),
                    passed_checks=passed,
                    predicted_label=predicted[i] if predicted else None,
                )
                for i, (h, row, passed) in enumerate(
                    zip(hashes, batch.rows, passed_mask, strict=True)
                )
            ],
            report=batch.report().as_dict(),
            flow_run_id=run_id,
            actor=actor,
        )


@task(name="record-spot-check", cache_policy=NO_CACHE, persist_result=False)
def record_verdict(
    *,
    batch_id: str,
    gate_id: str | None,
    choices: dict[int, tuple[str, str | None]],
    rejected_positions: list[int],
    status: str,
    reason: str | None,
) -> tuple[str, str | None, int]:
    """Record the spot-check; return the batch's recorded status, reason and accepted rows."""
    from govflow.domain import SyntheticStatus
    from govflow.ledger.synthetic import record_spot_check
    from govflow.runtime import flow_actor

    _, actor = flow_actor()
    with Ledger.open().session() as session:
        batch = record_spot_check(
            session=session,
            batch_id=batch_id,
            review_task_id=gate_id,
            choices=choices,
            rejected_positions=rejected_positions,
            status=SyntheticStatus(status),
            reason=reason,
            actor=actor,
        )
        return batch.status.value, batch.status_reason, batch.rows_accepted or 0


@dataclass(frozen=True)
class MixPlan:
    """What a mix would be: the accepted rows and the caps they would break."""

    organic_hashes: list[str]
    synthetic_hashes: list[str]
    violations: list[str]
    shares: dict[str, str]


@task(name="plan-mix", cache_policy=NO_CACHE, persist_result=False)
def plan_mix(*, inputs: SynthesisInputs, batch_ids: list[str]) -> MixPlan:
    """Read the accepted rows of ``batch_ids`` and check them against the plan's caps."""
    from govflow.ledger.synthetic import accepted_hashes, batch_items
    from govflow.synthetic.mixing import check_caps

    synthetic_hashes: list[str] = []
    labels: list[str] = []
    with Ledger.open().reader() as session:
        for batch_id in batch_ids:
            accepted = set(accepted_hashes(session=session, batch_id=batch_id))
            for item in batch_items(session=session, batch_id=batch_id):
                if item.item_hash in accepted:
                    synthetic_hashes.append(item.item_hash)
                    labels.append(item.label)
    organic_labels = inputs.frame["label"].astype(str)
    synthetic_labels = pd.Series(labels, dtype=object)
    total = len(organic_labels) + len(synthetic_labels)
    shares = {"all": f"{len(labels)} synthetic of {total} rows = {100 * len(labels) / total:.1f}%"}
    return MixPlan(
        organic_hashes=list(inputs.hashes),
        synthetic_hashes=synthetic_hashes,
        violations=check_caps(organic_labels, synthetic_labels, inputs.plan.caps),
        shares=shares,
    )


@task(name="mix-accepted", cache_policy=NO_CACHE, persist_result=False)
def mix_accepted(
    *,
    inputs: SynthesisInputs,
    batch_ids: list[str],
    parent_ids: list[str],
    mix_plan: MixPlan,
    waiver: dict[str, Any] | None,
    now: datetime,
) -> str:
    """Build the mixed version through ``mix`` (caps enforced) and record how it was made.

    The version is registered from the stored items' hashes (organic rows, then accepted
    synthetic rows): nothing is serialized again and every item keeps its origin.
    """
    from govflow.domain import Stage
    from govflow.ledger.datasets import PreparedItems, register_dataset_version
    from govflow.ledger.synthetic import record_mix
    from govflow.runtime import flow_actor
    from govflow.synthetic.mixing import CapWaiver, mix

    cap_waiver = CapWaiver(**waiver) if waiver else None
    organic = inputs.frame[["label"]].assign(text="")
    synthetic = pd.DataFrame(
        {"label": _labels_of(mix_plan.synthetic_hashes, batch_ids), "text": ""}
    )
    mixed = mix(organic, synthetic, caps=inputs.plan.caps, waiver=cap_waiver, now=now)
    assert len(mixed) == len(mix_plan.organic_hashes) + len(mix_plan.synthetic_hashes)
    run_id, actor = flow_actor()
    items = PreparedItems(hashes=mix_plan.organic_hashes + mix_plan.synthetic_hashes)
    with Ledger.open().session() as session:
        version = register_dataset_version(
            session=session,
            name=inputs.dataset,
            stage=Stage.MIXED,
            items=items,
            actor=actor,
            parent_ids=parent_ids,
            flow_run_id=run_id,
            transformations=[
                {
                    "step": "mix",
                    "batches": batch_ids,
                    "organic_rows": len(mix_plan.organic_hashes),
                    "synthetic_rows": len(mix_plan.synthetic_hashes),
                    "caps": inputs.plan.caps.model_dump(),
                }
            ],
        ).version
        record_mix(
            session=session,
            version_id=version.id,
            organic_version_id=inputs.version_id,
            batch_ids=batch_ids,
            caps=inputs.plan.caps.model_dump(),
            shares=mix_plan.shares,
            violations=mix_plan.violations,
            waiver_reviewer_id=cap_waiver.reviewer_id if cap_waiver else None,
            waiver_reason=cap_waiver.reason if cap_waiver else None,
            waiver_review_task_id=cap_waiver.review_task_id if cap_waiver else None,
            waiver_expires_at=cap_waiver.expires_at if cap_waiver else None,
            actor=actor,
        )
        return version.id


def _labels_of(hashes: list[str], batch_ids: list[str]) -> list[str]:
    from sqlalchemy import select

    from govflow.ledger.models import SyntheticItem

    with Ledger.open().reader() as session:
        rows = session.execute(
            select(SyntheticItem.item_hash, SyntheticItem.label).where(
                SyntheticItem.batch_id.in_(batch_ids)
            )
        ).all()
    label_of = dict(rows)
    return [label_of[h] for h in hashes]


@task(name="publish-synthetic-report", cache_policy=NO_CACHE, persist_result=False)
def publish_synthetic_report(
    batch: SyntheticBatch, *, inputs: SynthesisInputs, spot_check: dict[str, Any]
) -> Path:
    """Publish the batch report (Markdown) and the organic-vs-synthetic picture."""
    from govflow.reports.plots import png_data_uri, save_png
    from govflow.settings import get_settings
    from govflow.synthetic.report import comparison_png

    folder = get_settings().home / "synthetic" / batch.batch_id
    key = f"synthetic-{batch.batch_id}".lower()
    report = batch.report(spot_check)
    markdown = report.markdown()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.md").write_text(markdown, encoding="utf-8")
    create_markdown_artifact(markdown=markdown, key=key, description="synthetic batch report")
    passed = ~batch.screen.failed
    organic = {
        label: inputs.frame.loc[inputs.frame["label"] == label, "text"].astype(str).tolist()
        for label in batch.targets
    }
    synthetic = {
        label: [r.text for r, ok in zip(batch.rows, passed, strict=True) if ok and r.label == label]
        for label in batch.targets
    }
    png = comparison_png(organic, synthetic)
    path = save_png(png, folder / "distributions.png")
    create_image_artifact(
        image_url=png_data_uri(png), key=f"{key}-distributions", description=str(path)
    )
    return folder
