"""The round's confusion matrix, drawn with matplotlib."""

from __future__ import annotations

import io

import pandas as pd

from govflow.reports.annotation import confusion_counts, confusion_png


def test_confusion_counts_and_png_of_a_round():
    labels = pd.DataFrame(
        {
            "item": ["h1", "h1", "h2", "h2", "h3"],
            "annotator": ["a", "b", "a", "b", "a"],
            "label": ["bug", "billing", "billing", "billing", "bug"],
            "is_gold": [False] * 5,
            "is_excluded": [False, False, False, True, False],
        }
    )
    table = confusion_counts(labels, {"h1": "bug", "h2": "billing", "h3": None}, ["bug", "billing"])
    assert table.to_numpy().tolist() == [[1, 1], [0, 1]]

    png = confusion_png(table, "round ar-1")

    from matplotlib.image import imread

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(io.BytesIO(png), format="png")
    height, width = image.shape[:2]
    assert (width, height) == (330, 286)  # 3.0 x 2.6 inches at 110 dpi
