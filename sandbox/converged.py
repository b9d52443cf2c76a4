"""Converged fits of bias-free linear models: the empirical-risk minimiser, limits at infinity included.

For ``T`` trials at once (``X`` ``(T, n, d)``, ``y`` ``(T, n)``; only ``v_i = y_i x_i`` matters)::

    R_t(theta) = (1/n) sum_i phi(<theta, v_ti>)

The paper's protocol (SLSQP, 100 iterations, absolute ftol 1e-6: :mod:`sandbox.slsqp`) stops early on
flat risks, so its verdicts can belong to the optimiser. :func:`fit_converged` reaches the minimiser
(or the infimum, when it lies at ``||theta|| -> inf``), so verdicts belong to the loss. It works from
the loss's flags and values only (``loss.convex``, ``loss.bounded``, ``loss(z)``, ``loss.value(z)``):

* **convex, bounded below** (``phi'(+inf) = 0``, ``phi'(-inf) < 0``: logistic, Huberised): a
  finite minimiser exists iff no direction weakly separates the ``v_i``. Separability is decided
  exactly in ``d = 2`` (the angular sweep of :mod:`sandbox._converged_parts`) and by linear programs
  otherwise. Separable trials are ``unbounded``: the infimum ``phi(+inf) * (fraction of nonzero v)``
  (plus ``phi(0)`` for zero ``v``) is approached along a whole cone of directions; the
  representative is the max-margin direction (the limit of gradient descent for
  exponentially-tailed losses, Soudry et al. 2018). The others are solved by batched damped Newton.
  A convex loss with ``phi(+inf) = +inf`` (the squared loss ``(1 - z)^2``) is coercive: its
  minimiser is finite on any data, separable or not, and every trial goes to Newton.
* **convex with a constant negative slope** (``unhinged``, ``phi = a + b z``): unbounded below
  (``risk = -inf``) unless ``mean(v) = 0``; direction ``mean(v)``, any direction with
  ``<u, mean v> > 0`` also reaches ``-inf`` (``tie`` when they classify the sample differently).
* **bounded, non-increasing, non-convex** (PHuber, GCE, linear; ``d = 2`` only): the infimum over
  the plane *and its limits*. At infinite radius ``R(r u) -> L(u) = (1/n)[phi(+inf) #pos(u) +
  phi(-inf) #neg(u) + phi(0) #zero(u)]``, piecewise constant between the ``2n`` event angles; its
  minimum over directions is found **exactly** by the sweep (integer counts on the sorted events),
  together with the limits along the event lines of points lying on one line through the origin on
  both sides of it (there ``r u + s w`` keeps their margins at ``s sigma_i |v_i|``: a 1-D problem).
  Whether a **finite** ``theta`` does better is decided **to a tolerance** by a multi-start local
  search (not exhaustive, never exact): damped Newton from the best arc's representative at
  radii where the mean |margin| is 1, 4 and 16, from the opposite direction (mean |margin| 2), from
  the centroid direction ``mean(v)`` (where descent from ``theta = 0`` starts) and from any ``starts``
  given; a finite point wins only if its risk is below the limit by more than ``risk_tol``. Data
  that some direction separates need no search: ``phi(+inf)`` bounds every risk from below, so the
  limit is the infimum (exact). An infinite-radius fit's representative is the direction of its arc
  that maximises the smallest positive margin (ties between minimising arcs: the largest such margin).
  A finite point within ``risk_tol`` of the limit is not preferred to it (e.g. a minimum at huge
  radius that beats the limit by 1e-50 is reported as the limit).

Damped Newton (all trials and starts as columns of one array, as in :mod:`sandbox.slsqp`). Losses give
``phi`` and ``phi'`` only, so the Hessian is a forward difference of the exact mean gradient,
``H e_j ~ (grad R(theta + h e_j) - grad R(theta)) / h`` with ``h = 2^-26 max(||theta||, 1/s)``
(``s``: the trial's rms ``||v_i||``), symmetrised: error ``O(h)`` (about 1e-8 relative) plus
``O(eps/h)`` rounding. It only steers the steps; convergence is judged on the exact gradient. The
step solves ``(H + lambda I) s = -g`` with ``lambda = max(0, -lambda_min(H)) + mu ||g|| s``
(regularised Newton: zero curvature, e.g. the Huberised linear piece, and negative curvature are
handled), ``||s|| <= 4 max(||theta||, 1/s)``, an Armijo test (``mu`` quartered on success,
quadrupled on failure). A convex trial has converged when ``||grad R|| <= tol * s``. The gradient is
the fused kernel's (:mod:`sandbox._kernels`): results do not depend on the chunking.

Every trial's result is reported with ``unbounded``, ``tie`` and ``converged`` flags
(:class:`ConvergedFit`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from . import _converged_parts as _parts
from ._checks import check_data, check_interval, check_loss, check_positive_int
from ._converged_parts import R_INF, RISK_TOL, event_lines, newton, unit
from ._kernels import BlockedEval

__all__ = ["ConvergedFit", "fit_converged", "loss_kind", "bytes_per_trial", "R_INF", "TOL", "RISK_TOL"]

TOL = 1e-10  # gradient-norm tolerance, relative to the trial's rms ||v_i||
MAXITER = 100  # Newton iterations per run
DEFAULT_CHUNK_BYTES = 256 * 2**20
_PROBE = np.concatenate([-np.logspace(3, -3, 61), [0.0], np.logspace(-3, 3, 61)])


@dataclass(frozen=True)
class ConvergedFit:
    """Converged fits, one entry per trial (leading axis dropped for a single ``(n, d)`` problem).

    ``theta`` ``(T, d)``: the minimiser, or for ``radius = inf`` the stand-in
    ``R_INF * direction + offset`` (scores keep their signs, so :func:`sandbox.linear.accuracy`
    applies; the risk there equals the limit to rounding). ``direction`` unit vectors (zero only
    for ``theta = 0``); ``radius`` ``||theta||`` or ``inf``; ``offset`` ``(T, d)``: zero except for a
    limit along an event line, approached as ``r direction + offset``, ``r -> inf``.
    ``risk``: the minimum, or the infimum for ``radius = inf`` (``-inf`` when unbounded below).
    ``grad_norm``: ``||grad R(theta)||`` for finite radius, NaN otherwise. ``nit``: Newton iterations
    (summed over the search's local runs). ``converged``: the reported value is reached to the
    stated tolerances (Newton: ``grad_norm <= tol * s``; limits: exact). ``unbounded``: the infimum
    is approached only as ``||theta|| -> inf``. ``tie``: another minimising direction classifies
    the training points differently (within ``risk_tol``); ``n_min``: how many distinct sign
    patterns attain the minimum (``>= 2`` iff ``tie``). ``limit_risk``: the exact infimum over the
    limits at infinity (``inf`` when none is finite; NaN where not computed: ``d != 2``);
    ``finite_risk``: the best finite value found. ``arc`` ``(T, 2)`` (``d = 2``, else None): the
    angles ``(lo, hi)`` of the cone of directions attaining an infinite-radius infimum that holds
    the representative (``lo = hi`` for an event line; NaN for finite radius). ``kind``: the
    loss's treatment (``"convex"``, ``"affine"``, ``"bounded"``).
    """

    theta: np.ndarray
    direction: np.ndarray
    radius: np.ndarray
    offset: np.ndarray
    risk: np.ndarray
    grad_norm: np.ndarray
    nit: np.ndarray
    converged: np.ndarray
    unbounded: np.ndarray
    tie: np.ndarray
    n_min: np.ndarray
    limit_risk: np.ndarray
    finite_risk: np.ndarray
    arc: np.ndarray | None
    kind: str
    chunks: int = 1


# --------------------------------------------------------------------------------------------------
# The loss, from its flags and values
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Profile:
    kind: str
    phi_plus: float  # phi(+inf) (read at R_INF)
    phi_minus: float  # phi(-inf)
    phi_zero: float
    slope_plus: float  # phi'(+inf)
    slope_minus: float


def _value(loss, z):
    v = getattr(loss, "value", None)
    return np.asarray(v(z) if v is not None else loss(z)[0], dtype=float)


def loss_kind(loss) -> str:
    """How :func:`fit_converged` treats ``loss``: ``"convex"``, ``"affine"`` or ``"bounded"``."""
    return _profile(loss).kind


def _profile(loss) -> _Profile:
    check_loss(loss)
    convex, bounded = getattr(loss, "convex", None), getattr(loss, "bounded", None)
    with np.errstate(over="ignore", invalid="ignore"):
        ends = np.array([R_INF, -R_INF, 0.0])
        vp, vm, v0 = _value(loss, ends)
        _, (sp, sm, _) = loss(ends)
        pv, pd = (np.asarray(a, dtype=float) for a in loss(_PROBE))
    name = getattr(loss, "label", repr(loss))
    if convex:
        if not sm < 0:
            raise ValueError(f"loss {name}: a convex loss needs phi'(-inf) < 0 (got {sm:g}); fit_converged "
                             "handles decreasing margin losses")
        if sp == sm and np.all(pd == sp):
            return _Profile("affine", float(vp), float(vm), float(v0), float(sp), float(sm))
        if sp < 0:
            raise ValueError(f"loss {name}: convex with slope {sp:g} < 0 at +inf but not affine: the risk may be "
                             "unbounded below; not supported")
        return _Profile("convex", float(vp), float(vm), float(v0), float(sp), float(sm))
    if bounded:
        if not (np.isfinite(vp) and np.isfinite(vm)):
            raise ValueError(f"loss {name} is flagged bounded but phi(+-inf) = {vp:g}, {vm:g}")
        scale = max(abs(vp), abs(vm), 1.0)
        if np.any(np.diff(pv) > 1e-12 * scale) or np.any(pd > 1e-12 * scale):
            raise ValueError(f"loss {name}: bounded losses must be non-increasing (the limits and lower "
                             "bounds of fit_converged rely on it)")
        return _Profile("bounded", float(vp), float(vm), float(v0), float(sp), float(sm))
    raise ValueError(f"loss {name} is neither convex nor bounded (loss.convex={convex!r}, "
                     f"loss.bounded={bounded!r}): fit_converged has no sound method for it")


# --------------------------------------------------------------------------------------------------
# Batched damped Newton
# --------------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------------
# Pieces shared by the families
# --------------------------------------------------------------------------------------------------


def _columns(V: np.ndarray) -> np.ndarray:
    """``V`` ``(k, n, d)`` stored column-wise ``(d, n, k)`` for :class:`~sandbox._kernels.BlockedEval`."""
    return np.ascontiguousarray(V.transpose(2, 1, 0))


def _wrap(a):
    """Angle in ``(-pi, pi]``."""
    return np.pi - np.mod(np.pi - a, 2 * np.pi)


def _blank(T, d):
    nan = np.full(T, np.nan)
    return dict(theta=np.zeros((T, d)), direction=np.zeros((T, d)), radius=np.zeros(T), offset=np.zeros((T, d)),
                risk=nan.copy(), grad_norm=nan.copy(), nit=np.zeros(T, dtype=np.int64),
                converged=np.zeros(T, dtype=bool), unbounded=np.zeros(T, dtype=bool),
                n_min=np.ones(T, dtype=np.int64), limit_risk=nan.copy(), finite_risk=np.full(T, np.inf),
                arc=np.full((T, 2), np.nan) if d == 2 else None)


def _rms(V):
    """Per-trial rms ``||v_i||`` (1 where every ``v_i`` is zero): the data's scale."""
    s = np.sqrt(np.mean(np.einsum("tnd,tnd->tn", V, V), axis=1))
    return np.where(s > 0, s, 1.0)


def _limit_value(prof, P, N, Z, n):
    """``(1/n)[phi(+inf) P + phi(-inf) N + phi(0) Z]`` with ``0 * phi(-inf) = 0``."""
    return (prof.phi_plus * P + np.where(N > 0, prof.phi_minus * np.maximum(N, 1), 0.0) + prof.phi_zero * Z) / n


# --------------------------------------------------------------------------------------------------
# The three families
# --------------------------------------------------------------------------------------------------


def _affine(prof, V):
    """``phi(z) = phi(0) + b z`` (``b < 0``): ``R(theta) = phi(0) + b <theta, mean v>``."""
    T, n, d = V.shape
    out = _blank(T, d)
    m = V.mean(axis=1)
    mn = np.linalg.norm(m, axis=1)
    unb = mn > 0
    u = np.where(unb[:, None], m / np.where(unb, mn, 1.0)[:, None], 0.0)
    proj = np.einsum("tnd,td->tn", V, u)
    resid = np.linalg.norm(V - proj[..., None] * u[:, None, :], axis=-1)
    # some v_i off the line of mean(v): directions with <u, mean v> > 0 classify it differently
    differ = np.any(resid > 1e-12 * np.linalg.norm(V, axis=-1), axis=1)
    differ_zero = np.any(np.linalg.norm(V, axis=-1) > 0, axis=1)  # mean v = 0: every theta is a minimiser
    out.update(direction=u, theta=np.where(unb[:, None], R_INF * u, 0.0), radius=np.where(unb, np.inf, 0.0),
               risk=np.where(unb, -np.inf, prof.phi_zero), grad_norm=np.where(unb, np.nan, 0.0),
               converged=np.ones(T, dtype=bool), unbounded=unb,
               n_min=np.where(np.where(unb, differ, differ_zero), 2, 1), limit_risk=np.where(unb, -np.inf, np.nan),
               finite_risk=np.where(unb, -np.inf, prof.phi_zero))
    if d == 2:
        beta = np.arctan2(m[:, 1], m[:, 0])
        out["arc"] = np.where(unb[:, None], np.stack([_wrap(beta - 0.5 * np.pi), _wrap(beta - 0.5 * np.pi) + np.pi], 1),
                              np.nan)
    return out


def _separable_lp(V):
    """``d != 2``: per trial, ``(strict, weak, u)`` from linear programs: ``max t`` s.t.
    ``<u, v_i> >= t``, ``|u_j| <= 1`` (strict iff ``t* > 1e-12 max ||v_i||``), then for the others
    ``max sum_i <u, v_i>`` s.t. ``<u, v_i> >= 0`` (weak iff positive). ``u``: the hard-margin SVM
    direction (SciPy SLSQP on ``min ||w||^2`` s.t. ``<w, v_i> >= 1``) when strict, else the LP's."""
    T, n, d = V.shape
    strict, weak, U = np.zeros(T, dtype=bool), np.zeros(T, dtype=bool), np.zeros((T, d))
    for t in range(T):
        A, big = V[t], float(np.abs(V[t]).max())
        if big == 0:
            continue
        res = optimize.linprog(np.r_[np.zeros(d), -1.0], A_ub=np.c_[-A, np.ones(n)], b_ub=np.zeros(n),
                               bounds=[(-1, 1)] * d + [(None, 1)], method="highs")
        if res.status == 0 and -res.fun > 1e-12 * big:
            strict[t] = True
            w0 = res.x[:d] / -res.fun
            svm = optimize.minimize(lambda w: w @ w, w0, jac=lambda w: 2 * w, method="SLSQP",
                                    constraints=[{"type": "ineq", "fun": lambda w: A @ w - 1, "jac": lambda w: A}],
                                    options={"ftol": 1e-15, "maxiter": 500})
            w = svm.x if svm.success and np.all(A @ svm.x > 0) else w0
            U[t] = w / np.linalg.norm(w)
            continue
        res = optimize.linprog(-A.sum(0), A_ub=-A, b_ub=np.zeros(n), bounds=[(-1, 1)] * d, method="highs")
        if res.status == 0 and -res.fun > 1e-12 * big:
            weak[t] = True
            U[t] = res.x / np.linalg.norm(res.x)
    return strict, weak, U


def _group_counts(sw, groups):
    t, a, b = groups
    e_minus = np.array([int((sw.sigma[tt, aa:bb] < 0).sum()) for tt, aa, bb in zip(t, a, b)], dtype=np.int64)
    others = sw.nz[t] - (b - a)
    P_first = sw.P1[t, a] - e_minus
    return P_first, others


def _convex(loss, prof, V, *, tol, maxiter, theta0):
    T, n, d = V.shape
    out = _blank(T, d)
    s = _rms(V)
    nz = np.any(V != 0, axis=-1).sum(1)
    sep_value = _limit_value(prof, nz, 0, n - nz, n)
    if not np.isfinite(prof.phi_plus):  # phi(+inf) = +inf (squared): coercive, every minimiser is finite
        unb = np.zeros(T, dtype=bool)
    elif d == 2:
        sw = _parts.sweep(V)
        c1, c2 = sw.valid & (sw.P1 == nz[:, None]), sw.inner & (sw.P1 == 0)
        sep = (c1.any(1) | c2.any(1)) & (nz > 0)
        tt = np.flatnonzero(sep)
        half = np.where(c1[tt].any(1), 0, 1)
        k = np.where(half == 0, np.argmax(c1[tt], 1), np.argmax(c2[tt], 1))
        ang, _ = _parts.max_margin_angles(V, sw, tt, k, half)
        lo, hi = _parts.arc_angles(sw, tt, k, half)
        u = unit(ang)
        out["arc"][tt] = np.stack([_wrap(lo), _wrap(lo) + (hi - lo)], 1)
        out["direction"][tt], out["risk"][tt], out["limit_risk"][tt] = u, sep_value[tt], sep_value[tt]
        out["converged"][tt] = True
        weak = np.zeros(T, dtype=bool)
        groups = _parts.mixed_groups(sw)
        if len(groups[0]):  # weakly separable: every other point positive along a mixed group's line
            P, others = _group_counts(sw, groups)
            hit = (others > 0) & ((P == others) | (P == 0)) & ~sep[groups[0]]
            if hit.any():
                sel = tuple(x[hit] for x in groups)
                FE, offset, ok, halves, _, twin = event_lines(loss, prof, V, sw, sel, tol=tol, maxiter=maxiter)
                first = P[hit] == others[hit]
                ang_e = np.where(first, halves[0][0], halves[1][0])
                te = sel[0]
                val = (prof.phi_plus * others[hit] + prof.phi_zero * (n - nz[te]) + FE) / n
                weak[te] = True
                out["direction"][te], out["offset"][te] = unit(ang_e), offset
                out["risk"][te], out["limit_risk"][te], out["converged"][te] = val, val, ok
                out["n_min"][te] = 1 + twin
                out["arc"][te] = np.stack([_wrap(ang_e), _wrap(ang_e)], 1)
        unb = sep | weak
    else:
        strict, weak, U = _separable_lp(V)
        unb = strict | weak
        out["direction"][unb] = U[unb]
        out["risk"][strict], out["limit_risk"][strict], out["converged"][strict] = sep_value[strict], sep_value[strict], True
        out["risk"][weak] = np.mean(_value(loss, R_INF * np.einsum("tnd,td->tn", V[weak], U[weak])), axis=1)
    out["unbounded"] = unb
    out["radius"][unb] = np.inf
    big = np.where(np.linalg.norm(out["offset"], axis=1) > 0, 2.0**40 * np.linalg.norm(out["offset"], axis=1), R_INF)
    out["theta"][unb] = big[unb, None] * out["direction"][unb] + out["offset"][unb]
    out["limit_risk"][~unb] = np.inf
    rest = np.flatnonzero(~unb)
    if rest.size:
        start = np.zeros((rest.size, d)) if theta0 is None else theta0[rest, 0]
        th, f, g, nit, st = newton(BlockedEval(loss, d), _columns(V[rest]), start, 1.0 / s[rest], tol * s[rest],
                                    maxiter=maxiter)
        r = np.linalg.norm(th, axis=1)
        out["theta"][rest], out["radius"][rest], out["risk"][rest], out["finite_risk"][rest] = th, r, f, f
        out["direction"][rest] = np.where(r[:, None] > 0, th / np.where(r > 0, r, 1.0)[:, None], 0.0)
        out["grad_norm"][rest], out["nit"][rest], out["converged"][rest] = np.linalg.norm(g, axis=1), nit, st == 0
    return out


# the search's starts: (base direction, rotation, target mean |margin|), base "rep" (the best arc's
# representative) or "mean" (the centroid direction mean(v): where descent from theta = 0 goes)
_START_SPEC = (("rep", 0.0, 1.0), ("rep", 0.0, 4.0), ("rep", 0.0, 16.0), ("mean", 0.0, 1.0), ("rep", np.pi, 2.0))


def _starts(V, rep, mean_dir, s, user):
    """Start points of the finite search per trial ``(T, S, 2)`` (module docstring)."""
    pts = []
    for base, shift, c in _START_SPEC:
        u = unit((rep if base == "rep" else mean_dir) + shift)
        m = np.mean(np.abs(np.einsum("tnd,td->tn", V, u)), axis=1)
        r = c / np.where(m > 0, m, s)
        pts.append(r[:, None] * u)
    P = np.stack(pts, axis=1)
    return P if user is None else np.concatenate([P, user], axis=1)


def _bounded(loss, prof, V, *, tol, maxiter, risk_tol, starts):
    T, n, _ = V.shape
    out = _blank(T, 2)
    s = _rms(V)
    sw = _parts.sweep(V)
    nz, Z = sw.nz, n - sw.nz
    P1, P2 = sw.P1, sw.nz[:, None] - sw.P1
    v1 = np.where(sw.valid, _limit_value(prof, P1, P2, Z[:, None], n), np.inf)
    v2 = np.where(sw.inner, _limit_value(prof, P2, P1, Z[:, None], n), np.inf)
    j1, j2 = np.argmin(v1, 1), np.argmin(v2, 1)
    r = np.arange(T)
    second = v2[r, j2] < v1[r, j1]
    Pbest = np.where(second, P2[r, j2], P1[r, j1])
    L_arc = np.minimum(v1[r, j1], v2[r, j2])
    # exact ties: the limit is affine in the count P, so the minimising arcs are those with P = Pbest
    # (all arcs when phi(+inf) = phi(-inf))
    same = prof.phi_plus == prof.phi_minus
    b1 = sw.valid & ((P1 == Pbest[:, None]) | same)
    b2 = sw.inner & ((P2 == Pbest[:, None]) | same)
    n_min = b1.sum(1) + b2.sum(1)
    (t1, k1), (t2, k2) = np.nonzero(b1), np.nonzero(b2)
    tt, kk = np.r_[t1, t2], np.r_[k1, k2]
    hh = np.r_[np.zeros(len(t1), dtype=np.int64), np.ones(len(t2), dtype=np.int64)]
    ang, margin = _parts.max_margin_angles(V, sw, tt, kk, hh)
    pick = np.lexsort((-margin, tt))
    first = pick[np.r_[True, tt[pick][1:] != tt[pick][:-1]]]  # per trial: the largest max-margin
    lo, hi = _parts.arc_angles(sw, tt[first], kk[first], hh[first])
    rep = ang[first]
    out["arc"][:] = np.stack([_wrap(lo), _wrap(lo) + (hi - lo)], 1)
    L_star = L_arc.copy()
    direction = unit(rep)
    converged = np.ones(T, dtype=bool)
    # limits along the event lines of mixed groups (points on one line through 0, on both sides)
    groups = _parts.mixed_groups(sw)
    if len(groups[0]):
        P, others = _group_counts(sw, groups)
        te, size = groups[0], groups[2] - groups[1]
        lb = np.minimum(_limit_value(prof, P + size, others - P, Z[te], n), _limit_value(prof, others, 0 * P, Z[te], n))
        keep = (others > 0) & (lb < L_arc[te] + risk_tol)
        if keep.any():
            sel = tuple(x[keep] for x in groups)
            FE, offset, ok, halves, line, twin = event_lines(loss, prof, V, sw, sel, tol=tol, maxiter=maxiter,
                                                              risk_tol=risk_tol)
            for a_h, P_h, N_h in halves:
                val = np.where(line, (prof.phi_plus * P_h + np.where(N_h > 0, prof.phi_minus * N_h, 0.0)
                                      + prof.phi_zero * Z[sel[0]] + FE) / n, np.inf)
                for i in np.argsort(val)[::-1]:  # best last, so it wins the assignment
                    t = sel[0][i]
                    if val[i] < L_star[t] - risk_tol:
                        n_min[t] = 1 + twin[i]
                        L_star[t], direction[t], out["offset"][t] = val[i], unit(a_h[i]), offset[i]
                        out["arc"][t] = (_wrap(a_h[i]), _wrap(a_h[i]))
                        converged[t] = ok[i]
                    elif val[i] <= L_star[t] + risk_tol:
                        n_min[t] += 1 + twin[i]
    # finite search, except where some direction classifies every nonzero point correctly: no finite
    # theta reaches phi(+inf) there (phi > phi(+inf) is not assumed: the limit is still the infimum)
    search = np.flatnonzero(Pbest < nz)
    finite = np.zeros(T, dtype=bool)
    if search.size:
        mv = V[search].mean(axis=1)
        P0 = _starts(V[search], rep[search], np.arctan2(mv[:, 1], mv[:, 0]), s[search],
                     None if starts is None else starts[search])
        S = P0.shape[1]
        B = np.repeat(_columns(V[search]), S, axis=2)
        floor = np.repeat(L_star[search] - risk_tol, S)
        sc = np.repeat(1.0 / s[search], S)
        th, f, g, nit, st = newton(BlockedEval(loss, 2), B, P0.reshape(-1, 2), sc, tol / sc, maxiter=maxiter,
                                    limit=(prof.phi_plus, prof.phi_minus, prof.phi_zero), floor=floor,
                                    risk_tol=risk_tol)
        f, st = f.reshape(-1, S), st.reshape(-1, S)
        th, g = th.reshape(-1, S, 2), g.reshape(-1, S, 2)
        jb = np.argmin(f, axis=1)
        rs = np.arange(search.size)
        fb = f[rs, jb]
        out["finite_risk"][search] = fb
        out["nit"][search] = nit.reshape(-1, S).sum(1)
        win = fb < L_star[search] - risk_tol
        finite[search[win]] = True
        for i in np.flatnonzero(win & (np.sum(np.abs(f - fb[:, None]) <= risk_tol, axis=1) > 1)):
            t = search[i]  # distinct sign patterns among the finite minimisers within risk_tol
            zs = {np.sign(V[t] @ th[i, j]).tobytes() for j in range(S) if f[i, j] - fb[i] <= risk_tol}
            n_min[t] = len(zs)
        w = search[win]
        tw = th[rs[win], jb[win]]
        rw = np.linalg.norm(tw, axis=1)
        out["theta"][w], out["radius"][w], out["risk"][w] = tw, rw, fb[win]
        out["direction"][w] = tw / np.where(rw > 0, rw, 1.0)[:, None]
        out["grad_norm"][w] = np.linalg.norm(g[rs[win], jb[win]], axis=1)
        out["converged"][w] = st[rs[win], jb[win]] == 0
        out["arc"][w] = np.nan
        out["offset"][w] = 0.0
    inf = ~finite
    off = np.linalg.norm(out["offset"], axis=1)
    big = np.where(off > 0, 2.0**40 * off, R_INF)
    out["theta"][inf] = big[inf, None] * direction[inf] + out["offset"][inf]
    out["direction"][inf], out["radius"][inf], out["risk"][inf] = direction[inf], np.inf, L_star[inf]
    out["converged"][inf] = converged[inf]
    out["unbounded"], out["n_min"], out["limit_risk"] = inf, n_min, L_star
    return out


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def bytes_per_trial(n: int, d: int, starts: int = 0) -> int:
    """Working memory of one trial: its data twice plus, for the bounded search, ``6 + starts``
    column copies (and compacted copies of those): ``8 n d (4 + 2 (6 + starts))`` bytes."""
    return 8 * n * d * (4 + 2 * (6 + starts))


def fit_converged(loss, X, y, *, tol: float = TOL, maxiter: int = MAXITER, risk_tol: float = RISK_TOL,
                  starts=None, chunk_bytes: int | None = None) -> ConvergedFit:
    """The empirical-risk minimiser (or infimum) of a bias-free linear model, per trial (module doc).

    Shapes: ``X`` ``(T, n, d)`` and ``y`` ``(T, n)`` in {-1, +1}, or one problem ``(n, d)``,
    ``(n,)`` (the result's leading axis is then dropped). ``tol``: gradient-norm tolerance relative
    to the trial's rms ``||x_i||`` (Newton stops at ``||grad R|| <= tol * s``). ``maxiter``: Newton
    iterations per run. ``risk_tol``: a finite point beats (or ties with) a limit at infinity, and
    minimisers tie, within this absolute risk difference. ``starts`` ``(S, d)`` or ``(T, S, d)``:
    extra starts of the bounded search (convex losses start Newton from the first, default 0).
    ``chunk_bytes`` (default 256 MiB) caps the working arrays: trials are fitted in chunks of
    ``max(1, chunk_bytes // bytes_per_trial(n, d, S))``; results do not depend on the chunking.
    Raises ``ValueError`` for a bounded loss with ``d != 2`` and for a loss that is neither convex
    nor bounded.
    """
    prof = _profile(loss)
    X, y = check_data(X, y)
    tol = check_interval("tol", tol, 0.0, np.inf, low_open=True, high_open=True)
    maxiter = check_positive_int("maxiter", maxiter)
    risk_tol = check_interval("risk_tol", risk_tol, 0.0, np.inf, high_open=True)
    chunk_bytes = DEFAULT_CHUNK_BYTES if chunk_bytes is None else check_positive_int("chunk_bytes", chunk_bytes)
    single = X.ndim == 2
    if single:
        X, y = X[None], y[None]
    T, n, d = X.shape
    if prof.kind == "bounded" and d != 2:
        raise ValueError(f"X has d={d} features; the bounded-loss fit sweeps the circle of directions and is "
                         "implemented for d = 2 (the Long & Servedio plane)")
    if starts is not None:
        st = np.asarray(starts, dtype=float)
        if st.ndim == 2:
            st = np.broadcast_to(st, (T,) + st.shape)
        if st.ndim != 3 or st.shape[0] != T or st.shape[2] != d or st.shape[1] == 0 or not np.all(np.isfinite(st)):
            raise ValueError(f"starts.shape={np.shape(starts)} must be (S, {d}) or ({T}, S, {d}), finite, S >= 1")
        starts = st
    S = 0 if starts is None else starts.shape[1]
    per = max(1, chunk_bytes // bytes_per_trial(n, d, S))
    parts = []
    for a in range(0, T, per):
        V = y[a : a + per, :, None] * X[a : a + per]
        st = None if starts is None else starts[a : a + per]
        if prof.kind == "affine":
            parts.append(_affine(prof, V))
        elif prof.kind == "convex":
            parts.append(_convex(loss, prof, V, tol=tol, maxiter=maxiter, theta0=st))
        else:
            parts.append(_bounded(loss, prof, V, tol=tol, maxiter=maxiter, risk_tol=risk_tol, starts=st))
    res = {k: (None if parts[0][k] is None else np.concatenate([p[k] for p in parts])) for k in parts[0]}
    res["tie"] = res["n_min"] >= 2
    if single:
        res = {k: (None if v is None else v[0]) for k, v in res.items()}
    return ConvergedFit(**res, kind=prof.kind, chunks=len(parts))
