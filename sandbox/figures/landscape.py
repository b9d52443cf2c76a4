"""``landscape``: the noisy population risk over the direction of theta, minimised over the radius.

On the Long & Servedio atoms (the preset's gamma and rho): each loss's profile ``a -> min_r R(r u(a))``,
its noisy minimiser (:func:`sandbox.population.minimise_population_risk`), the clean profile, and the
per-atom angular pulls at the penalizer boundary (45 degrees), at the best radius there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..data import long_servedio
from ..io import to_jsonable
from ..population import (
    angular_pulls,
    minimise_population_risk,
    profile_risk,
    radial_minimum,
)
from ..presets import Preset
from ..registry import PAPER_LOSSES, paper_losses
from ._spec import FigureSpec, Progress, no_progress
from ._style import arr, loss_label, new_figure, size_of, style

PULLER_DEG = float(np.degrees(np.arctan2(5.0, 1.0)))  # direction of the puller (gamma, 5 gamma): 78.69


@dataclass(frozen=True)
class LandscapeSize:
    """Sizes of ``landscape``."""

    n_angles: int  # directions on [-90, 90] degrees
    n_radii: int  # radii on [1e-3, 1e6] (log-spaced), plus r = inf


SIZES = {
    "full": LandscapeSize(n_angles=721, n_radii=241),  # 0.25 degree steps
    "smoke": LandscapeSize(n_angles=181, n_radii=121),  # 1 degree steps
}


def compute(preset: Preset, *, seed: int = 0, trials: int | None = None,
                      progress: Progress = no_progress, executor=None) -> dict:
    """Noisy (preset's rho) and clean population risk of each loss against the direction of theta,
    minimised over the radius, on the Long & Servedio atoms (preset's gamma); each loss's noisy
    minimiser (:func:`minimise_population_risk`); and the per-atom angular pulls at the penalizer
    boundary (45 degrees), at the radius that minimises the risk along that direction
    (:func:`sandbox.population.radial_minimum`). Deterministic (``seed``, ``trials`` unused).
    """
    cfg = size_of(SIZES, preset)
    p = preset
    dist = long_servedio(gamma=p.gamma)
    ang = np.radians(np.linspace(-90.0, 90.0, cfg.n_angles))
    losses = paper_losses(tau_huberised=p.tau_huberised, tau_phuber=p.tau_phuber)
    out = {}
    a45 = np.pi / 4
    for name, loss in losses.items():
        noisy, r_noisy = profile_risk(loss, dist, ang, rho=p.rho, n_radii=cfg.n_radii)
        clean, _ = profile_risk(loss, dist, ang, rho=0.0, n_radii=cfg.n_radii)
        fit = minimise_population_risk(loss, dist, rho=p.rho)
        _, r45 = radial_minimum(loss, dist, a45, rho=p.rho, n_radii=cfg.n_radii)
        pulls = angular_pulls(loss, dist, a45, r45, rho=p.rho) if np.isfinite(r45) else None
        out[name] = {
            "noisy_profile": noisy, "clean_profile": clean, "best_radius": r_noisy,
            "minimiser_angle_deg": float(np.degrees(fit.angle)), "minimiser_radius": float(fit.radius),
            "minimiser_risk": float(fit.risk), "clean_accuracy": float(fit.clean_accuracy),
            "atom_correct": fit.atom_correct, "radius_at_45": r45, "pulls_at_45": pulls,
        }
        progress(f"{name}: minimiser at {np.degrees(fit.angle):.2f} deg, clean accuracy {fit.clean_accuracy:g}")
    taus = {"huberised": p.tau_huberised, "phuber": p.tau_phuber}
    report = [f"landscape: rho={p.rho:g}, gamma={p.gamma:.4g}; correct directions (-11.31, 45) deg; puller at "
              f"{PULLER_DEG:.2f} deg; max-margin (clean-optimal) direction 0 deg"]
    for name in PAPER_LOSSES:
        o = out[name]
        pl = o["pulls_at_45"]
        pulls = "n/a (best radius infinite)" if pl is None else (
            "pulls at 45 deg (large margin, puller, penalizer) " + ", ".join(f"{v:+.4f}" for v in pl))
        report.append(f"  {loss_label(name, taus.get(name)):<22} minimiser {o['minimiser_angle_deg']:7.2f} deg, radius "
                      f"{o['minimiser_radius']:.3g}, clean accuracy {o['clean_accuracy']:g}; {pulls}")
    return to_jsonable({
        "preset": p.name,
        "angle_deg": np.degrees(ang),
        "losses": out,
        "taus": taus,
        "geometry": {"puller_deg": PULLER_DEG, "penalizer_boundary_deg": 45.0,
                     "puller_boundary_deg": -float(np.degrees(np.arctan(0.2))), "max_margin_deg": 0.0},
        "params": {"rho": p.rho, "gamma": p.gamma, "n_angles": cfg.n_angles, "n_radii": cfg.n_radii,
                   "radius_range": [1e-3, 1e6], "radius_inf": "evaluated at 1e300"},
        "report": report,
    })


def plot(data: dict):
    """Per loss (columns): the noisy profile risk (min over the radius) against the angle, the clean
    one, and the minimising radius (``inf`` drawn at the top edge). Shaded: directions that classify
    every atom correctly; dashed: the max-margin direction (0 deg); dash-dot: the puller; dotted: the
    noisy minimiser. The marks are named once, in a legend below the panels."""
    a = np.asarray(data["angle_deg"], float)
    geo = data["geometry"]
    prm = data["params"]
    fig, axes = new_figure(3, 3, width=4.2, height=2.4, sharex=True)
    top = 1e6
    for j, name in enumerate(PAPER_LOSSES):
        o = data["losses"][name]
        s = style(name)
        axn, axc, axr = axes[0, j], axes[1, j], axes[2, j]
        m = o["minimiser_angle_deg"]
        axn.plot(a, arr(o["noisy_profile"]), color=s["color"], linestyle=s["linestyle"])
        axn.plot([m], [o["minimiser_risk"]], marker=s["marker"], markersize=9, markerfacecolor="white",
                 markeredgecolor=s["color"], linestyle="none")
        axn.annotate(f"minimiser {m:.1f}°\nclean accuracy {o['clean_accuracy']:g}", (0.03, 0.95),
                     xycoords="axes fraction", va="top", fontsize=7,
                     bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor="0.7", alpha=0.9))
        axc.plot(a, arr(o["clean_profile"]), color=s["color"], linestyle=s["linestyle"])
        r = arr(o["best_radius"])
        axr.semilogy(a, np.where(np.isnan(r), 3 * top, np.maximum(r, 1e-3)), color=s["color"],
                     linestyle=s["linestyle"])
        axr.axhline(3 * top, color="0.6", linewidth=0.6)
        axr.annotate("r = ∞", (0.02, 3 * top), xycoords=("axes fraction", "data"), xytext=(0, -10),
                     textcoords="offset points", fontsize=7)
        for axx in (axn, axc, axr):
            axx.axvspan(geo["puller_boundary_deg"], geo["penalizer_boundary_deg"], color="0.88", zorder=0)
            axx.axvline(geo["max_margin_deg"], color="black", linestyle="--", linewidth=0.9)
            axx.axvline(geo["puller_deg"], color="#CC79A7", linestyle="-.", linewidth=0.9)
            axx.axvline(m, color=s["color"], linestyle=(0, (1, 1)), linewidth=0.9)
        axn.set(ylabel=f"noisy risk (ρ = {prm['rho']:g})", title=loss_label(name, data["taus"].get(name)))
        axc.set(ylabel="clean risk (ρ = 0)")
        axr.set(xlabel="direction of θ (degrees)", ylabel="minimising radius r", ylim=(1e-3, 3e7))
    handles = [
        Patch(facecolor="0.88", label="every atom classified correctly"),
        Line2D([], [], color="black", linestyle="--", linewidth=0.9, label="max-margin direction (0°)"),
        Line2D([], [], color="#CC79A7", linestyle="-.", linewidth=0.9, label=f"puller ({geo['puller_deg']:.1f}°)"),
        Line2D([], [], color="0.3", linestyle=(0, (1, 1)), linewidth=0.9, label="noisy minimiser"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=8)
    fig.suptitle(f"Population risk over the direction of θ, minimised over the radius (Long & Servedio atoms, "
                 f"γ = {prm['gamma']:.4g})", fontsize=10)
    return fig


SPEC = FigureSpec(
    "landscape",
    "beyond the paper: noisy population risk over the direction of theta, minimisers marked",
    compute,
    plot,
    options={"rho": "the symmetric noise rate (default: the preset's)"},
    cost=2,
)
