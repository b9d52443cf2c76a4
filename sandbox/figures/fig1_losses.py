"""``fig1_losses``: the paper's three losses and their derivatives, in the margin and in probability.

Logistic, Huberised (= L-clipping, Lemma 2) and partially Huberised (= CL-clipping, Lemma 5, Eq. 11/12)
losses at the preset's Fig. 2a thresholds, switch points marked; and the per-example gradient norm of a
misclassified point ``x = -r u`` as ``r`` grows (Prop. 8): ``~r`` (logistic), ``tau r`` (Huberised),
``-> 0`` (PHuber).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from .. import base_losses
from ..clipping import safe_norm
from ..io import to_jsonable
from ..linear import per_example_grads
from ..losses import huberised_logistic_switch, phuber_logistic_switch
from ..presets import Preset
from ..registry import PAPER_LOSSES, paper_losses
from ._spec import FigureSpec, Progress, no_progress
from ._style import loss_label, new_figure, style


def compute(preset: Preset, *, seed: int = 0, trials: int | None = None, progress: Progress = no_progress,
            executor=None) -> dict:
    """Losses and derivatives in the margin ``z`` and in the probability ``p = sigmoid(z)``, and the
    per-example gradient norm of a misclassified point of growing norm (Prop. 8).

    Uses the preset's Fig. 2a thresholds. Deterministic (``seed`` and ``trials`` are unused).

    Probability view: logistic is the log loss ``-log p``; PHuber is its partial Huberisation
    (Eq. 12); the Huberised loss, Huberised in the *margin*, is ``phi_tau(logit p)`` with
    ``d/dp = phi_tau'(z) / (p (1 - p))``, which is still unbounded as ``p -> 0``.

    Prop. 8 panel: ``u = (1, 1)/sqrt 2``, ``theta = u`` (unit norm), ``x = -r u`` with label ``+1``,
    so the margin is ``z = -r`` and the per-example gradient norm is ``|phi'(-r)| * r``.
    """
    taus = {"huberised": preset.tau_huberised, "phuber": preset.tau_phuber}
    losses = paper_losses(**{f"tau_{k}": v for k, v in taus.items()})
    progress("losses in the margin and in probability")

    z = np.linspace(-6.0, 6.0, 481)
    margin = {name: dict(zip(("value", "deriv"), loss(z))) for name, loss in losses.items()}

    p = np.linspace(0.002, 0.998, 499)
    zp = logit(p)
    pq = p * (1.0 - p)
    v_log, d_log = base_losses.log_loss(p)
    v_ph, d_ph = base_losses.phuber_log_loss(p, tau=taus["phuber"])
    v_hu, dz_hu = losses["huberised"](zp)
    prob = {
        "logistic": {"value": v_log, "deriv": d_log},
        "huberised": {"value": v_hu, "deriv": dz_hu / pq},
        "phuber": {"value": v_ph, "deriv": d_ph},
    }

    z0_h = huberised_logistic_switch(tau=taus["huberised"])  # -inf when tau >= 1 (nothing clipped)
    z0_ph = phuber_logistic_switch(tau=taus["phuber"])
    switch_z = {"huberised": z0_h if np.isfinite(z0_h) else None, "phuber": z0_ph}
    switch_p = {
        "huberised": float(expit(z0_h)) if np.isfinite(z0_h) else None,  # = 1 - tau
        "phuber": 1.0 / taus["phuber"],
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


def plot(data: dict):
    """Top: loss and derivative in the margin; bottom: in probability; right: Prop. 8 (log-log)."""
    taus = data["taus"]
    fig, axes = new_figure(2, 3, width=4.3, height=3.3)
    gs = axes[0, 2].get_gridspec()
    axes[0, 2].remove()
    axes[1, 2].remove()
    ax8 = fig.add_subplot(gs[:, 2])

    def curves(ax, x, block, key, every):
        for name in PAPER_LOSSES:
            ax.plot(x, block[name][key], label=loss_label(name, taus.get(name)), markevery=every, markersize=4,
                    **style(name))

    box = dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.85)

    def mark_switches(ax, x, block, key, switches, fmt):
        """Switch points: an open circle on the curve, a dotted line, and a label; the two losses' switch
        points nearly coincide at the preset's taus, so one label goes left of its line, one right."""
        side = 0
        for name, x0 in switches.items():
            if x0 is None:
                continue
            xs = np.asarray(x)
            i = int(np.argmin(np.abs(xs - x0)))
            s = style(name)
            ax.axvline(x0, color=s["color"], linestyle=":", linewidth=1)
            ax.plot([xs[i]], [block[name][key][i]], marker="o", markersize=7, markerfacecolor="white",
                    markeredgecolor=s["color"], linestyle="none")
            short = "PHuber" if name == "phuber" else "Huberised"
            ax.annotate(f"{short}: {fmt(x0)}", (x0, 0.97 - 0.09 * side), xycoords=("data", "axes fraction"),
                        xytext=(4 if side == 0 else -4, 0), textcoords="offset points", va="top",
                        ha="left" if side == 0 else "right", fontsize=6.5, color=s["color"], bbox=box)
            side += 1

    z, mz = data["margin"]["z"], data["margin"]["loss"]
    p, mp = data["probability"]["p"], data["probability"]["loss"]
    sz, sp = data["switch_margin"], data["switch_probability"]

    ax = axes[0, 0]
    curves(ax, z, mz, "value", 60)
    mark_switches(ax, z, mz, "value", sz, lambda v: f"z₀ = {v:.2f}")
    ax.set(xlabel="margin z = y·<θ, x>", ylabel="loss φ(z)", title="loss in the margin", ylim=(-0.2, 6.5))
    ax.legend(fontsize=7, loc="center left")

    ax = axes[0, 1]
    curves(ax, z, mz, "deriv", 60)
    mark_switches(ax, z, mz, "deriv", sz, lambda v: f"z₀ = {v:.2f}")
    if sz["huberised"] is not None:
        ax.axhline(-taus["huberised"], color="0.5", linewidth=0.8, linestyle="--",
                   label=f"−τ = −{taus['huberised']:g}: the bound L-clipping puts on φ'")
        ax.legend(handles=ax.get_lines()[-1:], fontsize=7, loc="lower right")
    ax.set(xlabel="margin z", ylabel="φ'(z)", title="derivative in the margin", ylim=(-1.1, 0.1))

    ax = axes[1, 0]
    curves(ax, p, mp, "value", 50)
    mark_switches(ax, p, mp, "value", sp, lambda v: f"p₀ = {v:.3f}")
    ax.set(xlabel="probability of the observed label p = σ(z)", ylabel="loss", title="loss in probability",
           ylim=(-0.2, 6.5))

    ax = axes[1, 1]
    curves(ax, p, mp, "deriv", 50)
    mark_switches(ax, p, mp, "deriv", sp, lambda v: f"p₀ = {v:.3f}")
    tau_ph = taus["phuber"]
    ax.axhline(-tau_ph, color="0.5", linewidth=0.8, linestyle="--",
               label=f"−τ = −{tau_ph:g}: the bound CL-clipping puts on dφ/dp")
    ax.legend(handles=ax.get_lines()[-1:], fontsize=7, loc="lower right")
    ax.set(xlabel="probability p", ylabel="dφ/dp", title="derivative in probability",
           ylim=(-max(10.0, 3 * tau_ph), 0.5))

    r, gn = data["prop8"]["r"], data["prop8"]["grad_norm"]
    for name in PAPER_LOSSES:
        g = np.asarray([np.nan if v is None else v for v in gn[name]], dtype=float)
        g = np.where(g > 0, g, np.nan)
        ax8.loglog(r, g, label=loss_label(name, taus.get(name)), markevery=20, markersize=4, **style(name))
    ax8.set(xlabel="norm r of the misclassified point x = −r·u", ylabel="per-example gradient norm |φ'(z)|·||x||",
            title="feature outlier (Prop. 8): θ = u, y = +1", ylim=(1e-6, 1e3))
    ax8.legend(fontsize=7, loc="lower left")
    fig.suptitle(f"The three losses of Figure 2 (preset {data['preset']!r}); open circles: switch points "
                 "(at these taus both losses switch near margin 1)")
    return fig


SPEC = FigureSpec(
    "fig1_losses",
    "logistic, Huberised and PHuber losses and derivatives (margin and probability); Prop. 8 gradient norms",
    compute,
    plot,
    options={},  # deterministic: no seed, trials or noise rate
)
