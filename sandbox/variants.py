"""Clipping variants of one training loop, and the population loss each one amounts to (if any).

Every variant trains a bias-free linear model on the *logistic* loss with :func:`sandbox.gd.train_gd`
(full-batch GD or SGD, vectorised across trials); what differs is how the gradient is clipped
(paper Sec. 3) and whether the features are first scaled to unit norm:

=========================  =============  ==========================================================
variant                    ``clip``       what it equals (linear model, paper Sec. 3 and Lemma 1)
=========================  =============  ==========================================================
no clipping                ``none``       GD on logistic
global, batch b            ``global``     b = 1: per-example clipping (Lemma 1, in expectation);
                                          1 < b < n: no loss; b = n: GD's direction, GD's fixed point
per-example, raw x         ``per_example``  Lemma 1: Huberised logistic at ``tau/||x_i||`` per example
per-example, x/||x||       ``per_example``  Huberised logistic at ``tau`` on the unit-norm features
L-clipping                 ``loss``       Huberised logistic (Lemma 2)
CL-clipping                ``composite``  partially Huberised logistic (Lemma 5)
=========================  =============  ==========================================================

Lemma 1 for a linear model: the per-example gradient is ``phi'(z) y x``, of norm ``|phi'(z)| ||x||``,
so clipping it to norm ``tau`` is clipping ``phi'(z)`` at ``-tau/||x||``: L-clipping with a threshold
that depends on the example's norm. On the Long & Servedio atoms (norms 1, ~0.21, ~0.06) a threshold
``tau = 0.26`` clips only the large-margin atom (``0.26/0.21 > 1 >= |phi'|`` for the others).
:func:`per_atom_huberised` is that loss on a :class:`~sandbox.data.DiscreteDistribution`, so
:func:`sandbox.population.minimise_population_risk` gives each variant's population prediction.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ._checks import check_choice, check_interval
from .data import DiscreteDistribution
from .gd import train_gd
from .losses import huberised_logistic
from .registry import make_loss

__all__ = [
    "FEATURES",
    "ClippingVariant",
    "clipping_variants",
    "sample_loss",
    "unit_norm",
    "unit_norm_distribution",
    "per_atom_huberised",
    "population_loss",
    "TrainedVariant",
    "train_variant",
]

FEATURES = ("raw", "unit")


@dataclass(frozen=True)
class ClippingVariant:
    """One way of training: ``clip`` mode of :func:`sandbox.gd.train_gd` at threshold ``tau``,
    mini-batch size ``batch_size`` (``None``: full batch), on ``features`` ``"raw"`` or ``"unit"``
    (each ``x`` divided by ``||x||``). The loss whose gradient is clipped is always logistic."""

    name: str
    label: str
    clip: str
    tau: float = float("inf")
    batch_size: int | None = None
    features: str = "raw"

    @property
    def full_batch(self) -> bool:
        return self.batch_size is None

    def to_dict(self) -> dict:
        return {
            "name": self.name, "label": self.label, "clip": self.clip,
            "tau": None if np.isinf(self.tau) else self.tau,
            "batch_size": self.batch_size, "features": self.features,
        }


def clipping_variants(
    *, tau_norm: float, tau_global: float, tau_huberised: float, tau_phuber: float,
    batch_sizes=(1, 10, 100),
) -> list[ClippingVariant]:
    """The variants of the ``clipping_variants`` figure, in display order.

    ``tau_norm``: per-example norm clipping (raw and unit-norm features); ``tau_global``: global-norm
    clipping of each mini-batch (and of the full batch); ``tau_huberised``: L-clipping;
    ``tau_phuber``: CL-clipping.
    """
    v = [ClippingVariant("none", "no clipping (GD)", "none")]
    for b in batch_sizes:
        v.append(ClippingVariant(f"global_b{b}", f"global norm, batch {b}", "global", tau_global, int(b)))
    v += [
        ClippingVariant("global_full", "global norm, full batch", "global", tau_global),
        ClippingVariant("per_example_raw", "per-example norm, raw x", "per_example", tau_norm),
        ClippingVariant("per_example_unit", "per-example norm, x/||x||", "per_example", tau_norm, features="unit"),
        ClippingVariant("none_unit", "no clipping, x/||x|| (reference)", "none", features="unit"),
        ClippingVariant("loss", "L-clipping (= Huberised)", "loss", tau_huberised),
        ClippingVariant("composite", "CL-clipping (= PHuber)", "composite", tau_phuber),
    ]
    return v


def unit_norm(X) -> np.ndarray:
    """Rows of ``X`` (``(..., n, d)``) divided by their Euclidean norm; zero rows stay zero.

    For a bias-free linear model ``sign <theta, x/||x||> = sign <theta, x>``: a classifier trained on
    unit-norm features is evaluated on the raw test points unchanged.
    """
    X = np.asarray(X, dtype=float)
    norm = np.linalg.norm(X, axis=-1, keepdims=True)
    return X / np.where(norm > 0, norm, 1.0)


def unit_norm_distribution(dist: DiscreteDistribution) -> DiscreteDistribution:
    """``dist`` with every atom scaled to unit norm (labels, weights and names kept)."""
    return DiscreteDistribution(unit_norm(dist.atoms), dist.labels, dist.weights, dist.names)


def per_atom_huberised(tau):
    """Huberised logistic with one threshold per atom: the loss ``z -> (phi, phi')`` of
    :func:`sandbox.losses.huberised_logistic` with ``tau`` of shape ``(m,)`` (the last axis of ``z``
    indexes the atoms). Thresholds ``>= 1`` leave logistic unchanged.

    With ``tau_i = tau / ||x_i||`` this is the loss that per-example norm clipping of a linear model
    descends on (Lemma 1); usable wherever :mod:`sandbox.population` evaluates ``loss(z)`` with
    ``z`` of shape ``(..., m)``.
    """
    t = np.asarray(tau, dtype=float)
    if t.ndim != 1 or np.any(~(t > 0)):
        raise ValueError(f"tau={tau!r} must be a 1-D array of per-atom thresholds in (0, inf]")
    return functools.partial(huberised_logistic, tau=t)


def population_loss(variant: ClippingVariant, dist: DiscreteDistribution):
    """``(loss, dist')`` whose noisy population minimiser is the variant's fixed point, or ``None``
    when no loss exists (global-norm clipping of mini-batches with ``1 < b < n``).

    Global clipping with ``b = 1`` is per-example clipping at ``tau_global`` (its expected update is
    the Lemma 1 gradient); with the full batch it keeps GD's direction, hence GD's fixed point.
    """
    if variant.features == "unit":
        dist = unit_norm_distribution(dist)
    if variant.clip == "per_example" or (variant.clip == "global" and variant.batch_size == 1):
        return per_atom_huberised(variant.tau / np.linalg.norm(dist.atoms, axis=1)), dist
    loss = sample_loss(variant)  # the remaining cases are margin losses
    return None if loss is None else (loss, dist)


def sample_loss(variant: ClippingVariant):
    """The registry loss whose empirical risk on the variant's features (``unit_norm(X)`` for
    ``features == "unit"``) has the variant's fixed point as its minimiser, or ``None``.

    The same cases as :func:`population_loss` where that loss is a function of the margin alone:
    no clipping and full-batch global clipping (logistic), loss-based clipping (Huberised), composite
    clipping (PHuber), and per-example clipping on unit-norm features (Huberised at ``tau``: with
    ``||x|| = 1`` the per-example threshold ``tau / ||x||`` is ``tau``). Per-example clipping on raw
    features clips each example at ``tau / ||x_i||``, which no margin loss does, and global clipping of
    mini-batches has no loss at all.
    """
    if variant.clip == "none" or (variant.clip == "global" and variant.full_batch):
        return make_loss("logistic")
    if variant.clip == "per_example" and variant.features == "unit":
        return make_loss("huberised", tau=variant.tau)
    if variant.clip == "loss":
        return make_loss("huberised", tau=variant.tau)
    if variant.clip == "composite":
        return make_loss("phuber", tau=variant.tau)
    return None


@dataclass(frozen=True)
class TrainedVariant:
    """Weights ``(T, d)`` and the mean fraction of clipped examples / steps of one variant."""

    theta: np.ndarray
    frac_clipped: float
    steps: int
    batch_size: int | None


def train_variant(
    variant: ClippingVariant, X, y, *, lr: float, steps_gd: int, steps_sgd: int, rng=None
) -> TrainedVariant:
    """Train ``variant`` on ``T`` trials at once (``X`` ``(T, n, d)``, ``y`` ``(T, n)``) from 0.

    Full-batch variants run ``steps_gd`` steps, mini-batch ones ``steps_sgd`` (batches drawn with
    replacement from ``rng``, one child stream per trial). The learning rate ``lr`` is shared.
    """
    check_interval("lr", lr, 0.0, np.inf, low_open=True, high_open=True)
    check_choice("features", variant.features, FEATURES)
    Xf = unit_norm(X) if variant.features == "unit" else np.asarray(X, dtype=float)
    steps = steps_gd if variant.full_batch else steps_sgd
    res = train_gd(
        make_loss("logistic"), Xf, y, lr=lr, steps=steps, clip=variant.clip, tau=variant.tau,
        batch_size=variant.batch_size, rng=rng, record_every=0,
    )
    frac = float(np.mean(res.frac_clipped)) if res.frac_clipped.size else 0.0
    return TrainedVariant(res.theta, frac, steps, variant.batch_size)
