"""The figure registry: every figure of ``python -m sandbox figures`` is a :class:`FigureSpec`.

A figure is two pure steps: ``compute`` turns a preset and a seed into JSON-serialisable numbers
(a ``dict``), and ``plot`` turns those numbers into a matplotlib ``Figure``. The CLI and the
notebooks are thin layers over these; a figure can be re-plotted from its JSON alone.

Figure modules each expose ``FIGURES: list[FigureSpec]``; :data:`FIGURE_MODULES` lists them in
display order, so adding a figure never edits another module.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from .presets import Preset

__all__ = ["FigureSpec", "FIGURE_MODULES", "all_figures", "get_figure", "Progress", "no_progress"]

Progress = Callable[[str], None]


def no_progress(message: str) -> None:
    """A progress callback that ignores its messages."""


@dataclass(frozen=True)
class FigureSpec:
    """``compute(preset, *, seed, trials, progress) -> dict`` and ``plot(data) -> Figure``.

    ``trials`` overrides the preset's number of trials where the figure has trials (``None``: the
    preset's); figures without trials ignore it. ``extra_files(data)``, if given, returns further
    text outputs as ``{suffix: text}`` (e.g. ``{".md": table}``), written next to the PNG and JSON.
    """

    name: str
    summary: str
    compute: Callable[..., dict]
    plot: Callable[[dict], object]
    extra_files: Callable[[dict], dict[str, str]] | None = None
    cost: float = 1.0  # rough seconds at the default preset: parallel runs start the longest first


FIGURE_MODULES = (
    "sandbox.fig_paper",  # fig1_losses, fig2a_long_servedio, fig2b_outliers
    "sandbox.fig_extensions",  # beyond the paper: clipping variants, phase maps, adversary, ...
    "sandbox.table2",  # table2_mnist
)


def all_figures() -> dict[str, FigureSpec]:
    """Every registered figure by name, in display order (modules not yet present are skipped)."""
    out: dict[str, FigureSpec] = {}
    for mod in FIGURE_MODULES:
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name == mod:
                continue
            raise
        for spec in getattr(m, "FIGURES", []):
            out[spec.name] = spec
    return out


def get_figure(name: str) -> FigureSpec:
    figs = all_figures()
    if name not in figs:
        raise ValueError(f"figure name={name!r} is unknown; choose one of {', '.join(figs)}")
    return figs[name]
