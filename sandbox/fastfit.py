"""The paper's Fig. 2a fitting protocol, vectorised across trials: SciPy's SLSQP iteration, batched.

The reference protocol (:func:`sandbox.train.fit_slsqp_trials`) runs SciPy's SLSQP on the mean
margin loss of one trial at a time, at most 100 iterations from ``theta = 0``::

    minimise  R_t(theta) = (1/n) sum_i phi(z_ti),   z_ti = y_ti <theta, x_ti>,   t = 1..T

Without constraints or bounds, Kraft's SLSQP (SciPy's ``__slsqp.c``, a translation of the Fortran
of ACM TOMS 733) reduces to a quasi-Newton method, and this module is that method written for all
trials at once:

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
pass of the loop evaluates the risk and gradient of every unfinished trial at once, and each
trial makes exactly the function evaluations SciPy would make. The only differences are rounding
(a blocked evaluation instead of ``linear.risk_and_grad``; ``s = -B^-1 g`` by triangular solves
instead of ``dgelsy``): on the paper's data weights agree with SciPy's to ~1e-15 relative on
almost every trial (1e-12 at worst in 1500 trials per preset) with the same iteration counts, and
the predicted test labels agree on every trial we have checked (``tests/test_fastfit.py``,
``python -m sandbox bench``). What SLSQP stops at is thereby reproduced, including the runs of the
partially Huberised loss whose weights grow until the risk decrease falls below ``acc``
(paper-notes section 8: compare classifications, not weights).

Evaluation. For the paper's losses (``logistic``, ``huberised``, ``partially_huberised``
:class:`~sandbox.losses.MarginLoss` objects) the risk and gradient come from one ``exp`` per
example: with ``e = exp(-|z|)``, ``sigmoid(-z)`` is ``e/(1+e)`` or ``1/(1+e)`` and
``log(1 + e^-z) = max(-z, 0) + log(1 + e)``; ``sum_i log(1 + e_i)`` is the log of a product of at
most 128 factors in ``(1, 2]`` (finite; error ~1e-16 absolute on the mean). Such a kernel is used
only if it reproduces ``loss(z)`` on probe margins; any other loss goes through ``loss(z)``.
Trials are stored column-wise (``(d, n, T)``) so that every NumPy call is a long row operation.

Determinism, memory and threads. Sums run over fixed segments of 128 examples, each reduced by a
fixed pairwise tree, and segments are added in order: a trial's arithmetic depends on its own
data and ``n`` alone, never on the other trials in the call. The fit keeps ``y * X``
(``T n d`` doubles) and a compacted copy of the unfinished trials (at most as much again): about
``16 T n d`` bytes (:func:`bytes_per_trial`). When that exceeds ``chunk_bytes`` the trials are
fitted in consecutive chunks, and the results are bitwise identical to one chunk; so are the
results with several evaluation threads (tested). One thread is the default: on the 2-core
machine two threads did not help (README, performance section).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ._checks import check_interval, check_positive_int

__all__ = [
    "FastFitResult",
    "fit_linear_trials",
    "fig2a_fast",
    "fig2a_losses",
    "FIG2A_LOSSES",
    "DEFAULT_CHUNK_BYTES",
    "STATUS_MESSAGES",
    "bytes_per_trial",
]

DEFAULT_CHUNK_BYTES = 256 * 2**20  # 256 MiB of working arrays per chunk of trials
_ACC = 1e-6  # SciPy's SLSQP default ftol ("acc"); the relaxed tolerance is 10 * acc
_EPS = float(np.finfo(float).eps)
_LINE_MAX = 10  # SciPy: at most 10 step reductions per line search
_ALPHA_MIN = 0.1  # SciPy: smallest step reduction factor
_RESET_MAX = 5  # SciPy: stop after 5 resets of the BFGS matrix
_SEG = 128  # examples per summation segment (fixed: results depend on n alone; 2**128 is finite)
_BLOCK = 32768  # doubles per scratch array (256 KiB): up to 256 trials x 128 examples per call
_EXP_CUT = 708.0  # exp(-708) ~ 3.3e-308 is normal; libm's exp is ~3x slower where its result is not
_COMPACT = 0.85  # re-pack the unfinished trials when they fill less than this fraction
_THREADS = 1  # evaluation threads; see the README's performance section for why 1

FIG2A_LOSSES = ("logistic", "huberised", "partially_huberised")

# SciPy's SLSQP exit modes (scipy.optimize._slsqp_py)
STATUS_MESSAGES = {
    0: "Optimization terminated successfully",
    7: "Rank-deficient equality constraint subproblem HFTI",
    8: "Positive directional derivative for linesearch",
    9: "Iteration limit reached",
}


@dataclass(frozen=True)
class FastFitResult:
    """Result of :func:`fit_linear_trials`, one entry per trial.

    ``theta`` ``(T, d)`` final weights; ``risk`` ``(T,)`` mean loss at the last evaluation;
    ``nit`` ``(T,)`` SLSQP iterations; ``nfev`` ``(T,)`` risk evaluations (SciPy's ``nfev``);
    ``status`` ``(T,)`` SciPy's exit mode (0 converged, 7 rank-deficient direction, 8 positive
    directional derivative after 5 resets, 9 iteration limit; weights are used in every case, as
    in the paper). ``kernel``: ``"closed-form <name>"`` or ``"generic"`` (through ``loss(z)``);
    ``chunks``: number of chunks of trials the fit was split into.
    """

    theta: np.ndarray
    risk: np.ndarray
    nit: np.ndarray
    nfev: np.ndarray
    status: np.ndarray
    kernel: str
    chunks: int

    @property
    def success(self) -> np.ndarray:
        """``(T,)`` bool: SciPy's ``success`` (``status == 0``)."""
        return self.status == 0

    @property
    def converged(self) -> np.ndarray:
        """Alias of :attr:`success`."""
        return self.success


# --------------------------------------------------------------------------------------------------
# Risk and gradient of a block of trials
# --------------------------------------------------------------------------------------------------


def _closed_form_spec(loss) -> tuple[str, float] | None:
    """``(name, tau)`` when ``loss`` is one of the paper's three losses, else ``None``."""
    name = getattr(loss, "name", None)
    params = dict(getattr(loss, "params", ()) or ())
    if name == "logistic" and not params:
        return "logistic", math.nan
    if name == "huberised" and set(params) == {"tau"}:
        tau = float(params["tau"])
        return ("logistic", math.nan) if tau >= 1.0 else ("huberised", tau)
    if name == "partially_huberised" and set(params) == {"tau"}:
        return "partially_huberised", float(params["tau"])
    return None


def _tree_reduce(a: np.ndarray, op) -> np.ndarray:
    """Reduce ``a`` ``(..., m, k)`` over its rows in place by a fixed pairwise tree; returns ``(..., k)``.

    The order of operations depends on ``m`` alone, never on ``k``: a column's result is the same
    whatever other columns share the array (NumPy's own reductions switch strategy with the shape).
    """
    m = a.shape[-2]
    while m > 1:
        h = m // 2
        op(a[..., :h, :], a[..., m - h : m, :], out=a[..., :h, :])
        m -= h
    return a[..., 0, :]


class _Evaluator:
    """Risk and gradient of trials stored column-wise: ``B = y * X`` as ``(d, n, k)`` (one column per trial).

    The examples are cut into segments of ``_SEG`` rows (the last may be shorter); each segment's
    sums are taken by :func:`_tree_reduce` and added to the running totals in segment order. That
    order depends on ``n`` alone, so a trial's result never depends on the other trials in the
    array, on the chunking or on the threads. For speed, a call processes several segments at once
    when there are few trials (about ``_BLOCK`` doubles per scratch array), always with the block's
    trials side by side, so every NumPy call is a long SIMD-friendly operation. One per thread.
    """

    def __init__(self, loss, spec, d: int):
        self.loss, self.spec, self.d = loss, spec, d
        self.flat = {name: np.empty(_BLOCK) for name in ("z", "e", "u", "r", "q", "t", "mh", "p")}
        self.neg_flat = np.empty(_BLOCK, dtype=bool)
        self.sums_flat = np.empty((d + 3) * _BLOCK)  # quantities summed down the rows

    def __call__(self, B: np.ndarray, theta: np.ndarray, f: np.ndarray, g: np.ndarray) -> None:
        """Write ``f`` ``(k,)``, ``g`` ``(k, d)`` at ``theta`` ``(k, d)``; ``B`` ``(d, n, k)``, ``k <= _BLOCK // _SEG``."""
        d, n, k = B.shape
        th = [np.ascontiguousarray(theta[:, j]) for j in range(d)]
        total = np.zeros(k)
        grad = np.zeros((d, k))
        per_call = max(1, _BLOCK // (_SEG * k))  # segments per call
        full = n // _SEG
        spans = [(a * _SEG, min(a + per_call, full) * _SEG, _SEG) for a in range(0, full, per_call)]
        if n % _SEG:
            spans.append((full * _SEG, n, n % _SEG))
        for r0, r1, seg in spans:
            rows, m = r1 - r0, (r1 - r0) // seg
            size = rows * k
            V = {name: b[:size].reshape(rows, k) for name, b in self.flat.items()}
            V["neg"] = self.neg_flat[:size].reshape(rows, k)
            Bs = [B[j, r0:r1] for j in range(d)]
            z = V["z"]
            np.multiply(Bs[0], th[0], out=z)
            for j in range(1, d):
                np.multiply(Bs[j], th[j], out=V["t"])
                np.add(z, V["t"], out=z)
            if self.spec is None:
                W = self.sums_flat[: (d + 1) * size].reshape(d + 1, rows, k)
                v, dphi = self.loss(z)
                np.copyto(W[0], v)
                for j in range(d):
                    np.multiply(dphi, Bs[j], out=W[1 + j])
                sums = _tree_reduce(W.reshape(d + 1, m, seg, k), np.add)  # (d + 1, m, k)
                phi, dsum = sums[0], sums[1:]
            else:
                phi, dsum = self._closed_form(z, V, Bs, m, seg, k)
                np.negative(dsum, out=dsum)
            for i in range(m):  # segment by segment, in order
                total += phi[i]
                grad += dsum[:, i]
        f[:] = total / n
        g[:] = grad.T / n

    def _closed_form(self, z, V, Bs, m: int, seg: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Per segment: ``sum phi(z)`` ``(m, k)`` and ``sum -phi'(z) B_j`` ``(d, m, k)``."""
        name, tau = self.spec
        d = len(Bs)
        rows = m * seg
        e, u, r, q, t, neg = V["e"], V["u"], V["r"], V["q"], V["t"], V["neg"]
        np.abs(z, out=e)
        np.minimum(e, _EXP_CUT, out=e)  # exp(-708) ~ 3.3e-308 is normal: avoids libm's slow
        np.negative(e, out=e)  # subnormal path; changes e by < 3.3e-308 where |z| > 708
        np.exp(e, out=e)  # e = exp(-|z|) in (0, 1]
        np.add(e, 1.0, out=u)  # 1 + e in (1, 2]
        np.divide(1.0, u, out=r)  # sigmoid(|z|)
        np.less(z, 0.0, out=neg)
        np.maximum(e, neg, out=q)
        np.multiply(q, r, out=q)  # sigmoid(-z) = -logistic'(z): 1/(1+e) if z < 0 else e/(1+e)
        if name == "logistic":  # phi = max(-z, 0) + log(1 + e); -phi' = sigmoid(-z)
            W = self.sums_flat[: (d + 1) * rows * k].reshape(d + 1, rows, k)
            np.minimum(z, 0.0, out=W[0])  # -max(-z, 0)
            for j in range(d):
                np.multiply(q, Bs[j], out=W[1 + j])
            sums = _tree_reduce(W.reshape(d + 1, m, seg, k), np.add)
            logs = np.log(_tree_reduce(u.reshape(m, seg, k), np.multiply))
            return logs - sums[0], sums[1:]
        W = self.sums_flat[: (d + 3) * rows * k].reshape(d + 3, rows, k)
        m_low, mh = W[0], V["mh"]  # m_low: 1.0 on low rows (its sum counts them)
        if name == "huberised":  # low (z <= z0): phi = c - tau z, -phi' = tau; else logistic
            z0 = math.log((1.0 - tau) / tau)
            c = -math.log1p(-tau) - tau * math.log(tau / (1.0 - tau))
            np.less_equal(z, z0, out=m_low)
            np.subtract(1.0, m_low, out=mh)
            np.multiply(m_low, z, out=W[1])
            np.multiply(q, mh, out=q)
            np.multiply(m_low, tau, out=r)
            np.add(q, r, out=q)  # exactly tau on low rows, sigmoid(-z) on the others
            c_low, c_lin = c, -tau
        else:  # partially_huberised, low (z <= z0): phi = 1 + log tau - tau p; -phi' = q min(tau p, 1)
            z0 = -math.log(tau - 1.0)
            p = V["p"]
            np.logical_not(neg, out=neg)
            np.maximum(e, neg, out=p)
            np.multiply(p, r, out=p)  # p = sigmoid(z): 1/(1+e) if z >= 0 else e/(1+e)
            np.less_equal(z, z0, out=m_low)
            np.subtract(1.0, m_low, out=mh)
            np.multiply(m_low, p, out=W[1])
            np.multiply(p, tau, out=p)
            np.minimum(p, 1.0, out=p)
            np.multiply(q, p, out=q)
            c_low, c_lin = 1.0 + math.log(tau), -tau
        # the logistic part on the high rows: max(-z, 0) + log(1 + e)
        if z0 < 0.0:  # high rows with z in (z0, 0) have max(-z, 0) > 0
            np.minimum(z, 0.0, out=t)
            np.multiply(t, mh, out=W[2])
        else:  # z > z0 >= 0 on every high row: max(-z, 0) = 0
            W[2] = 0.0
        for j in range(d):
            np.multiply(q, Bs[j], out=W[3 + j])
        np.multiply(u, mh, out=u)
        np.add(u, m_low, out=u)  # 1 + e on high rows, exactly 1 on low rows
        sums = _tree_reduce(W.reshape(d + 3, m, seg, k), np.add)
        logs = np.log(_tree_reduce(u.reshape(m, seg, k), np.multiply))
        return c_low * sums[0] + c_lin * sums[1] - sums[2] + logs, sums[3:]


def _closed_form_values(loss, spec, z) -> tuple[np.ndarray, np.ndarray]:
    """``(phi(z), phi'(z))`` elementwise through the closed-form kernel (for checks and tests)."""
    z = np.asarray(z, dtype=float).ravel()
    k = z.size
    f, g = np.empty(k), np.empty((k, 1))
    ev = _Evaluator(loss, spec, 1)
    for a in range(0, k, _BLOCK // _SEG):
        b = min(a + _BLOCK // _SEG, k)
        ev(np.ones((1, 1, b - a)), z[a:b, None], f[a:b], g[a:b])
    return f, g[:, 0]


def _closed_form_matches(loss, spec) -> bool:
    """Whether the closed-form kernel reproduces ``loss(z)`` on probe margins.

    Tolerances: ``phi'`` to 1e-12 relative (the kernel is accurate to a few ulp, except below
    ``3.3e-308`` where ``|z| > 708``); ``phi`` to 1e-12 relative or 1e-15 absolute (the kernel sums
    ``log(1 + e)`` as a log of products, exact to ~1e-16 absolute per example).
    """
    name, tau = spec
    z0 = {"logistic": 0.0, "huberised": math.log((1 - tau) / tau) if tau < 1 else 0.0,
          "partially_huberised": -math.log(tau - 1.0) if tau > 1 else 0.0}[name]
    z = np.array([-1e3, -40.0, -5.0, -1.0, -1e-3, 0.0, 1e-3, 0.5, 1.0, 3.0, 20.0, 40.0, 700.0])
    z = np.concatenate([z, z0 + np.array([-1e-9, 0.0, 1e-9, -0.3, 0.3])])
    try:
        v_ref, d_ref = (np.asarray(a, dtype=float) for a in loss(z))
    except Exception:  # noqa: BLE001 - any failure means: use the generic path
        return False
    v, dv = _closed_form_values(loss, spec, z)
    return bool(
        np.allclose(v, v_ref, rtol=1e-12, atol=1e-15) and np.allclose(dv, d_ref, rtol=1e-12, atol=1e-300)
    )


class _BlockedEval:
    """Evaluates all trials (columns) of a ``(d, n, k)`` array in blocks of <= 256 trials.

    With ``threads > 1`` the blocks are shared among a thread pool (NumPy releases the GIL inside
    its loops); every block is computed exactly as without threads.
    """

    def __init__(self, loss, spec, d: int, threads: int):
        self.threads = threads
        self.cols = _BLOCK // _SEG  # trials per block at most
        self.evals = [_Evaluator(loss, spec, d) for _ in range(threads)]
        self.pool = ThreadPoolExecutor(threads) if threads > 1 else None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    def __call__(self, B: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = B.shape[2]
        f = np.empty(k)
        g = np.empty((k, B.shape[0]))
        nb = max(-(-k // self.cols), min(self.threads, k))  # at least one block per thread
        edges = [k * i // nb for i in range(nb + 1)]
        blocks = list(zip(edges[:-1], edges[1:]))

        def work(i: int) -> None:  # thread i takes blocks i, i + threads, ...
            ev = self.evals[i]
            for a, b in blocks[i :: self.threads]:
                ev(B[:, :, a:b], theta[a:b], f[a:b], g[a:b])

        if self.pool is None:
            work(0)
        else:
            list(self.pool.map(work, range(min(self.threads, len(blocks)))))
        return f, g


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


def _slsqp_chunk(evaluate: _BlockedEval, Bfull: np.ndarray, maxiter: int, acc: float = _ACC):
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
    nfev = np.zeros(T, dtype=np.int64)
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
        nfev[rows] += 1

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
    return x, f, nit, nfev, status


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def bytes_per_trial(n: int, d: int) -> int:
    """Working memory of one trial in :func:`fit_linear_trials`: ``16 n d`` bytes (see module doc)."""
    return 2 * 8 * n * d


def _check_inputs(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 3:
        raise ValueError(f"X.shape={X.shape} must be (T, n, d): trials, examples, features")
    if y.shape != X.shape[:2]:
        raise ValueError(f"y.shape={y.shape} must be (T, n) = {X.shape[:2]} to match X.shape={X.shape}")
    if 0 in X.shape:
        raise ValueError(f"X.shape={X.shape} must have T >= 1 trials, n >= 1 examples, d >= 1 features")
    if not np.all(np.abs(y) == 1.0):
        raise ValueError("y must contain only -1 and +1 labels")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite (found NaN or inf)")
    return X, y


def fit_linear_trials(
    loss, X, y, *, maxiter: int = 100, chunk_bytes: int | None = None, ftol: float = _ACC
) -> FastFitResult:
    """SciPy's SLSQP protocol for each trial (at most ``maxiter`` iterations from ``theta = 0``), batched.

    Minimises ``R_t(theta) = mean_i phi(y_ti <theta, x_ti>)`` for every trial ``t`` with the
    iteration SciPy's SLSQP performs without constraints (module docstring); equal to
    :func:`sandbox.train.fit_slsqp_trials` up to rounding.

    Shapes: ``X`` ``(T, n, d)``, ``y`` ``(T, n)`` in {-1, +1}; ``theta`` ``(T, d)``. ``loss`` is a
    :class:`~sandbox.losses.MarginLoss` (closed-form kernels for the paper's three losses) or any
    callable ``z -> (phi(z), phi'(z))``. ``chunk_bytes`` (default 256 MiB) caps the working arrays:
    trials are fitted in chunks of ``max(1, chunk_bytes // bytes_per_trial(n, d))``, with results
    bitwise identical to one chunk. ``ftol`` is SciPy's SLSQP ``ftol`` (its ``acc``; default 1e-6 as
    in SciPy, i.e. the paper's protocol).
    """
    if not callable(loss):
        raise ValueError(f"loss={loss!r} must be a margin loss: a callable z -> (phi(z), phi'(z))")
    maxiter = check_positive_int("maxiter", maxiter)
    X, y = _check_inputs(X, y)
    if chunk_bytes is None:
        chunk_bytes = DEFAULT_CHUNK_BYTES
    chunk_bytes = check_positive_int("chunk_bytes", chunk_bytes)
    ftol = check_interval("ftol", ftol, 0.0, np.inf, low_open=True, high_open=True)
    return _fit(loss, X, y, maxiter=maxiter, chunk_bytes=chunk_bytes, threads=_THREADS, ftol=ftol)


def _fit(loss, X, y, *, maxiter: int, chunk_bytes: int, threads: int, ftol: float = _ACC) -> FastFitResult:
    T, n, d = X.shape
    spec = _closed_form_spec(loss)
    if spec is not None and not _closed_form_matches(loss, spec):
        spec = None  # a MarginLoss named like a paper loss but computing something else
    per = max(1, chunk_bytes // bytes_per_trial(n, d))
    evaluate = _BlockedEval(loss, spec, d, threads)
    parts = []
    try:
        for a in range(0, T, per):
            b = min(a + per, T)
            Bc = np.empty((d, n, b - a))  # y * X, one column per trial
            for j in range(d):
                np.multiply(X[a:b, :, j].T, y[a:b].T, out=Bc[j])
            parts.append(_slsqp_chunk(evaluate, Bc, maxiter, ftol))
    finally:
        evaluate.close()
    theta, risk, nit, nfev, status = (np.concatenate(c) for c in zip(*parts))
    kernel = "generic" if spec is None else f"closed-form {spec[0]}"
    return FastFitResult(theta, risk, nit, nfev, status, kernel, len(parts))


def fig2a_losses(preset) -> dict:
    """The paper's three losses at the preset's thresholds, keyed by name."""
    from .losses import paper_losses

    return paper_losses(tau_huberised=preset.tau_huberised, tau_partially_huberised=preset.tau_partially_huberised)


def fig2a_fast(preset, *, seed, trials: int | None = None, chunk_bytes: int | None = None) -> dict[str, np.ndarray]:
    """Per-trial clean test accuracy ``(trials,)`` of each of the paper's three losses (Fig. 2a).

    ``preset`` is a :class:`~sandbox.presets.Preset` or its name; ``trials`` overrides the
    preset's count. Trial ``t`` is trial ``t`` of :func:`sandbox.trials.long_servedio_trials` with
    this seed, fitted by :func:`fit_linear_trials` (the SLSQP protocol, batched); trials are drawn
    and fitted in chunks, so memory stays bounded for any number of trials.
    """
    from .presets import Preset, get_preset
    from .trials import long_servedio_trials, test_accuracy

    p = preset if isinstance(preset, Preset) else get_preset(preset)
    T = p.trials if trials is None else check_positive_int("trials", trials)
    cb = DEFAULT_CHUNK_BYTES if chunk_bytes is None else check_positive_int("chunk_bytes", chunk_bytes)
    data_bytes = 8 * (6 * p.n_train + 3 * p.n_test)  # X, y, clean y, groups; X_test, y_test
    per = max(1, cb // (bytes_per_trial(p.n_train, 2) + data_bytes))
    losses = fig2a_losses(p)
    out: dict[str, list] = {k: [] for k in losses}
    for a in range(0, T, per):
        data = long_servedio_trials(
            trials=min(per, T - a), n_train=p.n_train, n_test=p.n_test, rho=p.rho, seed=seed,
            gamma=p.gamma, sigma=p.sigma, first_trial=a,
        )
        for name, loss in losses.items():
            res = fit_linear_trials(loss, data.X_train, data.y_train, maxiter=p.slsqp_maxiter, chunk_bytes=cb)
            out[name].append(test_accuracy(res.theta, data.X_test, data.y_test))
    return {k: np.concatenate(v) for k, v in out.items()}
