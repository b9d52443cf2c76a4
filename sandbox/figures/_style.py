"""Shared plot styling and helpers: one look for every figure, readable in grayscale.

Each loss / method gets a colour *and* a line style *and* a marker, so curves stay distinguishable
when printed in black and white. Figures are built with ``matplotlib.figure.Figure`` directly (no
pyplot state, nothing shown or written implicitly).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

__all__ = ["STYLES", "style", "new_figure", "LABELS", "loss_label", "CMAP", "CONTOUR", "arr", "edges", "deg",
           "size_of", "floats", "grid", "phase_panel"]

CMAP = "cividis"  # perceptual, colour-blind safe and monotone in lightness (reads in grayscale)
CONTOUR = 0.75  # phase boundary: accuracies are 1 (success) or 0.5 (penalizer lost) in the symmetric maps

# colour-blind-safe palette (Okabe-Ito) paired with distinct dashes and markers
STYLES = {
    "logistic": dict(color="#000000", linestyle="-", marker="o"),
    "huberised": dict(color="#E69F00", linestyle="--", marker="s"),
    "phuber": dict(color="#0072B2", linestyle="-.", marker="^"),
    "unhinged": dict(color="#009E73", linestyle=":", marker="D"),
    "linear": dict(color="#CC79A7", linestyle=(0, (5, 1, 1, 1)), marker="v"),
    "gce": dict(color="#D55E00", linestyle=(0, (3, 1, 1, 1, 1, 1)), marker="P"),
    "phuber_gce": dict(color="#56B4E9", linestyle=(0, (1, 1)), marker="X"),
}

LABELS = {
    "logistic": "logistic",
    "huberised": "Huberised",
    "phuber": "partially Huberised (PHuber)",
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


def loss_label(name: str, tau: float | None = None) -> str:
    """Short legend label, e.g. ``PHuber (τ = 1.36)``; ``Huberised (τ = 1, plain logistic)`` for tau >= 1."""
    base = {"phuber": "PHuber"}.get(name, LABELS.get(name, name))
    if tau is None:
        return base
    note = ", plain logistic" if name == "huberised" and tau >= 1.0 else ""
    return f"{base} (τ = {tau:g}{note})"


def arr(values) -> np.ndarray:
    """A JSON list (possibly nested, ``None`` for missing/inf) as a float array with NaN."""
    if isinstance(values, list):
        return np.array([arr(v) if isinstance(v, list) else (np.nan if v is None else v) for v in values],
                        dtype=float)
    return np.array(np.nan if values is None else values, dtype=float)


def edges(c, *, log: bool = False) -> np.ndarray:
    """Cell edges around grid centres ``c`` (geometric midpoints when ``log``)."""
    c = np.asarray(c, dtype=float)
    t = np.log(c) if log else c
    if t.size == 1:
        half = 0.1 if log else (0.1 * abs(t[0]) or 0.5)
        e = np.array([t[0] - half, t[0] + half])
    else:
        mid = (t[1:] + t[:-1]) / 2
        e = np.concatenate([[t[0] - (mid[0] - t[0])], mid, [t[-1] + (t[-1] - mid[-1])]])
    return np.exp(e) if log else e


def deg(theta) -> np.ndarray:
    """Direction of 2-D weights ``theta`` ``(..., 2)`` in degrees."""
    theta = np.asarray(theta, dtype=float)
    return np.degrees(np.arctan2(theta[..., 1], theta[..., 0]))


def size_of(table: dict, preset):
    """The entry of a figure's sizes table for ``preset.size`` (``"full"`` or ``"smoke"``)."""
    if preset.size not in table:
        raise ValueError(f"preset.size={preset.size!r} is unknown; choose one of {', '.join(table)}")
    return table[preset.size]


def floats(values, decimals: int = 4) -> tuple[float, ...]:
    """A grid as a tuple of plain floats rounded to ``decimals`` (for the frozen size configs)."""
    return tuple(float(v) for v in np.round(np.asarray(values, float), decimals))


def grid(values, *extra) -> np.ndarray:
    """Sorted unique grid of ``values`` with ``extra`` points (e.g. the preset's tau) inserted."""
    return np.unique(np.round(np.concatenate([np.asarray(values, float), np.asarray(extra, float)]), 12))


def phase_panel(ax, x, rho, acc, *, log: bool, xlabel: str, title: str, mark_x=None, mark_label=None,
                 hline=None, hline_label=None, boundary=None, boundary_label=None, guarantee=None):
    """One phase map: accuracy over (x, rho) as cells, the 0.75 contour, optional boundary, guarantee and
    marker lines. The axes end at the outer cell edges; the legend sits below the axes, off the data."""
    x = np.asarray(x, float)
    acc = np.asarray(acc, float)
    ex, er = edges(x, log=log), edges(rho)
    mesh = ax.pcolormesh(ex, er, acc.T, cmap=CMAP, vmin=0.5, vmax=1.0, shading="flat")
    if acc.shape[0] > 1 and acc.shape[1] > 1 and np.nanmin(acc) < CONTOUR < np.nanmax(acc):
        # between a cell at 1 and one at 0.5 the level 0.75 lies half-way: on the cells' shared edge
        ax.contour(x, rho, acc.T, levels=[CONTOUR], colors="white", linewidths=2.2)
        ax.contour(x, rho, acc.T, levels=[CONTOUR], colors="black", linewidths=1.0, linestyles="--")
    if boundary is not None:
        b = np.array([np.nan if v is None else v for v in boundary[1]], float)
        ax.plot(boundary[0], b, color="white", linewidth=2.6)
        ax.plot(boundary[0], b, color="#D55E00", linestyle="-", marker="o", markersize=3, linewidth=1.2,
                label=boundary_label)
    if guarantee is not None:
        ax.plot(guarantee["tau"], guarantee["rho"], color="white", linewidth=2.6)
        ax.plot(guarantee["tau"], guarantee["rho"], color="#009E73", linestyle=(0, (4, 2)), linewidth=1.4,
                label="Prop. 7 guarantee: correct below")
    if hline is not None:
        ax.axhline(hline, color="white", linewidth=2.2)
        ax.axhline(hline, color="black", linestyle=":", linewidth=1.2, label=hline_label)
    if mark_x is not None:
        ax.axvline(mark_x, color="white", linewidth=2.2)
        ax.axvline(mark_x, color="#0072B2", linestyle="-.", linewidth=1.2, label=mark_label)
    if log:
        ax.set_xscale("log")
        if np.log10(ex[-1] / ex[0]) < 1.5:  # a narrow log range: label the grid values, not 2x10^-1 ...
            ax.set_xticks(x, [f"{v:g}" for v in x])
            ax.minorticks_off()
    ax.set(xlabel=xlabel, ylabel="noise rate ρ", title=title, xlim=(ex[0], ex[-1]), ylim=(er[0], er[-1]))
    ax.title.set_fontsize(9)
    if any(lab is not None for lab in (mark_label, hline_label, boundary_label)) or guarantee is not None:
        ax.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, frameon=False)
    return mesh
