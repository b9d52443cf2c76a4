"""Generators and label flips: shapes, determinism per seed, independence, flip statistics, budgets."""

import numpy as np
import pytest
from scipy import stats

from sandbox import data as D
from sandbox import noise as N
from sandbox.linear import accuracy
from sandbox.rng import as_generator, child_rngs
from sandbox.trials import long_servedio_trials


def test_long_servedio_atoms():
    d = D.long_servedio(gamma=1 / 24)
    g = 1 / 24
    np.testing.assert_array_equal(d.atoms, [[1, 0], [g, 5 * g], [g, -g]])
    np.testing.assert_array_equal(d.weights, [0.25, 0.25, 0.5])
    assert d.weights.sum() == 1.0 and np.all(d.labels == 1)
    assert d.names == ("large_margin", "puller", "penalizer")
    assert np.all(d.atoms[:, 0] > 0)  # x1 > 0 classifies every atom correctly


def test_sample_discrete_frequencies():
    d = D.long_servedio()
    s = D.sample_discrete(d, 20000, rng=np.random.default_rng(0))
    assert s.X.shape == (20000, 2) and s.y.shape == (20000,) and s.group.shape == (20000,)
    freq = np.bincount(s.group, minlength=3) / 20000
    # binomial std sqrt(p(1-p)/n) <= 0.0036; 5 sigma
    np.testing.assert_allclose(freq, d.weights, atol=0.018)
    np.testing.assert_array_equal(s.X, d.atoms[s.group])


def test_mixture_shapes_labels_and_components():
    ds = D.long_servedio_mixture(4000, rng=np.random.default_rng(1), gamma=1 / 24, sigma=0.01)
    assert ds.X.shape == (4000, 2) and ds.y.shape == (4000,) and ds.group.shape == (4000,)
    np.testing.assert_array_equal(ds.y, np.where(ds.X[:, 0] >= 0, 1.0, -1.0))
    # negative copies give the same y * x as the positive ones: components s*mu (s = -1 for groups 3-5)
    mu = D.long_servedio().atoms
    sign = np.where(ds.group < 3, 1.0, -1.0)
    resid = ds.X - sign[:, None] * mu[ds.group % 3]
    # residuals are N(0, sigma^2): sample std within 5% of sigma for 8000 draws
    assert abs(resid.std() / 0.01 - 1) < 0.05
    freq = np.bincount(ds.group, minlength=6) / 4000
    np.testing.assert_allclose(freq, [1 / 8, 1 / 8, 1 / 4] * 2, atol=0.03)


def test_ding_outliers():
    inl, out = D.ding_outliers(rng=np.random.default_rng(2))
    assert inl.X.shape == (10000, 1) and out.X.shape == (50, 1)
    assert set(np.unique(inl.y)) == {-1.0, 1.0} and set(np.unique(out.y)) == {-1.0, 1.0}
    yx_all = np.concatenate([inl.y * inl.X[:, 0], out.y * out.X[:, 0]])
    # mean(y x) = (10000 * 1 - 50 * 200) / 10050 = 0 in expectation; sampling std ~ 0.1
    assert abs(yx_all.mean()) < 0.1
    assert (inl.y * inl.X[:, 0]).mean() == pytest.approx(1.0, abs=0.05)
    assert np.all(out.y * out.X[:, 0] < -150)


def test_generators_are_deterministic_per_seed():
    a = D.long_servedio_mixture(50, rng=np.random.default_rng(0))
    b = D.long_servedio_mixture(50, rng=np.random.default_rng(0))
    c = D.long_servedio_mixture(50, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)
    # seed 0 is a valid seed, not "no seed"
    np.testing.assert_array_equal(as_generator(0).random(3), np.random.default_rng(0).random(3))


def test_trial_streams_are_independent_and_indexed():
    rngs = child_rngs(0, 4)
    draws = np.array([r.random(1000) for r in rngs])
    corr = np.corrcoef(draws)
    # independent streams: sample correlations ~ N(0, 1/1000); 5 sigma = 0.16
    assert np.all(np.abs(corr[~np.eye(4, dtype=bool)]) < 0.16)
    assert len({d.tobytes() for d in draws}) == 4
    big = long_servedio_trials(trials=6, n_train=30, n_test=10, rho=0.2, rng=5)
    part = long_servedio_trials(trials=2, n_train=30, n_test=10, rho=0.2, rng=5, first_trial=4)
    np.testing.assert_array_equal(big.X_train[4:], part.X_train)
    np.testing.assert_array_equal(big.y_train[4:], part.y_train)
    np.testing.assert_array_equal(big.X_test[4:], part.X_test)
    assert not np.array_equal(big.X_train[0], big.X_train[1])


def test_trials_shapes_and_accuracy():
    t = long_servedio_trials(trials=3, n_train=40, n_test=20, rho=0.3, rng=0)
    assert t.X_train.shape == (3, 40, 2) and t.y_train.shape == (3, 40) and t.X_test.shape == (3, 20, 2)
    np.testing.assert_allclose(t.realised_rho, np.mean(t.y_train != t.y_train_clean, axis=1))
    perfect = np.tile([1.0, 0.0], (3, 1))
    np.testing.assert_array_equal(accuracy(perfect, t.X_test, t.y_test), 1.0)
    np.testing.assert_array_equal(accuracy(np.zeros((3, 2)), t.X_test, t.y_test), 0.5)


@pytest.mark.parametrize("rho", [0.0, 0.1, 0.2, 0.45])
def test_symmetric_flip_rate_within_binomial_bound(rho):
    n = 5000
    y = np.where(np.arange(n) % 3 == 0, -1.0, 1.0)
    for seed in range(5):
        yn, f = N.flip_symmetric(y, rho=rho, rng=np.random.default_rng(seed))
        k = int(f.sum())
        # two-sided 99.9% binomial interval for the number of flips
        lo, hi = stats.binom.interval(0.999, n, rho)
        assert lo <= k <= hi
        np.testing.assert_array_equal(yn[f], -y[f])
        np.testing.assert_array_equal(yn[~f], y[~f])


def test_exact_fraction_flips_exactly_the_budget():
    y = np.ones((4, 101))
    yn, f = N.flip_exact_fraction(y, rho=0.3, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(f.sum(axis=1), round(0.3 * 101))
    np.testing.assert_array_equal(yn, np.where(f, -1.0, 1.0))
    assert len({row.tobytes() for row in f}) == 4  # rows get different subsets


def test_class_conditional_rates():
    y = np.repeat([1.0, -1.0], 20000)
    yn, f = N.flip_class_conditional(y, rho_pos=0.3, rho_neg=0.1, rng=np.random.default_rng(0))
    # std of a rate over 20000 draws <= 0.0033; 5 sigma
    assert f[:20000].mean() == pytest.approx(0.3, abs=0.017)
    assert f[20000:].mean() == pytest.approx(0.1, abs=0.017)


def test_largest_margin_flips():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 2))
    y = np.where(X[:, 0] > 0, 1.0, -1.0)
    theta = np.array([1.0, 0.0])
    yn, f = N.flip_largest_margin(y, X, theta, rho=0.1)
    assert f.sum() == 10
    z = y * X[:, 0]
    assert z[f].min() >= z[~f].max()  # exactly the largest clean margins
    np.testing.assert_array_equal(np.flatnonzero(f), np.sort(np.argsort(-z)[:10]))
    yn2, f2 = N.flip_largest_margin(y, X, theta, rho=0.1)
    np.testing.assert_array_equal(f, f2)  # deterministic


def test_group_flips():
    group = np.repeat([0, 1, 2], [25, 25, 50])
    y = np.ones(100)
    yn, f = N.flip_group(y, group, target=0, rho=0.2, rng=np.random.default_rng(0))
    assert f.sum() == 20 and np.all(group[f] == 0)
    with pytest.raises(ValueError, match="rho=0.3 asks for 30 flips"):
        N.flip_group(y, group, target=0, rho=0.3, rng=np.random.default_rng(0))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: N.flip_symmetric(np.ones(3), rho=0.5, rng=np.random.default_rng()), r"rho=0.5 is outside its domain \[0, 0.5\)"),
        (lambda: N.flip_symmetric(np.ones(3), rho=-0.1, rng=np.random.default_rng()), "rho=-0.1"),
        (lambda: N.flip_exact_fraction(np.ones(3), rho=1.5, rng=np.random.default_rng()), r"rho=1.5 is outside its domain \[0, 1\]"),
        (lambda: N.flip_largest_margin(np.ones(3), np.ones((3, 1)), np.ones(1), rho=-1), "rho=-1"),
        (lambda: N.flip_class_conditional(np.ones(3), rho_pos=0.6, rho_neg=0.5, rng=np.random.default_rng()), "rho_pos \\+ rho_neg"),
        (lambda: N.flip_class_conditional(np.ones(3), rho_pos=1.2, rho_neg=0.0, rng=np.random.default_rng()), "rho_pos=1.2"),
        (lambda: N.flip_symmetric(np.array([0.0, 1.0]), rho=0.1, rng=np.random.default_rng()), r"labels in \{-1, \+1\}"),
        (lambda: D.long_servedio(gamma=0.2), r"gamma=0.2 is outside its domain \(0, 0.166667\)"),
        (lambda: D.long_servedio_mixture(0, rng=np.random.default_rng()), "n=0"),
        (lambda: D.long_servedio_mixture(5, rng=np.random.default_rng(), sigma=-1), "sigma=-1"),
        (lambda: long_servedio_trials(trials=0, n_train=5, n_test=5, rho=0.1, rng=0), "trials=0"),
        (lambda: long_servedio_trials(trials=1, n_train=5, n_test=5, rho=0.5, rng=0), "rho=0.5"),
        (lambda: as_generator(-1), "rng=-1"),
        (lambda: child_rngs(0, 0), "n=0"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_flips_report_their_indices():
    y = np.ones(10)
    res = N.flip_largest_margin(y, np.arange(10.0)[:, None], np.ones(1), rho=0.3)
    yn, f = res  # unpacks as (y_noisy, flipped)
    np.testing.assert_array_equal(res.indices[0], [7, 8, 9])  # the three largest margins
    np.testing.assert_array_equal(yn[res.indices], -1.0)
    batched = N.flip_exact_fraction(np.ones((2, 5)), rho=0.4, rng=np.random.default_rng(0))
    rows, cols = batched.indices
    np.testing.assert_array_equal(np.bincount(rows), [2, 2])
