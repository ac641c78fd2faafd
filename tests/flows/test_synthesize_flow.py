"""Synthetic data under governance end to end (issue #12) on a real Prefect server and ledger.

A plan expands the demo's rarest intent (billing) with a generator that also plants an
organic copy, a near copy of an evaluation item and a card number: the checkpoint
quarantines them with their reasons. A spot-check with one defect quarantines the first
batch; a batch made with a new seed passes its spot-check (a label-checker disagreement
judged separately), then the mix exceeds the plan's per-class cap and fails with the
numbers; run again, the answered gate is not asked again and a lead waives the cap. A model
trains on the mixed version and its lineage reaches the generator's provenance.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from flows.synthesize import SynthesizeParams, synthesize
from flows.train import TrainParams, train
from govflow.errors import CapExceeded
from govflow.ledger.datasets import read_version_hashes
from govflow.ledger.engine import Ledger
from govflow.ledger.lineage import build_model_lineage, render_model_tree
from govflow.ledger.models import (
    DatasetVersion,
    QuarantinedRow,
    SyntheticBatch,
)
from govflow.ledger.synthetic import batch_items
from tests.support.gates import decide
from tests.support.labeled import PROJECT, register_demo_labeled

pytestmark = [pytest.mark.slow, pytest.mark.prefect]

ROOT = Path(__file__).resolve().parents[2]
PLAN = """\
project: support-intent
targets:
  - label: billing
    up_to_share: 0.25
generator:
  kind: python
  entrypoint: tests.flows.synthetic_generators:planted
seed: 7
checks:
  defect_rate: 0.25
caps:
  global_share: 0.2
  class_share: 0.3
label_checker:
  adapter: python
  entrypoint: tests.flows.synthetic_generators:checker
"""


def _spot_check(flows, run_id, **kwargs):
    gate = flows.wait_paused(run_id, timeout=180, **kwargs)
    assert gate["kind"] == "synthetic_sample", gate
    return gate


def test_plan_to_trained_model_under_governance(flows, roster, run_cli, govflow_env, tmp_path):
    url = govflow_env["GOVFLOW_DATABASE_URL"]
    labeled = register_demo_labeled(url, reviewer="bob")
    plan = tmp_path / "support-intent.yaml"
    plan.write_text(PLAN)
    params = SynthesizeParams(
        project=PROJECT,
        version_id=labeled,
        plan_path=str(plan),
        suite_path=str(ROOT / "evaluations/support-intent.yaml"),
        ask_cap_waiver=False,
    )

    # 1. One defect in the spot-check quarantines the whole batch.
    future, run_id = flows.start_flow(synthesize, params=params)
    gate = _spot_check(flows, run_id)
    defect = gate["items"][0]
    answers = ["--all", "accept", "--set", f"{defect}=unrealistic"]
    answered = decide(run_cli, roster, run_id, "rita", *answers, "--note", "nobody writes that")
    first = future.result(timeout=180)

    assert answered.code == 0, answered.err
    assert (first.rows_requested, first.rows_generated) == (21, 21)
    assert first.quarantined_by_check == {
        "organic_copy": 2,
        "evaluation_copy": 1,
        "pii": 1,
        "pii_span": 3,
        "batch_duplicate": 0,
    }
    assert first.rows_quarantined == 6
    assert first.spot_checked == 11  # of the 15 that passed, at a tolerated defect rate of 25%
    assert first.status == "quarantined"
    assert first.reason == (
        f"spot-check found a defect: row {defect.removeprefix('row-')} judged unrealistic by "
        "rita: nobody writes that"
    )
    assert (first.rows_accepted, first.mixed_version_id) == (0, None)
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        batch = session.get(SyntheticBatch, first.batch_id)
        reasons = {
            row.position: row.reasons
            for row in session.scalars(
                select(QuarantinedRow).where(
                    QuarantinedRow.validation_run_id == batch.validation_run_id
                )
            )
        }
        generated = session.get(DatasetVersion, first.generated_version_id)
    assert generated.origin == "synthetic"
    copy, near, pii = reasons[18], reasons[19], reasons[20]
    assert [(r["column"], r["observed"][:13]) for r in copy] == [("organic_copy", "exact copy of")]
    assert [r["column"] for r in near] == ["organic_copy", "evaluation_copy"]
    assert near[1]["observed"].startswith("near copy of ")
    assert near[1]["observed"].endswith("(Jaccard 0.98)")
    assert [(r["column"], r["observed"]) for r in pii] == [("pii", "cards 1")]
    assert {r["expectation"] for r in copy + near + pii} == {"expect_column_values_to_be_null"}

    # 2. Regenerated with a new seed: a clean spot-check accepts the batch; the checker's
    # disagreement is judged as its own item; the mix is over the per-class cap.
    params = params.model_copy(update={"seed": 8})
    future, run_id = flows.start_flow(synthesize, params=params)
    gate = _spot_check(flows, run_id)
    labels = [key for key in gate["items"] if key.startswith("label-")]
    sets = [arg for key in labels for arg in ("--set", f"{key}=wrong_label")]
    answered = decide(run_cli, roster, run_id, "rita", "--all", "accept", *sets)
    with pytest.raises(CapExceeded) as err:
        future.result(timeout=180)
    assert answered.code == 0, answered.err
    assert labels == []  # both disagreements were sampled rows, shown with the suggestion
    assert str(err.value) == (
        "synthetic share above the cap: billing: 14 synthetic of 38 rows = 36.8% above the cap 30%"
    )

    # 3. The same run again, now asking a lead: the spot-check is not asked again (it is in
    # the ledger), lee waives the cap, and the mixed version records the waiver.
    params = params.model_copy(update={"ask_cap_waiver": True})
    future, run_id = flows.start_flow(synthesize, params=params)
    gate = flows.wait_paused(run_id, timeout=180)
    assert gate["kind"] == "cap_waiver", gate
    assert gate["assignees"] == ["lee"]
    refused = decide(run_cli, roster, run_id, "sam", "--all", "waive")
    waived = decide(run_cli, roster, run_id, "lee", "--all", "waive", "--note", "rare intent")
    second = future.result(timeout=180)
    assert (
        refused.err
        == "Error: rejected: this gate is assigned to lee only; the gate is open again\n"
    )
    assert waived.code == 0, waived.err
    assert (second.status, second.rows_quarantined, second.rows_accepted) == ("accepted", 7, 14)
    assert second.quarantined_by_check == {
        "organic_copy": 2,
        "evaluation_copy": 1,
        "pii": 3,
        "pii_span": 4,
        "batch_duplicate": 0,
    }
    assert (second.spot_checked, second.label_disagreements) == (11, 2)
    assert second.cap_violations == ["billing: 14 synthetic of 38 rows = 36.8% above the cap 30%"]

    # 4. A model trains on the mixed version; its lineage reaches the generator provenance.
    future, _ = flows.start_flow(
        train, params=TrainParams(project=PROJECT, version_id=second.mixed_version_id)
    )
    trained = future.result(timeout=300)
    with Ledger.open(url).reader() as session:
        tree = render_model_tree(
            build_model_lineage(session=session, model_version_id=trained.model_version_id)
        )
        mixed = session.get(DatasetVersion, second.mixed_version_id)
        items = batch_items(session=session, batch_id=second.batch_id)
        accepted = {i.item_hash for i in items if i.is_accepted}
        mix_origins = [
            "synthetic" if h in accepted else "organic"
            for h in read_version_hashes(session=session, version_id=mixed.id)
        ]
    assert (mixed.stage.value, mixed.row_count) == ("mixed", 172)
    # Organic rows first, then the accepted synthetic rows.
    assert mix_origins == ["organic"] * 158 + ["synthetic"] * 14
    assert (trained.train_rows, trained.test_rows) == (130, 42)  # synthetic rows only train
    assert sum(item.is_accepted for item in items) == 14
    assert "cap waiver signed by lee at gate rt-" in tree
    assert "over the cap: billing: 14 synthetic of 38 rows = 36.8% above the cap 30%" in tree
    assert (
        f"synthetic batch {second.batch_id} by python:tests.flows.synthetic_generators:planted v1"
        in tree
    )
    assert ": accepted, 21 made, 14 passed the checks, 14 accepted" in tree
    assert "spot-check at gate rt-" in tree and "accept 11 by rita" in tree
