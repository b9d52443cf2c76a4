"""What a figure is: :class:`FigureSpec`, two pure steps and what the command-line options mean for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

__all__ = ["FigureSpec", "Progress", "no_progress"]

Progress = Callable[[str], None]


def no_progress(message: str) -> None:
    """A progress callback that ignores its messages."""


@dataclass(frozen=True)
class FigureSpec:
    """``compute(preset, *, seed, trials, progress, executor) -> dict`` and ``plot(data) -> Figure``.

    ``compute`` returns JSON-serialisable numbers and ``plot`` draws them, reading nothing but its
    argument, so every PNG can be redrawn from its JSON. ``options`` says what each command-line option
    means for this figure (``{"trials": "trials per noise rate", "rho": "..."}``); an option that is not
    listed is rejected by the command line, never silently ignored. ``extra_files(data)``, if given,
    returns further text outputs as ``{suffix: text}`` (e.g. ``{".md": table}``). ``cost`` is rough
    seconds at the default preset: parallel runs start the longest first. ``executor`` (default
    ``None``: in this process) runs the figure's sweep cells (:mod:`sandbox.figures._cells`); figures
    without a sweep ignore it.
    """

    name: str
    summary: str
    compute: Callable[..., dict]
    plot: Callable[[dict], object]
    options: dict[str, str] = field(default_factory=dict)
    extra_files: Callable[[dict], dict[str, str]] | None = None
    cost: float = 1.0
