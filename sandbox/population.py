"""Population (expected) risks on discrete distributions, their minimisers, and the per-atom adversary.

For a :class:`~sandbox.data.DiscreteDistribution` with atoms ``x_i``, clean labels ``y_i`` and weights
``w_i``, and per-atom flip fractions ``f_i`` (symmetric noise: ``f_i = rho`` for every atom), the noisy
population risk of a bias-free linear scorer is, in closed form::

    R_f(theta) = sum_i w_i [ (1 - f_i) phi(z_i) + f_i phi(-z_i) ],   z_i = y_i <theta, x_i>

Minimisation (``d = 2``, the Long & Servedio plane). Bounded losses (PHuber) often approach their
infimum only as ``||theta|| -> inf``, so we never compare raw weights. We write
``theta = r (cos a, sin a)`` and search jointly over the angle ``a`` (a full circle) and the radius
``r in {0} U [1e-3, 1e6] U {inf}``, where ``r = inf`` is evaluated at ``r = 1e300``: every loss here is
finite there and equals its limit to rounding (``phi(+inf) = 0``; ``phi(-inf)`` is ``1 + log tau`` for
PHuber and ``~1e300`` for unbounded losses, which then never win). The best grid point is refined by
two rounds of a finer local grid (angle and ``log r``). The classifier is the *direction*; the reported
``radius`` is ``inf`` when the limit wins. Atom ``i`` counts as correct when ``y_i <u, x_i> > 0``, half
when the score is exactly 0 (a tie is a coin flip).

All minimisations are vectorised across many flip vectors ``f`` at once (``rho`` or ``flip`` may carry
leading axes), because the risk is linear in ``f``: the loss is evaluated once on the grid and each
flip vector costs one matrix product.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ._checks import check_interval
from .data import DiscreteDistribution

__all__ = [
    "population_risk",
    "clean_accuracy",
    "PopulationFit",
    "minimise_population_risk",
    "AdversarialFlips",
    "adversarial_atom_flips",
    "R_INF",
]

R_INF = 1e300  # stands for r = inf: losses are finite there and equal their limits to rounding


def _flips(dist: DiscreteDistribution, rho, flip) -> np.ndarray:
    """Per-atom flip fractions, shape ``(..., m)``."""
    m = len(dist.weights)
    if flip is not None:
        if rho is not None:
            raise ValueError("give either rho (symmetric noise) or flip (per-atom fractions), not both")
        f = np.asarray(flip, dtype=float)
        if f.shape[-1:] != (m,):
            raise ValueError(f"flip.shape={f.shape} must end with the number of atoms m={m}")
        if np.any(~((f >= 0) & (f <= 1))):
            raise ValueError(f"flip={flip!r} holds fractions outside their domain [0, 1]")
        return f
    r = np.asarray(0.0 if rho is None else rho, dtype=float)
    if np.any(~((r >= 0) & (r < 0.5))):
        bad = float(r[~((r >= 0) & (r < 0.5))].ravel()[0]) if r.ndim else float(r)
        raise ValueError(f"rho={bad!r} is outside its domain [0, 0.5) (symmetric noise)")
    return np.broadcast_to(r[..., None], r.shape + (m,))


def population_risk(loss, theta, dist: DiscreteDistribution, *, rho=None, flip=None) -> np.ndarray:
    """Noisy population risk ``R_f(theta)``; ``theta`` ``(..., d)`` -> risk ``(...)``.

    ``rho`` (symmetric noise, scalar) or ``flip`` (per-atom fractions, shape ``(m,)``).
    """
    f = _flips(dist, rho, flip)
    z = np.einsum("...d,md->...m", np.asarray(theta, dtype=float), dist.yx)
    vp, vm = loss(z)[0], loss(-z)[0]
    return np.sum(dist.weights * ((1.0 - f) * vp + f * vm), axis=-1)


def clean_accuracy(theta, dist: DiscreteDistribution) -> np.ndarray:
    """Clean accuracy ``sum_i w_i [y_i <theta, x_i> > 0]`` (ties count 1/2); ``theta`` ``(..., d)``."""
    z = np.einsum("...d,md->...m", np.asarray(theta, dtype=float), dist.yx)
    return np.sum(dist.weights * ((z > 0) + 0.5 * (z == 0)), axis=-1)


@dataclass(frozen=True)
class PopulationFit:
    """Minimiser(s) of a noisy population risk. Array fields carry the leading shape of the flips.

    ``angle`` (radians) and ``direction`` ``(..., 2)`` define the classifier; ``radius`` may be
    ``inf`` (infimum approached along the direction); ``theta = radius * direction`` with ``R_INF``
    standing in for ``inf``; ``risk`` is the minimal noisy risk; ``atom_correct`` ``(..., m)`` holds
    1, 0 or 1/2 per atom and ``clean_accuracy`` is its weighted sum.
    """

    angle: np.ndarray
    radius: np.ndarray
    risk: np.ndarray
    direction: np.ndarray
    theta: np.ndarray
    atom_correct: np.ndarray
    clean_accuracy: np.ndarray


def _radius_grid(n: int) -> np.ndarray:
    return np.concatenate([[0.0], np.logspace(-3, 6, n), [R_INF]])


def _grid_losses(loss, ang: np.ndarray, rad: np.ndarray, yx: np.ndarray):
    """``phi(z)`` and ``phi(-z)`` on a (radius x angle x atom) grid; shapes broadcast."""
    u = np.stack([np.cos(ang), np.sin(ang)], axis=-1)
    z = rad[..., None] * np.einsum("...d,md->...m", u, yx)
    return loss(z)[0], loss(-z)[0]


def minimise_population_risk(
    loss,
    dist: DiscreteDistribution,
    *,
    rho=None,
    flip=None,
    n_angles: int = 1440,
    n_radii: int = 181,
    refine: bool = True,
    chunk: int = 64,
) -> PopulationFit:
    """Minimise the noisy population risk over bias-free linear scorers in R^2 (see module doc).

    ``rho`` may be an array (e.g. a grid of noise rates) and ``flip`` an array ``(..., m)``; the
    result's fields then carry those leading axes. ``n_angles`` points on the circle and ``n_radii``
    log-spaced radii form the coarse grid (resolution 0.25 degrees by default); ``refine`` adds two
    rounds of a 41 x 41 local grid around each coarse minimiser (final angle resolution ~1e-4 deg).
    ``chunk`` bounds memory: that many flip vectors are processed per matrix product.
    """
    if dist.atoms.shape[1] != 2:
        raise ValueError(
            f"dist has d={dist.atoms.shape[1]} features; population minimisation searches the circle of "
            "directions and is implemented for d = 2 (the Long & Servedio plane)"
        )
    F = _flips(dist, rho, flip)
    lead = F.shape[:-1]
    F = F.reshape(-1, F.shape[-1])
    w = dist.weights
    ang = np.linspace(-np.pi, np.pi, n_angles, endpoint=False)
    rad = _radius_grid(n_radii)
    vp, vm = _grid_losses(loss, ang[None, :], rad[:, None], dist.yx)  # (R, A, m)
    P = (vp * w).reshape(-1, len(w))
    M = (vm * w).reshape(-1, len(w))
    best_a = np.empty(len(F))
    best_r = np.empty(len(F))
    for s in range(0, len(F), chunk):
        f = F[s : s + chunk]
        risk = P @ (1.0 - f).T + M @ f.T  # (R*A, k)
        k = np.argmin(risk, axis=0)
        best_r[s : s + chunk] = rad[k // n_angles]
        best_a[s : s + chunk] = ang[k % n_angles]
    if refine:
        da = 2 * np.pi / n_angles
        dl = np.log10(rad[2] / rad[1])
        for _ in range(2):
            best_a, best_r = _refine(loss, dist, F, best_a, best_r, da, dl)
            da, dl = da / 10, dl / 10
    u = np.stack([np.cos(best_a), np.sin(best_a)], axis=-1)
    theta_eff = np.where(np.isinf(best_r), R_INF, best_r)[:, None] * u
    risk = np.sum(w * _risk_terms(loss, theta_eff, dist, F), axis=-1)
    z = u @ dist.yx.T * np.where(best_r > 0, 1.0, 0.0)[:, None]
    correct = (z > 0) + 0.5 * (z == 0)

    def shape(a, extra=()):
        return a.reshape(lead + extra)

    return PopulationFit(
        angle=shape(best_a),
        radius=shape(best_r),
        risk=shape(risk),
        direction=shape(u, (2,)),
        theta=shape(theta_eff, (2,)),
        atom_correct=shape(correct.astype(float), (len(w),)),
        clean_accuracy=shape(correct @ w),
    )


def _risk_terms(loss, theta, dist, F):
    z = theta @ dist.yx.T
    return (1.0 - F) * loss(z)[0] + F * loss(-z)[0]


def _refine(loss, dist, F, a0, r0, da, dl):
    """One round of a 41 x 41 local grid (angle +- 2 da, log10 r +- 2 dl) around each minimiser."""
    K = len(F)
    t = np.linspace(-2.0, 2.0, 41)
    ang = a0[:, None] + da * t[None, :]  # (K, 41)
    finite = (r0 > 0) & np.isfinite(r0) & (r0 < R_INF)
    log_r = np.log10(np.where(finite, r0, 1.0))
    rad = np.where(finite[:, None], 10.0 ** (log_r[:, None] + dl * t[None, :]), r0[:, None])  # (K, 41)
    rad = np.where(r0[:, None] >= R_INF, R_INF, rad)
    # include the unrefined candidate so refinement can never make things worse
    u = np.stack([np.cos(ang), np.sin(ang)], axis=-1)  # (K, 41a, 2)
    zu = np.einsum("kad,md->kam", u, dist.yx)  # (K, 41a, m)
    z = rad[:, :, None, None] * zu[:, None, :, :]  # (K, 41r, 41a, m)
    f = F[:, None, None, :]
    risk = np.sum(dist.weights * ((1.0 - f) * loss(z)[0] + f * loss(-z)[0]), axis=-1)  # (K, 41r, 41a)
    flat = risk.reshape(K, -1)
    k = np.argmin(flat, axis=1)
    ir, ia = k // 41, k % 41
    idx = np.arange(K)
    a_new, r_new = ang[idx, ia], rad[idx, ir]
    r_new = np.where(r0 == 0.0, 0.0, r_new)
    return a_new, r_new


@dataclass(frozen=True)
class AdversarialFlips:
    """Result of the per-atom adversary: the flip fractions it chose, the budget they use, and the
    minimiser of the noisy risk they induce. ``n_candidates`` flip vectors were searched."""

    flip: np.ndarray
    used_budget: float
    fit: PopulationFit
    clean_accuracy: float
    n_candidates: int


def adversarial_atom_flips(
    loss,
    dist: DiscreteDistribution,
    *,
    rho: float,
    resolution: float = 0.1,
    n_angles: int = 720,
    n_radii: int = 121,
) -> AdversarialFlips:
    """Choose per-atom flip fractions ``f`` with ``sum_i w_i f_i <= rho`` to maximise the clean error
    of the noisy-risk minimiser of ``loss`` (an exhaustive search over the atoms' flip fractions).

    Candidates: every ``f`` on the grid ``{0, resolution, ..., 1}^m`` within the budget, plus the
    symmetric ``f_i = rho`` (so the adversary is never weaker than symmetric noise). Among the worst
    candidates the one with the smallest budget wins, then the one with the largest noisy risk.
    ``rho in [0, 1]``; ``resolution in (0, 1]``.
    """
    rho = check_interval("rho", rho, 0.0, 1.0, hint="flip budget as a fraction of the population mass")
    resolution = check_interval("resolution", resolution, 0.0, 1.0, low_open=True)
    m = len(dist.weights)
    levels = np.unique(np.append(np.arange(0.0, 1.0 + 1e-12, resolution).clip(0, 1), 1.0))
    cand = np.array(list(itertools.product(levels, repeat=m)))
    cand = cand[cand @ dist.weights <= rho + 1e-12]
    cand = np.vstack([cand, np.full((1, m), min(rho, 1.0))])
    fit = minimise_population_risk(loss, dist, flip=cand, n_angles=n_angles, n_radii=n_radii)
    used = cand @ dist.weights
    order = np.lexsort((-fit.risk, used, fit.clean_accuracy))
    best = order[0]
    one = PopulationFit(**{k: getattr(fit, k)[best] for k in fit.__dataclass_fields__})
    return AdversarialFlips(
        flip=cand[best], used_budget=float(used[best]), fit=one,
        clean_accuracy=float(fit.clean_accuracy[best]), n_candidates=len(cand),
    )
