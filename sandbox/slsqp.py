"""The paper's Fig. 2a fitting protocol: SciPy SLSQP on the mean margin loss, per trial or batched.

The protocol (paper Sec. 6, Fig. 2a): fit a bias-free linear model to each trial by SciPy's SLSQP on
the mean loss with its analytic gradient, at most 100 iterations from ``theta = 0``::

    minimise  R_t(theta) = (1/n) sum_i phi(z_ti),   z_ti = y_ti <theta, x_ti>,   t = 1..T

* :func:`fit_slsqp_scipy` is the protocol written plainly: ``scipy.optimize.minimize(method="SLSQP")``
  on one trial at a time. It is the reference.
* :func:`fit_slsqp` runs the same iteration for all trials at once (6-8 times faster at the paper's
  sizes). Without constraints or bounds, Kraft's SLSQP (SciPy's ``__slsqp.c``, a translation of the
  Fortran of ACM TOMS 733) reduces to a quasi-Newton method, and :func:`fit_slsqp` is that method:

  * direction ``s = -B^-1 g``, with ``B = L D L'`` the BFGS matrix kept as unit-lower ``L`` and
    diagonal ``D`` (packed like SciPy's), ``B = I`` at the start and after every reset;
  * an L1-merit line search from ``alpha = 1``: the step is accepted when
    ``R(x0 + s) - R(x0) <= gs / 10`` (``gs = g's``, scaled with ``s``), else ``s`` is scaled by
    ``max(gs / (2 (gs - (R(x0 + s) - R(x0)))), 0.1)``, at most 10 times; the last point is kept;
  * Powell-damped BFGS: ``y = g_new - g_old``; if ``s'y < 0.2 s'Bs`` then
    ``y <- h4 y + (1 - h4) Bs`` with ``h4 = 0.8 s'Bs / (s'Bs - s'y)``; ``L D L'`` is updated by two
    rank-one updates (Fletcher and Powell's composite-t method, as SciPy does);
  * SciPy's stopping rules with ``acc = ftol = 1e-6``: success when ``|g's| < acc`` at the start of
    an iteration, or when ``|R(x) - R(x0)| < acc`` or ``||s|| < acc`` after a line search; reset
    ``B = I`` when ``g's >= 0`` (after 5 resets: stop, SciPy's relaxed test); status 9 after
    ``maxiter`` iterations; status 7 when the direction's least-squares system is rank deficient
    (approximated here: ``cond(sqrt(D) L') > 1/sqrt(eps)``, SciPy uses LAPACK's ``dgelsy``).

  Every trial carries its own state (iteration, line-search step, BFGS factors, exit status); each
  pass of the loop evaluates the risk and gradient of every unfinished trial at once
  (:mod:`sandbox._kernels`), and each trial makes exactly the function evaluations SciPy would make.
  The only differences are rounding: on the paper's data weights agree with SciPy's to ~1e-15
  relative on almost every trial with the same iteration counts, and the predicted test labels agree
  on every trial checked (``tests/test_slsqp.py``, ``python -m sandbox bench``). What SLSQP stops at
  is thereby reproduced, including the PHuber runs whose weights grow until the risk decrease falls
  below ``acc`` (the infimum of a bounded loss can lie at infinite norm: compare classifications,
  not weights).

Memory. The batched fit keeps ``y * X`` (``T n d`` doubles) and a compacted copy of the unfinished
trials (at most as much again): about ``16 T n d`` bytes (:func:`bytes_per_trial`). When that exceeds
``chunk_bytes`` the trials are fitted in consecutive chunks; results are bitwise identical to one
chunk (every sum runs over fixed 128-example segments in a fixed order, :mod:`sandbox._kernels`).

Both fitters return a :class:`FitResult` with the same fields, so they can be compared field by field.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import optimize

from ._checks import check_data, check_interval, check_loss, check_positive_int
from ._kernels import BlockedEval
from .linear import risk_and_grad

__all__ = ["FitResult", "fit_slsqp", "fit_slsqp_scipy", "bytes_per_trial", "DEFAULT_CHUNK_BYTES", "FTOL"]

DEFAULT_CHUNK_BYTES = 256 * 2**20  # 256 MiB of working arrays per chunk of trials
FTOL = 1e-6  # SciPy's SLSQP default ftol ("acc"), the paper's protocol; the relaxed tolerance is 10 * acc
MAXITER = 100  # the paper: at most 100 iterations
_EPS = float(np.finfo(float).eps)
_LINE_MAX = 10  # SciPy: at most 10 step reductions per line search
_ALPHA_MIN = 0.1  # SciPy: smallest step reduction factor
_RESET_MAX = 5  # SciPy: stop after 5 resets of the BFGS matrix
_COMPACT = 0.85  # re-pack the unfinished trials when they fill less than this fraction
PROGRESS_EVERY_S = 1.0  # seconds between progress lines of the per-trial loop


@dataclass(frozen=True)
class FitResult:
    """Result of an SLSQP fit, one entry per trial (leading axis dropped for a single problem).

    ``theta`` ``(T, d)`` final weights; ``risk`` ``(T,)`` mean loss at the final weights; ``nit``
    ``(T,)`` SLSQP iterations; ``status`` ``(T,)`` SciPy's exit mode (0 converged, 7 rank-deficient
    direction, 8 positive directional derivative after 5 resets, 9 iteration limit; the weights are
    used in every case, as in the paper). ``method``: ``"batched"`` or ``"scipy"``; ``evaluator``:
    how the risk was evaluated (``"fused <loss>"``, ``"generic"`` or ``"scipy"``); ``chunks``: number
    of chunks of trials.
    """

    theta: np.ndarray
    risk: np.ndarray
    nit: np.ndarray
    status: np.ndarray
    method: str
    evaluator: str
    chunks: int = 1

    @property
    def success(self) -> np.ndarray:
        """SciPy's ``success``: ``status == 0``."""
        return self.status == 0


# --------------------------------------------------------------------------------------------------
# LDL' factors of the BFGS matrix, packed column by column as in SciPy (lower triangle)
# --------------------------------------------------------------------------------------------------


def _packed(d: int) -> dict[tuple[int, int], int]:
    """Position of entry ``(row, col)``, ``row >= col``, in the packed lower triangle."""
    pos, c = {}, 0
    for col in range(d):
        for row in range(col, d):
            pos[(row, col)] = c
            c += 1
    return pos


def _identity(k: int, d: int, P) -> np.ndarray:
    a = np.zeros((k, len(P)))
    for i in range(d):
        a[:, P[(i, i)]] = 1.0
    return a


def _ldl_solve(a: np.ndarray, g: np.ndarray, P, d: int) -> np.ndarray:
    """``-(L D L')^-1 g`` for each row."""
    w = g.copy()
    for i in range(d):
        for j in range(i + 1, d):
            w[:, j] -= a[:, P[(j, i)]] * w[:, i]
    for i in range(d):
        w[:, i] /= a[:, P[(i, i)]]
    for i in reversed(range(d)):
        for j in range(i + 1, d):
            w[:, i] -= a[:, P[(j, i)]] * w[:, j]
    return -w


def _ldl_mul(a: np.ndarray, s: np.ndarray, P, d: int) -> np.ndarray:
    """``L D L' s`` for each row."""
    v = s.copy()
    for i in range(d):
        for j in range(i + 1, d):
            v[:, i] += a[:, P[(j, i)]] * s[:, j]
    for i in range(d):
        v[:, i] *= a[:, P[(i, i)]]
    out = v.copy()
    for i in range(d):
        for j in range(i + 1, d):
            out[:, j] += a[:, P[(j, i)]] * v[:, i]
    return out


def _rank_deficient(a: np.ndarray, P, d: int) -> np.ndarray:
    """Rows where ``sqrt(D) L'`` has condition number above ``1/sqrt(eps)`` (SciPy's ``dgelsy``)."""
    if d == 1:
        return np.zeros(len(a), dtype=bool)
    if d == 2:  # B = L D L' is 2 x 2: cond(A)^2 = cond(B) = lmax / lmin, lmin = det / lmax
        d1, l21, d2 = a[:, 0], a[:, 1], a[:, 2]
        tr = d1 * (1.0 + l21 * l21) + d2
        det = d1 * d2
        lmax = 0.5 * (tr + np.sqrt(np.maximum(tr * tr - 4.0 * det, 0.0)))
        return ~(det >= _EPS * lmax * lmax)
    A = np.zeros((len(a), d, d))
    for i in range(d):
        sq = np.sqrt(a[:, P[(i, i)]])
        A[:, i, i] = sq
        for j in range(i + 1, d):
            A[:, i, j] = a[:, P[(j, i)]] * sq
    sv = np.linalg.svd(A, compute_uv=False)
    return ~(sv[:, -1] >= math.sqrt(_EPS) * sv[:, 0])


def _ldl_update(a: np.ndarray, z: np.ndarray, sigma: np.ndarray, w: np.ndarray, P, d: int) -> None:
    """``L D L' <- L D L' + sigma z z'`` per row, in place (SciPy's ``ldl_update``; ``z``, ``w`` scratch).

    All rows of one call have the same sign of ``sigma``.
    """
    t = 1.0 / sigma
    negative = bool(sigma[0] < 0.0) if len(sigma) else False
    if negative:
        w[:] = z
        for i in range(d):
            v = w[:, i].copy()
            t = t + v * v / a[:, P[(i, i)]]
            for j in range(i + 1, d):
                w[:, j] -= v * a[:, P[(j, i)]]
        t = np.where(t >= 0.0, _EPS / sigma, t)
        for i in range(d):
            j = d - i - 1
            u = w[:, j].copy()
            w[:, j] = t
            t = t - u * u / a[:, P[(j, j)]]
    for i in range(d):
        v = z[:, i].copy()
        delta = v / a[:, P[(i, i)]]
        tp = w[:, i].copy() if negative else t + delta * v
        alpha = tp / t
        a[:, P[(i, i)]] *= alpha
        if i == d - 1:
            return
        beta = delta / tp
        small = alpha <= 4.0
        gamma = t / tp
        for j in range(i + 1, d):
            aij = a[:, P[(j, i)]].copy()
            zj = z[:, j] - v * aij
            # alpha <= 4: a += beta * z_new; else a = gamma * a + beta * z_old (SciPy's two branches)
            a[:, P[(j, i)]] = np.where(small, aij + beta * zj, gamma * aij + beta * z[:, j])
            z[:, j] = zj
        t = tp


# --------------------------------------------------------------------------------------------------
# The batched SLSQP iteration
# --------------------------------------------------------------------------------------------------


def _slsqp_chunk(evaluate: BlockedEval, Bfull: np.ndarray, maxiter: int, acc: float):
    """SLSQP (no constraints) from 0 on every trial of ``Bfull = y * X`` stored ``(d, n, T)``."""
    d, _, T = Bfull.shape
    P = _packed(d)
    tol = 10 * acc
    x = np.zeros((T, d))
    x0 = np.zeros((T, d))
    s = np.zeros((T, d))
    g = np.zeros((T, d))
    f = np.zeros(T)
    f0 = np.zeros(T)
    t0 = np.zeros(T)
    h3 = np.zeros(T)
    nit = np.zeros(T, dtype=np.int64)
    line = np.zeros(T, dtype=np.int64)
    reset = np.ones(T, dtype=np.int64)  # SciPy counts the initial B = I as a reset
    status = np.full(T, -1, dtype=np.int64)  # -1: running
    fresh = np.ones(T, dtype=bool)  # awaiting the evaluation at theta = 0
    Bfac = _identity(T, d, P)

    def reset_bfgs(R: np.ndarray) -> np.ndarray:
        """Reset B = I on rows R; rows past 5 resets stop (SciPy's relaxed test). Returns the rest."""
        reset[R] += 1
        over = reset[R] > _RESET_MAX
        Ro = R[over]
        ok = (np.abs(f[Ro] - f0[Ro]) < tol) | (np.linalg.norm(s[Ro], axis=1) < tol)
        status[Ro] = np.where(ok & (f[Ro] == f[Ro]), 0, 8)
        R = R[~over]
        Bfac[R] = _identity(len(R), d, P)
        return R

    def iteration_start(S: np.ndarray) -> None:
        """SciPy's ITER_START for rows S: new direction, convergence test, first trial step."""
        while S.size:
            lim = nit[S] >= maxiter
            status[S[lim]] = 9
            S = S[~lim]
            nit[S] += 1
            a = Bfac[S]
            bad = _rank_deficient(a, P, d)
            status[S[bad]] = 7
            S, a = S[~bad], a[~bad]
            gS = g[S]
            sS = _ldl_solve(a, gS, P, d)
            s[S] = sS
            gs = np.einsum("kd,kd->k", gS, sS)
            f0[S] = f[S]
            x0[S] = x[S]
            conv = (np.abs(gs) < acc) & (f[S] == f[S])
            status[S[conv]] = 0
            S, gs = S[~conv], gs[~conv]
            t0[S] = f[S]
            h3[S] = gs
            up = gs >= 0.0
            go = S[~up]
            line[go] = 1
            x[go] = x0[go] + s[go]
            S = reset_bfgs(S[up])  # these rows start the iteration again with B = I

    # compacted copy of the running trials' data (rows of Bfull listed in `held`)
    held = np.arange(T)
    B = Bfull
    while True:
        run = np.flatnonzero(status < 0)
        if run.size == 0:
            break
        if run.size < _COMPACT * held.size:
            keep = np.searchsorted(held, run)
            B = B[:, :, keep]
            held = run
        fh, gh = evaluate(B, x[held])
        live = status[held] < 0
        rows, fx, gx = held[live], fh[live], gh[live]

        new = fresh[rows]
        start = rows[new]
        f[start] = fx[new]
        g[start] = gx[new]
        fresh[start] = False

        Lr, fL, gL = rows[~new], fx[~new], gx[~new]
        h1 = fL - t0[Lr]
        back = (h1 > h3[Lr] / 10.0) & (line[Lr] <= _LINE_MAX)
        C = Lr[back]
        if C.size:  # reduce the step and evaluate again
            hc = h3[C]
            alpha = np.maximum(hc / (2.0 * (hc - h1[back])), _ALPHA_MIN)
            line[C] += 1
            h3[C] = alpha * hc
            s[C] = alpha[:, None] * s[C]
            x[C] = x0[C] + s[C]
        A, fA, gA = Lr[~back], fL[~back], gL[~back]
        f[A] = fA
        done = ((np.abs(fA - f0[A]) < acc) | (np.linalg.norm(s[A], axis=1) < acc)) & (fA == fA)
        status[A[done]] = 0
        g[A[done]] = gA[done]
        U, gU = A[~done], gA[~done]
        nxt = [start]
        if U.size:  # Powell-damped BFGS update of L D L'
            u = gU - g[U]
            sU = s[U]
            v = _ldl_mul(Bfac[U], sU, P, d)
            k1 = np.einsum("kd,kd->k", sU, u)
            k2 = np.einsum("kd,kd->k", sU, v)
            k3 = 0.2 * k2
            damp = k1 < k3
            h4 = (k2 - k3) / np.where(damp, k2 - k1, 1.0)
            u = np.where(damp[:, None], h4[:, None] * u + (1.0 - h4[:, None]) * v, u)
            k1 = np.where(damp, k3, k1)
            g[U] = gU
            singular = (k1 == 0.0) | (k2 == 0.0)
            if singular.any():
                nxt.append(reset_bfgs(U[singular]))
            ok = ~singular
            Uo = U[ok]
            a = Bfac[Uo]
            uo, vo = u[ok], v[ok]
            _ldl_update(a, uo, 1.0 / k1[ok], vo, P, d)
            _ldl_update(a, vo, -1.0 / k2[ok], uo, P, d)
            Bfac[Uo] = a
            nxt.append(Uo)
        S = np.concatenate(nxt)
        if S.size:
            iteration_start(np.sort(S))
    return x, f, nit, status


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------

# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def bytes_per_trial(n: int, d: int) -> int:
    """Working memory of one trial in :func:`fit_slsqp`: ``16 n d`` bytes (see module doc)."""
    return 2 * 8 * n * d


def _inputs(loss, X, y, maxiter, ftol) -> tuple[np.ndarray, np.ndarray, bool, int, float]:
    check_loss(loss)
    X, y = check_data(X, y)
    maxiter = check_positive_int("maxiter", maxiter)
    ftol = check_interval("ftol", ftol, 0.0, np.inf, low_open=True, high_open=True)
    single = X.ndim == 2
    return (X[None], y[None], single, maxiter, ftol) if single else (X, y, single, maxiter, ftol)


def _result(single: bool, theta, risk, nit, status, method, evaluator, chunks=1) -> FitResult:
    if single:
        theta, risk, nit, status = theta[0], risk[0], nit[0], status[0]
    return FitResult(theta, risk, nit, status, method, evaluator, chunks)


def fit_slsqp(loss, X, y, *, maxiter: int = MAXITER, ftol: float = FTOL, chunk_bytes: int | None = None) -> FitResult:
    """The paper's SLSQP protocol for every trial at once (module docstring): at most ``maxiter``
    iterations from ``theta = 0`` on the mean loss; equal to :func:`fit_slsqp_scipy` up to rounding.

    Shapes: ``X`` ``(T, n, d)`` and ``y`` ``(T, n)`` in {-1, +1} (or one problem, ``(n, d)`` and
    ``(n,)``). ``loss`` is any margin loss (:func:`sandbox.registry.make_loss`). ``ftol`` is SciPy's SLSQP
    ``ftol`` (an absolute tolerance on the risk; 1e-6, SciPy's default, is the paper's protocol).
    ``chunk_bytes`` (default 256 MiB) caps the working arrays: trials are fitted in chunks of
    ``max(1, chunk_bytes // bytes_per_trial(n, d))``, with results bitwise identical to one chunk.
    """
    X, y, single, maxiter, ftol = _inputs(loss, X, y, maxiter, ftol)
    chunk_bytes = DEFAULT_CHUNK_BYTES if chunk_bytes is None else check_positive_int("chunk_bytes", chunk_bytes)
    T, n, d = X.shape
    per = max(1, chunk_bytes // bytes_per_trial(n, d))
    evaluate = BlockedEval(loss, d)
    parts = []
    for a in range(0, T, per):
        b = min(a + per, T)
        Bc = np.empty((d, n, b - a))  # y * X, one column per trial
        for j in range(d):
            np.multiply(X[a:b, :, j].T, y[a:b].T, out=Bc[j])
        parts.append(_slsqp_chunk(evaluate, Bc, maxiter, ftol))
    theta, risk, nit, status = (np.concatenate(c) for c in zip(*parts))
    return _result(single, theta, risk, nit, status, "batched", evaluate.kernel, len(parts))


def fit_slsqp_scipy(
    loss, X, y, *, maxiter: int = MAXITER, ftol: float = FTOL, theta0=None, bias: bool = False,
    progress: Callable[[str], None] | None = None,
) -> FitResult:
    """The paper's protocol written plainly: ``scipy.optimize.minimize(method="SLSQP")`` on each trial
    in turn, on the mean loss with its analytic gradient, from ``theta0`` (default 0).

    The reference :func:`fit_slsqp` is checked against. Shapes as in :func:`fit_slsqp`; with
    ``bias=True`` the weights carry a trailing bias (``d + 1``). ``progress(message)``, if given, is
    called about once a second.
    """
    X, y, single, maxiter, ftol = _inputs(loss, X, y, maxiter, ftol)
    T, _, d = X.shape
    p = d + 1 if bias else d
    x0 = np.zeros(p) if theta0 is None else np.asarray(theta0, dtype=float)
    if x0.shape != (p,):
        raise ValueError(f"theta0.shape={x0.shape} must be ({p},)")
    theta, risk = np.empty((T, p)), np.empty(T)
    nit, status = np.empty(T, dtype=np.int64), np.empty(T, dtype=np.int64)
    t0 = last = time.perf_counter()
    for t in range(T):

        def fun(th, t=t):
            r, g = risk_and_grad(loss, th, X[t], y[t], bias=bias)
            return float(r), g

        res = optimize.minimize(fun, x0, jac=True, method="SLSQP", options={"maxiter": maxiter, "ftol": ftol})
        theta[t], risk[t], nit[t], status[t] = res.x, res.fun, res.nit, res.status
        now = time.perf_counter()
        if progress is not None and (t + 1 == T or now - last >= PROGRESS_EVERY_S):
            progress(f"{t + 1}/{T} trials fitted ({now - t0:.1f} s)")
            last = now
    return _result(single, theta, risk, nit, status, "scipy", "scipy")
