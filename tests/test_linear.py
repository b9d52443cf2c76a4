"""Linear model: shapes, broadcasting over trials, and gradients against finite differences."""

import numpy as np
import pytest

from sandbox.linear import (
    grad_from_dphi,
    margins,
    mean_grad,
    per_example_grads,
    risk,
    risk_and_grad,
    scores,
)
from sandbox.registry import make_loss

LOSSES = [
    make_loss("logistic"),
    make_loss("huberised", tau=0.26),
    make_loss("phuber", tau=1.36),
    make_loss("unhinged"),
    make_loss("linear"),
    make_loss("gce", q=0.7),
    make_loss("phuber_gce", tau=2.0, q=0.7),
]


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 3))
    y = rng.choice([-1.0, 1.0], size=40)
    return X, y


def test_shapes_and_broadcasting(data):
    # sums of three O(1) products can cancel: absolute 1e-14 (~ 50 ulps of 1) is the fair tolerance
    X, y = data
    theta = np.array([0.5, -1.0, 2.0])
    assert scores(theta, X).shape == (40,)
    np.testing.assert_allclose(scores(theta, X), X @ theta, atol=1e-14)
    np.testing.assert_allclose(margins(theta, X, y), y * (X @ theta), atol=1e-14)
    # trials: (T, d) against (T, n, d)
    XT = np.stack([X, 2 * X])
    thT = np.stack([theta, -theta])
    np.testing.assert_allclose(scores(thT, XT), np.stack([X @ theta, -2 * X @ theta]), atol=1e-14)
    # many weights against one data set: (A, d) with (n, d) -> (A, n)
    A = np.random.default_rng(0).standard_normal((5, 3))
    np.testing.assert_allclose(scores(A, X), A @ X.T, atol=1e-14)
    # bias is the last entry
    tb = np.array([0.5, -1.0, 2.0, 0.3])
    np.testing.assert_allclose(scores(tb, X, bias=True), X @ theta + 0.3, atol=1e-14)
    with pytest.raises(ValueError, match="theta.shape"):
        scores(tb, X)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda l: l.name)
@pytest.mark.parametrize("bias", [False, True])
def test_gradient_matches_central_differences(loss, bias, data):
    X, y = data
    theta = np.array([0.3, -0.7, 1.1, 0.2][: 3 + bias])
    g = mean_grad(loss, theta, X, y, bias=bias)
    h = 1e-5
    fd = np.array([
        (risk(loss, theta + h * e, X, y, bias=bias) - risk(loss, theta - h * e, X, y, bias=bias)) / (2 * h)
        for e in np.eye(len(theta))
    ])
    # central differences: O(h^2 |R'''|) ~ 1e-10 plus rounding eps/h ~ 1e-11
    np.testing.assert_allclose(g, fd, atol=1e-8)


@pytest.mark.parametrize("loss", LOSSES[:3], ids=lambda l: l.name)
def test_per_example_grads_average_to_mean_grad(loss, data):
    X, y = data
    theta = np.array([1.0, 2.0, -0.5, 0.1])
    G = per_example_grads(loss, theta, X, y, bias=True)
    assert G.shape == (40, 4)
    r, g = risk_and_grad(loss, theta, X, y, bias=True)
    np.testing.assert_allclose(G.mean(axis=0), g, rtol=1e-13, atol=1e-16)
    assert r == pytest.approx(risk(loss, theta, X, y, bias=True), rel=1e-15)
    # the chain rule: phi'(z) y x
    dphi = loss.deriv(margins(theta, X, y, bias=True))
    np.testing.assert_array_equal(grad_from_dphi(dphi, X, y, bias=True), G)


def test_vectorised_over_trials_equals_loop(data):
    X, y = data
    XT = np.stack([X, X[::-1], 0.5 * X])
    yT = np.stack([y, y[::-1], -y])
    thT = np.array([[0.1, 0.2, 0.3], [1.0, 0.0, -1.0], [-0.5, 0.5, 2.0]])
    loss = LOSSES[2]
    r, g = risk_and_grad(loss, thT, XT, yT)
    for t in range(3):
        rt, gt = risk_and_grad(loss, thT[t], XT[t], yT[t])
        assert r[t] == pytest.approx(rt, rel=1e-14)
        np.testing.assert_allclose(g[t], gt, rtol=1e-13)
