"""Risk and gradient of many linear-model trials at once: the batched SLSQP solver's evaluator.

The solver (:mod:`sandbox.slsqp`) needs, for every unfinished trial ``t``, the mean margin loss and
its gradient::

    R_t(theta) = (1/n) sum_i phi(z_ti),   grad R_t = (1/n) sum_i phi'(z_ti) y_ti x_ti,   z_ti = y_ti <theta, x_ti>

Trials are stored column-wise, ``B = y * X`` as ``(d, n, k)`` (one column per trial), so that every
NumPy call is a long row operation. Any loss is evaluated through ``loss(z)`` (the generic path).

Fused kernels. For the paper's three losses the :class:`~sandbox.registry.MarginLoss` names a fused kernel
(``loss.kernel``) that evaluates the same formulas from one ``exp`` per example: with
``e = exp(-|z|)``, ``sigmoid(-z)`` is ``e/(1+e)`` or ``1/(1+e)`` and
``log(1 + e^-z) = max(-z, 0) + log(1 + e)``; ``sum_i log(1 + e_i)`` is the log of a product of at most
128 factors in ``(1, 2]`` (finite; error ~1e-16 absolute on the mean). The switch points and linear
pieces are the loss module's (:func:`~sandbox.losses.huberised_logistic_switch`,
:func:`~sandbox.losses.huberised_linear_piece`, :func:`~sandbox.losses.phuber_logistic_switch`). A fused
kernel is used only if it reproduces ``loss(z)`` on probe margins (:func:`closed_form_matches`); it is
about 2.8 times faster than the generic path at the paper's sizes.

Determinism. Sums run over fixed segments of 128 examples, each reduced by a fixed pairwise tree, and
segments are added in order: a trial's arithmetic depends on its own data and ``n`` alone, never on the
other trials in the call, so chunked and one-shot fits are bitwise identical.
"""

from __future__ import annotations

import math

import numpy as np

from .losses import huberised_linear_piece, phuber_logistic_switch

__all__ = ["BlockedEval", "kernel_spec", "closed_form_values", "closed_form_matches", "SEG"]

SEG = 128  # examples per summation segment (fixed: results depend on n alone; 2**128 is finite)
_BLOCK = 32768  # doubles per scratch array (256 KiB): up to 256 trials x 128 examples per call
_EXP_CUT = 708.0  # exp(-708) ~ 3.3e-308 is normal; libm's exp is ~3x slower where its result is not


def kernel_spec(loss) -> tuple[str, float] | None:
    """``(kernel, tau)`` of the fused kernel ``loss`` names (``loss.kernel``), or ``None`` (generic).

    The Huberised loss with ``tau >= 1`` is plain logistic (nothing is clipped).
    """
    kernel = getattr(loss, "kernel", None)
    if kernel not in ("logistic", "huberised", "phuber"):
        return None
    tau = getattr(loss, "tau", None)
    if kernel == "logistic":
        return "logistic", math.nan
    if tau is None:
        return None
    return ("logistic", math.nan) if kernel == "huberised" and tau >= 1.0 else (kernel, float(tau))


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

    The examples are cut into segments of ``SEG`` rows (the last may be shorter); each segment's
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
        """Write ``f`` ``(k,)``, ``g`` ``(k, d)`` at ``theta`` ``(k, d)``; ``B`` ``(d, n, k)``, ``k <= _BLOCK // SEG``."""
        d, n, k = B.shape
        th = [np.ascontiguousarray(theta[:, j]) for j in range(d)]
        total = np.zeros(k)
        grad = np.zeros((d, k))
        per_call = max(1, _BLOCK // (SEG * k))  # segments per call
        full = n // SEG
        spans = [(a * SEG, min(a + per_call, full) * SEG, SEG) for a in range(0, full, per_call)]
        if n % SEG:
            spans.append((full * SEG, n, n % SEG))
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
            z0, c = huberised_linear_piece(tau=tau)
            np.less_equal(z, z0, out=m_low)
            np.subtract(1.0, m_low, out=mh)
            np.multiply(m_low, z, out=W[1])
            np.multiply(q, mh, out=q)
            np.multiply(m_low, tau, out=r)
            np.add(q, r, out=q)  # exactly tau on low rows, sigmoid(-z) on the others
            c_low, c_lin = c, -tau
        else:  # phuber, low (z <= z0): phi = 1 + log tau - tau p; -phi' = q min(tau p, 1)
            z0 = phuber_logistic_switch(tau=tau)
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


def closed_form_values(loss, spec, z) -> tuple[np.ndarray, np.ndarray]:
    """``(phi(z), phi'(z))`` elementwise through the closed-form kernel (for checks and tests)."""
    z = np.asarray(z, dtype=float).ravel()
    k = z.size
    f, g = np.empty(k), np.empty((k, 1))
    ev = _Evaluator(loss, spec, 1)
    for a in range(0, k, _BLOCK // SEG):
        b = min(a + _BLOCK // SEG, k)
        ev(np.ones((1, 1, b - a)), z[a:b, None], f[a:b], g[a:b])
    return f, g[:, 0]


def closed_form_matches(loss, spec) -> bool:
    """Whether the closed-form kernel reproduces ``loss(z)`` on probe margins.

    Tolerances: ``phi'`` to 1e-12 relative (the kernel is accurate to a few ulp, except below
    ``3.3e-308`` where ``|z| > 708``); ``phi`` to 1e-12 relative or 1e-15 absolute (the kernel sums
    ``log(1 + e)`` as a log of products, exact to ~1e-16 absolute per example).
    """
    name, tau = spec
    z0 = {"logistic": 0.0, "huberised": huberised_linear_piece(tau=tau)[0] if tau < 1 else 0.0,
          "phuber": phuber_logistic_switch(tau=tau) if tau > 1 else 0.0}[name]
    z = np.array([-1e3, -40.0, -5.0, -1.0, -1e-3, 0.0, 1e-3, 0.5, 1.0, 3.0, 20.0, 40.0, 700.0])
    z = np.concatenate([z, z0 + np.array([-1e-9, 0.0, 1e-9, -0.3, 0.3])])
    try:
        v_ref, d_ref = (np.asarray(a, dtype=float) for a in loss(z))
    except Exception:  # noqa: BLE001 - any failure means: use the generic path
        return False
    v, dv = closed_form_values(loss, spec, z)
    return bool(
        np.allclose(v, v_ref, rtol=1e-12, atol=1e-15) and np.allclose(dv, d_ref, rtol=1e-12, atol=1e-300)
    )


class BlockedEval:
    """Evaluates all trials (columns) of a ``(d, n, k)`` array in blocks of <= 256 trials.

    ``loss`` is used through its fused kernel when it names one that reproduces it
    (:func:`kernel_spec`, :func:`closed_form_matches`), else through ``loss(z)``; :attr:`kernel`
    says which (``"fused <name>"`` or ``"generic"``).
    """

    def __init__(self, loss, d: int):
        spec = kernel_spec(loss)
        if spec is not None and not closed_form_matches(loss, spec):
            spec = None  # a loss naming a kernel but computing something else
        self.kernel = "generic" if spec is None else f"fused {spec[0]}"
        self.cols = _BLOCK // SEG  # trials per block at most
        self.evaluate = _Evaluator(loss, spec, d)

    def __call__(self, B: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Risk ``(k,)`` and gradient ``(k, d)`` of the trials ``B`` ``(d, n, k)`` at ``theta`` ``(k, d)``."""
        k = B.shape[2]
        f = np.empty(k)
        g = np.empty((k, B.shape[0]))
        nb = -(-k // self.cols)  # blocks of near-equal size, at most self.cols trials each
        edges = [k * i // nb for i in range(nb + 1)]
        for a, b in zip(edges[:-1], edges[1:]):
            self.evaluate(B[:, :, a:b], theta[a:b], f[a:b], g[a:b])
        return f, g
