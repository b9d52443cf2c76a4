"""``adversarial_flips``: accuracy against the flip budget, adversarial next to symmetric flips.

Samples (the same clean draws for every budget and strategy; fitted by the paper's SLSQP protocol and
by converged fits, :func:`sandbox.converged.fit_converged`): exactly
``round(rho n)`` uniformly chosen flips (symmetric at the same budget), the largest clean margins under
``theta = (1, 0)``, or all flips on one atom. Population (Long & Servedio atoms): symmetric noise, and the
per-atom search (:func:`sandbox.adversary.atom_flip_search`), unrestricted and with every flip
fraction below 1/2. Label flips come from ``default_rng([TAG_FLIPS, seed])``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import calibration as cal
from .._checks import check_positive_int
from ..adversary import atom_flip_search, lowest_accuracy
from ..converged import fit_converged
from ..data import LS_ATOM_NAMES, long_servedio
from ..io import to_jsonable
from ..linear import accuracy
from ..metrics import break_rho, summarise
from ..noise import flip_exact_fraction, flip_group, flip_largest_margin
from ..population import minimise_population_risk
from ..presets import Preset
from ..registry import PAPER_LOSSES, paper_losses
from ..slsqp import fit_slsqp
from ..trials import long_servedio_trials
from ._spec import FigureSpec, Progress, no_progress
from ._style import arr, floats, loss_label, new_figure, size_of

TAG_FLIPS = 4102  # label flips of the adversarial_flips figure: default_rng([TAG_FLIPS, seed])


@dataclass(frozen=True)
class AdversarialSize:
    """Sizes of ``adversarial_flips``."""

    budgets: tuple[float, ...]  # flip budget: fraction of the sample (or population mass) flipped
    trials: int  # per budget and strategy (the same clean draws for every budget and strategy)
    resolution: float  # per-atom adversary: flip fractions on {0, resolution, ..., 1}
    majority_levels: tuple[float, ...]  # majority-preserving adversary: flip fractions, all < 1/2
    n_angles: int  # population search grid
    n_radii: int


SIZES = {
    # 1/8 is added: the budget at which flipping half of the puller (weight 1/4) becomes affordable
    "full": AdversarialSize(budgets=tuple(sorted(floats(np.arange(0.0, 0.455, 0.05), 2) + (0.125, 0.49))), trials=50,
                            resolution=0.1, majority_levels=(0.0, 0.1, 0.2, 0.3, 0.4, 0.45, 0.49),
                            n_angles=720, n_radii=121),
    "smoke": AdversarialSize(budgets=(0.0, 0.1, 0.125, 0.2, 0.3), trials=4, resolution=0.1,
                             majority_levels=(0.0, 0.2, 0.4, 0.49), n_angles=720, n_radii=121),
}

SAMPLE_STRATEGIES = ("symmetric", "largest_margin", "target_large_margin", "target_puller", "target_penalizer")
POPULATION_STRATEGIES = ("population_symmetric", "population_search", "population_search_majority")
_STRATEGY_LABELS = {
    "symmetric": "symmetric (sample, exact budget)",
    "largest_margin": "largest clean margin (sample)",
    "target_large_margin": "all on the large-margin atom (sample)",
    "target_puller": "all on the puller (sample)",
    "target_penalizer": "all on the penalizer (sample)",
    "population_symmetric": "symmetric (population)",
    "population_search": "per-atom search (population)",
    "population_search_majority": "per-atom search, every f_i < 1/2 (population)",
}


def _sample_flips(strategy: str, y, X, atom, budget: float, rng) -> tuple[np.ndarray, float]:
    """Noisy labels ``(T, n)`` of one strategy at one budget and the realised flipped fraction."""
    T, n = y.shape
    if strategy == "symmetric":
        yn, f = flip_exact_fraction(y, rho=budget, rng=rng)
        return yn, float(f.mean())
    out = np.empty_like(y)
    frac = 0.0
    for t in range(T):
        if strategy == "largest_margin":
            yn, f = flip_largest_margin(y[t], X[t], np.array([1.0, 0.0]), rho=budget)
        else:
            target = LS_ATOM_NAMES.index(strategy.removeprefix("target_"))
            members = int(np.sum(atom[t] == target))
            # the budget is capped at the atom's size in this sample (flip_group would raise)
            yn, f = flip_group(y[t], atom[t], target=target, rho=min(budget, members / n), rng=rng)
        out[t] = yn
        frac += f.mean() / T
    return out, frac


def compute(preset: Preset, *, seed: int = 0, trials: int | None = None,
                              progress: Progress = no_progress, executor=None) -> dict:
    """Clean accuracy of each loss against the flip budget, for adversarial and symmetric flips.

    Samples (``trials`` clean mixture draws, preset's n_train / n_test / gamma / sigma, the same draws
    for every budget and strategy; SLSQP protocol via :func:`sandbox.slsqp.fit_slsqp`, and converged fits
    via :func:`sandbox.converged.fit_converged` under ``results[loss][strategy]["converged"]``):
    ``symmetric`` (exactly ``round(rho n)`` uniformly chosen labels, :func:`sandbox.noise.flip_exact_fraction`),
    ``largest_margin`` (the largest clean margins under the clean-optimal ``theta = (1, 0)``,
    :func:`sandbox.noise.flip_largest_margin`) and ``target_<atom>`` (all flips on one atom, both signs,
    :func:`sandbox.noise.flip_group`; capped at the atom's size). Population (Long & Servedio atoms):
    symmetric noise, and the per-atom search (:func:`atom_flip_search`), unrestricted and with every
    atom's flip fraction below 1/2.
    """
    cfg = size_of(SIZES, preset)
    p = preset
    K = (cfg.trials if trials is None else check_positive_int("trials", trials))
    budgets = np.asarray(cfg.budgets, float)
    t0 = time.perf_counter()
    clean = long_servedio_trials(trials=K, n_train=p.n_train, n_test=p.n_test, rho=0.0, rng=seed,
                                 gamma=p.gamma, sigma=p.sigma)
    X, y, atom = clean.X_train, clean.y_train_clean, clean.group_train % 3
    rng = np.random.default_rng([TAG_FLIPS, seed])
    ys, realised = [], {s: [] for s in SAMPLE_STRATEGIES}
    for s in SAMPLE_STRATEGIES:
        for b in budgets:
            yn, fr = _sample_flips(s, y, X, atom, float(b), rng)
            ys.append(yn)
            realised[s].append(fr)
    n_cells = len(SAMPLE_STRATEGIES) * budgets.size
    Xs = np.broadcast_to(X, (n_cells,) + X.shape).reshape(-1, *X.shape[1:])
    Ys = np.concatenate(ys)
    Xt = np.broadcast_to(clean.X_test, (n_cells,) + clean.X_test.shape).reshape(-1, *clean.X_test.shape[1:])
    Yt = np.broadcast_to(clean.y_test, (n_cells,) + clean.y_test.shape).reshape(-1, clean.y_test.shape[-1])
    progress(f"{n_cells} strategy x budget cells of {K} trials flipped ({time.perf_counter() - t0:.1f} s)")
    losses = paper_losses(tau_huberised=p.tau_huberised, tau_phuber=p.tau_phuber)
    dist = long_servedio(gamma=p.gamma)
    results = {}
    for name, loss in losses.items():
        th = fit_slsqp(loss, Xs, Ys, maxiter=p.slsqp_maxiter).theta
        acc = accuracy(th, Xt, Yt).reshape(len(SAMPLE_STRATEGIES), budgets.size, K)
        conv = accuracy(fit_converged(loss, Xs, Ys).theta, Xt, Yt).reshape(acc.shape)
        r = {s: {"test_accuracy": acc[i], "stats": summarise(acc[i], axis=1),
                 "converged": {"test_accuracy": conv[i], "stats": summarise(conv[i], axis=1)}}
             for i, s in enumerate(SAMPLE_STRATEGIES)}
        sym = minimise_population_risk(loss, dist, rho=np.minimum(budgets, 0.4999), n_angles=cfg.n_angles,
                                       n_radii=cfg.n_radii)
        r["population_symmetric"] = {"clean_accuracy": sym.clean_accuracy}
        r["population_search"] = atom_flip_search(loss, dist, budgets, resolution=cfg.resolution,
                                                  n_angles=cfg.n_angles, n_radii=cfg.n_radii)
        # majority-preserving: symmetric candidates capped just below 1/2 like the levels
        r["population_search_majority"] = atom_flip_search(
            loss, dist, np.minimum(budgets, max(cfg.majority_levels)), levels=cfg.majority_levels,
            n_angles=cfg.n_angles, n_radii=cfg.n_radii)
        if name == "phuber":
            for key in ("population_search", "population_search_majority"):
                r[key]["guaranteed"] = cal.perfect_accuracy_guaranteed(dist.weights, r[key]["flip"],
                                                                        tau=p.tau_phuber)
        results[name] = r
        progress(f"{name} done ({time.perf_counter() - t0:.1f} s)")
    # where each loss breaks: the smallest budget with (median / population) accuracy < 0.99
    breaks = {}
    for name, r in results.items():
        b = {s: break_rho(budgets, r[s]["stats"]["median"]) for s in SAMPLE_STRATEGIES}
        b.update({f"{s}_converged": break_rho(budgets, r[s]["converged"]["stats"]["median"])
                  for s in SAMPLE_STRATEGIES})
        b["population_symmetric"] = break_rho(budgets, r["population_symmetric"]["clean_accuracy"])
        for key in ("population_search", "population_search_majority"):
            b[key] = break_rho(budgets, r[key]["clean_accuracy"])
            b[key + "_tie"] = break_rho(budgets, lowest_accuracy(r[key]))
        breaks[name] = b
    ph = results["phuber"]
    report = [f"adversarial_flips: {K} trials per cell, n_train={p.n_train}, gamma={p.gamma:.4g}, budgets "
              f"{budgets[0]:g}..{budgets[-1]:g}; per-atom search at resolution {cfg.resolution:g}; "
              "break = smallest budget with accuracy < 0.99 (median over trials for samples); population: every "
              "minimiser wrong (a tie, where the minimal risk is also reached by a correct classification, is "
              "not a break: *_tie is the smallest budget where a tie allows a wrong answer)",
              f"  {'strategy':<30}" + "".join(f"{n[:10]:>12}" for n in PAPER_LOSSES)]
    keys = (SAMPLE_STRATEGIES + tuple(f"{s}_converged" for s in SAMPLE_STRATEGIES) + POPULATION_STRATEGIES
            + ("population_search_tie", "population_search_majority_tie"))
    for s in keys:
        report.append(f"  {s:<30}" + "".join(f"{str(breaks[n][s]):>12}" for n in PAPER_LOSSES))
    for key in ("population_search", "population_search_majority"):
        bk, bt = breaks["phuber"][key], breaks["phuber"][key + "_tie"]
        if bt is not None and (bk is None or bt < bk):
            j = int(np.flatnonzero(np.isclose(budgets, bt))[0])
            report.append(f"  PHuber, {key}: at budget {bt:g} a tie allows clean accuracy "
                          f"{ph[key]['tie_accuracy'][j]:g} (every minimiser still reaches {ph[key]['clean_accuracy'][j]:g})")
        if bk is not None:
            j = int(np.flatnonzero(np.isclose(budgets, bk))[0])
            report.append(f"  PHuber, {key}: at budget {bk:g} the flips f = {np.round(ph[key]['flip'][j], 3).tolist()} "
                          f"(used {ph[key]['used_budget'][j]:.3f}) give clean accuracy {ph[key]['clean_accuracy'][j]:g} "
                          "for every minimiser")
    gsym = float(cal.guaranteed_rho(p.tau_phuber, min_weight=float(np.min(dist.weights))))
    report.append(f"  PHuber guarantee (Prop. 7 corollary, noise keeping every atom's majority label): symmetric "
                  f"rho < {gsym:.3f}; any f with some f_i >= 1/2 is outside every guarantee")
    return to_jsonable({
        "preset": p.name,
        "budgets": budgets,
        "sample_strategies": list(SAMPLE_STRATEGIES),
        "population_strategies": list(POPULATION_STRATEGIES),
        "strategy_labels": _STRATEGY_LABELS,
        "results": results,
        "break_budget": breaks,
        "realised_flip_fraction": realised,
        "atoms": {"names": list(LS_ATOM_NAMES), "weights": dist.weights},
        "params": {
            "trials": K, "seed": int(seed), "gamma": p.gamma, "sigma": p.sigma, "n_train": p.n_train,
            "n_test": p.n_test, "slsqp_maxiter": p.slsqp_maxiter, "tau_huberised": p.tau_huberised,
            "tau_phuber": p.tau_phuber, "resolution": cfg.resolution,
            "theta_ref_largest_margin": [1.0, 0.0], "n_angles": cfg.n_angles, "n_radii": cfg.n_radii,
            "majority_levels": list(cfg.majority_levels),
            "population_symmetric_note": "symmetric noise needs rho < 1/2",
        },
        "report": report,
    })


_SAMPLE_STYLES = {
    "symmetric": dict(color="#000000", linestyle="-", marker="o"),
    "largest_margin": dict(color="#E69F00", linestyle="--", marker="s"),
    "target_large_margin": dict(color="#009E73", linestyle="none", marker="D", markerfacecolor="none"),
    "target_puller": dict(color="#CC79A7", linestyle=(0, (5, 1, 1, 1)), marker="v"),
    "target_penalizer": dict(color="#56B4E9", linestyle=(0, (1, 1)), marker="X"),
}
_POPULATION_STYLES = {
    "population_symmetric": dict(color="#000000", linestyle="-", marker="o"),
    "population_search": dict(color="#D55E00", linestyle="--", marker="*", markersize=9),
    "population_search_majority": dict(color="#0072B2", linestyle="-.", marker="^"),
}


def plot(data: dict):
    """Top row, samples fitted by the paper's SLSQP protocol; middle row, the same samples by converged
    fits: median clean test accuracy over trials for each flip strategy, with the interquartile band of
    symmetric flips. Bottom row, the population (exact): symmetric noise and the per-atom adversary,
    unrestricted and keeping every atom's majority label; where a tie lets a minimiser be worse than the
    accuracy every minimiser reaches, a hollow circle marks the tie's accuracy. One legend per row, to
    the right."""
    b = np.asarray(data["budgets"], float)
    prm = data["params"]
    fig, axes = new_figure(3, 3, width=4.4, height=2.9, sharex=True, sharey=True)
    taus = {"huberised": prm["tau_huberised"], "phuber": prm["tau_phuber"]}
    for row, (proto, pick) in enumerate((("SLSQP", lambda r: r), ("converged", lambda r: r["converged"]))):
        same = all(pick(data["results"][n]["largest_margin"])["stats"]["median"]
                   == pick(data["results"][n]["target_large_margin"])["stats"]["median"] for n in PAPER_LOSSES)
        for j, name in enumerate(PAPER_LOSSES):
            r = data["results"][name]
            ax = axes[row, j]
            st = pick(r["symmetric"])["stats"]
            ax.fill_between(b, arr(st["q25"]), arr(st["q75"]), color="0.5", alpha=0.2, linewidth=0,
                            label="symmetric: interquartile range")
            for s in data["sample_strategies"]:
                lab = data["strategy_labels"][s]
                if s == "target_large_margin" and same:
                    lab += ",\n  same medians as largest clean margin"
                ax.plot(b, arr(pick(r[s])["stats"]["median"]), label=lab, markersize=5, **_SAMPLE_STYLES[s])
            ax.set_title(f"{loss_label(name, taus.get(name))}: samples, {proto}", fontsize=9)
    for j, name in enumerate(PAPER_LOSSES):
        r = data["results"][name]
        ax = axes[2, j]
        ax.plot(b, arr(r["population_symmetric"]["clean_accuracy"]), markersize=5,
                label=data["strategy_labels"]["population_symmetric"], **_POPULATION_STYLES["population_symmetric"])
        for s in ("population_search", "population_search_majority"):
            ax.plot(b, arr(r[s]["clean_accuracy"]), label=data["strategy_labels"][s] + ": every minimiser",
                    **_POPULATION_STYLES[s])
            ties = [(x, t) for x, t in zip(b, r[s]["tie_accuracy"]) if t is not None]
            if ties:
                tx, ty = map(np.asarray, zip(*ties))
                ax.plot(tx, ty, linestyle="none", marker="o", markersize=9, markerfacecolor="none",
                        markeredgecolor=_POPULATION_STYLES[s]["color"], label=f"{data['strategy_labels'][s]}: a tie")
        ax.set_title(f"{loss_label(name, taus.get(name))}: population", fontsize=9)
        ax.set_xlabel("flip budget")
    for ax in axes.ravel():
        ax.axhline(0.5, color="0.6", linewidth=0.8, linestyle=":")
        ax.set_ylim(-0.03, 1.05)
    for row, lab in enumerate(("samples, SLSQP protocol:\nmedian clean test accuracy",
                               "samples, converged fits:\nmedian clean test accuracy",
                               "population:\nclean accuracy (exact)")):
        axes[row, 0].set_ylabel(lab)
    for row in range(3):
        handles = {}
        for ax in axes[row]:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(lab, h)
        if row == 1:
            continue  # the same strategies as the top row
        axes[row, 2].legend(handles.values(), handles.keys(), loc="center left", bbox_to_anchor=(1.02, 0.5),
                            fontsize=7, frameon=False)
    fig.suptitle(f"Adversarial vs symmetric label flips ({prm['trials']} trials per sample cell, n_train = "
                 f"{prm['n_train']}, γ = {prm['gamma']:.4g}; per-atom search on {{0, {prm['resolution']:g}, ..., 1}}³)\n"
                 "budget = fraction of the labels (samples) or of the population mass (population)", fontsize=9)
    return fig


SPEC = FigureSpec(
    "adversarial_flips",
    "beyond the paper: accuracy against the flip budget, adversarial vs symmetric flips (SLSQP and converged fits)",
    compute,
    plot,
    options={"trials": "clean samples per (strategy, budget) cell (default 50)"},
    cost=21,
)
