"""``phase_population``: exact population accuracy of the noisy-risk minimiser over (tau, rho) and (gamma, rho).

On the Long & Servedio atoms, no sampling: for the Huberised and PHuber losses over (tau, rho) at the
preset's gamma, with logistic as a reference row, and for logistic over (gamma, rho)
(:func:`sandbox.population.minimise_population_risk`). ``break_rho`` per row: the smallest rho of the grid
where the clean accuracy drops below 1. The Prop. 7 corollary (:func:`sandbox.calibration.guaranteed_rho`)
draws a provable region on the PHuber map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import calibration as cal
from ..data import long_servedio
from ..io import to_jsonable
from ..metrics import break_rho
from ..population import minimise_population_risk
from ..presets import Preset
from ..registry import make_loss
from ._cells import cell_map
from ._spec import FigureSpec, Progress, no_progress
from ._style import arr, floats, grid, new_figure, phase_panel, size_of


@dataclass(frozen=True)
class PhasePopulationSize:
    """Grids of ``phase_population`` (the preset's taus and gamma are always added)."""

    rho: tuple[float, ...]  # symmetric noise rates
    tau_huberised: tuple[float, ...]  # Huberised logistic, meaningful in (0, 1)
    tau_phuber: tuple[float, ...]  # PHuber-logistic, tau > 1
    gamma: tuple[float, ...]  # Long & Servedio margin parameter, in (0, 1/6)
    n_angles: int  # population search grid (0.5 deg), refined to ~1e-3 deg
    n_radii: int


SIZES = {
    "full": PhasePopulationSize(
        rho=floats(np.arange(0.0, 0.495, 0.01), 2),  # 0, 0.01, ..., 0.49
        tau_huberised=floats(np.geomspace(0.005, 0.99, 13)),  # log-spaced over (0, 1)
        tau_phuber=floats(np.geomspace(1.01, 1000.0, 15)),  # log-spaced over (1, inf)
        gamma=floats(np.linspace(0.005, 0.16, 15)),  # over (0, 1/6)
        n_angles=720, n_radii=121,
    ),
    "smoke": PhasePopulationSize(
        rho=(0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.45, 0.49),
        tau_huberised=(0.05, 0.9),
        tau_phuber=(1.1, 3.0),
        gamma=(0.12,),
        n_angles=720, n_radii=121,
    ),
}


def population_row(cell: tuple) -> np.ndarray:
    """One row of a map: ``(loss name, loss params, gamma, rho grid, n_angles, n_radii)`` -> the clean
    accuracy of the noisy population minimiser at every rho (one vectorised minimisation)."""
    name, params, gamma, rho, n_angles, n_radii = cell
    fit = minimise_population_risk(make_loss(name, **params), long_servedio(gamma=gamma), rho=np.asarray(rho),
                                   n_angles=n_angles, n_radii=n_radii)
    return fit.clean_accuracy


def compute(preset: Preset, *, seed: int = 0, trials: int | None = None,
            progress: Progress = no_progress, executor=None) -> dict:
    """Population clean accuracy of the noisy-risk minimiser (:func:`minimise_population_risk`) on the
    Long & Servedio atoms: over (tau, rho) at the preset's gamma for the Huberised and PHuber losses,
    logistic at the preset's gamma as a reference row, and over (gamma, rho) for logistic.

    Deterministic: ``seed`` and ``trials`` are unused. ``break_rho``: per row, the smallest rho of the
    grid where the clean accuracy drops below 1 (``None``: never on the grid). The rows are cells of
    :func:`sandbox.figures._cells.cell_map` (``executor``: see there).
    """
    cfg = size_of(SIZES, preset)
    p = preset
    rho = np.asarray(cfg.rho, float)
    ls = long_servedio(gamma=p.gamma)
    th = grid(cfg.tau_huberised, p.tau_huberised)
    tp = grid(cfg.tau_phuber, p.tau_phuber)
    gm = grid(cfg.gamma, p.gamma)
    grid_kw = (tuple(rho.tolist()), cfg.n_angles, cfg.n_radii)
    cells = ([("huberised", {"tau": float(t)}, p.gamma, *grid_kw) for t in th]
             + [("phuber", {"tau": float(t)}, p.gamma, *grid_kw) for t in tp]
             + [("logistic", {}, float(g), *grid_kw) for g in gm] + [("logistic", {}, p.gamma, *grid_kw)])
    rows = cell_map(population_row, cells, executor)
    acc_h, acc_p, acc_g = (np.array(rows[a:b]) for a, b in ((0, len(th)), (len(th), len(th) + len(tp)),
                                                             (len(th) + len(tp), len(cells) - 1)))
    acc_l = rows[-1]
    progress(f"{len(cells)} rows x {rho.size} noise rates")
    tau_fine = np.geomspace(tp[0], tp[-1], 200)
    guaranteed = cal.guaranteed_rho(tau_fine, min_weight=float(np.min(ls.weights)))
    brk = lambda acc: [break_rho(rho, a) for a in acc]  # noqa: E731
    b_l = break_rho(rho, acc_l)
    i_h = int(np.argmin(np.abs(th - p.tau_huberised)))
    i_p = int(np.argmin(np.abs(tp - p.tau_phuber)))
    report = [
        f"phase_population: gamma={p.gamma:.4g}, rho grid {rho[0]:g}..{rho[-1]:g} ({rho.size} values); "
        "break = smallest rho with clean accuracy < 1",
        f"  logistic breaks at rho = {b_l}",
        f"  Huberised tau={th[i_h]:g} breaks at rho = {brk(acc_h)[i_h]}; over tau in [{th[0]:g}, {th[-1]:g}] "
        f"the break rho ranges {_range(brk(acc_h))}",
        f"  PHuber tau={tp[i_p]:g} breaks at rho = {brk(acc_p)[i_p]}; over tau in [{tp[0]:g}, {tp[-1]:g}] "
        f"the break rho ranges {_range(brk(acc_p))}",
        f"  logistic over gamma in [{gm[0]:g}, {gm[-1]:g}]: break rho {_range(brk(acc_g))}",
        f"  PHuber guarantee (Prop. 7 corollary): perfect accuracy for rho < "
        f"{float(cal.guaranteed_rho(p.tau_phuber, min_weight=float(np.min(ls.weights)))):.3f} "
        f"at tau={p.tau_phuber:g}",
    ]
    return to_jsonable({
        "preset": p.name,
        "rho": rho,
        "huberised": {"tau": th, "clean_accuracy": acc_h, "break_rho": brk(acc_h)},
        "phuber": {"tau": tp, "clean_accuracy": acc_p, "break_rho": brk(acc_p),
                                "guaranteed": {"tau": tau_fine, "rho": guaranteed,
                                               "note": "calibration.guaranteed_rho: below it every atom is "
                                                       "provably classified correctly (Prop. 7 corollary)"}},
        "logistic": {"clean_accuracy": acc_l, "break_rho": b_l},
        "logistic_gamma": {"gamma": gm, "clean_accuracy": acc_g, "break_rho": brk(acc_g)},
        "params": {
            "gamma": p.gamma, "tau_huberised": p.tau_huberised, "tau_phuber": p.tau_phuber,
            "n_angles": cfg.n_angles, "n_radii": cfg.n_radii, "distribution": "Long & Servedio atoms",
            "noise": "symmetric", "model": "bias-free linear, minimiser over angle x radius (incl. inf)",
        },
        "report": report,
    })


def _range(values) -> str:
    v = [x for x in values if x is not None]
    never = len(v) < len(values)
    if not v:
        return "never (no break on the grid)"
    s = f"{min(v):g}..{max(v):g}"
    return s + (" (some rows never break)" if never else "")


def plot(data: dict):
    """Three maps of population clean accuracy; dashed contours at 0.75 separate success (1) from
    failure (0.5); the logistic break and the preset's tau/gamma are drawn as lines."""
    rho = data["rho"]
    prm = data["params"]
    fig, axes = new_figure(1, 3, width=4.3, height=4.4)
    b_l = data["logistic"]["break_rho"]
    h, ph, g = data["huberised"], data["phuber"], data["logistic_gamma"]
    phase_panel(axes[0], h["tau"], rho, arr(h["clean_accuracy"]), log=True, xlabel="τ (Huberised)",
                 title=f"Huberised logistic, γ = {prm['gamma']:.4g}", mark_x=prm["tau_huberised"],
                 mark_label=f"preset τ = {prm['tau_huberised']:g}", hline=b_l,
                 hline_label=f"logistic fails from ρ = {b_l}")
    phase_panel(axes[1], ph["tau"], rho, arr(ph["clean_accuracy"]), log=True, xlabel="τ (PHuber)",
                 title=f"partially Huberised logistic, γ = {prm['gamma']:.4g}", mark_x=prm["tau_phuber"],
                 mark_label=f"preset τ = {prm['tau_phuber']:g}", hline=b_l,
                 hline_label=f"logistic fails from ρ = {b_l}", guarantee=ph.get("guaranteed"))
    mesh = phase_panel(axes[2], g["gamma"], rho, arr(g["clean_accuracy"]), log=False, xlabel="γ (Long & Servedio)",
                        title="logistic over (γ, ρ)", mark_x=prm["gamma"], mark_label=f"preset γ = {prm['gamma']:.4g}")
    cb = fig.colorbar(mesh, ax=axes, shrink=0.9, fraction=0.03, pad=0.015)
    cb.set_label("population clean accuracy")
    fig.suptitle("Where each loss breaks: exact population minimisers on the Long & Servedio atoms, symmetric noise "
                 "(dashed contour: accuracy 0.75)", fontsize=9)
    return fig

SPEC = FigureSpec(
    "phase_population",
    "beyond the paper: exact population accuracy over (tau, rho) and (gamma, rho): where each loss breaks",
    compute,
    plot,
    options={},  # deterministic: every noise rate of its grid, no trials
    cost=14,
)
