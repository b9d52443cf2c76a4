"""``loss_atlas``: every registered margin loss on the Long & Servedio construction, in one view.

Rows are the losses at their atlas settings (:data:`sandbox.atlas.ATLAS_SETTINGS`), grouped by family
(convex potentials, other convex, neither convex nor bounded, bounded, symmetric). Per loss
(:func:`sandbox.atlas.atlas_row`): the exact population verdict over ``rho`` at the preset's gamma,
its break rho over gamma, the smallest per-atom adversarial budget that breaks it (ties reported as
ties), the numerical symmetry check; and the paper's Fig. 2a experiment for it
(:func:`sandbox.atlas.sample_verdicts`: the same trials as ``fig2a_long_servedio``, SLSQP protocol and
converged fits). One cell per loss for the population, one per loss for the samples
(:func:`sandbox.figures._cells.cell_map`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.patches import Patch, Rectangle

from .. import atlas
from .._checks import check_positive_int
from ..io import to_jsonable
from ..metrics import SUCCESS
from ..presets import Preset
from ..registry import make_loss
from ._cells import cell_map
from ._spec import FigureSpec, Progress, no_progress
from ._style import CMAP, arr, floats, grid, size_of


@dataclass(frozen=True)
class LossAtlasSize:
    """Grids of ``loss_atlas`` (the preset's rho and gamma are always added to theirs)."""

    rho: tuple[float, ...]  # population noise rates (the columns)
    gammas: tuple[float, ...]  # margin parameters of the break-rho-over-gamma panel, in (0, 1/6)
    budgets: tuple[float, ...]  # per-atom adversary budgets (fractions of the population mass)
    resolution: float  # adversary flip fractions on {0, resolution, ..., 1} ...
    levels: tuple[float, ...] | None  # ... or on these levels
    n_angles: int  # population search grid, refined (sandbox.population)
    n_radii: int


SIZES = {
    "full": LossAtlasSize(
        rho=floats(np.arange(0.0, 0.495, 0.01), 2),  # 0, 0.01, ..., 0.49
        gammas=(0.01, 0.02, 0.07, 0.1, 0.13, 0.16),
        # fine below 0.1 (the convex losses fall there), then every 0.025-0.05; 1/8 = half the puller's mass
        budgets=floats(np.r_[np.arange(0.0, 0.1001, 0.01), [0.125, 0.15, 0.175, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]], 3),
        resolution=0.1, levels=None, n_angles=720, n_radii=121,
    ),
    "smoke": LossAtlasSize(rho=(0.0, 0.1, 0.2, 0.3, 0.45), gammas=(0.02, 0.1), budgets=(0.0, 0.05, 0.125, 0.15, 0.3),
                           resolution=0.1, levels=(0.0, 0.5, 0.6), n_angles=360, n_radii=61),
}


_SLOW = ("bi_tempered", "nce_mae", "nce_rce", "nce", "logit_clip", "phuber_gce")  # measured: 2-5x the others


def population_cell(cell: tuple) -> dict:
    """``(name, params, gamma, rho, gammas, budgets, resolution, levels, n_angles, n_radii)`` -> the
    loss's :func:`sandbox.atlas.atlas_row`."""
    name, params, gamma, rho, gammas, budgets, resolution, levels, n_angles, n_radii = cell
    return atlas.atlas_row(name, params, gamma=gamma, rho=rho, gammas=gammas, budgets=budgets,
                           resolution=resolution, levels=levels, n_angles=n_angles, n_radii=n_radii)


def sample_cell(cell: tuple) -> dict:
    """``(name, params, trials, n_train, n_test, rho, seed, gamma, sigma, maxiter)`` -> the loss's
    :func:`sandbox.atlas.sample_verdicts`."""
    name, params, T, n_train, n_test, rho, seed, gamma, sigma, maxiter = cell
    return atlas.sample_verdicts(make_loss(name, **params), trials=T, n_train=n_train, n_test=n_test, rho=rho,
                                 rng=seed, gamma=gamma, sigma=sigma, slsqp_maxiter=maxiter)


def _fmt(x) -> str:
    return "never" if x is None else f"{x:g}"


def compute(preset: Preset, *, seed: int = 0, trials: int | None = None,
            progress: Progress = no_progress, executor=None) -> dict:
    """The atlas (module docstring) at the preset's gamma, taus, rho and Fig. 2a sizes.

    Population (deterministic): every loss's verdict over the ``rho`` grid, its break rho over the
    ``gamma`` grid and its per-atom adversary. Samples: ``trials`` (default: the preset's) Fig. 2a trials
    at the preset's rho from ``seed``, the same for every loss and the same as ``fig2a_long_servedio``'s.
    """
    cfg = size_of(SIZES, preset)
    p = preset
    T = check_positive_int("trials", p.trials if trials is None else trials)
    settings = atlas.atlas_settings(tau_huberised=p.tau_huberised, tau_phuber=p.tau_phuber)
    rho = grid(cfg.rho, p.rho)
    gammas = grid(cfg.gammas, p.gamma)
    t0 = time.perf_counter()
    names = sorted(settings, key=lambda n: n not in _SLOW)  # the slowest cells first: a pool finishes sooner
    cells = [(name, settings[name], p.gamma, tuple(rho.tolist()), tuple(gammas.tolist()), cfg.budgets,
              cfg.resolution, cfg.levels, cfg.n_angles, cfg.n_radii) for name in names]
    rows = dict(zip(names, cell_map(population_cell, cells, executor)))
    progress(f"population: {len(cells)} losses x {rho.size} noise rates, {gammas.size} gammas, "
             f"{len(cfg.budgets)} adversary budgets ({time.perf_counter() - t0:.1f} s)")
    cells = [(name, settings[name], T, p.n_train, p.n_test, p.rho, seed, p.gamma, p.sigma, p.slsqp_maxiter)
             for name in names]
    for name, s in zip(names, cell_map(sample_cell, cells, executor)):
        rows[name]["samples"] = s
    progress(f"samples: {len(cells)} losses x {T} trials, SLSQP and converged ({time.perf_counter() - t0:.1f} s)")
    rows = {name: rows[name] for name in settings}  # registry order in the JSON; "order" is the display order
    order = [n for fam in atlas.FAMILIES for n in settings if rows[n]["family"] == fam]

    report = [
        f"loss_atlas: gamma={p.gamma:.4g}; population over rho {rho[0]:g}..{rho[-1]:g} ({rho.size} values); "
        f"samples: {T} trials, n_train={p.n_train}, rho={p.rho:g}, seed {seed}",
        "  break = smallest grid value where every minimiser misclassifies an atom; tie = where some "
        "minimiser does (a tie); adv = per-atom adversary budget; samples: median clean test accuracy and "
        f"fraction >= {SUCCESS:g}",
        f"  {'loss':<34}{'family':<17}{'sym':>4}{'break':>7}{'tie':>7}{'adv':>7}{'adv tie':>8}"
        f"{'SLSQP':>14}{'converged':>14}",
    ]
    for n in order:
        r = rows[n]
        pop, adv, s = r["population"], r["adversary"], r["samples"]

        def sm(k):
            if not s[k]["available"]:
                return "n/a"
            return f"{s[k]['stats']['median']:.3f}/{s[k]['stats']['frac_success']:.3f}"

        report.append(f"  {r['label']:<34}{r['family']:<17}{'yes' if r['symmetry'].symmetric else 'no':>4}"
                      f"{_fmt(pop.break_rho):>7}{_fmt(pop.tie_rho):>7}{_fmt(adv.break_budget):>7}"
                      f"{_fmt(adv.tie_budget):>8}{sm('slsqp'):>14}{sm('converged'):>14}")
    return to_jsonable({
        "preset": p.name,
        "rho": rho,
        "gammas": gammas,
        "budgets": cfg.budgets,
        "order": order,
        "families": {f: atlas.FAMILY_LABELS[f] for f in atlas.FAMILIES},
        "losses": rows,
        "params": {
            "gamma": p.gamma, "tau_huberised": p.tau_huberised, "tau_phuber": p.tau_phuber, "settings": settings,
            "sample_rho": p.rho, "trials": T, "seed": int(seed), "n_train": p.n_train, "n_test": p.n_test,
            "sigma": p.sigma, "slsqp_maxiter": p.slsqp_maxiter, "resolution": cfg.resolution,
            "levels": cfg.levels, "n_angles": cfg.n_angles, "n_radii": cfg.n_radii, "success": SUCCESS,
            "distribution": "Long & Servedio atoms (population); six-Gaussian mixture (samples, as Fig. 2a)",
            "noise": "symmetric (population and samples); per-atom flips (adversary)",
        },
        "report": report,
    })


# --------------------------------------------------------------------------------------------------
# plot
# --------------------------------------------------------------------------------------------------

_HATCH_TIE = "xx"  # a tie: some minimiser misclassifies an atom, another does not
_HATCH_BREAK = "///"  # every minimiser misclassifies an atom


def _layout(data):
    """Rows top to bottom: ``("family", key)`` headers and ``("loss", name)``."""
    rows = []
    for fam in data["families"]:
        names = [n for n in data["order"] if data["losses"][n]["family"] == fam]
        if names:
            rows.append(("family", fam))
            rows += [("loss", n) for n in names]
    return rows


def _runs(flags):
    """``(start, stop)`` index runs of True in a boolean sequence."""
    out, start = [], None
    for i, f in enumerate(list(flags) + [False]):
        if f and start is None:
            start = i
        elif not f and start is not None:
            out.append((start, i))
            start = None
    return out


def _row_label(r) -> str:
    flags = [k for k, on in (("sym", r["symmetry"]["symmetric"]), ("cvx", r["convex"]), ("bnd", r["bounded"])) if on]
    return f"{r['label']}  [{', '.join(flags) or '–'}]"


def plot(data: dict):
    """Four panels sharing the loss rows: the population verdict over rho (colour: the clean accuracy
    every minimiser reaches; hatched ``///``: every minimiser misclassifies an atom; ``xx``: a tie), the
    break rho / tie rho / adversarial budget as text, the break rho over gamma (colour and text), and the
    Fig. 2a sample accuracies (boxes: SLSQP hatched, converged plain; text: median and fraction >= 0.99)."""
    from matplotlib.figure import Figure

    rows = _layout(data)
    prm = data["params"]
    L = data["losses"]
    rho, gammas = arr(data["rho"]), arr(data["gammas"])
    n = len(rows)
    fig = Figure(figsize=(20.0, 0.3 * n + 2.6), layout="constrained")
    axes = fig.subplots(1, 4, sharey=True, gridspec_kw={"width_ratios": [5.0, 2.9, 2.2, 4.0]})
    ax_v, ax_t, ax_g, ax_s = axes
    y = np.arange(n)
    loss_rows = [(i, k) for i, (kind, k) in enumerate(rows) if kind == "loss"]

    # (a) population verdict over rho
    er = np.concatenate([[rho[0] - (rho[1] - rho[0]) / 2 if rho.size > 1 else rho[0] - 0.01],
                         (rho[1:] + rho[:-1]) / 2,
                         [rho[-1] + (rho[-1] - rho[-2]) / 2 if rho.size > 1 else rho[0] + 0.01]])
    M = np.full((n, rho.size), np.nan)
    for i, name in loss_rows:
        M[i] = arr(L[name]["population"]["accuracy"])
    mesh = ax_v.pcolormesh(er, np.arange(n + 1) - 0.5, np.ma.masked_invalid(M), cmap=CMAP, vmin=0.0, vmax=1.0,
                           shading="flat")
    for i, name in loss_rows:
        pop = L[name]["population"]
        hi, lo = arr(pop["accuracy"]), arr(pop["accuracy_low"])
        for flags, hatch in ((hi < 1, _HATCH_BREAK), ((lo < 1) & (hi >= 1), _HATCH_TIE)):
            for a, b in _runs(flags):
                ax_v.add_patch(Rectangle((er[a], i - 0.5), er[b] - er[a], 1.0, fill=False, hatch=hatch,
                                         edgecolor="white", linewidth=0.0))
    ax_v.axvline(prm["sample_rho"], color="white", linewidth=2.4)
    ax_v.axvline(prm["sample_rho"], color="#D55E00", linestyle="--", linewidth=1.3)
    ax_v.set(xlabel="symmetric noise rate ρ", xlim=(er[0], er[-1]),
             title=f"(a) population verdict on the atoms, γ = {prm['gamma']:.4g}")
    handles = [Patch(facecolor=colormaps[CMAP](1.0), edgecolor="black", label="every minimiser correct"),
               Patch(facecolor="0.45", edgecolor="white", hatch=_HATCH_BREAK, label="every minimiser misclassifies an atom"),
               Patch(facecolor="0.45", edgecolor="white", hatch=_HATCH_TIE, label="a tie: some minimiser misclassifies"),
               ax_v.plot([], [], color="#D55E00", linestyle="--", label=f"ρ of the samples (d) = {prm['sample_rho']:g}")[0]]
    ax_v.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.06), ncol=2, fontsize=7.5, frameon=False)
    cb = fig.colorbar(mesh, ax=ax_v, location="top", shrink=0.6, pad=0.01, aspect=40)
    cb.set_label("clean accuracy every minimiser reaches", fontsize=8)

    # (b) the numbers
    cols = (("break ρ", 0.0), ("tie ρ", 0.19), ("adv.", 0.38), ("adv. tie", 0.57), ("adv. flips", 0.83))
    for label, x in cols:
        ax_t.text(x, -0.9, label, ha="center", va="bottom", fontsize=7.5, fontweight="bold")
    for i, name in loss_rows:
        pop, adv = L[name]["population"], L[name]["adversary"]
        flip = adv["break_flip"]
        vals = (_fmt(pop["break_rho"]), _fmt(pop["tie_rho"]), _fmt(adv["break_budget"]), _fmt(adv["tie_budget"]),
                "–" if flip is None else "(" + ", ".join(f"{f:.1f}" for f in flip) + ")")
        for (_, x), v in zip(cols, vals):
            ax_t.text(x, i, v, ha="center", va="center", fontsize=7.5)
    ax_t.set(xlim=(-0.1, 1.04), title="(b) population: break ρ, tie ρ;\nper-atom adversary: budget, tie budget,\nflips (large margin, puller, penalizer)",
             xlabel="never: not on the grid")
    ax_t.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax_t.spines[side].set_visible(False)

    # (c) break rho over gamma
    eg = np.arange(gammas.size + 1) - 0.5
    G = np.full((n, gammas.size), np.nan)
    for i, name in loss_rows:
        G[i] = arr(L[name]["gamma_sweep"]["break_rho"])
    gm = ax_g.pcolormesh(eg, np.arange(n + 1) - 0.5, np.ma.masked_invalid(G), cmap="magma", vmin=0.0, vmax=0.5,
                         shading="flat")
    norm = Normalize(0.0, 0.5)
    for i, name in loss_rows:
        for j, b in enumerate(L[name]["gamma_sweep"]["break_rho"]):
            if b is None:
                ax_g.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="white", edgecolor="0.8", hatch="..",
                                         linewidth=0.3))
                ax_g.text(j, i, "–", ha="center", va="center", fontsize=7)
            else:
                ax_g.text(j, i, f"{b:.2f}", ha="center", va="center", fontsize=6.5,
                          color="black" if norm(b) > 0.55 else "white")
    ax_g.set_xticks(np.arange(gammas.size), [f"{g:.3g}" for g in gammas], fontsize=7, rotation=45)
    ig = int(np.argmin(np.abs(gammas - prm["gamma"])))
    ax_g.axvline(ig - 0.5, color="#D55E00", linewidth=1.2)
    ax_g.axvline(ig + 0.5, color="#D55E00", linewidth=1.2)
    ax_g.set(xlabel="γ (Long & Servedio margin; preset's framed)", xlim=(eg[0], eg[-1]),
             title="(c) break ρ over γ\n(–: never, ρ ≤ %g)" % rho[-1])
    cb2 = fig.colorbar(gm, ax=ax_g, location="top", shrink=0.8, pad=0.01, aspect=25)
    cb2.set_label("break ρ", fontsize=8)

    # (d) samples
    for i, name in loss_rows:
        s = L[name]["samples"]
        for k, dy, hatch, face in (("slsqp", -0.2, "////", "#FFFFFF"), ("converged", 0.2, "", "#BBBBBB")):
            if not s[k]["available"]:
                continue
            a = arr(s[k]["accuracy"])
            bp = ax_s.boxplot([a], positions=[i + dy], orientation="horizontal", widths=0.32, patch_artist=True, showfliers=True,
                              flierprops=dict(marker="|", markersize=3, alpha=0.5),
                              medianprops=dict(color="black", linewidth=1.6), manage_ticks=False)
            bp["boxes"][0].set(facecolor=face, hatch=hatch, edgecolor="black")
        txt = " / ".join("n/a" if not s[k]["available"] else
                         f"{s[k]['stats']['median']:.2f}, {s[k]['stats']['frac_success']:.1%}" for k in ("slsqp", "converged"))
        ax_s.text(1.03, i, txt, fontsize=6.5, va="center")
    ax_s.axvline(0.5, color="0.6", linestyle=":", linewidth=0.8)
    ax_s.axvline(SUCCESS, color="0.3", linestyle="--", linewidth=0.8)
    ax_s.set(xlim=(0.35, 1.38), xlabel="clean test accuracy",
             title=f"(d) Fig. 2a samples: ρ = {prm['sample_rho']:g}, n_train = {prm['n_train']},\n{prm['trials']} trials; "
                   "text: median, fraction ≥ 0.99\n(SLSQP / converged)")
    ax_s.set_xticks([0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    ax_s.legend(handles=[Patch(facecolor="white", hatch="////", edgecolor="black", label="SLSQP (paper's protocol)"),
                         Patch(facecolor="#BBBBBB", edgecolor="black", label="converged (empirical-risk minimiser;\n"
                               "n/a: no sound method for a loss neither convex nor bounded)")],
                loc="upper center", bbox_to_anchor=(0.5, -0.06), ncol=1, fontsize=7.5, frameon=False)

    ticks = [(data["families"][k] if kind == "family" else _row_label(L[k])) for kind, k in rows]
    ax_v.set_yticks(y, ticks, fontsize=8)
    for lab, (kind, _) in zip(ax_v.get_yticklabels(), rows):
        if kind == "family":
            lab.set_fontweight("bold")
    ax_v.set_ylim(n - 0.5, -1.5)
    ax_v.set_ylabel("loss at its atlas setting  [sym: φ(z) + φ(−z) constant; cvx: convex; bnd: bounded]", fontsize=8)
    for ax in axes:
        for i, (kind, _) in enumerate(rows):
            if kind == "family":
                ax.axhspan(i - 0.5, i + 0.5, color="0.93", zorder=0)
        ax.tick_params(axis="y", length=0)
    fig.suptitle("Robust-loss atlas on Long & Servedio's construction: population verdicts (exact), adversarial "
                 "budgets and Fig. 2a samples", fontsize=10)
    return fig


SPEC = FigureSpec(
    "loss_atlas",
    "beyond the paper: every registered loss on the Long & Servedio construction (population, adversary, samples)",
    compute,
    plot,
    options={"trials": "Fig. 2a trials per loss, SLSQP and converged (default: the preset's, 500)",
             "rho": "the noise rate of the Fig. 2a samples (the population grid is fixed; default: the preset's)"},
    cost=100,
)
