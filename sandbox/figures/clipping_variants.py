"""``clipping_variants``: the same logistic (S)GD loop with each kind of gradient clipping.

Every variant of :func:`sandbox.variants.clipping_variants` trains on the same noisy Long & Servedio
trials (the preset's rho, gamma, sigma, n_train, n_test); per variant: clean test accuracy per trial,
the fraction of clipped examples or steps, and the population prediction of the loss the variant
amounts to (``None`` where no loss is equivalent: global clipping of mini-batches with 1 < b < n).
Mini-batch indices come from ``default_rng([TAG_SGD, seed])``, independent of the trial streams.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .._checks import check_positive_int
from ..converged import fit_converged
from ..data import long_servedio
from ..io import to_jsonable
from ..linear import accuracy
from ..metrics import summarise
from ..population import minimise_population_risk, mixture_accuracy
from ..presets import Preset
from ..trials import long_servedio_trials
from ..variants import (
    clipping_variants,
    population_loss,
    sample_loss,
    train_variant,
    unit_norm,
)
from ._spec import FigureSpec, Progress, no_progress
from ._style import deg, new_figure, size_of, style

TAG_SGD = 4101  # mini-batch indices of the clipping variants: default_rng([TAG_SGD, seed])


@dataclass(frozen=True)
class ClippingVariantsSize:
    """Sizes of ``clipping_variants`` (and the variants of ``noise_sweep``)."""

    trials: int  # independent trials (fresh train and test draws of the preset's n_train / n_test)
    lr: float  # every variant on raw features: GD is stable for lr < 2/lambda_max, lambda_max <~ 1/16 here
    lr_unit: float  # variants on unit-norm features: lambda_max <~ 1/4 there, so lr = 30 would oscillate
    steps_gd: int  # full-batch variants; 200 steps reach GD's fixed point (angle to < 0.05 deg; checked at 3000)
    steps_sgd: int  # mini-batch variants (batches drawn with replacement)
    batch_sizes: tuple[int, ...]  # global-norm clipping of mini-batches of these sizes (plus the full batch)
    tau_global: float  # below the full-batch gradient norm at theta = 0 (~0.085 at rho = 0.2): clipping binds


SIZES = {
    "full": ClippingVariantsSize(trials=50, lr=30.0, lr_unit=5.0, steps_gd=200, steps_sgd=2000,
                                 batch_sizes=(1, 10, 100), tau_global=0.01),
    "smoke": ClippingVariantsSize(trials=4, lr=30.0, lr_unit=5.0, steps_gd=200, steps_sgd=1500,
                                  batch_sizes=(1, 10, 100), tau_global=0.01),
}


def variants_for(preset: Preset, cfg: ClippingVariantsSize):
    # per-example clipping uses the Huberised threshold: on unit-norm features it *is* L-clipping at it
    return clipping_variants(
        tau_norm=preset.tau_huberised, tau_global=cfg.tau_global, tau_huberised=preset.tau_huberised,
        tau_phuber=preset.tau_phuber, batch_sizes=cfg.batch_sizes,
    )


def lr_for(variant, cfg: ClippingVariantsSize) -> float:
    return cfg.lr_unit if variant.features == "unit" else cfg.lr


def _variant_population(variant, dist, rho, sigma) -> dict | None:
    eq = population_loss(variant, dist)
    if eq is None:
        return None
    loss, d = eq
    fit = minimise_population_risk(loss, d, rho=rho, n_angles=720, n_radii=121)
    return {"clean_accuracy": fit.clean_accuracy, "angle_deg": np.degrees(fit.angle), "radius": fit.radius,
            "mixture_accuracy": mixture_accuracy(fit.direction, dist, sigma)}


def _variant_converged(variant, X, y, Xt, yt) -> dict | None:
    loss = sample_loss(variant)
    if loss is None:
        return None
    fit = fit_converged(loss, unit_norm(X) if variant.features == "unit" else X, y)
    acc = accuracy(fit.theta, Xt, yt)
    return {"loss": loss.name, "tau": dict(loss.params).get("tau"), "test_accuracy": acc, "stats": summarise(acc),
            "angle_deg": deg(fit.theta), "frac_unbounded": float(np.mean(fit.unbounded))}


def compute(preset: Preset, *, seed: int = 0, trials: int | None = None,
                              progress: Progress = no_progress, executor=None) -> dict:
    """Train every clipping variant (:func:`sandbox.variants.clipping_variants`) on the same noisy
    Long & Servedio trials (preset's rho, gamma, sigma, n_train, n_test) and report clean test
    accuracy per trial, the fraction of clipped examples/steps, the population prediction of the
    variant's equivalent loss (``None`` where no loss is equivalent), and the converged fit of the
    equivalent margin loss on the same samples (:func:`sandbox.variants.sample_loss`; ``None`` where
    there is none): where (S)GD stops short of that minimiser, the two differ.
    """
    cfg = size_of(SIZES, preset)
    T = (cfg.trials if trials is None else check_positive_int("trials", trials))
    p = preset
    progress(f"drawing {T} trials (n_train={p.n_train}, rho={p.rho:g})")
    data = long_servedio_trials(trials=T, n_train=p.n_train, n_test=p.n_test, rho=p.rho, rng=seed,
                                gamma=p.gamma, sigma=p.sigma)
    dist = long_servedio(gamma=p.gamma)
    variants = variants_for(p, cfg)
    out = {}
    for v in variants:
        t0 = time.perf_counter()
        rng = np.random.default_rng([TAG_SGD, seed])
        lr = lr_for(v, cfg)
        tr = train_variant(v, data.X_train, data.y_train, lr=lr, steps_gd=cfg.steps_gd,
                           steps_sgd=cfg.steps_sgd, rng=rng)
        acc = accuracy(tr.theta, data.X_test, data.y_test)
        out[v.name] = {
            **v.to_dict(),
            "lr": lr,
            "steps": tr.steps,
            "test_accuracy": acc,
            "angle_deg": deg(tr.theta),
            "frac_clipped": tr.frac_clipped,
            "stats": summarise(acc),
            "population": _variant_population(v, dist, p.rho, p.sigma),
            "converged": _variant_converged(v, data.X_train, data.y_train, data.X_test, data.y_test),
        }
        if out[v.name]["converged"] is not None:
            gap = np.abs(out[v.name]["angle_deg"] - out[v.name]["converged"]["angle_deg"])
            out[v.name]["converged"]["max_angle_diff_deg"] = float(np.max(np.minimum(gap, 360 - gap)))
        progress(f"{v.name}: median accuracy {np.median(acc):.3f} ({time.perf_counter() - t0:.1f} s)")
    a0, a1 = out["none"]["angle_deg"], out["global_full"]["angle_deg"]
    agree = float(np.max(np.abs(a0 - a1)))
    report = [
        f"clipping_variants: preset {p.name!r}, rho={p.rho:g}, gamma={p.gamma:.4g}, {T} trials, seed {seed}; "
        f"logistic loss, lr={cfg.lr:g} (unit-norm features: {cfg.lr_unit:g}), GD {cfg.steps_gd} steps, "
        f"SGD {cfg.steps_sgd} steps",
        f"  {'variant':<34}{'tau':>6}{'median':>8}{'>=0.99':>8}{'clipped':>9}{'population':>11}{'(mixture)':>10}"
        f"{'converged':>10}",
    ]
    for v in variants:
        o = out[v.name]
        pop = o["population"]
        tau = "" if o["tau"] is None else f"{o['tau']:g}"
        report.append(
            f"  {v.label:<34}{tau:>6}{o['stats']['median']:>8.3f}{o['stats']['frac_success']:>8.2f}"
            f"{o['frac_clipped']:>9.2f}{'n/a' if pop is None else format(float(pop['clean_accuracy']), '.2f'):>11}"
            f"{'n/a' if pop is None else format(float(pop['mixture_accuracy']), '.3f'):>10}"
            f"{'n/a' if o['converged'] is None else format(o['converged']['stats']['median'], '.3f'):>10}"
        )
    report.append(f"  full-batch global clipping vs GD: largest angle difference {agree:.2e} deg over {T} trials")
    report.append("  converged = median clean accuracy of the converged fit of the equivalent margin loss "
                  "(sandbox.variants.sample_loss) on the same samples; largest angle between the variant's "
                  "weights and that fit (fraction of fits whose minimiser is at infinity, where (S)GD only drifts "
                  "towards it): " + ", ".join(
                      f"{n} {o['converged']['max_angle_diff_deg']:.2g} deg ({o['converged']['frac_unbounded']:.2f})"
                      for n, o in out.items() if o["converged"] is not None))
    return to_jsonable({
        "preset": p.name,
        "variants": [v.name for v in variants],
        "results": out,
        "gd_vs_global_full_max_angle_diff_deg": agree,
        "realised_rho": data.realised_rho,
        "params": {
            "trials": T, "seed": int(seed), "rho": p.rho, "gamma": p.gamma, "sigma": p.sigma,
            "n_train": p.n_train, "n_test": p.n_test, "loss": "logistic", "lr": cfg.lr,
            "lr_unit_norm_features": cfg.lr_unit, "steps_gd": cfg.steps_gd, "steps_sgd": cfg.steps_sgd,
            "batch_sizes": list(cfg.batch_sizes),
            "tau_global": cfg.tau_global, "tau_per_example": p.tau_huberised,
            "tau_huberised": p.tau_huberised, "tau_phuber": p.tau_phuber,
            "theta0": [0.0, 0.0], "bias": False, "sgd_batches": "i.i.d. with replacement",
            "population_grid": {"n_angles": 720, "n_radii": 121},
        },
        "report": report,
    })


def plot(data: dict):
    """Horizontal box plots of clean test accuracy per variant, every trial as a point, the population
    prediction of the equivalent loss as a star, the median of the converged fits of the equivalent
    margin loss on the same samples as a hollow diamond."""
    names = data["variants"]
    res = data["results"]
    prm = data["params"]
    fig, ax = new_figure(1, 1, width=8.2, height=0.42 * len(names) + 1.9)
    pos = np.arange(len(names))[::-1]
    accs = [np.asarray(res[n]["test_accuracy"], float) for n in names]
    bp = ax.boxplot(accs, positions=pos, orientation="horizontal", widths=0.55, patch_artist=True, showfliers=False,
                    medianprops=dict(color="black", linewidth=2))
    jitter = np.random.default_rng(0)
    for i, (n, a, y) in enumerate(zip(names, accs, pos)):
        s = style(n if n in ("logistic",) else "", i)
        bp["boxes"][i].set(facecolor=s["color"], alpha=0.25, edgecolor="black", hatch=("", "//", "..", "xx")[i % 4])
        ax.plot(a, y + jitter.uniform(-0.18, 0.18, a.size), linestyle="none", marker=s["marker"], markersize=3,
                alpha=0.35, color=s["color"], markeredgewidth=0)
        pop = res[n]["population"]
        if pop is not None:
            ax.plot([pop["clean_accuracy"]], [y], marker="*", markersize=13, markerfacecolor="white",
                    markeredgecolor="black", linestyle="none",
                    label="population minimiser of the equivalent loss, on the atoms" if i == 0 else None)
            ax.plot([pop["mixture_accuracy"]], [y - 0.3], marker="^", markersize=6, markerfacecolor="black",
                    markeredgecolor="black", linestyle="none",
                    label="... its direction on the Gaussian mixture (σ)" if i == 0 else None)
        conv = res[n].get("converged")
        if conv is not None:
            ax.plot([conv["stats"]["median"]], [y + 0.3], marker="D", markersize=5, markerfacecolor="white",
                    markeredgecolor="black", linestyle="none",
                    label="converged fit of the equivalent margin loss (median)" if not any(
                        res[m].get("converged") for m in names[:i]) else None)
        st = res[n]["stats"]
        ax.annotate(f"med {st['median']:.2f}, ≥0.99: {st['frac_success']:.0%}, clipped {res[n]['frac_clipped']:.0%}",
                    (1.0, y), xycoords=("axes fraction", "data"), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=7)
    labels = []
    for n in names:
        r = res[n]
        steps = f"{'GD' if r['batch_size'] is None else 'SGD'} {r['steps']}"
        tau = "" if r["tau"] is None else f", τ = {r['tau']:g}"
        labels.append(f"{r['label']}{tau}\n({steps} steps, lr {r['lr']:g})")
    ax.set_yticks(pos, labels, fontsize=7)
    ax.axvline(0.5, color="0.6", linewidth=0.8, linestyle=":")
    ax.set_xlim(0.35, 1.03)
    ax.set_xlabel("clean test accuracy")
    ax.set_ylabel("how the logistic-loss gradient is clipped")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2, fontsize=7, frameon=False)
    ax.set_title(
        f"Clipping variants of logistic-loss (S)GD on the Long & Servedio mixture: ρ = {prm['rho']:g}, "
        f"{prm['trials']} trials\n(preset {data['preset']!r}, n_train = {prm['n_train']}; "
        f"GD and full-batch global clipping differ by ≤ {data['gd_vs_global_full_max_angle_diff_deg']:.1e}°)",
        fontsize=9,
    )
    return fig

SPEC = FigureSpec(
    "clipping_variants",
    "beyond the paper: clean accuracy of logistic (S)GD under each kind of gradient clipping",
    compute,
    plot,
    options={"trials": "independent trials, each a fresh noisy sample (default 50)", "rho": "the symmetric noise rate (default: the preset's)"},
    cost=10,
)
