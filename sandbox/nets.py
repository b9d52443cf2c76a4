"""Small NumPy classifiers trained on a multiclass loss's logit gradient (the paper's Table 2, sandbox-sized).

Models (frozen dataclasses; parameters are a ``dict[str, ndarray]``, ordered as ``model.param_names``):

* :class:`SoftmaxRegression`: ``logits = X W + b``.
* :class:`MLP`: one hidden ReLU layer, ``logits = relu(X W1 + b1) W2 + b2``.

Objective for a batch ``(X (n, d), y (n,))`` and a loss ``ell`` from :mod:`sandbox.multiclass`::

    L(theta) = (1/n) sum_i ell(f_theta(x_i), y_i)
    dL/dtheta = (1/n) sum_i J_i^T G_i,     G_i = d ell / d logits_i   (n, K), from the loss itself

and backpropagation applies the transposed Jacobians ``J_i^T`` layer by layer (written once, in
``value_and_grad``). :func:`train_net` runs mini-batch SGD (optionally with momentum) or Adam; with
``clip_norm`` set it clips the *global* norm of the loss gradient over all parameters, flattened into
one vector (the paper's "CE + clipping", max norm 0.1), before the optimiser step. Weight decay is
coupled L2, ``g + weight_decay * theta``, added after clipping (as ``torch.optim`` does after
``clip_grad_norm_``).

Determinism: every stochastic function takes ``rng`` (an int seed or a ``numpy.random.Generator``);
:func:`train_net` draws the
initial parameters and then one permutation per epoch from it, nothing else. All arithmetic of a model
runs in its ``dtype`` (``float32`` by default, for speed); the loss is evaluated in float64 on the
logits and its gradient is cast back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Union

import numpy as np

from ._checks import InputTypeError, check_interval, check_positive_int
from .clipping import clip_by_global_norm
from .rng import as_generator

__all__ = [
    "SoftmaxRegression",
    "MLP",
    "Model",
    "TrainConfig",
    "NetResult",
    "flatten_params",
    "unflatten_params",
    "predict",
    "accuracy",
    "train_net",
]

Params = dict[str, np.ndarray]
LossFn = Callable[[np.ndarray, np.ndarray], "tuple[np.ndarray, np.ndarray]"]


def _dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype={dtype!r} must be float32 or float64")
    return dt


def _uniform(rng: np.random.Generator, bound: float, shape, dtype) -> np.ndarray:
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def _loss_grad(loss: LossFn, logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean loss and ``G = (1/n) d ell_i / d logits_i`` ``(n, K)``, in the logits' dtype."""
    values, grad = loss(logits.astype(np.float64), y)
    G = (grad / logits.shape[0]).astype(logits.dtype)
    _flush_subnormals(G)
    return float(np.mean(values)), G


def _flush_subnormals(a: np.ndarray) -> None:
    """Set entries below the dtype's smallest normal number to zero, in place.

    Subnormal operands make float arithmetic on many CPUs ~100x slower; in float32 they appear in
    Adam's decaying moments (``m <- beta1 m``) and in the gradients of confidently fitted examples.
    Changing a value below ``1.2e-38`` (float32) to 0 does not change any result that matters.
    """
    np.copyto(a, 0, where=np.abs(a) < np.finfo(a.dtype).tiny)


@dataclass(frozen=True)
class SoftmaxRegression:
    """Multinomial logistic regression ``logits = X W + b`` with ``W (d, K)``, ``b (K,)``.

    Initialisation: ``W, b ~ U(-1/sqrt(d), 1/sqrt(d))`` (PyTorch's ``nn.Linear`` default).
    """

    num_features: int
    num_classes: int
    dtype: str = "float32"

    param_names = ("W", "b")

    def __post_init__(self):
        check_positive_int("num_features", self.num_features)
        check_positive_int("num_classes", self.num_classes, minimum=2)
        _dtype(self.dtype)

    def init(self, rng: np.random.Generator) -> Params:
        """Fresh parameters drawn from ``rng``."""
        bound = 1.0 / np.sqrt(self.num_features)
        return {
            "W": _uniform(rng, bound, (self.num_features, self.num_classes), self.dtype),
            "b": _uniform(rng, bound, (self.num_classes,), self.dtype),
        }

    def logits(self, params: Params, X) -> np.ndarray:
        """``X (n, d) -> logits (n, K)``."""
        X = np.asarray(X, dtype=self.dtype)
        return X @ params["W"] + params["b"]

    def value_and_grad(self, params: Params, X, y, loss: LossFn) -> tuple[float, Params]:
        """Mean loss over the batch and its gradient: ``dW = X^T G``, ``db = sum_i G_i``."""
        X = np.asarray(X, dtype=self.dtype)
        value, G = _loss_grad(loss, self.logits(params, X), y)
        return value, {"W": X.T @ G, "b": G.sum(axis=0)}


@dataclass(frozen=True)
class MLP:
    """One-hidden-layer ReLU network ``logits = relu(X W1 + b1) W2 + b2``.

    ``W1 (d, h)``, ``b1 (h,)``, ``W2 (h, K)``, ``b2 (K,)``; each layer initialised
    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (PyTorch's ``nn.Linear`` default).
    """

    num_features: int
    hidden: int
    num_classes: int
    dtype: str = "float32"

    param_names = ("W1", "b1", "W2", "b2")

    def __post_init__(self):
        check_positive_int("num_features", self.num_features)
        check_positive_int("hidden", self.hidden)
        check_positive_int("num_classes", self.num_classes, minimum=2)
        _dtype(self.dtype)

    def init(self, rng: np.random.Generator) -> Params:
        """Fresh parameters drawn from ``rng`` (``W1, b1`` first, then ``W2, b2``)."""
        b1 = 1.0 / np.sqrt(self.num_features)
        b2 = 1.0 / np.sqrt(self.hidden)
        return {
            "W1": _uniform(rng, b1, (self.num_features, self.hidden), self.dtype),
            "b1": _uniform(rng, b1, (self.hidden,), self.dtype),
            "W2": _uniform(rng, b2, (self.hidden, self.num_classes), self.dtype),
            "b2": _uniform(rng, b2, (self.num_classes,), self.dtype),
        }

    def logits(self, params: Params, X) -> np.ndarray:
        """``X (n, d) -> logits (n, K)``."""
        X = np.asarray(X, dtype=self.dtype)
        return np.maximum(X @ params["W1"] + params["b1"], 0) @ params["W2"] + params["b2"]

    def value_and_grad(self, params: Params, X, y, loss: LossFn) -> tuple[float, Params]:
        """Mean loss and gradient by backpropagation::

            a = relu(X W1 + b1);  G = dL/dlogits
            dW2 = a^T G;  db2 = sum_i G_i;  D = (G W2^T) * [a > 0];  dW1 = X^T D;  db1 = sum_i D_i
        """
        X = np.asarray(X, dtype=self.dtype)
        a = np.maximum(X @ params["W1"] + params["b1"], 0)
        value, G = _loss_grad(loss, a @ params["W2"] + params["b2"], y)
        D = (G @ params["W2"].T) * (a > 0)
        return value, {"W1": X.T @ D, "b1": D.sum(axis=0), "W2": a.T @ G, "b2": G.sum(axis=0)}


Model = Union[SoftmaxRegression, MLP]


def flatten_params(model: Model, params: Params) -> np.ndarray:
    """All parameters (or gradients) as one vector ``(P,)``, in ``model.param_names`` order."""
    return np.concatenate([np.ravel(params[k]) for k in model.param_names])


def unflatten_params(model: Model, vector: np.ndarray, like: Params) -> Params:
    """Inverse of :func:`flatten_params`: views into ``vector`` shaped like ``like``'s arrays."""
    out, start = {}, 0
    for k in model.param_names:
        size = like[k].size
        out[k] = vector[start : start + size].reshape(like[k].shape)
        start += size
    if start != vector.size:
        raise ValueError(f"vector has {vector.size} entries; the parameters need {start}")
    return out


def predict(model: Model, params: Params, X, *, batch_size: int = 2048) -> np.ndarray:
    """Predicted classes ``argmax_k logits (n,)``, computed in chunks of ``batch_size`` rows."""
    X = np.asarray(X)
    return np.concatenate(
        [np.argmax(model.logits(params, X[i : i + batch_size]), axis=1) for i in range(0, len(X), batch_size)]
        or [np.empty(0, dtype=np.intp)]
    )


def accuracy(model: Model, params: Params, X, y) -> float:
    """Fraction of rows of ``X`` whose predicted class equals ``y``."""
    return float(np.mean(predict(model, params, X) == np.asarray(y)))


@dataclass(frozen=True)
class TrainConfig:
    """Mini-batch training hyperparameters.

    ``optimizer``: ``"adam"`` (``beta1``, ``beta2``, ``eps``) or ``"sgd"`` (``momentum`` in [0, 1),
    PyTorch convention ``v <- momentum v + g; theta <- theta - lr v``). ``clip_norm``: ``None`` (no
    clipping) or the max global norm of the loss gradient. ``weight_decay``: coupled L2 coefficient.
    The last batch of an epoch may be smaller than ``batch_size`` (nothing is dropped).
    """

    epochs: int = 20
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    weight_decay: float = 0.0
    clip_norm: float | None = None
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self):
        check_positive_int("epochs", self.epochs, minimum=0)
        check_positive_int("batch_size", self.batch_size)
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer={self.optimizer!r} must be 'adam' or 'sgd'")
        check_interval("lr", self.lr, 0.0, np.inf, low_open=True, high_open=True)
        check_interval("momentum", self.momentum, 0.0, 1.0, high_open=True)
        check_interval("weight_decay", self.weight_decay, 0.0, np.inf, high_open=True)
        if self.clip_norm is not None:
            check_interval("clip_norm", self.clip_norm, 0.0, np.inf, low_open=True)
        check_interval("beta1", self.beta1, 0.0, 1.0, high_open=True)
        check_interval("beta2", self.beta2, 0.0, 1.0, high_open=True)
        check_interval("eps", self.eps, 0.0, np.inf, low_open=True, high_open=True)


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class NetResult:
    """Outcome of :func:`train_net`.

    ``params``: final parameters. ``loss_history``: ``(epochs,)`` mean training loss of each epoch
    (averaged over its mini-batches, measured before each step). ``clipped_fraction``: fraction of steps
    whose gradient was clipped (0 without clipping). ``steps``: number of optimiser steps.
    """

    params: Params = field(repr=False)
    loss_history: np.ndarray
    clipped_fraction: float
    steps: int


def train_net(
    loss: LossFn,
    X,
    y,
    *,
    model: Model,
    config: TrainConfig,
    rng,
    params: Params | None = None,
) -> NetResult:
    """Minimise ``(1/n) sum_i loss(f(x_i), y_i)`` by mini-batch SGD or Adam; see :class:`TrainConfig`.

    Shapes: ``X (n, d)``, ``y (n,)`` integer labels. ``params`` (copied, not modified) defaults to
    ``model.init(rng)``; each epoch visits the examples in the order ``rng.permutation(n)``.
    One step on the batch ``B``, with ``g`` all parameter gradients flattened into one vector::

        g <- g * min(1, clip_norm / ||g||)            (if clip_norm is set)
        g <- g + weight_decay * theta
        Adam or SGD(+momentum) update of theta with g
    """
    if not callable(loss):
        raise InputTypeError(f"loss={loss!r} must be a multiclass loss (sandbox.multiclass.make_multiclass_loss)")
    X = np.asarray(X, dtype=model.dtype)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[0] != y.shape[0] or y.ndim != 1:
        raise ValueError(f"X must be (n, d) and y (n,); got X{X.shape}, y{y.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite (found NaN or inf)")
    rng = as_generator(rng)
    if params is None:
        params = model.init(rng)
    dtype = np.dtype(model.dtype)
    theta = flatten_params(model, params).astype(dtype)  # a fresh copy: the caller's arrays are safe
    views = unflatten_params(model, theta, params)  # updated in place through theta
    m = np.zeros_like(theta)
    v = np.zeros_like(theta) if config.optimizer == "adam" else None
    n, bs = X.shape[0], config.batch_size
    history = np.zeros(config.epochs)
    steps = n_clipped = 0
    for epoch in range(config.epochs):
        order = rng.permutation(n)
        total = 0.0
        for start in range(0, n, bs):
            idx = order[start : start + bs]
            value, grads = model.value_and_grad(views, X[idx], y[idx], loss)
            total += value * idx.size
            g = flatten_params(model, grads)
            if config.clip_norm is not None:
                g, was_clipped = clip_by_global_norm(g, tau=config.clip_norm)
                g = g.astype(dtype, copy=False)
                n_clipped += bool(was_clipped)
            if config.weight_decay:
                g = g + dtype.type(config.weight_decay) * theta
            steps += 1
            if config.optimizer == "adam":
                m *= config.beta1
                m += (1.0 - config.beta1) * g
                v *= config.beta2
                v += (1.0 - config.beta2) * (g * g)
                lr_t = config.lr * np.sqrt(1.0 - config.beta2**steps) / (1.0 - config.beta1**steps)
                # theta -= lr * m_hat / (sqrt(v_hat) + eps), with eps folded in the bias correction
                eps_t = config.eps * np.sqrt(1.0 - config.beta2**steps)
                theta -= dtype.type(lr_t) * m / (np.sqrt(v) + dtype.type(eps_t))
                _flush_subnormals(m)
                _flush_subnormals(v)
            else:
                if config.momentum:
                    m *= config.momentum
                    m += g
                    _flush_subnormals(m)
                    g = m
                theta -= dtype.type(config.lr) * g
        history[epoch] = total / n
    final = {k: a.copy() for k, a in views.items()}
    return NetResult(final, history, n_clipped / steps if steps else 0.0, steps)
