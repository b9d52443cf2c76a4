"""Independent trials of the Long & Servedio experiment (paper Fig. 2a), stacked for vectorised fits.

Trial ``t`` draws its training sample, its label flips and its clean test sample from child stream
``t`` of ``rng`` (:func:`sandbox.rng.child_rngs`), so a trial's data do not depend on how many
trials run, in which order, or in which chunk (``first_trial``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_interval, check_positive_int
from .data import long_servedio_mixture
from .noise import flip_symmetric
from .rng import child_rngs

__all__ = ["LSTrials", "long_servedio_trials", "trials_over_rho"]


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
    rng,
    gamma: float = 1 / 24,
    sigma: float = 0.01,
    first_trial: int = 0,
) -> LSTrials:
    """Trials ``first_trial, ..., first_trial + trials - 1`` of the experiment with this ``rng``.

    Each trial: ``n_train`` points of the six-Gaussian mixture, labels flipped symmetrically at rate
    ``rho``, and ``n_test`` clean test points. ``rng`` is an int seed (trials are then indexed:
    ``first_trial`` lets callers build trials in chunks that equal the corresponding slice of one
    big call) or a ``Generator`` (its children are spawned).
    """
    trials = check_positive_int("trials", trials)
    n_train = check_positive_int("n_train", n_train)
    n_test = check_positive_int("n_test", n_test)
    first_trial = check_positive_int("first_trial", first_trial, minimum=0)
    check_interval("rho", rho, 0.0, 0.5, high_open=True, hint="symmetric noise needs rho < 1/2")
    parts = []
    for rng_t in child_rngs(rng, trials, first=first_trial):
        tr = long_servedio_mixture(n_train, rng=rng_t, gamma=gamma, sigma=sigma)
        y_noisy, flipped = flip_symmetric(tr.y, rho=rho, rng=rng_t)
        te = long_servedio_mixture(n_test, rng=rng_t, gamma=gamma, sigma=sigma)
        parts.append((tr.X, y_noisy, tr.y, tr.group, te.X, te.y, flipped.mean()))
    cols = list(zip(*parts))
    return LSTrials(*(np.stack(c) for c in cols[:-1]), realised_rho=np.array(cols[-1]))


def trials_over_rho(rhos, *, trials: int, n_train: int, n_test: int, rng, gamma: float = 1 / 24,
                    sigma: float = 0.01) -> LSTrials:
    """``trials`` trials at each noise rate of ``rhos``, concatenated rho-major: ``X_train``
    ``(len(rhos) * trials, n_train, 2)``. Every rate draws the same clean samples from the same
    ``rng`` (an int seed: common random numbers, the flip sets are nested across rho)."""
    parts = [long_servedio_trials(trials=trials, n_train=n_train, n_test=n_test, rho=float(r), rng=rng,
                                  gamma=gamma, sigma=sigma) for r in rhos]
    return LSTrials(*(np.concatenate([getattr(p, f) for p in parts]) for f in LSTrials.__dataclass_fields__))
