"""The paper's synthetic figures: the losses (fig1), Long & Servedio (Fig. 2a), Ding's outliers (Fig. 2b).

Each figure is a :class:`~sandbox.registry.FigureSpec`: ``compute(preset, *, seed, trials, progress)``
returns plain numbers (JSON-serialisable), ``plot(data)`` draws them. ``plot`` reads nothing but
``data``, so every PNG can be redrawn from its JSON.

==========================  =================================================================
figure                      what it computes
==========================  =================================================================
``fig1_losses``             logistic, Huberised and PHuber losses and derivatives, in the
                            margin and in probability, switch points marked; per-example
                            gradient norm of a misclassified point ``x = -r u`` as ``r`` grows
                            (Prop. 8)
``fig2a_long_servedio``     clean test accuracy of SLSQP fits over independent trials of the
                            six-Gaussian Long & Servedio mixture (paper Fig. 2a)
``fig2b_outliers``          empirical risk against ``theta in [-2, 2]`` on Ding's 1-D data,
                            without and with outliers, and each curve's minimiser (Fig. 2b)
==========================  =================================================================
"""

from __future__ import annotations

import time

import numpy as np
from scipy import optimize
from scipy.special import expit, logit

from . import base_losses
from ._checks import check_positive_int
from .clipping import safe_norm
from .data import ding_outliers
from .io import to_jsonable
from .linear import mean_grad, per_example_grads, risk
from .losses import huberised_logistic_switch, make_loss, paper_losses, phuber_logistic_switch
from .plotting import LABELS, new_figure, style
from .presets import Preset
from .registry import FigureSpec, Progress, no_progress
from .fastfit import fit_linear_trials
from .train import fit_slsqp
from .trials import long_servedio_trials, test_accuracy

__all__ = [
    "FIGURES",
    "LOSS_ORDER",
    "paper_losses",
    "compute_fig1",
    "plot_fig1",
    "compute_fig2a",
    "plot_fig2a",
    "compute_fig2b",
    "plot_fig2b",
    "summarise_accuracies",
]

LOSS_ORDER = ("logistic", "huberised", "partially_huberised")
ACCURACY_THRESHOLD = 0.99  # "~100%": at most 5 of 500 clean test points wrong
WINDOW_EDGE_TOL = 1e-6  # a refined minimiser this close to -2 or 2 is the window's edge (Brent's xatol: 1e-10)
PROGRESS_EVERY_S = 1.0  # seconds between progress lines inside a long fit loop


def _label(name: str, taus: dict) -> str:
    """Legend label with the loss's tau, e.g. ``Huberised (tau = 0.26)``."""
    tau = taus.get(name)
    if tau is None:
        return LABELS[name]
    base = "PHuber" if name == "partially_huberised" else LABELS[name]
    note = ", plain logistic" if name == "huberised" and tau >= 1.0 else ""
    return f"{base} (τ = {tau:g}{note})"


def _curve_style(name: str, **extra) -> dict:
    s = style(name)
    s.update(extra)
    return s


def _title_preset(data: dict) -> str:
    return f"preset {data['preset']!r}"


# ==================================================================================================
# fig1_losses
# ==================================================================================================


def compute_fig1(preset: Preset, *, seed: int = 0, trials: int | None = None, progress: Progress = no_progress) -> dict:
    """Losses and derivatives in the margin ``z`` and in the probability ``p = sigmoid(z)``, and the
    per-example gradient norm of a misclassified point of growing norm (Prop. 8).

    Uses the preset's Fig. 2a thresholds. Deterministic (``seed`` and ``trials`` are unused).

    Probability view: logistic is the log loss ``-log p``; PHuber is its partial Huberisation
    (Eq. 12); the Huberised loss, Huberised in the *margin*, is ``phi_tau(logit p)`` with
    ``d/dp = phi_tau'(z) / (p (1 - p))``, which is still unbounded as ``p -> 0``.

    Prop. 8 panel: ``u = (1, 1)/sqrt 2``, ``theta = u`` (unit norm), ``x = -r u`` with label ``+1``,
    so the margin is ``z = -r`` and the per-example gradient norm is ``|phi'(-r)| * r``.
    """
    taus = {"huberised": preset.tau_huberised, "partially_huberised": preset.tau_partially_huberised}
    losses = paper_losses(tau_huberised=taus["huberised"], tau_partially_huberised=taus["partially_huberised"])
    progress("losses in the margin and in probability")

    z = np.linspace(-6.0, 6.0, 481)
    margin = {name: dict(zip(("value", "deriv"), loss(z))) for name, loss in losses.items()}

    p = np.linspace(0.002, 0.998, 499)
    zp = logit(p)
    pq = p * (1.0 - p)
    v_log, d_log = base_losses.log_loss(p)
    v_ph, d_ph = base_losses.phuber_log_loss(p, tau=taus["partially_huberised"])
    v_hu, dz_hu = losses["huberised"](zp)
    prob = {
        "logistic": {"value": v_log, "deriv": d_log},
        "huberised": {"value": v_hu, "deriv": dz_hu / pq},
        "partially_huberised": {"value": v_ph, "deriv": d_ph},
    }

    z0_h = huberised_logistic_switch(tau=taus["huberised"])  # -inf when tau >= 1 (nothing clipped)
    z0_ph = phuber_logistic_switch(tau=taus["partially_huberised"])
    switch_z = {"huberised": z0_h if np.isfinite(z0_h) else None, "partially_huberised": z0_ph}
    switch_p = {
        "huberised": float(expit(z0_h)) if np.isfinite(z0_h) else None,  # = 1 - tau
        "partially_huberised": 1.0 / taus["partially_huberised"],
    }

    progress("per-example gradient norms of a misclassified point (Prop. 8)")
    r = np.logspace(-2, 2, 161)
    u = np.array([1.0, 1.0]) / np.sqrt(2.0)
    theta = u.copy()
    X = -r[:, None] * u[None, :]
    y = np.ones_like(r)
    prop8 = {name: safe_norm(per_example_grads(loss, theta, X, y)) for name, loss in losses.items()}

    return to_jsonable({
        "preset": preset.name,
        "taus": taus,
        "margin": {"z": z, "loss": margin},
        "probability": {"p": p, "loss": prob},
        "switch_margin": switch_z,
        "switch_probability": switch_p,
        "prop8": {
            "r": r,
            "grad_norm": prop8,
            "note": "x = -r u, label +1, theta = u, u = (1, 1)/sqrt(2): margin z = -r, grad norm |phi'(-r)| r",
        },
        "params": {"z_range": [-6.0, 6.0], "p_range": [0.002, 0.998], "r_range": [0.01, 100.0], "u": u, "theta": theta},
    })


def plot_fig1(data: dict):
    """Top: loss and derivative in the margin; bottom: in probability; right: Prop. 8 (log-log)."""
    taus = data["taus"]
    fig, axes = new_figure(2, 3, width=4.3, height=3.3)
    gs = axes[0, 2].get_gridspec()
    axes[0, 2].remove()
    axes[1, 2].remove()
    ax8 = fig.add_subplot(gs[:, 2])

    def curves(ax, x, block, key, every):
        for name in LOSS_ORDER:
            ax.plot(x, block[name][key], label=_label(name, taus), markevery=every, markersize=4,
                    **_curve_style(name))

    def mark_switches(ax, x, block, key, switches):
        for name, x0 in switches.items():
            if x0 is None:
                continue
            xs = np.asarray(x)
            i = int(np.argmin(np.abs(xs - x0)))
            s = style(name)
            ax.axvline(x0, color=s["color"], linestyle=":", linewidth=1)
            ax.plot([xs[i]], [block[name][key][i]], marker="o", markersize=7, markerfacecolor="white",
                    markeredgecolor=s["color"], linestyle="none")

    z, mz = data["margin"]["z"], data["margin"]["loss"]
    p, mp = data["probability"]["p"], data["probability"]["loss"]
    sz, sp = data["switch_margin"], data["switch_probability"]

    ax = axes[0, 0]
    curves(ax, z, mz, "value", 60)
    mark_switches(ax, z, mz, "value", sz)
    ax.set(xlabel="margin z = y·<θ, x>", ylabel="loss φ(z)", title="loss in the margin", ylim=(-0.2, 6.5))
    ax.legend(fontsize=7, loc="upper right")

    ax = axes[0, 1]
    curves(ax, z, mz, "deriv", 60)
    mark_switches(ax, z, mz, "deriv", sz)
    if sz["huberised"] is not None:
        ax.axhline(-taus["huberised"], color="0.5", linewidth=0.8, linestyle="--")
        ax.annotate("−τ: L-clipping", (z[0], -taus["huberised"]), textcoords="offset points", xytext=(2, 3), fontsize=7)
    ax.set(xlabel="margin z", ylabel="φ'(z)", title="derivative in the margin", ylim=(-1.1, 0.1))

    ax = axes[1, 0]
    curves(ax, p, mp, "value", 50)
    mark_switches(ax, p, mp, "value", sp)
    ax.set(xlabel="probability of the observed label p = σ(z)", ylabel="loss", title="loss in probability",
           ylim=(-0.2, 6.5))

    ax = axes[1, 1]
    curves(ax, p, mp, "deriv", 50)
    mark_switches(ax, p, mp, "deriv", sp)
    tau_ph = taus["partially_huberised"]
    ax.axhline(-tau_ph, color="0.5", linewidth=0.8, linestyle="--")
    ax.annotate("−τ: CL-clipping", (0.4, -tau_ph), textcoords="offset points", xytext=(2, -10), fontsize=7)
    ax.set(xlabel="probability p", ylabel="dφ/dp", title="derivative in probability",
           ylim=(-max(10.0, 3 * tau_ph), 0.5))

    r, gn = data["prop8"]["r"], data["prop8"]["grad_norm"]
    for name in LOSS_ORDER:
        g = np.asarray([np.nan if v is None else v for v in gn[name]], dtype=float)
        g = np.where(g > 0, g, np.nan)
        ax8.loglog(r, g, label=_label(name, taus), markevery=20, markersize=4, **_curve_style(name))
    ax8.set(xlabel="norm r of the misclassified point x = −r·u", ylabel="per-example gradient norm |φ'(z)|·||x||",
            title="feature outlier (Prop. 8): θ = u, y = +1", ylim=(1e-6, 1e3))
    ax8.legend(fontsize=7, loc="lower left")
    fig.suptitle(f"The three losses of Figure 2 ({_title_preset(data)}); open circles: switch points")
    return fig


# ==================================================================================================
# fig2a_long_servedio
# ==================================================================================================


def summarise_accuracies(acc) -> dict:
    """Median, mean, sample std (``ddof=1``; ``None`` for one trial), n and the fraction ``>= 0.99``."""
    acc = np.asarray(acc, dtype=float)
    n = acc.size
    return {
        "median": float(np.median(acc)),
        "mean": float(np.mean(acc)),
        "std": float(np.std(acc, ddof=1)) if n > 1 else None,
        "n": int(n),
        f"frac_ge_{ACCURACY_THRESHOLD:g}": float(np.mean(acc >= ACCURACY_THRESHOLD)),
    }


def compute_fig2a(
    preset: Preset,
    *,
    seed: int = 0,
    trials: int | None = None,
    progress: Progress = no_progress,
    protocol: str = "slsqp_vectorised",
    ftol: float = 1e-6,
) -> dict:
    """Paper Fig. 2a: SLSQP fits (at most ``preset.slsqp_maxiter`` iterations, from 0, mean loss)
    of a bias-free linear model on noisy Long & Servedio mixture samples, clean test accuracy.

    ``protocol="slsqp_vectorised"`` (default) runs SciPy's SLSQP iteration for all trials at once
    (:func:`sandbox.fastfit.fit_linear_trials`: same iterates and stopping rule per trial, verified
    trial by trial against SciPy in the tests and by ``python -m sandbox bench``);
    ``protocol="scipy"`` calls ``scipy.optimize.minimize(method="SLSQP")`` once per trial.
    ``ftol`` is SLSQP's stopping tolerance (SciPy's default 1e-6 is the paper's protocol; a tight
    value such as 1e-12 shows how much of a spread comes from stopping early).

    Trial ``t`` draws its data from child ``t`` of ``seed`` (:func:`sandbox.trials.long_servedio_trials`),
    and every loss is fit on the same trials. ``trials`` overrides ``preset.trials``.
    """
    if protocol not in ("slsqp_vectorised", "scipy"):
        raise ValueError(f"protocol={protocol!r} is unknown; choose 'slsqp_vectorised' or 'scipy'")
    T = check_positive_int("trials", preset.trials if trials is None else trials)
    p = preset
    taus = {"huberised": p.tau_huberised, "partially_huberised": p.tau_partially_huberised}
    losses = paper_losses(tau_huberised=taus["huberised"], tau_partially_huberised=taus["partially_huberised"])
    progress(f"drawing {T} trials (n_train={p.n_train}, n_test={p.n_test}, rho={p.rho:g})")
    data = long_servedio_trials(
        trials=T, n_train=p.n_train, n_test=p.n_test, rho=p.rho, seed=seed, gamma=p.gamma, sigma=p.sigma
    )
    acc, thetas, slsqp = {}, {}, {}
    for name, loss in losses.items():
        t0 = last = time.perf_counter()
        if protocol == "slsqp_vectorised":
            res = fit_linear_trials(loss, data.X_train, data.y_train, maxiter=p.slsqp_maxiter, ftol=ftol)
            th, nit, ok = res.theta, res.nit, res.success
            progress(f"{name}: {T}/{T} trials fitted ({time.perf_counter() - t0:.2f} s)")
        else:
            th = np.empty((T, data.X_train.shape[-1]))
            nit = np.empty(T, dtype=int)
            ok = np.empty(T, dtype=bool)
            for t in range(T):
                r = fit_slsqp(loss, data.X_train[t], data.y_train[t], maxiter=p.slsqp_maxiter, ftol=ftol)
                th[t], nit[t], ok[t] = r.theta, r.nit, r.success
                now = time.perf_counter()
                if t + 1 == T or now - last >= PROGRESS_EVERY_S:
                    progress(f"{name}: {t + 1}/{T} trials fitted ({now - t0:.1f} s)")
                    last = now
        acc[name] = test_accuracy(th, data.X_test, data.y_test)
        thetas[name] = th
        slsqp[name] = {"n_success": int(np.sum(ok)), "nit_median": float(np.median(nit)), "nit_max": int(np.max(nit))}

    summary = {name: summarise_accuracies(a) for name, a in acc.items()}
    key = f"frac_ge_{ACCURACY_THRESHOLD:g}"
    report = [
        f"fig2a_long_servedio: preset {p.name!r}, rho={p.rho:g}, taus {taus['huberised']:g}/"
        f"{taus['partially_huberised']:g}, {T} trials, seed {seed}; realised rho mean "
        f"{np.mean(data.realised_rho):.4f}",
        f"  {'loss':<22}{'median':>8}{'>=0.99':>8}   mean ± std (n)",
    ]
    for name in LOSS_ORDER:
        s = summary[name]
        std = "n/a" if s["std"] is None else f"{s['std']:.3f}"
        report.append(f"  {name:<22}{s['median']:>8.3f}{s[key]:>8.3f}   {s['mean']:.3f} ± {std} ({s['n']})")
    return to_jsonable({
        "preset": p.name,
        "taus": taus,
        "test_accuracy": acc,
        "realised_rho": data.realised_rho,
        "summary": summary,
        "summary_note": (
            "std is the sample standard deviation over trials (ddof=1), not the variance; "
            f"{key} is the fraction of trials with clean test accuracy >= {ACCURACY_THRESHOLD:g}"
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


def plot_fig2a(data: dict):
    """Box plot of clean test accuracy per loss with every trial overlaid as a jittered point.

    The jitter is drawn from a fixed local generator, so the PNG is a function of the JSON.
    """
    taus = data["taus"]
    summary = data["summary"]
    key = next(k for k in summary[LOSS_ORDER[0]] if k.startswith("frac_ge_"))
    fig, ax = new_figure(1, 1, width=6.4, height=4.4)
    accs = [np.asarray(data["test_accuracy"][n], dtype=float) for n in LOSS_ORDER]
    pos = np.arange(1, len(LOSS_ORDER) + 1)
    # box on the left of each slot, every trial as a jittered point on the right (the data are bimodal)
    bp = ax.boxplot(accs, positions=pos - 0.15, widths=0.3, patch_artist=True, showfliers=False,
                    medianprops=dict(color="black", linewidth=2))
    hatches = ("", "//", "..")
    for patch, name, h in zip(bp["boxes"], LOSS_ORDER, hatches):
        patch.set(facecolor=style(name)["color"], alpha=0.25, hatch=h, edgecolor="black")
    jitter = np.random.default_rng(0)
    ticks = []
    for x, a, name in zip(pos, accs, LOSS_ORDER):
        s = style(name)
        ax.plot(x + 0.2 + jitter.uniform(-0.1, 0.1, a.size), a, linestyle="none", marker=s["marker"],
                markersize=3.5, alpha=0.45, color=s["color"], markeredgewidth=0)
        m = summary[name]
        std = "n/a" if m["std"] is None else f"{m['std']:.2f}"
        ticks.append(f"{_label(name, taus)}\nmedian {m['median']:.2f}, ≥ 0.99 in {m[key]:.0%}\n"
                     f"mean {m['mean']:.2f} ± {std} (n = {m['n']})")
    ax.set_xticks(pos, ticks, fontsize=8)
    lo = min(0.4, min(float(a.min()) for a in accs))
    ax.set_ylim(lo - 0.04, 1.03)
    ax.axhline(0.5, color="0.6", linewidth=0.8, linestyle=":")
    prm = data["params"]
    rho_mean = float(np.mean(data["realised_rho"]))
    ax.set(xlabel="loss (SLSQP, ≤ %d iterations, from θ = 0)" % prm["slsqp_maxiter"],
           ylabel="clean test accuracy",
           title=(f"Long & Servedio mixture, ρ = {prm['rho']:g} (realised {rho_mean:.3f}), "
                  f"{prm['trials']} trials\n{_title_preset(data)}, n_train = {prm['n_train']}, "
                  f"n_test = {prm['n_test']}; mean ± std (ddof = 1)"))
    ax.title.set_fontsize(9)
    return fig


# ==================================================================================================
# fig2b_outliers
# ==================================================================================================


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


def compute_fig2b(preset: Preset, *, seed: int = 0, trials: int | None = None, progress: Progress = no_progress) -> dict:
    """Paper Fig. 2b: risk against ``theta`` on Ding's 1-D data, inliers alone and with outliers.

    One draw of the data from ``numpy.random.default_rng(seed)`` (``trials`` is unused). For each
    curve: the grid minimiser, a refined one, the risk and slope at ``theta = 0``, and — for the
    convex losses — the bound ``R(0) - min R <= 2 |phi'(0)| |mean(y x)|`` on ``[-2, 2]`` (from
    ``phi(z) >= phi(0) + phi'(0) z``), which makes ``theta = 0`` near-optimal when ``mean(y x) ~ 0``.
    """
    p = preset
    taus = {"huberised": p.tau_huberised_outliers, "partially_huberised": p.tau_partially_huberised_outliers}
    losses = paper_losses(tau_huberised=taus["huberised"], tau_partially_huberised=taus["partially_huberised"])
    progress(f"Ding data: {p.n_inliers} inliers and {p.n_outliers} outliers per class, seed {seed}")
    inl, out = ding_outliers(rng=np.random.default_rng(seed), n_inliers=p.n_inliers, n_outliers=p.n_outliers)
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
            minimisers[key][name] = _minimiser(loss, theta, c, X, y, convex=name != "partially_huberised")
    mean_yx = {k: float(np.mean(y * X[:, 0])) for k, (X, y) in sets.items()}
    report = [
        f"fig2b_outliers: preset {p.name!r}, taus {taus['huberised']:g}/{taus['partially_huberised']:g}, "
        f"seed {seed}; mean(y x): inliers {mean_yx['inliers']:+.4f}, with outliers {mean_yx['with_outliers']:+.4f}",
        f"  {'loss':<22}{'argmin inliers':>16}{'argmin +outliers':>18}{'R(0) - min R':>15}",
    ]
    for name in LOSS_ORDER:
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


def plot_fig2b(data: dict):
    """One panel per loss: risk without (solid) and with (dashed) outliers, minimisers marked."""
    taus = data["taus"]
    theta = np.asarray(data["theta"], dtype=float)
    fig, axes = new_figure(1, 3, width=4.0, height=3.4)
    for ax, name in zip(axes, LOSS_ORDER):
        s = style(name)
        for key, ls, mk, lab in (("inliers", "-", "o", "inliers only"), ("with_outliers", "--", "s", "with outliers")):
            c = np.asarray(data["risk"][key][name], dtype=float)
            m = data["minimiser"][key][name]
            ax.plot(theta, c, color=s["color"], linestyle=ls, label=f"{lab}: argmin θ = {m['argmin']:+.3f}")
            ax.plot([m["argmin"]], [m["min_risk"]], marker=mk, markersize=7, markerfacecolor="white",
                    markeredgecolor=s["color"], linestyle="none")
        ax.axvline(0.0, color="0.6", linewidth=0.8, linestyle=":")
        ax.set(xlabel="θ (score θ·x)", ylabel="empirical risk", title=_label(name, taus))
        ax.legend(fontsize=7, loc="upper center")
    prm = data["params"]
    fig.suptitle(
        f"Ding's outliers: {prm['n_inliers_per_class']} inliers N(±1, 1) and {prm['n_outliers_per_class']} outliers "
        f"N(∓200, 1) per class; mean(y·x) with outliers = {data['mean_yx']['with_outliers']:+.3f} "
        f"({_title_preset(data)}, seed {prm['seed']})",
        fontsize=9,
    )
    return fig


FIGURES = [
    FigureSpec(
        "fig1_losses",
        "logistic, Huberised and PHuber losses and derivatives (margin and probability); Prop. 8 gradient norms",
        compute_fig1,
        plot_fig1,
    ),
    FigureSpec(
        "fig2a_long_servedio",
        "paper Fig. 2a: clean test accuracy over trials on the Long & Servedio mixture (SLSQP)",
        compute_fig2a,
        plot_fig2a,
    ),
    FigureSpec(
        "fig2b_outliers",
        "paper Fig. 2b: risk against theta on Ding's data, with and without outliers, and the minimisers",
        compute_fig2b,
        plot_fig2b,
    ),
]
