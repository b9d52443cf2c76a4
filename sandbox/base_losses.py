"""Base losses on the probability ``p`` of the observed label, and their partial Huberisation.

A composite margin loss is ``phi(z) = varphi(sigmoid(z))`` (paper Sec. 3): the link is the
sigmoid and ``varphi`` is a *base loss* on the probability ``p in [0, 1]`` the model gives to the
observed label. Every function here maps an array ``p`` (any shape) to ``(value, dvalue/dp)``.

Partial Huberisation (Lemma 5, Eq. 10) linearises ``varphi`` in ``p`` below the point ``p0`` where
``varphi'(p0) = -tau``::

    varphi_tau(p) = varphi(p0) - tau * (p - p0)   if p <= p0
                    varphi(p)                     otherwise

which is what descending on ``varphi`` with its derivative clipped at ``-tau`` ("CL-clipping")
amounts to. For the log loss ``p0 = 1/tau`` (Eq. 12).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import optimize

from ._checks import check_interval

__all__ = [
    "log_loss",
    "linear_base",
    "gce_base",
    "partially_huberise",
    "phuber_log_loss",
    "phuber_gce_base",
    "phuber_gce_switch",
]

BaseLoss = Callable[[np.ndarray], "tuple[np.ndarray, np.ndarray]"]


def _as_float(p) -> np.ndarray:
    return np.asarray(p, dtype=float)


def log_loss(p) -> tuple[np.ndarray, np.ndarray]:
    """Log loss ``varphi(p) = -log p``, ``varphi'(p) = -1/p``.

    At ``p = 0`` the value is ``inf`` and the derivative ``-inf`` (their limits), without warnings.
    """
    p = _as_float(p)
    with np.errstate(divide="ignore"):
        return -np.log(p), -1.0 / p


def linear_base(p) -> tuple[np.ndarray, np.ndarray]:
    """The paper's "linear" loss ``varphi(p) = 1 - p`` (bounded, ``varphi' = -1``)."""
    p = _as_float(p)
    return 1.0 - p, np.full_like(p, -1.0)


def gce_base(p, *, q: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """Generalised cross-entropy (Zhang & Sabuncu 2018): ``(1 - p**q) / q``, derivative ``-p**(q-1)``.

    ``q in (0, 1]``; ``q = 1`` is the linear loss ``1 - p``; ``q -> 0`` recovers ``-log p``.
    """
    q = check_interval("q", q, 0.0, 1.0, low_open=True)
    p = _as_float(p)
    with np.errstate(divide="ignore"):
        return (1.0 - p**q) / q, -(p ** (q - 1.0))


def partially_huberise(base: BaseLoss, *, tau: float, p0: float | None = None) -> BaseLoss:
    """Partial Huberisation of a base loss at ``tau`` (Lemma 5, Eq. 10), as a new base loss.

    ``base`` must be convex and decreasing on ``(0, 1]`` (so ``varphi'`` is increasing). ``p0`` is the
    point with ``varphi'(p0) = -tau``; if not given it is found by bracketing root-finding on
    ``varphi' + tau`` over ``(0, 1]``. If ``varphi' >= -tau`` on all of ``(0, 1]`` nothing is clipped and
    ``base`` is returned unchanged. The result evaluates ``base`` only where ``p > p0``.
    """
    tau = check_interval("tau", tau, 0.0, np.inf, low_open=True, high_open=True)
    if p0 is None:
        p0 = _find_switch(base, tau)
        if p0 is None:
            return base
    p0 = check_interval("p0", p0, 0.0, 1.0, low_open=True)
    v0 = float(base(np.array(p0))[0])

    def huberised(p) -> tuple[np.ndarray, np.ndarray]:
        p = _as_float(p)
        low = p <= p0
        safe = np.where(low, 1.0, p)  # evaluate the base loss only where it is used
        v, d = base(safe)
        return np.where(low, v0 - tau * (p - p0), v), np.where(low, -tau, d)

    return huberised


def _find_switch(base: BaseLoss, tau: float) -> float | None:
    """Root of ``varphi'(p) + tau`` on ``(0, 1]``, or ``None`` if ``varphi' >= -tau`` throughout."""
    f = lambda p: float(base(np.array(p))[1]) + tau  # noqa: E731  (increasing in p)
    if f(1.0) < 0:
        raise ValueError(
            f"tau={tau!r} is outside the domain of this base loss: its derivative at p = 1 is "
            f"{f(1.0) - tau:g} < -tau, so every probability would be linearised"
        )
    lo = 0.5
    while f(lo) >= 0:
        lo *= 0.5
        if lo < 1e-300:
            return None
    return optimize.brentq(f, lo, 1.0, xtol=1e-15, rtol=4 * np.finfo(float).eps)


def phuber_log_loss(p, *, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Partially Huberised log loss (Eq. 12), ``tau > 1``::

        varphi_tau(p) = -tau * p + log(tau) + 1   if p <= 1/tau
                        -log(p)                    otherwise

    Bounded by ``1 + log(tau)`` (at ``p = 0``); ``tau -> inf`` recovers ``-log p``.
    """
    tau = check_interval("tau", tau, 1.0, np.inf, low_open=True, high_open=True, hint="PHuber needs tau > 1")
    p = _as_float(p)
    low = p <= 1.0 / tau
    safe = np.where(low, 1.0, p)
    return (
        np.where(low, -tau * p + np.log(tau) + 1.0, -np.log(safe)),
        np.where(low, -tau, -1.0 / safe),
    )


def phuber_gce_switch(*, tau: float, q: float) -> float:
    """Switch point ``p0 = tau**(-1/(1-q))`` of PHuber-GCE, where ``-p0**(q-1) = -tau``."""
    q = check_interval("q", q, 0.0, 1.0, low_open=True, high_open=True, hint="q = 1 is the linear loss")
    tau = check_interval("tau", tau, 1.0, np.inf, low_open=True, high_open=True, hint="PHuber-GCE needs tau > 1")
    return tau ** (-1.0 / (1.0 - q))


def phuber_gce_base(p, *, tau: float, q: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """Partially Huberised GCE on probabilities: linear with slope ``-tau`` below ``p0`` (C1 there).

    ``q in (0, 1)``, ``tau > 1``; ``p0 = tau**(-1/(1-q))`` (see :func:`phuber_gce_switch`).
    """
    p0 = phuber_gce_switch(tau=tau, q=q)
    return partially_huberise(lambda u: gce_base(u, q=q), tau=tau, p0=p0)(p)
