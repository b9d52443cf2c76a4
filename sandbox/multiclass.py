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
==============  ======================================================  ======================  ==============

Shapes: ``logits`` is ``(..., n, K)`` (float, any leading batch axes), ``y`` is ``(..., n)`` integer labels
in ``{0, ..., K-1}``; ``values`` is ``(..., n)`` and ``grad`` is ``(..., n, K)``, the gradient of each
example's loss with respect to its own logits (not divided by ``n``).

Numerics: everything goes through ``log_softmax``, so logits of ``+-1e4`` (and beyond) give finite values
and gradients without warnings; ``p_y^q`` is ``exp(q log p_y)`` and ``1 - p_y^q`` is ``-expm1(q log p_y)``.
With ``K = 2`` each loss equals its binary margin counterpart in :mod:`sandbox.losses` at the margin
``z = f_y - f_other`` (tested).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.special import log_softmax

from ._checks import check_interval, check_number
from .base_losses import phuber_gce_switch

__all__ = [
    "cross_entropy",
    "phuber_ce",
    "gce",
    "phuber_gce",
    "linear",
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
