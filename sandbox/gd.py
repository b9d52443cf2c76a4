"""Clipped gradient descent and SGD on a linear model, vectorised across trials.

:func:`train_gd` runs gradient descent or SGD with any clipping mode, for one problem (``X`` of
shape ``(n, d)``) or for ``T`` independent trials at once (``X`` of shape ``(T, n, d)``): each step
is a few NumPy calls over all trials, never a Python loop per trial. Clipping modes (paper Sec. 3):

=================  ==============================================================================
``clip``           update direction for a mini-batch ``B``
=================  ==============================================================================
``"none"``         ``g = mean_{i in B} phi'(z_i) y_i x_i``
``"global"``       ``g * min(1, tau / ||g||)`` (global-norm clipping of the batch gradient)
``"per_example"``  ``mean_i clip(phi'(z_i) y_i x_i)``, each row clipped to norm ``tau``
``"loss"``         L-clipping: ``phi'(z_i)`` replaced by ``max(phi'(z_i), -tau)``
``"composite"``    CL-clipping: ``phi'(z_i) = max(varphi'(p_i), -tau) * p_i (1 - p_i)``,
                   ``p_i = sigmoid(z_i)``; needs a composite loss (``loss.base``)
=================  ==============================================================================

Every mode except ``"none"`` needs a threshold ``tau``. The paper's Fig. 2a protocol (SLSQP) is
:mod:`sandbox.slsqp`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import expit

from ._checks import (
    check_choice,
    check_data,
    check_interval,
    check_loss,
    check_positive_int,
)
from .clipping import (
    clip_base_derivative,
    clip_by_global_norm,
    clip_loss_derivative,
    safe_norm,
)
from .linear import margins, mean_grad_from_coef, risk
from .rng import as_generator, child_rngs

__all__ = ["CLIP_MODES", "GDResult", "clipped_direction", "train_gd"]

CLIP_MODES = ("none", "global", "per_example", "loss", "composite")


@dataclass(frozen=True)
class GDResult:
    """Weights and per-step history of :func:`train_gd`.

    ``theta``: ``(..., d[+1])`` final weights (leading axes: trials). ``risk``: ``(S, ...)`` the
    full-sample training risk (of the unclipped loss) recorded at ``risk_steps``; ``grad_norm``:
    ``(steps, ...)`` norm of the unclipped batch gradient; ``frac_clipped``: ``(steps, ...)`` the
    fraction of examples clipped (per-example, L and CL modes) or 1.0/0.0 whether the batch gradient
    was clipped (global mode).
    """

    theta: np.ndarray
    risk: np.ndarray
    risk_steps: np.ndarray
    grad_norm: np.ndarray
    frac_clipped: np.ndarray


def _dphi_clipped(loss, z, *, clip: str, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-example ``phi'(z)`` after scalar (L or CL) clipping, and the number clipped per row."""
    if clip == "composite" and np.isfinite(tau):
        p, q = expit(z), expit(-z)
        _, dvarphi = loss.base(p)
        d, n = clip_base_derivative(dvarphi, tau=tau)
        return d * p * q, n
    dphi = loss(z)[1]
    if clip == "loss":
        return clip_loss_derivative(dphi, tau=tau)
    return dphi, np.zeros(z.shape[:-1])


def clipped_direction(
    loss, theta, X, y, *, clip: str = "none", tau: float = np.inf, bias: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One update direction for the batch ``(X, y)`` under a clipping mode (see module table).

    Returns ``(g, grad_norm, frac_clipped)``; ``g`` has ``theta``'s shape.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n = X.shape[-2]
    z = margins(theta, X, y, bias=bias)
    dphi, n_clip = _dphi_clipped(loss, z, clip=clip, tau=tau)
    coef = dphi * y
    if clip == "per_example":
        # Lemma 1: for a linear model ||grad_i|| = |phi'(z_i)| ||[x_i, 1]||, so clipping row i to norm
        # tau rescales its scalar coefficient; no (n, d) array of per-example gradients is formed.
        # Equal to clip_per_example on grad_from_dphi(...) up to rounding (tested).
        xnorm = safe_norm(np.concatenate([X, np.ones(X.shape[:-1] + (1,))], axis=-1) if bias else X)
        gnorm = np.abs(coef) * xnorm
        was = gnorm > tau
        g_raw = mean_grad_from_coef(coef, X, bias=bias)
        coef = np.where(was, coef * (tau / np.where(was, gnorm, 1.0)), coef)
        return mean_grad_from_coef(coef, X, bias=bias), safe_norm(g_raw), np.sum(was, axis=-1) / n
    g = mean_grad_from_coef(coef, X, bias=bias)
    if clip == "global":
        gc, was = clip_by_global_norm(g, tau=tau)
        return gc, safe_norm(g), np.asarray(was, dtype=float)
    return g, safe_norm(g), n_clip / n


def _rngs(rng, T: int | None) -> list[np.random.Generator]:
    if rng is None:
        raise ValueError("rng=None: mini-batch SGD (batch_size < n) needs rng, an int seed or a numpy Generator")
    if isinstance(rng, (list, tuple)):
        if len(rng) != (1 if T is None else T) or not all(isinstance(g, np.random.Generator) for g in rng):
            raise ValueError(f"rng holds {len(rng)} items; a sequence needs one numpy Generator per trial "
                             f"({1 if T is None else T})")
        return list(rng)
    return [as_generator(rng)] if T is None else child_rngs(rng, T)


def train_gd(
    loss,
    X,
    y,
    *,
    lr: float,
    steps: int,
    clip: str = "none",
    tau: float | None = None,
    batch_size: int | None = None,
    rng=None,
    theta0=None,
    bias: bool = False,
    record_every: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> GDResult:
    """Gradient descent (``batch_size=None``: full batch) or SGD on a linear model.

    Shapes: ``X`` ``(n, d)`` or ``(T, n, d)`` for ``T`` independent trials; ``y`` ``(n,)`` or
    ``(T, n)``. Mini-batches are drawn i.i.d. with replacement, ``batch_size`` indices per step,
    from ``rng``: an int seed or a ``Generator`` (split into one child stream per trial) or a sequence
    of one ``Generator`` per trial (so a vectorised run equals a loop over trials). ``theta0`` defaults
    to zeros. ``record_every`` sets how often the full-sample risk is recorded (0: never).
    ``progress(step, steps)`` is called every 10% of the steps if given. Every clipping mode but
    ``"none"`` needs a finite ``tau`` (``tau=inf`` means no clipping and is accepted).
    """
    check_loss(loss)
    clip = check_choice("clip", clip, CLIP_MODES)
    X, y = check_data(X, y)
    lr = check_interval("lr", lr, 0.0, np.inf, low_open=True, high_open=True)
    steps = check_positive_int("steps", steps, minimum=0)
    if tau is None:
        if clip != "none":
            raise ValueError(f"clip={clip!r} needs a threshold tau > 0 (tau=None given)")
        tau = np.inf
    tau = check_interval("tau", tau, 0.0, np.inf, low_open=True, hint="clipping threshold; inf = no clipping")
    if clip == "composite" and getattr(loss, "base", None) is None:
        raise ValueError(f"clip='composite' needs a composite loss with a base loss (loss={loss!r})")
    T = X.shape[0] if X.ndim == 3 else None
    n, d = X.shape[-2], X.shape[-1]
    p = d + 1 if bias else d
    theta = np.zeros(X.shape[:-2] + (p,)) if theta0 is None else np.array(theta0, dtype=float)
    if theta.shape != X.shape[:-2] + (p,):
        raise ValueError(f"theta0.shape={theta.shape} must be {X.shape[:-2] + (p,)}")
    full = batch_size is None or batch_size >= n
    if not full:
        batch_size = check_positive_int("batch_size", batch_size)
        gens = _rngs(rng, T)
    record_every = check_positive_int("record_every", record_every, minimum=0)
    risks, risk_steps, gnorms, fracs = [], [], [], []
    block = 256
    for s in range(steps):
        if record_every and s % record_every == 0:
            risks.append(risk(loss, theta, X, y, bias=bias))
            risk_steps.append(s)
        if full:
            Xb, yb = X, y
        else:
            if s % block == 0:
                nb = min(block, steps - s)
                idx_block = np.stack([g.integers(0, n, size=(nb, batch_size)) for g in gens], axis=1)
                if T is None:
                    idx_block = idx_block[:, 0]
            idx = idx_block[s % block]
            if T is None:
                Xb, yb = X[idx], y[idx]
            else:
                Xb = np.take_along_axis(X, idx[..., None], axis=1)
                yb = np.take_along_axis(y, idx, axis=1)
        g, gn, fr = clipped_direction(loss, theta, Xb, yb, clip=clip, tau=tau, bias=bias)
        theta = theta - lr * g
        gnorms.append(gn)
        fracs.append(fr)
        if progress is not None and steps >= 10 and (s + 1) % (steps // 10) == 0:
            progress(s + 1, steps)
    if record_every:
        risks.append(risk(loss, theta, X, y, bias=bias))
        risk_steps.append(steps)
    shape = X.shape[:-2]
    return GDResult(
        theta=theta,
        risk=np.array(risks) if risks else np.empty((0,) + shape),
        risk_steps=np.array(risk_steps, dtype=int),
        grad_norm=np.array(gnorms) if gnorms else np.empty((0,) + shape),
        frac_clipped=np.array(fracs, dtype=float) if fracs else np.empty((0,) + shape),
    )
