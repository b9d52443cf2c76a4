"""NumPy networks (sandbox.nets): backprop vs finite differences, clipping, Adam, determinism."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sandbox import nets
from sandbox.multiclass import make_multiclass_loss

D, H, K, N = 6, 5, 4, 7
MODELS = {
    "softmax": nets.SoftmaxRegression(D, K, dtype="float64"),
    "mlp": nets.MLP(D, H, K, dtype="float64"),
}


def _problem(seed: int, n: int = N):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, D)), rng.integers(0, K, size=n)


def _blobs(seed: int, n: int = 300, k: int = 3, d: int = 5):
    """Well-separated Gaussian classes: any sane trainer reaches high accuracy."""
    rng = np.random.default_rng(seed)
    centres = 3.0 * rng.standard_normal((k, d))
    y = rng.integers(0, k, size=n)
    return centres[y] + rng.standard_normal((n, d)), y


@pytest.mark.parametrize("kind", list(MODELS))
@pytest.mark.parametrize("loss_name, params", [("ce", {}), ("phuber_ce", {"tau": 2.0}), ("gce", {})])
def test_gradient_matches_finite_differences(kind, loss_name, params):
    model = MODELS[kind]
    loss = make_multiclass_loss(loss_name, **params)
    X, y = _problem(0)
    p = model.init(np.random.default_rng(1))
    if kind == "mlp":  # keep every pre-activation away from the ReLU kink, so differences are smooth
        assert np.min(np.abs(X @ p["W1"] + p["b1"])) > 1e-3
    _, grads = model.value_and_grad(p, X, y, loss)
    theta = nets.flatten_params(model, p)
    g = nets.flatten_params(model, grads)
    h = 1e-6
    num = np.empty_like(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = h
        f = lambda t: model.value_and_grad(nets.unflatten_params(model, t, p), X, y, loss)[0]  # noqa: E731
        num[j] = (f(theta + e) - f(theta - e)) / (2 * h)
    # central differences on a mean loss of size ~1: truncation ~h^2 ~ 1e-12, rounding ~eps/h ~ 1e-10
    np.testing.assert_allclose(g, num, atol=1e-8)


def test_flatten_unflatten_round_trip():
    model = MODELS["mlp"]
    p = model.init(np.random.default_rng(0))
    theta = nets.flatten_params(model, p)
    assert theta.shape == (D * H + H + H * K + K,)
    back = nets.unflatten_params(model, theta, p)
    for k in model.param_names:
        np.testing.assert_array_equal(back[k], p[k])
        assert np.shares_memory(back[k], theta)  # views: updating theta updates the parameters
    with pytest.raises(ValueError, match="entries"):
        nets.unflatten_params(model, np.zeros(theta.size + 1), p)


@pytest.mark.parametrize("kind", list(MODELS))
def test_clipped_step_has_norm_at_most_tau_and_the_gradient_direction(kind):
    model = MODELS[kind]
    X, y = _problem(2, n=16)
    X = 50.0 * X  # large inputs -> a gradient norm far above 0.1, so clipping is active
    loss = make_multiclass_loss("ce")
    p0 = model.init(np.random.default_rng(3))
    cfg = nets.TrainConfig(epochs=1, batch_size=16, optimizer="sgd", lr=1.0, clip_norm=0.1)
    res = nets.train_net(loss, X, y, model=model, config=cfg, rng=np.random.default_rng(4), params=p0)
    step = nets.flatten_params(model, p0) - nets.flatten_params(model, res.params)  # = lr * clipped g
    g = nets.flatten_params(model, model.value_and_grad(p0, X, y, loss)[1])
    assert np.linalg.norm(g) > 1.0 and res.clipped_fraction == 1.0
    # norm == tau up to rounding of a sum over ~60 entries (the trainer sees the rows permuted)
    assert np.linalg.norm(step) <= 0.1 * (1 + 1e-12)
    np.testing.assert_allclose(step, g * 0.1 / np.linalg.norm(g), rtol=1e-10, atol=1e-15)


def test_clipping_during_training_keeps_every_step_small():
    model = nets.MLP(D, H, K, dtype="float64")
    X, y = _blobs(5, d=D, k=K)
    cfg = nets.TrainConfig(epochs=3, batch_size=10, optimizer="sgd", lr=1.0, clip_norm=0.1)
    res = nets.train_net(make_multiclass_loss("ce"), 20 * X, y, model=model, config=cfg, rng=np.random.default_rng(6))
    steps = res.steps
    p0 = model.init(np.random.default_rng(6))  # train drew its initial parameters from the same stream first
    moved = np.linalg.norm(nets.flatten_params(model, res.params) - nets.flatten_params(model, p0))
    assert 0 < res.clipped_fraction < 1  # clipped early (large inputs), not once the fit is good
    assert moved <= 0.1 * steps * (1 + 1e-12)  # triangle inequality over steps of length <= lr * 0.1


def test_first_adam_step_is_lr_times_sign():
    # Adam's first step: m_hat = g, v_hat = g^2, so the update is lr * g / (|g| + eps) ~ lr * sign(g)
    model = MODELS["softmax"]
    X, y = _problem(7, n=8)
    p0 = model.init(np.random.default_rng(8))
    loss = make_multiclass_loss("ce")
    cfg = nets.TrainConfig(epochs=1, batch_size=8, optimizer="adam", lr=1e-2)
    res = nets.train_net(loss, X, y, model=model, config=cfg, rng=np.random.default_rng(9), params=p0)
    g = nets.flatten_params(model, model.value_and_grad(p0, X, y, loss)[1])
    step = nets.flatten_params(model, p0) - nets.flatten_params(model, res.params)
    big = np.abs(g) > 1e-4  # where eps = 1e-8 is negligible next to |g|
    assert big.sum() > 10
    np.testing.assert_allclose(step[big], 1e-2 * np.sign(g[big]), rtol=1e-4)  # eps/|g| <= 1e-4


def test_same_seed_identical_weights_different_seed_different():
    model = nets.MLP(D, 8, 3)  # float32, the table's dtype
    X, y = _blobs(10, d=D)
    cfg = nets.TrainConfig(epochs=3, batch_size=16, clip_norm=0.1, weight_decay=1e-4)
    loss = make_multiclass_loss("phuber_ce", tau=2.0)
    a = nets.train_net(loss, X, y, model=model, config=cfg, rng=np.random.default_rng(11))
    b = nets.train_net(loss, X, y, model=model, config=cfg, rng=np.random.default_rng(11))
    c = nets.train_net(loss, X, y, model=model, config=cfg, rng=np.random.default_rng(12))
    for k in model.param_names:
        np.testing.assert_array_equal(a.params[k], b.params[k])  # bit-for-bit: same stream, same arithmetic
        assert a.params[k].dtype == np.float32
    np.testing.assert_array_equal(a.loss_history, b.loss_history)
    assert not np.array_equal(a.params["W1"], c.params["W1"])


@pytest.mark.parametrize("kind", ["softmax", "mlp"])
@pytest.mark.parametrize("optimizer, lr, momentum", [("adam", 1e-2, 0.0), ("sgd", 0.05, 0.9)])
def test_training_reduces_loss_and_learns(kind, optimizer, lr, momentum):
    X, y = _blobs(13)
    model = nets.SoftmaxRegression(5, 3) if kind == "softmax" else nets.MLP(5, 16, 3)
    loss = make_multiclass_loss("ce")
    p0 = model.init(np.random.default_rng(14))
    before = model.value_and_grad(p0, X, y, loss)[0]
    cfg = nets.TrainConfig(epochs=10, batch_size=32, optimizer=optimizer, lr=lr, momentum=momentum)
    res = nets.train_net(loss, X, y, model=model, config=cfg, rng=np.random.default_rng(15), params=p0)
    after = model.value_and_grad(res.params, X, y, loss)[0]
    assert after < 0.5 * before and res.loss_history[-1] < res.loss_history[0]
    assert nets.accuracy(model, res.params, X, y) > 0.9  # separated blobs (centres ~3 sd apart)
    assert res.steps == 10 * 10 and res.clipped_fraction == 0.0  # ceil(300 / 32) = 10 batches per epoch


@pytest.mark.parametrize("clip_norm", [None, 0.1])
def test_weight_decay_is_added_after_clipping(clip_norm):
    # one full-batch SGD step: theta1 = theta0 - lr * (clip(g) + weight_decay * theta0)
    model = MODELS["softmax"]
    X, y = _problem(21, n=12)
    loss = make_multiclass_loss("ce")
    p0 = model.init(np.random.default_rng(22))
    cfg = nets.TrainConfig(epochs=1, batch_size=12, optimizer="sgd", lr=0.3, weight_decay=0.5, clip_norm=clip_norm)
    res = nets.train_net(loss, X, y, model=model, config=cfg, rng=np.random.default_rng(23), params=p0)
    theta0 = nets.flatten_params(model, p0)
    g = nets.flatten_params(model, model.value_and_grad(p0, X, y, loss)[1])
    if clip_norm is not None:
        assert np.linalg.norm(g) > clip_norm
        g = g * clip_norm / np.linalg.norm(g)
    expected = theta0 - 0.3 * (g + 0.5 * theta0)
    # rtol 1e-12: the trainer sums the batch in a permuted order; otherwise identical arithmetic
    np.testing.assert_allclose(nets.flatten_params(model, res.params), expected, rtol=1e-12, atol=1e-15)


def test_train_does_not_modify_initial_params_and_predicts():
    model = MODELS["mlp"]
    X, y = _blobs(18, d=D, k=K)
    p0 = model.init(np.random.default_rng(19))
    copy = {k: v.copy() for k, v in p0.items()}
    nets.train_net(make_multiclass_loss("ce"), X, y, model=model, config=nets.TrainConfig(epochs=1),
               rng=np.random.default_rng(20), params=p0)
    for k in p0:
        np.testing.assert_array_equal(p0[k], copy[k])
    pred = nets.predict(model, p0, X, batch_size=7)  # chunked prediction == one-shot argmax
    np.testing.assert_array_equal(pred, np.argmax(model.logits(p0, X), axis=1))


def test_config_and_model_validation():
    with pytest.raises(ValueError, match="optimizer"):
        nets.TrainConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match=r"clip_norm=0\.0 is outside its domain"):
        nets.TrainConfig(clip_norm=0.0)
    with pytest.raises(ValueError, match=r"lr=-1"):
        nets.TrainConfig(lr=-1.0)
    with pytest.raises(ValueError, match="dtype"):
        nets.MLP(3, 4, 2, dtype="float16")
    with pytest.raises(ValueError, match="num_classes"):
        nets.SoftmaxRegression(3, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        nets.TrainConfig().lr = 1.0
