"""Four kinds of clipping (paper Sec. 3, Lemmas 1, 2 and 5), as pure functions on gradients.

Each returns the clipped array *and* what was clipped:

==================================  ======================================  ===========================
function                            clips                                   equivalent loss
==================================  ======================================  ===========================
:func:`clip_by_global_norm`         a batch gradient ``g`` to norm ``tau``  none per example (batch>1)
:func:`clip_per_example`            each row ``g_i`` to norm ``tau``        Lemma 1 (threshold
                                                                            tau/||x_i||, linear model)
:func:`clip_loss_derivative`        ``phi'(z)`` to ``max(phi', -tau)``      Huberised loss (Lemma 2)
                                    ("L-clipping")
:func:`clip_base_derivative`        ``varphi'(p)`` to ``max(varphi', -tau)``  partially Huberised loss
                                    ("CL-clipping")                         (Lemma 5)
==================================  ======================================  ===========================

Conventions, by definition rather than by accident:

* ``tau`` must be in ``(0, inf]``; ``tau = inf`` is the identity (nothing is ever clipped);
  ``tau <= 0`` or NaN raises ``ValueError``.
* A zero gradient is returned unchanged and does not count as clipped.
* Norms are computed overflow-safely (rows are scaled by their largest entry first), so finite
  entries as large as ``1e300`` clip correctly. A row with a non-finite entry (inf or NaN) has no
  direction: it is returned as NaN and counted as clipped, so a trainer sees the divergence.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_interval

__all__ = [
    "safe_norm",
    "clip_by_global_norm",
    "clip_per_example",
    "clip_loss_derivative",
    "clip_base_derivative",
]


def _tau(tau) -> float:
    return check_interval("tau", tau, 0.0, np.inf, low_open=True, hint="clipping threshold; inf = no clipping")


def safe_norm(g, axis=-1) -> np.ndarray:
    """Euclidean norm along ``axis`` without overflow or underflow for finite entries.

    NaN where a row holds a non-finite entry.
    """
    g = np.asarray(g, dtype=float)
    scale = np.max(np.abs(g), axis=axis, keepdims=True)
    finite = np.isfinite(scale)
    s = np.where((scale > 0) & finite, scale, 1.0)
    norm = np.sqrt(np.sum((g / s) ** 2, axis=axis, keepdims=True)) * s
    norm = np.where(finite, norm, np.nan)
    return np.squeeze(norm, axis=axis)


def _clip_rows(g, tau: float) -> tuple[np.ndarray, np.ndarray]:
    g = np.asarray(g, dtype=float)
    norm = safe_norm(g)
    bad = ~np.isfinite(norm)
    if np.isinf(tau):
        return np.where(bad[..., None], np.nan, g), bad
    clipped = bad | (norm > tau)
    scale = np.where(clipped & ~bad, tau / np.where(norm > 0, norm, 1.0), 1.0)
    out = np.where(bad[..., None], np.nan, g * scale[..., None])
    return out, clipped


def clip_by_global_norm(g, *, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Global-norm clipping ``g * min(1, tau / ||g||)`` of gradient vectors along the last axis.

    Shapes: ``g`` is ``(..., d)``: one batch gradient per leading index (e.g. one per trial, all
    parameters flattened into the last axis). Returns ``(clipped, was_clipped)`` with
    ``was_clipped`` of shape ``g.shape[:-1]`` (a 0-d bool array for a single gradient).

    >>> clip_by_global_norm([3.0, 4.0], tau=1.0)
    (array([0.6, 0.8]), np.True_)
    """
    return _clip_rows(g, _tau(tau))


def clip_per_example(g, *, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-example norm clipping: each row ``g_i`` of ``g`` (shape ``(..., n, d)``) to norm ``tau``.

    Returns ``(clipped, n_clipped)``; ``n_clipped`` (shape ``g.shape[:-2]``) counts rows clipped.
    """
    g = np.asarray(g, dtype=float)
    if g.ndim < 2:
        raise ValueError(f"g.shape={g.shape} must be (..., n, d) for per-example clipping")
    out, clipped = _clip_rows(g, _tau(tau))
    return out, np.sum(clipped, axis=-1)


def _clip_scalar_derivative(d, tau: float) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(d, dtype=float)
    clipped = d < -tau
    return np.where(clipped, -tau, d), np.sum(clipped, axis=-1) if d.ndim else clipped


def clip_loss_derivative(dphi, *, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """L-clipping: ``max(phi'(z), -tau)`` for margin-loss derivatives ``dphi`` (shape ``(..., n)``).

    Descending with the clipped derivative is descending on the Huberised loss (Lemma 2). Returns
    ``(clipped, n_clipped)`` with the count over the last axis.
    """
    return _clip_scalar_derivative(dphi, _tau(tau))


def clip_base_derivative(dvarphi, *, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """CL-clipping: ``max(varphi'(p), -tau)`` for base-loss derivatives in probability.

    Descending with the clipped derivative (then the link's chain rule) is descending on the
    partially Huberised loss (Lemma 5). Returns ``(clipped, n_clipped)`` as above.
    """
    return _clip_scalar_derivative(dvarphi, _tau(tau))
