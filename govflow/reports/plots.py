"""Draw pictures with matplotlib (Agg backend, no display) and hand them out as PNG bytes.

Every govflow picture goes through ``figure`` and ``to_png`` so that all of them share one
backend, one resolution and one style, and so that no figure outlives its rendering (pyplot's
global figure registry is never used: figures are built from ``matplotlib.figure.Figure``).
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["DPI", "figure", "png_data_uri", "save_png", "to_png"]

DPI = 110


def figure(width: float = 6.4, height: float = 4.8) -> Figure:
    """Return a new figure (inches) drawn by the Agg backend, outside pyplot's registry."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure) -> bytes:
    """Render ``fig`` as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def png_data_uri(png: bytes) -> str:
    """Return PNG bytes as a ``data:`` URI (how Prefect image artifacts embed a picture)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def save_png(png: bytes, path: Path) -> Path:
    """Write PNG bytes to ``path`` (creating its folder) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return path
