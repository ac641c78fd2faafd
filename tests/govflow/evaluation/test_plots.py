"""Evaluation pictures: valid PNGs of the requested size drawn from the report objects."""

from __future__ import annotations

import struct

from govflow.evaluation.plots import reliability_png, slice_metrics_png
from govflow.reports.plots import DPI
from tests.govflow.evaluation.conftest import Evaluated

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    """Return (width, height) from a PNG's IHDR chunk."""
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_slice_metrics_picture_is_a_png_of_the_requested_size(evaluated: Evaluated):
    png = slice_metrics_png(evaluated.evaluation, width=9.0, height=3.6)

    assert png_size(png) == (round(9.0 * DPI), round(3.6 * DPI))
    assert png.endswith(b"IEND\xaeB`\x82")


def test_slice_metrics_picture_takes_any_metric_list(evaluated: Evaluated):
    png = slice_metrics_png(evaluated.evaluation, metrics=["accuracy", "ece"], width=6, height=3)

    assert png_size(png) == (6 * DPI, 3 * DPI)


def test_reliability_diagram_is_a_png_for_each_slice(evaluated: Evaluated):
    sizes = {
        item.spec.name: png_size(reliability_png(item, width=5, height=5))
        for item in evaluated.evaluation.slices
    }

    assert sizes == {name: (5 * DPI, 5 * DPI) for name in sizes}
    assert list(sizes) == ["routine", "edge_cases", "adversarial", "policy"]


def test_pictures_differ_when_the_data_differ(evaluated: Evaluated):
    routine = evaluated.evaluation.slice("routine")
    policy = evaluated.evaluation.slice("policy")

    assert reliability_png(routine) != reliability_png(policy)
