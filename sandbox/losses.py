"""Binary margin losses: each function maps margins ``z = y * s(x)`` to ``(phi(z), phi'(z))``.

Labels are ``y in {-1, +1}``; every function is vectorised over arrays of any shape and is finite,
accurate and warning-free for ``|z|`` up to ``1e6`` (and beyond); a NaN margin gives NaN, silently.
The paper's losses (Section 3, Lemmas 2 and 5, Eqs. 8-12) and its table's (Table 2):

============================  =====================================================  ==========
loss (registry name)          phi(z)                                                 parameter
============================  =====================================================  ==========
logistic                      log(1 + e^-z)                                          --
huberised (Lemma 2, Eq. 8)    logistic above z0 = log((1-tau)/tau), tangent below    tau in (0, 1)
phuber (Eq. 11)               -log sigmoid(z) above z0 = -log(tau-1), else           tau > 1
                              -tau sigmoid(z) + log tau + 1
unhinged                      1 - z                                                  --
linear                        1 - sigmoid(z)                                         --
gce                           (1 - sigmoid(z)^q) / q                                 q in (0, 1]
phuber_gce                    GCE, linearised in p below p0 = tau^(-1/(1-q))         tau > 1, q in (0, 1)
============================  =====================================================  ==========

Each value and each derivative is written once (``_value_*`` and ``_deriv_*`` functions); the public
function returns both. The named losses (``make_loss("phuber", tau=1.36)``) are in
:mod:`sandbox.registry`: adding a loss is one function plus one registry entry.
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np
from scipy import optimize
from scipy.special import expit, log_expit, logit

from . import base_losses
from ._checks import check_interval

__all__ = [
    "logistic",
    "huberise",
    "huberised_logistic",
    "huberised_logistic_switch",
    "huberised_linear_piece",
    "partially_huberise",
    "compose_sigmoid",
    "phuber_logistic",
    "phuber_logistic_switch",
    "unhinged",
    "linear",
    "gce",
    "phuber_gce",
]

LossFn = Callable[[np.ndarray], "tuple[np.ndarray, np.ndarray]"]


def _z(z) -> np.ndarray:
    return np.asarray(z, dtype=float)


def _nan_quiet(fn):
    """Run ``fn`` with NumPy's 'invalid' warning off: a NaN margin gives NaN, without a warning."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(invalid="ignore"):
            return fn(*args, **kwargs)

    return wrapper


# --------------------------------------------------------------------------------------------------
# Logistic and its Huberisation
# --------------------------------------------------------------------------------------------------


def _value_logistic(z) -> np.ndarray:
    return np.logaddexp(0.0, -_z(z))


@_nan_quiet
def logistic(z) -> tuple[np.ndarray, np.ndarray]:
    """Logistic loss ``phi(z) = log(1 + e^-z)`` and ``phi'(z) = -sigmoid(-z)``.

    Computed as ``logaddexp(0, -z)``: exact to rounding for all finite z (``phi(-1e6) = 1e6``,
    ``phi(40) = e^-40``).

    >>> [float(v) for v in logistic(0.0)]
    [0.6931471805599453, -0.5]
    """
    z = _z(z)
    return _value_logistic(z), -expit(-z)


def huberise(loss: LossFn, *, tau: float, z0: float | None = None) -> LossFn:
    """Huberisation of a convex margin loss at ``tau > 0`` (Lemma 2, Eq. 8), as a new loss.

    Keeps ``phi`` where ``phi'(z) > -tau`` and continues along the tangent below the point ``z0``
    where ``phi'(z0) = -tau``::

        phi_tau(z) = phi(z0) - tau * (z - z0)   if z <= z0        (= -tau z - phi*(-tau))
                     phi(z)                     otherwise

    so ``|phi_tau'| <= tau``: gradient descent on ``phi_tau`` is gradient descent on ``phi`` with the
    derivative clipped at ``-tau`` ("L-clipping"). ``z0`` is found by root-finding on the
    (non-decreasing) ``phi'`` if not given. If ``phi' >= -tau`` everywhere, ``loss`` is returned as is.
    """
    tau = check_interval("tau", tau, 0.0, np.inf, low_open=True, high_open=True)
    if z0 is None:
        z0 = _find_tangent_point(loss, tau)
        if z0 is None:
            return loss
    v0 = float(loss(np.array(z0))[0])

    def huberised(z) -> tuple[np.ndarray, np.ndarray]:
        z = _z(z)
        low = z <= z0
        v, d = loss(np.where(low, z0, z))
        return np.where(low, v0 - tau * (z - z0), v), np.where(low, -tau, d)

    return huberised


def _find_tangent_point(loss: LossFn, tau: float) -> float | None:
    f = lambda z: float(loss(np.array(z))[1]) + tau  # noqa: E731  (non-decreasing in z)
    if f(-1e12) >= 0:
        return None  # slope never steeper than -tau: nothing to clip
    lo, hi = -1.0, 1.0
    while f(lo) >= 0:
        lo *= 2.0
    while f(hi) < 0:
        hi *= 2.0
        if hi > 1e12:
            raise ValueError(
                f"tau={tau!r}: the loss's derivative stays below -tau for all margins, so its "
                "Huberisation is not bounded below (is the loss linear, e.g. unhinged?)"
            )
    return optimize.brentq(f, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps)


def _huber_tau(tau) -> np.ndarray:
    """``tau`` (a scalar, or one threshold per entry of the last axis) as a float array, all > 0."""
    if np.ndim(tau) == 0:
        return np.asarray(check_interval("tau", tau, 0.0, np.inf, low_open=True, high_open=True,
                                         hint="tau >= 1 is plain logistic"))
    t = np.asarray(tau, dtype=float)
    if np.any(~((t > 0) & (t < np.inf))):
        raise ValueError(f"tau={tau!r} holds thresholds outside their domain (0, inf)")
    return t


def huberised_logistic_switch(*, tau) -> float | np.ndarray:
    """Switch point ``z0 = log((1 - tau)/tau)`` where ``logistic'(z0) = -tau``; ``-inf`` for tau >= 1.

    ``tau`` may be an array (one threshold per entry); the result then has its shape.
    """
    t = _huber_tau(tau)
    z0 = np.where(t < 1.0, -logit(np.where(t < 1.0, t, 0.5)), -np.inf)
    return float(z0) if z0.ndim == 0 else z0


def huberised_linear_piece(*, tau: float) -> tuple[float, float]:
    """``(z0, c)`` for ``tau in (0, 1)``: below ``z0`` the Huberised logistic loss is ``c - tau z`` with
    ``c = -log(1 - tau) - tau logit(tau)`` (the value and the tangent of logistic at ``z0``, Eq. 8)."""
    tau = check_interval("tau", tau, 0.0, 1.0, low_open=True, high_open=True,
                         hint="the Huberised logistic loss has a linear piece only for tau < 1")
    return float(-logit(tau)), float(-np.log1p(-tau) - tau * logit(tau))


def _value_huberised(z, *, tau) -> np.ndarray:
    t = _huber_tau(tau)
    z0 = huberised_logistic_switch(tau=t)
    z = _z(z)
    ts = np.where(t < 1.0, t, 0.5)  # the linear piece is used only where tau < 1
    lin = -t * z - np.log1p(-ts) - t * logit(ts)
    return np.where(z <= z0, lin, _value_logistic(z))


def _deriv_huberised(z, *, tau) -> np.ndarray:
    t = _huber_tau(tau)
    z = _z(z)
    return np.where(z <= huberised_logistic_switch(tau=t), -t, -expit(-z))


@_nan_quiet
def huberised_logistic(z, *, tau) -> tuple[np.ndarray, np.ndarray]:
    """Huberised logistic loss (Lemma 2 applied to logistic), ``tau in (0, 1)`` meaningful::

        phi_tau(z) = -tau z - log(1 - tau) - tau logit(tau)   if z <= z0 = log((1 - tau)/tau)
                     log(1 + e^-z)                             otherwise

    For ``tau >= 1`` nothing is clipped (``|logistic'| < 1``) and this is plain logistic.
    ``tau`` may hold one threshold per entry of the last axis of ``z`` (per-example clipping of a
    linear model is this loss at ``tau / ||x_i||``, Lemma 1). ``tau <= 0`` raises ``ValueError``.
    """
    return _value_huberised(z, tau=tau), _deriv_huberised(z, tau=tau)


# --------------------------------------------------------------------------------------------------
# Composite losses and their partial Huberisation
# --------------------------------------------------------------------------------------------------


def compose_sigmoid(base: base_losses.BaseLoss) -> LossFn:
    """Margin loss ``phi(z) = varphi(sigmoid(z))`` from a base loss on probabilities.

    ``phi'(z) = varphi'(p) * p * (1 - p)`` with ``p = sigmoid(z)``. This generic composition is
    the reference the closed forms are tested against; for extreme margins prefer the closed forms
    (e.g. ``-log sigmoid(-800)`` is ``inf`` here but ``800`` in :func:`logistic`).
    """

    def composite(z) -> tuple[np.ndarray, np.ndarray]:
        z = _z(z)
        p, q = expit(z), expit(-z)
        v, d = base(p)
        with np.errstate(invalid="ignore"):
            g = d * p * q
        return v, np.where(p * q == 0.0, 0.0, g)

    return composite


def partially_huberise(base: base_losses.BaseLoss, *, tau: float, p0: float | None = None) -> LossFn:
    """Partial Huberisation (Lemma 5) of ``varphi`` at ``tau``, composed with the sigmoid link.

    Equivalent to ``compose_sigmoid(base_losses.partially_huberise(base, tau=tau, p0=p0))``.
    """
    return compose_sigmoid(base_losses.partially_huberise(base, tau=tau, p0=p0))


def phuber_logistic_switch(*, tau: float) -> float:
    """Margin where PHuber-logistic switches: ``sigmoid(z0) = 1/tau``, i.e. ``z0 = -log(tau - 1)``."""
    tau = check_interval("tau", tau, 1.0, np.inf, low_open=True, high_open=True, hint="PHuber needs tau > 1")
    return float(-np.log(tau - 1.0))


def _value_phuber(z, *, tau) -> np.ndarray:
    z0 = phuber_logistic_switch(tau=tau)
    z = _z(z)
    low = z <= z0
    return np.where(low, -tau * expit(z) + np.log(tau) + 1.0, np.logaddexp(0.0, -np.where(low, 0.0, z)))


def _deriv_phuber(z, *, tau) -> np.ndarray:
    tau = check_interval("tau", tau, 1.0, np.inf, low_open=True, high_open=True, hint="PHuber needs tau > 1")
    z = _z(z)
    return -expit(-z) * np.minimum(tau * expit(z), 1.0)


@_nan_quiet
def phuber_logistic(z, *, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Partially Huberised logistic loss (Eq. 11), ``tau > 1``::

        phi(z) = -tau sigmoid(z) + log(tau) + 1   if z <= z0 = -log(tau - 1)
                 log(1 + e^-z)                    otherwise

        phi'(z) = -(1 - sigmoid(z)) * min(tau * sigmoid(z), 1)

    Bounded (``phi -> 1 + log tau`` as ``z -> -inf``) and non-convex. ``tau -> inf`` is logistic.
    """
    return _value_phuber(z, tau=tau), _deriv_phuber(z, tau=tau)


@_nan_quiet
def unhinged(z) -> tuple[np.ndarray, np.ndarray]:
    """Unhinged loss (van Rooyen et al. 2015): ``phi(z) = 1 - z``, ``phi' = -1``.

    Unbounded below: its empirical risk has no minimiser unless ``||theta||`` is constrained or an
    L2 penalty is added (then the minimiser is proportional to ``mean(y * x)``).
    """
    z = _z(z)
    return 1.0 - z, np.where(np.isnan(z), np.nan, -1.0)


@_nan_quiet
def linear(z) -> tuple[np.ndarray, np.ndarray]:
    """The paper's "linear" loss ``1 - p`` in the margin: ``phi(z) = sigmoid(-z)``.

    ``phi'(z) = -sigmoid(z) sigmoid(-z)``. Bounded, symmetric: ``phi(z) + phi(-z) = 1``. This is the
    sigmoid loss of the symmetric-loss literature (Ghosh, Manwani & Sastry 2015; registry alias
    ``sigmoid``), and half the binary MAE ``|e_y - p|_1 = 2 (1 - p)``: the same minimisers.
    """
    z = _z(z)
    q = expit(-z)
    return q, -expit(z) * q


def _q(q) -> float:
    return check_interval("q", q, 0.0, 1.0, low_open=True)


@_nan_quiet
def gce(z, *, q: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """Binary generalised cross-entropy ``(1 - p^q)/q`` with ``p = sigmoid(z)``, ``q in (0, 1]``.

    ``phi'(z) = -p^q (1 - p)``. Computed from ``log sigmoid`` (no overflow, no cancellation).
    """
    q = _q(q)
    z = _z(z)
    a = q * log_expit(z)  # log p^q
    return -np.expm1(a) / q, -np.exp(a) * expit(-z)


@_nan_quiet
def phuber_gce(z, *, tau: float, q: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """Partially Huberised binary GCE: GCE above ``p0 = tau^(-1/(1-q))``, linear in ``p`` below.

    ``tau > 1``, ``q in (0, 1)``. Below the switch ``phi = (1 - p0^q)/q - tau (p - p0)`` and
    ``phi' = -tau p (1 - p)``; continuous and C1 at ``z0 = logit(p0)``.
    """
    p0 = base_losses.phuber_gce_switch(tau=tau, q=q)
    z = _z(z)
    p = expit(z)
    low = p <= p0
    v, d = gce(z, q=q)
    v0 = (1.0 - p0**q) / q
    return np.where(low, v0 - tau * (p - p0), v), np.where(low, -tau * p * expit(-z), d)
