"""The demo's plan end to end through the library and the real synthetic suite."""

from pathlib import Path

import pytest

from govflow.annotation.labeled import bind_label_set
from govflow.errors import GenerationFailed
from govflow.hashing import content_hash
from govflow.synthetic.batch import build_batch
from govflow.synthetic.plan import SynthesisPlan, load_plan
from govflow.validation.checkpoint import validate_frame
from govflow.validation.suites import suite_for
from tests.support.labeled import demo_labeled_frame

ROOT = Path(__file__).resolve().parents[3]
LABELS = ["billing", "bug", "account", "feature_request", "other"]


@pytest.fixture(scope="module")
def demo():
    frame = demo_labeled_frame()
    return frame, [content_hash(r) for r in frame.to_dict("records")]


def test_demo_plan_makes_a_screened_batch_the_suite_agrees_with(demo):
    frame, hashes = demo
    evaluation = frame.text.iloc[:3].tolist()
    batch = build_batch(
        plan=load_plan(ROOT / "synthesis/support-intent.yaml"),
        source_version_id="dv-demo",
        organic=frame,
        organic_hashes=hashes,
        label_set=LABELS,
        evaluation_texts=evaluation,
        evaluation_ids=["e1", "e2", "e3"],
    )
    assert batch.targets == {"billing": 21}
    assert len(batch.rows) == 21
    counts = batch.screen.counts()
    failed = int(batch.screen.failed.sum())
    suite = bind_label_set(suite_for("support_tickets", "synthetic"), LABELS)
    outcome = validate_frame(batch.frame, suite)
    assert outcome.rows_in == 21
    assert len(outcome.quarantined) == failed
    assert failed == 6
    assert counts == {
        "organic_copy": 1,
        "evaluation_copy": 0,
        "pii": 1,
        "pii_span": 6,
        "batch_duplicate": 0,
    }
    assert not outcome.batch_failed
    report = batch.report()
    assert report.rows_passed == 15
    [billing] = batch.fidelity
    assert (billing.length, billing.vocabulary, billing.missed) == (0.5917, 0.6269, [])
    assert batch.frame["fidelity"].isna().all() and batch.frame["diversity"].isna().all()
    assert set(batch.stored_frame.columns) >= {"text", "label", "split", "origin", "generator"}
    assert not {"pii", "fidelity", "diversity"} & set(batch.stored_frame.columns)


def test_a_batch_that_misses_fidelity_fails_its_checkpoint(demo):
    frame, hashes = demo
    plan = load_plan(ROOT / "synthesis/support-intent.yaml")
    strict = plan.model_copy(
        update={"checks": plan.checks.model_copy(update={"min_vocabulary_fidelity": 0.9})}
    )
    batch = build_batch(
        plan=strict,
        source_version_id="dv-demo",
        organic=frame,
        organic_hashes=hashes,
        label_set=LABELS,
    )
    assert set(batch.frame["fidelity"]) == {"vocabulary 0.627 < 0.9"}
    outcome = validate_frame(
        batch.frame, bind_label_set(suite_for("support_tickets", "synthetic"), LABELS)
    )
    assert outcome.batch_failed
    assert len(outcome.quarantined) == 21


def copy_seeds(*, label, n, seeds, seed):
    return seeds[:n]


def test_a_batch_of_nothing_but_organic_copies_is_refused(demo):
    frame, hashes = demo
    plan = SynthesisPlan.model_validate(
        {
            "project": "support-intent",
            "targets": [{"label": "billing", "rows": 5}],
            "generator": {"kind": "python", "entrypoint": f"{__name__}:copy_seeds"},
        }
    )
    with pytest.raises(GenerationFailed) as err:
        build_batch(
            plan=plan,
            source_version_id="dv-demo",
            organic=frame,
            organic_hashes=hashes,
            label_set=LABELS,
        )
    assert str(err.value) == (
        f"generator python:{__name__}:copy_seeds failed: every one of its 5 rows copies "
        "organic data (Jaccard >= 0.8 on character 5-grams)"
    )
