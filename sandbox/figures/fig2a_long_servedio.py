"""``fig2a_long_servedio``: paper Fig. 2a, clean test accuracy over trials on the Long & Servedio mixture.

Each trial: ``n_train`` points of the six-Gaussian mixture with labels flipped symmetrically at rate
``rho``, a bias-free linear model fit by the paper's protocol (SLSQP on the mean loss, at most 100
iterations from ``theta = 0``; :mod:`sandbox.slsqp`), and its accuracy on ``n_test`` clean points.
Trial ``t`` draws from child ``t`` of the seed, so ``--trials 100`` gives the first 100 of the 500.
"""

from __future__ import annotations

import time

import numpy as np

from .._checks import check_choice, check_positive_int
from ..converged import fit_converged
from ..io import to_jsonable
from ..linear import accuracy
from ..metrics import SUCCESS, summarise
from ..presets import Preset
from ..registry import PAPER_LOSSES, paper_losses
from ..slsqp import FTOL, fit_slsqp, fit_slsqp_scipy
from ..trials import long_servedio_trials
from ._spec import FigureSpec, Progress, no_progress
from ._style import loss_label, new_figure, style

PROTOCOLS = ("slsqp_batched", "slsqp_scipy", "converged")


def compute(
    preset: Preset,
    *,
    seed: int = 0,
    trials: int | None = None,
    progress: Progress = no_progress,
    executor=None,
    protocol: str = "slsqp_batched",
    ftol: float = FTOL,
) -> dict:
    """Paper Fig. 2a: SLSQP fits (at most ``preset.slsqp_maxiter`` iterations, from 0, mean loss)
    of a bias-free linear model on noisy Long & Servedio mixture samples, clean test accuracy.

    ``protocol="slsqp_batched"`` (default) runs SciPy's SLSQP iteration for all trials at once
    (:func:`sandbox.slsqp.fit_slsqp`: the same iterates and stopping rule per trial);
    ``protocol="slsqp_scipy"`` calls ``scipy.optimize.minimize(method="SLSQP")`` once per trial
    (:func:`sandbox.slsqp.fit_slsqp_scipy`, the reference); ``protocol="converged"`` replaces the
    paper's fits by the empirical-risk minimisers (:func:`sandbox.converged.fit_converged`), so that
    the verdict is the loss's, not the optimiser's. ``ftol`` is SLSQP's stopping tolerance (SciPy's
    default 1e-6 is the paper's protocol; a tight value such as 1e-12 shows how much of a spread comes
    from stopping early).

    Trial ``t`` draws its data from child ``t`` of ``seed`` (:func:`sandbox.trials.long_servedio_trials`),
    and every loss is fit on the same trials. ``trials`` overrides ``preset.trials``.
    """
    check_choice("protocol", protocol, PROTOCOLS)
    T = check_positive_int("trials", preset.trials if trials is None else trials)
    p = preset
    taus = {"huberised": p.tau_huberised, "phuber": p.tau_phuber}
    losses = paper_losses(**{f"tau_{k}": v for k, v in taus.items()})
    progress(f"drawing {T} trials (n_train={p.n_train}, n_test={p.n_test}, rho={p.rho:g})")
    data = long_servedio_trials(
        trials=T, n_train=p.n_train, n_test=p.n_test, rho=p.rho, rng=seed, gamma=p.gamma, sigma=p.sigma
    )
    acc, thetas, slsqp = {}, {}, {}
    for name, loss in losses.items():
        t0 = time.perf_counter()
        if protocol == "slsqp_batched":
            res = fit_slsqp(loss, data.X_train, data.y_train, maxiter=p.slsqp_maxiter, ftol=ftol)
            progress(f"{name}: {T}/{T} trials fitted ({time.perf_counter() - t0:.2f} s)")
        elif protocol == "slsqp_scipy":
            res = fit_slsqp_scipy(loss, data.X_train, data.y_train, maxiter=p.slsqp_maxiter, ftol=ftol,
                                  progress=lambda m, name=name: progress(f"{name}: {m}"))
        else:
            res = fit_converged(loss, data.X_train, data.y_train)
            progress(f"{name}: {T}/{T} converged fits ({time.perf_counter() - t0:.2f} s)")
        acc[name] = accuracy(res.theta, data.X_test, data.y_test)
        if protocol == "converged":  # the radius can be infinite: the direction is the classifier
            thetas[name] = res.direction * np.where(np.isfinite(res.radius), res.radius, 1.0)[:, None]
            slsqp[name] = {"n_converged": int(np.sum(res.converged)), "n_unbounded": int(np.sum(res.unbounded)),
                           "n_tie": int(np.sum(res.tie))}
        else:
            thetas[name] = res.theta
            slsqp[name] = {"n_success": int(np.sum(res.success)), "nit_median": float(np.median(res.nit)),
                           "nit_max": int(np.max(res.nit))}

    summary = {name: summarise(a) for name, a in acc.items()}
    report = [
        f"fig2a_long_servedio: preset {p.name!r}{'' if protocol != 'converged' else ', converged fits'}, "
        f"rho={p.rho:g}, taus {taus['huberised']:g}/"
        f"{taus['phuber']:g}, {T} trials, seed {seed}; realised rho mean "
        f"{np.mean(data.realised_rho):.4f}",
        f"  {'loss':<22}{'median':>8}{'>=0.99':>8}   mean ± std (n)",
    ]
    for name in PAPER_LOSSES:
        s = summary[name]
        std = "n/a" if s["std"] is None else f"{s['std']:.3f}"
        report.append(f"  {name:<22}{s['median']:>8.3f}{s['frac_success']:>8.3f}   {s['mean']:.3f} ± {std} ({s['n']})")
    return to_jsonable({
        "preset": p.name,
        "taus": taus,
        "test_accuracy": acc,
        "realised_rho": data.realised_rho,
        "summary": summary,
        "summary_note": (
            "std is the sample standard deviation over trials (ddof=1), not the variance; "
            f"frac_success is the fraction of trials with clean test accuracy >= {SUCCESS:g}"
        ),
        "theta": thetas,
        "slsqp": slsqp,
        "protocol": protocol,
        "params": {
            "slsqp_ftol": ftol,
            "trials": T,
            "seed": int(seed),
            "rho": p.rho,
            "gamma": p.gamma,
            "sigma": p.sigma,
            "n_train": p.n_train,
            "n_test": p.n_test,
            "slsqp_maxiter": p.slsqp_maxiter,
            "theta0": [0.0, 0.0],
            "bias": False,
        },
        "report": report,
    })


def plot(data: dict):
    """Box plot of clean test accuracy per loss with every trial overlaid as a jittered point.

    The jitter is drawn from a fixed local generator, so the PNG is a function of the JSON.
    """
    taus = data["taus"]
    summary = data["summary"]
    fig, ax = new_figure(1, 1, width=6.4, height=4.4)
    accs = [np.asarray(data["test_accuracy"][n], dtype=float) for n in PAPER_LOSSES]
    pos = np.arange(1, len(PAPER_LOSSES) + 1)
    # box on the left of each slot, every trial as a jittered point on the right (the data are bimodal)
    bp = ax.boxplot(accs, positions=pos - 0.15, widths=0.3, patch_artist=True, showfliers=False,
                    medianprops=dict(color="black", linewidth=2))
    hatches = ("", "//", "..")
    for patch, name, h in zip(bp["boxes"], PAPER_LOSSES, hatches):
        patch.set(facecolor=style(name)["color"], alpha=0.25, hatch=h, edgecolor="black")
    jitter = np.random.default_rng(0)
    ticks = []
    for x, a, name in zip(pos, accs, PAPER_LOSSES):
        s = style(name)
        ax.plot(x + 0.2 + jitter.uniform(-0.1, 0.1, a.size), a, linestyle="none", marker=s["marker"],
                markersize=3.5, alpha=0.45, color=s["color"], markeredgewidth=0)
        m = summary[name]
        std = "n/a" if m["std"] is None else f"{m['std']:.2f}"
        ticks.append(f"{loss_label(name, taus.get(name))}\nmedian {m['median']:.2f}, ≥ 0.99 in {m['frac_success']:.0%}\n"
                     f"mean {m['mean']:.2f} ± {std} (n = {m['n']})")
    ax.set_xticks(pos, ticks, fontsize=8)
    lo = min(0.4, min(float(a.min()) for a in accs))
    ax.set_ylim(lo - 0.04, 1.03)
    ax.axhline(0.5, color="0.6", linewidth=0.8, linestyle=":")
    prm = data["params"]
    rho_mean = float(np.mean(data["realised_rho"]))
    fitted = ("converged fits (empirical-risk minimisers)" if data["protocol"] == "converged"
              else "SLSQP, ≤ %d iterations, from θ = 0" % prm["slsqp_maxiter"])
    ax.set(xlabel=f"loss ({fitted})",
           ylabel="clean test accuracy",
           title=(f"Long & Servedio mixture, ρ = {prm['rho']:g} (realised {rho_mean:.3f}), "
                  f"{prm['trials']} trials\npreset {data['preset']!r}, n_train = {prm['n_train']}, "
                  f"n_test = {prm['n_test']}; mean ± std (ddof = 1)"))
    ax.title.set_fontsize(9)
    return fig


SPEC = FigureSpec(
    "fig2a_long_servedio",
    "paper Fig. 2a: clean test accuracy over trials on the Long & Servedio mixture (SLSQP)",
    compute,
    plot,
    options={"trials": "independent trials, each a fresh noisy sample (default: the preset's, 500)",
             "rho": "the symmetric noise rate of the training labels (default: the preset's)",
             "protocol": "slsqp (the paper's, default) or converged (the empirical-risk minimisers)"},
    cost=2.0,
)
