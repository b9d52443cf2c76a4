"""Margin losses: closed-form values, extreme margins, finite-difference derivatives, switch points.

Reference values come from mpmath at 50 digits (the expressions are written next to each test), so
they are independent of the NumPy formulas under test.
"""

import math

import mpmath as mp
import numpy as np
import pytest

from sandbox import base_losses as B
from sandbox import losses as L
from sandbox import registry as R

mp.mp.dps = 50

TAU_H = 0.26  # ~ sigmoid(-1): Huberised logistic switches at z = 1
TAU_P = 1.36  # ~ 1 + e^-1: PHuber switches at z = 1
Q = 0.7  # GCE exponent used by the paper

EXTREMES = np.array([-1e6, -750.0, -37.0, -18.0, -1e-9, 0.0, 1e-9, 18.0, 37.0, 750.0, 1e6])


# ---- independent high-precision references ---------------------------------------------------


def mp_sigmoid(z):
    return 1 / (1 + mp.e ** (-mp.mpf(z)))


def mp_logistic(z):
    return mp.log(1 + mp.e ** (-mp.mpf(z)))


def mp_huberised(z, tau):
    z0 = mp.log((1 - mp.mpf(tau)) / tau)
    if z <= z0:
        return mp_logistic(z0) - tau * (mp.mpf(z) - z0)
    return mp_logistic(z)


def mp_phuber(z, tau):
    p = mp_sigmoid(z)
    return -tau * p + mp.log(tau) + 1 if p <= 1 / mp.mpf(tau) else -mp.log(p)


def mp_gce(z, q):
    return (1 - mp_sigmoid(z) ** q) / q


def mp_phuber_gce(z, tau, q):
    p0 = mp.mpf(tau) ** (-1 / (1 - mp.mpf(q)))
    p = mp_sigmoid(z)
    return (1 - p0**q) / q - tau * (p - p0) if p <= p0 else (1 - p**q) / q


CASES = {
    "logistic": (L.logistic, mp_logistic),
    "huberised": (lambda z: L.huberised_logistic(z, tau=TAU_H), lambda z: mp_huberised(z, TAU_H)),
    "phuber": (lambda z: L.phuber_logistic(z, tau=TAU_P), lambda z: mp_phuber(z, TAU_P)),
    "phuber_tau10": (lambda z: L.phuber_logistic(z, tau=10.0), lambda z: mp_phuber(z, 10.0)),
    "unhinged": (L.unhinged, lambda z: 1 - mp.mpf(z)),
    "linear": (L.linear, lambda z: mp_sigmoid(-z)),
    "gce": (lambda z: L.gce(z, q=Q), lambda z: mp_gce(z, Q)),
    "gce_q1": (lambda z: L.gce(z, q=1.0), lambda z: mp_gce(z, 1.0)),
    "phuber_gce": (lambda z: L.phuber_gce(z, tau=2.0, q=Q), lambda z: mp_phuber_gce(z, 2.0, Q)),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("z", EXTREMES.tolist() + [-3.0, -1.0, 0.5, 1.0, 2.5])
def test_value_matches_high_precision(name, z):
    fn, ref = CASES[name]
    v, d = fn(np.array([z]))
    assert np.isfinite(v).all() and np.isfinite(d).all()
    expected = float(ref(z))
    # relative 1e-12 covers a few roundings in the closed forms; the absolute floor 1e-300 covers
    # values that underflow to 0 in double precision (e.g. logistic(750) = e^-750)
    assert v[0] == pytest.approx(expected, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("name", CASES)
def test_derivative_matches_high_precision(name):
    fn, ref = CASES[name]
    for z in [-20.0, -3.0, -0.3, 0.0, 0.7, 1.0, 4.0, 25.0]:
        expected = float(mp.diff(ref, mp.mpf(z)))
        # mpmath differentiates the reference numerically at 50 digits: 1e-10 relative is ample
        assert fn(np.array(z))[1] == pytest.approx(expected, rel=1e-10, abs=1e-15), z


@pytest.mark.parametrize("name", CASES)
def test_derivative_central_differences(name):
    """Five-point central differences of the value agree with the analytic derivative."""
    fn, _ = CASES[name]
    z = np.linspace(-8, 8, 161) + 0.0137  # offset keeps points off the switch points
    h = 1e-3
    fd = (-fn(z + 2 * h)[0] + 8 * fn(z + h)[0] - 8 * fn(z - h)[0] + fn(z - 2 * h)[0]) / (12 * h)
    # truncation error O(h^4 phi^(5)) ~ 1e-12 and rounding ~ eps/h ~ 1e-13; 1e-8 leaves margin
    # for points within 2h of a switch point, where phi'' jumps
    np.testing.assert_allclose(fd, fn(z)[1], atol=1e-8)


@pytest.mark.parametrize("name", CASES)
def test_no_warnings_and_finite_at_extremes(name):
    fn, _ = CASES[name]
    # underflow to 0 is the correct answer (e.g. e^-750) and numpy never warns about it
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        v, d = fn(EXTREMES)
    assert np.isfinite(v).all() and np.isfinite(d).all()


def test_specific_closed_forms():
    assert L.logistic(0.0)[0] == pytest.approx(math.log(2), rel=1e-15)
    assert L.logistic(0.0)[1] == -0.5
    assert L.logistic(-1e6)[0] == 1e6  # log(1 + e^1e6) = 1e6 + log(1 + e^-1e6)
    # Huberised at tau = 0.26, z = 0 is on the linear piece: -log(1 - tau) - tau * logit(tau)
    assert L.huberised_logistic(0.0, tau=TAU_H)[0] == pytest.approx(
        -math.log(1 - TAU_H) - TAU_H * math.log(TAU_H / (1 - TAU_H)), rel=1e-14
    )
    # PHuber saturates at 1 + log tau
    assert L.phuber_logistic(-1e6, tau=2.0)[0] == pytest.approx(1 + math.log(2.0), rel=1e-15)
    # linear loss is symmetric: phi(z) + phi(-z) = 1
    z = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(L.linear(z)[0] + L.linear(-z)[0], 1.0, rtol=0, atol=1e-15)


def test_huberised_tau_at_least_one_is_logistic():
    z = np.linspace(-50, 50, 101)
    for tau in [1.0, 1.5, 100.0]:
        np.testing.assert_array_equal(L.huberised_logistic(z, tau=tau)[0], L.logistic(z)[0])


def test_switch_points():
    assert L.huberised_logistic_switch(tau=1 / (1 + math.e)) == pytest.approx(1.0, rel=1e-14)
    assert L.phuber_logistic_switch(tau=1 + math.exp(-1)) == pytest.approx(1.0, rel=1e-14)
    assert L.huberised_logistic_switch(tau=0.1) == pytest.approx(math.log(9), rel=1e-14)
    assert L.phuber_logistic_switch(tau=1.1) == pytest.approx(-math.log(0.1), rel=1e-14)  # log 10


@pytest.mark.parametrize(
    "fn, z0",
    [
        (lambda z: L.huberised_logistic(z, tau=TAU_H), L.huberised_logistic_switch(tau=TAU_H)),
        (lambda z: L.huberised_logistic(z, tau=0.1), math.log(9)),
        (lambda z: L.phuber_logistic(z, tau=TAU_P), L.phuber_logistic_switch(tau=TAU_P)),
        (lambda z: L.phuber_logistic(z, tau=3.0), -math.log(2.0)),
        (
            lambda z: L.phuber_gce(z, tau=2.0, q=Q),
            float(np.log(B.phuber_gce_switch(tau=2.0, q=Q) / (1 - B.phuber_gce_switch(tau=2.0, q=Q)))),
        ),
    ],
)
def test_continuous_and_c1_at_switch(fn, z0):
    eps = 1e-7
    left, right = fn(np.array([z0 - eps, z0 + eps]))[0]
    dl, dr = fn(np.array([z0 - eps, z0 + eps]))[1]
    # across 2 eps the value moves by |phi'| * 2e-7 <= 2e-7 and the slope by |phi''| 2e-7
    assert abs(left - right) < 3e-7
    assert abs(dl - dr) < 1e-6


def test_general_huberisation_equals_closed_form():
    z = np.linspace(-30, 30, 601)
    for tau in [0.05, TAU_H, 0.5, 0.9]:
        gen = L.huberise(L.logistic, tau=tau)
        # the root-finder locates z0 to ~1e-14; values then agree to a few ulps of |phi| <= 30
        np.testing.assert_allclose(gen(z)[0], L.huberised_logistic(z, tau=tau)[0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gen(z)[1], L.huberised_logistic(z, tau=tau)[1], rtol=1e-12, atol=1e-12)
    # a loss whose slope never reaches -tau is returned unchanged
    assert L.huberise(L.logistic, tau=1.5) is L.logistic


def test_huberisation_of_unhinged_has_no_tangent_point():
    with pytest.raises(ValueError, match="tau=0.5"):
        L.huberise(L.unhinged, tau=0.5)


def test_general_partial_huberisation_equals_closed_form():
    z = np.linspace(-30, 30, 601)
    for tau in [1.1, TAU_P, 2.0, 10.0]:
        gen = L.partially_huberise(B.log_loss, tau=tau)
        # brentq locates p0 = 1/tau to ~1e-15; a few ulps of values of order 1
        np.testing.assert_allclose(gen(z)[0], L.phuber_logistic(z, tau=tau)[0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gen(z)[1], L.phuber_logistic(z, tau=tau)[1], rtol=1e-12, atol=1e-12)
    gce_gen = L.partially_huberise(lambda p: B.gce_base(p, q=Q), tau=2.0)
    np.testing.assert_allclose(gce_gen(z)[0], L.phuber_gce(z, tau=2.0, q=Q)[0], rtol=1e-12, atol=1e-12)


def test_compose_sigmoid_matches_closed_forms():
    z = np.linspace(-30, 30, 601)
    pairs = [
        (B.log_loss, L.logistic),
        (B.linear_base, L.linear),
        (lambda p: B.gce_base(p, q=Q), lambda z: L.gce(z, q=Q)),
        (lambda p: B.phuber_log_loss(p, tau=TAU_P), lambda z: L.phuber_logistic(z, tau=TAU_P)),
    ]
    for base, closed in pairs:
        comp = L.compose_sigmoid(base)
        # -log(sigmoid(z)) loses relative accuracy for large z (1 - p rounds): absolute 1e-12
        np.testing.assert_allclose(comp(z)[0], closed(z)[0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(comp(z)[1], closed(z)[1], rtol=1e-9, atol=1e-12)


def test_phuber_tends_to_logistic_and_to_linear():
    z = np.linspace(-10, 10, 201)
    # tau -> inf: switch at z0 = -log(tau - 1) -> -inf; beyond -27 the two coincide
    np.testing.assert_allclose(L.phuber_logistic(z, tau=1e12)[0], L.logistic(z)[0], rtol=1e-12)
    # tau -> 1+: the loss approaches 1 - p = linear loss (up to the constant log tau + 1 - tau -> 0)
    np.testing.assert_allclose(L.phuber_logistic(z, tau=1 + 1e-9)[0], L.linear(z)[0] + 0.0, atol=1e-8)


def test_gce_limits():
    z = np.linspace(-10, 10, 201)
    np.testing.assert_allclose(L.gce(z, q=1.0)[0], L.linear(z)[0], rtol=1e-14, atol=1e-16)
    # q -> 0: (1 - p^q)/q -> -log p ; error O(q log^2 p) = 1e-6 * 100
    np.testing.assert_allclose(L.gce(z, q=1e-6)[0], L.logistic(z)[0], rtol=0, atol=1e-3)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: L.huberised_logistic(0.0, tau=0.0), r"tau=0.0 is outside its domain \(0, inf\)"),
        (lambda: L.huberised_logistic(0.0, tau=-1), "tau=-1"),
        (lambda: L.phuber_logistic(0.0, tau=1.0), r"tau=1.0 is outside its domain \(1, inf\)"),
        (lambda: L.phuber_logistic(0.0, tau=0.5), "tau=0.5"),
        (lambda: L.phuber_logistic(0.0, tau=float("nan")), "tau=nan"),
        (lambda: L.gce(0.0, q=0.0), r"q=0.0 is outside its domain \(0, 1\]"),
        (lambda: L.gce(0.0, q=1.5), "q=1.5"),
        (lambda: L.phuber_gce(0.0, tau=2.0, q=1.0), r"q=1.0 is outside its domain \(0, 1\)"),
        (lambda: L.phuber_gce(0.0, tau=0.9, q=0.7), "tau=0.9"),
        (lambda: B.phuber_log_loss(0.5, tau=1.0), "tau=1.0"),
        (lambda: R.make_loss("nope"), "name='nope' is unknown"),
        (lambda: R.make_loss("huberised"), "needs parameter"),
        (lambda: R.make_loss("logistic", tau=1.0), "takes parameters"),
        (lambda: R.make_loss("phuber", tau=0.5), "tau=0.5"),
    ],
)
def test_bad_parameters_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_make_loss_registry():
    z = np.linspace(-5, 5, 11)
    for name, kw, fn in [
        ("logistic", {}, L.logistic),
        ("huberised", {"tau": TAU_H}, lambda z: L.huberised_logistic(z, tau=TAU_H)),
        ("phuber", {"tau": TAU_P}, lambda z: L.phuber_logistic(z, tau=TAU_P)),
        ("unhinged", {}, L.unhinged),
        ("linear", {}, L.linear),
        ("gce", {"q": Q}, lambda z: L.gce(z, q=Q)),
        ("phuber_gce", {"tau": 2.0, "q": Q}, lambda z: L.phuber_gce(z, tau=2.0, q=Q)),
    ]:
        loss = R.make_loss(name, **kw)
        np.testing.assert_array_equal(loss(z)[0], fn(z)[0])
        np.testing.assert_array_equal(loss.deriv(z), fn(z)[1])
        assert name in loss.label
        if name != "unhinged":
            # the base loss composed with the sigmoid is the margin loss (CL-clipping relies on it)
            np.testing.assert_allclose(L.compose_sigmoid(loss.base)(z)[0], loss.value(z), rtol=1e-12)
    assert R.make_loss("huberised", tau=TAU_H) == R.make_loss("huberised", tau=TAU_H)


def test_aliases_resolve_to_the_canonical_name_and_every_alias_is_listed_in_the_error():
    kw = {"phuber": {"tau": TAU_P}, "huberised": {"tau": TAU_H}}
    for alias, canonical in R.ALIASES.items():
        assert R.make_loss(alias, **kw.get(canonical, {})) == R.make_loss(canonical, **kw.get(canonical, {}))
    with pytest.raises(ValueError) as err:
        R.make_loss("mae")
    for name in (*R.LOSS_NAMES, *R.ALIASES):
        assert name in str(err.value)


def test_registry_losses_survive_pickling_for_worker_processes():
    import pickle

    z = np.linspace(-30, 30, 61)
    for loss in R.paper_losses(tau_huberised=TAU_H, tau_phuber=TAU_P).values():
        back = pickle.loads(pickle.dumps(loss))
        assert back == loss and back.kernel == loss.kernel
        np.testing.assert_array_equal(back(z)[0], loss(z)[0])
