"""The exact angular sweep behind :func:`sandbox.converged.fit_converged` in ``d = 2``.

For ``v_i = y_i x_i`` and a unit direction ``u(a) = (cos a, sin a)``, the sign of the margin
``<u, v_i>`` changes only at the two angles where ``u`` is orthogonal to ``v_i``. Each nonzero
``v_i`` is written ``v_i = sigma_i |v_i| w_i`` with ``w_i`` in the upper half-plane (angle
``g_i in [0, pi)``) and ``sigma_i = +-1``; its *events* are at ``g_i - pi/2`` (in the first half of
the sweep, ``[-pi/2, pi/2)``) and ``g_i + pi/2`` (second half). Sorting the ``g_i`` of a trial orders
every event of the circle, with no rounding beyond that of ``atan2`` (two points whose ``g`` are
equal, e.g. duplicates, negations or power-of-two multiples of one another, share their events
exactly; distinct ``g`` are ordered as ``atan2`` rounds them, ~1e-16 rad).

Between consecutive distinct events lies an *arc* of directions on which every margin has a fixed
sign. With the ``g`` sorted and ``k`` events of the first half passed, the points ``j < k`` have
``<u, w_j> > 0`` and the others ``< 0``, so the number of positive margins is::

    P1[k] = N_minus + sum_{j < k} sigma_j          (first half),   P2[k] = n' - P1[k]   (second half)

(``N_minus``: points with ``sigma = -1``; ``n'``: nonzero points). ``k = 0`` and ``k = n'`` are the two
arcs that straddle the halves (all ``w`` negative, all ``w`` positive). Arc ``k`` of a half exists
when ``g_{k-1} < g_k``. Different arcs have different sign patterns (each is the intersection of
half-planes its pattern fixes). All of this is integer arithmetic on the sorted order: exact.

Groups of equal ``g`` whose ``sigma`` differ ("mixed": points on one line through the origin, on both
sides of it) carry one more limit: along their event direction ``u`` the model ``r u + s w`` keeps
those points at margins ``s sigma_i |v_i|`` as ``r -> inf`` (:func:`mixed_groups`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Sweep", "sweep", "arc_angles", "positive_mask", "max_margin_angles", "mixed_groups"]

HALF_PI = 0.5 * np.pi


@dataclass(frozen=True)
class Sweep:
    """Sorted events of ``T`` trials. ``g`` ``(T, n)`` sorted upper-half-plane angles (``inf`` for
    zero vectors, which sort last); ``sigma`` ``(T, n)`` in {-1, 0, +1} in that order; ``order``
    ``(T, n)`` the sorting permutation; ``nz`` ``(T,)`` nonzero points; ``P1`` ``(T, n + 1)``
    positive margins on first-half arc ``k``; ``valid`` ``(T, n + 1)`` whether arc ``k`` exists
    (``k = 0`` and ``k = nz`` always exist when ``nz > 0``; inner arcs in both halves)."""

    g: np.ndarray
    sigma: np.ndarray
    order: np.ndarray
    nz: np.ndarray
    P1: np.ndarray
    valid: np.ndarray

    @property
    def inner(self) -> np.ndarray:
        """``(T, n + 1)``: arc ``k`` is an inner arc (it exists in both halves)."""
        k = np.arange(self.P1.shape[1])
        return self.valid & (k > 0) & (k < self.nz[:, None])


def sweep(V: np.ndarray) -> Sweep:
    """Sort the events of ``V`` ``(T, n, 2)`` (rows ``v_i = y_i x_i``); see the module docstring."""
    T, n, _ = V.shape
    a, b = V[..., 0], V[..., 1]
    nonzero = (a != 0) | (b != 0)
    flip = (b < 0) | ((b == 0) & (a < 0))
    sigma = np.where(nonzero, np.where(flip, -1, 1), 0).astype(np.int64)
    wa, wb = np.where(flip, -a, a), np.where(flip, -b, b)
    g = np.arctan2(wb, wa) + 0.0  # in [0, pi); + 0.0 turns -0.0 into 0.0
    g = np.where(nonzero, g, np.inf)
    order = np.argsort(g, axis=1, kind="stable")
    g = np.take_along_axis(g, order, 1)
    sigma = np.take_along_axis(sigma, order, 1)
    nz = nonzero.sum(axis=1)
    n_minus = (sigma < 0).sum(axis=1)
    P1 = np.empty((T, n + 1), dtype=np.int64)
    P1[:, 0] = n_minus
    np.cumsum(sigma, axis=1, out=P1[:, 1:])
    P1[:, 1:] += n_minus[:, None]
    k = np.arange(n + 1)
    valid = np.zeros((T, n + 1), dtype=bool)
    if n > 1:
        valid[:, 1:n] = g[:, :-1] < g[:, 1:]  # inf < inf is False: no arcs among zero vectors
    valid &= k < nz[:, None]
    valid[:, 0] = nz > 0
    valid[np.arange(T), nz] = nz > 0
    return Sweep(g, sigma, order, nz, P1, valid)


def arc_angles(sw: Sweep, t: np.ndarray, k: np.ndarray, half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Angles ``(lo, hi)`` of arc ``k`` of ``half`` (0 first, 1 second) of trials ``t``; ``lo < hi``.

    ``k = 0`` is the arc between the last and the first events (all ``w`` negative) and ``k = nz``
    the arc with all ``w`` positive; ``half`` is ignored for those two.
    """
    g, nz = sw.g[t], sw.nz[t]
    first = g[:, 0]
    last = np.take_along_axis(g, (nz - 1)[:, None], 1)[:, 0]
    km1 = np.take_along_axis(g, np.maximum(k - 1, 0)[:, None], 1)[:, 0]
    kk = np.take_along_axis(g, np.minimum(k, g.shape[1] - 1)[:, None], 1)[:, 0]
    shift = np.where(half == 0, -HALF_PI, HALF_PI)
    lo, hi = km1 + shift, kk + shift
    top = k == nz
    lo = np.where(top, last - HALF_PI, lo)
    hi = np.where(top, first + HALF_PI, hi)
    bottom = k == 0
    lo = np.where(bottom, last + HALF_PI, lo)
    hi = np.where(bottom, first + 3 * HALF_PI, hi)
    return lo, hi


def positive_mask(sw: Sweep, t: np.ndarray, k: np.ndarray, half: np.ndarray) -> np.ndarray:
    """``(len(t), n)`` in sorted order: the points with a positive margin on arc ``(k, half)``."""
    j = np.arange(sw.g.shape[1])
    s = sw.sigma[t]
    pos = np.where(j[None, :] < k[:, None], s > 0, s < 0)
    inner = (k > 0) & (k < sw.nz[t])
    pos = np.where(((half == 1) & inner)[:, None], ~pos, pos)
    return pos & (s != 0)


def max_margin_angles(V: np.ndarray, sw: Sweep, t, k, half, iters: int = 60):
    """The direction of arc ``(k, half)`` of trial ``t`` that maximises the smallest positive margin::

        a* = argmax_{a in arc} min_{i positive on the arc} <u(a), v_i>

    Each ``<u(a), v_i> = |v_i| cos(a - angle(v_i))`` is concave where positive, so the minimum is
    concave on the arc and bisection on the slope of its active piece finds ``a*`` (``iters``
    halvings of the arc: 60 reach ~1e-18 rad, below rounding). Only points whose smallest margin on
    the arc can be active are kept (those whose minimum over the arc, at an end, is below the
    smallest maximum of any point). With no positive point the arc's midpoint is returned.
    Returns ``(angle, margin)``: ``a*`` and the smallest positive margin there (``-inf`` if none).
    """
    t, k, half = np.asarray(t), np.asarray(k), np.asarray(half)
    if t.size == 0:
        return np.zeros(0), np.zeros(0)
    lo, hi = arc_angles(sw, t, k, half)
    pos = positive_mask(sw, t, k, half)
    Vs = np.take_along_axis(V[t], sw.order[t][..., None], 1)  # (m, n, 2) in sorted order

    def marg(a, W):
        return W[..., 0] * np.cos(a)[:, None] + W[..., 1] * np.sin(a)[:, None]

    m_lo, m_hi = marg(lo, Vs), marg(hi, Vs)
    ang = np.arctan2(Vs[..., 1], Vs[..., 0])
    inside = np.mod(ang - lo[:, None], 2 * np.pi) <= (hi - lo)[:, None]
    peak = np.where(inside, np.hypot(Vs[..., 0], Vs[..., 1]), np.maximum(m_lo, m_hi))
    U = np.min(np.where(pos, peak, np.inf), axis=1)
    keep = pos & (np.minimum(m_lo, m_hi) <= U[:, None])
    K = max(int(keep.sum(axis=1).max()), 1) if len(t) else 1
    idx = np.argsort(~keep, axis=1, kind="stable")[:, :K]
    W = np.take_along_axis(Vs, idx[..., None], 1)
    live = np.take_along_axis(keep, idx, 1)
    a, b = lo.copy(), hi.copy()
    rows = np.arange(len(t))
    for _ in range(iters):
        mid = 0.5 * (a + b)
        m = np.where(live, marg(mid, W), np.inf)
        j = np.argmin(m, axis=1)
        w = W[rows, j]
        slope = -w[:, 0] * np.sin(mid) + w[:, 1] * np.cos(mid)
        up = slope > 0
        a = np.where(up, mid, a)
        b = np.where(up, b, mid)
    best = 0.5 * (a + b)
    none = ~live.any(axis=1)
    best = np.where(none, 0.5 * (lo + hi), best)
    margin = np.where(none, -np.inf, np.min(np.where(live, marg(best, W), np.inf), axis=1))
    return best, margin


def mixed_groups(sw: Sweep):
    """Groups of points sharing one event angle with both signs ``sigma`` (see module docstring).

    Returns ``(t, start, stop)`` arrays, one entry per group: trial and the group's slice
    ``[start, stop)`` of the sorted order. Empty when no two nonzero points share a ``g``.
    """
    g = sw.g
    same = g[:, 1:] == g[:, :-1]  # inf == inf for zero vectors: masked below
    same &= np.isfinite(g[:, 1:])
    if not same.any():
        e = np.zeros(0, dtype=np.int64)
        return e, e, e
    T, n = g.shape
    new = np.ones((T, n), dtype=bool)
    new[:, 1:] = ~same
    starts_t, starts_j = np.nonzero(new & np.isfinite(g))
    flat = starts_t * n + starts_j
    ends = np.append(flat[1:], T * n)
    # a group ends at the next start, or at the end of its trial's nonzero points
    trial_end = starts_t * n + sw.nz[starts_t]
    ends = np.minimum(ends, trial_end)
    size = ends - flat
    cs_plus = np.concatenate([[0], np.cumsum((sw.sigma > 0).ravel())])
    cs_minus = np.concatenate([[0], np.cumsum((sw.sigma < 0).ravel())])
    plus = cs_plus[ends] - cs_plus[flat]
    minus = cs_minus[ends] - cs_minus[flat]
    mixed = (size >= 2) & (plus > 0) & (minus > 0)
    return starts_t[mixed], starts_j[mixed], starts_j[mixed] + size[mixed]
