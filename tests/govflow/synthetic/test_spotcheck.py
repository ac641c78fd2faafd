from govflow.domain import SyntheticStatus
from govflow.domain.review import GateResult, ItemDecision, Outcome, ReviewKind
from govflow.synthetic.checks import LabelDisagreement
from govflow.synthetic.rows import Provenance, SyntheticRow
from govflow.synthetic.spotcheck import spot_check_request, spot_check_verdict

PROVENANCE = Provenance("template", "2", "c", 7, None, ("abcdef1234567890",), ("synonyms",))
ROWS = [SyntheticRow(f"row text {i}", "billing", PROVENANCE) for i in range(4)]


def decision(key: str, choice: str, reviewer: str | None = "rita", note: str | None = None):
    return ItemDecision(
        item_key=key,
        choice=choice,
        outcome=Outcome.DECIDED if reviewer else Outcome.TIMED_OUT,
        reviewer_id=reviewer,
        tier=1,
        note=note,
        payload_hash="p",
        gate_id="rt-1",
    )


def result(*decisions):
    return GateResult(gate_id="rt-1", kind=ReviewKind.SYNTHETIC_SAMPLE, decisions=list(decisions))


def test_request_shows_provenance_and_neighbour_and_asks_disagreements_once():
    request = spot_check_request(
        batch_id="sb-1",
        rows=ROWS,
        sampled=[0, 2],
        disagreements=[
            LabelDisagreement(2, "billing", "bug", 0.9),
            LabelDisagreement(3, "billing", "account", None),
        ],
        nearest={0: ("organic text", 0.41)},
        dataset_version_id="dv-1",
        deadline_hours=24,
    )
    assert [item.key for item in request.items] == ["row-0", "row-2", "label-3"]
    assert request.choices == ("accept", "wrong_label", "unrealistic", "escalate")
    first, second, third = request.items
    assert first.payload == {
        "text": "row text 0",
        "intended_label": "billing",
        "generator": "template v2",
        "operations": "synonyms",
        "seed_items": "abcdef123456",
        "nearest_organic": "organic text",
        "nearest_organic_jaccard": 0.41,
    }
    assert (second.reasons, second.suggestion) == (
        ["spot_check_sample", "label_checker_disagrees"],
        "bug",
    )
    assert (third.reasons, third.suggestion) == (["label_checker_disagrees"], "account")


def test_one_defect_quarantines_the_batch_with_the_reviewers_reason():
    verdict = spot_check_verdict(
        result(
            decision("row-0", "accept"),
            decision("row-2", "wrong_label", note="this is a bug report"),
            decision("label-3", "accept"),
        )
    )
    assert verdict.status is SyntheticStatus.QUARANTINED
    assert verdict.reason == (
        "spot-check found a defect: row 2 judged wrong_label by rita: this is a bug report"
    )
    assert verdict.choices == {
        0: ("accept", "rita"),
        2: ("wrong_label", "rita"),
        3: ("accept", "rita"),
    }


def test_clean_sample_accepts_and_a_rejected_disagreement_keeps_only_its_row_out():
    verdict = spot_check_verdict(
        result(decision("row-0", "accept"), decision("label-3", "wrong_label"))
    )
    assert (verdict.status, verdict.reason, verdict.rejected_positions) == (
        SyntheticStatus.ACCEPTED,
        None,
        [3],
    )


def test_nobody_answering_quarantines_the_batch():
    verdict = spot_check_verdict(result(decision("row-0", "unchecked", reviewer=None)))
    assert verdict.status is SyntheticStatus.QUARANTINED
    assert verdict.reason == (
        "spot-check found a defect: row 0 judged unchecked by the deadline policy (nobody answered)"
    )
