"""Robust margin losses (sandbox.robust_losses): high-precision values and derivatives, finite differences,
extreme margins, symmetry, the tempered sigmoid's solver, parameter validation and the registry.

References are mpmath expressions written here from the papers' definitions (50 digits, more where a
formula cancels), independent of the NumPy formulas under test; the tempered sigmoid's reference solves
its defining equation by mpmath's own root finder.
"""

from __future__ import annotations

import math
import pickle

import mpmath as mp
import numpy as np
import pytest

from sandbox import base_losses as B
from sandbox import losses as L
from sandbox import registry as R
from sandbox import robust_losses as RL

mp.mp.dps = 50

EXTREMES = np.array([-1e6, -750.0, -37.0, -18.0, -1e-9, 0.0, 1e-9, 18.0, 37.0, 750.0, 1e6])
A4 = -4.0


# ---- independent high-precision references ---------------------------------------------------


def mp_p(z):
    """sigmoid(z) and 1 - sigmoid(z) = sigmoid(-z), each computed directly (no 1 - p cancellation)."""
    z = mp.mpf(z)
    return 1 / (1 + mp.exp(-z)), 1 / (1 + mp.exp(z))


def mp_logistic(z):
    return mp.log1p(mp.exp(-mp.mpf(z)))


def mp_nce(z):
    a, b = -mp.log1p(mp.exp(-mp.mpf(z))), -mp.log1p(mp.exp(mp.mpf(z)))  # log p, log(1 - p)
    return a / (a + b)


def mp_taylor(z, k):
    q = mp_p(z)[1]
    return mp.fsum(q**i / i for i in range(1, k + 1))


def mp_small_tempered(a, t):
    """log sigma_t(-a), a >= 0: root v = -log q of (q^-s - (1-q)^-s)/s = a, s = t - 1 (the defining
    equation log_t(p) - log_t(1 - p) = z at z = -a), bracketed by q^-s in [s a + 1, s a + 2^s]. The two
    powers are as large as s a + 2^s and cancel down to s a: extra digits for both."""
    a, t = mp.mpf(a), mp.mpf(t)
    if t == 1:
        return -mp.log1p(mp.exp(a))
    if a == 0:
        return -mp.log(2)
    s = t - 1
    with mp.extradps(int(mp.log10(1 + s * a) + s * mp.log10(2)) + 10):
        f = lambda v: (mp.exp(s * v) - (1 - mp.exp(-v)) ** (-s)) / s - a  # noqa: E731  (increasing in v)
        lo, hi = mp.log(s * a + 1) / s, mp.log(s * a + 2**s) / s
        for _ in range(80):  # bisection to ~1e-24 of the bracket (f is steep at one end for large t) ...
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if f(mid) > 0 else (mid, hi)
        v = mp.findroot(f, (lo, hi), solver="secant", verify=False)  # ... then secant to full precision
        # a root, to the working precision of the two cancelling powers
        assert abs(s * f(v)) <= mp.mpf(10) ** (5 - mp.mp.dps) * mp.exp(s * v)
        return -v


def _digits(z, t):
    """Decimal digits of 1/q (the smaller tempered probability): the precision a Bregman value needs."""
    a = abs(float(z))
    return a / math.log(10) if t == 1 else math.log10((t - 1) * a + 2) / (t - 1)


def mp_bi_tempered(z, t1, t2):
    """-log_t1(p) - (1 - p^(2-t1) - q^(2-t1)) / (2 - t1) at p = sigma_t2(z): the Bregman form, evaluated
    with enough digits that its cancellation near p = 1 does not matter (capped: below 1e-400 a double is 0)."""
    with mp.extradps(int(3 * min(_digits(z, t2), 400))):  # on top of the caller's (mp.diff raises it)
        ls = mp_small_tempered(abs(z), t2)
        small = mp.exp(ls)
        p, q = (1 - small, small) if z >= 0 else (small, 1 - small)
        t1 = mp.mpf(t1)
        r = 2 - t1
        neg_log_t = -mp.log(p) if t1 == 1 else (1 - p ** (1 - t1)) / (1 - t1)
        return +(neg_log_t - (1 - p**r - q**r) / r)


def mp_t_logistic(z, t):
    ls = mp_small_tempered(abs(z), t)
    return -ls if z < 0 else -mp.log1p(-mp.exp(ls))


# name -> (function, mpmath reference); parameters chosen so every branch and regime is exercised
CASES = {
    "ramp": (RL.ramp, lambda z: min(mp.mpf(2), max(mp.mpf(0), 1 - mp.mpf(z)))),
    "squared": (RL.squared, lambda z: (1 - mp.mpf(z)) ** 2),
    "sce": (RL.sce, lambda z: mp.mpf("0.1") * mp_logistic(z) + 4 * mp_p(z)[1]),
    "sce_a0": (lambda z: RL.sce(z, alpha=0.0, beta=2.0, A=-3.0), lambda z: 6 * mp_p(z)[1]),
    "nce": (RL.nce, mp_nce),
    "nce_mae": (lambda z: RL.nce_mae(z, alpha=0.5, beta=2.0), lambda z: mp_nce(z) / 2 + 2 * mp_p(z)[1]),
    "nce_rce": (RL.nce_rce, lambda z: mp_nce(z) + 4 * mp_p(z)[1]),
    "taylor_k1": (lambda z: RL.taylor_ce(z, k=1), lambda z: mp_taylor(z, 1)),
    "taylor_k2": (lambda z: RL.taylor_ce(z, k=2), lambda z: mp_taylor(z, 2)),
    "taylor_k7": (lambda z: RL.taylor_ce(z, k=7), lambda z: mp_taylor(z, 7)),
    "logit_clip": (RL.logit_clip, lambda z: mp_logistic(min(mp.mpf(1), max(mp.mpf(-1), mp.mpf(z))))),
    "logit_clip_d5": (lambda z: RL.logit_clip(z, delta=5.0),
                      lambda z: mp_logistic(min(mp.mpf(5), max(mp.mpf(-5), mp.mpf(z))))),
    "bi_tempered": (lambda z: RL.bi_tempered(z, t1=0.2, t2=4.0), lambda z: mp_bi_tempered(z, 0.2, 4.0)),
    "bi_tempered_t2_1": (lambda z: RL.bi_tempered(z, t1=0.8, t2=1.0), lambda z: mp_bi_tempered(z, 0.8, 1.0)),
    "bi_tempered_t1_0": (lambda z: RL.bi_tempered(z, t1=0.0, t2=1.5), lambda z: mp_bi_tempered(z, 0.0, 1.5)),
    "bi_tempered_t1_1": (lambda z: RL.bi_tempered(z, t1=1.0, t2=2.0), lambda z: mp_bi_tempered(z, 1.0, 2.0)),
    "t_logistic": (lambda z: RL.t_logistic(z, t=1.5), lambda z: mp_t_logistic(z, 1.5)),
    "t_logistic_t1": (lambda z: RL.t_logistic(z, t=1.0), lambda z: mp_t_logistic(z, 1.0)),
}
BOUNDED = [n for n in CASES if n not in ("squared", "sce", "bi_tempered_t1_1", "t_logistic", "t_logistic_t1")]


@pytest.mark.parametrize("name", CASES)
def test_value_matches_high_precision(name):
    fn, ref = CASES[name]
    zs = EXTREMES.tolist() + [-3.0, -1.0, -0.5, 0.5, 1.0, 2.5]
    values, derivs = fn(np.array(zs))
    assert np.isfinite(values).all() and np.isfinite(derivs).all()
    for z, v in zip(zs, values):
        expected = float(ref(z))
        # relative 1e-12: the closed forms take a few roundings, and the tempered values additionally
        # |log q| * eps from powers q^r of the smaller probability (|log q| <= ~750 here); the absolute
        # floor 1e-300 covers values that underflow in double precision (e.g. e^-750 / 750)
        assert v == pytest.approx(expected, rel=1e-12, abs=1e-300), (z, v, expected)


@pytest.mark.parametrize("name", CASES)
def test_derivative_matches_high_precision(name):
    fn, ref = CASES[name]
    for z in [-20.0, -3.0, -0.3, 0.0137, 0.7, 1.3, 4.0, 25.0]:  # off the kinks at +-1 (ramp, delta = 1)
        expected = float(mp.diff(ref, mp.mpf(z)))
        # mpmath differentiates the reference numerically at 50 digits: 1e-10 relative is ample
        assert fn(np.array(z))[1] == pytest.approx(expected, rel=1e-10, abs=1e-15), z


@pytest.mark.parametrize("name", CASES)
def test_derivative_central_differences(name):
    """Five-point central differences of the value agree with the analytic derivative."""
    fn, _ = CASES[name]
    z = np.linspace(-8, 8, 161) + 0.0137  # offset keeps every point >= 0.0137 > 2h from the kinks +-1, +-5
    h = 1e-3
    fd = (-fn(z + 2 * h)[0] + 8 * fn(z + h)[0] - 8 * fn(z - h)[0] + fn(z - 2 * h)[0]) / (12 * h)
    # truncation O(h^4 phi^(5)) ~ 1e-12 and rounding ~ eps |phi| / h ~ 1e-11 for |phi| <= 81 (squared at
    # z = -8); 1e-8 leaves margin
    np.testing.assert_allclose(fd, fn(z)[1], rtol=0, atol=1e-8)


@pytest.mark.parametrize("name", CASES)
def test_no_warnings_finite_and_nonnegative_at_extremes(name):
    fn, _ = CASES[name]
    z = np.concatenate([EXTREMES, [-1e300, 1e300, -np.inf, np.inf]]) if name in BOUNDED else EXTREMES
    # underflow to 0 is the correct answer (e.g. e^-750) and numpy never warns about it
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        v, d = fn(z)
    assert np.isfinite(v).all() and np.isfinite(d).all()
    assert np.all(v >= 0)
    grid = np.linspace(-60, 60, 2401)
    assert np.all(fn(grid)[0] >= 0)  # non-negative everywhere, not only far out


@pytest.mark.parametrize("name", CASES)
def test_nan_margin_gives_nan_silently(name):
    fn, _ = CASES[name]
    v, d = fn(np.array([np.nan, 0.5]))  # RuntimeWarnings are errors in this suite
    assert np.isnan(v[0]) and np.isnan(d[0]) and np.isfinite(v[1]) and np.isfinite(d[1])


def test_shapes_are_preserved():
    z = np.linspace(-5, 5, 24).reshape(2, 3, 4)
    for name, (fn, _) in CASES.items():
        v, d = fn(z)
        assert v.shape == d.shape == z.shape, name
        np.testing.assert_array_equal(v.ravel(), fn(z.ravel())[0])  # elementwise: same numbers
    assert RL.nce(0.0)[0].shape == ()


# ---- symmetry: phi(z) + phi(-z) = constant -----------------------------------------------------

SYMMETRIC = {  # name -> (loss, the constant)
    "linear": (L.linear, 1.0),
    "ramp": (RL.ramp, 2.0),
    "nce": (RL.nce, 1.0),
    "nce_mae": (lambda z: RL.nce_mae(z, alpha=0.5, beta=2.0), 2.5),
    "nce_rce": (RL.nce_rce, 1.0 + 4.0),
    "sce_alpha0": (lambda z: RL.sce(z, alpha=0.0, beta=2.0, A=-3.0), 6.0),
    "taylor_k1": (lambda z: RL.taylor_ce(z, k=1), 1.0),
}
NOT_SYMMETRIC = {
    "logistic": L.logistic,
    "squared": RL.squared,
    "sce": RL.sce,
    "taylor_k2": lambda z: RL.taylor_ce(z, k=2),
    "logit_clip": RL.logit_clip,
    "bi_tempered": lambda z: RL.bi_tempered(z, t1=0.2, t2=4.0),
    "t_logistic": lambda z: RL.t_logistic(z, t=1.5),
}
Z_SYM = np.concatenate([np.linspace(-40, 40, 801), [-1e6, 1e6]])


@pytest.mark.parametrize("name", SYMMETRIC)
def test_symmetric_losses_sum_to_a_constant(name):
    fn, c = SYMMETRIC[name]
    total = fn(Z_SYM)[0] + fn(-Z_SYM)[0]
    # two values of size <= c, each a few roundings off: 1e-14 relative to c
    np.testing.assert_allclose(total, c, rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", NOT_SYMMETRIC)
def test_other_losses_are_not_symmetric(name):
    total = NOT_SYMMETRIC[name](Z_SYM[:801])[0] + NOT_SYMMETRIC[name](-Z_SYM[:801])[0]
    assert np.ptp(total) > 0.1  # the sum varies by far more than rounding


# ---- special cases and identities ----------------------------------------------------------------

Z = np.linspace(-30, 30, 601)


def test_reductions_to_known_losses():
    # exact at the level of a few roundings of values <= 31: rtol 1e-13
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)  # noqa: E731
    for got, want in [
        (RL.sce(Z, alpha=1.0, beta=0.0), L.logistic(Z)),  # SCE without RCE is CE
        (RL.nce_mae(Z, alpha=0.0, beta=1.0), L.linear(Z)),  # the reduced MAE is the linear (sigmoid) loss
        (RL.taylor_ce(Z, k=1), L.linear(Z)),  # first-order Taylor CE is 1 - p
        (RL.bi_tempered(Z, t1=1.0, t2=1.0), L.logistic(Z)),
        (RL.t_logistic(Z, t=1.0), L.logistic(Z)),
        (RL.logit_clip(Z, delta=1e9), L.logistic(Z)),  # nothing clipped
    ]:
        close(got[0], want[0])
        close(got[1], want[1])


def test_bi_tempered_at_t1_one_is_t_logistic():
    # the Bregman extra term vanishes at t1 = 1; the two share the link but not the value formula
    for t in (1.2, 2.0, 4.0):
        z = np.concatenate([Z, [-1e6, 1e6]])
        np.testing.assert_allclose(RL.bi_tempered(z, t1=1.0, t2=t)[0], RL.t_logistic(z, t=t)[0], rtol=1e-13)
        np.testing.assert_allclose(RL.bi_tempered(z, t1=1.0, t2=t)[1], RL.t_logistic(z, t=t)[1], rtol=1e-13)


def test_taylor_large_order_tends_to_logistic():
    z = np.linspace(-2, 10, 121)  # 1 - p <= 0.89: the tail sum_{i>k} u^i / i is below u^(k+1) / (1 - u)
    # rtol 1e-14: 400 Horner steps on positive terms, each a rounding of the running sum
    np.testing.assert_allclose(RL.taylor_ce(z, k=400)[0], L.logistic(z)[0], rtol=1e-14, atol=1e-300)


def test_limits_and_special_values():
    assert RL.nce(0.0)[0] == 0.5  # log 2 / (2 log 2): exact
    assert RL.taylor_ce(-1e6, k=4)[0] == pytest.approx(1 + 1 / 2 + 1 / 3 + 1 / 4, rel=1e-15)  # H_4
    assert RL.bi_tempered(-np.inf, t1=0.25, t2=3.0)[0] == pytest.approx(1 / 0.75, rel=1e-15)  # 1 / (1 - t1)
    assert RL.logit_clip(-np.inf, delta=2.0)[0] == pytest.approx(math.log1p(math.exp(2.0)), rel=1e-15)
    assert RL.sce(-np.inf, alpha=0.0, beta=1.0)[0] == 4.0  # -A beta
    # t-logistic grows like log((t - 1)|z|) / (t - 1): unbounded, but slowly
    v = RL.t_logistic(np.array([-1e100, -1e200]), t=2.0)[0]
    np.testing.assert_allclose(v, np.log([1e100, 1e200]), rtol=1e-12)


def test_ramp_and_logit_clip_derivative_conventions_at_the_kinks():
    # the inner piece's derivative at the kinks (what autodiff of clip returns)
    np.testing.assert_array_equal(RL.ramp(np.array([-1.0, 1.0]))[1], [-1.0, -1.0])
    np.testing.assert_array_equal(RL.logit_clip(np.array([-2.0, 2.0]), delta=2.0)[1],
                                  -1 / (1 + np.exp([-2.0, 2.0])))
    np.testing.assert_array_equal(RL.ramp(np.array([-1.5, 1.5]))[1], [0.0, 0.0])


def test_tempered_sigmoid_solves_its_equation():
    """p = sigma_t(z) solves log_t(p) - log_t(1 - p) = z, and p + q = 1 (written out in floats)."""
    z = np.linspace(-20, 20, 81)
    for t in (1.0, 1.0 + 1e-9, 1.3, 2.0, 5.0, 30.0, 100.0):
        log_p, log_q = RL.tempered_sigmoid(z, t=t)
        p, q = np.exp(log_p), np.exp(log_q)
        np.testing.assert_allclose(p + q, 1.0, rtol=0, atol=4e-16)  # two roundings of numbers <= 1
        if t == 1.0:
            lhs = log_p - log_q
        else:
            lhs = (np.expm1((1 - t) * log_p) - np.expm1((1 - t) * log_q)) / (1 - t)
        # rounding of log_p is amplified by d log_t(p) / d log p = p^(1-t) <= 2^(t-1) = 6e29 at t = 100:
        # compare relative to the sum of the two terms' sizes
        scale = np.abs(np.expm1((1 - t) * log_p)) + np.abs(np.expm1((1 - t) * log_q)) if t != 1.0 else 1.0
        np.testing.assert_allclose((lhs - z) / (np.abs(z) + scale / max(t - 1, 1)), 0.0, atol=1e-13)


@pytest.mark.parametrize("t", [1.0 + 1e-9, 1.001, 1.5, 2.0, 4.0, 33.0, 100.0])
def test_tempered_sigmoid_matches_high_precision_root(t):
    zs = [-1e300, -1e6, -750.0, -20.0, -1.0, -1e-9, 0.0, 1e-9, 1.0, 20.0, 750.0, 1e6, 1e300]
    log_p, log_q = RL.tempered_sigmoid(np.array(zs), t=t)
    for z, lp, lq in zip(zs, log_p, log_q):
        ls = mp_small_tempered(abs(z), t)
        small, large = (lp, lq) if z < 0 else (lq, lp)
        # log q to 4 ulps; then q = exp(log q) carries |log q| times that relative error, and so does
        # log(1 - q) = log1p(-q) ~ -q where q is small
        assert small == pytest.approx(float(ls), rel=1e-15), z
        rel = 1e-15 * (1.0 + abs(float(ls)))
        assert large == pytest.approx(float(mp.log1p(-mp.exp(ls))), rel=rel, abs=1e-300), z


def test_tempered_sigmoid_newton_converges_in_a_few_steps(monkeypatch):
    """The documented 5-6 Newton steps: capping the iteration at 8 changes no result."""
    z = np.concatenate([-np.logspace(-12, 300, 400), [0.0], np.logspace(-12, 300, 400)])
    for t in (1.0 + 1e-12, 1.5, 4.0, 100.0):
        full = RL.tempered_sigmoid(z, t=t)
        monkeypatch.setattr(RL, "MAX_NEWTON", 8)
        capped = RL.tempered_sigmoid(z, t=t)
        monkeypatch.setattr(RL, "MAX_NEWTON", 60)
        np.testing.assert_array_equal(capped[0], full[0])
        np.testing.assert_array_equal(capped[1], full[1])


# ---- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: RL.sce(0.0, alpha=-1.0), r"alpha=-1\.0 is outside its domain \[0, inf\)"),
        (lambda: RL.sce(0.0, beta=-0.5), r"beta=-0\.5 is outside its domain"),
        (lambda: RL.sce(0.0, alpha=float("nan")), r"alpha=nan"),
        (lambda: RL.sce(0.0, A=0.0), r"A=0\.0 is outside its domain \(-inf, 0\)"),
        (lambda: RL.sce(0.0, A=2.0), r"A=2\.0 is outside its domain"),
        (lambda: RL.sce(0.0, alpha=0.0, beta=0.0), r"alpha=0 and beta=0"),
        (lambda: RL.nce_mae(0.0, alpha=-2.0), r"alpha=-2\.0"),
        (lambda: RL.nce_rce(0.0, beta=np.inf), r"beta=inf is outside its domain"),
        (lambda: RL.nce_rce(0.0, A=1e-9), r"A=1e-09 is outside its domain"),
        (lambda: RL.taylor_ce(0.0, k=0), r"k=0 must be an integer >= 1"),
        (lambda: RL.taylor_ce(0.0, k=2.5), r"k=2\.5 must be an integer >= 1"),
        (lambda: RL.logit_clip(0.0, delta=0.0), r"delta=0\.0 is outside its domain \(0, inf\)"),
        (lambda: RL.logit_clip(0.0, delta=np.inf), r"delta=inf is outside its domain"),
        (lambda: RL.bi_tempered(0.0, t1=-0.1, t2=2.0), r"t1=-0\.1 is outside its domain \[0, 1\]"),
        (lambda: RL.bi_tempered(0.0, t1=1.5, t2=2.0), r"t1=1\.5 is outside its domain"),
        (lambda: RL.bi_tempered(0.0, t1=0.5, t2=0.9), r"t2=0\.9 is outside its domain \[1, 100\]"),
        (lambda: RL.bi_tempered(0.0, t1=0.5, t2=101.0), r"t2=101\.0 is outside its domain"),
        (lambda: RL.t_logistic(0.0, t=0.5), r"t=0\.5 is outside its domain \[1, 100\]"),
        (lambda: R.make_loss("taylor_ce"), r"needs parameter\(s\) \['k'\]"),
        (lambda: R.make_loss("bi_tempered", t1=0.5), r"needs parameter\(s\) \['t2'\]"),
        (lambda: R.make_loss("sce", tau=2.0), "takes parameters"),
        (lambda: R.make_loss("logit_clip", delta=-1), r"delta=-1\.0"),
    ],
)
def test_bad_parameters_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_non_numbers_raise_type_error():
    with pytest.raises(TypeError, match="alpha='1' must be a real number"):
        R.make_loss("sce", alpha="1")
    with pytest.raises(TypeError, match="k='2' must be an integer"):
        RL.taylor_ce(0.0, k="2")
    with pytest.raises(TypeError, match="t=True must be a real number"):
        RL.t_logistic(0.0, t=True)


# ---- the registry -------------------------------------------------------------------------------

REGISTERED = {  # name -> (parameters used here, the same loss called directly)
    "ramp": ({}, RL.ramp),
    "squared": ({}, RL.squared),
    "sce": ({}, lambda z: RL.sce(z, alpha=0.1, beta=1.0, A=-4.0)),
    "nce": ({}, RL.nce),
    "nce_mae": ({}, lambda z: RL.nce_mae(z, alpha=1.0, beta=1.0)),
    "nce_rce": ({"alpha": 2.0, "beta": 0.5, "A": -9.0}, lambda z: RL.nce_rce(z, alpha=2.0, beta=0.5, A=-9.0)),
    "taylor_ce": ({"k": 3}, lambda z: RL.taylor_ce(z, k=3)),
    "logit_clip": ({}, lambda z: RL.logit_clip(z, delta=1.0)),
    "bi_tempered": ({"t1": 0.8, "t2": 1.2}, lambda z: RL.bi_tempered(z, t1=0.8, t2=1.2)),
    "t_logistic": ({"t": 1.9}, lambda z: RL.t_logistic(z, t=1.9)),
}
EXPECTED_FLAGS = {  # (convex, bounded) at the parameters above
    "ramp": (False, True), "squared": (True, False), "sce": (False, False), "nce": (False, True),
    "nce_mae": (False, True), "nce_rce": (False, True), "taylor_ce": (False, True), "logit_clip": (False, True),
    "bi_tempered": (False, True), "t_logistic": (False, False),
}


def test_every_new_registry_name_is_covered_here():
    new = set(R.LOSS_NAMES) - {"logistic", "huberised", "phuber", "unhinged", "linear", "gce", "phuber_gce"}
    assert new == set(REGISTERED)


@pytest.mark.parametrize("name", REGISTERED)
def test_make_loss_round_trip(name):
    params, fn = REGISTERED[name]
    loss = R.make_loss(name, **params)
    z = np.concatenate([np.linspace(-30, 30, 121), [-1e6, 1e6]])
    np.testing.assert_array_equal(loss(z)[0], fn(z)[0])  # the same function with the same parameters
    np.testing.assert_array_equal(loss.deriv(z), fn(z)[1])
    np.testing.assert_array_equal(loss.value(z), fn(z)[0])
    assert loss.name == name and name in loss.label
    assert (loss.convex, loss.bounded) == EXPECTED_FLAGS[name]
    back = pickle.loads(pickle.dumps(loss))  # registry losses travel to worker processes by name
    assert back == loss
    np.testing.assert_array_equal(back(z)[0], loss(z)[0])
    if loss.base is not None:
        # the base loss composed with the sigmoid is the margin loss (CL-clipping relies on it):
        # compose_sigmoid loses relative accuracy in 1 - p for large z, so absolute 1e-12 as well
        zz = np.linspace(-30, 30, 601)
        comp = L.compose_sigmoid(loss.base)(zz)
        np.testing.assert_allclose(comp[0], loss(zz)[0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(comp[1], loss(zz)[1], rtol=1e-9, atol=1e-12)


def test_composite_losses_have_a_base_and_tempered_ones_do_not():
    with_base = {n for n, (kw, _) in REGISTERED.items() if R.make_loss(n, **kw).base is not None}
    assert with_base == {"sce", "nce", "nce_mae", "nce_rce", "taylor_ce", "logit_clip"}


def test_base_losses_at_the_ends_of_the_interval():
    p = np.array([0.0, 1.0])
    v, d = B.nce_base(p)  # the limits N(0) = 1, N(1) = 0, N' -> 0 at both ends
    np.testing.assert_array_equal(v, [1.0, 0.0])
    np.testing.assert_array_equal(d, [0.0, 0.0])
    v, d = B.taylor_ce_base(p, k=3)  # H_3 at p = 0 with slope -k; 0 at p = 1 with slope -1
    np.testing.assert_allclose(v, [1 + 1 / 2 + 1 / 3, 0.0], rtol=1e-15)
    np.testing.assert_array_equal(d, [-3.0, -1.0])
    v, d = B.logit_clip_base(p, delta=2.0)  # clipped: constant (slope 0) outside [sigmoid(-2), sigmoid(2)]
    # rtol 1e-14: -log of sigmoid(2) rounded to a double near 1 (relative eps / |log p| = 2e-15)
    np.testing.assert_allclose(v, [math.log1p(math.exp(2.0)), math.log1p(math.exp(-2.0))], rtol=1e-14)
    np.testing.assert_array_equal(d, [0.0, 0.0])


FLAG_CASES = [  # (name, params): together they exercise both values of each parameter-dependent flag
    *((n, kw) for n, (kw, _) in REGISTERED.items()),
    ("sce", {"alpha": 4.0, "beta": 1.0, "A": -4.0}),  # alpha = beta |A|: convex (the boundary case)
    ("sce", {"alpha": 0.0, "beta": 1.0, "A": -4.0}),  # pure RCE: bounded
    ("bi_tempered", {"t1": 1.0, "t2": 1.0}),  # logistic: convex, unbounded
    ("bi_tempered", {"t1": 1.0, "t2": 2.0}),  # t-logistic: neither
    ("bi_tempered", {"t1": 0.5, "t2": 1.0}),  # bounded, not convex
    ("t_logistic", {"t": 1.0}),  # logistic
    ("taylor_ce", {"k": 1}),
]


@pytest.mark.parametrize("name, params", FLAG_CASES)
def test_convex_and_bounded_flags_agree_with_numerical_checks(name, params):
    loss = R.make_loss(name, **params)
    z = np.linspace(-50, 50, 10001)
    steps = np.diff(loss.deriv(z))
    if loss.convex:
        assert np.all(steps >= -1e-13)  # phi' non-decreasing, up to rounding of values <= 1e2
    else:
        assert np.min(steps) < -1e-6  # phi' decreases somewhere on the grid: not convex
    far = loss.value(np.array([-1e300, -1e150, -1e75, 1e75, 1e150, 1e300])) if loss.bounded else None
    if loss.bounded:
        assert np.all(np.isfinite(far))
        # converged to the limits: the values at -1e150 and -1e300 (and +1e150, +1e300) agree
        np.testing.assert_allclose(far[[0, 5]], far[[1, 4]], rtol=1e-12, atol=1e-300)
    else:
        grow = loss.value(np.array([-1e75, -1e150]))  # (squared overflows beyond |z| ~ 1e154)
        assert np.all(np.isfinite(grow)) and grow[1] > grow[0] + 1.0  # still growing far out


def test_sce_convexity_boundary_is_alpha_equals_beta_abs_a():
    assert RL.sce_is_convex(alpha=4.0, beta=1.0, A=-4.0) and not RL.sce_is_convex(alpha=3.99, beta=1.0, A=-4.0)
    # just below the boundary phi'' < 0 somewhere (far left, where phi'' / (p (1-p)) -> alpha - beta |A|)
    z = np.linspace(-40, 0, 4001)
    d2 = np.diff(RL.sce(z, alpha=3.9, beta=1.0, A=-4.0)[1])
    assert d2.min() < 0


def test_linear_loss_is_documented_as_the_sigmoid_loss_and_half_the_mae():
    summary = R.LOSSES["linear"].summary
    assert "sigmoid loss" in summary and "MAE" in summary
    assert "mae" not in R.LOSS_NAMES  # 2 x linear: not registered twice (see sandbox.robust_losses)


# ---- the rest of the package uses them ------------------------------------------------------------


@pytest.fixture(scope="module")
def small_problem():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((3, 60, 2))
    y = np.where(X[..., 0] + 0.5 * rng.standard_normal((3, 60)) > 0, 1.0, -1.0)
    return X, y


@pytest.mark.parametrize("name", REGISTERED)
def test_fitters_accept_every_new_loss(name, small_problem):
    from sandbox.linear import accuracy, mean_grad, risk
    from sandbox.slsqp import fit_slsqp

    X, y = small_problem
    loss = R.make_loss(name, **REGISTERED[name][0])
    fit = fit_slsqp(loss, X, y)  # the batched solver's generic path (no fused kernel for these losses)
    assert np.all(np.isfinite(fit.theta))
    assert np.all(risk(loss, fit.theta, X, y) < risk(loss, np.zeros((3, 2)), X, y))  # it descended
    assert np.all(accuracy(fit.theta, X, y) > 0.7)  # and learned the (noisy) direction x_0
    if loss.base is not None:
        from sandbox.gd import clipped_direction

        # CL-clipping at a threshold nothing reaches goes through the base loss (a finite tau; tau = inf
        # short-cuts to phi') and must give the loss's own gradient
        theta = np.array([[0.4, -0.2]] * 3)
        g, _, frac = clipped_direction(loss, theta, X, y, clip="composite", tau=1e6)
        assert np.all(frac == 0)
        # varphi'(p) p (1 - p) vs the closed-form phi'(z): a few roundings of numbers of size <= ~5
        np.testing.assert_allclose(g, mean_grad(loss, theta, X, y), rtol=1e-10, atol=1e-13)
