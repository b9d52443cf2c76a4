"""``loss_atlas_hyper``: each robust loss's break rho against its main hyperparameter.

For every loss of :data:`sandbox.atlas.HYPER_SWEEPS` (tau, q, A, alpha, k, delta, t1, t): the exact
population verdict on the Long & Servedio atoms at the preset's gamma over a grid of symmetric noise
rates (:func:`sandbox.atlas.atlas_row`), one cell per (loss, value) through
:func:`sandbox.figures._cells.cell_map`; the other parameters stay at the atlas setting. ``break_rho``:
the smallest grid rho at which every minimiser misclassifies an atom; ``tie_rho``: at which some does.
Deterministic: no samples.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import atlas
from .. import calibration as cal
from ..data import long_servedio
from ..io import to_jsonable
from ..presets import Preset
from ._cells import cell_map
from ._spec import FigureSpec, Progress, no_progress
from ._style import arr, floats, new_figure, size_of


@dataclass(frozen=True)
class LossAtlasHyperSize:
    """Grids of ``loss_atlas_hyper``."""

    rho: tuple[float, ...]  # symmetric noise rates
    points: int | None  # values per sweep (None: all of HYPER_SWEEPS)
    n_angles: int  # population search grid, refined (sandbox.population)
    n_radii: int


SIZES = {
    "full": LossAtlasHyperSize(rho=floats(np.arange(0.0, 0.495, 0.01), 2), points=None, n_angles=720, n_radii=121),
    "smoke": LossAtlasHyperSize(rho=(0.0, 0.1, 0.2, 0.3, 0.4, 0.49), points=3, n_angles=360, n_radii=61),
}


def sweep_cell(cell: tuple) -> dict:
    """``(name, params, gamma, rho, n_angles, n_radii)`` -> break rho, tie rho, family and symmetry."""
    name, params, gamma, rho, n_angles, n_radii = cell
    r = atlas.atlas_row(name, params, gamma=gamma, rho=rho, n_angles=n_angles, n_radii=n_radii)
    return {"break_rho": r["population"].break_rho, "tie_rho": r["population"].tie_rho, "family": r["family"],
            "symmetric": r["symmetry"].symmetric, "convex": r["convex"], "bounded": r["bounded"]}


def _monotone(values, breaks) -> str:
    b = [np.inf if x is None else x for x in breaks]
    if all(u >= v for u, v in zip(b, b[1:])):
        return "non-increasing"
    if all(u <= v for u, v in zip(b, b[1:])):
        return "non-decreasing"
    return "not monotone"


def compute(preset: Preset, *, seed: int = 0, trials: int | None = None,
            progress: Progress = no_progress, executor=None) -> dict:
    """Break rho of every swept loss at each value of its main hyperparameter (module docstring).
    Deterministic: ``seed`` and ``trials`` are unused."""
    cfg = size_of(SIZES, preset)
    p = preset
    rho = np.asarray(cfg.rho, float)
    settings = atlas.atlas_settings(tau_huberised=p.tau_huberised, tau_phuber=p.tau_phuber)
    t0 = time.perf_counter()
    plan = []
    for name, sw in atlas.HYPER_SWEEPS.items():
        for v in atlas.hyper_values(name, points=cfg.points):
            plan.append((name, {**settings[name], sw.param: v}))
    cells = [(name, params, p.gamma, tuple(rho.tolist()), cfg.n_angles, cfg.n_radii) for name, params in plan]
    cells.append(("logistic", {}, p.gamma, tuple(rho.tolist()), cfg.n_angles, cfg.n_radii))  # the reference
    out = cell_map(sweep_cell, cells, executor)
    logistic = out.pop()
    progress(f"{len(cells)} (loss, value) cells x {rho.size} noise rates ({time.perf_counter() - t0:.1f} s)")
    sweeps = {}
    for name, sw in atlas.HYPER_SWEEPS.items():
        res = [o for (n, _), o in zip(plan, out) if n == name]
        values = [params[sw.param] for n, params in plan if n == name]
        fixed = {k: v for k, v in settings[name].items() if k != sw.param}
        sweeps[name] = {"param": sw.param, "values": values, "log": sw.log, "fixed": fixed,
                        "setting": settings[name].get(sw.param),
                        **{k: [o[k] for o in res] for k in ("break_rho", "tie_rho", "family", "symmetric", "convex",
                                                            "bounded")},
                        "trend": _monotone(values, [o["break_rho"] for o in res])}
    tau = np.geomspace(1.01, 1000.0, 200)
    report = [f"loss_atlas_hyper: gamma={p.gamma:.4g}, rho grid {rho[0]:g}..{rho[-1]:g} ({rho.size} values); "
              "break = smallest grid rho where every minimiser misclassifies an atom ('never': not on the grid)"]
    for name, s in sweeps.items():
        fx = ", ".join(f"{k}={v:g}" for k, v in s["fixed"].items())
        pairs = ", ".join(f"{v:g}: {'never' if b is None else f'{b:g}'}" for v, b in zip(s["values"], s["break_rho"]))
        report.append(f"  {name} over {s['param']}{f' ({fx})' if fx else ''}: break rho {s['trend']} -- {pairs}")
    return to_jsonable({
        "preset": p.name,
        "rho": rho,
        "sweeps": sweeps,
        "logistic_break_rho": logistic["break_rho"],
        "phuber_guarantee": {"tau": tau, "rho": cal.guaranteed_rho(tau, min_weight=float(np.min(long_servedio(
            gamma=p.gamma).weights))), "note": "calibration.guaranteed_rho: Prop. 7 corollary, every atom correct below"},
        "params": {"gamma": p.gamma, "tau_huberised": p.tau_huberised, "tau_phuber": p.tau_phuber,
                   "settings": settings, "n_angles": cfg.n_angles, "n_radii": cfg.n_radii,
                   "distribution": "Long & Servedio atoms", "noise": "symmetric"},
        "report": report,
    })


_GREEK = {"tau": "τ", "alpha": "α", "delta": "δ", "t1": "t₁", "A": "|A|"}


def plot(data: dict):
    """One panel per loss: break rho (filled) and tie rho (hollow, where it differs) against the swept
    hyperparameter; 'never breaks on the grid' drawn as a triangle at the top; the atlas setting dashed.
    Grey background marks the values at which the loss is symmetric."""
    sweeps = data["sweeps"]
    rho = np.asarray(data["rho"], float)
    top = rho[-1] + 0.03
    names = list(sweeps)
    ncol = 4
    nrow = -(-(len(names) + 1) // ncol)
    fig, axes = new_figure(nrow, ncol, width=3.9, height=2.9, squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        s = sweeps[name]
        x = np.abs(np.asarray(s["values"], float))
        b, t = arr(s["break_rho"]), arr(s["tie_rho"])
        never = np.isnan(b)
        ax.plot(x[~never], b[~never], color="#0072B2", marker="o", linestyle="-", markersize=5,
                label="break ρ: every minimiser wrong")
        differ = ~np.isnan(t) & (np.isnan(b) | (t < b))
        if differ.any():
            ax.plot(x[differ], t[differ], linestyle="none", marker="o", markersize=8, markerfacecolor="none",
                    markeredgecolor="#D55E00", label="tie ρ: some minimiser wrong")
        if never.any():
            ax.plot(x[never], np.full(never.sum(), top), linestyle="none", marker="^", color="#009E73", markersize=7,
                    label=f"never breaks (ρ ≤ {rho[-1]:g})")
        if data["logistic_break_rho"] is not None:
            ax.axhline(data["logistic_break_rho"], color="0.5", linestyle=":", linewidth=1.0,
                       label=f"logistic breaks (ρ = {data['logistic_break_rho']:g})")
        if all(s["symmetric"]):
            ax.set_facecolor("0.9")
        else:
            for xi, sym in zip(x, s["symmetric"]):
                if sym:
                    ax.axvspan(xi * (0.93 if s["log"] else 1) - (0 if s["log"] else 0.02),
                               xi * (1.07 if s["log"] else 1) + (0 if s["log"] else 0.02), color="0.85", zorder=0)
        if s["setting"] is not None:
            ax.axvline(abs(s["setting"]), color="black", linestyle="--", linewidth=1.0, label="atlas setting")
        if name == "phuber":
            g = data["phuber_guarantee"]
            ax.plot(g["tau"], g["rho"], color="#CC79A7", linestyle=":", linewidth=1.5,
                    label="Prop. 7 corollary: correct below")
        if s["log"]:
            ax.set_xscale("log")
        fx = ", ".join(f"{k} = {v:g}" for k, v in s["fixed"].items())
        ax.set_title(f"{name}" + (f" ({fx})" if fx else ""), fontsize=8.5)
        ax.set(xlabel=_GREEK.get(s["param"], s["param"]), ylabel="break ρ", ylim=(-0.02, top + 0.04))
    legend_ax = axes.ravel()[len(names)]
    handles = {}
    for ax in axes.ravel()[: len(names)]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    from matplotlib.patches import Patch

    handles["symmetric at this value (whole panel: at every value)"] = Patch(color="0.85")
    legend_ax.legend(handles.values(), handles.keys(), loc="center", fontsize=8, frameon=False)
    legend_ax.set_title("(break ρ: smallest grid ρ at which the noisy\npopulation minimiser misclassifies an atom)",
                        fontsize=8)
    legend_ax.axis("off")
    for ax in axes.ravel()[len(names) + 1:]:
        fig.delaxes(ax)
    prm = data["params"]
    fig.suptitle(f"Break ρ against each loss's main hyperparameter: exact population minimisers on the Long & "
                 f"Servedio atoms, γ = {prm['gamma']:.4g}, symmetric noise", fontsize=10)
    return fig


SPEC = FigureSpec(
    "loss_atlas_hyper",
    "beyond the paper: break rho of each robust loss against its main hyperparameter (population, exact)",
    compute,
    plot,
    options={},  # deterministic: every noise rate of its grid, no trials
    cost=40,
)
