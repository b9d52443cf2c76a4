"""``phase_sample``: the maps of ``phase_population`` from finite samples, the population boundary on top.

Per cell, ``trials`` noisy mixture samples (the preset's n_train, n_test, sigma) fit by the paper's SLSQP
protocol (:func:`sandbox.slsqp.fit_slsqp`); median clean test accuracy, fraction of trials ``>= 0.99``
and median SLSQP iterations. The population break rho of every row (on ``boundary_rho``) is drawn on top.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .._checks import check_positive_int
from ..data import long_servedio
from ..io import to_jsonable
from ..linear import accuracy
from ..metrics import SUCCESS, break_rho
from ..population import minimise_population_risk
from ..presets import Preset
from ..registry import make_loss
from ..slsqp import fit_slsqp
from ..trials import trials_over_rho
from ._spec import FigureSpec, Progress, no_progress
from ._style import arr, floats, grid, new_figure, phase_panel, size_of


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


def _sample_rows(loss_of, params, X, y, Xt, yt, n_rho, K, maxiter):
    """Median accuracy, success fraction and median SLSQP iterations, each ``(len(params), n_rho)``,
    of SLSQP fits, one vectorised call per parameter."""
    med = np.empty((len(params), n_rho))
    frac = np.empty((len(params), n_rho))
    nit = np.empty((len(params), n_rho))
    for i, prm in enumerate(params):
        Xi, yi, Xti, yti = (a(prm) if callable(a) else a for a in (X, y, Xt, yt))
        fit = fit_slsqp(loss_of(prm), Xi, yi, maxiter=maxiter)
        acc = accuracy(fit.theta, Xti, yti).reshape(n_rho, K)
        med[i] = np.median(acc, axis=1)
        frac[i] = np.mean(acc >= SUCCESS, axis=1)
        nit[i] = np.median(fit.nit.reshape(n_rho, K), axis=1)
    return med, frac, nit


def _draw(p: Preset, rho, K: int, seed: int, gamma: float):
    d = trials_over_rho(rho, trials=K, n_train=p.n_train, n_test=p.n_test, rng=seed, gamma=gamma, sigma=p.sigma)
    return d.X_train, d.y_train, d.X_test, d.y_test


def compute(preset: Preset, *, seed: int = 0, trials: int | None = None,
                         progress: Progress = no_progress, executor=None) -> dict:
    """The maps of ``phase_population`` from finite samples: per cell, ``trials`` noisy mixture
    samples (preset's n_train, n_test, sigma) fit by the SLSQP protocol
    (:func:`sandbox.slsqp.fit_slsqp`, at most ``preset.slsqp_maxiter`` iterations from 0);
    median clean test accuracy, fraction of trials ``>= 0.99`` and median SLSQP iterations. The
    population break rho of every row (on ``boundary_rho``) is computed for the boundary drawn on top.

    Caveat (measured, see notebook 5): where the risk is nearly flat — Huberised losses with a small
    tau (gradients of size tau), logistic at a small gamma — SLSQP's absolute stopping rule
    (``|R(x) - R(x0)| < 1e-6``) ends the fit after a few iterations, still near the direction of
    ``mean(y x)``, which classifies correctly: those cells show the *protocol's* answer, not the
    minimiser's (continuing the descent lowers the risk and the accuracy falls to the population's).
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
    X, y, Xt, yt = _draw(p, rho, K, seed, p.gamma)
    progress(f"{rho.size} noise rates x {K} trials drawn ({time.perf_counter() - t0:.1f} s)")
    it = p.slsqp_maxiter
    med_h, frac_h, nit_h = _sample_rows(lambda t: make_loss("huberised", tau=t), th, X, y, Xt, yt, rho.size, K, it)
    med_p, frac_p, nit_p = _sample_rows(lambda t: make_loss("phuber", tau=t), tp, X, y, Xt, yt,
                                        rho.size, K, it)
    med_l, frac_l, nit_l = _sample_rows(lambda _: make_loss("logistic"), [None], X, y, Xt, yt, rho.size, K, it)
    progress(f"tau maps fitted ({time.perf_counter() - t0:.1f} s)")
    cache = {}

    def data_for(g):
        if g not in cache:
            cache.clear()
            cache[g] = _draw(p, rho, K, seed, float(g))
        return cache[g]

    med_g, frac_g, nit_g = _sample_rows(lambda _: make_loss("logistic"), gm, lambda g: data_for(g)[0],
                                 lambda g: data_for(g)[1], lambda g: data_for(g)[2], lambda g: data_for(g)[3],
                                 rho.size, K, it)
    progress(f"gamma map fitted ({time.perf_counter() - t0:.1f} s)")
    ls = long_servedio(gamma=p.gamma)
    def pop(loss, d):
        return minimise_population_risk(loss, d, rho=brho, n_angles=720, n_radii=121).clean_accuracy

    b_h = [break_rho(brho, pop(make_loss("huberised", tau=t), ls)) for t in th]
    b_p = [break_rho(brho, pop(make_loss("phuber", tau=t), ls)) for t in tp]
    b_g = [break_rho(brho, pop(make_loss("logistic"), long_servedio(gamma=g))) for g in gm]
    b_l = break_rho(brho, pop(make_loss("logistic"), ls))
    progress(f"population boundaries ({time.perf_counter() - t0:.1f} s)")
    i_h = int(np.argmin(np.abs(th - p.tau_huberised)))
    i_p = int(np.argmin(np.abs(tp - p.tau_phuber)))
    sb = lambda row: break_rho(rho, row)  # noqa: E731
    report = [
        f"phase_sample: {K} trials per cell, n_train={p.n_train}, gamma={p.gamma:.4g}, SLSQP (vectorised), seed {seed};"
        " sample break = smallest rho with median accuracy < 0.99",
        f"  logistic: sample break {sb(med_l[0])}, population break {b_l}",
        f"  Huberised tau={th[i_h]:g}: sample break {sb(med_h[i_h])}, population break {b_h[i_h]}",
        f"  PHuber tau={tp[i_p]:g}: sample break {sb(med_p[i_p])}, population break {b_p[i_p]}",
    ]
    return to_jsonable({
        "preset": p.name,
        "rho": rho,
        "huberised": {"tau": th, "median": med_h, "frac_success": frac_h, "median_nit": nit_h,
                      "population_break_rho": b_h},
        "phuber": {"tau": tp, "median": med_p, "frac_success": frac_p, "median_nit": nit_p,
                                "population_break_rho": b_p},
        "logistic": {"median": med_l[0], "frac_success": frac_l[0], "median_nit": nit_l[0],
                     "population_break_rho": b_l},
        "logistic_gamma": {"gamma": gm, "median": med_g, "frac_success": frac_g, "median_nit": nit_g,
                           "population_break_rho": b_g},
        "params": {
            "trials_per_cell": K, "seed": int(seed), "gamma": p.gamma, "sigma": p.sigma, "n_train": p.n_train,
            "n_test": p.n_test, "slsqp_maxiter": it, "fitter": "sandbox.slsqp.fit_slsqp (SLSQP protocol)",
            "tau_huberised": p.tau_huberised, "tau_phuber": p.tau_phuber,
            "boundary_rho": brho, "success_threshold": SUCCESS,
        },
        "report": report,
    })


def plot(data: dict):
    """Median clean test accuracy per cell; the population break rho of each row drawn on top."""
    rho = data["rho"]
    prm = data["params"]
    fig, axes = new_figure(1, 3, width=4.3, height=4.4)
    h, ph, g, lg = data["huberised"], data["phuber"], data["logistic_gamma"], data["logistic"]
    lab = "population boundary (first ρ with accuracy < 1)"
    phase_panel(axes[0], h["tau"], rho, arr(h["median"]), log=True, xlabel="τ (Huberised)",
                 title=f"Huberised, γ = {prm['gamma']:.4g}", boundary=(h["tau"], h["population_break_rho"]),
                 boundary_label=lab, hline=lg["population_break_rho"], hline_label="logistic population break",
                 mark_x=prm["tau_huberised"], mark_label=f"preset τ = {prm['tau_huberised']:g}")
    phase_panel(axes[1], ph["tau"], rho, arr(ph["median"]), log=True, xlabel="τ (PHuber)",
                 title=f"PHuber, γ = {prm['gamma']:.4g}", boundary=(ph["tau"], ph["population_break_rho"]),
                 boundary_label=lab, hline=lg["population_break_rho"], hline_label="logistic population break",
                 mark_x=prm["tau_phuber"], mark_label=f"preset τ = {prm['tau_phuber']:g}")
    mesh = phase_panel(axes[2], g["gamma"], rho, arr(g["median"]), log=False, xlabel="γ (Long & Servedio)",
                        title="logistic over (γ, ρ)", boundary=(g["gamma"], g["population_break_rho"]),
                        boundary_label=lab, mark_x=prm["gamma"], mark_label=f"preset γ = {prm['gamma']:.4g}")
    cb = fig.colorbar(mesh, ax=axes, shrink=0.9, fraction=0.03, pad=0.015)
    cb.set_label("median clean test accuracy")
    fig.suptitle(f"Finite samples: {prm['trials_per_cell']} trials per cell, n_train = {prm['n_train']}, SLSQP "
                 f"(≤ {prm['slsqp_maxiter']} iterations); dashed contour: median 0.75", fontsize=9)
    return fig

SPEC = FigureSpec(
    "phase_sample",
    "beyond the paper: the phase maps from finite samples, population boundary on top",
    compute,
    plot,
    options={"trials": "trials per (parameter, rho) cell (default 32)"},
    cost=17,
)
