"""Lemma 6 (conditional-risk minimiser of PHuber-log) and Prop. 7 (rho * Delta(tau)), checked numerically."""

import numpy as np
import pytest

from sandbox import base_losses
from sandbox import calibration as cal
from sandbox.data import long_servedio
from sandbox.population import population_risk
from sandbox.registry import make_loss

LS = long_servedio(gamma=1 / 24)
TAUS = [1.1, 1.36, 1.9, 2.0, 3.0, 4.0, 10.0]


@pytest.mark.parametrize("tau", TAUS)
def test_closed_form_minimiser_matches_brute_force(tau):
    """Independent check: grid + bounded Brent on C(u; eta). C is convex and flat near its minimum,
    so the brute-force argmin is accurate to ~sqrt(xatol) ~ 1e-6 at worst (observed ~2e-8)."""
    eta = np.linspace(0.0, 1.0, 41)
    closed = cal.phuber_log_minimiser(eta, tau=tau)
    brute = cal.conditional_minimiser(cal.phuber_log_base(tau=tau), eta)
    keep = ~((eta == 0.5) & (tau < 2))  # there every u in [1 - 1/tau, 1/tau] minimises C
    np.testing.assert_allclose(closed[keep], brute[keep], atol=1e-6)
    # and the closed form is a minimiser: nothing on a fine grid beats it
    u = np.linspace(0.0, 1.0, 2001)
    base = cal.phuber_log_base(tau=tau)
    for e, us in zip(eta, closed):
        assert cal.conditional_risk(base, us, e) <= np.min(cal.conditional_risk(base, u, e)) + 1e-12


@pytest.mark.parametrize("tau", [2.0, 2.5, 4.0, 10.0])
def test_proper_exactly_on_the_interval(tau):
    """u*(eta) = eta exactly (bitwise) on [1/tau, 1 - 1/tau], and strictly over-confident outside."""
    lo, hi = cal.proper_interval(tau=tau)
    assert (lo, hi) == (1 / tau, 1 - 1 / tau)
    eta = np.linspace(0.0, 1.0, 2001)
    u = cal.phuber_log_minimiser(eta, tau=tau)
    inside = (eta >= lo) & (eta <= hi)
    np.testing.assert_array_equal(u[inside], eta[inside])
    below = (eta > 0) & (eta < lo)
    above = (eta < 1) & (eta > hi)
    assert np.all(u[below] < eta[below]) and np.all(u[above] > eta[above])
    # u* - eta = (1 - eta)(1 - 1/(eta tau)) below 1/tau, clipped at u* = 0 below 1/(1 + tau)
    e = eta[below]
    expected = np.maximum(e + (1 - e) * (1 - 1 / (e * tau)), 0.0)
    np.testing.assert_allclose(u[below], expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("tau", [1.05, 1.36, 1.99])
def test_never_proper_below_tau_two(tau):
    assert cal.proper_interval(tau=tau) is None
    eta = np.linspace(0.01, 0.99, 99)
    eta = eta[np.abs(eta - 0.5) > 1e-9]
    assert not np.any(cal.phuber_log_minimiser(eta, tau=tau) == eta)


def test_switch_points_and_extremes():
    tau = 4.0
    # u* = 0 up to eta = 1/(1 + tau) = 0.2, u* = 1 from tau/(1 + tau) = 0.8
    assert cal.phuber_log_minimiser(0.2, tau=tau) == 0.0
    assert cal.phuber_log_minimiser(0.8, tau=tau) == 1.0
    assert cal.phuber_log_minimiser(0.21, tau=tau) > 0.0
    # continuity at eta = 1/tau: the tilted branch 1 - (1 - eta)/(eta tau) reaches 1/tau there
    assert cal.phuber_log_minimiser(0.25 - 1e-12, tau=tau) == pytest.approx(0.25, abs=1e-10)
    # symmetry u*(1 - eta) = 1 - u*(eta)
    eta = np.linspace(0, 1, 101)
    np.testing.assert_allclose(cal.phuber_log_minimiser(1 - eta, tau=3.0), 1 - cal.phuber_log_minimiser(eta, tau=3.0),
                               atol=1e-15)
    # tau = inf: the log loss is proper everywhere
    np.testing.assert_array_equal(cal.phuber_log_minimiser(eta, tau=np.inf), eta)


@pytest.mark.parametrize("tau", TAUS)
def test_classification_calibrated(tau):
    """Lemma 6: sign(u* - 1/2) = sign(eta - 1/2) for every tau > 1."""
    eta = np.linspace(0.0, 1.0, 1001)
    u = cal.phuber_log_minimiser(eta, tau=tau)
    np.testing.assert_array_equal(np.sign(u - 0.5), np.sign(eta - 0.5))


def test_delta_closed_form():
    # hand values: tau - 1 - log tau below 2, 1 + log(tau/4) above
    assert cal.phuber_log_delta(2.0) == pytest.approx(1 - np.log(2), rel=1e-15)
    assert cal.phuber_log_delta(4.0) == pytest.approx(1.0, rel=1e-15)
    assert cal.phuber_log_delta(1.36) == pytest.approx(0.36 - np.log(1.36), rel=1e-15)
    # continuous at tau = 2, -> 0 like (tau - 1)^2 / 2 as tau -> 1, -> inf as tau -> inf
    assert cal.phuber_log_delta(2 - 1e-9) == pytest.approx(cal.phuber_log_delta(2 + 1e-9), abs=1e-8)
    assert cal.phuber_log_delta(1 + 1e-3) == pytest.approx(0.5e-6, rel=1e-2)
    assert cal.phuber_log_delta(1e8) > 15
    with pytest.raises(ValueError, match="tau"):
        cal.phuber_log_delta(1.0)


@pytest.mark.parametrize("tau", TAUS)
def test_delta_is_the_range_of_the_symmetric_sum(tau):
    """Brute-force range of l(u) + l(1 - u) on an odd grid (which contains 0, 1/2, 1) equals Delta."""
    assert cal.symmetric_sum_range(cal.phuber_log_base(tau=tau), grid=10001) == pytest.approx(
        float(cal.phuber_log_delta(tau)), rel=1e-12, abs=1e-15)


def test_log_loss_is_not_bounded():
    assert cal.symmetric_sum_range(base_losses.log_loss) == np.inf


def test_noisy_risk_identity_per_example():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 1000)
    rho = rng.uniform(0, 0.5, 1000)
    lhs, rhs = cal.noisy_expected_loss(cal.phuber_log_base(tau=1.36), p, rho=rho)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-13, atol=1e-15)


def test_noisy_risk_identity_on_the_population():
    """R_rho(theta) = (1 - 2 rho) R_0(theta) + rho sum_i w_i S(sigmoid(z_i)) for the PHuber margin loss."""
    from scipy.special import expit

    tau = 1.36
    loss = make_loss("phuber", tau=tau)
    theta = np.random.default_rng(1).normal(scale=5.0, size=(50, 2))
    z = theta @ LS.yx.T
    S = cal.symmetric_sum(cal.phuber_log_base(tau=tau), expit(z)) @ LS.weights
    for rho in (0.1, 0.3, 0.45):
        lhs = population_risk(loss, theta, LS, rho=rho)
        rhs = (1 - 2 * rho) * population_risk(loss, theta, LS, rho=0.0) + rho * S
        np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


@pytest.mark.parametrize("tau", [1.1, 1.36, 2.0, 5.0])
def test_prop7_bound_on_the_population(tau):
    rho = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.45, 0.49])
    e = cal.clean_minimiser_excess(make_loss("phuber", tau=tau), LS, rho=rho)
    assert e["clean_risk"] < 1e-12  # separable: the clean infimum 0 is attained at ||theta|| = inf
    assert np.all(e["excess"] >= -1e-12)  # the noisy search never does worse than the clean minimiser
    assert np.all(e["excess"] <= rho * cal.phuber_log_delta(tau) + 1e-12)


def test_validation():
    with pytest.raises(ValueError, match="tau"):
        cal.phuber_log_minimiser(0.3, tau=1.0)
    with pytest.raises(ValueError, match="eta"):
        cal.phuber_log_minimiser(1.2, tau=2.0)
    with pytest.raises(ValueError, match="grid"):
        cal.conditional_minimiser(base_losses.log_loss, 0.3, grid=2)


def test_guarantee_from_robustness_to_accuracy():
    """Corollary: min_j w_j (1 - 2 f_j) l(1/2) > Delta sum_i w_i f_i => every atom correct. Checked
    against the exact population minimiser on a grid of per-atom flip vectors (all f_i < 1/2)."""
    import itertools

    from sandbox.population import minimise_population_risk

    levels = [0.0, 0.1, 0.2, 0.3, 0.4, 0.45, 0.49]
    flips = np.array(list(itertools.product(levels, repeat=3)))
    for tau in (1.1, 1.36, 2.0, 4.0):
        ok = cal.perfect_accuracy_guaranteed(LS.weights, flips, tau=tau)
        assert ok.any()
        fit = minimise_population_risk(make_loss("phuber", tau=tau), LS, flip=flips[ok],
                                       n_angles=720, n_radii=121)
        assert np.all(fit.clean_accuracy == 1.0), tau
    # symmetric noise: the threshold rho, and its limits
    w = 0.25
    for tau in (1.1, 1.36, 3.0):
        r = float(cal.guaranteed_rho(tau, min_weight=w))
        assert cal.perfect_accuracy_guaranteed(LS.weights, [r * 0.999] * 3, tau=tau)
        assert not cal.perfect_accuracy_guaranteed(LS.weights, [r * 1.001] * 3, tau=tau)
    assert cal.guaranteed_rho(1 + 1e-6, min_weight=w) == pytest.approx(0.5, abs=1e-6)
    assert cal.guaranteed_rho(1e12, min_weight=w) < 0.01
    # a majority flip on any atom voids the guarantee
    assert not cal.perfect_accuracy_guaranteed(LS.weights, [0.5, 0.0, 0.0], tau=1.01)
    assert cal.phuber_log_half(4.0) == pytest.approx(np.log(2)) and cal.phuber_log_half(1.5) == pytest.approx(
        1 + np.log(1.5) - 0.75)


@pytest.mark.parametrize("tau", [1.36, 2.0, 4.0])
def test_the_derivative_in_the_lemma_6_derivation_is_minus_min_tau_one_over_u(tau):
    """The derivation in sandbox.calibration writes l'(u) = -min(tau, 1/u) for the PHuber log loss."""
    u = np.linspace(0.01, 1.0, 199)
    _, d = base_losses.phuber_log_loss(u, tau=tau)
    np.testing.assert_allclose(d, -np.minimum(tau, 1.0 / u), rtol=1e-15)
    assert not np.allclose(d, -np.maximum(tau, 1.0 / u))  # the formula the docstring used to print
