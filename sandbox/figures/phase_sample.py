"""``phase_sample``: the maps of ``phase_population`` from finite samples, under two fitting protocols.

Per cell, ``trials`` noisy mixture samples (the preset's n_train, n_test, sigma), fit by

* the paper's SLSQP protocol (:func:`sandbox.slsqp.fit_slsqp`: at most 100 iterations from 0, SciPy's
  absolute ``ftol``), which can stop early on a flat risk, and
* the converged protocol (:func:`sandbox.converged.fit_converged`: the empirical-risk minimiser, or its
  infimum at infinite radius), whose verdict belongs to the loss;

and the median clean test accuracy, the fraction of trials ``>= 0.99`` and (SLSQP) the median number of
iterations. The population break rho of every row (on ``boundary_rho``) is drawn on top, and every cell
whose sample verdict (median ``>= 0.99``) differs from the population's (rho below the row's break) is
marked: ``agreement`` counts them per protocol, map and direction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .._checks import check_positive_int
from ..converged import fit_converged
from ..io import to_jsonable
from ..linear import accuracy
from ..metrics import SUCCESS, break_rho
from ..presets import Preset
from ..registry import make_loss
from ..slsqp import fit_slsqp
from ..trials import trials_over_rho
from ._cells import cell_map
from ._spec import FigureSpec, Progress, no_progress
from ._style import arr, floats, grid, new_figure, phase_panel, size_of
from .phase_population import population_row

PROTOCOLS = ("slsqp", "converged")
MAPS = ("huberised", "phuber", "logistic_gamma")


@dataclass(frozen=True)
class PhaseSampleSize:
    """Grids of ``phase_sample`` (the preset's taus and gamma are always added)."""

    trials: int  # trials per cell (fresh train/test draws; shared across the taus of one rho)
    rho: tuple[float, ...]
    tau_huberised: tuple[float, ...]
    tau_phuber: tuple[float, ...]
    gamma: tuple[float, ...]
    boundary_rho: tuple[float, ...]  # fine rho grid of the population boundary drawn on top


SIZES = {
    "full": PhaseSampleSize(
        trials=32,
        rho=(0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.49),
        tau_huberised=floats(np.geomspace(0.01, 0.99, 7)),
        tau_phuber=floats(np.geomspace(1.01, 1000.0, 9)),
        gamma=floats(np.linspace(0.01, 0.16, 7)),
        boundary_rho=floats(np.arange(0.0, 0.495, 0.01), 2),
    ),
    "smoke": PhaseSampleSize(
        trials=4,
        rho=(0.0, 0.1, 0.3, 0.45),
        tau_huberised=(0.05,),
        tau_phuber=(3.0,),
        gamma=(0.12,),
        boundary_rho=(0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.45, 0.49),
    ),
}


def sample_cell(cell: tuple) -> list:
    """One protocol on the rows that share a gamma: ``(protocol, rows, gamma, rho grid, trials, seed,
    n_train, n_test, sigma, maxiter)`` with ``rows`` a list of ``(loss name, params)``. The trials are
    drawn once (from the seed: every cell with this gamma sees the same samples) and every row is fit
    on them. Returns, per row, ``(median, frac_success, median_nit)`` over the trials of each rho."""
    protocol, rows, gamma, rho, K, seed, n_train, n_test, sigma, maxiter = cell
    d = trials_over_rho(rho, trials=K, n_train=n_train, n_test=n_test, rng=seed, gamma=gamma, sigma=sigma)
    out = []
    for name, params in rows:
        loss = make_loss(name, **params)
        if protocol == "slsqp":
            fit = fit_slsqp(loss, d.X_train, d.y_train, maxiter=maxiter)
            nit = np.median(fit.nit.reshape(len(rho), K), axis=1)
        else:
            fit = fit_converged(loss, d.X_train, d.y_train)
            nit = np.full(len(rho), np.nan)
        acc = accuracy(fit.theta, d.X_test, d.y_test).reshape(len(rho), K)
        out.append((np.median(acc, axis=1), np.mean(acc >= SUCCESS, axis=1), nit))
    return out


def agreement(median, breaks, rho) -> dict:
    """Cells of one map where the sample verdict (median >= 0.99) and the population verdict (rho below
    the row's break) agree or not: counts, and the (row, rho) of each disagreement by direction."""
    rho = np.asarray(rho, float)
    out = {"cells": 0, "agree": 0, "samples_succeed_population_fails": [], "samples_fail_population_succeeds": []}
    for i, (m_row, brk) in enumerate(zip(np.asarray(median, float), breaks)):
        sample_ok, pop_ok = m_row >= SUCCESS, rho < (1.0 if brk is None else brk)
        out["cells"] += rho.size
        out["agree"] += int(np.sum(sample_ok == pop_ok))
        out["samples_succeed_population_fails"] += [[i, float(r)] for r in rho[sample_ok & ~pop_ok]]
        out["samples_fail_population_succeeds"] += [[i, float(r)] for r in rho[~sample_ok & pop_ok]]
    return out


def compute(preset: Preset, *, seed: int = 0, trials: int | None = None,
            progress: Progress = no_progress, executor=None) -> dict:
    """The maps of ``phase_population`` from finite samples, under both protocols (module docstring).

    The cells of the sweep (one per gamma and protocol, and the population rows) go through
    :func:`sandbox.figures._cells.cell_map`. The SLSQP block keeps its earlier keys (``median``,
    ``frac_success``, ``median_nit``); the converged one is under ``converged``.
    """
    cfg = size_of(SIZES, preset)
    p = preset
    K = (cfg.trials if trials is None else check_positive_int("trials", trials))
    rho = np.asarray(cfg.rho, float)
    brho = np.asarray(cfg.boundary_rho, float)
    th = grid(cfg.tau_huberised, p.tau_huberised)
    tp = grid(cfg.tau_phuber, p.tau_phuber)
    gm = grid(cfg.gamma, p.gamma)
    t0 = time.perf_counter()
    rows_here = ([("huberised", {"tau": float(t)}) for t in th] + [("phuber", {"tau": float(t)}) for t in tp]
                 + [("logistic", {})])
    draw = (tuple(rho.tolist()), K, seed, p.n_train, p.n_test, p.sigma, p.slsqp_maxiter)
    cells = [(proto, rows_here, p.gamma, *draw) for proto in PROTOCOLS]
    cells += [(proto, [("logistic", {})], float(g), *draw) for proto in PROTOCOLS for g in gm]
    fitted = cell_map(sample_cell, cells, executor)
    progress(f"{len(cells)} sample cells of {rho.size} noise rates x {K} trials fitted ({time.perf_counter() - t0:.1f} s)")
    grid_kw = (tuple(brho.tolist()), 720, 121)
    pop_cells = ([("huberised", {"tau": float(t)}, p.gamma, *grid_kw) for t in th]
                 + [("phuber", {"tau": float(t)}, p.gamma, *grid_kw) for t in tp]
                 + [("logistic", {}, float(g), *grid_kw) for g in gm] + [("logistic", {}, p.gamma, *grid_kw)])
    pop = [break_rho(brho, a) for a in cell_map(population_row, pop_cells, executor)]
    b_h, b_p, b_g, b_l = pop[:len(th)], pop[len(th):len(th) + len(tp)], pop[len(th) + len(tp):-1], pop[-1]
    progress(f"population boundaries ({time.perf_counter() - t0:.1f} s)")

    def stack(rows):
        return tuple(np.array([r[k] for r in rows]) for k in range(3))

    res = {}
    for j, proto in enumerate(PROTOCOLS):
        here = fitted[j]
        gam = [fitted[len(PROTOCOLS) + j * len(gm) + i][0] for i in range(len(gm))]
        res[proto] = {"huberised": stack(here[:len(th)]), "phuber": stack(here[len(th):len(th) + len(tp)]),
                      "logistic": stack(here[-1:]), "logistic_gamma": stack(gam)}
    breaks = {"huberised": b_h, "phuber": b_p, "logistic_gamma": b_g}
    agree = {proto: {m: agreement(res[proto][m][0], breaks[m], rho) for m in MAPS} for proto in PROTOCOLS}
    i_h = int(np.argmin(np.abs(th - p.tau_huberised)))
    i_p = int(np.argmin(np.abs(tp - p.tau_phuber)))
    sb = lambda row: break_rho(rho, row)  # noqa: E731
    report = [f"phase_sample: {K} trials per cell, n_train={p.n_train}, gamma={p.gamma:.4g}, seed {seed}; sample break "
              "= smallest rho with median accuracy < 0.99; agreement = cells whose sample verdict is the population's"]
    for proto in PROTOCOLS:
        r = res[proto]
        n_cells = sum(a["cells"] for a in agree[proto].values())
        n_agree = sum(a["agree"] for a in agree[proto].values())
        report += [
            f"  {proto}: {n_agree} of {n_cells} cells agree ({n_agree / n_cells:.0%}); sample breaks: logistic "
            f"{sb(r['logistic'][0][0])} (population {b_l}), Huberised tau={th[i_h]:g} {sb(r['huberised'][0][i_h])} "
            f"({b_h[i_h]}), PHuber tau={tp[i_p]:g} {sb(r['phuber'][0][i_p])} ({b_p[i_p]})",
            "    disagreements (samples succeed / samples fail): " + ", ".join(
                f"{m} {len(a['samples_succeed_population_fails'])}/{len(a['samples_fail_population_succeeds'])}"
                for m, a in agree[proto].items()),
        ]
    slsqp, conv = res["slsqp"], res["converged"]

    def block(key, extra, pop_break):
        out = {**extra, "median": slsqp[key][0], "frac_success": slsqp[key][1], "median_nit": slsqp[key][2],
               "converged": {"median": conv[key][0], "frac_success": conv[key][1]}, "population_break_rho": pop_break}
        if key == "logistic":
            out.update(median=out["median"][0], frac_success=out["frac_success"][0], median_nit=out["median_nit"][0],
                       converged={k: v[0] for k, v in out["converged"].items()})
        return out

    return to_jsonable({
        "preset": p.name,
        "rho": rho,
        "huberised": block("huberised", {"tau": th}, b_h),
        "phuber": block("phuber", {"tau": tp}, b_p),
        "logistic": block("logistic", {}, b_l),
        "logistic_gamma": block("logistic_gamma", {"gamma": gm}, b_g),
        "agreement": agree,
        "params": {
            "trials_per_cell": K, "seed": int(seed), "gamma": p.gamma, "sigma": p.sigma, "n_train": p.n_train,
            "n_test": p.n_test, "slsqp_maxiter": p.slsqp_maxiter,
            "fitter": "sandbox.slsqp.fit_slsqp (SLSQP protocol); sandbox.converged.fit_converged (converged)",
            "tau_huberised": p.tau_huberised, "tau_phuber": p.tau_phuber,
            "boundary_rho": brho, "success_threshold": SUCCESS,
        },
        "report": report,
    })


def _mark(ax, xs, rho, agree, *, log: bool):
    """Cross out the cells whose sample verdict differs from the population's."""
    for key, marker in (("samples_succeed_population_fails", "x"), ("samples_fail_population_succeeds", "+")):
        pts = agree[key]
        if pts:
            x = [xs[i] for i, _ in pts]
            y = [r for _, r in pts]
            ax.plot(x, y, linestyle="none", marker=marker, markersize=6, color="white", markeredgewidth=2.6)
            ax.plot(x, y, linestyle="none", marker=marker, markersize=6, color="#D55E00", markeredgewidth=1.2,
                    label={"x": "samples succeed, population fails", "+": "samples fail, population succeeds"}[marker])


def plot(data: dict):
    """Median clean test accuracy per cell, SLSQP protocol (top) and converged fits (bottom); the population
    break rho of each row drawn on top, and the cells that disagree with it marked."""
    rho = data["rho"]
    prm = data["params"]
    fig, axes = new_figure(2, 3, width=4.3, height=4.2)
    h, ph, g = data["huberised"], data["phuber"], data["logistic_gamma"]
    lab = "population boundary (first ρ with accuracy < 1)"
    mesh = None
    for row, proto in enumerate(PROTOCOLS):
        med = (lambda b: b["median"]) if proto == "slsqp" else (lambda b: b["converged"]["median"])
        agree = data["agreement"][proto]
        name = "SLSQP protocol" if proto == "slsqp" else "converged"
        last = row == len(PROTOCOLS) - 1
        kw = dict(boundary_label=lab if last else None)
        phase_panel(axes[row, 0], h["tau"], rho, arr(med(h)), log=True, xlabel="τ (Huberised)",
                    title=f"Huberised, {name}: {agree['huberised']['agree']}/{agree['huberised']['cells']} agree",
                    boundary=(h["tau"], h["population_break_rho"]), mark_x=prm["tau_huberised"],
                    mark_label=f"preset τ = {prm['tau_huberised']:g}" if last else None, **kw)
        phase_panel(axes[row, 1], ph["tau"], rho, arr(med(ph)), log=True, xlabel="τ (PHuber)",
                    title=f"PHuber, {name}: {agree['phuber']['agree']}/{agree['phuber']['cells']} agree",
                    boundary=(ph["tau"], ph["population_break_rho"]), mark_x=prm["tau_phuber"],
                    mark_label=f"preset τ = {prm['tau_phuber']:g}" if last else None, **kw)
        mesh = phase_panel(axes[row, 2], g["gamma"], rho, arr(med(g)), log=False, xlabel="γ (Long & Servedio)",
                           title=f"logistic over γ, {name}: {agree['logistic_gamma']['agree']}/"
                                 f"{agree['logistic_gamma']['cells']} agree",
                           boundary=(g["gamma"], g["population_break_rho"]), mark_x=prm["gamma"],
                           mark_label=f"preset γ = {prm['gamma']:.4g}" if last else None, **kw)
        for ax, block, key in zip(axes[row], (h, ph, g), MAPS):
            _mark(ax, block["tau" if key != "logistic_gamma" else "gamma"], rho, agree[key], log=key != "logistic_gamma")
            if last:
                ax.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
            elif ax.get_legend() is not None:
                ax.get_legend().remove()
    cb = fig.colorbar(mesh, ax=axes, shrink=0.6, fraction=0.03, pad=0.015)
    cb.set_label("median clean test accuracy")
    fig.suptitle(f"Finite samples: {prm['trials_per_cell']} trials per cell, n_train = {prm['n_train']}; top: the "
                 f"paper's SLSQP (≤ {prm['slsqp_maxiter']} iterations), bottom: converged fits; dashed contour: "
                 "median 0.75", fontsize=9)
    return fig


SPEC = FigureSpec(
    "phase_sample",
    "beyond the paper: the phase maps from finite samples, SLSQP and converged fits, population boundary on top",
    compute,
    plot,
    options={"trials": "trials per (parameter, rho) cell (default 32)"},
    cost=40,
)
