"""Base losses on probabilities and their partial Huberisation (Lemma 5, Eq. 12)."""

import math

import numpy as np
import pytest

from sandbox import base_losses as B

P = np.linspace(1e-6, 1.0, 2001)


def test_values():
    assert B.log_loss(0.5)[0] == pytest.approx(math.log(2), rel=1e-15)
    assert B.log_loss(0.0)[0] == np.inf  # the limit, without a warning
    assert B.gce_base(0.25, q=0.5)[0] == pytest.approx((1 - 0.5) / 0.5, rel=1e-15)
    assert B.linear_base(0.3)[0] == pytest.approx(0.7, rel=1e-15)
    # Eq. 12 at p <= 1/tau: -tau p + log tau + 1
    assert B.phuber_log_loss(0.1, tau=2.0)[0] == pytest.approx(-0.2 + math.log(2) + 1, rel=1e-15)
    assert B.phuber_log_loss(0.0, tau=2.0)[0] == pytest.approx(1 + math.log(2), rel=1e-15)  # bounded
    assert B.phuber_log_loss(0.9, tau=2.0)[0] == pytest.approx(-math.log(0.9), rel=1e-15)


@pytest.mark.parametrize(
    "fn",
    [
        B.log_loss,
        B.linear_base,
        lambda p: B.gce_base(p, q=0.7),
        lambda p: B.phuber_log_loss(p, tau=1.36),
        lambda p: B.phuber_log_loss(p, tau=10.0),
        lambda p: B.phuber_gce_base(p, tau=2.0, q=0.7),
    ],
)
def test_derivatives_central_differences(fn):
    p = np.linspace(0.01, 0.99, 99) + 1.3e-4  # off the switch points
    h = 1e-6
    fd = (fn(p + h)[0] - fn(p - h)[0]) / (2 * h)
    # O(h^2 varphi''') with varphi''' <= 2/p^3 = 2e6 at p = 0.01, plus eps/h ~ 1e-10: 1e-5 absolute
    np.testing.assert_allclose(fd, fn(p)[1], rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("tau", [1.1, 1.36, 2.0, 10.0])
def test_phuber_log_loss_is_continuous_and_c1_at_one_over_tau(tau):
    p0, e = 1 / tau, 1e-9
    (vl, vr), (dl, dr) = B.phuber_log_loss(np.array([p0 - e, p0 + e]), tau=tau)
    # across 2e-9 the value moves by |varphi'| 2e-9 = 2 tau e and the slope by |varphi''| 2e-9 = 2 tau^2 e
    assert abs(vl - vr) < 3 * tau * e and abs(dl - dr) < 3 * tau**2 * e + 1e-12
    assert dl == -tau


def test_general_partial_huberisation():
    for tau in [1.5, 3.0]:
        gen = B.partially_huberise(B.log_loss, tau=tau)
        np.testing.assert_allclose(gen(P)[0], B.phuber_log_loss(P, tau=tau)[0], rtol=1e-12)
        np.testing.assert_allclose(gen(P)[1], B.phuber_log_loss(P, tau=tau)[1], rtol=1e-12)
    # derivative of GCE at p is -p^(q-1) <= -1: the switch is p0 = tau^(-1/(1-q))
    p0 = B.phuber_gce_switch(tau=2.0, q=0.7)
    assert p0 == pytest.approx(2.0 ** (-1 / 0.3), rel=1e-15)
    assert B.gce_base(p0, q=0.7)[1] == pytest.approx(-2.0, rel=1e-12)
    # varphi' >= -tau on all of (0, 1] for the linear loss and tau > 1: nothing to linearise
    assert B.partially_huberise(B.linear_base, tau=2.0) is B.linear_base


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: B.phuber_log_loss(0.5, tau=0.9), r"tau=0.9 is outside its domain \(1, inf\)"),
        (lambda: B.gce_base(0.5, q=0), "q=0"),
        (lambda: B.phuber_gce_switch(tau=2.0, q=1.0), "q=1.0"),
        (lambda: B.partially_huberise(B.log_loss, tau=-1.0), "tau=-1.0"),
        (lambda: B.partially_huberise(B.log_loss, tau=0.5), "tau=0.5 is outside the domain of this base loss"),
        (lambda: B.partially_huberise(B.log_loss, tau=2.0, p0=1.5), "p0=1.5"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
