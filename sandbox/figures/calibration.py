"""``calibration``: Lemma 6 and Prop. 7 for the partially Huberised log loss, checked numerically.

(a) the conditional-risk minimiser ``u*(eta)`` in closed form for several tau, against a brute-force
minimiser; (b) ``Delta(tau)`` in closed form and by brute force; (c) the excess noisy population risk of
the clean minimiser on the Long & Servedio atoms over a (rho, tau) grid, against ``rho Delta(tau)``.
The derivations are in :mod:`sandbox.calibration`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps

from .. import calibration as cal
from ..data import long_servedio
from ..io import to_jsonable
from ..presets import Preset
from ..registry import make_loss
from ._spec import FigureSpec, Progress, no_progress
from ._style import CMAP, arr, floats, grid, new_figure, size_of, style


@dataclass(frozen=True)
class CalibrationSize:
    """Sizes of ``calibration``."""

    eta_points: int  # u*(eta) curves on [0, 1]
    eta_check_points: int  # brute-force minimiser checked against the closed form at these points
    taus_curve: tuple[float, ...]  # u*(eta) curves (the log loss, tau = inf, is the identity)
    taus_bound: tuple[float, ...]  # Prop. 7 check (the preset's PHuber tau is added)
    rho: tuple[float, ...]
    n_angles: int
    n_radii: int


SIZES = {
    "full": CalibrationSize(eta_points=401, eta_check_points=101, taus_curve=(1.36, 2.0, 4.0, 10.0),
                            taus_bound=(1.05, 1.2, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0),
                            rho=floats(np.arange(0.0, 0.495, 0.01), 2), n_angles=720, n_radii=121),
    "smoke": CalibrationSize(eta_points=101, eta_check_points=21, taus_curve=(1.36, 4.0),
                             taus_bound=(1.1, 4.0), rho=(0.0, 0.1, 0.2, 0.3, 0.45), n_angles=720, n_radii=121),
}


def compute(preset: Preset, *, seed: int = 0, trials: int | None = None,
                        progress: Progress = no_progress, executor=None) -> dict:
    """Lemma 6 and Prop. 7 for the PHuber log loss (:mod:`sandbox.calibration`).

    (a) ``u*(eta)`` in closed form for several tau, checked against a brute-force minimiser of the
    conditional risk; (b) ``Delta(tau)`` in closed form and by brute force; (c) the excess noisy
    population risk of the clean minimiser on the Long & Servedio atoms (preset's gamma) over a grid
    of (rho, tau), against the bound ``rho Delta(tau)``. Deterministic (``seed``, ``trials`` unused).
    """
    cfg = size_of(SIZES, preset)
    p = preset
    eta = np.linspace(0.0, 1.0, cfg.eta_points)
    eta_c = np.linspace(0.0, 1.0, cfg.eta_check_points)
    taus_c = grid(cfg.taus_curve, p.tau_phuber)
    curves, checks, intervals = [], [], []
    for tau in taus_c:
        curves.append(cal.phuber_log_minimiser(eta, tau=tau))
        brute = cal.conditional_minimiser(cal.phuber_log_base(tau=tau), eta_c)
        closed = cal.phuber_log_minimiser(eta_c, tau=tau)
        ok = ~((eta_c == 0.5) & (tau < 2))  # non-unique minimiser there (any u in [1 - 1/tau, 1/tau])
        checks.append(float(np.max(np.abs(brute - closed)[ok])))
        intervals.append(cal.proper_interval(tau=tau))
    progress(f"u*(eta) for {taus_c.size} taus (closed form vs brute force: max diff {max(checks):.1e})")
    tau_d = np.geomspace(1.001, 100.0, 200)
    taus_b = grid(cfg.taus_bound, p.tau_phuber)
    delta_b = cal.phuber_log_delta(taus_b)
    delta_brute = np.array([cal.symmetric_sum_range(cal.phuber_log_base(tau=t)) for t in taus_b])
    rho = np.asarray(cfg.rho, float)
    dist = long_servedio(gamma=p.gamma)
    excess, clean_risk = [], []
    for tau in taus_b:
        e = cal.clean_minimiser_excess(make_loss("phuber", tau=tau), dist, rho=rho,
                                       n_angles=cfg.n_angles, n_radii=cfg.n_radii)
        excess.append(e["excess"])
        clean_risk.append(e["clean_risk"])
    excess = np.array(excess)
    bound = rho[None, :] * delta_b[:, None]
    slack = bound - excess
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(bound > 0, excess / np.where(bound > 0, bound, 1.0), np.nan)
    holds = bool(np.all(slack >= -1e-12))
    progress(f"Prop. 7 on {taus_b.size} x {rho.size} (tau, rho) cells: bound holds everywhere: {holds}")
    i_p = int(np.argmin(np.abs(taus_b - p.tau_phuber)))
    report = [
        f"calibration: PHuber log loss; u*(eta) closed form vs brute force max |diff| {max(checks):.1e} "
        f"({cfg.eta_check_points} eta points per tau)",
        "  proper interval [1/tau, 1 - 1/tau]: " + ", ".join(
            f"tau={t:g}: {'none' if iv is None else f'[{iv[0]:.3f}, {iv[1]:.3f}]'}" for t, iv in zip(taus_c, intervals)),
        "  Delta(tau): " + ", ".join(f"{t:g}: {d:.4f}" for t, d in zip(taus_b, delta_b)),
        f"  Prop. 7 excess <= rho * Delta(tau) at all {excess.size} grid points: {holds}; largest excess/bound "
        f"{np.nanmax(ratio):.3f}; at the preset tau={taus_b[i_p]:g}: excess at rho={rho[-1]:g} is "
        f"{excess[i_p, -1]:.4f} <= bound {bound[i_p, -1]:.4f}",
    ]
    return to_jsonable({
        "preset": p.name,
        "eta": eta,
        "minimiser": {"tau": taus_c, "u_star": np.array(curves), "proper_interval": intervals,
                      "max_abs_diff_brute_force": checks, "eta_check": eta_c},
        "delta": {"tau": tau_d, "delta": cal.phuber_log_delta(tau_d)},
        "bound": {"tau": taus_b, "rho": rho, "delta": delta_b, "delta_brute_force": delta_brute, "excess": excess,
                  "bound": bound, "ratio": ratio, "holds": holds, "clean_risk_of_clean_minimiser": clean_risk},
        "params": {"gamma": p.gamma, "n_angles": cfg.n_angles, "n_radii": cfg.n_radii,
                   "distribution": "Long & Servedio atoms", "tau_phuber": p.tau_phuber},
        "report": report,
    })


def plot(data: dict):
    """(a) u*(eta) per tau against the identity, proper intervals as thick segments; (b) Delta(tau);
    (c) measured excess noisy risk (markers) under its bound rho * Delta(tau) (lines)."""
    fig, axes = new_figure(1, 3, width=4.3, height=3.8)
    eta = np.asarray(data["eta"], float)
    mn = data["minimiser"]
    ax = axes[0]
    ax.plot(eta, eta, color="0.5", linewidth=1, linestyle=":", label="identity (log loss, τ = ∞)")
    for i, (tau, u, iv) in enumerate(zip(mn["tau"], mn["u_star"], mn["proper_interval"])):
        s = style("", i)
        ax.plot(eta, u, color=s["color"], linestyle=s["linestyle"], marker=s["marker"], markevery=max(1, len(eta) // 10),
                markersize=4, label=f"τ = {tau:g}" + ("" if iv is None else f", proper on [{iv[0]:.2f}, {iv[1]:.2f}]"))
        if iv is not None:
            seg = (eta >= iv[0]) & (eta <= iv[1])
            ax.plot(eta[seg], eta[seg], color=s["color"], linewidth=4, alpha=0.35)
    ax.set(xlabel="true class probability η", ylabel="minimiser u*(η) of η·l(u) + (1−η)·l(1−u)",
           title="Lemma 6: PHuber-log is proper only on [1/τ, 1−1/τ]")
    ax.legend(fontsize=6.5, loc="upper left")
    ax = axes[1]
    d = data["delta"]
    ax.plot(d["tau"], d["delta"], color="black", label="Δ(τ) closed form")
    bd = data["bound"]
    ax.plot(bd["tau"], bd["delta_brute_force"], linestyle="none", marker="o", markerfacecolor="white",
            markeredgecolor="#D55E00", label="range of l(u)+l(1−u) on a grid")
    ax.axvline(2.0, color="0.6", linewidth=0.8, linestyle=":")
    ax.set(xscale="log", yscale="log", xlabel="τ", ylabel="Δ(τ) = max S − min S, S(u) = l(u) + l(1−u)",
           title="robustness constant of Prop. 7")
    ax.legend(fontsize=7, loc="upper left")
    ax = axes[2]
    rho = np.asarray(bd["rho"], float)
    cmap = colormaps[CMAP]
    markers = ("o", "s", "^", "v", "D", "P", "X", "*", "h", "<", ">")
    n_tau = len(bd["tau"])
    for i, tau in enumerate(bd["tau"]):
        c = cmap(0.9 * i / max(n_tau - 1, 1))  # ordered by tau, dark to light
        ax.plot(rho, arr(bd["bound"][i]), color=c, linestyle="--", linewidth=1)
        ax.plot(rho, arr(bd["excess"][i]), color=c, linestyle="none", marker=markers[i % len(markers)],
                markersize=3.5, markeredgecolor="black", markeredgewidth=0.3, label=f"τ = {tau:g}")
    ax.set(yscale="symlog", xlabel="noise rate ρ", ylabel="excess noisy risk of the clean minimiser",
           title=f"Prop. 7: excess ≤ ρ·Δ(τ) (dashed) holds: {bd['holds']}")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.legend(fontsize=6.5, loc="upper left", ncol=2)
    for a in axes:
        a.title.set_fontsize(9)
    fig.suptitle(f"Calibration and robustness of the partially Huberised log loss (Long & Servedio atoms, "
                 f"γ = {data['params']['gamma']:.4g})", fontsize=9)
    return fig

SPEC = FigureSpec(
    "calibration",
    "beyond the paper: PHuber's conditional-risk minimiser u*(eta) and the Prop. 7 bound rho * Delta(tau)",
    compute,
    plot,
    options={},  # deterministic: its own (tau, rho) grid
    cost=5,
)
