"""The robust-loss atlas: every registered margin loss on the Long & Servedio construction.

For one representative setting of each loss (:data:`ATLAS_SETTINGS`) and for sweeps of its main
hyperparameter (:data:`HYPER_SWEEPS`), everything is computed with the package's own tools:

* **population verdict** (:func:`population_verdict`): the clean accuracy of the minimiser of the
  noisy population risk ``R_rho`` on the atoms, over a grid of ``rho`` in one vectorised
  minimisation (:func:`sandbox.population.minimise_population_risk`, infinite radius included).
  Ties are ties: ``accuracy`` is what *every* minimiser reaches (the highest accuracy over a tie),
  ``accuracy_low`` the lowest a tied minimiser allows. ``break_rho`` is the smallest grid ``rho`` at
  which every minimiser misclassifies an atom, ``tie_rho`` the smallest at which some minimiser does
  (:func:`sandbox.metrics.break_rho`). Over the margin parameter ``gamma``: :func:`break_over_gamma`.
* **adversarial budget** (:func:`adversary_verdict`): the per-atom adversary of
  :func:`sandbox.adversary.atom_flip_search` over a grid of budgets; the smallest budget that breaks
  the loss for every minimiser, and the smallest at which a tie allows a wrong minimiser.
* **symmetry** (:func:`symmetry_check`): whether ``phi(z) + phi(-z)`` is constant, checked on a grid
  of margins up to ``1e300``. For such a loss symmetric noise only rescales the risk and adds a constant,
  ``R_rho = (1 - 2 rho) R_0 + rho C`` (Ghosh, Manwani & Sastry 2015; the paper's Prop. 7 bounds the
  deviation from this for PHuber), so the noisy minimisers are the clean ones for every ``rho < 1/2``.
* **family** (:func:`loss_family`): symmetric; a convex potential in Long & Servedio's sense
  (convex, non-increasing, ``phi'(0) < 0``, bounded below: their construction defeats every such
  loss, paper Prop. 4); convex but not a potential (the squared loss grows for ``z > 1``); bounded
  but not symmetric; neither convex nor bounded.
* **samples** (:func:`sample_verdicts`): the paper's Fig. 2a experiment (Sec. 6) for the loss, the
  same trials as :mod:`sandbox.figures.fig2a_long_servedio` (:func:`sandbox.trials.long_servedio_trials`
  with the same arguments), fitted by the paper's protocol (:func:`sandbox.slsqp.fit_slsqp`) and by the
  empirical-risk minimiser (:func:`sandbox.converged.fit_converged`, where it has a sound method for the
  loss: convex or bounded), summarised by :func:`sandbox.metrics.summarise`.

:func:`atlas_row` does all of it for one loss; the figures ``loss_atlas`` and ``loss_atlas_hyper``
are thin layers over it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_choice, check_interval, check_loss, check_positive_int
from .adversary import atom_flip_search, lowest_accuracy
from .converged import fit_converged, loss_kind
from .data import long_servedio
from .linear import accuracy
from .metrics import break_rho, summarise
from .population import R_INF, _value, minimise_population_risk
from .registry import LOSS_NAMES, LOSSES, make_loss
from .slsqp import fit_slsqp
from .trials import long_servedio_trials

__all__ = [
    "ATLAS_SETTINGS",
    "PRESET_TAUS",
    "HYPER_SWEEPS",
    "FAMILIES",
    "FAMILY_LABELS",
    "SYMMETRY_RTOL",
    "HyperSweep",
    "PopulationVerdict",
    "AdversaryVerdict",
    "SymmetryCheck",
    "atlas_settings",
    "atlas_loss",
    "hyper_values",
    "population_verdict",
    "break_over_gamma",
    "adversary_verdict",
    "symmetry_check",
    "loss_family",
    "sample_verdicts",
    "atlas_row",
]

# --------------------------------------------------------------------------------------------------
# Settings: the one place for each loss's representative hyperparameters and its sweep
# --------------------------------------------------------------------------------------------------

PRESET_TAUS = {"huberised": "tau_huberised", "phuber": "tau_phuber"}  # loss -> the Preset field of its tau

ATLAS_SETTINGS: dict[str, dict[str, float]] = {
    "logistic": {},
    "huberised": {},  # tau: the preset's tau_huberised (0.26 ~ sigmoid(-1), the authors' value for Fig. 2a)
    "phuber": {},  # tau: the preset's tau_phuber (1.36 ~ 1 + e^-1, the authors' value for Fig. 2a)
    "unhinged": {},
    "linear": {},
    "gce": {"q": 0.7},  # Zhang & Sabuncu 2018 and the paper's Table 2
    "phuber_gce": {"tau": 2.0, "q": 0.7},  # the paper's Table 2 picks tau from {2, 10}: the smaller one
    "ramp": {},
    "squared": {},
    "sce": {"alpha": 0.1, "beta": 1.0, "A": -4.0},  # the registry's defaults (Wang et al. 2019, CIFAR-10)
    "nce": {},
    "nce_mae": {"alpha": 1.0, "beta": 1.0},  # the registry's defaults (Ma et al. 2020, CIFAR-10)
    "nce_rce": {"alpha": 1.0, "beta": 1.0, "A": -4.0},  # the registry's defaults (Ma et al. 2020, CIFAR-10)
    "taylor_ce": {"k": 2.0},  # ours: the lowest order that is not the linear loss (k = 1); as in Table 2
    "logit_clip": {"delta": 1.0},  # the registry's default (LogitClip's code default, bound 1/temp = 1)
    # ours (both papers tune their temperatures per task): a mild bi-tempered setting, bounded
    # (t1 < 1: phi(-inf) = 1/(1 - t1) = 5) with a heavy-tailed link (t2 > 1)
    "bi_tempered": {"t1": 0.8, "t2": 1.2},
    # ours: t = 2, where the tempered sigmoid has a closed form (1/(1 - p) - 1/p = z)
    "t_logistic": {"t": 2.0},
}


@dataclass(frozen=True)
class HyperSweep:
    """The main hyperparameter ``param`` of a loss and the ``values`` it is swept over (the other
    parameters stay at :data:`ATLAS_SETTINGS`); ``log``: spread geometrically (plot on a log axis;
    for a negative parameter, such as ``A``, the axis is ``|A|``)."""

    param: str
    values: tuple[float, ...]
    log: bool


def _geom(lo, hi, n) -> tuple[float, ...]:
    return tuple(float(v) for v in np.round(np.geomspace(lo, hi, n), 4))


HYPER_SWEEPS: dict[str, HyperSweep] = {
    "huberised": HyperSweep("tau", _geom(0.005, 0.99, 13), True),  # meaningful in (0, 1)
    "phuber": HyperSweep("tau", _geom(1.01, 1000.0, 15), True),  # tau > 1; tau -> inf is logistic
    "gce": HyperSweep("q", (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0), False),  # q = 1: linear
    "phuber_gce": HyperSweep("tau", _geom(1.01, 1000.0, 13), True),
    "sce": HyperSweep("A", tuple(-v for v in _geom(0.1, 100.0, 13)), True),  # convex iff |A| <= alpha/beta
    "nce_mae": HyperSweep("alpha", _geom(0.01, 100.0, 9), True),
    "nce_rce": HyperSweep("A", tuple(-v for v in _geom(0.1, 100.0, 13)), True),
    "taylor_ce": HyperSweep("k", (1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0), True),
    "logit_clip": HyperSweep("delta", _geom(0.05, 50.0, 13), True),
    "bi_tempered": HyperSweep("t1", (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0), False),  # at t2 = 1.2
    # up to t = 20: beyond, sigma_t'(0) = 2^-(t+1) makes the loss log 2 to rounding for every |z| <= 1e6, and
    # its minimisers are decided by rounding and by the limits at r = inf alone
    "t_logistic": HyperSweep("t", (1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0), True),
}


def atlas_settings(*, tau_huberised: float, tau_phuber: float) -> dict[str, dict[str, float]]:
    """Every registered loss's atlas parameters, in registry order, with the two paper taus filled in
    (e.g. from a :class:`~sandbox.presets.Preset`)."""
    taus = {"huberised": check_interval("tau_huberised", tau_huberised, 0.0, np.inf, low_open=True),
            "phuber": check_interval("tau_phuber", tau_phuber, 1.0, np.inf, low_open=True)}
    out = {}
    for name in LOSS_NAMES:
        params = dict(ATLAS_SETTINGS[name])
        if name in taus:
            params["tau"] = taus[name]
        out[name] = params
    return out


def atlas_loss(name: str, *, tau_huberised: float, tau_phuber: float, **override):
    """The :class:`~sandbox.registry.MarginLoss` ``name`` at its atlas setting, with ``override``
    replacing some of its parameters (as in a hyperparameter sweep)."""
    check_choice("name", name, LOSS_NAMES)
    params = atlas_settings(tau_huberised=tau_huberised, tau_phuber=tau_phuber)[name]
    return make_loss(name, **{**params, **override})


def hyper_values(name: str, *, points: int | None = None) -> tuple[float, ...]:
    """The sweep values of ``name`` (:data:`HYPER_SWEEPS`): all of them, or ``points`` of them evenly
    spread over the list (its first and last included)."""
    check_choice("name", name, tuple(HYPER_SWEEPS))
    values = HYPER_SWEEPS[name].values
    if points is None:
        return values
    points = check_positive_int("points", points, minimum=2)
    idx = np.unique(np.round(np.linspace(0, len(values) - 1, min(points, len(values)))).astype(int))
    return tuple(values[i] for i in idx)


# --------------------------------------------------------------------------------------------------
# Population verdicts
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PopulationVerdict:
    """The noisy population minimiser of one loss on the Long & Servedio atoms over a grid of ``rho``.

    ``accuracy`` ``(R,)``: the clean accuracy every minimiser reaches (the highest over a tie);
    ``risk``: the minimal noisy risk (at ``R_INF`` standing for ``r = inf`` where the limit wins);
    ``accuracy_low``: the lowest a tied minimiser allows (equal to ``accuracy`` without a tie); ``tie``;
    ``radius`` (``inf``: the infimum lies at infinite norm, the direction is the classifier);
    ``angle_deg``; ``atom_correct`` ``(R, 3)`` (large margin, puller, penalizer). ``break_rho``: the
    smallest grid ``rho`` with ``accuracy < 1``; ``tie_rho``: with ``accuracy_low < 1`` (``<=
    break_rho``); ``None``: never on the grid.
    """

    gamma: float
    rho: np.ndarray
    accuracy: np.ndarray
    accuracy_low: np.ndarray
    risk: np.ndarray
    tie: np.ndarray
    radius: np.ndarray
    angle_deg: np.ndarray
    atom_correct: np.ndarray
    break_rho: float | None
    tie_rho: float | None


def _rho_grid(rho) -> np.ndarray:
    r = np.atleast_1d(np.asarray(rho, dtype=float))
    if r.ndim != 1 or r.size == 0:
        raise ValueError(f"rho={rho!r} must be a non-empty 1-D grid of noise rates")
    for v in r:
        check_interval("rho", float(v), 0.0, 0.5, high_open=True, hint="symmetric noise needs rho < 1/2")
    return r


def population_verdict(loss, *, gamma: float, rho, n_angles: int = 720, n_radii: int = 121) -> PopulationVerdict:
    """Clean accuracy of the noisy population minimiser of ``loss`` on ``long_servedio(gamma=gamma)``
    at every noise rate of the grid ``rho`` (one vectorised :func:`minimise_population_risk`).

    >>> v = population_verdict(make_loss("logistic"), gamma=1 / 24, rho=[0.0, 0.2], n_angles=360, n_radii=61)
    >>> v.accuracy.tolist(), v.break_rho
    ([1.0, 0.5], 0.2)
    """
    rho = _rho_grid(rho)
    dist = long_servedio(gamma=gamma)
    fit = minimise_population_risk(loss, dist, rho=rho, n_angles=n_angles, n_radii=n_radii)
    low, high = fit.accuracy_range[:, 0], fit.accuracy_range[:, 1]
    return PopulationVerdict(
        gamma=float(gamma), rho=rho, accuracy=high, accuracy_low=low, risk=fit.risk, tie=fit.tie, radius=fit.radius,
        angle_deg=np.degrees(fit.angle), atom_correct=fit.atom_correct,
        break_rho=break_rho(rho, high), tie_rho=break_rho(rho, low),
    )


def break_over_gamma(loss, *, gammas, rho, n_angles: int = 720, n_radii: int = 121) -> dict:
    """``break_rho`` and ``tie_rho`` (lists, ``None`` = never on the ``rho`` grid) of ``loss`` for each
    margin parameter in ``gammas`` (each in ``(0, 1/6)``)."""
    verdicts = [population_verdict(loss, gamma=g, rho=rho, n_angles=n_angles, n_radii=n_radii) for g in gammas]
    return {"gamma": [v.gamma for v in verdicts], "break_rho": [v.break_rho for v in verdicts],
            "tie_rho": [v.tie_rho for v in verdicts]}


@dataclass(frozen=True)
class AdversaryVerdict:
    """The per-atom adversary (:func:`sandbox.adversary.atom_flip_search`) over a grid of budgets.

    ``accuracy`` ``(B,)``: what every minimiser reaches under the worst flips within the budget;
    ``accuracy_low``: the lowest a tie allows (``accuracy`` where no tie does worse); ``flip`` ``(B, 3)``
    the worst flip fractions (large margin, puller, penalizer). ``break_budget``: the smallest grid
    budget with ``accuracy < 1``, ``break_flip`` its flips; ``tie_budget``: the smallest with
    ``accuracy_low < 1``; ``None``: never on the grid.
    """

    budgets: np.ndarray
    accuracy: np.ndarray
    accuracy_low: np.ndarray
    flip: np.ndarray
    break_budget: float | None
    tie_budget: float | None
    break_flip: np.ndarray | None


def adversary_verdict(loss, *, gamma: float, budgets, resolution: float = 0.1, levels=None, n_angles: int = 720,
                      n_radii: int = 121) -> AdversaryVerdict:
    """The smallest per-atom flip budget that breaks ``loss`` on ``long_servedio(gamma=gamma)`` (see
    :class:`AdversaryVerdict`); flip fractions on ``{0, resolution, ..., 1}`` or on ``levels``."""
    b = np.atleast_1d(np.asarray(budgets, dtype=float))
    for v in b:
        check_interval("budgets", float(v), 0.0, 1.0, hint="flip budgets as fractions of the population mass")
    r = atom_flip_search(loss, long_servedio(gamma=gamma), b, resolution=resolution, levels=levels,
                         n_angles=n_angles, n_radii=n_radii)
    acc = r["clean_accuracy"]
    low = lowest_accuracy(r)
    brk = break_rho(b, acc)
    flip = None if brk is None else r["flip"][int(np.flatnonzero(b == brk)[0])]
    return AdversaryVerdict(budgets=b, accuracy=acc, accuracy_low=low, flip=r["flip"], break_budget=brk,
                            tie_budget=break_rho(b, low), break_flip=flip)


# --------------------------------------------------------------------------------------------------
# Symmetry and family
# --------------------------------------------------------------------------------------------------

SYMMETRY_RTOL = 1e-9  # phi(z) and phi(-z) are each computed to a few ulps, so their sum is known to
# ~1e-16 (|phi(z)| + |phi(-z)|): measured deviations of the symmetric losses are <= 2.2e-16 relative (the
# unhinged loss at |z| = 1e300: (1 - 1e300) + (1 + 1e300) = 0 in floating point, an error of 2 in 2e300).
# The smallest genuine deviation among the atlas's losses and sweeps is PHuber's near tau = 1: Delta(tau)
# ~ (tau - 1)^2 / 2 = 5e-5 at tau = 1.01 (Prop. 7), 4.9e-5 relative.
_SYMMETRY_Z = np.concatenate([[0.0], np.logspace(-4, 300, 913)])  # 3 points per decade, up to 1e300


@dataclass(frozen=True)
class SymmetryCheck:
    """``s(z) = phi(z) + phi(-z)`` on ``z in {0} U [1e-4, 1e300]`` (3 points per decade):
    ``deviation`` is ``max_z |s(z) - s(0)| / max(1, |phi(z)| + |phi(-z)|)`` (``inf`` where ``s`` is not
    finite), ``symmetric`` when it is at most ``SYMMETRY_RTOL``, and then ``constant = s(0)``."""

    symmetric: bool
    constant: float | None
    deviation: float


def symmetry_check(loss) -> SymmetryCheck:
    """Whether ``phi(z) + phi(-z)`` is constant, numerically, on margins up to ``1e300``.

    Up to ``1e300``, not ``1e6``: a loss can be constant to rounding on any practical range and still
    not be symmetric (t-logistic at ``t = 50`` is ``log 2`` to double precision for ``|z| <= 1e6``, since
    ``sigma_t'(0) = 2^-(t+1)``, and ``phi(1e300) = 7e-7``). The margin-space form of the condition;
    :func:`sandbox.calibration.symmetric_sum` is the same sum ``S(u) = l(u) + l(1 - u)`` of a base loss in
    probability space (composite losses only), and its range is Prop. 7's ``Delta``.

    >>> symmetry_check(make_loss("ramp")).constant, symmetry_check(make_loss("logistic")).symmetric
    (2.0, False)
    """
    check_loss(loss)
    with np.errstate(over="ignore", invalid="ignore"):
        a, b = (np.asarray(_value(loss, z), dtype=float) for z in (_SYMMETRY_Z, -_SYMMETRY_Z))
        s = a + b
        dev = np.abs(s - s[0]) / np.maximum(1.0, np.abs(a) + np.abs(b))
    if not np.all(np.isfinite(dev)):
        return SymmetryCheck(False, None, float("inf"))
    deviation = float(dev.max())
    sym = deviation <= SYMMETRY_RTOL
    return SymmetryCheck(bool(sym), float(s[0]) if sym else None, deviation)


FAMILIES = ("convex_potential", "convex", "unbounded", "bounded", "symmetric")
FAMILY_LABELS = {
    "convex_potential": "convex potentials (Long & Servedio)",
    "convex": "convex, not a potential",
    "unbounded": "neither convex nor bounded",
    "bounded": "bounded, not symmetric",
    "symmetric": "symmetric: φ(z) + φ(−z) constant",
}
_PROBE = np.concatenate([-np.logspace(3, -3, 61), [0.0], np.logspace(-3, 3, 61)])


def loss_family(loss, *, symmetric: bool) -> str:
    """The atlas group of ``loss`` (one of :data:`FAMILIES`), first match wins:

    ``symmetric`` (as checked by :func:`symmetry_check`, passed in); ``convex_potential``: flagged
    convex, non-increasing and ``phi'(0) < 0`` on a probe grid, and bounded below (``phi(+inf)``
    finite): the losses Long & Servedio's construction defeats; ``convex``: any other convex loss;
    ``bounded``: flagged bounded; ``unbounded``: the rest.
    """
    check_loss(loss)
    if symmetric:
        return "symmetric"
    with np.errstate(over="ignore", invalid="ignore"):
        _, d = loss(_PROBE)
        phi_plus = float(_value(loss, np.array([R_INF]))[0])
        d0 = float(loss(np.array([0.0]))[1][0])
    if getattr(loss, "convex", None):
        if np.all(d <= 0) and d0 < 0 and np.isfinite(phi_plus) and abs(phi_plus) < R_INF:
            return "convex_potential"
        return "convex"
    return "bounded" if getattr(loss, "bounded", None) else "unbounded"


# --------------------------------------------------------------------------------------------------
# Samples: the paper's Fig. 2a experiment, both protocols
# --------------------------------------------------------------------------------------------------


def sample_verdicts(loss, *, trials: int, n_train: int, n_test: int, rho: float, rng, gamma: float = 1 / 24,
                    sigma: float = 0.01, slsqp_maxiter: int = 100) -> dict:
    """Clean test accuracy of ``loss`` on the paper's Fig. 2a trials, fitted two ways.

    The trials are :func:`sandbox.trials.long_servedio_trials` with these arguments (an int ``rng`` gives
    the same trials as ``fig2a_long_servedio`` with that seed). ``"slsqp"``: the paper's protocol
    (:func:`sandbox.slsqp.fit_slsqp`, at most ``slsqp_maxiter`` iterations from 0), with ``n_success``
    (SciPy's status 0) and ``n_maxiter`` (stopped by the iteration cap). ``"converged"``: the
    empirical-risk minimiser (:func:`sandbox.converged.fit_converged`) with ``n_converged``,
    ``n_unbounded`` (infimum at infinite norm) and ``n_tie``; for a loss it has no sound method for
    (neither convex nor bounded) ``{"available": False, "reason": ...}``. Each has ``accuracy`` ``(T,)``
    and ``stats`` (:func:`sandbox.metrics.summarise`).
    """
    data = long_servedio_trials(trials=trials, n_train=n_train, n_test=n_test, rho=rho, rng=rng, gamma=gamma,
                                sigma=sigma)
    fit = fit_slsqp(loss, data.X_train, data.y_train, maxiter=slsqp_maxiter)
    acc = accuracy(fit.theta, data.X_test, data.y_test)
    out = {"slsqp": {"available": True, "accuracy": acc, "stats": summarise(acc),
                     "n_success": int(np.sum(fit.success)), "n_maxiter": int(np.sum(fit.nit >= slsqp_maxiter)),
                     "nit_median": float(np.median(fit.nit))}}
    try:
        loss_kind(loss)
    except ValueError as e:
        out["converged"] = {"available": False, "reason": str(e)}
        return out
    conv = fit_converged(loss, data.X_train, data.y_train)
    acc = accuracy(conv.theta, data.X_test, data.y_test)
    out["converged"] = {"available": True, "accuracy": acc, "stats": summarise(acc),
                        "n_converged": int(np.sum(conv.converged)), "n_unbounded": int(np.sum(conv.unbounded)),
                        "n_tie": int(np.sum(conv.tie)), "kind": conv.kind}
    return out


# --------------------------------------------------------------------------------------------------
# One loss, everything
# --------------------------------------------------------------------------------------------------


def atlas_row(name: str, params: dict, *, gamma: float, rho, gammas=(), budgets=None, resolution: float = 0.1,
              levels=None, n_angles: int = 720, n_radii: int = 121) -> dict:
    """Everything the atlas says about one loss at ``params``, population only (no sampling):

    ``label``, ``params``, ``convex``/``bounded`` (the registry's flags), ``symmetry``
    (:func:`symmetry_check`), ``family`` (:func:`loss_family`), ``population``
    (:func:`population_verdict` at ``gamma`` over ``rho``), ``gamma_sweep`` (:func:`break_over_gamma`
    over ``gammas``, if any) and ``adversary`` (:func:`adversary_verdict` over ``budgets``, if given).
    """
    loss = make_loss(name, **params)
    sym = symmetry_check(loss)
    row = {
        "name": loss.name, "label": loss.label, "params": dict(loss.params), "summary": LOSSES[loss.name].summary,
        "convex": bool(loss.convex), "bounded": bool(loss.bounded), "symmetry": sym,
        "family": loss_family(loss, symmetric=sym.symmetric),
        "population": population_verdict(loss, gamma=gamma, rho=rho, n_angles=n_angles, n_radii=n_radii),
    }
    if len(gammas):
        row["gamma_sweep"] = break_over_gamma(loss, gammas=gammas, rho=rho, n_angles=n_angles, n_radii=n_radii)
    if budgets is not None:
        row["adversary"] = adversary_verdict(loss, gamma=gamma, budgets=budgets, resolution=resolution,
                                             levels=levels, n_angles=n_angles, n_radii=n_radii)
    return row
