"""``sample_convergence``: how many samples it takes for a fit's verdict to be the population's.

For each of the paper's losses at the preset's gamma (1/24) and thresholds, and a few noise rates, the
fraction of trials whose fit gives the population verdict — clean test accuracy ``>= 0.99`` exactly when
the noisy population minimiser on the Long & Servedio atoms classifies every atom — as ``n_train`` grows
from 100 to 100,000, for converged fits (:func:`sandbox.converged.fit_converged`, the loss's verdict)
beside the paper's SLSQP protocol (:func:`sandbox.slsqp.fit_slsqp`). Does the convex losses' failure
appear only beyond some n? Does PHuber's success need a minimum n? Cells ``(rho, n)`` go through
:func:`sandbox.figures._cells.cell_map`; every ``n`` has its own trials (children of ``[seed, n]``), shared by every rho.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import check_positive_int
from ..converged import fit_converged
from ..data import long_servedio
from ..io import to_jsonable
from ..linear import accuracy
from ..metrics import SUCCESS
from ..population import minimise_population_risk
from ..presets import Preset
from ..registry import PAPER_LOSSES, paper_losses
from ..slsqp import fit_slsqp
from ..trials import long_servedio_trials
from ._cells import cell_map
from ._spec import FigureSpec, Progress, no_progress
from ._style import loss_label, new_figure, size_of

PROTOCOLS = ("converged", "slsqp")


@dataclass(frozen=True)
class SampleConvergenceSize:
    """Sizes of ``sample_convergence``."""

    rho: tuple[float, ...]  # symmetric noise rates
    n_train: tuple[int, ...]  # sample sizes (log-spaced)
    trials: tuple[int, ...]  # trials per n_train (fewer for the largest samples)
    n_test: int  # clean test points per trial


SIZES = {
    "full": SampleConvergenceSize(rho=(0.1, 0.2, 0.3, 0.45), n_train=(100, 300, 1000, 3000, 10_000, 30_000, 100_000),
                                  trials=(50, 50, 50, 50, 20, 10, 10), n_test=2000),
    "smoke": SampleConvergenceSize(rho=(0.2, 0.45), n_train=(100, 300, 1000), trials=(6, 6, 6), n_test=200),
}


def cell_draws(cell: tuple):
    """The trials of one ``(rho, n_train, trials, n_test, gamma, sigma, taus, seed, maxiter)`` cell:
    :func:`sandbox.trials.long_servedio_trials` from the seed ``[seed, n_train]``, so every sample size
    has its own independent draws, shared by every rho (common random numbers)."""
    rho, n, K, n_test, gamma, sigma, _, seed, _ = cell
    return long_servedio_trials(trials=K, n_train=n, n_test=n_test, rho=rho,
                                rng=np.random.default_rng([seed, n]), gamma=gamma, sigma=sigma)


def convergence_cell(cell: tuple) -> dict:
    """One cell (see :func:`cell_draws`) -> per loss and protocol the clean test accuracy of every trial."""
    taus, maxiter = cell[6], cell[8]
    d = cell_draws(cell)
    out = {}
    for name, loss in paper_losses(tau_huberised=taus[0], tau_phuber=taus[1]).items():
        conv = fit_converged(loss, d.X_train, d.y_train).theta
        slsqp = fit_slsqp(loss, d.X_train, d.y_train, maxiter=maxiter).theta
        out[name] = {"converged": accuracy(conv, d.X_test, d.y_test), "slsqp": accuracy(slsqp, d.X_test, d.y_test)}
    return out


def compute(preset: Preset, *, seed: int = 0, trials: int | None = None, progress: Progress = no_progress,
            executor=None) -> dict:
    """The fraction of trials whose verdict is the population's, per loss, protocol, rho and n_train
    (module docstring). ``trials`` caps the trials of every sample size."""
    cfg = size_of(SIZES, preset)
    p = preset
    cap = None if trials is None else check_positive_int("trials", trials)
    Ks = [k if cap is None else min(k, cap) for k in cfg.trials]
    taus = (p.tau_huberised, p.tau_phuber)
    losses = paper_losses(tau_huberised=taus[0], tau_phuber=taus[1])
    dist = long_servedio(gamma=p.gamma)
    rho = np.asarray(cfg.rho, float)
    population = {name: minimise_population_risk(loss, dist, rho=rho).clean_accuracy for name, loss in losses.items()}
    cells = [(float(r), int(n), K, cfg.n_test, p.gamma, p.sigma, taus, seed, p.slsqp_maxiter)
             for r in rho for n, K in zip(cfg.n_train, Ks)]
    done = cell_map(convergence_cell, cells, executor)
    progress(f"{len(cells)} (rho, n_train) cells fitted by both protocols")
    results = {}
    for name in PAPER_LOSSES:
        block = {"population_accuracy": population[name]}
        for proto in PROTOCOLS:
            match = np.empty((rho.size, len(cfg.n_train)))
            median = np.empty_like(match)
            for c, out in zip(cells, done):
                i, j = int(np.flatnonzero(rho == c[0])[0]), cfg.n_train.index(c[1])
                acc = out[name][proto]
                success = acc >= SUCCESS
                match[i, j] = np.mean(success == (population[name][i] == 1.0))
                median[i, j] = np.median(acc)
            block[proto] = {"match": match, "median": median}
        results[name] = block
    report = [f"sample_convergence: gamma={p.gamma:.4g}, taus {taus[0]:g}/{taus[1]:g}, n_train "
              f"{cfg.n_train[0]}..{cfg.n_train[-1]}, trials per n {Ks}, seed {seed}; match = fraction of trials whose "
              "verdict (accuracy >= 0.99) is the population's"]
    for name in PAPER_LOSSES:
        for i, r in enumerate(rho):
            verdict = "succeeds" if population[name][i] == 1.0 else "fails"
            rows = "; ".join(
                f"{proto} " + " ".join(f"{m:.2f}" for m in results[name][proto]["match"][i]) for proto in PROTOCOLS)
            report.append(f"  {name:<10} rho={r:<5g} population {verdict:<9} match over n: {rows}")
    return to_jsonable({
        "preset": p.name,
        "rho": rho,
        "n_train": list(cfg.n_train),
        "trials": Ks,
        "taus": {"huberised": taus[0], "phuber": taus[1]},
        "results": results,
        "params": {"gamma": p.gamma, "sigma": p.sigma, "n_test": cfg.n_test, "seed": int(seed),
                   "slsqp_maxiter": p.slsqp_maxiter, "success_threshold": SUCCESS,
                   "population": "minimise_population_risk on the Long & Servedio atoms"},
        "report": report,
    })


def first_n_matching(data: dict, name: str, protocol: str, rho: float) -> int | None:
    """The smallest ``n_train`` of a ``sample_convergence`` result from which every trial, at that and every
    larger sample size, has the population's verdict (``None``: not even at the largest)."""
    row = data["results"][name][protocol]["match"][list(data["rho"]).index(rho)]
    k = len(row)
    while k > 0 and row[k - 1] == 1.0:
        k -= 1
    return data["n_train"][k] if k < len(row) else None


_RHO_STYLES = ("o", "s", "^", "D", "v", "P")


def plot(data: dict):
    """One panel per loss: the fraction of trials matching the population verdict against n_train (log),
    one colour and marker per rho; solid: converged fits, dashed: the paper's SLSQP protocol."""
    n = np.asarray(data["n_train"], float)
    rho = data["rho"]
    fig, axes = new_figure(1, 3, width=4.2, height=3.6, sharey=True)
    cmap = ("#000000", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00")
    for ax, name in zip(axes, PAPER_LOSSES):
        r = data["results"][name]
        good = [f"{rr:g}" for i, rr in enumerate(rho) if r["population_accuracy"][i] == 1.0]
        bad = [f"{rr:g}" for i, rr in enumerate(rho) if r["population_accuracy"][i] != 1.0]
        verdict = "; ".join(x for x in (good and f"succeeds at ρ = {', '.join(good)}",
                                        bad and f"fails at ρ = {', '.join(bad)}") if x)
        for i, rr in enumerate(rho):
            c, m = cmap[i % len(cmap)], _RHO_STYLES[i % len(_RHO_STYLES)]
            ax.semilogx(n, r["converged"]["match"][i], color=c, marker=m, linestyle="-", label=f"ρ = {rr:g}, converged")
            ax.semilogx(n, r["slsqp"]["match"][i], color=c, marker=m, markerfacecolor="white", linestyle="--",
                        label=f"ρ = {rr:g}, SLSQP protocol")
        ax.set(xlabel="n_train (log scale)", ylim=(-0.03, 1.03),
               title=f"{loss_label(name, data['taus'].get(name))}\npopulation {verdict}")
        ax.title.set_fontsize(9)
    axes[0].set_ylabel("fraction of trials with the population's verdict")
    axes[2].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7, frameon=False)
    fig.suptitle(f"How many samples until a fit's verdict is the population's (γ = {data['params']['gamma']:.4g}; "
                 f"verdict: clean accuracy ≥ {data['params']['success_threshold']:g}; trials per n: "
                 f"{', '.join(map(str, data['trials']))})", fontsize=9)
    return fig


SPEC = FigureSpec(
    "sample_convergence",
    "beyond the paper: the fraction of trials whose fit has the population's verdict, against n_train "
    "(converged vs SLSQP)",
    compute,
    plot,
    options={"trials": "caps the trials of every sample size (default 50 up to n = 3000, fewer beyond)"},
    cost=60,
)
