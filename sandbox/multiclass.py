"""Multiclass losses on logits: each maps ``(logits, y)`` to ``(values, d values / d logits)``.

The link is the softmax (paper Sec. 3, composite losses): ``p = softmax(f)`` for logits ``f`` and the base loss
acts on ``p_y``, the probability of the observed label. By the chain rule every loss here has a logit
gradient of one shape,

    d loss / d f = w(p_y) * (softmax(f) - e_y),      w(p_y) = -varphi'(p_y) * p_y >= 0,

so each loss is the cross-entropy gradient reweighted per example (Eq. 12 for PHuber-CE):

==============  ======================================================  ======================  ==============
loss            value                                                   weight ``w(p_y)``       parameters
==============  ======================================================  ======================  ==============
cross_entropy   ``-log p_y``                                            ``1``                   --
phuber_ce       ``-tau p_y + log tau + 1`` if ``p_y <= 1/tau``,          ``min(1, tau p_y)``     ``tau > 1``
                else ``-log p_y`` (Eq. 12)
gce             ``(1 - p_y^q) / q``                                     ``p_y^q``               ``q in (0, 1]``
phuber_gce      GCE above ``p0 = tau^(-1/(1-q))``, tangent line in      ``min(tau p_y, p_y^q)``  ``tau > 1``,
                ``p_y`` below (continuous and C1 at ``p0``)                                     ``q in (0, 1)``
linear          ``1 - p_y``                                             ``p_y``                 --
sce             ``-alpha log p_y - A beta (1 - p_y)`` (Wang et al.      ``alpha - A beta p_y``  ``alpha`` (0.1),
                2019)                                                                           ``beta`` (1),
                                                                                                ``A`` (-4)
taylor_ce       ``sum_{i=1..k} (1 - p_y)^i / i`` (Feng et al. 2020)     ``1 - (1 - p_y)^k``     ``k`` >= 1
==============  ======================================================  ======================  ==============

Three more are not of that form (their gradient involves the whole softmax, not only ``p_y``):

==============  ==========================================================================  ======================
loss            value                                                                       parameters
==============  ==========================================================================  ======================
nce             ``log p_y / sum_k log p_k`` (Ma et al. 2020)                                --
nce_mae         ``alpha NCE + beta (1 - p_y)`` (the authors' code's reduced MAE)             ``alpha`` (1), ``beta``
                                                                                            (1)
nce_rce         ``alpha NCE - A beta (1 - p_y)``                                            ``alpha``, ``beta`` (1),
                                                                                            ``A`` (-4)
logit_clip      ``-log softmax(f~)_y`` with ``f~ = f min(1, delta / ||f||_2)`` (Wei et al.  ``delta`` > 0 (1)
                2023)
==============  ==========================================================================  ======================

(definitions, defaults and their sources: :mod:`sandbox.robust_losses`, whose binary forms these extend).

Shapes: ``logits`` is ``(..., n, K)`` (float, any leading batch axes), ``y`` is ``(..., n)`` integer labels
in ``{0, ..., K-1}``; ``values`` is ``(..., n)`` and ``grad`` is ``(..., n, K)``, the gradient of each
example's loss with respect to its own logits (not divided by ``n``).

Numerics: everything goes through ``log_softmax``, so logits of ``+-1e4`` (and beyond) give finite values
and gradients without warnings; ``p_y^q`` is ``exp(q log p_y)`` and ``1 - p_y^q`` is ``-expm1(q log p_y)``.
With ``K = 2`` each loss equals its binary margin counterpart in :mod:`sandbox.losses` or
:mod:`sandbox.robust_losses` at the margin ``z = f_y - f_other`` (tested), except ``logit_clip``: clamping
the vector ``(f_y, f_other)`` by its norm is not clamping ``f_y - f_other`` (it is at centred logits
``(z/2, -z/2)``, with ``delta`` scaled by ``sqrt 2``; tested).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.special import log_softmax

from . import robust_losses as RL
from ._checks import check_interval, check_number
from .base_losses import phuber_gce_switch
from .clipping import safe_norm

__all__ = [
    "cross_entropy",
    "phuber_ce",
    "gce",
    "phuber_gce",
    "linear",
    "sce",
    "nce",
    "nce_mae",
    "nce_rce",
    "taylor_ce",
    "logit_clip",
    "MulticlassLoss",
    "make_multiclass_loss",
    "MULTICLASS_LOSS_NAMES",
    "MULTICLASS_ALIASES",
]

MulticlassFn = Callable[..., "tuple[np.ndarray, np.ndarray]"]


# --------------------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------------------


def _prepare(logits, y) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate shapes; return ``(softmax (..., n, K), log p_y (..., n), one-hot (..., n, K) bool, y)``."""
    f = np.asarray(logits, dtype=float)
    if f.ndim < 1 or f.shape[-1] < 2:
        raise ValueError(f"logits.shape={f.shape} must be (..., n, K) with K >= 2 classes")
    y = np.asarray(y)
    if y.shape != f.shape[:-1]:
        raise ValueError(f"y.shape={y.shape} must equal logits.shape[:-1]={f.shape[:-1]}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y.dtype={y.dtype} must be an integer type (class indices)")
    k = f.shape[-1]
    if y.size and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"labels y must lie in {{0, ..., {k - 1}}}; got range [{y.min()}, {y.max()}]")
    logp = log_softmax(f, axis=-1)
    logp_y = np.take_along_axis(logp, y[..., None].astype(np.intp), axis=-1)[..., 0]
    onehot = np.arange(k) == y[..., None]
    return np.exp(logp), logp_y, onehot, y


def _reweighted(weight: np.ndarray, softmax: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """``weight[..., None] * (softmax - e_y)``: the CE logit gradient scaled per example."""
    return weight[..., None] * (softmax - onehot)


def _tau(tau, hint: str) -> float:
    return check_interval("tau", tau, 1.0, np.inf, low_open=True, high_open=True, hint=hint)


# --------------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------------


def cross_entropy(logits, y) -> tuple[np.ndarray, np.ndarray]:
    """Cross-entropy ``-log p_y`` with ``p = softmax(logits)``; gradient ``softmax - e_y``.

    >>> v, g = cross_entropy([[0.0, 0.0]], [0])          # p_y = 1/2
    >>> float(v[0]), g[0].tolist()
    (0.6931471805599453, [-0.5, 0.5])
    """
    s, logp_y, onehot, _ = _prepare(logits, y)
    return -logp_y, s - onehot


def phuber_ce(logits, y, *, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Partially Huberised cross-entropy (Eq. 12 composed with the softmax), ``tau > 1``::

        loss = -tau p_y + log(tau) + 1     if p_y <= 1/tau
               -log p_y                    otherwise

        d loss / d logits = min(1, tau p_y) * (softmax - e_y)

    i.e. the CE gradient scaled down for low-confidence examples (what clipping the base loss's
    derivative ``-1/p`` at ``-tau`` amounts to). Bounded by ``1 + log tau``; ``tau -> inf`` is CE and
    ``tau -> 1+`` approaches the linear loss ``1 - p_y``.
    """
    tau = _tau(tau, "PHuber-CE needs tau > 1")
    s, logp_y, onehot, _ = _prepare(logits, y)
    p_y = np.exp(logp_y)
    low = p_y <= 1.0 / tau
    value = np.where(low, -tau * p_y + np.log(tau) + 1.0, -logp_y)
    return value, _reweighted(np.minimum(1.0, tau * p_y), s, onehot)


def gce(logits, y, *, q: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """Generalised cross-entropy (Zhang & Sabuncu 2018) ``(1 - p_y^q) / q``, ``q in (0, 1]``.

    ``d loss / d logits = p_y^q * (softmax - e_y)``. ``q = 1`` is the linear loss; ``q -> 0`` is CE.
    Computed as ``-expm1(q log p_y) / q`` (no cancellation for ``p_y`` near 1).
    """
    q = check_interval("q", q, 0.0, 1.0, low_open=True)
    s, logp_y, onehot, _ = _prepare(logits, y)
    a = q * logp_y  # log p_y^q
    return -np.expm1(a) / q, _reweighted(np.exp(a), s, onehot)


def phuber_gce(logits, y, *, tau: float, q: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """Partially Huberised GCE, ``tau > 1`` and ``q in (0, 1)``, with ``p0 = tau^(-1/(1-q))``::

        loss = (1 - p0^q)/q - tau (p_y - p0)   if p_y <= p0
               (1 - p_y^q)/q                   otherwise

        d loss / d logits = w * (softmax - e_y),  w = tau p_y if p_y <= p0 else p_y^q

    Continuous and C1 at ``p0`` because ``p0^(q-1) = tau``; ``w = min(tau p_y, p_y^q)``.
    """
    p0 = phuber_gce_switch(tau=tau, q=q)
    tau, q = float(tau), float(q)
    s, logp_y, onehot, _ = _prepare(logits, y)
    p_y = np.exp(logp_y)
    a = q * logp_y
    low = p_y <= p0
    v0 = -np.expm1(q * np.log(p0)) / q
    value = np.where(low, v0 - tau * (p_y - p0), -np.expm1(a) / q)
    weight = np.where(low, tau * p_y, np.exp(a))
    return value, _reweighted(weight, s, onehot)


def linear(logits, y) -> tuple[np.ndarray, np.ndarray]:
    """The paper's "linear" loss ``1 - p_y``; gradient ``p_y * (softmax - e_y)``.

    Computed as ``-expm1(log p_y)``. Bounded in ``[0, 1]``; equals GCE at ``q = 1``.
    """
    s, logp_y, onehot, _ = _prepare(logits, y)
    return -np.expm1(logp_y), _reweighted(np.exp(logp_y), s, onehot)


# --------------------------------------------------------------------------------------------------
# Robust losses of the label-noise literature (binary forms and sources: sandbox.robust_losses)
# --------------------------------------------------------------------------------------------------


def _complement(softmax: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """``1 - p_y`` as ``sum_{k != y} p_k``: relatively accurate also where ``p_y`` is close to 1."""
    return np.sum(np.where(onehot, 0.0, softmax), axis=-1)


def sce(logits, y, *, alpha: float = 0.1, beta: float = 1.0, A: float = -4.0) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric cross-entropy (Wang et al. 2019) ``alpha CE + beta RCE``::

        loss = -alpha log p_y - A beta (1 - p_y),      d loss / d logits = (alpha - A beta p_y) (softmax - e_y)

    RCE ``= -sum_k p_k log q_k`` against the one-hot label with ``log 0 := A`` is ``-A (1 - p_y)``.
    Defaults (``alpha = 0.1, beta = 1, A = -4``) and the authors' code's ``A = log(1e-4)``:
    :func:`sandbox.robust_losses.sce`.
    """
    alpha, beta = RL._weights(alpha, beta)
    A = RL._clamp(A)
    s, logp_y, onehot, _ = _prepare(logits, y)
    return alpha * -logp_y - A * beta * _complement(s, onehot), _reweighted(alpha - A * beta * np.exp(logp_y), s,
                                                                           onehot)


def _nce(logits, y) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(NCE, d NCE / d logits, softmax, one-hot, log p_y)``.

    ``N = a_y / S`` with ``a_k = log p_k`` and ``S = sum_k a_k``; ``d a_k / d f_j = [k = j] - p_j`` gives
    ``d N / d f_j = ((e_y - p)_j - N (1 - K p_j)) / S``. ``S <= -K log K < 0``: no division by zero, and
    ``log_softmax`` keeps every ``a_k`` finite for finite logits.
    """
    f = np.asarray(logits, dtype=float)
    s, logp_y, onehot, _ = _prepare(f, y)
    total = np.sum(log_softmax(f, axis=-1), axis=-1)
    n = logp_y / total
    k = f.shape[-1]
    grad = ((onehot - s) - n[..., None] * (1.0 - k * s)) / total[..., None]
    return n, grad, s, onehot, logp_y


def nce(logits, y) -> tuple[np.ndarray, np.ndarray]:
    """Normalised cross-entropy (Ma et al. 2020): ``-log p_y / sum_k (-log p_k)``, in ``[0, 1]``.

    Symmetric: its sum over the K labels is 1. Gradient: see :func:`_nce` (not a reweighting of
    ``softmax - e_y``: it involves every ``p_k``).
    """
    n, grad, *_ = _nce(logits, y)
    return n, grad


def nce_mae(logits, y, *, alpha: float = 1.0, beta: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Active-passive NCE + MAE (Ma et al. 2020): ``alpha NCE + beta (1 - p_y)``, the authors' code's reduced
    MAE (half the paper's ``2 (1 - p_y)``; see :func:`sandbox.robust_losses.nce_mae`)."""
    alpha, beta = RL._weights(alpha, beta)
    n, grad, s, onehot, logp_y = _nce(logits, y)
    return (alpha * n + beta * _complement(s, onehot),
            alpha * grad + _reweighted(beta * np.exp(logp_y), s, onehot))


def nce_rce(logits, y, *, alpha: float = 1.0, beta: float = 1.0, A: float = -4.0) -> tuple[np.ndarray, np.ndarray]:
    """Active-passive NCE + RCE (Ma et al. 2020): ``alpha NCE - A beta (1 - p_y)``; RCE as in :func:`sce`."""
    alpha, beta = RL._weights(alpha, beta)
    A = RL._clamp(A)
    n, grad, s, onehot, logp_y = _nce(logits, y)
    return (alpha * n - A * beta * _complement(s, onehot),
            alpha * grad + _reweighted(-A * beta * np.exp(logp_y), s, onehot))


def taylor_ce(logits, y, *, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Taylor cross-entropy of order ``k`` (Feng et al. 2020), with ``u = 1 - p_y``::

        loss = sum_{i=1..k} u^i / i,      d loss / d logits = (1 - u^k) (softmax - e_y)

    (``w = -varphi'(p_y) p_y`` with ``varphi' = -sum_{i<k} u^i``; ``1 - u^k = p_y sum_{i<k} u^i`` is summed
    that way, accurate for ``p_y`` near 0 and 1). ``k`` an integer >= 1, required.
    """
    k = RL._order(k)
    s, logp_y, onehot, _ = _prepare(logits, y)
    u = _complement(s, onehot)
    acc, geo = np.full_like(u, 1.0 / k), np.ones_like(u)
    for i in range(k - 1, 0, -1):
        acc = 1.0 / i + u * acc
        geo = 1.0 + u * geo
    return u * acc, _reweighted(np.exp(logp_y) * geo, s, onehot)


def logit_clip(logits, y, *, delta: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """LogitClip (Wei et al. 2023): cross-entropy of the logit vector clamped to norm ``delta``::

        f~ = f min(1, delta / ||f||_2),      loss = -log softmax(f~)_y

        d loss / d f = g                                   if ||f|| <= delta
                       (delta / ||f||) (g - f^ (f^ . g))    otherwise,   g = softmax(f~) - e_y, f^ = f / ||f||

    (the Jacobian of ``f -> delta f / ||f||`` is ``(delta / ||f||)(I - f^ f^T)``). Wei et al. write the bound
    as ``1/tau`` with the p-norm, ``p = 2`` by default; here ``delta = 1/tau`` and ``p = 2``. The authors'
    code divides by ``1/temp`` but clamps only where ``||f|| > temp``, which is a different (discontinuous)
    map unless ``temp = 1``; this follows the paper (continuous). Default ``delta = 1`` (the code's default
    ``--temp 1``, where the two agree). Bounded (``||f~|| <= delta``), not of the ``w(p_y)`` form.
    """
    delta = RL._delta(delta)
    f = np.asarray(logits, dtype=float)
    _prepare(f, y)  # validate shapes and labels
    norm = safe_norm(f)
    clipped = norm > delta
    scale = np.where(clipped, delta / np.where(clipped, norm, 1.0), 1.0)
    ft = f * scale[..., None]
    s, logp_y, onehot, _ = _prepare(ft, y)
    g = s - onehot
    fhat = f / np.where(clipped, norm, 1.0)[..., None]
    projected = g - fhat * np.sum(fhat * g, axis=-1, keepdims=True)
    return -logp_y, np.where(clipped[..., None], scale[..., None] * projected, g)


# --------------------------------------------------------------------------------------------------
# Named losses
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MulticlassLoss:
    """A multiclass loss with its parameters: ``loss(logits, y) -> (values (..., n), grad (..., n, K))``."""

    name: str
    params: tuple[tuple[str, float], ...] = ()
    fn: MulticlassFn = field(default=cross_entropy, repr=False, compare=False)

    def __call__(self, logits, y) -> tuple[np.ndarray, np.ndarray]:
        return self.fn(logits, y, **dict(self.params))

    @property
    def label(self) -> str:
        """Human-readable name with parameters, e.g. ``phuber_ce (tau=2)``."""
        if not self.params:
            return self.name
        return f"{self.name} ({', '.join(f'{k}={v:g}' for k, v in self.params)})"


_REGISTRY: dict[str, tuple[MulticlassFn, tuple[str, ...], dict[str, float]]] = {
    # name: (function, accepted parameters, defaults)
    "ce": (cross_entropy, (), {}),
    "phuber_ce": (phuber_ce, ("tau",), {}),
    "gce": (gce, ("q",), {"q": 0.7}),
    "phuber_gce": (phuber_gce, ("tau", "q"), {"q": 0.7}),
    "linear": (linear, (), {}),
    "sce": (sce, ("alpha", "beta", "A"), {"alpha": 0.1, "beta": 1.0, "A": -4.0}),
    "nce": (nce, (), {}),
    "nce_mae": (nce_mae, ("alpha", "beta"), {"alpha": 1.0, "beta": 1.0}),
    "nce_rce": (nce_rce, ("alpha", "beta", "A"), {"alpha": 1.0, "beta": 1.0, "A": -4.0}),
    "taylor_ce": (taylor_ce, ("k",), {}),
    "logit_clip": (logit_clip, ("delta",), {"delta": 1.0}),
}
MULTICLASS_LOSS_NAMES = tuple(_REGISTRY)
MULTICLASS_ALIASES = {"cross_entropy": "ce"}


def make_multiclass_loss(name: str, **params) -> MulticlassLoss:
    """Build a :class:`MulticlassLoss` by name, validating its parameters now (not at first call).

    ==============  ===================================
    name            parameters
    ==============  ===================================
    ``ce``          -- (alias ``cross_entropy``)
    ``phuber_ce``   ``tau > 1``
    ``gce``         ``q in (0, 1]`` (default 0.7)
    ``phuber_gce``  ``tau > 1``, ``q in (0, 1)`` (0.7)
    ``linear``      --
    ``sce``         ``alpha`` (0.1), ``beta`` (1), ``A`` (-4)
    ``nce``         --
    ``nce_mae``     ``alpha`` (1), ``beta`` (1)
    ``nce_rce``     ``alpha`` (1), ``beta`` (1), ``A`` (-4)
    ``taylor_ce``   ``k``: integer >= 1
    ``logit_clip``  ``delta > 0`` (1)
    ==============  ===================================

    >>> make_multiclass_loss("phuber_ce", tau=2).label
    'phuber_ce (tau=2)'
    """
    if not isinstance(name, str) or MULTICLASS_ALIASES.get(name, name) not in _REGISTRY:
        aliases = ", ".join(f"{a} -> {c}" for a, c in MULTICLASS_ALIASES.items())
        raise ValueError(f"loss name={name!r} is unknown; choose one of {', '.join(MULTICLASS_LOSS_NAMES)}; "
                         f"aliases {aliases}")
    name = MULTICLASS_ALIASES.get(name, name)
    fn, accepted, defaults = _REGISTRY[name]
    extra = sorted(set(params) - set(accepted))
    if extra:
        raise ValueError(f"loss {name!r} takes parameters {accepted or '()'}, got unexpected {extra}")
    full = {**defaults, **params}
    missing = [k for k in accepted if k not in full]
    if missing:
        raise ValueError(f"loss {name!r} needs parameter(s) {missing}")
    values = {k: check_number(k, full[k]) for k in accepted}
    fn(np.zeros((1, 2)), np.zeros(1, dtype=int), **values)  # validates: ValueError naming the parameter
    return MulticlassLoss(name, tuple((k, float(v)) for k, v in values.items()), fn)
