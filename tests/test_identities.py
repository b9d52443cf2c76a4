"""The paper's identities: each kind of clipping equals descending on a (partially) Huberised loss.

The paper, Sec. 3: L-clipping == Huberised loss (Lemma 2); CL-clipping == partially Huberised
loss (Lemma 5); per-example norm clipping of a linear model with equal-norm features == Huberised
loss at tau / ||x|| (Lemma 1); full-batch clipped GD has GD's fixed points.
"""

import numpy as np
import pytest

from sandbox.gd import clipped_direction, train_gd
from sandbox.linear import mean_grad
from sandbox.registry import make_loss

LOGISTIC = make_loss("logistic")


@pytest.fixture
def problem():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 2)) * [2.0, 0.5]
    y = np.where(X[:, 0] + 0.3 * rng.standard_normal(200) > 0, 1.0, -1.0)
    thetas = rng.standard_normal((25, 2)) * 3.0  # many evaluation points, some far out
    return X, y, thetas


@pytest.mark.parametrize("tau", [0.05, 0.26, 0.5, 0.9])
def test_l_clipping_is_huberised_gradient(problem, tau):
    X, y, thetas = problem
    huber = make_loss("huberised", tau=tau)
    for bias in (False, True):
        th = np.concatenate([thetas, thetas[:, :1]], axis=1) if bias else thetas
        g_clip, _, frac = clipped_direction(LOGISTIC, th, X, y, clip="loss", tau=tau, bias=bias)
        # the same per-example numbers summed in the same order: equal to rounding (1e-15 of O(1))
        np.testing.assert_allclose(g_clip, mean_grad(huber, th, X, y, bias=bias), rtol=1e-12, atol=1e-15)
        assert np.any(frac > 0)  # the identity is exercised, not vacuous


@pytest.mark.parametrize("tau", [1.1, 1.36, 2.0, 10.0])
def test_cl_clipping_is_partially_huberised_gradient(problem, tau):
    X, y, thetas = problem
    phuber = make_loss("phuber", tau=tau)
    g_clip, _, frac = clipped_direction(LOGISTIC, thetas, X, y, clip="composite", tau=tau)
    # varphi'(p) p (1-p) vs the closed form -(1-p) min(tau p, 1): a few roundings apart
    np.testing.assert_allclose(g_clip, mean_grad(phuber, thetas, X, y), rtol=1e-12, atol=1e-15)
    assert np.any(frac > 0)


@pytest.mark.parametrize("tau", [0.1, 0.5, 1.5])
def test_per_example_clipping_equal_norms_is_huberised_at_tau_over_norm(problem, tau):
    X, y, thetas = problem
    c = 2.0
    Xc = c * X / np.linalg.norm(X, axis=1, keepdims=True)  # every ||x_i|| = c
    g_clip, _, frac = clipped_direction(LOGISTIC, thetas, Xc, y, clip="per_example", tau=tau)
    huber = make_loss("huberised", tau=tau / c)  # Lemma 1: threshold tau / ||x||
    # ||phi'(z) x|| = tau exactly at the switch; elsewhere identical arithmetic up to rescaling
    np.testing.assert_allclose(g_clip, mean_grad(huber, thetas, Xc, y), rtol=1e-11, atol=1e-14)
    assert np.any(frac > 0)


def test_per_example_clipping_unequal_norms_is_not_huberised(problem):
    """With unequal norms the threshold tau / ||x_i|| differs per example (the paper's Lemma 1 assumes a per-example threshold)."""
    X, y, thetas = problem
    tau = 0.3
    g_clip, _, _ = clipped_direction(LOGISTIC, thetas, X, y, clip="per_example", tau=tau)
    c = np.median(np.linalg.norm(X, axis=1))
    g_h = mean_grad(make_loss("huberised", tau=tau / c), thetas, X, y)
    assert np.max(np.abs(g_clip - g_h)) > 1e-3


def test_full_batch_global_clipping_keeps_the_fixed_point(problem):
    """Full-batch clipped GD moves along -grad: on a convex problem it stops where GD stops."""
    X, y, _ = problem
    gd = train_gd(LOGISTIC, X, y, lr=2.0, steps=3000, record_every=0)
    clipped = train_gd(LOGISTIC, X, y, lr=2.0, steps=3000, clip="global", tau=0.05, record_every=0)
    assert clipped.frac_clipped[:10].all()  # the clipping is active early on
    g_end = mean_grad(LOGISTIC, clipped.theta, X, y)
    # both reach a stationary point of the same strictly convex risk (noisy labels: finite minimiser)
    assert np.linalg.norm(g_end) < 1e-8
    u, v = gd.theta / np.linalg.norm(gd.theta), clipped.theta / np.linalg.norm(clipped.theta)
    # same stationary point: directions agree to the optimisation tolerance
    assert np.dot(u, v) > 1 - 1e-10
    np.testing.assert_allclose(clipped.theta, gd.theta, rtol=1e-6)


def test_global_clipping_is_a_step_size_factor(problem):
    X, y, thetas = problem
    g, gn, _ = clipped_direction(LOGISTIC, thetas, X, y)
    gc, _, was = clipped_direction(LOGISTIC, thetas, X, y, clip="global", tau=0.1)
    scale = np.minimum(1.0, 0.1 / gn)
    np.testing.assert_allclose(gc, g * scale[:, None], rtol=1e-14)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("tau", [0.05, 0.3, 2.0])
def test_trainer_per_example_shortcut_equals_explicit_row_clipping(problem, bias, tau):
    """The trainer clips the scalar coefficient (Lemma 1); the general path clips each gradient row."""
    from sandbox.clipping import clip_per_example
    from sandbox.linear import grad_from_dphi, margins

    X, y, thetas = problem
    th = np.concatenate([thetas, thetas[:, :1]], axis=1) if bias else thetas
    g, _, frac = clipped_direction(LOGISTIC, th, X, y, clip="per_example", tau=tau, bias=bias)
    G = grad_from_dphi(LOGISTIC.deriv(margins(th, X, y, bias=bias)), X, y, bias=bias)
    Gc, n_clip = clip_per_example(G, tau=tau)
    # same scale factors, different association of products: a few ulps
    np.testing.assert_allclose(g, Gc.mean(axis=-2), rtol=1e-12, atol=1e-16)
    np.testing.assert_array_equal(frac, n_clip / X.shape[0])
