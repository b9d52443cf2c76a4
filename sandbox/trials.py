"""Independent trials of the Long & Servedio experiment (paper Fig. 2a), stacked for vectorised fits.

Trial ``t`` draws its training sample, its label flips and its clean test sample from child stream
``t`` of the seed (:func:`sandbox.rng.trial_rngs`), so a trial's data do not depend on how many
trials run, in which order, or in which chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_interval, check_positive_int
from .data import long_servedio_mixture
from .linear import scores
from .noise import flip_symmetric
from .rng import as_generator

__all__ = ["LSTrials", "long_servedio_trials", "test_accuracy"]


@dataclass(frozen=True)
class LSTrials:
    """Stacked trials. ``X_train`` ``(T, n, 2)``; ``y_train`` ``(T, n)`` noisy labels;
    ``y_train_clean`` ``(T, n)``; ``group_train`` ``(T, n)`` mixture component; ``X_test``
    ``(T, m, 2)``; ``y_test`` ``(T, m)`` clean labels; ``realised_rho`` ``(T,)`` fraction flipped."""

    X_train: np.ndarray
    y_train: np.ndarray
    y_train_clean: np.ndarray
    group_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    realised_rho: np.ndarray

    @property
    def trials(self) -> int:
        return self.X_train.shape[0]


def long_servedio_trials(
    *,
    trials: int,
    n_train: int,
    n_test: int,
    rho: float,
    seed,
    gamma: float = 1 / 24,
    sigma: float = 0.01,
    first_trial: int = 0,
) -> LSTrials:
    """Trials ``first_trial, ..., first_trial + trials - 1`` of the experiment with this seed.

    Each trial: ``n_train`` points of the six-Gaussian mixture, labels flipped symmetrically at rate
    ``rho``, and ``n_test`` clean test points. ``first_trial`` lets callers build trials in chunks
    that equal the corresponding slice of one big call.
    """
    trials = check_positive_int("trials", trials)
    first_trial = check_positive_int("first_trial", first_trial, minimum=0)
    check_interval("rho", rho, 0.0, 0.5, high_open=True, hint="symmetric noise needs rho < 1/2")
    # children are indexed: spawning first_trial + trials keeps child t identical for every chunking
    children = np.random.SeedSequence(_entropy(seed)).spawn(first_trial + trials)[first_trial:]
    parts = []
    for ss in children:
        rng = np.random.default_rng(ss)
        tr = long_servedio_mixture(n_train, rng=rng, gamma=gamma, sigma=sigma)
        y_noisy, flipped = flip_symmetric(tr.y, rho=rho, rng=rng)
        te = long_servedio_mixture(n_test, rng=rng, gamma=gamma, sigma=sigma)
        parts.append((tr.X, y_noisy, tr.y, tr.group, te.X, te.y, flipped.mean()))
    cols = list(zip(*parts))
    return LSTrials(*(np.stack(c) for c in cols[:-1]), realised_rho=np.array(cols[-1]))


def _entropy(seed) -> int:
    if isinstance(seed, np.random.Generator):
        raise ValueError("seed must be an integer here (trials are indexed children of its SeedSequence)")
    as_generator(seed)  # validates: non-negative integer
    return int(seed)


def test_accuracy(theta, X, y, *, bias: bool = False) -> np.ndarray:
    """Clean accuracy per trial: fraction of ``sign(score) == y``; a zero score counts 1/2.

    ``theta`` ``(T, d)``, ``X`` ``(T, m, d)``, ``y`` ``(T, m)`` -> ``(T,)``.
    """
    s = scores(theta, X, bias=bias)
    z = np.asarray(y) * s
    return np.mean((z > 0) + 0.5 * (z == 0), axis=-1)


test_accuracy.__test__ = False  # not a pytest test despite its name
