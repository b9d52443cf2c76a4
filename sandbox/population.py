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
PHuber and ``~1e300`` for unbounded losses, which then never win; values above ``1e300``, e.g. the
squared loss's overflow to ``inf``, are capped at ``1e300``). The best grid point is then
refined on the radial profile ``a -> min_r R(r u(a))``: at every coarse angle the radius is
minimised exactly (golden section in ``log r`` inside the grid's bracket), and then the angle
window around the best is zoomed tenfold four times. The classifier is the *direction*; the reported
``radius`` is ``inf`` when the limit wins. Atom ``i`` counts as correct when ``y_i <u, x_i> > 0``, half
when the score is exactly 0 (a tie is a coin flip).

All minimisations are vectorised across many flip vectors ``f`` at once (``rho`` or ``flip`` may carry
leading axes), because the risk is linear in ``f``: the loss is evaluated once on the grid and each
flip vector costs one matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from ._checks import check_loss, check_positive_int
from .data import DiscreteDistribution
from .linear import accuracy

__all__ = [
    "population_risk",
    "clean_accuracy",
    "mixture_accuracy",
    "PopulationFit",
    "minimise_population_risk",
    "profile_risk",
    "radial_minimum",
    "angular_pulls",
    "R_INF",
    "TIE_RTOL",
]

R_INF = 1e300  # stands for r = inf: losses are finite there and equal their limits to rounding
TIE_RTOL = 1e-12  # two minimal risks this close (relative) are a tie: rounding, not a difference


def _noisy_terms(loss, z, f) -> np.ndarray:
    """Per-atom noisy loss ``(1 - f) phi(z) + f phi(-z)``: the one formula every risk here sums."""
    return (1.0 - f) * _value(loss, z) + f * _value(loss, -z)


def _value(loss, z) -> np.ndarray:
    """``phi(z)`` alone: a :class:`~sandbox.registry.MarginLoss` skips its derivative; any other
    callable ``z -> (phi, phi')`` is called in full.

    Capped at ``R_INF``: a loss that overflows to ``inf`` at ``r = inf`` (the squared loss,
    ``(1 - z)^2`` at ``|z| = 1e300``) stays finite there, so a flip fraction of 0 or 1 times it is 0,
    not NaN (``0 * inf``), and such a point, at least ``w_i R_INF`` high, never wins."""
    value = getattr(loss, "value", None)
    return np.minimum(value(z) if value is not None else loss(z)[0], R_INF)


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
    check_loss(loss)
    f = _flips(dist, rho, flip)
    z = np.einsum("...d,md->...m", np.asarray(theta, dtype=float), dist.yx)
    return np.sum(dist.weights * _noisy_terms(loss, z, f), axis=-1)


def clean_accuracy(theta, dist: DiscreteDistribution) -> np.ndarray:
    """Clean accuracy ``sum_i w_i [y_i <theta, x_i> > 0]`` (ties count 1/2); ``theta`` ``(..., d)``."""
    return accuracy(theta, dist.atoms, dist.labels, weights=dist.weights)


def mixture_accuracy(direction, dist: DiscreteDistribution, sigma: float) -> np.ndarray:
    """Clean accuracy of the direction ``u`` (``(..., 2)``, unit norm) on the Gaussian mixture around
    ``dist``'s atoms: ``sum_i w_i Phi(<u, y_i x_i> / sigma)`` (each component is ``N(x_i, sigma^2 I)``;
    the few points of a component that cross ``x1 = 0`` are ignored: ``|x1| >= gamma >> sigma``)."""
    z = np.einsum("...d,md->...m", np.asarray(direction, float), dist.yx)
    return np.sum(dist.weights * ndtr(z / sigma), axis=-1)


@dataclass(frozen=True)
class PopulationFit:
    """Minimiser(s) of a noisy population risk. Array fields carry the leading shape of the flips.

    ``angle`` (radians) and ``direction`` ``(..., 2)`` define the classifier; ``radius`` may be
    ``inf`` (infimum approached along the direction); ``theta = radius * direction`` with ``R_INF``
    standing in for ``inf``; ``risk`` is the minimal noisy risk; ``atom_correct`` ``(..., m)`` holds
    1, 0 or 1/2 per atom and ``clean_accuracy`` is its weighted sum.

    ``tie``: another classification of the atoms reaches the same minimal risk (to ``TIE_RTOL``), so
    the minimiser is not unique and ``clean_accuracy`` is one of several answers; ``accuracy_range``
    ``(..., 2)`` holds the lowest and highest clean accuracy over the tied classifications (both equal
    ``clean_accuracy`` when there is no tie). Ties are found on the search grid, where a competing
    classification's risk can only be overestimated: a reported tie is certain, and one whose
    competing minimum lies at a finite radius between grid angles could be missed.
    """

    angle: np.ndarray
    radius: np.ndarray
    risk: np.ndarray
    direction: np.ndarray
    theta: np.ndarray
    atom_correct: np.ndarray
    clean_accuracy: np.ndarray
    tie: np.ndarray
    accuracy_range: np.ndarray


def _radius_grid(n: int) -> np.ndarray:
    return np.concatenate([[0.0], np.logspace(-3, 6, n), [R_INF]])


def _grid_losses(loss, ang: np.ndarray, rad: np.ndarray, yx: np.ndarray):
    """``phi(z)`` and ``phi(-z)`` on a (radius x angle x atom) grid; shapes broadcast."""
    u = np.stack([np.cos(ang), np.sin(ang)], axis=-1)
    z = rad[..., None] * np.einsum("...d,md->...m", u, yx)
    return _value(loss, z), _value(loss, -z)


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
    log-spaced radii form the coarse grid (resolution 0.25 degrees by default); ``refine`` then
    minimises exactly over the radius at every coarse angle and zooms on the best angle (four
    tenfold zooms: final angular resolution ~3e-5 degrees; see ``_refine``).
    ``chunk`` bounds memory: that many flip vectors are processed per matrix product.
    """
    check_loss(loss)
    n_angles = check_positive_int("n_angles", n_angles, minimum=8)
    n_radii = check_positive_int("n_radii", n_radii, minimum=3)
    chunk = check_positive_int("chunk", chunk)
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
    # the atoms' sign pattern of every grid direction, and the distinct patterns (for ties)
    signs = np.sign(np.stack([np.cos(ang), np.sin(ang)], axis=-1) @ dist.yx.T)  # (A, m)
    patterns, pid = np.unique(signs, axis=0, return_inverse=True)
    pid = pid.ravel()
    pattern_min = np.empty((len(F), len(patterns)))
    best_a = np.empty(len(F))
    best_r = np.empty(len(F))
    for s in range(0, len(F), chunk):
        sl = slice(s, s + chunk)
        f = F[sl]
        risk = P @ (1.0 - f).T + M @ f.T  # (R*A, k)
        k = np.argmin(risk, axis=0)
        best_r[sl] = rad[k // n_angles]
        best_a[sl] = ang[k % n_angles]
        by_angle = risk.reshape(len(rad), n_angles, -1)[1:].min(axis=0)  # (A, k): best radius r > 0
        pm = np.full((len(patterns), by_angle.shape[1]), np.inf)
        np.minimum.at(pm, pid, by_angle)
        pattern_min[sl] = pm.T
        if refine:
            grid = risk.reshape(len(rad), n_angles, -1).transpose(2, 1, 0)  # (k, A, R)
            best_a[sl], best_r[sl] = _refine(loss, dist, f, ang, rad, grid, best_a[sl], best_r[sl])
    best_r = np.where(best_r >= R_INF, np.inf, best_r)
    u = np.stack([np.cos(best_a), np.sin(best_a)], axis=-1)
    theta_eff = np.where(np.isinf(best_r), R_INF, best_r)[:, None] * u
    risk = np.sum(w * _noisy_terms(loss, theta_eff @ dist.yx.T, F), axis=-1)
    z = u @ dist.yx.T * np.where(best_r > 0, 1.0, 0.0)[:, None]
    correct = (z > 0) + 0.5 * (z == 0)
    # ties: a grid direction with another sign pattern whose risk is (to rounding) the minimum
    pattern_acc = ((patterns > 0) + 0.5 * (patterns == 0)) @ w  # (P,)
    other = np.any(patterns[None, :, :] != np.sign(z)[:, None, :], axis=-1)  # (K, P)
    tied = other & (pattern_min <= (risk + TIE_RTOL * np.maximum(1.0, np.abs(risk)))[:, None])
    acc = correct @ w
    lo = np.minimum(acc, np.where(tied, pattern_acc, np.inf).min(axis=1))
    hi = np.maximum(acc, np.where(tied, pattern_acc, -np.inf).max(axis=1))

    def shape(a, extra=()):
        return a.reshape(lead + extra)

    return PopulationFit(
        angle=shape(best_a),
        radius=shape(best_r),
        risk=shape(risk),
        direction=shape(u, (2,)),
        theta=shape(theta_eff, (2,)),
        atom_correct=shape(correct.astype(float), (len(w),)),
        clean_accuracy=shape(acc),
        tie=shape(tied.any(axis=1)),
        accuracy_range=shape(np.stack([lo, hi], axis=-1), (2,)),
    )


def _risk_on(loss, dist, F, ang, rad):
    """Noisy risk at angles ``ang`` and radii ``rad`` (broadcast ``(K, ...)``) for flips ``F`` ``(K, m)``."""
    u = np.stack([np.cos(ang), np.sin(ang)], axis=-1)
    z = rad[..., None] * np.einsum("...d,md->...m", u, dist.yx)
    f = F.reshape(F.shape[:1] + (1,) * (z.ndim - 2) + F.shape[1:])
    return np.sum(dist.weights * _noisy_terms(loss, z, f), axis=-1)


def _radial_profile(loss, dist, F, ang, lo, hi, iters: int = 32):
    """``min_r R(r u(a))`` for ``log10 r`` in ``[lo, hi]`` (golden section, vectorised over angles).

    The bracket comes from a grid, so the radial function is unimodal inside it for every loss here.
    Returns ``(risk, r)``; the bracket ends are candidates too, so a monotone function is handled.
    """
    g = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = lo.copy(), hi.copy()
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = _risk_on(loss, dist, F, ang, 10.0**c), _risk_on(loss, dist, F, ang, 10.0**d)
    for _ in range(iters):
        left = fc <= fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        c_new = np.where(left, b - g * (b - a), d)
        d_new = np.where(left, c, a + g * (b - a))
        f_eval = _risk_on(loss, dist, F, ang, 10.0 ** np.where(left, c_new, d_new))
        fc, fd = np.where(left, f_eval, fd), np.where(left, fc, f_eval)
        c, d = c_new, d_new
    cands_x = np.stack([lo, hi, c, d], axis=-1)
    cands_f = np.stack([_risk_on(loss, dist, F, ang, 10.0**lo), _risk_on(loss, dist, F, ang, 10.0**hi), fc, fd], -1)
    k = np.argmin(cands_f, axis=-1)
    return np.take_along_axis(cands_f, k[..., None], -1)[..., 0], 10.0 ** np.take_along_axis(cands_x, k[..., None], -1)[..., 0]


def _profile(loss, dist, F, ang, grid_risk, rad_grid):
    """Radial profile ``min_r R(r u(a))`` at angles ``ang`` ``(K, J)`` given the grid risks
    ``grid_risk`` ``(K, J, R)`` on ``rad_grid``: golden section in ``log r`` between the grid
    neighbours of the best grid radius, with ``r = 0`` and ``r = inf`` (``R_INF``) as candidates.
    Returns ``(risk, r)``, ``r`` being ``0.0`` or ``R_INF`` where those win."""
    i = np.argmin(grid_risk, axis=-1)
    f_grid = np.take_along_axis(grid_risk, i[..., None], -1)[..., 0]
    r_grid = rad_grid[i]
    log_fin = np.log10(rad_grid[1:-1])  # the finite positive radii
    j = np.clip(i - 1, 0, len(log_fin) - 1)  # index of the best grid radius among the finite ones
    lo = log_fin[np.maximum(j - 1, 0)]
    hi = log_fin[np.minimum(j + 1, len(log_fin) - 1)]
    f_gs, r_gs = _radial_profile(loss, dist, F, ang, lo, hi)
    use_gs = f_gs < f_grid
    return np.where(use_gs, f_gs, f_grid), np.where(use_gs, r_gs, r_grid)


def _refine(loss, dist, F, ang0, rad_grid, grid_risk, a0, r0, rounds: int = 4):
    """Minimise the radial profile ``a -> min_r R(r u(a))`` for each flip vector.

    Jointly gridding angle and radius is not enough: for flat noisy risks the valley in
    (angle, log r) is long and curved, so the best grid point can sit degrees away from the
    minimiser. So the radius is minimised exactly (:func:`_profile`) at every coarse angle that
    could hold the minimiser (see the band below), the best angle is kept, and then ``rounds`` times
    a 41-point window of +-2 current steps around it is profiled again (radius bracketed near the
    current best) with the window shrunk tenfold (final resolution ``2 pi / A * 1e-rounds``).
    """
    K, A = len(F), len(ang0)
    idx = np.arange(K)
    # Candidate angles. The grid risk g(a) = min over grid radii overestimates the profile p(a) by
    # the radial discretisation error e(a) >= 0, so the minimiser a* has g(a*) <= min g + e(a*).
    # e is estimated at the grid's best angle (exact profile there) and the band is taken 10x wider;
    # the 5 grid angles around the grid's best are always candidates.
    g = grid_risk.min(axis=-1)  # (K, A)
    j0 = np.argmin(g, axis=1)
    p0, _ = _profile(loss, dist, F, ang0[j0][:, None], grid_risk[idx, j0][:, None, :], rad_grid)
    g_min = g[idx, j0]
    band = 10.0 * (g_min - p0[:, 0]) + 1e-12 * np.abs(g_min)
    near = np.abs(((np.arange(A)[None, :] - j0[:, None]) + A // 2) % A - A // 2) <= 2
    cand = (g <= (g_min + band)[:, None]) | near
    J = int(cand.sum(axis=1).max())
    order = np.argsort(np.where(cand, g, np.inf), axis=1, kind="stable")[:, :J]  # (K, J) candidates first
    angs = ang0[order]
    f_all, r_all = _profile(loss, dist, F, angs, np.take_along_axis(grid_risk, order[:, :, None], 1), rad_grid)
    f_all = np.where(np.take_along_axis(cand, order, 1), f_all, np.inf)
    j = np.argmin(f_all, axis=1)
    a_best, r_best, f_best = angs[idx, j], r_all[idx, j], f_all[idx, j]
    t = np.linspace(-2.0, 2.0, 41)
    width = 2 * np.pi / len(ang0)
    for _ in range(rounds):
        ang = a_best[:, None] + width * t[None, :]
        # within +-2 steps the best radius moves little: bracket it within a factor 10^0.2 of the
        # current one (r = 0 stays 0; r = inf is compared at every angle)
        finite = (r_best > 0) & (r_best < R_INF)
        centre = np.log10(np.where(finite, r_best, 1.0))[:, None] * np.ones_like(ang)
        f_ang, r_ang = _radial_profile(loss, dist, F, ang, centre - 0.2, centre + 0.2)
        f_ang = np.where(finite[:, None], f_ang, np.inf)
        f_inf = _risk_on(loss, dist, F, ang, np.full(ang.shape, R_INF))
        use_inf = f_inf < f_ang
        f_ang, r_ang = np.where(use_inf, f_inf, f_ang), np.where(use_inf, R_INF, r_ang)
        j = np.argmin(f_ang, axis=1)
        better = f_ang[idx, j] < f_best
        a_best = np.where(better, ang[idx, j], a_best)
        r_best = np.where(better, r_ang[idx, j], r_best)
        f_best = np.where(better, f_ang[idx, j], f_best)
        width = width / 10.0
    return a_best, r_best


def profile_risk(loss, dist: DiscreteDistribution, angles, *, rho, n_radii: int = 241) -> tuple[np.ndarray, np.ndarray]:
    """``min_r R_rho(r u(a))`` and its argmin ``r`` for each angle ``a`` (radians), ``u = (cos a, sin a)``.

    Radii: ``0``, ``n_radii`` log-spaced on ``[1e-3, 1e6]`` and ``inf`` (evaluated at ``R_INF``): a grid
    over the radius, for drawing the landscape; :func:`minimise_population_risk` refines it.
    """
    rad = _radius_grid(n_radii)
    u = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    R = population_risk(loss, rad[None, :, None] * u[:, None, :], dist, rho=rho)  # (A, radii)
    k = np.argmin(R, axis=1)
    r = rad[k]
    return R[np.arange(len(angles)), k], np.where(r >= R_INF, np.inf, r)


def radial_minimum(loss, dist: DiscreteDistribution, angle: float, *, rho, n_radii: int = 241) -> tuple[float, float]:
    """``min_r R_rho(r u(a))`` and its argmin ``r`` along one direction ``a`` (radians), to rounding: the
    best grid radius (as :func:`profile_risk`, ``r = inf`` included) refined by golden section in
    ``log r`` between its grid neighbours. Returns ``(risk, r)``; ``r`` may be ``0`` or ``inf``."""
    check_loss(loss)
    rad = _radius_grid(n_radii)
    F = _flips(dist, rho, None)[None]
    grid = _risk_on(loss, dist, F, np.full((1, 1, len(rad)), float(angle)), rad[None, None, :])  # (1, 1, R)
    risk, r = _profile(loss, dist, F, np.array([[float(angle)]]), grid, rad)
    r = float(r[0, 0])
    return float(risk[0, 0]), (np.inf if r >= R_INF else r)


def angular_pulls(loss, dist: DiscreteDistribution, angle: float, radius: float, *, rho: float) -> np.ndarray:
    """Per-atom contributions to ``dR_rho/da`` at ``theta = radius * (cos a, sin a)``: for atom ``i``,
    ``w_i [(1 - rho) phi'(z_i) - rho phi'(-z_i)] * radius * <u'(a), y_i x_i>`` with ``u' = (-sin a, cos a)``.

    A negative entry lowers the risk as the angle grows (pulls the direction counter-clockwise,
    towards the puller); the sum is the slope of the risk along the circle.
    """
    u = np.array([np.cos(angle), np.sin(angle)])
    du = np.array([-np.sin(angle), np.cos(angle)])
    z = radius * dist.yx @ u
    d = (1.0 - rho) * loss(z)[1] - rho * loss(-z)[1]
    return dist.weights * d * radius * (dist.yx @ du)
