"""Building blocks of :mod:`sandbox.converged`: the exact angular sweep (``d = 2``) and batched damped Newton.

The sweep
---------

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
those points at margins ``s sigma_i |v_i|`` as ``r -> inf`` (:func:`mixed_groups`, :func:`event_lines`).

Newton
------
:func:`newton` is the damped Newton method described in :mod:`sandbox.converged`, on many columns
(trials x starts) at once, evaluated by :class:`~sandbox._kernels.BlockedEval`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernels import BlockedEval

__all__ = ["Sweep", "sweep", "arc_angles", "positive_mask", "max_margin_angles", "mixed_groups", "newton",
           "event_lines", "unit", "R_INF", "RISK_TOL"]

R_INF = 1e300  # theta = R_INF * direction stands for radius = inf (as in sandbox.population)
RISK_TOL = 1e-12  # default: a finite point beats (or ties with) a limit only by more than this
_EPS = float(np.finfo(float).eps)

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


def unit(a):
    """``(cos a, sin a)`` along a new last axis."""
    return np.stack([np.cos(a), np.sin(a)], axis=-1)


def _value(loss, z):
    v = getattr(loss, "value", None)
    return np.asarray(v(z) if v is not None else loss(z)[0], dtype=float)


# --------------------------------------------------------------------------------------------------
# Batched damped Newton
# --------------------------------------------------------------------------------------------------


def _solve(H, g, lam):
    """``-(H + lam I)^-1 g`` per column (closed form in d <= 2)."""
    d = g.shape[1]
    if d == 1:
        return -g / (H[:, 0, 0] + lam)[:, None]
    if d == 2:
        a, b, c = H[:, 0, 0] + lam, H[:, 0, 1], H[:, 1, 1] + lam
        det = a * c - b * b
        return -np.stack([c * g[:, 0] - b * g[:, 1], a * g[:, 1] - b * g[:, 0]], axis=1) / det[:, None]
    A = H + lam[:, None, None] * np.eye(d)
    return -np.linalg.solve(A, g[..., None])[..., 0]


def _lambda_min(H):
    d = H.shape[1]
    if d == 1:
        return H[:, 0, 0]
    if d == 2:
        a, b, c = H[:, 0, 0], H[:, 0, 1], H[:, 1, 1]
        return 0.5 * (a + c) - np.hypot(0.5 * (a - c), b)
    return np.linalg.eigvalsh(H)[:, 0]


def _subset(Bh, held, cols):
    """The columns ``cols`` (a sorted subset of ``held``) of ``Bh``: a view when they are all of them."""
    return Bh if cols.size == held.size else Bh[:, :, np.searchsorted(held, cols)]


def newton(ev, B, theta, scale, gtol, *, maxiter, limit=None, floor=None, risk_tol=RISK_TOL):
    """Damped Newton (module docstring) on the columns of ``B`` ``(d, n, k)`` from ``theta`` ``(k, d)``.

    ``scale`` ``(k,)``: a length in theta-space (``1/s``); ``gtol`` ``(k,)``: gradient tolerance.
    The non-convex search (``limit = (phi(+inf), phi(-inf), phi(0))`` given) adds two things. A
    column whose accepted step was radial and outwards *drifts*: it next tries ``2 theta`` (one
    evaluation, no Hessian) while the risk decreases, then resumes Newton. And a column stops
    (status 3) when its risk is not below ``floor`` and exceeds its direction's limit ``L(u)`` by at
    most ``risk_tol`` (it has reached infinity from above), or when it drifts along a ray whose limit
    is not below ``floor`` with ``||theta|| ||grad||`` under a tenth of its gap to ``floor`` (a
    heuristic: the search is not exhaustive). Returns ``theta, f, g, nit, status``: status 0
    (gradient tolerance), 1 (``maxiter``), 2 (no decrease possible: rounding), 3 (as above).
    """
    d, n, k = B.shape
    theta = theta.copy()
    f, g = ev(B, theta)
    mu = np.ones(k)
    nit = np.zeros(k, dtype=np.int64)
    status = np.full(k, -1)
    fresh = np.ones(k, dtype=bool)
    grow = np.zeros(k)  # > 0: drifting outwards, the factor to try next
    H = np.zeros((k, d, d))
    held, Bh = np.arange(k), B
    while True:
        run = np.flatnonzero(status < 0)
        if run.size and run.size < 0.85 * held.size:
            Bh, held = Bh[:, :, np.searchsorted(held, run)], run
        F = run[fresh[run]]
        if F.size:
            gn = np.linalg.norm(g[F], axis=1)
            status[F[gn <= gtol[F]]] = 0
            if limit is not None:
                z = np.einsum("dnk,kd->nk", _subset(Bh, held, F), theta[F])
                P, N = (z > 0).sum(0), (z < 0).sum(0)
                L = (limit[0] * P + limit[1] * N + limit[2] * (n - P - N)) / n
                rg = np.linalg.norm(theta[F], axis=1) * gn
                worse = (grow[F] > 0) & (L >= floor[F]) & (rg <= 0.1 * (f[F] - floor[F]))
                stop = (f[F] >= floor[F]) & ((((f[F] - L) >= 0) & ((f[F] - L) <= risk_tol)) | worse)
                status[F[stop & (status[F] < 0)]] = 3
            status[F[(nit[F] >= maxiter) & (status[F] < 0)]] = 1
            F = F[status[F] < 0]
        run = np.flatnonzero(status < 0)
        if run.size == 0:
            break
        moved = np.zeros(0, dtype=np.int64)
        Dr = F[grow[F] > 0]
        if Dr.size:  # drifting columns: try theta * grow alone
            fd, gd = ev(_subset(Bh, held, Dr), grow[Dr, None] * theta[Dr])
            up = (fd < f[Dr]) & np.isfinite(fd)
            moved = Dr[up]
            theta[moved] *= grow[moved, None]
            f[moved], g[moved] = fd[up], gd[up]
            nit[moved] += 1
            grow[Dr[~up]] = 0.0
        G = np.setdiff1d(run, moved, assume_unique=True)
        if G.size == 0:
            continue
        BG = _subset(Bh, held, G)
        Fh = G[fresh[G]]
        if Fh.size:  # forward-difference Hessian at the new points
            BF = BG if Fh.size == G.size else Bh[:, :, np.searchsorted(held, Fh)]
            h = 2.0**-26 * np.maximum(np.linalg.norm(theta[Fh], axis=1), scale[Fh])
            for j in range(d):
                tj = theta[Fh].copy()
                tj[:, j] += h
                _, gj = ev(BF, tj)
                H[Fh, :, j] = (gj - g[Fh]) / (tj[:, j] - theta[Fh, j])[:, None]  # the step actually taken
            H[Fh] = 0.5 * (H[Fh] + H[Fh].transpose(0, 2, 1))
            nit[Fh] += 1
            fresh[Fh] = False
        gr, th = g[G], theta[G]
        gn = np.linalg.norm(gr, axis=1)
        tn = np.linalg.norm(th, axis=1)
        lam = np.maximum(0.0, -_lambda_min(H[G])) + mu[G] * gn / scale[G]
        s = _solve(H[G], gr, lam)
        sn = np.linalg.norm(s, axis=1)
        s *= np.minimum(1.0, 4.0 * np.maximum(tn, scale[G]) / np.maximum(sn, 1e-300))[:, None]
        ft, gt = ev(BG, th + s)
        gs = np.einsum("kd,kd->k", gr, s)
        # Armijo; or, once the predicted decrease is below the risk's rounding, a smaller gradient
        flat = (ft <= f[G] + 8 * _EPS * np.abs(f[G])) & (-gs <= 64 * _EPS * np.abs(f[G]))
        ok = ((ft <= f[G] + 1e-4 * gs) | (flat & (np.linalg.norm(gt, axis=1) < 0.9 * gn))) & np.isfinite(ft)
        acc, rej = G[ok], G[~ok]
        if limit is not None:
            radial = np.einsum("kd,kd->k", s[ok], th[ok]) > 0.9 * sn[ok] * tn[ok]
            grow[acc] = np.where(radial, 2.0, 0.0)
        theta[acc], f[acc], g[acc] = th[ok] + s[ok], ft[ok], gt[ok]
        fresh[acc] = True
        mu[acc] = np.maximum(mu[acc] / 4.0, 1e-8)
        mu[rej] *= 4.0
        tiny = sn[~ok] <= 1e-15 * np.maximum(tn[~ok], scale[rej])
        status[rej[(mu[rej] > 1e16) | tiny]] = 2
    return theta, f, g, nit, status


def event_lines(loss, prof, V, sw, groups, *, tol, maxiter, risk_tol=RISK_TOL):
    """Limits along the event lines of mixed groups (:func:`mixed_groups`).

    For a group ``E`` (sorted slice ``[a, b)`` of trial ``t``, upper-half-plane angle ``g``,
    ``w = (cos g, sin g)``), along ``u = (sin g, -cos g)`` (first half of the sweep) and ``-u``
    (second half) the model ``r u + s w`` has, as ``r -> inf``, the risk
    ``(1/n)[phi(+inf) P + phi(-inf) N + phi(0) Z + F_E(s)]``, ``F_E(s) = sum_E phi(s sigma_i |v_i|)``,
    ``P`` and ``N`` counting the other points' signs. ``F_E`` is minimised over ``s`` by 1-D damped
    Newton from ``s = 0`` and ``s = +-{1, 4} / mean |v_E|`` and compared with its limits
    ``s -> +-inf``: to tolerance, not exactly. Returns, per group, ``F_E``, the offset ``s w`` (zero
    when a limit ``s -> +-inf`` wins within ``risk_tol``: the line is then no better than a
    neighbouring arc), whether the minimisation converged, per half ``(angle of u, P, N)``, whether
    the line beats its limits, and how many more signs of ``s`` (-, 0, +: classifications of the
    line's points) attain ``F_E`` within ``risk_tol`` (0: none).
    """
    t, a, b = groups
    size = b - a
    K = int(size.max())
    j = a[:, None] + np.arange(K)[None, :]
    inside = j < b[:, None]
    j = np.minimum(j, V.shape[1] - 1)
    c = np.where(inside, sw.sigma[t[:, None], j] * np.linalg.norm(V[t[:, None], sw.order[t[:, None], j]], axis=-1), 0.0)
    pad = (K - size) * prof.phi_zero  # padding with c = 0 adds phi(0) per entry
    ends = np.stack([_value(loss, np.sign(c) * R_INF).sum(1), _value(loss, -np.sign(c) * R_INF).sum(1)], 1) - pad[:, None]
    mean_c = np.abs(c).sum(1) / size
    s0 = np.array([0.0, 1.0, -1.0, 4.0, -4.0])
    m, S = len(t), len(s0)
    Bc = np.ascontiguousarray(np.repeat(c, S, axis=0).T[None])  # (1, K, m * S)
    sc = np.repeat(1.0 / mean_c, S)
    th, f, _, _, st = newton(BlockedEval(loss, 1), Bc, (s0[None, :] / mean_c[:, None]).reshape(-1, 1), sc,
                              tol * np.repeat(mean_c * size / K, S), maxiter=maxiter)
    F = (f * K).reshape(m, S) - pad[:, None]
    r = np.arange(m)
    jb = np.argmin(F, axis=1)
    lim = ends.min(axis=1)
    use_lim = lim <= F[r, jb] + risk_tol
    s_all = th[:, 0].reshape(m, S)
    # optima of F_E with different signs of s classify the line's points differently (|s| mean|c| <= 1e-6
    # counts as s = 0: the convex case's unique optimum is found to about that from both sides)
    sgn = np.sign(s_all) * (np.abs(s_all) * mean_c[:, None] > 1e-6)
    opt = np.abs(F - F[r, jb][:, None]) <= risk_tol
    twin = sum(np.any(opt & (sgn == v), axis=1).astype(np.int64) for v in (-1, 0, 1)) - 1
    FE = np.where(use_lim, lim, F[r, jb])
    offset = np.where(use_lim, 0.0, th[:, 0].reshape(m, S)[r, jb])[:, None] * unit(sw.g[t, a])
    ok = use_lim | (st.reshape(m, S)[r, jb] == 0)
    e_minus = np.array([int((sw.sigma[tt, aa:bb] < 0).sum()) for tt, aa, bb in zip(t, a, b)], dtype=np.int64)
    P_first = sw.P1[t, a] - e_minus
    others = sw.nz[t] - size
    halves = [(sw.g[t, a] - 0.5 * np.pi, P_first, others - P_first),
              (sw.g[t, a] + 0.5 * np.pi, others - P_first, P_first)]
    return FE, offset, ok, halves, ~use_lim, np.where(use_lim, 0, twin)
