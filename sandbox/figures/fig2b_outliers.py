"""``fig2b_outliers``: paper Fig. 2b, empirical risk against ``theta`` on Ding's 1-D data, with and without outliers.

One draw of Ding's data (inliers ``N(+-1, 1)``, outliers ``N(-+200, 1)`` with the wrong label); for each
of the paper's losses (at the preset's Fig. 2b thresholds) the risk on ``theta in [-2, 2]``, its grid and
refined minimisers, and the risk and slope at ``theta = 0``.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from ..data import ding_outliers
from ..io import to_jsonable
from ..linear import mean_grad, risk
from ..presets import Preset
from ..registry import PAPER_LOSSES, paper_losses
from ._spec import FigureSpec, Progress, no_progress
from ._style import loss_label, new_figure, style

WINDOW_EDGE_TOL = 1e-6  # a refined minimiser this close to -2 or 2 is the window's edge (Brent's xatol: 1e-10)


def _minimiser(loss, theta, curve, X, y, *, convex: bool) -> dict:
    """Grid argmin, refined by bounded Brent between the neighbouring grid points (a local
    refinement: PHuber's risk is not convex, so the grid picks the basin)."""
    i = int(np.argmin(curve))
    lo, hi = theta[max(i - 1, 0)], theta[min(i + 1, len(theta) - 1)]
    f = lambda t: float(risk(loss, np.array([t]), X, y))  # noqa: E731
    res = optimize.minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
    best, val = (float(res.x), float(res.fun)) if res.fun <= curve[i] else (float(theta[i]), float(curve[i]))
    r0 = float(risk(loss, np.zeros(1), X, y))
    dphi0 = float(loss(np.zeros(()))[1])
    m = float(np.mean(y * X[:, 0]))
    return {
        "argmin_grid": float(theta[i]),
        "argmin": best,
        "min_risk": val,
        "at_window_edge": bool(min(abs(best - theta[0]), abs(best - theta[-1])) < WINDOW_EDGE_TOL),
        "risk_at_zero": r0,
        "risk_gap_at_zero": r0 - val,
        "slope_at_zero": float(mean_grad(loss, np.zeros(1), X, y)[0]),
        "dphi_at_zero": dphi0,
        "convex_gap_bound": 2.0 * abs(dphi0 * m) if convex else None,
    }


def compute(preset: Preset, *, seed: int = 0, trials: int | None = None, progress: Progress = no_progress,
            executor=None) -> dict:
    """Paper Fig. 2b: risk against ``theta`` on Ding's 1-D data, inliers alone and with outliers.

    One draw of the data from ``numpy.random.default_rng(seed)`` (``trials`` is unused). For each
    curve: the grid minimiser, a refined one, the risk and slope at ``theta = 0``, and — for the
    convex losses — the bound ``R(0) - min R <= 2 |phi'(0)| |mean(y x)|`` on ``[-2, 2]`` (from
    ``phi(z) >= phi(0) + phi'(0) z``), which makes ``theta = 0`` near-optimal when ``mean(y x) ~ 0``.
    """
    p = preset
    taus = {"huberised": p.tau_huberised_outliers, "phuber": p.tau_phuber_outliers}
    losses = paper_losses(**{f"tau_{k}": v for k, v in taus.items()})
    progress(f"Ding data: {p.n_inliers} inliers and {p.n_outliers} outliers per class, seed {seed}")
    inl, out = ding_outliers(rng=seed, n_inliers=p.n_inliers, n_outliers=p.n_outliers)
    sets = {
        "inliers": (inl.X, inl.y),
        "with_outliers": (np.concatenate([inl.X, out.X]), np.concatenate([inl.y, out.y])),
    }
    theta = np.linspace(-2.0, 2.0, p.theta_points)
    curves, minimisers = {}, {}
    for key, (X, y) in sets.items():
        curves[key], minimisers[key] = {}, {}
        for name, loss in losses.items():
            progress(f"{key}: {name}")
            c = risk(loss, theta[:, None], X, y)
            curves[key][name] = c
            minimisers[key][name] = _minimiser(loss, theta, c, X, y, convex=name != "phuber")
    mean_yx = {k: float(np.mean(y * X[:, 0])) for k, (X, y) in sets.items()}
    report = [
        f"fig2b_outliers: preset {p.name!r}, taus {taus['huberised']:g}/{taus['phuber']:g}, "
        f"seed {seed}; mean(y x): inliers {mean_yx['inliers']:+.4f}, with outliers {mean_yx['with_outliers']:+.4f}",
        f"  {'loss':<22}{'argmin inliers':>16}{'argmin +outliers':>18}{'R(0) - min R':>15}",
    ]
    for name in PAPER_LOSSES:
        a, b = minimisers["inliers"][name], minimisers["with_outliers"][name]
        edge = lambda m: "*" if m["at_window_edge"] else " "  # noqa: E731
        report.append(f"  {name:<22}{a['argmin']:>15.4f}{edge(a)}{b['argmin']:>17.4f}{edge(b)}"
                      f"{b['risk_gap_at_zero']:>15.2e}")
    report.append("  (* minimiser at the edge of the window [-2, 2]; the minimiser over R lies at or beyond it)")
    return to_jsonable({
        "preset": p.name,
        "taus": taus,
        "theta": theta,
        "risk": curves,
        "minimiser": minimisers,
        "mean_yx": mean_yx,
        "params": {
            "seed": int(seed),
            "n_inliers_per_class": p.n_inliers,
            "n_outliers_per_class": p.n_outliers,
            "inlier_mean": 1.0,
            "outlier_mean": 200.0,
            "theta_range": [-2.0, 2.0],
            "theta_points": p.theta_points,
        },
        "report": report,
    })


def _argmin_label(m: dict) -> str:
    """``argmin θ = -0.011``; ``0.000`` rather than ``-0.000``; ``≥ 2 (window edge)`` at the edge, where the
    minimiser over the whole line lies at or beyond the plotted window."""
    x = m["argmin"]
    if m["at_window_edge"]:
        return f"argmin θ {'≥' if x > 0 else '≤'} {x:+.0f} (edge of the window)"
    return f"argmin θ = {x:+.3f}" if round(x, 3) != 0 else "argmin θ = 0.000"


def plot(data: dict):
    """One panel per loss: risk without (solid) and with (dashed) outliers, minimisers marked."""
    taus = data["taus"]
    theta = np.asarray(data["theta"], dtype=float)
    fig, axes = new_figure(1, 3, width=4.0, height=3.4)
    for ax, name in zip(axes, PAPER_LOSSES):
        s = style(name)
        for key, ls, mk, lab in (("inliers", "-", "o", "inliers only"), ("with_outliers", "--", "s", "with outliers")):
            c = np.asarray(data["risk"][key][name], dtype=float)
            m = data["minimiser"][key][name]
            ax.plot(theta, c, color=s["color"], linestyle=ls, label=f"{lab}: {_argmin_label(m)}")
            ax.plot([m["argmin"]], [m["min_risk"]], marker=mk, markersize=7, markerfacecolor="white",
                    markeredgecolor=s["color"], linestyle="none")
        ax.axvline(0.0, color="0.6", linewidth=0.8, linestyle=":")
        ax.set(xlabel="θ (score θ·x)", ylabel="empirical risk", title=loss_label(name, taus.get(name)))
        ax.legend(fontsize=7, loc="upper center")
    prm = data["params"]
    fig.suptitle(
        f"Ding's outliers: {prm['n_inliers_per_class']} inliers N(±1, 1) and {prm['n_outliers_per_class']} outliers "
        f"N(∓200, 1) per class; mean(y·x) with outliers = {data['mean_yx']['with_outliers']:+.3f} "
        f"(preset {data['preset']!r}, seed {prm['seed']})",
        fontsize=9,
    )
    return fig


SPEC = FigureSpec(
    "fig2b_outliers",
    "paper Fig. 2b: risk against theta on Ding's data, with and without outliers, and the minimisers",
    compute,
    plot,
    options={},  # one draw of Ding's data from the seed; no trials, no label noise
)
