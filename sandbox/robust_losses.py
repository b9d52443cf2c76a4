"""Binary margin forms of the robust losses of the label-noise literature.

Every function maps margins ``z = y * s(x)`` (labels ``y in {-1, +1}``) to ``(phi(z), phi'(z))``, as in
:mod:`sandbox.losses`: vectorised over any shape, finite, accurate and warning-free for ``|z|`` up to
``1e6`` (and, for the bounded ones, at ``+-inf``), NaN for a NaN margin, silently. ``p = sigmoid(z)`` is
the probability the model gives to the observed label, ``1 - p = sigmoid(-z)``. Hyperparameters are
keyword-only and validated (``ValueError`` naming the parameter, its value and its domain).

===========  ================================================  =======================  ========  ========  =========
name         phi(z)                                            parameters (default)     convex    bounded   symmetric
===========  ================================================  =======================  ========  ========  =========
ramp         min(2, max(0, 1 - z))                             --                       no        yes       yes (2)
squared      (1 - z)^2                                         --                       yes       no        no
sce          alpha log(1 + e^-z) - A beta (1 - p)              alpha (0.1), beta (1),   (*)       alpha=0   alpha=0
                                                               A (-4)
nce          log p / (log p + log(1 - p))                      --                       no        yes       yes (1)
nce_mae      alpha NCE + beta (1 - p)                          alpha (1), beta (1)      no        yes       yes
nce_rce      alpha NCE - A beta (1 - p)                        alpha (1), beta (1),     no        yes       yes
                                                               A (-4)
taylor_ce    sum_{i=1..k} (1 - p)^i / i                        k (integer >= 1)         no        yes       k = 1
logit_clip   log(1 + e^-clip(z, -delta, delta))                delta (1)                no        yes       no
bi_tempered  -log_t1(p) - (1 - p^(2-t1) - q^(2-t1)) / (2-t1)   t1 in [0, 1],            t1=t2=1   t1 < 1    no
             with p = sigma_t2(z), q = 1 - p                   t2 in [1, 100]
t_logistic   -log sigma_t(z)                                   t in [1, 100]            t = 1     no        no
===========  ================================================  =======================  ========  ========  =========

(*) ``sce`` is convex iff ``alpha >= beta |A|``: ``phi'' = p (1 - p) (alpha + beta |A| (1 - 2 (1 - p)))``.
"Symmetric" means ``phi(z) + phi(-z)`` is a constant (the number in brackets), the condition under which
risk minimisation is tolerant to symmetric label noise (Ghosh, Manwani & Sastry 2015; Ghosh, Kumar &
Sastry 2017). ``sigma_t`` is the tempered sigmoid, solved numerically (the section on tempered losses).

The sigmoid / MAE loss. The *sigmoid loss* of Ghosh, Manwani & Sastry (2015) is ``sigmoid(-z) = 1 - p``,
which is the paper's ``linear`` loss (:func:`sandbox.losses.linear`, registry name ``linear``). The binary
case of the multiclass MAE of Ghosh, Kumar & Sastry (2017), ``||e_y - softmax||_1 = 2 (1 - p_y)``, is twice
it. That factor changes no minimiser, no robustness property and no direction of descent (it is a
learning-rate, or clipping-threshold, factor of 2), so MAE is not registered as a separate loss: use
``linear`` (and double its weight where a formula asks for MAE). The active-passive losses below follow
the authors' code, whose "MAE" term is the reduced ``1 - p_y`` (see :func:`nce_mae`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_expit

from ._checks import check_interval, check_positive_int
from .losses import _nan_quiet, _z

__all__ = ["ramp", "squared", "sce", "nce", "nce_mae", "nce_rce", "taylor_ce", "logit_clip",
           "bi_tempered", "t_logistic", "tempered_sigmoid", "sce_is_convex", "MAX_NEWTON", "T_MAX"]

_BIG = 1e300  # margins are clipped to +-_BIG where that makes +-inf behave as their limits


def _nonneg(name: str, value) -> float:
    return check_interval(name, value, 0.0, np.inf, high_open=True)


def _weights(alpha, beta) -> tuple[float, float]:
    alpha, beta = _nonneg("alpha", alpha), _nonneg("beta", beta)
    if alpha == 0.0 and beta == 0.0:
        raise ValueError("alpha=0 and beta=0: the loss would be identically zero; give one of them > 0")
    return alpha, beta


def _clamp(A) -> float:
    return check_interval("A", A, -np.inf, 0.0, low_open=True, high_open=True,
                          hint="A stands for log 0, a negative constant")


# --------------------------------------------------------------------------------------------------
# Symmetric piecewise-linear and the squared loss
# --------------------------------------------------------------------------------------------------


@_nan_quiet
def ramp(z) -> tuple[np.ndarray, np.ndarray]:
    """Ramp loss ``phi(z) = min(2, max(0, 1 - z)) = (1 - z)_+ - (-1 - z)_+`` (Ghosh, Manwani & Sastry
    2015; the hinge loss capped at 2).

    ``phi'(z) = -1`` on ``[-1, 1]`` and 0 outside; at the kinks ``z = +-1`` the derivative of the middle
    piece is taken (what automatic differentiation of ``clip(1 - z, 0, 2)`` returns). Symmetric:
    ``phi(z) + phi(-z) = 2``. Bounded, not convex.
    """
    z = _z(z)
    inside = (z >= -1.0) & (z <= 1.0)
    return np.clip(1.0 - z, 0.0, 2.0), np.where(np.isnan(z), np.nan, np.where(inside, -1.0, 0.0))


@_nan_quiet
def squared(z) -> tuple[np.ndarray, np.ndarray]:
    """Squared loss ``phi(z) = (1 - z)^2``, ``phi'(z) = -2 (1 - z)`` (for ``y = +-1`` it is ``(y - s)^2``).

    Manwani & Sastry (2013) show that its risk minimiser over linear classifiers is tolerant to uniform
    (symmetric) label noise. Convex, unbounded (``inf``, silently, beyond ``|z| ~ 1.3e154`` where the
    square overflows), not symmetric: ``phi(z) + phi(-z) = 2 + 2 z^2``.
    """
    z = _z(z)
    with np.errstate(over="ignore"):
        return (1.0 - z) ** 2, -2.0 * (1.0 - z)


# --------------------------------------------------------------------------------------------------
# Symmetric cross-entropy and the active-passive losses (composite: functions of p = sigmoid(z))
# --------------------------------------------------------------------------------------------------


def sce_is_convex(*, alpha: float, beta: float, A: float) -> bool:
    """``sce`` is convex iff ``alpha >= beta |A|`` (the RCE part ``|A| sigmoid(-z)`` is concave for z < 0)."""
    return float(alpha) >= float(beta) * abs(float(A))


@_nan_quiet
def sce(z, *, alpha: float = 0.1, beta: float = 1.0, A: float = -4.0) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric cross-entropy (Wang et al. 2019, their ``l_sl = alpha l_ce + beta l_rce``), binary::

        phi(z)  = alpha log(1 + e^-z) - A beta (1 - p),            p = sigmoid(z)
        phi'(z) = -(1 - p) (alpha - A beta p)

    RCE is the reverse cross-entropy ``-sum_k p_k log q_k`` of the model's distribution against the
    one-hot label, with ``log 0`` replaced by the constant ``A < 0``; it is ``-A (1 - p_y)``.
    Defaults: ``alpha = 0.1, beta = 1`` (CIFAR-10: the authors' PyTorch reproduction, HanxunH/SCELoss-Reproduce,
    and Ma et al.'s configs/cifar10/sym/sce.yaml), ``A = -4`` (the value the papers state). The authors'
    code clamps the one-hot label at ``1e-4`` before a *natural* log, i.e. ``A = log(1e-4) = -9.21``;
    pass ``A=math.log(1e-4)`` to reproduce the code. ``alpha, beta >= 0``
    (not both 0), ``A < 0``. Bounded iff ``alpha = 0``; convex iff ``alpha >= beta |A|``
    (:func:`sce_is_convex`); symmetric iff ``alpha = 0``.
    """
    alpha, beta = _weights(alpha, beta)
    A = _clamp(A)
    z = _z(z)
    q = expit(-z)
    ce = alpha * np.logaddexp(0.0, -z) if alpha != 0.0 else 0.0  # (0 * inf at z = -inf would be NaN)
    return ce - A * beta * q, -q * (alpha - A * beta * expit(z))


def _nce(z) -> tuple[np.ndarray, np.ndarray]:
    """``(NCE, NCE')`` with ``NCE = a / (a + b)``, ``a = log p``, ``b = log(1 - p)``.

    ``NCE' = (q b + p a) / (a + b)^2 = (q (1 - NCE) + p NCE) / (a + b)`` (``a' = q``, ``b' = -p``), the last
    form free of overflow. ``a + b <= -2 log 2``, so nothing divides by zero; margins are clipped to
    ``+-1e300`` so that ``+-inf`` give the limits (``NCE(+inf) = 0``, ``NCE(-inf) = 1``, ``NCE' = 0``).
    """
    z = np.clip(_z(z), -_BIG, _BIG)
    a, b = log_expit(z), log_expit(-z)
    s = a + b
    n = a / s
    return n, (expit(-z) * (1.0 - n) + expit(z) * n) / s


@_nan_quiet
def nce(z) -> tuple[np.ndarray, np.ndarray]:
    """Normalised cross-entropy (Ma et al. 2020: CE divided by its sum over the labels), binary::

        phi(z) = log p / (log p + log(1 - p)) = log(1 + e^-z) / (log(1 + e^-z) + log(1 + e^z))

    CE divided by its sum over both labels, so ``phi(z) + phi(-z) = 1`` (symmetric), values in ``[0, 1]``,
    ``phi(0) = 1/2``. ``phi'(z) = ((1 - p)(1 - phi) + p phi) / (log p + log(1 - p)) < 0``. Bounded, not
    convex. Computed from ``log_expit`` (no cancellation: ``phi(40) = e^-40 / 40`` to rounding).
    """
    return _nce(z)


@_nan_quiet
def nce_mae(z, *, alpha: float = 1.0, beta: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Active-passive loss NCE + MAE (Ma et al. 2020), binary, as in the authors' code::

        phi(z) = alpha NCE(z) + beta (1 - p)

    The authors' code uses the "reduced MAE" ``1 - p_y`` (the paper's ``MAE = 2 (1 - p_y)`` halved), and
    its ``beta`` multiplies that: the paper's formula with the same ``beta`` is this loss at ``2 beta``.
    Defaults ``alpha = beta = 1``: the authors' CIFAR-10 configuration (configs/cifar10/sym/nce+mae.yaml of
    HanxunH/Active-Passive-Losses). Symmetric (``phi(z) + phi(-z) = alpha + beta``), bounded, not convex.
    ``alpha, beta >= 0``, not both 0.
    """
    alpha, beta = _weights(alpha, beta)
    n, dn = _nce(z)
    z = _z(z)
    q = expit(-z)
    return alpha * n + beta * q, alpha * dn - beta * q * expit(z)


@_nan_quiet
def nce_rce(z, *, alpha: float = 1.0, beta: float = 1.0, A: float = -4.0) -> tuple[np.ndarray, np.ndarray]:
    """Active-passive loss NCE + RCE (Ma et al. 2020), binary::

        phi(z) = alpha NCE(z) - A beta (1 - p)

    with RCE as in :func:`sce` (``log 0 := A``; the code's clamp gives ``A = log(1e-4)``, the papers state
    ``A = -4``, the default here). Defaults ``alpha = beta = 1``: the authors' CIFAR-10 configuration
    (configs/cifar10/sym/nce+rce.yaml).
    Symmetric (``phi(z) + phi(-z) = alpha - A beta``), bounded, not convex.
    """
    alpha, beta = _weights(alpha, beta)
    A = _clamp(A)
    n, dn = _nce(z)
    z = _z(z)
    q = expit(-z)
    return alpha * n - A * beta * q, alpha * dn + A * beta * q * expit(z)


def _order(k) -> int:
    return check_positive_int("k", k)


@_nan_quiet
def taylor_ce(z, *, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Taylor cross-entropy of order ``k`` (Feng et al. 2020: the order-k Taylor
    series of CE around p = 1), binary, with ``u = 1 - p``::

        phi(z)  = sum_{i=1..k} u^i / i           (the first k terms of -log p = -log(1 - u))
        phi'(z) = -u (1 - u^k)

    (``d u / d z = -p u`` and ``sum_{i<k} u^i = (1 - u^k) / p``). ``k = 1`` is the linear loss
    ``1 - p`` (symmetric); ``k -> inf`` is logistic. Bounded by the harmonic number ``H_k`` (at
    ``z -> -inf``), not convex, not symmetric for ``k >= 2``. ``k`` an integer ``>= 1``, required (the
    paper tunes it); the sum is evaluated by Horner's rule, all terms positive, in ``O(k)``.
    """
    k = _order(k)
    z = _z(z)
    u = expit(-z)
    acc = np.full_like(u, 1.0 / k)
    for i in range(k - 1, 0, -1):
        acc = 1.0 / i + u * acc
    return u * acc, u * np.expm1(k * log_expit(-z))  # expm1(k log u) = u^k - 1 <= 0


# --------------------------------------------------------------------------------------------------
# LogitClip
# --------------------------------------------------------------------------------------------------


def _delta(delta) -> float:
    return check_interval("delta", delta, 0.0, np.inf, low_open=True, high_open=True,
                          hint="the bound on the logit's norm")


@_nan_quiet
def logit_clip(z, *, delta: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """LogitClip (Wei et al. 2023) with one logit, binary::

        phi(z)  = log(1 + exp(-clip(z, -delta, delta)))
        phi'(z) = -sigmoid(-z) on [-delta, delta], 0 outside

    Wei et al. clamp the logit *vector* ``f`` to norm ``delta = 1/tau``: ``f min(1, delta / ||f||)``
    before the cross-entropy. With a single score ``s`` that is ``clip(s, -delta, delta)``, and
    ``y clip(s) = clip(y s)``. (The multiclass form, :func:`sandbox.multiclass.logit_clip`, clamps the
    vector; with two logits it is *not* this loss of ``f_y - f_other``.) At ``z = +-delta`` the inner
    derivative is taken. ``delta > 0``; default 1: the authors' code's default (hongxin001/LogitClip,
    ``--temp 1``, bound ``1/temp``). Bounded (``log(1 + e^delta)`` at ``-inf``), not convex (``phi'`` jumps down at
    ``-delta``), not symmetric.
    """
    delta = _delta(delta)
    z = _z(z)
    inside = np.abs(z) <= delta
    d = np.where(inside, -expit(-z), 0.0)
    return np.logaddexp(0.0, -np.clip(z, -delta, delta)), np.where(np.isnan(z), np.nan, d)


# --------------------------------------------------------------------------------------------------
# Tempered losses: the bi-tempered logistic loss and t-logistic regression
# --------------------------------------------------------------------------------------------------
# Both replace the sigmoid by the *tempered sigmoid* ``sigma_t``, the two-class tempered softmax (Ding &
# Vishwanathan 2010; Amid, Warmuth, Anil & Koren 2019) with the heavy-tailed exponential
#
#     exp_t(x) = [1 + (1 - t) x]_+^(1/(1-t)),     log_t(x) = (x^(1-t) - 1) / (1 - t)      (t = 1: exp, log).
#
# With logits ``(z, 0)`` (own class, other class) the tempered softmax is ``p_i = exp_t(a_i - lambda_t)``,
# where the normaliser ``lambda_t`` makes ``p_own + p_other = 1``; taking ``log_t`` of both,
# ``p = sigma_t(z)`` is the root in ``(0, 1)`` of
#
#     log_t(p) - log_t(1 - p) = z,                                                             (*)
#
# so ``sigma_t(-z) = 1 - sigma_t(z)``, ``sigma_1`` is the sigmoid, and for ``t > 1`` the tails are
# polynomial: ``sigma_t(-|z|) ~ ((t - 1)|z|)^(-1/(t-1))``. Every function here depends on ``z`` only
# (the tempered softmax is shift-invariant), so these are margin losses of ``z = y * score``.
#
# ``lambda_t`` (equivalently ``p``) has no closed form for ``t > 1`` (:func:`tempered_sigmoid`). We solve
# (*) for the *smaller* probability ``q = sigma_t(-|z|)`` in the variable ``m = q^(-s) - 1``, ``s = t - 1``:
# (*) reads ``E(m) = m - expm1(-s log1p(-q(m))) = s |z|`` with ``q(m) = (1 + m)^(-1/s)``. ``E`` is
# increasing and concave with ``1 < E'(m) = 1 + (q / (1 - q))^t <= 2``, so Newton's method started at
# ``m0 = 2^s - 1 + s|z|`` (to the right of the root, since ``E' >= 1``) takes one step to the left of the
# root, never below ``2^s - 1`` (since ``E' <= 2``), and then increases monotonically and quadratically to
# it: a vectorised iteration, run until no entry still climbs by more than its rounding level
# (5-6 steps for all ``|z| <= 1e300``, ``1 < t <= 100``; :data:`MAX_NEWTON` is a safety net). ``log q`` is
# then ``-log1p(m) / s``, accurate to a few ulps, and ``log(1 - q) = log1p(-q)``: both probabilities and
# their logarithms are accurate even where one of them underflows. (The authors' code runs 5 iterations
# of a fixed-point map by default; measured against this solver that leaves relative errors in ``p`` up
# to ~5e-6 at ``t = 2`` and ~2e-4 at ``t = 4`` for ``|z| <= 100``; 50 iterations agree to ~4e-15.)

MAX_NEWTON = 60  # a safety net: 5-6 steps converge for every |z| <= 1e300 and 1 < t <= 100
_SERIES_BELOW = 0.1  # lambda below which the bi-tempered value near p = 1 is summed as a series
_SERIES_TERMS = 18  # (r lambda)^n / (n + 2)! < 1e-22 relative for r <= 2, lambda < 0.1 after this many
T_MAX = 100.0  # the solver works with q^-(t-1) >= 2^(t-1): beyond t ~ 1000 that overflows


def _t2(name: str, t) -> float:
    return check_interval(name, t, 1.0, T_MAX,
                          hint="t = 1 is the sigmoid, t > 1 has heavy (polynomial) tails")


def _small_log_prob(a: np.ndarray, t: float) -> np.ndarray:
    """``log sigma_t(-a)`` for ``a = |z| >= 0``: the log of the smaller tempered-sigmoid probability."""
    if t == 1.0:
        return log_expit(-a)
    s = t - 1.0
    # far out (s a would overflow) m = s a up to a relative s q ~ 0: log1p(m) = log s + log a
    far = a > 1e300 / max(s, 1.0)
    c = s * np.where(far, 0.0, a)
    m = np.expm1(s * np.log(2.0)) + c  # to the right of the root (see the module docstring)
    # the residual is known to ~ (1 + s) eps m: m and expm1(-s log1p(-q)) cancel down to s|z|, and the
    # second amplifies the rounding of log1p(-q) by s; q = (1 + m)^(-1/s) is still accurate to ~eps
    tol = 4.0 * (1.0 + s) * np.finfo(float).eps
    for i in range(MAX_NEWTON):
        log_q = -np.log1p(m) / s  # q itself may underflow; its log does not
        q = np.exp(log_q)
        e = m - np.expm1(-s * np.log1p(-q)) - c
        slope = 1.0 + np.exp(t * (log_q - np.log1p(-q)))  # 1 + (q / (1 - q))^t, in (1, 2]
        step = -e / slope  # after the first step, >= 0 up to rounding (monotone from the left)
        m = m + step
        # converged: no entry still climbing by more than rounding; NaN margins count as converged
        if i > 0 and not np.any(step > tol * m):
            break
    return np.where(far, -(np.log(s) + np.log(np.where(far, a, 1.0))) / s, -np.log1p(m) / s)


@_nan_quiet
def tempered_sigmoid(z, *, t: float) -> tuple[np.ndarray, np.ndarray]:
    """``(log sigma_t(z), log sigma_t(-z))``: the logs of the two-class tempered softmax of ``(z, 0)``.

    ``sigma_t(z)`` is the root ``p`` of ``log_t(p) - log_t(1 - p) = z`` (the comment opening this section),
    ``t in [1, 100]``; ``t = 1`` is the sigmoid. Solved to machine precision by a vectorised, monotonically
    convergent Newton iteration; both logs are accurate where either probability underflows.

    >>> [round(float(np.exp(v)), 12) for v in tempered_sigmoid(0.0, t=2.0)]
    [0.5, 0.5]
    """
    t = _t2("t", t)
    z = _z(z)
    log_small = _small_log_prob(np.abs(z), t)
    log_large = np.log1p(-np.exp(log_small))
    pos = z >= 0
    return np.where(pos, log_large, log_small), np.where(pos, log_small, log_large)


def _pow(log_x: np.ndarray, e: float) -> np.ndarray:
    """``x^e`` from ``log x`` (``e = 0`` gives 1 even where ``x = 0``)."""
    return np.ones_like(log_x) if e == 0.0 else np.exp(e * log_x)


def _tempered_deriv(log_p, log_q, z, t1: float, t2: float) -> np.ndarray:
    """``phi'(z) = -q (p^-t1 + q^-t1) / (p^-t2 + q^-t2)`` (own ``p``, other ``q``), without overflow.

    With ``a = min(p, q)``, ``b = max(p, q)``, ``rho = a / b``: ``-q a^(t2-t1) (1 + rho^t1) / (1 + rho^t2)``.
    """
    pos = z >= 0
    log_a, log_b = np.where(pos, log_q, log_p), np.where(pos, log_p, log_q)
    log_rho = log_a - log_b
    ratio = _pow(log_a, t2 - t1) * (1.0 + _pow(log_rho, t1)) / (1.0 + _pow(log_rho, t2))
    return -np.exp(log_q) * ratio


def _t1(t1) -> float:
    return check_interval("t1", t1, 0.0, 1.0, hint="t1 < 1 bounds the loss; t1 = 1 is the log loss")


def _neg_log_t(log_x: np.ndarray, t: float) -> np.ndarray:
    """``-log_t(x) = (1 - x^(1-t)) / (1 - t)`` from ``log x`` (``-log x`` at ``t = 1``)."""
    c = 1.0 - t
    return -log_x if c == 0.0 else -np.expm1(c * log_x) / c


def _gap_near_one(lam: np.ndarray, c: float) -> np.ndarray:
    """``D = -log_t1(w) - (1 - w^r)/r`` at ``w = e^-lam`` (``r = 1 + c``, ``c = 1 - t1``), no cancellation.

    ``D = int_0^(1-w) y (1-y)^(c-1) dy >= 0``; for ``lam < 0.1`` the series
    ``lam^2 sum_n (-1)^n (r^(n+1) - c^(n+1)) lam^n / (n+2)!``, else the closed form (which then loses at
    most a factor ``2 / lam <= 20`` in relative accuracy).
    """
    r = 1.0 + c
    small = lam < _SERIES_BELOW
    x = np.where(small, lam, 0.0)
    series = np.zeros_like(x)
    fact = 2.0
    for n in range(_SERIES_TERMS):
        series = series + (-1.0) ** n * (r ** (n + 1) - c ** (n + 1)) * x**n / fact
        fact *= n + 3
    first = lam if c == 0.0 else -np.expm1(-c * lam) / c
    closed = first + np.expm1(-r * lam) / r
    return np.where(small, x * x * series, closed)


@_nan_quiet
def bi_tempered(z, *, t1: float, t2: float) -> tuple[np.ndarray, np.ndarray]:
    """Bi-tempered logistic loss (Amid et al. 2019: the Bregman divergence of the tempered
    softmax from the one-hot label), binary::

        phi(z) = -log_t1(p) - (1 - p^(2-t1) - q^(2-t1)) / (2 - t1),   p = sigma_t2(z), q = 1 - p

        phi'(z) = -q (p^-t1 + q^-t1) / (p^-t2 + q^-t2)

    the authors' two-class loss at logits ``(z, 0)`` with one-hot label (their binary function stacks
    ``(0, activation)``; by shift invariance only the margin matters). ``t1 in [0, 1]`` (``t1 < 1``:
    bounded, ``phi(-inf) = 1/(1 - t1)``), ``t2 in [1, 100]`` (``t2 > 1``: heavy-tailed link, solved
    numerically: the comment opening this section). ``t1 = t2 = 1`` is logistic; ``t1 = 1`` is
    :func:`t_logistic` at ``t = t2``. Non-negative (a Bregman divergence); convex only at
    ``t1 = t2 = 1``. No defaults: the paper tunes both temperatures per task.

    Near ``p = 1`` the value is a difference of nearly equal terms; it is evaluated as
    ``D(lambda) + q^(2-t1)/(2-t1)`` with ``lambda = -log p`` and ``D`` summed without cancellation, so
    it is relatively accurate for large margins too.
    """
    t1, t2 = _t1(t1), _t2("t2", t2)
    z = _z(z)
    log_p, log_q = tempered_sigmoid(z, t=t2)
    c, r = 1.0 - t1, 2.0 - t1
    pos = z >= 0
    # p >= 1/2: D(-log p) + q^r / r ; p < 1/2: -log_t1(p) - (1 - p^r - q^r)/r
    near_one = _gap_near_one(np.where(pos, -log_p, 0.0), c) + np.exp(r * log_q) / r
    far = _neg_log_t(log_p, t1) - (-np.expm1(r * log_q) - np.exp(r * log_p)) / r
    return np.where(pos, near_one, far), _tempered_deriv(log_p, log_q, z, t1, t2)


@_nan_quiet
def t_logistic(z, *, t: float) -> tuple[np.ndarray, np.ndarray]:
    """t-logistic regression's loss (Ding & Vishwanathan 2010): ``phi(z) = -log sigma_t(z)``.

    Their model is ``p(y | x) = exp_t(y <x, theta>/2 - g_t(theta | x))`` with the t-exponential family's
    log-partition ``g_t`` normalising the two labels: the two-class tempered softmax of logits
    ``(z/2, -z/2)``, which by shift invariance is ``sigma_t(z)`` at the margin ``z = y <x, theta>`` (the
    ``1/2`` makes ``t = 1`` plain logistic regression). The loss is the ordinary negative
    log-likelihood. ``t in [1, 100]``; ``t > 1`` is non-convex and unbounded but only logarithmically
    (``phi(-|z|) ~ log((t-1)|z|)/(t-1)``), with ``phi' -> 0`` as ``z -> -inf``::

        phi'(z) = -(1/p) / (p^-t + q^-t),   p = sigma_t(z), q = 1 - p

    Equal to :func:`bi_tempered` at ``t1 = 1, t2 = t`` (their Bregman extra term vanishes at ``t1 = 1``).
    """
    t = _t2("t", t)
    z = _z(z)
    log_p, log_q = tempered_sigmoid(z, t=t)
    return -log_p, _tempered_deriv(log_p, log_q, z, 1.0, t)
