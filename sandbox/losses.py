"""Binary margin losses: each function maps margins ``z = y * s(x)`` to ``(phi(z), phi'(z))``.

Labels are ``y in {-1, +1}``; every function is vectorised over arrays of any shape and is finite,
accurate and warning-free for ``|z|`` up to ``1e6`` (and beyond). Formulas follow
``paper-notes.md`` section 4:

============================  =====================================================  ==========
loss                          phi(z)                                                 parameter
============================  =====================================================  ==========
logistic                      log(1 + e^-z)                                          --
Huberised logistic (Eq. 8)    logistic above z0 = log((1-tau)/tau), tangent below     tau in (0, 1)
PHuber logistic (Eq. 11)      -log sigmoid(z) above z0 = -log(tau-1), else           tau > 1
                              -tau sigmoid(z) + log tau + 1
unhinged                      1 - z                                                  --
linear                        1 - sigmoid(z)                                         --
GCE                           (1 - sigmoid(z)^q) / q                                 q in (0, 1]
PHuber-GCE                    GCE, linearised in p below p0 = tau^(-1/(1-q))         tau > 1, q in (0, 1)
============================  =====================================================  ==========

:class:`MarginLoss` bundles a loss with its parameters (and, for composite losses, its base loss on
probabilities, which CL-clipping needs); :func:`make_loss` builds one by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    "partially_huberise",
    "compose_sigmoid",
    "phuber_logistic",
    "phuber_logistic_switch",
    "unhinged",
    "linear",
    "gce",
    "phuber_gce",
    "MarginLoss",
    "make_loss",
    "paper_losses",
    "LOSS_NAMES",
]

LossFn = Callable[[np.ndarray], "tuple[np.ndarray, np.ndarray]"]


def _z(z) -> np.ndarray:
    return np.asarray(z, dtype=float)


# --------------------------------------------------------------------------------------------------
# Logistic and its Huberisation
# --------------------------------------------------------------------------------------------------


def logistic(z) -> tuple[np.ndarray, np.ndarray]:
    """Logistic loss ``phi(z) = log(1 + e^-z)`` and ``phi'(z) = -sigmoid(-z)``.

    Computed as ``logaddexp(0, -z)``: exact to rounding for all finite z (``phi(-1e6) = 1e6``,
    ``phi(40) = e^-40``).

    >>> [float(v) for v in logistic(0.0)]
    [0.6931471805599453, -0.5]
    """
    z = _z(z)
    return np.logaddexp(0.0, -z), -expit(-z)


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


def huberised_logistic_switch(*, tau: float) -> float:
    """Switch point ``z0 = log((1 - tau)/tau)`` where ``logistic'(z0) = -tau``; ``-inf`` for tau >= 1."""
    tau = check_interval("tau", tau, 0.0, np.inf, low_open=True, high_open=True, hint="tau >= 1 is plain logistic")
    return -np.inf if tau >= 1.0 else float(-logit(tau))


def huberised_logistic(z, *, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Huberised logistic loss (Lemma 2 applied to logistic), ``tau in (0, 1)`` meaningful::

        phi_tau(z) = -tau z - log(1 - tau) - tau logit(tau)   if z <= z0 = log((1 - tau)/tau)
                     log(1 + e^-z)                             otherwise

    For ``tau >= 1`` nothing is clipped (``|logistic'| < 1``) and this is plain logistic.
    ``tau <= 0`` raises ``ValueError``.
    """
    z0 = huberised_logistic_switch(tau=tau)
    v, d = logistic(z)
    if np.isinf(z0):
        return v, d
    z = _z(z)
    low = z <= z0
    lin = -tau * z - np.log1p(-tau) - tau * logit(tau)
    return np.where(low, lin, v), np.where(low, -float(tau), d)


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


def phuber_logistic(z, *, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Partially Huberised logistic loss (Eq. 11), ``tau > 1``::

        phi(z) = -tau sigmoid(z) + log(tau) + 1   if z <= z0 = -log(tau - 1)
                 log(1 + e^-z)                    otherwise

        phi'(z) = -(1 - sigmoid(z)) * min(tau * sigmoid(z), 1)

    Bounded (``phi -> 1 + log tau`` as ``z -> -inf``) and non-convex. ``tau -> inf`` is logistic.
    """
    z0 = phuber_logistic_switch(tau=tau)
    z = _z(z)
    low = z <= z0
    p, q = expit(z), expit(-z)
    value = np.where(low, -tau * p + np.log(tau) + 1.0, np.logaddexp(0.0, -np.where(low, 0.0, z)))
    deriv = -q * np.minimum(tau * p, 1.0)
    return value, deriv


def unhinged(z) -> tuple[np.ndarray, np.ndarray]:
    """Unhinged loss (van Rooyen et al. 2015): ``phi(z) = 1 - z``, ``phi' = -1``.

    Unbounded below: its empirical risk has no minimiser unless ``||theta||`` is constrained or an
    L2 penalty is added (then the minimiser is proportional to ``mean(y * x)``).
    """
    z = _z(z)
    return 1.0 - z, np.full_like(z, -1.0)


def linear(z) -> tuple[np.ndarray, np.ndarray]:
    """The paper's "linear" loss ``1 - p`` in the margin: ``phi(z) = sigmoid(-z)``.

    ``phi'(z) = -sigmoid(z) sigmoid(-z)``. Bounded, symmetric: ``phi(z) + phi(-z) = 1``.
    """
    z = _z(z)
    q = expit(-z)
    return q, -expit(z) * q


def gce(z, *, q: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """Binary generalised cross-entropy ``(1 - p^q)/q`` with ``p = sigmoid(z)``, ``q in (0, 1]``.

    ``phi'(z) = -p^q (1 - p)``. Computed from ``log sigmoid`` (no overflow, no cancellation).
    """
    q = check_interval("q", q, 0.0, 1.0, low_open=True)
    z = _z(z)
    a = q * log_expit(z)  # log p^q
    return -np.expm1(a) / q, -np.exp(a) * expit(-z)


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


# --------------------------------------------------------------------------------------------------
# Named losses
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarginLoss:
    """A margin loss with its parameters: ``loss(z) -> (phi(z), phi'(z))``.

    ``base`` is the base loss on probabilities when the loss is composite (``phi = base o sigmoid``);
    CL-clipping clips its derivative. ``None`` for non-composite losses (unhinged).
    """

    name: str
    fn: LossFn = field(repr=False, compare=False)
    params: tuple[tuple[str, float], ...] = ()
    base: base_losses.BaseLoss | None = field(default=None, repr=False, compare=False)
    value_fn: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False, compare=False)

    def __call__(self, z) -> tuple[np.ndarray, np.ndarray]:
        return self.fn(z)

    def value(self, z) -> np.ndarray:
        """``phi(z)`` alone (cheaper where a value-only formula is given, e.g. population grids)."""
        return self.value_fn(z) if self.value_fn is not None else self.fn(z)[0]

    def deriv(self, z) -> np.ndarray:
        return self.fn(z)[1]

    @property
    def label(self) -> str:
        """Human-readable name with parameters, e.g. ``huberised (tau=0.26)``."""
        if not self.params:
            return self.name
        return f"{self.name} ({', '.join(f'{k}={v:g}' for k, v in self.params)})"


def _logistic_value(z) -> np.ndarray:
    return np.logaddexp(0.0, -_z(z))


def _huberised_value(tau: float):
    z0 = huberised_logistic_switch(tau=tau)
    if np.isinf(z0):
        return _logistic_value
    def value(z):  # the same arithmetic, in the same order, as huberised_logistic
        z = _z(z)
        return np.where(z <= z0, -tau * z - np.log1p(-tau) - tau * logit(tau), np.logaddexp(0.0, -z))

    return value


def _phuber_value(tau: float):
    z0 = phuber_logistic_switch(tau=tau)

    def value(z):  # the same arithmetic, in the same order, as phuber_logistic
        z = _z(z)
        low = z <= z0
        return np.where(low, -tau * expit(z) + np.log(tau) + 1.0, np.logaddexp(0.0, -np.where(low, 0.0, z)))

    return value


def _base_from_margin(fn: LossFn) -> base_losses.BaseLoss:
    """The base loss ``varphi(p) = phi(logit p)`` of a margin loss, ``varphi' = phi'(z) / (p (1 - p))``."""

    def base(p):
        p = np.asarray(p, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            v, d = fn(logit(p))
            return v, d / (p * (1.0 - p))

    return base


LOSS_NAMES = ("logistic", "huberised", "partially_huberised", "unhinged", "linear", "gce", "phuber_gce")


def make_loss(name: str, **params) -> MarginLoss:
    """Build a :class:`MarginLoss` by name.

    ==========================  ===================  =================================
    name                        parameters           base loss (for CL-clipping)
    ==========================  ===================  =================================
    ``logistic``                --                   log loss
    ``huberised``               ``tau`` in (0, inf)  log loss
    ``partially_huberised``     ``tau`` > 1          PHuber log loss
    ``unhinged``                --                   none
    ``linear``                  --                   ``1 - p``
    ``gce``                     ``q`` in (0, 1]      GCE
    ``phuber_gce``              ``tau`` > 1, ``q``   PHuber-GCE
    ==========================  ===================  =================================
    """
    def need(*keys: str) -> dict:
        extra = set(params) - set(keys)
        if extra:
            raise ValueError(f"loss {name!r} takes parameters {keys or '()'}, got {sorted(params)}")
        missing = [k for k in keys if k not in params and not (k == "q" and name in ("gce", "phuber_gce"))]
        if missing:
            raise ValueError(f"loss {name!r} needs parameter(s) {missing}")
        return params

    if name == "logistic":
        need()
        return MarginLoss("logistic", logistic, (), base_losses.log_loss, _logistic_value)
    if name == "huberised":
        tau = float(need("tau")["tau"])
        huberised_logistic_switch(tau=tau)  # validates
        fn = lambda z: huberised_logistic(z, tau=tau)  # noqa: E731
        return MarginLoss("huberised", fn, (("tau", tau),), _base_from_margin(fn), _huberised_value(tau))
    if name in ("partially_huberised", "phuber"):
        tau = float(need("tau")["tau"])
        phuber_logistic_switch(tau=tau)
        return MarginLoss(
            "partially_huberised",
            lambda z: phuber_logistic(z, tau=tau),
            (("tau", tau),),
            lambda p: base_losses.phuber_log_loss(p, tau=tau),
            _phuber_value(tau),
        )
    if name == "unhinged":
        need()
        return MarginLoss("unhinged", unhinged)
    if name == "linear":
        need()
        return MarginLoss("linear", linear, (), base_losses.linear_base)
    if name == "gce":
        q = float(need("q").get("q", 0.7))
        check_interval("q", q, 0.0, 1.0, low_open=True)
        return MarginLoss("gce", lambda z: gce(z, q=q), (("q", q),), lambda p: base_losses.gce_base(p, q=q))
    if name == "phuber_gce":
        p = need("tau", "q")
        tau, q = float(p["tau"]), float(p.get("q", 0.7))
        base_losses.phuber_gce_switch(tau=tau, q=q)
        return MarginLoss(
            "phuber_gce",
            lambda z: phuber_gce(z, tau=tau, q=q),
            (("tau", tau), ("q", q)),
            lambda u: base_losses.phuber_gce_base(u, tau=tau, q=q),
        )
    raise ValueError(f"loss name={name!r} is unknown; choose one of {', '.join(LOSS_NAMES)}")


def paper_losses(*, tau_huberised: float, tau_partially_huberised: float) -> dict[str, MarginLoss]:
    """The three losses of the paper's Figure 2 by name: ``logistic``, ``huberised`` (= L-clipping)
    and ``partially_huberised`` (= CL-clipping of logistic), at the given thresholds."""
    return {
        "logistic": make_loss("logistic"),
        "huberised": make_loss("huberised", tau=tau_huberised),
        "partially_huberised": make_loss("partially_huberised", tau=tau_partially_huberised),
    }
