"""Trainers: vectorised (S)GD equals a per-trial loop, history shapes, SLSQP protocol, bad inputs."""

import numpy as np
import pytest

from sandbox.data import long_servedio
from sandbox.linear import mean_grad
from sandbox.losses import make_loss
from sandbox.rng import trial_rngs
from sandbox.train import CLIP_MODES, fit_slsqp, fit_slsqp_trials, train_gd
from sandbox.trials import long_servedio_trials, test_accuracy

LOGISTIC = make_loss("logistic")
HUBER = make_loss("huberised", tau=0.26)
PHUBER = make_loss("partially_huberised", tau=1.36)


@pytest.fixture(scope="module")
def trials():
    return long_servedio_trials(trials=5, n_train=200, n_test=100, rho=0.2, seed=0)


@pytest.mark.parametrize("clip", CLIP_MODES)
@pytest.mark.parametrize("batch_size", [None, 16])
def test_vectorised_equals_loop(trials, clip, batch_size):
    X, y = trials.X_train, trials.y_train
    kw = dict(lr=0.5, steps=60, clip=clip, tau=0.3 if clip != "composite" else 1.36, batch_size=batch_size)
    vec = train_gd(LOGISTIC, X, y, rng=trial_rngs(7, 5), **kw)
    loop = [train_gd(LOGISTIC, X[t], y[t], rng=[r], **kw) for t, r in enumerate(trial_rngs(7, 5))]
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
    population level, robust to the scale of theta (paper-notes section 8)."""
    return np.sign(theta @ long_servedio().atoms.T)


@pytest.mark.parametrize("loss", [LOGISTIC, HUBER, PHUBER], ids=lambda l: l.name)
def test_slsqp_and_vectorised_gd_agree_on_classification(trials, loss):
    X, y = trials.X_train, trials.y_train
    th_ref = fit_slsqp_trials(loss, X, y)
    th_gd = train_gd(loss, X, y, lr=2.0, steps=3000, record_every=0).theta
    np.testing.assert_array_equal(_atom_signs(th_gd), _atom_signs(th_ref))


def test_slsqp_protocol_reproduces_the_paper_on_small_trials(trials):
    acc = {
        loss.name: test_accuracy(fit_slsqp_trials(loss, trials.X_train, trials.y_train), trials.X_test, trials.y_test)
        for loss in (LOGISTIC, HUBER, PHUBER)
    }
    assert np.all(acc["partially_huberised"] >= 0.98)
    assert np.all(acc["logistic"] <= 0.75) and np.all(acc["huberised"] <= 0.75)


def test_fit_slsqp_result(trials):
    r = fit_slsqp(LOGISTIC, trials.X_train[0], trials.y_train[0])
    assert r.theta.shape == (2,) and 0 < r.nit <= 100
    # a converged convex fit is stationary (SLSQP's default ftol 1e-6 on the risk)
    assert np.linalg.norm(mean_grad(LOGISTIC, r.theta, trials.X_train[0], trials.y_train[0])) < 1e-2
    rb = fit_slsqp(LOGISTIC, trials.X_train[0], trials.y_train[0], bias=True)
    assert rb.theta.shape == (3,)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(lr=0.0, steps=1), r"lr=0.0 is outside its domain \(0, inf\)"),
        (dict(lr=1.0, steps=-1), "steps=-1"),
        (dict(lr=1.0, steps=1, clip="foo"), "clip='foo' is unknown"),
        (dict(lr=1.0, steps=1, clip="global", tau=0.0), "tau=0.0"),
        (dict(lr=1.0, steps=1, batch_size=2), "rng is required"),
        (dict(lr=1.0, steps=1, batch_size=0, rng=np.random.default_rng()), "batch_size=0"),
    ],
)
def test_bad_inputs(trials, kw, match):
    with pytest.raises(ValueError, match=match):
        train_gd(LOGISTIC, trials.X_train[0], trials.y_train[0], **kw)


def test_composite_needs_a_composite_loss(trials):
    with pytest.raises(ValueError, match="composite loss"):
        train_gd(make_loss("unhinged"), trials.X_train[0], trials.y_train[0], lr=1.0, steps=1, clip="composite", tau=2.0)
