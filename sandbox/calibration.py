"""Calibration and robustness of partially Huberised losses: Lemma 6 and Prop. 7, as pure maths.

For a base loss ``l`` on the probability ``u`` given to the observed label (``l = varphi`` of
:mod:`sandbox.base_losses`) and a true class probability ``eta = P(y = +1 | x)``, the *conditional
risk* of predicting ``u = P(y = +1)`` is::

    C(u; eta) = eta * l(u) + (1 - eta) * l(1 - u),        u in [0, 1]

and ``u*(eta) = argmin_u C(u; eta)``. The loss is *proper* at ``eta`` when ``u*(eta) = eta`` and
*classification-calibrated* when ``sign(u*(eta) - 1/2) = sign(eta - 1/2)``.

Lemma 6, derived (the paper states it; we derive it here). For the partially Huberised log
loss ``l(u) = -tau u + log tau + 1`` (``u <= 1/tau``), ``-log u`` (else), ``tau > 1``, ``l`` is convex
and C1 with ``l'(u) = -min(tau, 1/u)`` (``-tau`` on the linear piece ``u <= 1/tau``, ``-1/u`` above), so
``C`` is convex and ``C'(u) = eta l'(u) - (1 - eta) l'(1 - u)``.
Take ``eta <= 1/2`` (the rest follows from ``u*(1 - eta) = 1 - u*(eta)``):

* if ``1/tau <= eta`` (possible only when ``tau >= 2``): at ``u = eta`` both ``u`` and ``1 - u`` lie
  above ``1/tau``, and ``C'(eta) = -eta/eta + (1 - eta)/(1 - eta) = 0``: ``u* = eta``;
* if ``eta < 1/tau``: on ``u <= min(1/tau, 1 - 1/tau)`` we have ``C'(u) = -eta tau + (1 - eta)/(1 - u)``,
  zero at ``u = 1 - (1 - eta)/(eta tau)``, which lies in ``[0, 1/tau)`` iff ``eta >= 1/(1 + tau)``;
  below that ``C'(0) = 1 - eta (1 + tau) >= 0`` and ``u* = 0``.

Hence, for ``eta <= 1/2``::

    u*(eta) = 0                              eta <= 1/(1 + tau)
              1 - (1 - eta) / (eta tau)      1/(1 + tau) <= eta <= 1/tau      (< eta: over-confident)
              eta                            1/tau <= eta <= 1/2

so ``u*(eta) = eta`` exactly on the *proper interval* ``[1/tau, 1 - 1/tau]`` (non-empty iff
``tau >= 2``) and ``u*(eta) < eta`` for ``eta < 1/tau`` (since ``u* - eta = (1 - eta)(1 - 1/(eta tau))``).
Calibration holds for every ``tau > 1``. (For ``1 < tau < 2`` and ``eta = 1/2`` every ``u`` in
``[1 - 1/tau, 1/tau]`` minimises ``C``; we return ``1/2``.)

Prop. 7, the identity behind it. Under symmetric noise at rate ``rho`` the label of an example is
flipped with probability ``rho``, so its expected loss is::

    (1 - rho) l(p) + rho l(1 - p) = (1 - 2 rho) l(p) + rho S(p),     S(u) = l(u) + l(1 - u)

and the noisy risk is ``R_rho(f) = (1 - 2 rho) R(f) + rho E[S(p_f)]``. If ``f*`` minimises the clean
risk ``R`` over a class, then for every ``f`` in it ``R_rho(f*) - R_rho(f) <= rho (E S(p_f*) - E S(p_f))
<= rho Delta`` with ``Delta = max_u S(u) - min_u S(u)``: the *excess noisy risk of the clean
minimiser* is at most ``rho Delta``. For the PHuber log loss ``S`` is convex and symmetric, so its
maximum is at ``u in {0, 1}`` (``1 + log tau``) and its minimum at ``u = 1/2``::

    Delta(tau) = tau - 1 - log tau        1 < tau <= 2
                 1 + log(tau / 4)         tau >= 2

(``~ (tau - 1)^2 / 2 -> 0`` as ``tau -> 1``; ``-> inf`` as ``tau -> inf``: the log loss is not robust).

From robustness to accuracy (our corollary, used to draw a guaranteed region on the phase maps). Let
every atom of a discrete distribution be classified correctly by some direction, and flip atom ``i``
with probability ``f_i < 1/2``. Along that direction at ``||theta|| -> inf`` every clean copy costs
``l(1) = 0`` and every flipped copy ``l(0)``, so ``inf R_f = sum_i w_i f_i S(0)`` or less. A scorer whose
score on atom ``j`` is ``<= 0`` gives it ``p <= 1/2``, and the same identity per atom,
``R_f(theta) = sum_i w_i [(1 - 2 f_i) l(p_i) + f_i S(p_i)]``, bounds its risk below by
``w_j (1 - 2 f_j) l(1/2) + S(1/2) sum_i w_i f_i``. Hence every minimiser classifies every atom
correctly as soon as::

    min_j w_j (1 - 2 f_j) l(1/2)  >  Delta(tau) * sum_i w_i f_i

(:func:`perfect_accuracy_guaranteed`). For symmetric noise (``f_i = rho``) this is
``rho < w l(1/2) / (Delta + 2 w l(1/2))`` with ``w`` the smallest atom weight
(:func:`guaranteed_rho`; ``l(1/2) = log 2`` for ``tau >= 2``, ``1 + log tau - tau/2`` below). The
condition degrades as an adversary pushes one atom's ``f_j`` towards 1/2, and says nothing once
``f_j >= 1/2`` (that atom's majority label is then wrong): the guarantee is for noise that keeps the
clean label the majority everywhere, and is tightest for symmetric noise.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import optimize

from . import base_losses
from ._checks import check_interval, check_positive_int
from .population import minimise_population_risk, population_risk

__all__ = [
    "conditional_risk",
    "conditional_minimiser",
    "phuber_log_minimiser",
    "proper_interval",
    "symmetric_sum",
    "symmetric_sum_range",
    "phuber_log_delta",
    "phuber_log_base",
    "noisy_expected_loss",
    "clean_minimiser_excess",
    "phuber_log_half",
    "perfect_accuracy_guaranteed",
    "guaranteed_rho",
]

BaseLoss = Callable[[np.ndarray], "tuple[np.ndarray, np.ndarray]"]


def _tau(tau) -> float:
    return check_interval("tau", tau, 1.0, np.inf, low_open=True, hint="PHuber needs tau > 1")


def _eta(eta) -> np.ndarray:
    e = np.asarray(eta, dtype=float)
    if np.any(~((e >= 0.0) & (e <= 1.0))):
        raise ValueError(f"eta={eta!r} holds values outside its domain [0, 1] (a class probability)")
    return e


def conditional_risk(base: BaseLoss, u, eta) -> np.ndarray:
    """``C(u; eta) = eta l(u) + (1 - eta) l(1 - u)``; ``u`` and ``eta`` broadcast.

    Terms with a zero weight are dropped (so ``C(0; 0) = l(1)`` even where ``l(0) = inf``).
    """
    u = np.asarray(u, dtype=float)
    eta = _eta(eta)
    a, b = base(u)[0], base(1.0 - u)[0]
    with np.errstate(invalid="ignore"):
        return np.where(eta > 0, eta * a, 0.0) + np.where(eta < 1, (1.0 - eta) * b, 0.0)


def conditional_minimiser(base: BaseLoss, eta, *, grid: int = 4001) -> np.ndarray:
    """``u*(eta)`` by brute force, for any base loss: the best of ``grid`` points on ``[0, 1]``,
    refined by bounded Brent between its neighbours (exact to ~1e-9 for a convex ``C``).

    An independent check of :func:`phuber_log_minimiser`; ``eta`` any shape.
    """
    grid = check_positive_int("grid", grid, minimum=3)
    eta = _eta(eta)
    u = np.linspace(0.0, 1.0, grid)
    out = np.empty(eta.shape)
    for idx, e in np.ndenumerate(eta):
        c = conditional_risk(base, u, e)
        i = int(np.argmin(c))
        lo, hi = u[max(i - 1, 0)], u[min(i + 1, grid - 1)]
        res = optimize.minimize_scalar(
            lambda t: float(conditional_risk(base, t, e)), bounds=(lo, hi), method="bounded",
            options={"xatol": 1e-12},
        )
        out[idx] = res.x if res.fun <= c[i] else u[i]
    return out


def _half_minimiser(eta: np.ndarray, tau: float) -> np.ndarray:
    """``u*(eta)`` of the PHuber log loss for ``eta <= 1/2`` (module docstring)."""
    with np.errstate(divide="ignore"):
        tilted = 1.0 - (1.0 - eta) / (eta * tau)
    u = np.where(eta >= 1.0 / tau, eta, np.maximum(tilted, 0.0))
    return np.where(eta == 0.5, 0.5, u)


def phuber_log_minimiser(eta, *, tau: float) -> np.ndarray:
    """Closed-form conditional-risk minimiser ``u*(eta)`` of the partially Huberised log loss (Lemma 6).

    ``0`` up to ``eta = 1/(1 + tau)``, then ``1 - (1 - eta)/(eta tau)`` up to ``1/tau``, then ``eta``
    (the proper interval ``[1/tau, 1 - 1/tau]``), and symmetrically above 1/2. ``tau > 1``;
    ``tau = inf`` is the log loss (``u* = eta``).

    >>> phuber_log_minimiser([0.1, 0.3, 0.5], tau=4.0).tolist()   # 1/(1+tau) = 0.2, 1/tau = 0.25
    [0.0, 0.3, 0.5]
    >>> round(float(phuber_log_minimiser(0.22, tau=4.0)), 6)      # 1 - 0.78 / 0.88
    0.113636
    """
    tau = _tau(tau)
    eta = _eta(eta)
    if np.isinf(tau):
        return eta.astype(float)
    low = eta <= 0.5
    e = np.where(low, eta, 1.0 - eta)
    u = _half_minimiser(e, tau)
    u = np.where(low, u, 1.0 - u)
    # on the proper interval return eta itself (1 - (1 - eta) can differ from eta by one rounding)
    return np.where((eta >= 1.0 / tau) & (eta <= 1.0 - 1.0 / tau), eta, u)


def proper_interval(*, tau: float) -> tuple[float, float] | None:
    """``[1/tau, 1 - 1/tau]``, where the PHuber log loss is proper (``u* = eta``); ``None`` if ``tau < 2``.

    At ``tau = 2`` it is the single point ``{1/2}``.
    """
    tau = _tau(tau)
    if tau < 2.0:
        return None
    return 1.0 / tau, 1.0 - 1.0 / tau


def symmetric_sum(base: BaseLoss, u) -> np.ndarray:
    """``S(u) = l(u) + l(1 - u)``: the part of the noisy risk that symmetric noise adds (Prop. 7)."""
    u = np.asarray(u, dtype=float)
    return base(u)[0] + base(1.0 - u)[0]


def symmetric_sum_range(base: BaseLoss, *, grid: int = 100001) -> float:
    """``Delta = max_u S(u) - min_u S(u)`` over ``grid`` points of ``[0, 1]`` (endpoints included).

    Brute force for any base loss; ``inf`` if ``S`` is unbounded (e.g. the log loss). Exact for the
    PHuber log loss when ``grid`` is odd (its extremes sit at 0, 1/2 and 1).
    """
    grid = check_positive_int("grid", grid, minimum=3)
    s = symmetric_sum(base, np.linspace(0.0, 1.0, grid))
    return float(np.max(s) - np.min(s))


def phuber_log_delta(tau) -> np.ndarray:
    """Closed-form ``Delta(tau)`` of the PHuber log loss (module docstring); vectorised over ``tau > 1``.

    >>> [round(float(v), 6) for v in phuber_log_delta([1.36, 2.0, 4.0])]   # 0.36 - log 1.36, 1 - log 2, 1
    [0.052515, 0.306853, 1.0]
    """
    t = np.asarray(tau, dtype=float)
    if np.any(~(t > 1.0)):
        raise ValueError(f"tau={tau!r} holds values outside its domain (1, inf) (PHuber needs tau > 1)")
    with np.errstate(invalid="ignore"):
        return np.where(t <= 2.0, t - 1.0 - np.log(t), 1.0 + np.log(t / 4.0))


def noisy_expected_loss(base: BaseLoss, p, *, rho) -> tuple[np.ndarray, np.ndarray]:
    """Both sides of the Prop. 7 identity for one example with ``p`` = probability of its clean label:

    ``(1 - rho) l(p) + rho l(1 - p)`` and ``(1 - 2 rho) l(p) + rho S(p)``; equal up to rounding.
    """
    p = np.asarray(p, dtype=float)
    rho = np.asarray(rho, dtype=float)
    lp, lq = base(p)[0], base(1.0 - p)[0]
    return (1.0 - rho) * lp + rho * lq, (1.0 - 2.0 * rho) * lp + rho * symmetric_sum(base, p)


def clean_minimiser_excess(loss, dist, *, rho, n_angles: int = 720, n_radii: int = 121) -> dict:
    """Excess noisy population risk of the clean-risk minimiser: ``R_rho(theta*) - min_theta R_rho``.

    ``theta*`` minimises the clean population risk (``rho = 0``) of ``loss`` over bias-free linear
    scorers on ``dist`` (:func:`sandbox.population.minimise_population_risk`, which may return it at
    ``||theta|| = inf``); the noisy minimum is found the same way for every ``rho`` (an array) in one
    vectorised call. The minimum is an achieved risk, so the reported excess is exact for the grid
    minimiser and can only understate the true excess by the search's optimisation error.

    Returns ``excess`` (shape of ``rho``), ``clean_risk`` (``R_0(theta*)``, ~0 on separable data),
    ``clean_angle`` and ``noisy_risk_of_clean`` / ``noisy_min``.
    """
    rho = np.asarray(rho, dtype=float)
    clean = minimise_population_risk(loss, dist, rho=0.0, n_angles=n_angles, n_radii=n_radii)
    noisy = minimise_population_risk(loss, dist, rho=rho, n_angles=n_angles, n_radii=n_radii)
    r_clean = np.array([population_risk(loss, clean.theta, dist, rho=float(r)) for r in rho.ravel()])
    r_clean = r_clean.reshape(rho.shape)
    return {
        "excess": r_clean - noisy.risk,
        "clean_risk": float(clean.risk),
        "clean_angle": float(clean.angle),
        "noisy_risk_of_clean": r_clean,
        "noisy_min": noisy.risk,
    }


def phuber_log_base(*, tau: float) -> BaseLoss:
    """``p -> base_losses.phuber_log_loss(p, tau=tau)`` (``tau = inf``: the log loss)."""
    tau = _tau(tau)
    if np.isinf(tau):
        return base_losses.log_loss
    return lambda p: base_losses.phuber_log_loss(p, tau=tau)


def phuber_log_half(tau) -> np.ndarray:
    """``l_tau(1/2)``, the PHuber log loss of a tie: ``log 2`` for ``tau >= 2``, ``1 + log tau - tau/2`` below."""
    t = np.asarray(tau, dtype=float)
    if np.any(~(t > 1.0)):
        raise ValueError(f"tau={tau!r} holds values outside its domain (1, inf) (PHuber needs tau > 1)")
    return np.where(t >= 2.0, np.log(2.0), 1.0 + np.log(t) - t / 2.0)


def perfect_accuracy_guaranteed(weights, flip, *, tau: float) -> np.ndarray:
    """Whether the corollary of the module docstring guarantees that every minimiser of the noisy
    risk of the PHuber log loss classifies every atom correctly, for per-atom flip fractions ``flip``
    (shape ``(..., m)``) on atoms of weights ``weights`` (``(m,)``) that some direction separates.

    ``min_j w_j (1 - 2 f_j) l(1/2) > Delta(tau) sum_i w_i f_i``; never true when some ``f_j >= 1/2``.
    """
    tau = _tau(tau)
    w = np.asarray(weights, dtype=float)
    f = np.asarray(flip, dtype=float)
    lhs = np.min(w * (1.0 - 2.0 * f), axis=-1) * phuber_log_half(tau)
    return lhs > phuber_log_delta(tau) * (f @ w)


def guaranteed_rho(tau, *, min_weight: float) -> np.ndarray:
    """Symmetric noise rates below which :func:`perfect_accuracy_guaranteed` holds:
    ``w l(1/2) / (Delta(tau) + 2 w l(1/2))`` with ``w = min_weight`` (1/4 on Long & Servedio's atoms).

    Tends to 1/2 as ``tau -> 1`` (``Delta -> 0``) and to 0 as ``tau -> inf``.
    """
    w = check_interval("min_weight", min_weight, 0.0, 1.0, low_open=True)
    h = phuber_log_half(tau)
    return w * h / (phuber_log_delta(tau) + 2.0 * w * h)
