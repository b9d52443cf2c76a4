"""The computations behind the live explorer (notebook 07): one point of (loss, tau, rho, gamma), at once.

For a loss, a threshold ``tau``, a symmetric noise rate ``rho`` and Long & Servedio's ``gamma``:

* :func:`explore_point`: the noisy population risk over the direction of theta (minimised over the
  radius, :func:`sandbox.population.profile_risk`), its exact minimiser
  (:func:`sandbox.population.minimise_population_risk`, ties reported), the clean-optimal direction,
  and each atom's margin and verdict under the minimiser;
* :func:`phase_map`: the population verdict over a (tau, rho) grid at this gamma, for the map with the
  current point on it. It uses the minimiser's search grid without the refinement step (0.75 degree
  resolution, about 0.3 s for the whole map) and is cached per (loss, gamma): the exact maps are the
  ``phase_population`` figure's;
* :func:`plot_explorer`: the three panels, as a matplotlib ``Figure``.

A slider change of tau or rho recomputes :func:`explore_point` only (tens of milliseconds); a change of
the loss or of gamma recomputes one phase map (cached afterwards).
"""

from __future__ import annotations

import functools

import numpy as np

from ._checks import check_choice, check_interval
from .data import LS_ATOM_NAMES, long_servedio
from .figures._style import CMAP, edges, loss_label, new_figure, style
from .population import minimise_population_risk, profile_risk
from .registry import make_loss

__all__ = ["EXPLORER_LOSSES", "TAU_RANGES", "loss_at", "explore_point", "phase_map", "plot_explorer"]

# the losses the explorer offers and the range of their threshold tau (None: no tau)
TAU_RANGES = {"logistic": None, "huberised": (0.01, 0.99), "phuber": (1.01, 100.0)}
EXPLORER_LOSSES = tuple(TAU_RANGES)
_N_ANGLES, _N_RADII = 361, 61  # the profile: 0.5 degree steps on [-90, 90]; radii 1e-3 .. 1e6 and inf


def loss_at(name: str, tau: float | None):
    """The explorer's loss ``name`` at threshold ``tau`` (ignored for a loss without one)."""
    check_choice("loss", name, EXPLORER_LOSSES)
    if TAU_RANGES[name] is None:
        return make_loss(name)
    lo, hi = TAU_RANGES[name]
    return make_loss(name, tau=check_interval("tau", tau, lo, hi))


def explore_point(name: str, *, tau: float | None, rho: float, gamma: float) -> dict:
    """Everything the explorer draws for one point (see the module docstring). Angles in degrees."""
    rho = check_interval("rho", rho, 0.0, 0.5, high_open=True, hint="symmetric noise needs rho < 1/2")
    loss = loss_at(name, tau)
    dist = long_servedio(gamma=gamma)
    ang = np.linspace(-90.0, 90.0, _N_ANGLES)
    noisy, radius = profile_risk(loss, dist, np.radians(ang), rho=rho, n_radii=_N_RADII)
    clean, _ = profile_risk(loss, dist, np.radians(ang), rho=0.0, n_radii=_N_RADII)
    fit = minimise_population_risk(loss, dist, rho=rho, n_angles=720, n_radii=121)
    margins = dist.yx @ fit.direction  # per atom, for the unit direction
    verdict = np.where(margins > 0, "correct", np.where(margins < 0, "wrong", "tie (score 0)"))
    return {
        "loss": name, "tau": None if TAU_RANGES[name] is None else float(tau), "rho": rho, "gamma": float(gamma),
        "label": loss_label(name, None if TAU_RANGES[name] is None else float(tau)),
        "angle_deg": ang, "noisy_profile": noisy, "clean_profile": clean, "best_radius": radius,
        "minimiser_deg": float(np.degrees(fit.angle)), "minimiser_radius": float(fit.radius),
        "minimiser_risk": float(fit.risk), "clean_accuracy": float(fit.clean_accuracy), "tie": bool(fit.tie),
        "accuracy_range": tuple(float(a) for a in fit.accuracy_range),
        "clean_optimal_deg": 0.0,  # x1 > 0: the max-margin direction (1, 0) classifies every atom
        "correct_cone_deg": (-float(np.degrees(np.arctan(0.2))), 45.0),  # puller and penalizer boundaries
        "atoms": {"names": list(LS_ATOM_NAMES), "weights": dist.weights.tolist(), "margin": margins.tolist(),
                  "verdict": verdict.tolist()},
    }


@functools.lru_cache(maxsize=32)
def _map(name: str, gamma: float, taus: tuple, rhos: tuple) -> np.ndarray:
    dist = long_servedio(gamma=gamma)
    rho = np.asarray(rhos)
    rows = [minimise_population_risk(loss_at(name, t), dist, rho=rho, n_angles=480, n_radii=61,
                                      refine=False).clean_accuracy for t in taus]
    return np.asarray(rows)


def phase_map(name: str, *, gamma: float, n_tau: int = 12, rhos=tuple(np.round(np.arange(0.0, 0.49, 0.02), 2))) -> dict:
    """Population clean accuracy over ``n_tau`` log-spaced thresholds of the loss's range and ``rhos``
    (one row for a loss without tau), at this ``gamma``; cached per (loss, gamma)."""
    check_choice("loss", name, EXPLORER_LOSSES)
    gamma = check_interval("gamma", gamma, 0.0, 1 / 6, low_open=True, high_open=True)
    taus = (None,) if TAU_RANGES[name] is None else tuple(np.geomspace(*TAU_RANGES[name], n_tau))
    acc = _map(name, round(gamma, 6), taus, tuple(float(r) for r in rhos))
    return {"loss": name, "gamma": gamma, "tau": list(taus), "rho": list(rhos), "clean_accuracy": acc}


def plot_explorer(point: dict, phase: dict):
    """(a) noisy and clean risk over the direction, minimiser and clean-optimal direction marked;
    (b) each atom's margin under the minimiser and its verdict; (c) the (tau, rho) map, current point on it."""
    fig, (ax, axb, axc) = new_figure(1, 3, width=4.2, height=3.6)
    fig.get_layout_engine().set(w_pad=0.06)
    s = style(point["loss"])
    a = np.asarray(point["angle_deg"])
    ax.axvspan(*point["correct_cone_deg"], color="0.88", zorder=0, label="every atom correct")
    ax.plot(a, point["noisy_profile"], color=s["color"], linestyle=s["linestyle"], label=f"noisy, ρ = {point['rho']:g}")
    ax.plot(a, point["clean_profile"], color="0.45", linestyle=":", label="clean (ρ = 0)")
    ax.axvline(point["clean_optimal_deg"], color="black", linestyle="--", linewidth=0.9, label="clean-optimal (0°)")
    ax.plot([point["minimiser_deg"]], [point["minimiser_risk"]], marker=s["marker"], markersize=9,
            markerfacecolor="white", markeredgecolor=s["color"], linestyle="none",
            label=f"minimiser {point['minimiser_deg']:.1f}°" + (" (a tie)" if point["tie"] else ""))
    ax.set(xlabel="direction of θ (degrees)", ylabel="risk, minimised over the radius",
           title=f"{point['label']}, γ = {point['gamma']:.3g}")
    ax.legend(fontsize=6.5, loc="upper center")
    at = point["atoms"]
    colors = {"correct": "#009E73", "wrong": "#D55E00"}
    hatches = {"correct": "", "wrong": "//"}
    for i, (n, m, v, w) in enumerate(zip(at["names"], at["margin"], at["verdict"], at["weights"])):
        axb.barh(i, m, color=colors.get(v, "0.6"), hatch=hatches.get(v, ".."), edgecolor="black")
        axb.annotate(f"{v} (weight {w:g})", (0, i), xytext=(4 if m <= 0 else -4, 0), textcoords="offset points",
                     ha="left" if m <= 0 else "right", va="center", fontsize=7)
    axb.axvline(0, color="black", linewidth=0.8)
    axb.set_yticks(range(len(at["names"])), [n.replace("_", " ") for n in at["names"]])
    lo, hi = point["accuracy_range"]
    acc = f"{point['clean_accuracy']:g}" if lo == hi else f"{lo:g} or {hi:g} (tie)"
    axb.set(xlabel="margin ⟨u, y·x⟩ under the minimiser's direction u", title=f"atoms: clean accuracy {acc}")
    m = max(abs(x) for x in at["margin"]) or 1.0
    axb.set_xlim(-1.15 * m, 1.15 * m)
    rho = np.asarray(phase["rho"], float)
    accmap = np.asarray(phase["clean_accuracy"], float)
    if phase["tau"][0] is None:
        xs = np.array([0.0, 1.0])
        mesh = axc.pcolormesh(xs, edges(rho), accmap.T, cmap=CMAP, vmin=0.5, vmax=1.0)
        axc.set_xticks([])
        axc.plot([0.5], [point["rho"]], marker="*", markersize=14, color="white", markeredgecolor="black")
        axc.set(xlabel="(no τ: logistic)")
    else:
        taus = np.asarray(phase["tau"], float)
        mesh = axc.pcolormesh(edges(taus, log=True), edges(rho), accmap.T, cmap=CMAP, vmin=0.5, vmax=1.0)
        axc.set_xscale("log")
        axc.plot([point["tau"]], [point["rho"]], marker="*", markersize=14, color="white", markeredgecolor="black")
        axc.set(xlabel="τ")
    axc.set(ylabel="noise rate ρ", title="population verdict over (τ, ρ); ★ = here")
    fig.colorbar(mesh, ax=axc, fraction=0.05, pad=0.02).set_label("clean accuracy of the minimiser")
    return fig
