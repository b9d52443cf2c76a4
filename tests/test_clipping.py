"""Clipping invariants: norms after clipping, idempotence, tau = inf, zero rows, non-finite rows."""

import numpy as np
import pytest

from sandbox.clipping import (
    clip_base_derivative,
    clip_by_global_norm,
    clip_loss_derivative,
    clip_per_example,
    safe_norm,
)


@pytest.fixture
def G():
    rng = np.random.default_rng(0)
    g = rng.standard_normal((7, 50, 3)) * rng.exponential(2.0, size=(7, 50, 1))
    g[0, 0] = 0.0  # a zero row
    return g


@pytest.mark.parametrize("tau", [1e-3, 0.5, 1.0, 3.0])
def test_per_example_norms(G, tau):
    out, n = clip_per_example(G, tau=tau)
    before, after = np.linalg.norm(G, axis=-1), np.linalg.norm(out, axis=-1)
    clipped = before > tau
    # <= tau everywhere, == tau where clipped (to rounding: one multiply and one sqrt, 4 ulps)
    assert np.all(after <= tau * (1 + 4e-16))
    np.testing.assert_allclose(after[clipped], tau, rtol=4e-16)
    # untouched rows are returned exactly
    np.testing.assert_array_equal(out[~clipped], G[~clipped])
    np.testing.assert_array_equal(n, clipped.sum(axis=-1))
    # direction preserved
    cos = np.sum(out * G, -1)[clipped] / (after * before)[clipped]
    np.testing.assert_allclose(cos, 1.0, rtol=1e-14)


@pytest.mark.parametrize("tau", [0.1, 1.0])
def test_global_norm(G, tau):
    g = G.mean(axis=1)  # one batch gradient per trial
    out, was = clip_by_global_norm(g, tau=tau)
    assert was.shape == (7,)
    nrm = np.linalg.norm(out, axis=-1)
    assert np.all(nrm <= tau * (1 + 4e-16))
    np.testing.assert_allclose(nrm[was], tau, rtol=4e-16)
    np.testing.assert_array_equal(was, np.linalg.norm(g, axis=-1) > tau)


def test_idempotent(G):
    once, _ = clip_per_example(G, tau=0.7)
    twice, n2 = clip_per_example(once, tau=0.7)
    # a clipped row has norm tau up to rounding, so clipping again changes it by at most an ulp
    np.testing.assert_allclose(twice, once, rtol=1e-15, atol=0)
    g1, _ = clip_by_global_norm(G[:, 0], tau=0.7)
    np.testing.assert_allclose(clip_by_global_norm(g1, tau=0.7)[0], g1, rtol=1e-15)
    d1, _ = clip_loss_derivative(-np.linspace(0, 2, 9), tau=0.5)
    np.testing.assert_array_equal(clip_loss_derivative(d1, tau=0.5)[0], d1)


def test_tau_inf_is_identity(G):
    out, n = clip_per_example(G, tau=np.inf)
    np.testing.assert_array_equal(out, G)
    assert np.all(n == 0)
    out, was = clip_by_global_norm(G[:, 0], tau=np.inf)
    np.testing.assert_array_equal(out, G[:, 0])
    assert not was.any()
    d = -np.logspace(-3, 3, 7)
    np.testing.assert_array_equal(clip_loss_derivative(d, tau=np.inf)[0], d)
    np.testing.assert_array_equal(clip_base_derivative(d, tau=np.inf)[0], d)


def test_zero_rows_untouched():
    g = np.zeros((4, 3))
    out, n = clip_per_example(g, tau=1e-300)
    np.testing.assert_array_equal(out, 0.0)
    assert n == 0
    out, was = clip_by_global_norm(np.zeros(3), tau=1e-12)
    np.testing.assert_array_equal(out, 0.0)
    assert not was


def test_huge_and_tiny_entries_clip_without_overflow():
    with np.errstate(all="raise"):
        out, was = clip_by_global_norm(np.array([1e300, -1e300]), tau=2.0)
    np.testing.assert_allclose(out, [np.sqrt(2), -np.sqrt(2)], rtol=1e-15)
    assert was
    assert safe_norm(np.array([3e-200, 4e-200])) == pytest.approx(5e-200, rel=1e-15)


def test_non_finite_rows_become_nan_and_count_as_clipped():
    g = np.array([[np.inf, 0.0], [np.nan, 1.0], [0.3, 0.4]])
    out, n = clip_per_example(g, tau=1.0)
    assert np.isnan(out[:2]).all()
    np.testing.assert_array_equal(out[2], [0.3, 0.4])
    assert n == 2


def test_scalar_derivative_clipping():
    d = np.array([-3.0, -1.0, -0.2, 0.0, 0.5])
    out, n = clip_loss_derivative(d, tau=0.5)
    np.testing.assert_array_equal(out, [-0.5, -0.5, -0.2, 0.0, 0.5])
    assert n == 2
    out, n = clip_base_derivative(np.array([[-np.inf, -2.0], [-1.0, -0.1]]), tau=1.5)
    np.testing.assert_array_equal(out, [[-1.5, -1.5], [-1.0, -0.1]])
    np.testing.assert_array_equal(n, [2, 0])


@pytest.mark.parametrize("tau", [0.0, -1.0, float("nan")])
def test_bad_tau(tau):
    for fn, arg in [
        (clip_by_global_norm, np.ones(2)),
        (clip_per_example, np.ones((2, 2))),
        (clip_loss_derivative, np.ones(2)),
        (clip_base_derivative, np.ones(2)),
    ]:
        with pytest.raises(ValueError, match=r"tau=.* is outside its domain \(0, inf\]"):
            fn(arg, tau=tau)


def test_per_example_needs_rows():
    with pytest.raises(ValueError, match="g.shape"):
        clip_per_example(np.ones(3), tau=1.0)
