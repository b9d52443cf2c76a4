"""Beyond the paper: which clipping, how much noise, which tau, adversarial flips, calibration, landscape.

Seven figures of ``python -m sandbox figures`` (each a :class:`~sandbox.registry.FigureSpec`:
``compute`` returns plain numbers, ``plot`` draws them from the JSON alone):

======================  ==========================================================================
figure                  what it computes
======================  ==========================================================================
``clipping_variants``   clean test accuracy over trials of logistic-loss GD/SGD with each kind of
                        gradient clipping (:mod:`sandbox.variants`), and each variant's population
                        prediction where a loss is equivalent to it
``phase_population``    exact population clean accuracy of the noisy-risk minimiser over (tau, rho)
                        for the Huberised and PHuber losses, and over (gamma, rho) for logistic
``phase_sample``        the same maps from finite samples (SLSQP protocol, vectorised), with the
                        population boundary on top
``noise_sweep``         median and interquartile range of clean accuracy against rho for the three
                        losses and the norm-clipping variants
``adversarial_flips``   accuracy against the flip budget: largest-margin and targeted-atom flips on
                        samples, the per-atom search on the population, next to symmetric flips
``calibration``         Lemma 6 (conditional-risk minimiser u*(eta) of PHuber) and Prop. 7 (excess
                        noisy risk of the clean minimiser <= rho Delta(tau)), checked numerically
``landscape``           noisy population risk against the direction of theta, minimised over the
                        radius, with the minimisers and the clean-optimal direction marked
======================  ==========================================================================

Sizes. ``preset.size`` picks ``"full"`` or ``"smoke"`` from each figure's ``*_SIZES`` table (frozen
dataclasses, values commented). ``trials`` (the CLI's ``--trials``) overrides the trials of the
figures that have them (per cell / per noise rate / per budget); the preset's ``trials`` (500, the
paper's Fig. 2a count) is not used here, because these figures have many cells.

Randomness. Training and test samples are trials of :func:`sandbox.trials.long_servedio_trials`
with the figure's seed, so every cell with the same noise rate uses the same draws (common random
numbers: the flip sets are nested across rho). Mini-batches and label flips beyond those use
``numpy.random.default_rng([TAG, seed])`` with a tag per purpose, independent of the trial streams.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from scipy.special import ndtr

from . import calibration as cal
from ._checks import check_interval
from .data import LS_ATOM_NAMES, long_servedio
from .fastfit import fit_linear_trials
from .io import to_jsonable
from .losses import make_loss, paper_losses
from .noise import flip_exact_fraction, flip_group, flip_largest_margin
from .plotting import LABELS, new_figure, style
from .population import R_INF, adversarial_atom_flips_sweep, minimise_population_risk, population_risk
from .presets import Preset
from .registry import FigureSpec, Progress, no_progress
from .trials import long_servedio_trials, test_accuracy
from .variants import clipping_variants, population_loss, train_variant

__all__ = [
    "FIGURES",
    "LOSS_ORDER",
    "SUCCESS",
    "ClippingVariantsSize",
    "PhasePopulationSize",
    "PhaseSampleSize",
    "NoiseSweepSize",
    "AdversarialSize",
    "CalibrationSize",
    "LandscapeSize",
    "accuracy_stats",
    "break_rho",
    "atom_flip_search",
    "profile_risk",
    "mixture_accuracy",
    "angular_pulls",
    "compute_clipping_variants",
    "plot_clipping_variants",
    "compute_phase_population",
    "plot_phase_population",
    "compute_phase_sample",
    "plot_phase_sample",
    "compute_noise_sweep",
    "plot_noise_sweep",
    "compute_adversarial_flips",
    "plot_adversarial_flips",
    "compute_calibration",
    "plot_calibration",
    "compute_landscape",
    "plot_landscape",
]

LOSS_ORDER = ("logistic", "huberised", "partially_huberised")
SUCCESS = 0.99  # a trial "succeeds" at clean test accuracy >= 0.99 (at most 1 in 100 test points wrong)
CONTOUR = 0.75  # phase boundary: accuracies are 1 (success) or 0.5 (penalizer lost) in the symmetric maps
CMAP = "cividis"  # perceptual, colour-blind safe and monotone in lightness (reads in grayscale)

# tags of independent random streams: default_rng([TAG, seed])
_TAG_SGD = 4101  # mini-batch indices of the clipping variants
_TAG_FLIPS = 4102  # label flips of the adversarial_flips figure

# the Long & Servedio geometry, in degrees (theta = r (cos a, sin a))
PULLER_DEG = float(np.degrees(np.arctan2(5.0, 1.0)))  # direction of the puller (gamma, 5 gamma): 78.69


def _floats(values, decimals: int = 4) -> tuple[float, ...]:
    """A grid as a tuple of plain floats rounded to ``decimals`` (for the frozen size configs)."""
    return tuple(float(v) for v in np.round(np.asarray(values, float), decimals))


def _grid(values, *extra) -> np.ndarray:
    """Sorted unique grid of ``values`` with ``extra`` points (e.g. the preset's tau) inserted."""
    return np.unique(np.round(np.concatenate([np.asarray(values, float), np.asarray(extra, float)]), 12))


def _loss_label(name: str, tau: float | None = None) -> str:
    base = {"partially_huberised": "PHuber"}.get(name, LABELS.get(name, name))
    return base if tau is None else f"{base} (τ = {tau:g})"


def accuracy_stats(acc, axis: int = -1) -> dict:
    """Median, quartiles, mean, sample std (``ddof=1``; ``None`` for one trial), ``n`` and the fraction
    of trials with accuracy ``>= SUCCESS``, along ``axis`` (trials)."""
    a = np.asarray(acc, dtype=float)
    n = a.shape[axis]
    q25, med, q75 = np.percentile(a, [25, 50, 75], axis=axis)
    return {
        "median": med,
        "q25": q25,
        "q75": q75,
        "mean": np.mean(a, axis=axis),
        "std": np.std(a, axis=axis, ddof=1) if n > 1 else None,
        "n": int(n),
        "frac_success": np.mean(a >= SUCCESS, axis=axis),
    }


def break_rho(rho, acc) -> float | None:
    """The smallest noise rate of the grid ``rho`` at which ``acc`` (same length) drops below
    :data:`SUCCESS` (for population accuracies, which take values in {0, 1/4, 1/2, 3/4, 1}: below 1;
    for samples pass the medians over trials); ``None`` if it never does."""
    rho = np.asarray(rho, float)
    acc = np.asarray(acc, float)
    bad = np.flatnonzero(acc < SUCCESS)
    return float(rho[bad[0]]) if bad.size else None


def _stack(datasets):
    """Concatenate the trials of several :class:`~sandbox.trials.LSTrials` (train X, y; test X, y)."""
    return tuple(np.concatenate([getattr(d, k) for d in datasets]) for k in ("X_train", "y_train", "X_test", "y_test"))


def _rho_trials(preset: Preset, rhos, trials: int, seed: int, *, gamma: float | None = None):
    """``trials`` trials per noise rate, stacked in rho-major order: ``(len(rhos) * trials, n, 2)``."""
    g = preset.gamma if gamma is None else gamma
    return _stack([
        long_servedio_trials(trials=trials, n_train=preset.n_train, n_test=preset.n_test, rho=float(r),
                             seed=seed, gamma=g, sigma=preset.sigma)
        for r in rhos
    ])


def _size(table: dict, preset: Preset):
    if preset.size not in table:
        raise ValueError(f"preset.size={preset.size!r} is unknown; choose one of {', '.join(table)}")
    return table[preset.size]


def _T(trials: int | None, default: int) -> int:
    if trials is None:
        return default
    if isinstance(trials, bool) or int(trials) != trials or trials < 1:
        raise ValueError(f"trials={trials!r} must be an integer >= 1")
    return int(trials)


def _deg(theta) -> np.ndarray:
    theta = np.asarray(theta, dtype=float)
    return np.degrees(np.arctan2(theta[..., 1], theta[..., 0]))


def _arr(values) -> np.ndarray:
    """A JSON list (possibly nested, ``None`` for missing/inf) as a float array with NaN."""
    if isinstance(values, list):
        return np.array([_arr(v) if isinstance(v, list) else (np.nan if v is None else v) for v in values],
                        dtype=float)
    return np.array(np.nan if values is None else values, dtype=float)


def _edges(c, *, log: bool = False) -> np.ndarray:
    """Cell edges around grid centres ``c`` (geometric midpoints when ``log``)."""
    c = np.asarray(c, dtype=float)
    t = np.log(c) if log else c
    if t.size == 1:
        half = 0.1 if log else (0.1 * abs(t[0]) or 0.5)
        e = np.array([t[0] - half, t[0] + half])
    else:
        mid = (t[1:] + t[:-1]) / 2
        e = np.concatenate([[t[0] - (mid[0] - t[0])], mid, [t[-1] + (t[-1] - mid[-1])]])
    return np.exp(e) if log else e


# ==================================================================================================
# 1. clipping_variants
# ==================================================================================================


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


CLIPPING_VARIANTS_SIZES = {
    "full": ClippingVariantsSize(trials=50, lr=30.0, lr_unit=5.0, steps_gd=200, steps_sgd=2000,
                                 batch_sizes=(1, 10, 100), tau_global=0.01),
    "smoke": ClippingVariantsSize(trials=4, lr=30.0, lr_unit=5.0, steps_gd=200, steps_sgd=1500,
                                  batch_sizes=(1, 10, 100), tau_global=0.01),
}


def _variants(preset: Preset, cfg: ClippingVariantsSize):
    # per-example clipping uses the Huberised threshold: on unit-norm features it *is* L-clipping at it
    return clipping_variants(
        tau_norm=preset.tau_huberised, tau_global=cfg.tau_global, tau_huberised=preset.tau_huberised,
        tau_partially_huberised=preset.tau_partially_huberised, batch_sizes=cfg.batch_sizes,
    )


def _lr(variant, cfg: ClippingVariantsSize) -> float:
    return cfg.lr_unit if variant.features == "unit" else cfg.lr


def mixture_accuracy(direction, dist, sigma: float) -> np.ndarray:
    """Clean accuracy of the direction ``u`` (``(..., 2)``, unit norm) on the Gaussian mixture around
    ``dist``'s atoms: ``sum_i w_i Phi(<u, y_i x_i> / sigma)`` (each component is ``N(x_i, sigma^2 I)``;
    the few points of a component that cross ``x1 = 0`` are ignored: ``|x1| >= gamma >> sigma``)."""
    z = np.einsum("...d,md->...m", np.asarray(direction, float), dist.yx)
    return np.sum(dist.weights * ndtr(z / sigma), axis=-1)


def _variant_population(variant, dist, rho, sigma) -> dict | None:
    eq = population_loss(variant, dist)
    if eq is None:
        return None
    loss, d = eq
    fit = minimise_population_risk(loss, d, rho=rho, n_angles=720, n_radii=121)
    return {"clean_accuracy": fit.clean_accuracy, "angle_deg": np.degrees(fit.angle), "radius": fit.radius,
            "mixture_accuracy": mixture_accuracy(fit.direction, dist, sigma)}


def compute_clipping_variants(preset: Preset, *, seed: int = 0, trials: int | None = None,
                              progress: Progress = no_progress) -> dict:
    """Train every clipping variant (:func:`sandbox.variants.clipping_variants`) on the same noisy
    Long & Servedio trials (preset's rho, gamma, sigma, n_train, n_test) and report clean test
    accuracy per trial, the fraction of clipped examples/steps, and the population prediction of the
    variant's equivalent loss (``None`` where no loss is equivalent).
    """
    cfg = _size(CLIPPING_VARIANTS_SIZES, preset)
    T = _T(trials, cfg.trials)
    p = preset
    progress(f"drawing {T} trials (n_train={p.n_train}, rho={p.rho:g})")
    data = long_servedio_trials(trials=T, n_train=p.n_train, n_test=p.n_test, rho=p.rho, seed=seed,
                                gamma=p.gamma, sigma=p.sigma)
    dist = long_servedio(gamma=p.gamma)
    variants = _variants(p, cfg)
    out = {}
    for v in variants:
        t0 = time.perf_counter()
        rng = np.random.default_rng([_TAG_SGD, seed])
        lr = _lr(v, cfg)
        tr = train_variant(v, data.X_train, data.y_train, lr=lr, steps_gd=cfg.steps_gd,
                           steps_sgd=cfg.steps_sgd, rng=rng)
        acc = test_accuracy(tr.theta, data.X_test, data.y_test)
        out[v.name] = {
            **v.to_dict(),
            "lr": lr,
            "steps": tr.steps,
            "test_accuracy": acc,
            "angle_deg": _deg(tr.theta),
            "frac_clipped": tr.frac_clipped,
            "stats": accuracy_stats(acc),
            "population": _variant_population(v, dist, p.rho, p.sigma),
        }
        progress(f"{v.name}: median accuracy {np.median(acc):.3f} ({time.perf_counter() - t0:.1f} s)")
    a0, a1 = out["none"]["angle_deg"], out["global_full"]["angle_deg"]
    agree = float(np.max(np.abs(a0 - a1)))
    report = [
        f"clipping_variants: preset {p.name!r}, rho={p.rho:g}, gamma={p.gamma:.4g}, {T} trials, seed {seed}; "
        f"logistic loss, lr={cfg.lr:g} (unit-norm features: {cfg.lr_unit:g}), GD {cfg.steps_gd} steps, "
        f"SGD {cfg.steps_sgd} steps",
        f"  {'variant':<34}{'tau':>6}{'median':>8}{'>=0.99':>8}{'clipped':>9}{'population':>11}{'(mixture)':>10}",
    ]
    for v in variants:
        o = out[v.name]
        pop = o["population"]
        tau = "" if o["tau"] is None else f"{o['tau']:g}"
        report.append(
            f"  {v.label:<34}{tau:>6}{o['stats']['median']:>8.3f}{o['stats']['frac_success']:>8.2f}"
            f"{o['frac_clipped']:>9.2f}{'n/a' if pop is None else format(float(pop['clean_accuracy']), '.2f'):>11}"
            f"{'n/a' if pop is None else format(float(pop['mixture_accuracy']), '.3f'):>10}"
        )
    report.append(f"  full-batch global clipping vs GD: largest angle difference {agree:.2e} deg over {T} trials")
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
            "tau_huberised": p.tau_huberised, "tau_partially_huberised": p.tau_partially_huberised,
            "theta0": [0.0, 0.0], "bias": False, "sgd_batches": "i.i.d. with replacement",
            "population_grid": {"n_angles": 720, "n_radii": 121},
        },
        "report": report,
    })


def plot_clipping_variants(data: dict):
    """Horizontal box plots of clean test accuracy per variant, every trial as a point, the population
    prediction of the equivalent loss as a star."""
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
    ax.legend(loc="lower left", fontsize=7)
    ax.set_title(
        f"Clipping variants of logistic-loss (S)GD on the Long & Servedio mixture: ρ = {prm['rho']:g}, "
        f"{prm['trials']} trials\n(preset {data['preset']!r}, n_train = {prm['n_train']}; "
        f"GD and full-batch global clipping differ by ≤ {data['gd_vs_global_full_max_angle_diff_deg']:.1e}°)",
        fontsize=9,
    )
    return fig


# ==================================================================================================
# 2. phase_population
# ==================================================================================================


@dataclass(frozen=True)
class PhasePopulationSize:
    """Grids of ``phase_population`` (the preset's taus and gamma are always added)."""

    rho: tuple[float, ...]  # symmetric noise rates
    tau_huberised: tuple[float, ...]  # Huberised logistic, meaningful in (0, 1)
    tau_partially_huberised: tuple[float, ...]  # PHuber-logistic, tau > 1
    gamma: tuple[float, ...]  # Long & Servedio margin parameter, in (0, 1/6)
    n_angles: int  # population search grid (0.5 deg), refined to ~1e-3 deg
    n_radii: int


PHASE_POPULATION_SIZES = {
    "full": PhasePopulationSize(
        rho=_floats(np.arange(0.0, 0.495, 0.01), 2),  # 0, 0.01, ..., 0.49
        tau_huberised=_floats(np.geomspace(0.005, 0.99, 13)),  # log-spaced over (0, 1)
        tau_partially_huberised=_floats(np.geomspace(1.01, 1000.0, 15)),  # log-spaced over (1, inf)
        gamma=_floats(np.linspace(0.005, 0.16, 15)),  # over (0, 1/6)
        n_angles=720, n_radii=121,
    ),
    "smoke": PhasePopulationSize(
        rho=(0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.45, 0.49),
        tau_huberised=(0.05, 0.9),
        tau_partially_huberised=(1.1, 3.0),
        gamma=(0.12,),
        n_angles=720, n_radii=121,
    ),
}


def _population_map(make, params, dists, rho, n_angles, n_radii, progress, what):
    """Clean accuracy ``(len(params), len(rho))``; ``make(param)`` -> loss, ``dists(param)`` -> dist."""
    acc = np.empty((len(params), len(rho)))
    for i, prm in enumerate(params):
        fit = minimise_population_risk(make(prm), dists(prm), rho=rho, n_angles=n_angles, n_radii=n_radii)
        acc[i] = fit.clean_accuracy
    progress(f"{what}: {len(params)} x {len(rho)} cells")
    return acc


def compute_phase_population(preset: Preset, *, seed: int = 0, trials: int | None = None,
                             progress: Progress = no_progress) -> dict:
    """Population clean accuracy of the noisy-risk minimiser (:func:`minimise_population_risk`) on the
    Long & Servedio atoms: over (tau, rho) at the preset's gamma for the Huberised and PHuber losses,
    logistic at the preset's gamma as a reference row, and over (gamma, rho) for logistic.

    Deterministic: ``seed`` and ``trials`` are unused. ``break_rho``: per row, the smallest rho of the
    grid where the clean accuracy drops below 1 (``None``: never on the grid).
    """
    cfg = _size(PHASE_POPULATION_SIZES, preset)
    p = preset
    rho = np.asarray(cfg.rho, float)
    ls = long_servedio(gamma=p.gamma)
    th = _grid(cfg.tau_huberised, p.tau_huberised)
    tp = _grid(cfg.tau_partially_huberised, p.tau_partially_huberised)
    gm = _grid(cfg.gamma, p.gamma)
    kw = dict(rho=rho, n_angles=cfg.n_angles, n_radii=cfg.n_radii, progress=progress)
    acc_h = _population_map(lambda t: make_loss("huberised", tau=t), th, lambda t: ls, what="Huberised", **kw)
    acc_p = _population_map(lambda t: make_loss("partially_huberised", tau=t), tp, lambda t: ls, what="PHuber", **kw)
    acc_g = _population_map(lambda g: make_loss("logistic"), gm, lambda g: long_servedio(gamma=g),
                            what="logistic over gamma", **kw)
    acc_l = minimise_population_risk(make_loss("logistic"), ls, rho=rho, n_angles=cfg.n_angles,
                                     n_radii=cfg.n_radii).clean_accuracy
    tau_fine = np.geomspace(tp[0], tp[-1], 200)
    guaranteed = cal.guaranteed_rho(tau_fine, min_weight=float(np.min(ls.weights)))
    brk = lambda acc: [break_rho(rho, a) for a in acc]  # noqa: E731
    b_l = break_rho(rho, acc_l)
    i_h = int(np.argmin(np.abs(th - p.tau_huberised)))
    i_p = int(np.argmin(np.abs(tp - p.tau_partially_huberised)))
    report = [
        f"phase_population: gamma={p.gamma:.4g}, rho grid {rho[0]:g}..{rho[-1]:g} ({rho.size} values); "
        "break = smallest rho with clean accuracy < 1",
        f"  logistic breaks at rho = {b_l}",
        f"  Huberised tau={th[i_h]:g} breaks at rho = {brk(acc_h)[i_h]}; over tau in [{th[0]:g}, {th[-1]:g}] "
        f"the break rho ranges {_range(brk(acc_h))}",
        f"  PHuber tau={tp[i_p]:g} breaks at rho = {brk(acc_p)[i_p]}; over tau in [{tp[0]:g}, {tp[-1]:g}] "
        f"the break rho ranges {_range(brk(acc_p))}",
        f"  logistic over gamma in [{gm[0]:g}, {gm[-1]:g}]: break rho {_range(brk(acc_g))}",
        f"  PHuber guarantee (Prop. 7 corollary): perfect accuracy for rho < "
        f"{float(cal.guaranteed_rho(p.tau_partially_huberised, min_weight=float(np.min(ls.weights)))):.3f} "
        f"at tau={p.tau_partially_huberised:g}",
    ]
    return to_jsonable({
        "preset": p.name,
        "rho": rho,
        "huberised": {"tau": th, "clean_accuracy": acc_h, "break_rho": brk(acc_h)},
        "partially_huberised": {"tau": tp, "clean_accuracy": acc_p, "break_rho": brk(acc_p),
                                "guaranteed": {"tau": tau_fine, "rho": guaranteed,
                                               "note": "calibration.guaranteed_rho: below it every atom is "
                                                       "provably classified correctly (Prop. 7 corollary)"}},
        "logistic": {"clean_accuracy": acc_l, "break_rho": b_l},
        "logistic_gamma": {"gamma": gm, "clean_accuracy": acc_g, "break_rho": brk(acc_g)},
        "params": {
            "gamma": p.gamma, "tau_huberised": p.tau_huberised, "tau_partially_huberised": p.tau_partially_huberised,
            "n_angles": cfg.n_angles, "n_radii": cfg.n_radii, "distribution": "Long & Servedio atoms",
            "noise": "symmetric", "model": "bias-free linear, minimiser over angle x radius (incl. inf)",
        },
        "report": report,
    })


def _range(values) -> str:
    v = [x for x in values if x is not None]
    never = len(v) < len(values)
    if not v:
        return "never (no break on the grid)"
    s = f"{min(v):g}..{max(v):g}"
    return s + (" (some rows never break)" if never else "")


def _phase_panel(ax, x, rho, acc, *, log: bool, xlabel: str, title: str, mark_x=None, mark_label=None,
                 hline=None, hline_label=None, boundary=None, boundary_label=None, guarantee=None):
    x = np.asarray(x, float)
    acc = np.asarray(acc, float)
    mesh = ax.pcolormesh(_edges(x, log=log), _edges(rho), acc.T, cmap=CMAP, vmin=0.5, vmax=1.0, shading="flat")
    if acc.shape[0] > 1 and acc.shape[1] > 1 and np.nanmin(acc) < CONTOUR < np.nanmax(acc):
        # between a cell at 1 and one at 0.5 the level 0.75 lies half-way: on the cells' shared edge
        ax.contour(x, rho, acc.T, levels=[CONTOUR], colors="white", linewidths=2.2)
        ax.contour(x, rho, acc.T, levels=[CONTOUR], colors="black", linewidths=1.0, linestyles="--")
    if boundary is not None:
        b = np.array([np.nan if v is None else v for v in boundary[1]], float)
        ax.plot(boundary[0], b, color="white", linewidth=2.6)
        ax.plot(boundary[0], b, color="#D55E00", linestyle="-", marker="o", markersize=3, linewidth=1.2,
                label=boundary_label)
    if guarantee is not None:
        ax.plot(guarantee["tau"], guarantee["rho"], color="white", linewidth=2.6)
        ax.plot(guarantee["tau"], guarantee["rho"], color="#009E73", linestyle=(0, (4, 2)), linewidth=1.4,
                label="Prop. 7 guarantee: correct below")
    if hline is not None:
        ax.axhline(hline, color="white", linewidth=2.2)
        ax.axhline(hline, color="black", linestyle=":", linewidth=1.2, label=hline_label)
    if mark_x is not None:
        ax.axvline(mark_x, color="white", linewidth=2.2)
        ax.axvline(mark_x, color="#0072B2", linestyle="-.", linewidth=1.2, label=mark_label)
    if log:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel="noise rate ρ", title=title)
    ax.title.set_fontsize(9)
    if any(lab is not None for lab in (mark_label, hline_label, boundary_label)):
        ax.legend(fontsize=6.5, loc="upper right", framealpha=0.85)
    return mesh


def plot_phase_population(data: dict):
    """Three maps of population clean accuracy; dashed contours at 0.75 separate success (1) from
    failure (0.5); the logistic break and the preset's tau/gamma are drawn as lines."""
    rho = data["rho"]
    prm = data["params"]
    fig, axes = new_figure(1, 3, width=4.3, height=3.8)
    b_l = data["logistic"]["break_rho"]
    h, ph, g = data["huberised"], data["partially_huberised"], data["logistic_gamma"]
    _phase_panel(axes[0], h["tau"], rho, _arr(h["clean_accuracy"]), log=True, xlabel="τ (Huberised)",
                 title=f"Huberised logistic, γ = {prm['gamma']:.4g}", mark_x=prm["tau_huberised"],
                 mark_label=f"preset τ = {prm['tau_huberised']:g}", hline=b_l,
                 hline_label=f"logistic fails from ρ = {b_l}")
    _phase_panel(axes[1], ph["tau"], rho, _arr(ph["clean_accuracy"]), log=True, xlabel="τ (PHuber)",
                 title=f"partially Huberised logistic, γ = {prm['gamma']:.4g}", mark_x=prm["tau_partially_huberised"],
                 mark_label=f"preset τ = {prm['tau_partially_huberised']:g}", hline=b_l,
                 hline_label=f"logistic fails from ρ = {b_l}", guarantee=ph.get("guaranteed"))
    mesh = _phase_panel(axes[2], g["gamma"], rho, _arr(g["clean_accuracy"]), log=False, xlabel="γ (Long & Servedio)",
                        title="logistic over (γ, ρ)", mark_x=prm["gamma"], mark_label=f"preset γ = {prm['gamma']:.4g}")
    cb = fig.colorbar(mesh, ax=axes, shrink=0.9)
    cb.set_label("population clean accuracy")
    fig.suptitle("Where each loss breaks: exact population minimisers on the Long & Servedio atoms, symmetric noise "
                 "(dashed contour: accuracy 0.75)", fontsize=9)
    return fig


# ==================================================================================================
# 3. phase_sample
# ==================================================================================================


@dataclass(frozen=True)
class PhaseSampleSize:
    """Grids of ``phase_sample`` (the preset's taus and gamma are always added)."""

    trials: int  # trials per cell (fresh train/test draws; shared across the taus of one rho)
    rho: tuple[float, ...]
    tau_huberised: tuple[float, ...]
    tau_partially_huberised: tuple[float, ...]
    gamma: tuple[float, ...]
    boundary_rho: tuple[float, ...]  # fine rho grid of the population boundary drawn on top


PHASE_SAMPLE_SIZES = {
    "full": PhaseSampleSize(
        trials=32,
        rho=(0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.49),
        tau_huberised=_floats(np.geomspace(0.01, 0.99, 7)),
        tau_partially_huberised=_floats(np.geomspace(1.01, 1000.0, 9)),
        gamma=_floats(np.linspace(0.01, 0.16, 7)),
        boundary_rho=_floats(np.arange(0.0, 0.495, 0.01), 2),
    ),
    "smoke": PhaseSampleSize(
        trials=4,
        rho=(0.0, 0.1, 0.3, 0.45),
        tau_huberised=(0.05,),
        tau_partially_huberised=(3.0,),
        gamma=(0.12,),
        boundary_rho=(0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.45, 0.49),
    ),
}


def _sample_rows(loss_of, params, X, y, Xt, yt, n_rho, K, maxiter):
    """Median accuracy, success fraction and median SLSQP iterations, each ``(len(params), n_rho)``,
    of SLSQP fits, one vectorised call per parameter."""
    med = np.empty((len(params), n_rho))
    frac = np.empty((len(params), n_rho))
    nit = np.empty((len(params), n_rho))
    for i, prm in enumerate(params):
        Xi, yi, Xti, yti = (a(prm) if callable(a) else a for a in (X, y, Xt, yt))
        fit = fit_linear_trials(loss_of(prm), Xi, yi, maxiter=maxiter)
        acc = test_accuracy(fit.theta, Xti, yti).reshape(n_rho, K)
        med[i] = np.median(acc, axis=1)
        frac[i] = np.mean(acc >= SUCCESS, axis=1)
        nit[i] = np.median(fit.nit.reshape(n_rho, K), axis=1)
    return med, frac, nit


def compute_phase_sample(preset: Preset, *, seed: int = 0, trials: int | None = None,
                         progress: Progress = no_progress) -> dict:
    """The maps of ``phase_population`` from finite samples: per cell, ``trials`` noisy mixture
    samples (preset's n_train, n_test, sigma) fit by the SLSQP protocol
    (:func:`sandbox.fastfit.fit_linear_trials`, at most ``preset.slsqp_maxiter`` iterations from 0);
    median clean test accuracy, fraction of trials ``>= 0.99`` and median SLSQP iterations. The
    population break rho of every row (on ``boundary_rho``) is computed for the boundary drawn on top.

    Caveat (measured, see notebook 5): where the risk is nearly flat — Huberised losses with a small
    tau (gradients of size tau), logistic at a small gamma — SLSQP's absolute stopping rule
    (``|R(x) - R(x0)| < 1e-6``) ends the fit after a few iterations, still near the direction of
    ``mean(y x)``, which classifies correctly: those cells show the *protocol's* answer, not the
    minimiser's (continuing the descent lowers the risk and the accuracy falls to the population's).
    """
    cfg = _size(PHASE_SAMPLE_SIZES, preset)
    p = preset
    K = _T(trials, cfg.trials)
    rho = np.asarray(cfg.rho, float)
    brho = np.asarray(cfg.boundary_rho, float)
    th = _grid(cfg.tau_huberised, p.tau_huberised)
    tp = _grid(cfg.tau_partially_huberised, p.tau_partially_huberised)
    gm = _grid(cfg.gamma, p.gamma)
    t0 = time.perf_counter()
    X, y, Xt, yt = _rho_trials(p, rho, K, seed)
    progress(f"{rho.size} noise rates x {K} trials drawn ({time.perf_counter() - t0:.1f} s)")
    it = p.slsqp_maxiter
    med_h, frac_h, nit_h = _sample_rows(lambda t: make_loss("huberised", tau=t), th, X, y, Xt, yt, rho.size, K, it)
    med_p, frac_p, nit_p = _sample_rows(lambda t: make_loss("partially_huberised", tau=t), tp, X, y, Xt, yt,
                                        rho.size, K, it)
    med_l, frac_l, nit_l = _sample_rows(lambda _: make_loss("logistic"), [None], X, y, Xt, yt, rho.size, K, it)
    progress(f"tau maps fitted ({time.perf_counter() - t0:.1f} s)")
    cache = {}

    def data_for(g):
        if g not in cache:
            cache.clear()
            cache[g] = _rho_trials(p, rho, K, seed, gamma=float(g))
        return cache[g]

    med_g, frac_g, nit_g = _sample_rows(lambda _: make_loss("logistic"), gm, lambda g: data_for(g)[0],
                                 lambda g: data_for(g)[1], lambda g: data_for(g)[2], lambda g: data_for(g)[3],
                                 rho.size, K, it)
    progress(f"gamma map fitted ({time.perf_counter() - t0:.1f} s)")
    ls = long_servedio(gamma=p.gamma)
    def pop(loss, d):
        return minimise_population_risk(loss, d, rho=brho, n_angles=720, n_radii=121).clean_accuracy

    b_h = [break_rho(brho, pop(make_loss("huberised", tau=t), ls)) for t in th]
    b_p = [break_rho(brho, pop(make_loss("partially_huberised", tau=t), ls)) for t in tp]
    b_g = [break_rho(brho, pop(make_loss("logistic"), long_servedio(gamma=g))) for g in gm]
    b_l = break_rho(brho, pop(make_loss("logistic"), ls))
    progress(f"population boundaries ({time.perf_counter() - t0:.1f} s)")
    i_h = int(np.argmin(np.abs(th - p.tau_huberised)))
    i_p = int(np.argmin(np.abs(tp - p.tau_partially_huberised)))
    sb = lambda row: break_rho(rho, row)  # noqa: E731
    report = [
        f"phase_sample: {K} trials per cell, n_train={p.n_train}, gamma={p.gamma:.4g}, SLSQP (vectorised), seed {seed};"
        " sample break = smallest rho with median accuracy < 0.99",
        f"  logistic: sample break {sb(med_l[0])}, population break {b_l}",
        f"  Huberised tau={th[i_h]:g}: sample break {sb(med_h[i_h])}, population break {b_h[i_h]}",
        f"  PHuber tau={tp[i_p]:g}: sample break {sb(med_p[i_p])}, population break {b_p[i_p]}",
    ]
    return to_jsonable({
        "preset": p.name,
        "rho": rho,
        "huberised": {"tau": th, "median": med_h, "frac_success": frac_h, "median_nit": nit_h,
                      "population_break_rho": b_h},
        "partially_huberised": {"tau": tp, "median": med_p, "frac_success": frac_p, "median_nit": nit_p,
                                "population_break_rho": b_p},
        "logistic": {"median": med_l[0], "frac_success": frac_l[0], "median_nit": nit_l[0],
                     "population_break_rho": b_l},
        "logistic_gamma": {"gamma": gm, "median": med_g, "frac_success": frac_g, "median_nit": nit_g,
                           "population_break_rho": b_g},
        "params": {
            "trials_per_cell": K, "seed": int(seed), "gamma": p.gamma, "sigma": p.sigma, "n_train": p.n_train,
            "n_test": p.n_test, "slsqp_maxiter": it, "fitter": "sandbox.fastfit.fit_linear_trials (SLSQP protocol)",
            "tau_huberised": p.tau_huberised, "tau_partially_huberised": p.tau_partially_huberised,
            "boundary_rho": brho, "success_threshold": SUCCESS,
        },
        "report": report,
    })


def plot_phase_sample(data: dict):
    """Median clean test accuracy per cell; the population break rho of each row drawn on top."""
    rho = data["rho"]
    prm = data["params"]
    fig, axes = new_figure(1, 3, width=4.3, height=3.8)
    h, ph, g, lg = data["huberised"], data["partially_huberised"], data["logistic_gamma"], data["logistic"]
    lab = "population boundary (first ρ with accuracy < 1)"
    _phase_panel(axes[0], h["tau"], rho, _arr(h["median"]), log=True, xlabel="τ (Huberised)",
                 title=f"Huberised, γ = {prm['gamma']:.4g}", boundary=(h["tau"], h["population_break_rho"]),
                 boundary_label=lab, hline=lg["population_break_rho"], hline_label="logistic population break",
                 mark_x=prm["tau_huberised"], mark_label=f"preset τ = {prm['tau_huberised']:g}")
    _phase_panel(axes[1], ph["tau"], rho, _arr(ph["median"]), log=True, xlabel="τ (PHuber)",
                 title=f"PHuber, γ = {prm['gamma']:.4g}", boundary=(ph["tau"], ph["population_break_rho"]),
                 boundary_label=lab, hline=lg["population_break_rho"], hline_label="logistic population break",
                 mark_x=prm["tau_partially_huberised"], mark_label=f"preset τ = {prm['tau_partially_huberised']:g}")
    mesh = _phase_panel(axes[2], g["gamma"], rho, _arr(g["median"]), log=False, xlabel="γ (Long & Servedio)",
                        title="logistic over (γ, ρ)", boundary=(g["gamma"], g["population_break_rho"]),
                        boundary_label=lab, mark_x=prm["gamma"], mark_label=f"preset γ = {prm['gamma']:.4g}")
    cb = fig.colorbar(mesh, ax=axes, shrink=0.9)
    cb.set_label("median clean test accuracy")
    fig.suptitle(f"Finite samples: {prm['trials_per_cell']} trials per cell, n_train = {prm['n_train']}, SLSQP "
                 f"(≤ {prm['slsqp_maxiter']} iterations); dashed contour: median 0.75", fontsize=9)
    return fig


# ==================================================================================================
# 4. noise_sweep
# ==================================================================================================


@dataclass(frozen=True)
class NoiseSweepSize:
    """Sizes of ``noise_sweep``; the clipping variants use ``clipping_variants``' lr, steps and taus."""

    rho: tuple[float, ...]
    trials: int  # per noise rate, for the three losses (SLSQP protocol, vectorised)
    variant_trials: int  # per noise rate, for the clipping variants (train_gd), the first trials of the same draws
    variants: tuple[str, ...]  # clipping variants with no loss of the three equivalent to them


NOISE_SWEEP_SIZES = {
    "full": NoiseSweepSize(
        rho=(0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.49),
        trials=100, variant_trials=16, variants=("per_example_raw", "global_b1", "global_b10"),
    ),
    "smoke": NoiseSweepSize(rho=(0.0, 0.2, 0.45), trials=6, variant_trials=3,
                            variants=("per_example_raw", "global_b1", "global_b10")),
}


def compute_noise_sweep(preset: Preset, *, seed: int = 0, trials: int | None = None,
                        progress: Progress = no_progress) -> dict:
    """Clean test accuracy against rho: the three losses by the SLSQP protocol
    (:func:`sandbox.fastfit.fit_linear_trials`), and the norm-clipping variants of ``clipping_variants``
    by :func:`sandbox.train.train_gd` (same lr, steps and thresholds). Per rho: median, quartiles,
    mean, std and fraction ``>= 0.99`` over trials. ``trials`` overrides the per-rho count (the variants
    use at most that many).

    L-clipping, CL-clipping and full-batch global clipping are left out of the sweep: they reach the
    Huberised, PHuber and logistic minimisers respectively (Lemmas 2 and 5; same direction as GD), so
    the loss curves already show them (``clipping_variants`` checks this at the preset's rho).
    """
    cfg = _size(NOISE_SWEEP_SIZES, preset)
    vcfg = _size(CLIPPING_VARIANTS_SIZES, preset)
    p = preset
    K = _T(trials, cfg.trials)
    Kv = min(cfg.variant_trials, K)
    rho = np.asarray(cfg.rho, float)
    t0 = time.perf_counter()
    data = [long_servedio_trials(trials=K, n_train=p.n_train, n_test=p.n_test, rho=float(r), seed=seed,
                                 gamma=p.gamma, sigma=p.sigma) for r in rho]
    X, y, Xt, yt = _stack(data)
    progress(f"{rho.size} noise rates x {K} trials drawn ({time.perf_counter() - t0:.1f} s)")
    losses = paper_losses(tau_huberised=p.tau_huberised, tau_partially_huberised=p.tau_partially_huberised)
    methods = {}
    for name, loss in losses.items():
        th = fit_linear_trials(loss, X, y, maxiter=p.slsqp_maxiter).theta
        acc = test_accuracy(th, Xt, yt).reshape(rho.size, K)
        methods[name] = {"label": _loss_label(name, dict(loss.params).get("tau")), "kind": "loss",
                         "trials": K, "test_accuracy": acc, "stats": accuracy_stats(acc, axis=1)}
    progress(f"losses fitted ({time.perf_counter() - t0:.1f} s)")
    variants = {v.name: v for v in _variants(p, vcfg)}
    sl = np.concatenate([np.arange(i * K, i * K + Kv) for i in range(rho.size)])
    for vname in cfg.variants:
        v = variants[vname]
        rng = np.random.default_rng([_TAG_SGD, seed])
        tr = train_variant(v, X[sl], y[sl], lr=_lr(v, vcfg), steps_gd=vcfg.steps_gd, steps_sgd=vcfg.steps_sgd,
                           rng=rng)
        acc = test_accuracy(tr.theta, Xt[sl], yt[sl]).reshape(rho.size, Kv)
        methods[vname] = {**v.to_dict(), "kind": "clipping", "lr": _lr(v, vcfg), "steps": tr.steps, "trials": Kv,
                          "test_accuracy": acc, "stats": accuracy_stats(acc, axis=1)}
        progress(f"{vname} trained ({time.perf_counter() - t0:.1f} s)")
    report = [f"noise_sweep: gamma={p.gamma:.4g}, n_train={p.n_train}; losses {K} trials per rho (SLSQP), "
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
            "tau_huberised": p.tau_huberised, "tau_partially_huberised": p.tau_partially_huberised,
            "lr": vcfg.lr, "steps_gd": vcfg.steps_gd, "steps_sgd": vcfg.steps_sgd, "tau_global": vcfg.tau_global,
            "tau_per_example": p.tau_huberised, "variant_loss": "logistic",
            "fitter": "sandbox.fastfit.fit_linear_trials (losses); sandbox.train.train_gd (variants)",
        },
        "report": report,
    })


def plot_noise_sweep(data: dict):
    """Left: the three losses; right: the clipping variants (logistic and PHuber medians thin for
    reference). Lines: medians; bands: interquartile ranges."""
    rho = np.asarray(data["rho"], float)
    prm = data["params"]
    fig, axes = new_figure(1, 2, width=5.2, height=3.9, sharey=True)
    hatches = ("", "////", "\\\\\\\\", "....", "xxxx", "||||")
    k = 0
    for name, m in data["methods"].items():
        ax = axes[0] if m["kind"] == "loss" else axes[1]
        s = style(name, k if m["kind"] == "clipping" else 0)
        st = m["stats"]
        ax.fill_between(rho, _arr(st["q25"]), _arr(st["q75"]), color=s["color"], alpha=0.18,
                        hatch=hatches[k % len(hatches)], edgecolor=s["color"], linewidth=0)
        lab = m["label"] if m["kind"] == "loss" else f"{m['label']}, τ = {m['tau']:g}"
        ax.plot(rho, _arr(st["median"]), label=f"{lab} (n = {m['trials']})", markersize=5, **s)
        if m["kind"] == "loss" and name in ("logistic", "partially_huberised"):
            axes[1].plot(rho, _arr(st["median"]), color=s["color"], linestyle=s["linestyle"], linewidth=0.8,
                         alpha=0.6, label=f"{m['label']} median (reference)")
        k += 1
    for ax, title in zip(axes, ("losses (SLSQP protocol)", f"norm clipping of logistic (S)GD, lr = {prm['lr']:g}")):
        ax.axhline(0.5, color="0.6", linewidth=0.8, linestyle=":")
        ax.set(xlabel="noise rate ρ (symmetric)", title=title, ylim=(0.3, 1.03))
        ax.legend(fontsize=6.5, loc="lower left")
    axes[0].set_ylabel("clean test accuracy: median, band = IQR")
    fig.suptitle(f"Noise sweep on the Long & Servedio mixture (γ = {prm['gamma']:.4g}, n_train = {prm['n_train']}; "
                 f"preset {data['preset']!r})", fontsize=9)
    return fig


# ==================================================================================================
# 5. adversarial_flips
# ==================================================================================================


@dataclass(frozen=True)
class AdversarialSize:
    """Sizes of ``adversarial_flips``."""

    budgets: tuple[float, ...]  # flip budget: fraction of the sample (or population mass) flipped
    trials: int  # per budget and strategy (the same clean draws for every budget and strategy)
    resolution: float  # per-atom adversary: flip fractions on {0, resolution, ..., 1}
    majority_levels: tuple[float, ...]  # majority-preserving adversary: flip fractions, all < 1/2
    n_angles: int  # population search grid
    n_radii: int


ADVERSARIAL_SIZES = {
    "full": AdversarialSize(budgets=_floats(np.arange(0.0, 0.455, 0.05), 2) + (0.49,), trials=50,
                            resolution=0.1, majority_levels=(0.0, 0.1, 0.2, 0.3, 0.4, 0.45, 0.49),
                            n_angles=720, n_radii=121),
    "smoke": AdversarialSize(budgets=(0.0, 0.1, 0.2, 0.3), trials=4, resolution=0.2,
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


def atom_flip_search(loss, dist, budgets, *, resolution: float = 0.1, levels=None,
                     n_angles: int = 720, n_radii: int = 121) -> dict:
    """The per-atom adversary for many budgets (:func:`sandbox.population.adversarial_atom_flips_sweep`),
    as arrays over the budgets: ``flip``, ``used_budget``, ``clean_accuracy``, ``angle_deg``,
    ``n_candidates``. ``levels`` all below 1/2 keep every atom's clean label its majority label."""
    res = adversarial_atom_flips_sweep(loss, dist, budgets=budgets, resolution=resolution, levels=levels,
                                       n_angles=n_angles, n_radii=n_radii)
    return {
        "flip": np.asarray([r.flip for r in res]),
        "used_budget": np.asarray([r.used_budget for r in res]),
        "clean_accuracy": np.asarray([r.clean_accuracy for r in res]),
        "angle_deg": np.asarray([float(np.degrees(r.fit.angle)) for r in res]),
        "n_candidates": np.asarray([r.n_candidates for r in res]),
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


def compute_adversarial_flips(preset: Preset, *, seed: int = 0, trials: int | None = None,
                              progress: Progress = no_progress) -> dict:
    """Clean accuracy of each loss against the flip budget, for adversarial and symmetric flips.

    Samples (``trials`` clean mixture draws, preset's n_train / n_test / gamma / sigma, the same draws
    for every budget and strategy; SLSQP protocol via :func:`sandbox.fastfit.fit_linear_trials`):
    ``symmetric`` (exactly ``round(rho n)`` uniformly chosen labels, :func:`sandbox.noise.flip_exact_fraction`),
    ``largest_margin`` (the largest clean margins under the clean-optimal ``theta = (1, 0)``,
    :func:`sandbox.noise.flip_largest_margin`) and ``target_<atom>`` (all flips on one atom, both signs,
    :func:`sandbox.noise.flip_group`; capped at the atom's size). Population (Long & Servedio atoms):
    symmetric noise, and the per-atom search (:func:`atom_flip_search`), unrestricted and with every
    atom's flip fraction below 1/2.
    """
    cfg = _size(ADVERSARIAL_SIZES, preset)
    p = preset
    K = _T(trials, cfg.trials)
    budgets = np.asarray(cfg.budgets, float)
    t0 = time.perf_counter()
    clean = long_servedio_trials(trials=K, n_train=p.n_train, n_test=p.n_test, rho=0.0, seed=seed,
                                 gamma=p.gamma, sigma=p.sigma)
    X, y, atom = clean.X_train, clean.y_train_clean, clean.group_train % 3
    rng = np.random.default_rng([_TAG_FLIPS, seed])
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
    losses = paper_losses(tau_huberised=p.tau_huberised, tau_partially_huberised=p.tau_partially_huberised)
    dist = long_servedio(gamma=p.gamma)
    results = {}
    for name, loss in losses.items():
        th = fit_linear_trials(loss, Xs, Ys, maxiter=p.slsqp_maxiter).theta
        acc = test_accuracy(th, Xt, Yt).reshape(len(SAMPLE_STRATEGIES), budgets.size, K)
        r = {s: {"test_accuracy": acc[i], "stats": accuracy_stats(acc[i], axis=1)}
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
        if name == "partially_huberised":
            for key in ("population_search", "population_search_majority"):
                r[key]["guaranteed"] = cal.perfect_accuracy_guaranteed(dist.weights, r[key]["flip"],
                                                                        tau=p.tau_partially_huberised)
        results[name] = r
        progress(f"{name} done ({time.perf_counter() - t0:.1f} s)")
    # where each loss breaks: the smallest budget with (median / population) accuracy < 0.99
    breaks = {}
    for name, r in results.items():
        b = {s: break_rho(budgets, r[s]["stats"]["median"]) for s in SAMPLE_STRATEGIES}
        b["population_symmetric"] = break_rho(budgets, r["population_symmetric"]["clean_accuracy"])
        for key in ("population_search", "population_search_majority"):
            b[key] = break_rho(budgets, r[key]["clean_accuracy"])
        breaks[name] = b
    ph = results["partially_huberised"]
    report = [f"adversarial_flips: {K} trials per cell, n_train={p.n_train}, gamma={p.gamma:.4g}, budgets "
              f"{budgets[0]:g}..{budgets[-1]:g}; per-atom search at resolution {cfg.resolution:g}; "
              "break = smallest budget with accuracy < 0.99 (median over trials for samples)",
              f"  {'strategy':<30}" + "".join(f"{n[:10]:>12}" for n in LOSS_ORDER)]
    for s in SAMPLE_STRATEGIES + POPULATION_STRATEGIES:
        report.append(f"  {s:<30}" + "".join(f"{str(breaks[n][s]):>12}" for n in LOSS_ORDER))
    for key in ("population_search", "population_search_majority"):
        bk = breaks["partially_huberised"][key]
        if bk is not None:
            j = int(np.flatnonzero(np.isclose(budgets, bk))[0])
            report.append(f"  PHuber, {key}: at budget {bk:g} the flips f = {np.round(ph[key]['flip'][j], 3).tolist()} "
                          f"(used {ph[key]['used_budget'][j]:.3f}) give clean accuracy {ph[key]['clean_accuracy'][j]:g}")
    gsym = float(cal.guaranteed_rho(p.tau_partially_huberised, min_weight=float(np.min(dist.weights))))
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
            "tau_partially_huberised": p.tau_partially_huberised, "resolution": cfg.resolution,
            "theta_ref_largest_margin": [1.0, 0.0], "n_angles": cfg.n_angles, "n_radii": cfg.n_radii,
            "majority_levels": list(cfg.majority_levels),
            "population_symmetric_note": "symmetric noise needs rho < 1/2",
        },
        "report": report,
    })


def plot_adversarial_flips(data: dict):
    """One panel per loss: clean accuracy against the flip budget for every strategy; sample
    strategies show the median over trials (band: IQR of symmetric flips), population ones are exact."""
    b = np.asarray(data["budgets"], float)
    prm = data["params"]
    fig, axes = new_figure(1, 3, width=4.4, height=4.4, sharey=True)
    taus = {"huberised": prm["tau_huberised"], "partially_huberised": prm["tau_partially_huberised"]}
    styles = {
        "symmetric": dict(color="#000000", linestyle="-", marker="o"),
        "largest_margin": dict(color="#E69F00", linestyle="--", marker="s"),
        "target_large_margin": dict(color="#009E73", linestyle=":", marker="D"),
        "target_puller": dict(color="#CC79A7", linestyle=(0, (5, 1, 1, 1)), marker="v"),
        "target_penalizer": dict(color="#56B4E9", linestyle=(0, (1, 1)), marker="X"),
        "population_symmetric": dict(color="#666666", linestyle="-", marker="", linewidth=3, alpha=0.5),
        "population_search": dict(color="#D55E00", linestyle="-", marker="*", linewidth=2),
        "population_search_majority": dict(color="#0072B2", linestyle="-.", marker="^", linewidth=2),
    }
    for ax, name in zip(axes, LOSS_ORDER):
        r = data["results"][name]
        st = r["symmetric"]["stats"]
        ax.fill_between(b, _arr(st["q25"]), _arr(st["q75"]), color="0.5", alpha=0.2, label="IQR, symmetric (sample)")
        for s in data["sample_strategies"]:
            ax.plot(b, _arr(r[s]["stats"]["median"]), label=data["strategy_labels"][s], markersize=5, **styles[s])
        ax.plot(b, _arr(r["population_symmetric"]["clean_accuracy"]),
                label=data["strategy_labels"]["population_symmetric"],
                **styles["population_symmetric"])
        for s in ("population_search", "population_search_majority"):
            ax.plot(b, _arr(r[s]["clean_accuracy"]), label=data["strategy_labels"][s], markersize=7, **styles[s])
        ax.axhline(0.5, color="0.6", linewidth=0.8, linestyle=":")
        ax.set(xlabel="flip budget (fraction of labels / of the population mass)",
               title=_loss_label(name, taus.get(name)),
               ylim=(-0.03, 1.05))
    axes[0].set_ylabel("clean accuracy (median over trials / exact)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=5, fontsize=7)
    fig.suptitle(f"Adversarial vs symmetric label flips ({prm['trials']} trials per sample cell, n_train = "
                 f"{prm['n_train']}, γ = {prm['gamma']:.4g}; per-atom search on {{0, {prm['resolution']:g}, ..., 1}}³)",
                 fontsize=9)
    return fig


# ==================================================================================================
# 6. calibration
# ==================================================================================================


@dataclass(frozen=True)
class CalibrationSize:
    """Sizes of ``calibration``."""

    eta_points: int  # u*(eta) curves on [0, 1]
    eta_check_points: int  # brute-force minimiser checked against the closed form at these points
    taus_curve: tuple[float, ...]  # u*(eta) curves (the log loss, tau = inf, is the identity)
    taus_bound: tuple[float, ...]  # Prop. 7 check (the preset's PHuber tau is added)
    rho: tuple[float, ...]
    n_angles: int
    n_radii: int


CALIBRATION_SIZES = {
    "full": CalibrationSize(eta_points=401, eta_check_points=101, taus_curve=(1.36, 2.0, 4.0, 10.0),
                            taus_bound=(1.05, 1.2, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0),
                            rho=_floats(np.arange(0.0, 0.495, 0.01), 2), n_angles=720, n_radii=121),
    "smoke": CalibrationSize(eta_points=101, eta_check_points=21, taus_curve=(1.36, 4.0),
                             taus_bound=(1.1, 4.0), rho=(0.0, 0.1, 0.2, 0.3, 0.45), n_angles=720, n_radii=121),
}


def compute_calibration(preset: Preset, *, seed: int = 0, trials: int | None = None,
                        progress: Progress = no_progress) -> dict:
    """Lemma 6 and Prop. 7 for the PHuber log loss (:mod:`sandbox.calibration`).

    (a) ``u*(eta)`` in closed form for several tau, checked against a brute-force minimiser of the
    conditional risk; (b) ``Delta(tau)`` in closed form and by brute force; (c) the excess noisy
    population risk of the clean minimiser on the Long & Servedio atoms (preset's gamma) over a grid
    of (rho, tau), against the bound ``rho Delta(tau)``. Deterministic (``seed``, ``trials`` unused).
    """
    cfg = _size(CALIBRATION_SIZES, preset)
    p = preset
    eta = np.linspace(0.0, 1.0, cfg.eta_points)
    eta_c = np.linspace(0.0, 1.0, cfg.eta_check_points)
    taus_c = _grid(cfg.taus_curve, p.tau_partially_huberised)
    curves, checks, intervals = [], [], []
    for tau in taus_c:
        curves.append(cal.phuber_log_minimiser(eta, tau=tau))
        brute = cal.conditional_minimiser(cal.phuber_log_base(tau=tau), eta_c)
        closed = cal.phuber_log_minimiser(eta_c, tau=tau)
        ok = ~((eta_c == 0.5) & (tau < 2))  # non-unique minimiser there (any u in [1 - 1/tau, 1/tau])
        checks.append(float(np.max(np.abs(brute - closed)[ok])))
        intervals.append(cal.proper_interval(tau=tau))
    progress(f"u*(eta) for {taus_c.size} taus (closed form vs brute force: max diff {max(checks):.1e})")
    tau_d = np.geomspace(1.001, 100.0, 200)
    taus_b = _grid(cfg.taus_bound, p.tau_partially_huberised)
    delta_b = cal.phuber_log_delta(taus_b)
    delta_brute = np.array([cal.symmetric_sum_range(cal.phuber_log_base(tau=t)) for t in taus_b])
    rho = np.asarray(cfg.rho, float)
    dist = long_servedio(gamma=p.gamma)
    excess, clean_risk = [], []
    for tau in taus_b:
        e = cal.clean_minimiser_excess(make_loss("partially_huberised", tau=tau), dist, rho=rho,
                                       n_angles=cfg.n_angles, n_radii=cfg.n_radii)
        excess.append(e["excess"])
        clean_risk.append(e["clean_risk"])
    excess = np.array(excess)
    bound = rho[None, :] * delta_b[:, None]
    slack = bound - excess
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(bound > 0, excess / np.where(bound > 0, bound, 1.0), np.nan)
    holds = bool(np.all(slack >= -1e-12))
    progress(f"Prop. 7 on {taus_b.size} x {rho.size} (tau, rho) cells: bound holds everywhere: {holds}")
    i_p = int(np.argmin(np.abs(taus_b - p.tau_partially_huberised)))
    report = [
        f"calibration: PHuber log loss; u*(eta) closed form vs brute force max |diff| {max(checks):.1e} "
        f"({cfg.eta_check_points} eta points per tau)",
        "  proper interval [1/tau, 1 - 1/tau]: " + ", ".join(
            f"tau={t:g}: {'none' if iv is None else f'[{iv[0]:.3f}, {iv[1]:.3f}]'}" for t, iv in zip(taus_c, intervals)),
        "  Delta(tau): " + ", ".join(f"{t:g}: {d:.4f}" for t, d in zip(taus_b, delta_b)),
        f"  Prop. 7 excess <= rho * Delta(tau) at all {excess.size} grid points: {holds}; largest excess/bound "
        f"{np.nanmax(ratio):.3f}; at the preset tau={taus_b[i_p]:g}: excess at rho={rho[-1]:g} is "
        f"{excess[i_p, -1]:.4f} <= bound {bound[i_p, -1]:.4f}",
    ]
    return to_jsonable({
        "preset": p.name,
        "eta": eta,
        "minimiser": {"tau": taus_c, "u_star": np.array(curves), "proper_interval": intervals,
                      "max_abs_diff_brute_force": checks, "eta_check": eta_c},
        "delta": {"tau": tau_d, "delta": cal.phuber_log_delta(tau_d)},
        "bound": {"tau": taus_b, "rho": rho, "delta": delta_b, "delta_brute_force": delta_brute, "excess": excess,
                  "bound": bound, "ratio": ratio, "holds": holds, "clean_risk_of_clean_minimiser": clean_risk},
        "params": {"gamma": p.gamma, "n_angles": cfg.n_angles, "n_radii": cfg.n_radii,
                   "distribution": "Long & Servedio atoms", "tau_partially_huberised": p.tau_partially_huberised},
        "report": report,
    })


def plot_calibration(data: dict):
    """(a) u*(eta) per tau against the identity, proper intervals as thick segments; (b) Delta(tau);
    (c) measured excess noisy risk (markers) under its bound rho * Delta(tau) (lines)."""
    fig, axes = new_figure(1, 3, width=4.3, height=3.8)
    eta = np.asarray(data["eta"], float)
    mn = data["minimiser"]
    ax = axes[0]
    ax.plot(eta, eta, color="0.5", linewidth=1, linestyle=":", label="identity (log loss, τ = ∞)")
    for i, (tau, u, iv) in enumerate(zip(mn["tau"], mn["u_star"], mn["proper_interval"])):
        s = style("", i)
        ax.plot(eta, u, color=s["color"], linestyle=s["linestyle"], marker=s["marker"], markevery=max(1, len(eta) // 10),
                markersize=4, label=f"τ = {tau:g}" + ("" if iv is None else f", proper on [{iv[0]:.2f}, {iv[1]:.2f}]"))
        if iv is not None:
            seg = (eta >= iv[0]) & (eta <= iv[1])
            ax.plot(eta[seg], eta[seg], color=s["color"], linewidth=4, alpha=0.35)
    ax.set(xlabel="true class probability η", ylabel="minimiser u*(η) of η·l(u) + (1−η)·l(1−u)",
           title="Lemma 6: PHuber-log is proper only on [1/τ, 1−1/τ]")
    ax.legend(fontsize=6.5, loc="upper left")
    ax = axes[1]
    d = data["delta"]
    ax.plot(d["tau"], d["delta"], color="black", label="Δ(τ) closed form")
    bd = data["bound"]
    ax.plot(bd["tau"], bd["delta_brute_force"], linestyle="none", marker="o", markerfacecolor="white",
            markeredgecolor="#D55E00", label="range of l(u)+l(1−u) on a grid")
    ax.axvline(2.0, color="0.6", linewidth=0.8, linestyle=":")
    ax.set(xscale="log", yscale="log", xlabel="τ", ylabel="Δ(τ) = max S − min S, S(u) = l(u) + l(1−u)",
           title="robustness constant of Prop. 7")
    ax.legend(fontsize=7, loc="upper left")
    ax = axes[2]
    rho = np.asarray(bd["rho"], float)
    cmap = colormaps[CMAP]
    markers = ("o", "s", "^", "v", "D", "P", "X", "*", "h", "<", ">")
    n_tau = len(bd["tau"])
    for i, tau in enumerate(bd["tau"]):
        c = cmap(0.9 * i / max(n_tau - 1, 1))  # ordered by tau, dark to light
        ax.plot(rho, _arr(bd["bound"][i]), color=c, linestyle="--", linewidth=1)
        ax.plot(rho, _arr(bd["excess"][i]), color=c, linestyle="none", marker=markers[i % len(markers)],
                markersize=3.5, markeredgecolor="black", markeredgewidth=0.3, label=f"τ = {tau:g}")
    ax.set(yscale="symlog", xlabel="noise rate ρ", ylabel="excess noisy risk of the clean minimiser",
           title=f"Prop. 7: excess ≤ ρ·Δ(τ) (dashed) holds: {bd['holds']}")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.legend(fontsize=6.5, loc="upper left", ncol=2)
    for a in axes:
        a.title.set_fontsize(9)
    fig.suptitle(f"Calibration and robustness of the partially Huberised log loss (Long & Servedio atoms, "
                 f"γ = {data['params']['gamma']:.4g})", fontsize=9)
    return fig


# ==================================================================================================
# 7. landscape
# ==================================================================================================


@dataclass(frozen=True)
class LandscapeSize:
    """Sizes of ``landscape``."""

    n_angles: int  # directions on [-90, 90] degrees
    n_radii: int  # radii on [1e-3, 1e6] (log-spaced), plus r = inf


LANDSCAPE_SIZES = {
    "full": LandscapeSize(n_angles=721, n_radii=241),  # 0.25 degree steps
    "smoke": LandscapeSize(n_angles=181, n_radii=121),  # 1 degree steps
}


def profile_risk(loss, dist, angles, *, rho, n_radii: int = 241) -> tuple[np.ndarray, np.ndarray]:
    """``min_r R_rho(r u(a))`` and its argmin ``r`` for each angle ``a`` (radians), ``u = (cos a, sin a)``.

    Radii: ``0``, ``n_radii`` log-spaced on ``[1e-3, 1e6]`` and ``inf`` (evaluated at ``R_INF``).
    """
    rad = np.concatenate([[0.0], np.logspace(-3, 6, n_radii), [R_INF]])
    u = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    R = population_risk(loss, rad[None, :, None] * u[:, None, :], dist, rho=rho)  # (A, radii)
    k = np.argmin(R, axis=1)
    r = rad[k]
    return R[np.arange(len(angles)), k], np.where(r >= R_INF, np.inf, r)


def angular_pulls(loss, dist, angle: float, radius: float, *, rho: float) -> np.ndarray:
    """Per-atom contributions to ``dR_rho/da`` at ``theta = radius * (cos a, sin a)``: for atom ``i``,
    ``w_i [(1 - rho) phi'(z_i) - rho phi'(-z_i)] * radius * <u'(a), y_i x_i>`` with ``u' = (-sin a, cos a)``.

    A negative entry lowers the risk as the angle grows (pulls the direction counter-clockwise,
    towards the puller); the sum is the slope of the risk along the circle.
    """
    u = np.array([np.cos(angle), np.sin(angle)])
    du = np.array([-np.sin(angle), np.cos(angle)])
    z = radius * dist.yx @ u
    d = (1.0 - rho) * loss(z)[1] - rho * loss(-z)[1]
    return dist.weights * d * radius * (dist.yx @ du)


def compute_landscape(preset: Preset, *, seed: int = 0, trials: int | None = None,
                      progress: Progress = no_progress) -> dict:
    """Noisy (preset's rho) and clean population risk of each loss against the direction of theta,
    minimised over the radius, on the Long & Servedio atoms (preset's gamma); each loss's noisy
    minimiser (:func:`minimise_population_risk`); and the per-atom angular pulls at the penalizer
    boundary (45 degrees), at the best radius there. Deterministic (``seed``, ``trials`` unused).
    """
    cfg = _size(LANDSCAPE_SIZES, preset)
    p = preset
    dist = long_servedio(gamma=p.gamma)
    ang = np.radians(np.linspace(-90.0, 90.0, cfg.n_angles))
    losses = paper_losses(tau_huberised=p.tau_huberised, tau_partially_huberised=p.tau_partially_huberised)
    out = {}
    a45 = np.pi / 4
    for name, loss in losses.items():
        noisy, r_noisy = profile_risk(loss, dist, ang, rho=p.rho, n_radii=cfg.n_radii)
        clean, _ = profile_risk(loss, dist, ang, rho=0.0, n_radii=cfg.n_radii)
        fit = minimise_population_risk(loss, dist, rho=p.rho)
        _, r45 = profile_risk(loss, dist, np.array([a45]), rho=p.rho, n_radii=cfg.n_radii)
        pulls = angular_pulls(loss, dist, a45, float(r45[0]), rho=p.rho) if np.isfinite(r45[0]) else None
        out[name] = {
            "noisy_profile": noisy, "clean_profile": clean, "best_radius": r_noisy,
            "minimiser_angle_deg": float(np.degrees(fit.angle)), "minimiser_radius": float(fit.radius),
            "minimiser_risk": float(fit.risk), "clean_accuracy": float(fit.clean_accuracy),
            "atom_correct": fit.atom_correct, "radius_at_45": float(r45[0]), "pulls_at_45": pulls,
        }
        progress(f"{name}: minimiser at {np.degrees(fit.angle):.2f} deg, clean accuracy {fit.clean_accuracy:g}")
    taus = {"huberised": p.tau_huberised, "partially_huberised": p.tau_partially_huberised}
    report = [f"landscape: rho={p.rho:g}, gamma={p.gamma:.4g}; correct directions (-11.31, 45) deg; puller at "
              f"{PULLER_DEG:.2f} deg; max-margin (clean-optimal) direction 0 deg"]
    for name in LOSS_ORDER:
        o = out[name]
        pl = o["pulls_at_45"]
        pulls = "n/a (best radius infinite)" if pl is None else (
            "pulls at 45 deg (large margin, puller, penalizer) " + ", ".join(f"{v:+.4f}" for v in pl))
        report.append(f"  {_loss_label(name, taus.get(name)):<22} minimiser {o['minimiser_angle_deg']:7.2f} deg, radius "
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


def plot_landscape(data: dict):
    """Per loss (columns): the noisy profile risk (min over the radius) against the angle, the clean
    one, and the minimising radius (``inf`` drawn at the top edge). Shaded: directions that classify
    every atom correctly; dashed: the max-margin direction (0 deg); dash-dot: the puller."""
    a = np.asarray(data["angle_deg"], float)
    geo = data["geometry"]
    prm = data["params"]
    fig, axes = new_figure(3, 3, width=4.2, height=2.5, sharex=True)
    top = 1e6
    for j, name in enumerate(LOSS_ORDER):
        o = data["losses"][name]
        s = style(name)
        axn, axc, axr = axes[0, j], axes[1, j], axes[2, j]
        m = o["minimiser_angle_deg"]
        axn.plot(a, _arr(o["noisy_profile"]), color=s["color"], linestyle=s["linestyle"],
                 label=f"noisy risk, ρ = {prm['rho']:g}")
        axn.plot([m], [o["minimiser_risk"]], marker=s["marker"], markersize=9, markerfacecolor="white",
                 markeredgecolor=s["color"], linestyle="none",
                 label=f"minimiser {m:.1f}°, clean acc. {o['clean_accuracy']:g}")
        axc.plot(a, _arr(o["clean_profile"]), color=s["color"], linestyle=s["linestyle"], label="clean risk (ρ = 0)")
        r = _arr(o["best_radius"])
        axr.semilogy(a, np.where(np.isnan(r), 3 * top, np.maximum(r, 1e-3)), color=s["color"],
                     linestyle=s["linestyle"], label=f"argmin radius at ρ = {prm['rho']:g}")
        axr.axhline(3 * top, color="0.6", linewidth=0.6)
        axr.annotate("r = ∞", (a[0], 3 * top), xytext=(2, -10), textcoords="offset points", fontsize=7)
        for axx in (axn, axc, axr):
            axx.axvspan(geo["puller_boundary_deg"], geo["penalizer_boundary_deg"], color="0.88", zorder=0)
            axx.axvline(geo["max_margin_deg"], color="black", linestyle="--", linewidth=0.9)
            axx.axvline(geo["puller_deg"], color="#CC79A7", linestyle="-.", linewidth=0.9)
            axx.axvline(m, color=s["color"], linestyle=(0, (1, 1)), linewidth=0.9)
            axx.legend(fontsize=6.5, loc="upper left", framealpha=0.85)
        axn.set(ylabel="min over r of noisy risk", title=_loss_label(name, data["taus"].get(name)))
        axc.set(ylabel="min over r of clean risk")
        axr.set(xlabel="direction of θ (degrees)", ylabel="minimising radius r", ylim=(1e-3, 3e7))
        axn.annotate("puller", (geo["puller_deg"], 0.02), xycoords=("data", "axes fraction"), fontsize=6.5,
                     rotation=90, va="bottom", ha="right")
        axc.annotate("max margin", (geo["max_margin_deg"], 0.55), xycoords=("data", "axes fraction"), fontsize=6.5,
                     rotation=90, va="bottom", ha="right")
    fig.suptitle(f"Population risk over the direction of θ = r(cos a, sin a), minimised over r (Long & Servedio atoms, "
                 f"γ = {prm['gamma']:.4g}); shaded: every atom correct, dashed: max-margin direction, dash-dot: "
                 "puller, dotted: minimiser", fontsize=8.5)
    return fig


# ==================================================================================================

FIGURES = [
    FigureSpec("clipping_variants",
               "beyond the paper: clean accuracy of logistic (S)GD under each kind of gradient clipping",
               compute_clipping_variants, plot_clipping_variants, cost=10),
    FigureSpec("phase_population",
               "beyond the paper: exact population accuracy over (tau, rho) and (gamma, rho): where each loss breaks",
               compute_phase_population, plot_phase_population, cost=14),
    FigureSpec("phase_sample",
               "beyond the paper: the phase maps from finite samples, population boundary on top",
               compute_phase_sample, plot_phase_sample, cost=17),
    FigureSpec("noise_sweep",
               "beyond the paper: median and IQR clean accuracy against rho for the losses and clipping variants",
               compute_noise_sweep, plot_noise_sweep, cost=11),
    FigureSpec("adversarial_flips",
               "beyond the paper: accuracy against the flip budget, adversarial vs symmetric flips",
               compute_adversarial_flips, plot_adversarial_flips, cost=21),
    FigureSpec("calibration",
               "beyond the paper: PHuber's conditional-risk minimiser u*(eta) and the Prop. 7 bound rho * Delta(tau)",
               compute_calibration, plot_calibration, cost=5),
    FigureSpec("landscape",
               "beyond the paper: noisy population risk over the direction of theta, minimisers marked",
               compute_landscape, plot_landscape, cost=2),
]
