import io

from PIL import Image

from govflow.synthetic.fidelity import ClassFidelity, Diversity
from govflow.synthetic.report import BatchReport, comparison_png


def test_comparison_picture_has_one_row_per_class():
    png = comparison_png(
        {"billing": ["refund my invoice", "charged twice"], "bug": ["crash on export"]},
        {"billing": ["refund the invoice please"], "bug": ["export crashes", "error 500"]},
    )
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (1210, 704)


def test_markdown_report_counts_checks_and_scores():
    report = BatchReport(
        batch_id="sb-1",
        rows_requested=3,
        rows_generated=3,
        rows_rejected={},
        quarantined_by_check={"organic_copy": 1, "pii": 0},
        rows_passed=2,
        fidelity=[ClassFidelity("billing", 24, 2, 0.75, 0.5, ["vocabulary 0.500 < 0.55"])],
        diversity=Diversity(0.5, 0.75, 0.0),
        spot_check={"outcome": "accepted"},
    )
    text = report.markdown()
    assert "| organic\\_copy | 1 |" in text
    assert "| billing | 24 | 2 | 0.750 | 0.500 | vocabulary 0.500 \\< 0.55 |" in text
    assert "Spot-check: accepted" in text
