"""Shared plot styling: one look for every figure, readable in grayscale.

Each loss / method gets a colour *and* a line style *and* a marker, so curves stay distinguishable
when printed in black and white. Figures are built with ``matplotlib.figure.Figure`` directly (no
pyplot state, nothing shown or written implicitly).
"""

from __future__ import annotations

from matplotlib.figure import Figure

__all__ = ["STYLES", "style", "new_figure", "LABELS"]

# colour-blind-safe palette (Okabe-Ito) paired with distinct dashes and markers
STYLES = {
    "logistic": dict(color="#000000", linestyle="-", marker="o"),
    "huberised": dict(color="#E69F00", linestyle="--", marker="s"),
    "partially_huberised": dict(color="#0072B2", linestyle="-.", marker="^"),
    "unhinged": dict(color="#009E73", linestyle=":", marker="D"),
    "linear": dict(color="#CC79A7", linestyle=(0, (5, 1, 1, 1)), marker="v"),
    "gce": dict(color="#D55E00", linestyle=(0, (3, 1, 1, 1, 1, 1)), marker="P"),
    "phuber_gce": dict(color="#56B4E9", linestyle=(0, (1, 1)), marker="X"),
}

LABELS = {
    "logistic": "logistic",
    "huberised": "Huberised",
    "partially_huberised": "partially Huberised (PHuber)",
    "unhinged": "unhinged",
    "linear": "linear (1 - p)",
    "gce": "GCE",
    "phuber_gce": "PHuber-GCE",
}

_EXTRA = [
    dict(color="#009E73", linestyle=":", marker="D"),
    dict(color="#CC79A7", linestyle=(0, (5, 1, 1, 1)), marker="v"),
    dict(color="#D55E00", linestyle=(0, (3, 1, 1, 1, 1, 1)), marker="P"),
    dict(color="#56B4E9", linestyle=(0, (1, 1)), marker="X"),
    dict(color="#666666", linestyle=(0, (4, 2)), marker="*"),
    dict(color="#999999", linestyle=(0, (2, 2)), marker="h"),
]


def style(name: str, index: int = 0) -> dict:
    """Line style for a named loss, or the ``index``-th extra style for anything else."""
    return dict(STYLES.get(name, _EXTRA[index % len(_EXTRA)]))


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float = 5.0, height: float = 3.6, **kw):
    """A ``Figure`` with a grid of axes: ``(fig, axes)``; ``axes`` squeezed as in ``subplots``."""
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, **kw)
    return fig, axes
