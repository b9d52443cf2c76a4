"""Clipped (S)GD: vectorised equals a per-trial loop, history shapes, equivalent losses, bad inputs."""

import numpy as np
import pytest

from sandbox.data import long_servedio
from sandbox.gd import CLIP_MODES, train_gd
from sandbox.registry import make_loss
from sandbox.rng import child_rngs
from sandbox.slsqp import fit_slsqp
from sandbox.trials import long_servedio_trials

LOGISTIC = make_loss("logistic")
HUBER = make_loss("huberised", tau=0.26)
PHUBER = make_loss("phuber", tau=1.36)


@pytest.fixture(scope="module")
def trials():
    return long_servedio_trials(trials=5, n_train=200, n_test=100, rho=0.2, rng=0)


@pytest.mark.parametrize("clip", CLIP_MODES)
@pytest.mark.parametrize("batch_size", [None, 16])
def test_vectorised_equals_loop(trials, clip, batch_size):
    X, y = trials.X_train, trials.y_train
    kw = dict(lr=0.5, steps=60, clip=clip, tau=0.3 if clip != "composite" else 1.36, batch_size=batch_size)
    vec = train_gd(LOGISTIC, X, y, rng=child_rngs(7, 5), **kw)
    loop = [train_gd(LOGISTIC, X[t], y[t], rng=[r], **kw) for t, r in enumerate(child_rngs(7, 5))]
    # identical arithmetic per trial, but einsum over a batch may sum in another order: 1e-12
    np.testing.assert_allclose(vec.theta, np.stack([r.theta for r in loop]), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(vec.risk, np.stack([r.risk for r in loop], axis=1), rtol=1e-12)
    np.testing.assert_allclose(vec.frac_clipped, np.stack([r.frac_clipped for r in loop], axis=1))


def test_history_shapes_and_descent(trials):
    res = train_gd(LOGISTIC, trials.X_train, trials.y_train, lr=1.0, steps=50, record_every=10)
    assert res.theta.shape == (5, 2)
    assert res.risk.shape == (6, 5) and res.risk_steps.tolist() == [0, 10, 20, 30, 40, 50]
    assert res.grad_norm.shape == (50, 5) and res.frac_clipped.shape == (50, 5)
    assert np.all(np.diff(res.risk, axis=0) <= 1e-15)  # GD with a small step decreases a convex risk
    assert res.risk[0] == pytest.approx(np.log(2))  # theta = 0


def test_sgd_is_deterministic_per_seed(trials):
    kw = dict(lr=0.5, steps=30, batch_size=8)
    a = train_gd(PHUBER, trials.X_train, trials.y_train, rng=np.random.default_rng(3), **kw)
    b = train_gd(PHUBER, trials.X_train, trials.y_train, rng=np.random.default_rng(3), **kw)
    c = train_gd(PHUBER, trials.X_train, trials.y_train, rng=np.random.default_rng(4), **kw)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert not np.array_equal(a.theta, c.theta)


def test_l_and_cl_clipped_training_equals_training_the_equivalent_loss(trials):
    X, y = trials.X_train, trials.y_train
    a = train_gd(LOGISTIC, X, y, lr=1.0, steps=40, clip="loss", tau=0.26)
    b = train_gd(HUBER, X, y, lr=1.0, steps=40)
    np.testing.assert_allclose(a.theta, b.theta, rtol=1e-11)
    a = train_gd(LOGISTIC, X, y, lr=1.0, steps=40, clip="composite", tau=1.36)
    b = train_gd(PHUBER, X, y, lr=1.0, steps=40)
    np.testing.assert_allclose(a.theta, b.theta, rtol=1e-11)


def _atom_signs(theta):
    """Which Long & Servedio atoms a bias-free classifier gets right: the classification at the
    population level, robust to the scale of theta (bounded losses' minimisers can lie at infinity)."""
    return np.sign(theta @ long_servedio().atoms.T)


@pytest.mark.parametrize("loss", [LOGISTIC, HUBER, PHUBER], ids=lambda l: l.name)
def test_slsqp_and_vectorised_gd_agree_on_classification(trials, loss):
    X, y = trials.X_train, trials.y_train
    th_ref = fit_slsqp(loss, X, y).theta
    th_gd = train_gd(loss, X, y, lr=2.0, steps=3000, record_every=0).theta
    np.testing.assert_array_equal(_atom_signs(th_gd), _atom_signs(th_ref))


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(lr=0.0, steps=1), r"lr=0.0 is outside its domain \(0, inf\)"),
        (dict(lr=1.0, steps=-1), "steps=-1"),
        (dict(lr=1.0, steps=1, clip="foo"), "clip='foo' is unknown"),
        (dict(lr=1.0, steps=1, clip="global", tau=0.0), "tau=0.0"),
        (dict(lr=1.0, steps=1, batch_size=2), "rng=None"),
        (dict(lr=1.0, steps=1, clip="global"), "needs a threshold tau"),
        (dict(lr=1.0, steps=1, batch_size=0, rng=np.random.default_rng()), "batch_size=0"),
    ],
)
def test_bad_inputs(trials, kw, match):
    with pytest.raises(ValueError, match=match):
        train_gd(LOGISTIC, trials.X_train[0], trials.y_train[0], **kw)


def test_composite_needs_a_composite_loss(trials):
    with pytest.raises(ValueError, match="composite loss"):
        train_gd(make_loss("unhinged"), trials.X_train[0], trials.y_train[0], lr=1.0, steps=1, clip="composite", tau=2.0)
