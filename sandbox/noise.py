"""Label flips on samples: symmetric, exact-fraction, class-conditional and adversarial.

Labels are ``y in {-1, +1}``, shape ``(..., n)`` (a leading trials axis is allowed for the random
flips). Every function returns a :class:`Flips` ``(y_noisy, flipped)``: the noisy labels and a boolean
mask of the flipped entries; ``.indices`` gives the flipped indices (per axis, as ``np.nonzero``).

* :func:`flip_symmetric`: each label independently with probability ``rho in [0, 1/2)``.
* :func:`flip_exact_fraction`: exactly ``round(rho * n)`` labels, uniformly at random.
* :func:`flip_class_conditional`: positives with probability ``rho_pos``, negatives ``rho_neg``.
* :func:`flip_largest_margin`: adversarial, the ``round(rho * n)`` examples with the largest clean
  margin under a reference classifier (deterministic).
* :func:`flip_group`: adversarial, ``round(rho * n)`` examples taken from a chosen group (e.g. one
  Long & Servedio atom).
* :func:`flip_multiclass`: symmetric multiclass noise (the paper's Table 2, as in the [Re]): each label
  with probability ``rho`` to one of the other ``K - 1`` classes, uniformly.

The population-level adversary (per-atom flip fractions) is :func:`sandbox.adversary.adversarial_atom_flips`.
Every random flip takes ``rng``: an int seed or a ``numpy.random.Generator``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import (
    check_data,
    check_features,
    check_interval,
    check_labels,
    check_positive_int,
)
from .linear import margins
from .rng import as_generator

__all__ = [
    "Flips",
    "flip_symmetric",
    "flip_exact_fraction",
    "flip_class_conditional",
    "flip_largest_margin",
    "flip_group",
    "flip_multiclass",
    "budget",
]


class Flips(NamedTuple):
    """Noisy labels and which entries were flipped; unpacks as ``y_noisy, flipped = ...``."""

    y: np.ndarray
    flipped: np.ndarray

    @property
    def indices(self) -> tuple[np.ndarray, ...]:
        """Indices of the flipped entries, one array per axis (``np.nonzero(flipped)``)."""
        return np.nonzero(self.flipped)


def budget(rho: float, n: int) -> int:
    """Number of flips for a budget ``rho in [0, 1]`` on ``n`` examples: ``round(rho * n)``."""
    rho = check_interval("rho", rho, 0.0, 1.0, hint="flip budget as a fraction of the sample")
    return int(np.round(rho * n))


def flip_symmetric(y, *, rho: float, rng) -> Flips:
    """Flip each label independently with probability ``rho in [0, 1/2)``.

    >>> yn, f = flip_symmetric(np.ones(4), rho=0.0, rng=np.random.default_rng(0))
    >>> yn.tolist(), int(f.sum())
    ([1.0, 1.0, 1.0, 1.0], 0)
    """
    rho = check_interval("rho", rho, 0.0, 0.5, high_open=True, hint="symmetric noise needs rho < 1/2")
    y = check_labels(y)
    flipped = as_generator(rng).random(y.shape) < rho
    return Flips(np.where(flipped, -y, y), flipped)


def flip_exact_fraction(y, *, rho: float, rng) -> Flips:
    """Flip exactly ``round(rho * n)`` labels along the last axis, chosen uniformly at random.

    ``rho in [0, 1]``. With a leading trials axis every row gets exactly the budget.
    """
    y = check_labels(y)
    k = budget(rho, y.shape[-1])
    # random ranks per row: the k smallest keys are flipped (a uniform k-subset per row)
    keys = as_generator(rng).random(y.shape)
    order = np.argsort(keys, axis=-1)
    flipped = np.zeros(y.shape, dtype=bool)
    np.put_along_axis(flipped, order[..., :k], True, axis=-1)
    return Flips(np.where(flipped, -y, y), flipped)


def flip_class_conditional(
    y, *, rho_pos: float, rho_neg: float, rng
) -> Flips:
    """Flip ``+1`` labels with probability ``rho_pos`` and ``-1`` labels with ``rho_neg``.

    Both in ``[0, 1]`` with ``rho_pos + rho_neg < 1`` (otherwise labels carry no information).
    """
    rp = check_interval("rho_pos", rho_pos, 0.0, 1.0)
    rn = check_interval("rho_neg", rho_neg, 0.0, 1.0)
    if rp + rn >= 1.0:
        raise ValueError(f"rho_pos + rho_neg = {rp + rn:g} must be < 1 (noisy labels must carry signal)")
    y = check_labels(y)
    flipped = as_generator(rng).random(y.shape) < np.where(y > 0, rp, rn)
    return Flips(np.where(flipped, -y, y), flipped)


def flip_largest_margin(y, X, theta_ref, *, rho: float, bias: bool = False) -> Flips:
    """Adversarial flips: the ``round(rho * n)`` examples with the largest clean margin
    ``y_i <theta_ref, x_i>`` under the reference classifier ``theta_ref`` are flipped.

    Shapes: ``y`` ``(n,)``, ``X`` ``(n, d)``, ``theta_ref`` ``(d,)`` (``(d+1,)`` with ``bias``).
    Ties are broken by index (stable sort), so the result is deterministic. ``rho in [0, 1]``.
    """
    X, y = check_data(X, y, ndim=(2,))
    theta_ref = check_features(theta_ref, name="theta_ref", ndim=(1,))
    k = budget(rho, y.shape[-1])
    z = margins(theta_ref, X, y, bias=bias)
    order = np.argsort(-z, kind="stable")
    flipped = np.zeros(y.shape, dtype=bool)
    flipped[order[:k]] = True
    return Flips(np.where(flipped, -y, y), flipped)


def flip_group(
    y, group, *, target: int, rho: float, rng
) -> Flips:
    """Adversarial flips concentrated on one group: ``round(rho * n)`` examples, chosen uniformly at
    random among those with ``group == target``, are flipped (e.g. all flips on the Long & Servedio
    large-margin atom).

    Raises ``ValueError`` if the group has fewer members than the budget. ``rho in [0, 1]``.
    """
    y = check_labels(y)
    group = np.asarray(group)
    if group.shape != y.shape:
        raise ValueError(f"group.shape={group.shape} must equal y.shape={y.shape} (one group per label)")
    k = budget(rho, y.shape[-1])
    members = np.flatnonzero(group == target)
    if k > members.size:
        raise ValueError(
            f"rho={rho!r} asks for {k} flips but group target={target!r} has only {members.size} "
            f"members; rho must be <= {members.size / y.shape[-1]:.4g} for this sample"
        )
    flipped = np.zeros(y.shape, dtype=bool)
    flipped[as_generator(rng).choice(members, size=k, replace=False)] = True
    return Flips(np.where(flipped, -y, y), flipped)


def flip_multiclass(y, *, rho: float, num_classes: int, rng) -> Flips:
    """Symmetric multiclass noise on integer labels ``y (n,)`` in ``{0, ..., K-1}``, ``rho in [0, 1]``.

    Each label is flipped independently with probability ``rho`` to ``(y + U) mod K`` with ``U`` uniform
    on ``{1, ..., K-1}``, i.e. uniformly to one of the other ``K - 1`` classes (never to itself).

    The draws are ``u = rng.random(n)`` (flip iff ``u < rho``) then ``U = rng.integers(1, K, n)``, both
    made for every ``rho``: generators in the same state give *nested* corruptions, the examples
    flipped at ``rho = 0.2`` are flipped (to the same class) at ``rho = 0.6``.
    """
    rho = check_interval("rho", rho, 0.0, 1.0, hint="flip probability")
    k = check_positive_int("num_classes", num_classes, minimum=2)
    y = np.asarray(y)
    if y.ndim != 1 or (y.size and not np.issubdtype(y.dtype, np.integer)):
        raise ValueError(f"y must be a 1-D integer label array; got shape {y.shape}, dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"labels y must lie in {{0, ..., {k - 1}}}; got range [{y.min()}, {y.max()}]")
    rng = as_generator(rng)
    u = rng.random(y.size)
    shift = rng.integers(1, k, size=y.size)
    flipped = u < rho
    return Flips(np.where(flipped, (y + shift) % k, y).astype(y.dtype), flipped)
