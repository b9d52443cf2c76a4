"""The paper's counterexample distributions (Section 4 and Fig. 2), clean labels only.

Label noise is applied separately (:mod:`sandbox.noise`), so the same clean draw can be corrupted in
several ways. Every sampler takes ``rng``: an int seed or a ``numpy.random.Generator``.

* :func:`long_servedio`: the exact Long & Servedio atoms as a :class:`DiscreteDistribution`, usable
  for population risks (:mod:`sandbox.population`); :func:`sample_discrete` draws from it.
* :func:`long_servedio_mixture`: the paper's six-Gaussian version (Fig. 2a).
* :func:`ding_outliers`: Ding's 1-D inliers and outliers (Fig. 2b), returned separately.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_interval, check_positive_int
from .rng import as_generator

__all__ = [
    "Dataset",
    "DiscreteDistribution",
    "LS_ATOM_NAMES",
    "long_servedio",
    "sample_discrete",
    "long_servedio_mixture",
    "ding_outliers",
]

LS_ATOM_NAMES = ("large_margin", "puller", "penalizer")


@dataclass(frozen=True)
class Dataset:
    """A labelled sample. ``X``: ``(n, d)``; ``y``: ``(n,)`` in {-1, +1}; ``group``: ``(n,)`` ints
    naming the component each example came from (e.g. the Long & Servedio atom), ``-1`` if none."""

    X: np.ndarray
    y: np.ndarray
    group: np.ndarray

    @property
    def n(self) -> int:
        return self.X.shape[0]


@dataclass(frozen=True)
class DiscreteDistribution:
    """A distribution on finitely many labelled atoms.

    ``atoms``: ``(m, d)``; ``labels``: ``(m,)`` clean labels in {-1, +1}; ``weights``: ``(m,)``
    probabilities summing to one; ``names``: one per atom.
    """

    atoms: np.ndarray
    labels: np.ndarray
    weights: np.ndarray
    names: tuple[str, ...]

    @property
    def yx(self) -> np.ndarray:
        """``y * x`` per atom, ``(m, d)``: all a bias-free linear model sees of an atom."""
        return self.labels[:, None] * self.atoms


def long_servedio(*, gamma: float = 1 / 24) -> DiscreteDistribution:
    """Long & Servedio's distribution in R^2, all clean labels +1, ``0 < gamma < 1/6``.

    ============  =====================  ======
    atom          x                      weight
    ============  =====================  ======
    large_margin  (1, 0)                 1/4
    puller        (gamma, 5 gamma)       1/4
    penalizer     (gamma, -gamma)        1/2
    ============  =====================  ======

    The halfspace ``x1 > 0`` classifies every atom correctly.
    """
    gamma = check_interval("gamma", gamma, 0.0, 1 / 6, low_open=True, high_open=True)
    atoms = np.array([[1.0, 0.0], [gamma, 5 * gamma], [gamma, -gamma]])
    return DiscreteDistribution(atoms, np.ones(3), np.array([0.25, 0.25, 0.5]), LS_ATOM_NAMES)


def sample_discrete(dist: DiscreteDistribution, n: int, *, rng) -> Dataset:
    """``n`` i.i.d. draws from ``dist``; ``group`` holds each draw's atom index."""
    n = check_positive_int("n", n)
    rng = as_generator(rng)
    idx = rng.choice(len(dist.weights), size=n, p=dist.weights)
    return Dataset(dist.atoms[idx].copy(), dist.labels[idx].copy(), idx)


def long_servedio_mixture(n: int, *, rng, gamma: float = 1 / 24, sigma: float = 0.01) -> Dataset:
    """The paper's six-Gaussian Long & Servedio mixture in R^2 (Fig. 2a), clean labels.

    Components ``N(s * mu, sigma^2 I)`` for ``s in {+1, -1}`` and ``mu`` in ``(1, 0)`` (weight 1/8),
    ``(gamma, 5 gamma)`` (1/8), ``(gamma, -gamma)`` (1/4). The clean label is ``sign(x1)``.
    ``group`` is the atom index (0 large margin, 1 puller, 2 penalizer) for ``s = +1`` and
    ``atom + 3`` for ``s = -1``. For a bias-free linear model both signs give the same ``y * x``.
    """
    n = check_positive_int("n", n)
    gamma = check_interval("gamma", gamma, 0.0, 1 / 6, low_open=True, high_open=True)
    sigma = check_interval("sigma", sigma, 0.0, np.inf)
    rng = as_generator(rng)
    mu = long_servedio(gamma=gamma).atoms
    means = np.concatenate([mu, -mu])
    weights = np.array([1 / 8, 1 / 8, 1 / 4] * 2)
    group = rng.choice(6, size=n, p=weights)
    X = means[group] + sigma * rng.standard_normal((n, 2))
    y = np.where(X[:, 0] >= 0, 1.0, -1.0)
    return Dataset(X, y, group)


def ding_outliers(
    *,
    rng,
    n_inliers: int = 5000,
    n_outliers: int = 25,
    inlier_mean: float = 1.0,
    outlier_mean: float = 200.0,
    scale: float = 1.0,
) -> tuple[Dataset, Dataset]:
    """Ding (2013)'s 1-D outlier set: ``(inliers, outliers)``, each with ``X`` of shape ``(., 1)``.

    Inliers: ``n_inliers`` from ``N(+m, s^2)`` labelled +1 and ``n_inliers`` from ``N(-m, s^2)``
    labelled -1. Outliers: ``n_outliers`` from ``N(-M, s^2)`` labelled +1 and ``n_outliers`` from
    ``N(+M, s^2)`` labelled -1. With the defaults ``mean(y x)`` over all points is about
    ``(2*5000*1 - 2*25*200) / 10050 = 0``. ``group`` is 0/1 (inlier +1/-1) and 2/3 (outlier +1/-1).
    """
    n_in = check_positive_int("n_inliers", n_inliers)
    n_out = check_positive_int("n_outliers", n_outliers, minimum=0)
    scale = check_interval("scale", scale, 0.0, np.inf)
    inlier_mean = check_interval("inlier_mean", inlier_mean, -np.inf, np.inf, low_open=True, high_open=True)
    outlier_mean = check_interval("outlier_mean", outlier_mean, -np.inf, np.inf, low_open=True, high_open=True)
    rng = as_generator(rng)

    def block(n, mean, label, grp):
        return mean + scale * rng.standard_normal(n), np.full(n, label), np.full(n, grp)

    parts_in = [block(n_in, inlier_mean, 1.0, 0), block(n_in, -inlier_mean, -1.0, 1)]
    parts_out = [block(n_out, -outlier_mean, 1.0, 2), block(n_out, outlier_mean, -1.0, 3)]

    def cat(parts) -> Dataset:
        x, y, g = (np.concatenate(a) for a in zip(*parts))
        return Dataset(x[:, None], y, g)

    return cat(parts_in), cat(parts_out)
