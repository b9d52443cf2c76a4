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
    "sce_base",
    "nce_base",
    "nce_mae_base",
    "nce_rce_base",
    "taylor_ce_base",
    "logit_clip_base",
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


# --------------------------------------------------------------------------------------------------
# Base losses of the robust losses of :mod:`sandbox.robust_losses` (their ``varphi`` with
# ``phi(z) = varphi(sigmoid(z))``; CL-clipping clips ``varphi'``). Parameters are validated there.
# --------------------------------------------------------------------------------------------------


def sce_base(p, *, alpha: float, beta: float, A: float) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric cross-entropy ``-alpha log p - A beta (1 - p)``, derivative ``-alpha / p + A beta``."""
    p = _as_float(p)
    with np.errstate(divide="ignore"):
        ce, dce = log_loss(p) if alpha != 0 else (np.zeros_like(p), np.zeros_like(p))
    return alpha * ce - A * beta * (1.0 - p), alpha * dce + A * beta


def nce_base(p) -> tuple[np.ndarray, np.ndarray]:
    """Normalised CE ``N = log p / (log p + log(1 - p))``, ``N' = ((1 - N)/p + N/(1 - p)) / (log p + log(1 - p))``.

    ``N(0) = 1``, ``N(1) = 0`` and ``N'(0) = N'(1) = 0`` (the limits: ``N'`` vanishes like ``1/log p``).
    """
    p = _as_float(p)
    inner = (p > 0.0) & (p < 1.0)
    u = np.where(inner, p, 0.5)
    a, b = np.log(u), np.log1p(-u)
    n = a / (a + b)
    d = ((1.0 - n) / u + n / (1.0 - u)) / (a + b)
    return np.where(inner, n, np.where(p <= 0.0, 1.0, 0.0)), np.where(inner, d, 0.0)


def nce_mae_base(p, *, alpha: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """``alpha N(p) + beta (1 - p)``: NCE + the authors' reduced MAE ``1 - p``."""
    n, dn = nce_base(p)
    return alpha * n + beta * (1.0 - _as_float(p)), alpha * dn - beta


def nce_rce_base(p, *, alpha: float, beta: float, A: float) -> tuple[np.ndarray, np.ndarray]:
    """``alpha N(p) - A beta (1 - p)``: NCE + RCE with ``log 0 := A``."""
    n, dn = nce_base(p)
    return alpha * n - A * beta * (1.0 - _as_float(p)), alpha * dn + A * beta


def taylor_ce_base(p, *, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Taylor CE ``sum_{i=1..k} (1 - p)^i / i``, derivative ``-sum_{i=0..k-1} (1 - p)^i`` (both by Horner)."""
    u = 1.0 - _as_float(p)
    acc, dacc = np.full_like(u, 1.0 / k), np.ones_like(u)
    for i in range(k - 1, 0, -1):
        acc = 1.0 / i + u * acc
        dacc = 1.0 + u * dacc
    return u * acc, -dacc


def logit_clip_base(p, *, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Log loss of the clipped probability, ``-log clip(p, sigmoid(-delta), sigmoid(delta))``: LogitClip in
    ``p`` (clipping the logit to ``[-delta, delta]`` clips ``p`` to ``[sigmoid(-delta), sigmoid(delta)]``).
    Derivative ``-1/p`` inside the interval, 0 outside."""
    p = _as_float(p)
    lo, hi = 1.0 / (1.0 + np.exp(delta)), 1.0 / (1.0 + np.exp(-delta))
    c = np.clip(p, lo, hi)
    return -np.log(c), np.where((p >= lo) & (p <= hi), -1.0 / c, 0.0)
