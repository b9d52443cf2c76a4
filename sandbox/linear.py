"""Linear scorers ``s(x) = <w, x> + b`` and the chain rule, written once for every margin loss.

For a margin loss ``phi`` and labels ``y in {-1, +1}``, the empirical risk and its gradient are::

    R(theta) = (1/n) sum_i phi(z_i),   z_i = y_i * s(x_i)
    grad_i   = phi'(z_i) * y_i * [x_i, 1]        (the trailing 1 only with a bias)

Shapes: ``X`` is ``(..., n, d)``, ``y`` is ``(..., n)``, ``theta`` is ``(..., d)`` without a bias or
``(..., d + 1)`` with ``bias=True`` (the bias is the last entry). Leading axes broadcast, so
``theta`` of shape ``(T, d)`` with ``X`` of shape ``(T, n, d)`` evaluates ``T`` independent trials in
one call, and ``theta`` of shape ``(A, d)`` against a single ``X`` ``(n, d)`` evaluates ``A`` weights (-> ``(A, n)``).

``loss`` is any callable ``z -> (phi(z), phi'(z))``: a function of :mod:`sandbox.losses` or a
:class:`~sandbox.registry.MarginLoss`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = [
    "scores", "margins", "risk", "accuracy", "per_example_grads", "grad_from_dphi", "mean_grad_from_coef",
    "mean_grad", "risk_and_grad",
]

LossFn = Callable[[np.ndarray], "tuple[np.ndarray, np.ndarray]"]


def _split(theta, X, bias: bool) -> tuple[np.ndarray, np.ndarray | float]:
    theta = np.asarray(theta, dtype=float)
    d = np.shape(X)[-1]
    expected = d + 1 if bias else d
    if theta.shape[-1] != expected:
        raise ValueError(
            f"theta.shape={theta.shape} does not match X with d={d} features"
            f" ({'bias=True needs d + 1' if bias else 'bias=False needs d'} weights)"
        )
    return (theta[..., :-1], theta[..., -1]) if bias else (theta, 0.0)


def scores(theta, X, *, bias: bool = False) -> np.ndarray:
    """Scores ``<w, x_i> + b``, shape ``(..., n)``."""
    w, b = _split(theta, X, bias)
    s = np.einsum("...nd,...d->...n", np.asarray(X, dtype=float), w)
    return s + np.asarray(b)[..., None] if bias else s


def margins(theta, X, y, *, bias: bool = False) -> np.ndarray:
    """Margins ``z_i = y_i * s(x_i)``, shape ``(..., n)``."""
    return np.asarray(y, dtype=float) * scores(theta, X, bias=bias)


def risk(loss: LossFn, theta, X, y, *, bias: bool = False) -> np.ndarray:
    """Empirical risk ``mean_i phi(z_i)``, shape ``(...)``."""
    return np.mean(loss(margins(theta, X, y, bias=bias))[0], axis=-1)


def accuracy(theta, X, y, *, weights=None, bias: bool = False) -> np.ndarray:
    """Clean accuracy: the (weighted) fraction of examples with ``sign(score) == y``; a zero score counts 1/2.

    ``theta`` ``(..., d)``, ``X`` ``(..., n, d)``, ``y`` ``(..., n)`` -> ``(...)``. ``weights`` ``(n,)``
    (summing to one) gives a weighted accuracy, e.g. over the atoms of a discrete distribution.
    The one definition of accuracy for linear scorers: trials, the population and the benchmark use it.
    """
    z = margins(theta, X, y, bias=bias)
    correct = (z > 0) + 0.5 * (z == 0)
    if weights is None:
        return np.mean(correct, axis=-1)
    return np.sum(np.asarray(weights, dtype=float) * correct, axis=-1)


def grad_from_dphi(dphi, X, y, *, bias: bool = False) -> np.ndarray:
    """The chain rule: per-example gradients ``phi'(z_i) y_i [x_i, 1]``, shape ``(..., n, d[+1])``.

    Every trainer and every clipping mode goes through this one function.
    """
    coef = np.asarray(dphi, dtype=float) * np.asarray(y, dtype=float)
    G = coef[..., None] * np.asarray(X, dtype=float)
    if bias:
        G = np.concatenate([G, coef[..., None]], axis=-1)
    return G


def per_example_grads(loss: LossFn, theta, X, y, *, bias: bool = False) -> np.ndarray:
    """Per-example gradients of ``phi(z_i)`` w.r.t. ``theta``, shape ``(..., n, d[+1])``."""
    _, dphi = loss(margins(theta, X, y, bias=bias))
    return grad_from_dphi(dphi, X, y, bias=bias)


def risk_and_grad(loss: LossFn, theta, X, y, *, bias: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Risk and its gradient ``(1/n) sum_i phi'(z_i) y_i [x_i, 1]`` from one loss evaluation.

    The mean gradient is contracted directly (``einsum``), never materialising ``(n, d)`` rows.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    v, dphi = loss(margins(theta, X, y, bias=bias))
    return np.mean(v, axis=-1), mean_grad_from_coef(dphi * y, X, bias=bias)


def mean_grad_from_coef(coef, X, *, bias: bool = False) -> np.ndarray:
    """``(1/n) sum_i coef_i [x_i, 1]`` with ``coef_i = phi'(z_i) y_i``: the mean gradient, contracted
    directly (``einsum``) without materialising the ``(n, d)`` per-example rows. Shape ``(..., d[+1])``."""
    X = np.asarray(X, dtype=float)
    g = np.einsum("...n,...nd->...d", coef, X) / X.shape[-2]
    if bias:
        g = np.concatenate([g, np.mean(coef, axis=-1)[..., None]], axis=-1)
    return g


def mean_grad(loss: LossFn, theta, X, y, *, bias: bool = False) -> np.ndarray:
    """Gradient of the empirical risk, shape ``(..., d[+1])``."""
    return risk_and_grad(loss, theta, X, y, bias=bias)[1]
