import pytest

from govflow.synthetic.checks import (
    CHECK_COLUMNS,
    PiiSpans,
    label_disagreements,
    screen_batch,
)
from govflow.synthetic.nearcopy import ReferenceIndex
from govflow.synthetic.plan import CheckThresholds

ORGANIC = [
    "I was charged twice for my March invoice and need the extra charge refunded quickly.",
    "Please mail me at lena.k@example.com, how do I change the card you bill for my plan?",
    "The export button shows an error every time I click it on the reports page today.",
]
EVALUATION = ["Why did the price of the enterprise plan go up again this month without notice?"]


@pytest.fixture
def screened():
    batch = [
        ORGANIC[0],  # exact copy
        ORGANIC[2].replace("today", "now"),  # near copy
        EVALUATION[0].replace("again", "so"),  # contamination
        "Reach me on 415-555-0132 about the refund for the annual subscription please.",
        "Hello, how do I change the card you bill for my plan? It expired last week.",
        "Can I pay the yearly plan by bank transfer instead of a credit card this time?",
        "Can I pay the yearly plan by bank transfer instead of a credit card this time?!",
    ]
    return screen_batch(
        batch,
        organic=ReferenceIndex(ORGANIC),
        organic_ids=["o1", "o2", "o3"],
        evaluation=ReferenceIndex(EVALUATION),
        evaluation_ids=["e1"],
        pii_spans=PiiSpans.from_texts(ORGANIC, width=8),
        thresholds=CheckThresholds(),
    )


def test_every_check_names_what_it_saw(screened):
    rows = screened.checks.to_dict(orient="records")
    assert list(screened.checks.columns) == list(CHECK_COLUMNS)
    assert rows[0]["organic_copy"] == "exact copy of o1"
    assert rows[1]["organic_copy"].startswith("near copy of o3 (Jaccard 0.")
    assert rows[2]["evaluation_copy"].startswith("near copy of e1 (Jaccard 0.")
    assert rows[2]["organic_copy"] is None
    assert rows[3]["pii"] == "phones 1"
    assert rows[4]["pii_span"] == (
        "8 words of an organic text with PII: 'how do i change the card you bill'"
    )
    assert rows[5] == dict.fromkeys(CHECK_COLUMNS)
    assert rows[6]["batch_duplicate"].startswith("row 5 (Jaccard ")
    assert screened.failed.tolist() == [True, True, True, True, True, False, True]
    assert screened.counts() == {
        "organic_copy": 2,
        "evaluation_copy": 1,
        "pii": 1,
        "pii_span": 1,
        "batch_duplicate": 1,
    }
    assert screened.nearest_organic[:2] == ["o1", "o3"]
    assert screened.nearest_similarity[0] == 1.0


def test_label_disagreements_skip_rows_the_checker_could_not_answer():
    found = label_disagreements(
        ["billing", "billing", "billing"], ["billing", "bug", None], [0.9, 0.7, None]
    )
    assert [(d.position, d.intended, d.predicted, d.confidence) for d in found] == [
        (1, "billing", "bug", 0.7)
    ]
