"""``noise_sweep``: median and interquartile range of clean accuracy against rho, losses and clipping variants.

The three losses by the paper's SLSQP protocol (:func:`sandbox.slsqp.fit_slsqp`), and the norm-clipping
variants of ``clipping_variants`` by :func:`sandbox.gd.train_gd` (same lr, steps and thresholds).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .._checks import check_positive_int
from ..converged import fit_converged
from ..io import to_jsonable
from ..linear import accuracy
from ..metrics import summarise
from ..presets import Preset
from ..registry import paper_losses
from ..slsqp import fit_slsqp
from ..trials import trials_over_rho
from ..variants import train_variant
from ._spec import FigureSpec, Progress, no_progress
from ._style import arr, loss_label, new_figure, size_of, style
from .clipping_variants import SIZES as VARIANT_SIZES
from .clipping_variants import TAG_SGD, lr_for, variants_for


@dataclass(frozen=True)
class NoiseSweepSize:
    """Sizes of ``noise_sweep``; the clipping variants use ``clipping_variants``' lr, steps and taus."""

    rho: tuple[float, ...]
    trials: int  # per noise rate, for the three losses (SLSQP protocol, vectorised)
    variant_trials: int  # per noise rate, for the clipping variants (train_gd), the first trials of the same draws
    variants: tuple[str, ...]  # clipping variants with no loss of the three equivalent to them


SIZES = {
    "full": NoiseSweepSize(
        rho=(0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.49),
        trials=100, variant_trials=16, variants=("per_example_raw", "global_b1", "global_b10"),
    ),
    "smoke": NoiseSweepSize(rho=(0.0, 0.2, 0.45), trials=6, variant_trials=3,
                            variants=("per_example_raw", "global_b1", "global_b10")),
}


def compute(preset: Preset, *, seed: int = 0, trials: int | None = None,
                        progress: Progress = no_progress, executor=None) -> dict:
    """Clean test accuracy against rho: the three losses by the SLSQP protocol
    (:func:`sandbox.slsqp.fit_slsqp`) and by converged fits (:func:`sandbox.converged.fit_converged`,
    methods ``<loss>_converged``), and the norm-clipping variants of ``clipping_variants``
    by :func:`sandbox.gd.train_gd` (same lr, steps and thresholds). Per rho: median, quartiles,
    mean, std and fraction ``>= 0.99`` over trials. ``trials`` overrides the per-rho count (the variants
    use at most that many).

    L-clipping, CL-clipping and full-batch global clipping are left out of the sweep: they reach the
    Huberised, PHuber and logistic minimisers respectively (Lemmas 2 and 5; same direction as GD), so
    the loss curves already show them (``clipping_variants`` checks this at the preset's rho).
    """
    cfg = size_of(SIZES, preset)
    vcfg = size_of(VARIANT_SIZES, preset)
    p = preset
    K = (cfg.trials if trials is None else check_positive_int("trials", trials))
    Kv = min(cfg.variant_trials, K)
    rho = np.asarray(cfg.rho, float)
    t0 = time.perf_counter()
    d = trials_over_rho(rho, trials=K, n_train=p.n_train, n_test=p.n_test, rng=seed, gamma=p.gamma, sigma=p.sigma)
    X, y, Xt, yt = d.X_train, d.y_train, d.X_test, d.y_test
    progress(f"{rho.size} noise rates x {K} trials drawn ({time.perf_counter() - t0:.1f} s)")
    losses = paper_losses(tau_huberised=p.tau_huberised, tau_phuber=p.tau_phuber)
    methods = {}
    for name, loss in losses.items():
        th = fit_slsqp(loss, X, y, maxiter=p.slsqp_maxiter).theta
        acc = accuracy(th, Xt, yt).reshape(rho.size, K)
        methods[name] = {"label": loss_label(name, dict(loss.params).get("tau")), "kind": "loss",
                         "trials": K, "test_accuracy": acc, "stats": summarise(acc, axis=1)}
    for name, loss in losses.items():
        th = fit_converged(loss, X, y).theta
        acc = accuracy(th, Xt, yt).reshape(rho.size, K)
        methods[f"{name}_converged"] = {"label": loss_label(name, dict(loss.params).get("tau")),
                                        "kind": "loss_converged", "trials": K, "test_accuracy": acc,
                                        "stats": summarise(acc, axis=1)}
    progress(f"losses fitted ({time.perf_counter() - t0:.1f} s)")
    variants = {v.name: v for v in variants_for(p, vcfg)}
    sl = np.concatenate([np.arange(i * K, i * K + Kv) for i in range(rho.size)])
    for vname in cfg.variants:
        v = variants[vname]
        rng = np.random.default_rng([TAG_SGD, seed])
        tr = train_variant(v, X[sl], y[sl], lr=lr_for(v, vcfg), steps_gd=vcfg.steps_gd, steps_sgd=vcfg.steps_sgd,
                           rng=rng)
        acc = accuracy(tr.theta, Xt[sl], yt[sl]).reshape(rho.size, Kv)
        methods[vname] = {**v.to_dict(), "kind": "clipping", "lr": lr_for(v, vcfg), "steps": tr.steps, "trials": Kv,
                          "test_accuracy": acc, "stats": summarise(acc, axis=1)}
        progress(f"{vname} trained ({time.perf_counter() - t0:.1f} s)")
    report = [f"noise_sweep: gamma={p.gamma:.4g}, n_train={p.n_train}; losses {K} trials per rho (SLSQP, and "
              "converged: *_converged), "
              f"clipping variants {Kv} trials per rho (lr={vcfg.lr:g}); median clean test accuracy",
              f"  {'rho':<20}" + "".join(f"{r:>7g}" for r in rho)]
    for name, m in methods.items():
        report.append(f"  {name:<20.20}" + "".join(f"{v:>7.3f}" for v in m["stats"]["median"]))
    return to_jsonable({
        "preset": p.name,
        "rho": rho,
        "methods": methods,
        "params": {
            "trials_losses": K, "trials_variants": Kv, "seed": int(seed), "gamma": p.gamma, "sigma": p.sigma,
            "n_train": p.n_train, "n_test": p.n_test, "slsqp_maxiter": p.slsqp_maxiter,
            "tau_huberised": p.tau_huberised, "tau_phuber": p.tau_phuber,
            "lr": vcfg.lr, "steps_gd": vcfg.steps_gd, "steps_sgd": vcfg.steps_sgd, "tau_global": vcfg.tau_global,
            "tau_per_example": p.tau_huberised, "variant_loss": "logistic",
            "fitter": "sandbox.slsqp.fit_slsqp and sandbox.converged.fit_converged (losses); sandbox.gd.train_gd "
                      "(variants)",
        },
        "report": report,
    })


def plot(data: dict):
    """Left: the three losses; right: the clipping variants (logistic and PHuber medians thin, for
    reference). Lines: medians; bands: interquartile ranges, drawn light and edged by thin lines of the
    method's style so that overlapping bands stay readable (also in grayscale)."""
    rho = np.asarray(data["rho"], float)
    prm = data["params"]
    fig, axes = new_figure(1, 3, width=4.6, height=3.9, sharey=True)
    panel = {"loss": axes[0], "loss_converged": axes[1], "clipping": axes[2]}
    k = 0
    lowest = 0.5
    for name, m in data["methods"].items():
        ax = panel[m["kind"]]
        base = name.removesuffix("_converged")
        s = style(base, k if m["kind"] == "clipping" else 0)
        st = m["stats"]
        q25, q75 = arr(st["q25"]), arr(st["q75"])
        lowest = min(lowest, float(np.nanmin(q25)))
        ax.fill_between(rho, q25, q75, color=s["color"], alpha=0.12, linewidth=0)
        for q in (q25, q75):
            ax.plot(rho, q, color=s["color"], linestyle=s["linestyle"], linewidth=0.6, alpha=0.7)
        lab = m["label"] if m["kind"] != "clipping" else f"{m['label']}, τ = {m['tau']:g}"
        ax.plot(rho, arr(st["median"]), label=f"{lab} (n = {m['trials']})", markersize=5, **s)
        if m["kind"] == "loss" and name in ("logistic", "phuber"):
            axes[2].plot(rho, arr(st["median"]), color=s["color"], linestyle=s["linestyle"], linewidth=0.8,
                         alpha=0.6, label=f"{m['label']} median (SLSQP, reference)")
        k += 1
    titles = ("losses, the paper's SLSQP protocol", "losses, converged fits",
              f"norm clipping of logistic (S)GD, lr = {prm['lr']:g}")
    for ax, title in zip(axes, titles):
        ax.axhline(0.5, color="0.6", linewidth=0.8, linestyle=":")
        ax.set(xlabel="noise rate ρ (symmetric)", title=title, ylim=(min(0.3, lowest - 0.03), 1.03))
        ax.legend(fontsize=6.5, loc="lower left")
    axes[0].set_ylabel("clean test accuracy: median, band = IQR")
    fig.suptitle(f"Noise sweep on the Long & Servedio mixture (γ = {prm['gamma']:.4g}, n_train = {prm['n_train']}; "
                 f"preset {data['preset']!r})", fontsize=9)
    return fig


SPEC = FigureSpec(
    "noise_sweep",
    "beyond the paper: median and IQR clean accuracy against rho for the losses (SLSQP and converged) and clipping variants",
    compute,
    plot,
    options={"trials": "trials per noise rate for the losses (default 100; the clipping variants use at most 16 of them)"},
    cost=11,
)
