"""The figures: one module per figure, each a :class:`FigureSpec` named ``SPEC``.

A figure is two pure steps: ``compute(preset, *, seed, trials, progress)`` turns a preset and a seed
into JSON-serialisable numbers, and ``plot(data)`` draws them as a matplotlib ``Figure`` from those
numbers alone. The command line (``python -m sandbox figures``) and the notebooks (:func:`show`) are
thin layers over them. :data:`FIGURE_MODULES` lists the modules in display order; adding a figure is
one module plus one line there.
"""

from __future__ import annotations

import importlib
import os
import warnings

from ..presets import DEFAULT_PRESET, Preset, get_preset
from ._spec import FigureSpec, Progress, no_progress

__all__ = ["FigureSpec", "Progress", "no_progress", "FIGURE_MODULES", "all_figures", "get_figure", "show",
           "setup_notebook"]

FIGURE_MODULES = (
    # the paper
    "fig1_losses",
    "fig2a_long_servedio",
    "fig2b_outliers",
    # beyond the paper
    "clipping_variants",
    "phase_population",
    "phase_sample",
    "sample_convergence",
    "noise_sweep",
    "adversarial_flips",
    "calibration",
    "landscape",
    "loss_atlas",
    "loss_atlas_hyper",
    # the paper's Table 2, sandbox-sized
    "table2_mnist",
)


def all_figures() -> dict[str, FigureSpec]:
    """Every registered figure by name, in display order."""
    return {spec.name: spec for spec in (importlib.import_module(f"{__name__}.{m}").SPEC for m in FIGURE_MODULES)}


def get_figure(name: str) -> FigureSpec:
    """The figure called ``name``; ``ValueError`` listing the known names otherwise."""
    if name not in FIGURE_MODULES:
        raise ValueError(f"figure name={name!r} is unknown; choose one of {', '.join(FIGURE_MODULES)}")
    return importlib.import_module(f"{__name__}.{name}").SPEC


def _preset(preset) -> Preset:
    if isinstance(preset, Preset):
        return preset
    return get_preset(os.environ.get("SANDBOX_PRESET", DEFAULT_PRESET) if preset is None else preset)


def setup_notebook(default: str = DEFAULT_PRESET, *, setting: str | None = None) -> Preset:
    """The first cell of every notebook: the preset named by ``SANDBOX_PRESET`` (else ``default``),
    printed; and RuntimeWarnings turned into errors (the numerics must be warning-free, as in the tests).

    ``setting`` names a preset whose setting (rho, taus, gamma) the notebook studies whatever
    ``SANDBOX_PRESET`` says: the environment then only picks the size (``smoke``, the same setting at
    test size, or the full size of ``setting``).
    """
    warnings.simplefilter("error", RuntimeWarning)
    preset = get_preset(os.environ.get("SANDBOX_PRESET", default))
    if setting is not None and preset.name != setting:
        studied = get_preset("smoke" if preset.size == "smoke" else setting)
        if studied.name != preset.name:
            print(f"note: preset {preset.name!r} requested; this notebook studies the {setting!r} setting "
                  f"at {preset.size!r} size, i.e. preset {studied.name!r}")
        preset = studied
    print(f"preset {preset.name!r} (size {preset.size!r}): {preset.description}")
    return preset


def show(name: str, preset=None, *, seed: int = 0, trials: int | None = None, report: bool = True,
         dpi: int = 90, executor=None) -> dict:
    """Compute figure ``name`` with ``preset`` (a :class:`~sandbox.presets.Preset`, a preset name, or
    ``None``: ``SANDBOX_PRESET`` or the default), display it (in Jupyter; elsewhere nothing is shown),
    print its report lines, and return its numbers (the JSON the command line would write). ``executor``:
    any ``concurrent.futures``-style executor for the figure's sweep cells (default: this process)."""
    spec = get_figure(name)
    data = spec.compute(_preset(preset), seed=seed, trials=trials, progress=no_progress, executor=executor)
    fig = spec.plot(data)
    try:
        from IPython.display import Image, display
    except ImportError:  # pragma: no cover - outside IPython there is nothing to display on
        pass
    else:
        from ..io import png_bytes

        display(Image(png_bytes(fig, dpi=dpi)))
    if report:
        print("\n".join(data.get("report", [])))
    return data
