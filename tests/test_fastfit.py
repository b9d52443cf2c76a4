"""The batched SLSQP fast path: agrees with the per-trial SciPy protocol, chunk- and thread-invariant.

Reference values come from SciPy itself (``sandbox.train.fit_slsqp``, i.e. ``scipy.optimize.minimize
(method="SLSQP")``) and from a line-by-line scalar port of ``ldl_update`` in SciPy's ``__slsqp.c``
(below), never from the code under test.
"""

import math

import numpy as np
import pytest

from sandbox import fastfit
from sandbox.fastfit import FastFitResult, bytes_per_trial, fig2a_fast, fit_linear_trials
from sandbox.linear import scores
from sandbox.losses import MarginLoss, logistic, make_loss
from sandbox.presets import get_preset
from sandbox.train import fit_slsqp, fit_slsqp_trials
from sandbox.trials import long_servedio_trials, test_accuracy

LOSSES = {
    "logistic": make_loss("logistic"),
    "huberised": make_loss("huberised", tau=0.26),
    "partially_huberised": make_loss("partially_huberised", tau=1.36),
}


def _labels(theta, X):
    return np.sign(scores(theta, X))


@pytest.fixture(scope="module")
def rescience40():
    """40 trials at the default (rescience) setting: rho 0.2, n_train 1000, n_test 500."""
    p = get_preset("rescience")
    return long_servedio_trials(trials=40, n_train=p.n_train, n_test=p.n_test, rho=p.rho, seed=11)


@pytest.fixture(scope="module")
def small_noisy():
    """40 smaller trials at the paper's noise rate (rho 0.45, n_train 200): wider spread of fits."""
    return long_servedio_trials(trials=40, n_train=200, n_test=200, rho=0.45, seed=5)


# --------------------------------------------------------------------------------------------------
# Agreement with the per-trial SciPy protocol
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("which", ["rescience40", "small_noisy"])
def test_classifications_agree_with_per_trial_slsqp(name, which, request):
    data = request.getfixturevalue(which)
    loss = LOSSES[name]
    ref = fit_slsqp_trials(loss, data.X_train, data.y_train, maxiter=100)
    fast = fit_linear_trials(loss, data.X_train, data.y_train, maxiter=100)
    same = np.all(_labels(fast.theta, data.X_test) == _labels(ref, data.X_test), axis=1)
    # the rule is >= 99% of trials; with 40 trials that means all of them
    assert same.mean() >= 0.99, np.flatnonzero(~same)
    np.testing.assert_array_equal(
        test_accuracy(fast.theta, data.X_test, data.y_test), test_accuracy(ref, data.X_test, data.y_test)
    )
    # the same iteration, not merely the same classifier: weights agree to rounding on most trials
    # (near-singular BFGS matrices can amplify rounding on a rare trial, hence the median)
    rel = np.linalg.norm(fast.theta - ref, axis=1) / np.maximum(np.linalg.norm(ref, axis=1), 1e-300)
    assert np.median(rel) < 1e-10


def test_iteration_counts_and_status_match_scipy(small_noisy):
    X, y = small_noisy.X_train[:10], small_noisy.y_train[:10]
    loss = LOSSES["partially_huberised"]
    fast = fit_linear_trials(loss, X, y)
    ref = [fit_slsqp(loss, X[t], y[t]) for t in range(10)]
    assert fast.nit.tolist() == [r.nit for r in ref]
    assert fast.success.tolist() == [r.success for r in ref]
    np.testing.assert_allclose(fast.risk, [r.risk for r in ref], rtol=1e-12)


def test_iteration_limit_gives_status_9_like_scipy(rescience40):
    X, y = rescience40.X_train[:6], rescience40.y_train[:6]
    loss = LOSSES["partially_huberised"]
    fast = fit_linear_trials(loss, X, y, maxiter=3)
    ref = [fit_slsqp(loss, X[t], y[t], maxiter=3) for t in range(6)]
    assert fast.nit.tolist() == [3] * 6 == [r.nit for r in ref]
    assert fast.status.tolist() == [9] * 6 and not fast.success.any()
    np.testing.assert_allclose(fast.theta, np.stack([r.theta for r in ref]), rtol=1e-12)


@pytest.mark.parametrize("d", [1, 3])
def test_other_dimensions_and_generic_losses_agree_with_scipy(d):
    rng = np.random.default_rng(d)
    T, n = 6, 150
    X = rng.normal(size=(T, n, d))
    w = rng.normal(size=d)
    y = np.where(X @ w + 0.5 * rng.normal(size=(T, n)) >= 0, 1.0, -1.0)
    gce = make_loss("gce", q=0.7)  # no closed form here: goes through loss(z)
    for loss in (LOSSES["logistic"], gce):
        fast = fit_linear_trials(loss, X, y)
        ref = fit_slsqp_trials(loss, X, y)
        assert fast.theta.shape == (T, d)
        np.testing.assert_allclose(fast.theta, ref, rtol=1e-9, atol=1e-12)
    assert fit_linear_trials(gce, X, y).kernel == "generic"


# --------------------------------------------------------------------------------------------------
# Memory chunks and threads do not change results
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", [*LOSSES.values(), make_loss("linear")], ids=lambda l: l.name)
def test_chunked_equals_unchunked_bitwise(small_noisy, loss):
    X, y = small_noisy.X_train, small_noisy.y_train
    whole = fit_linear_trials(loss, X, y)
    assert whole.chunks == 1
    per_trial = bytes_per_trial(X.shape[1], X.shape[2])
    for per in (7, 16):
        part = fit_linear_trials(loss, X, y, chunk_bytes=per * per_trial)
        assert part.chunks == math.ceil(40 / per)
        for field in ("theta", "risk", "nit", "nfev", "status"):
            np.testing.assert_array_equal(getattr(part, field), getattr(whole, field))
    ones = fit_linear_trials(loss, X[:6], y[:6], chunk_bytes=1)  # below one trial: one trial per chunk
    assert ones.chunks == 6
    np.testing.assert_array_equal(ones.theta, whole.theta[:6])


def test_threads_and_trial_subsets_do_not_change_results(small_noisy):
    X, y = small_noisy.X_train, small_noisy.y_train
    loss = LOSSES["partially_huberised"]
    one = fastfit._fit(loss, X, y, maxiter=100, chunk_bytes=fastfit.DEFAULT_CHUNK_BYTES, threads=1)
    two = fastfit._fit(loss, X, y, maxiter=100, chunk_bytes=fastfit.DEFAULT_CHUNK_BYTES, threads=2)
    np.testing.assert_array_equal(one.theta, two.theta)
    # a trial's result does not depend on which other trials are fitted with it
    sub = fit_linear_trials(loss, X[[3, 17, 29]], y[[3, 17, 29]])
    np.testing.assert_array_equal(sub.theta, one.theta[[3, 17, 29]])


# --------------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------------


def _ldl_update_scipy(n, a, z, sigma):
    """Scalar port of ``ldl_update`` in SciPy's ``scipy/optimize/__slsqp.c`` (composite-t method)."""
    a, z, w = list(a), list(z), [0.0] * n
    eps = 2.220446049250313e-16
    ij = 0
    t = 1.0 / sigma
    if sigma <= 0.0:
        w = list(z)
        for i in range(n):
            v = w[i]
            t = t + v * v / a[ij]
            for j in range(i + 1, n):
                ij += 1
                w[j] = w[j] - v * a[ij]
            ij += 1
        if t >= 0.0:
            t = eps / sigma
        for i in range(n):
            j = n - i - 1
            ij -= i + 1
            u = w[j]
            w[j] = t
            t = t - u * u / a[ij]
    for i in range(n):
        v = z[i]
        delta = v / a[ij]
        tp = w[i] if sigma < 0.0 else t + delta * v
        alpha = tp / t
        a[ij] = alpha * a[ij]
        if i == n - 1:
            return a
        beta = delta / tp
        if alpha <= 4.0:
            for j in range(i + 1, n):
                ij += 1
                z[j] = z[j] - v * a[ij]
                a[ij] = a[ij] + beta * z[j]
        else:
            gamma = t / tp
            for j in range(i + 1, n):
                ij += 1
                u = a[ij]
                a[ij] = gamma * u + beta * z[j]
                z[j] = z[j] - v * u
        ij += 1
        t = tp
    return a


@pytest.mark.parametrize("d", [2, 3])
def test_ldl_update_matches_scipy_port(d):
    rng = np.random.default_rng(d)
    P = fastfit._packed(d)
    k = 400
    a = np.zeros((k, len(P)))
    for i in range(d):
        a[:, P[(i, i)]] = rng.uniform(0.05, 2.0, k)
        for j in range(i + 1, d):
            a[:, P[(j, i)]] = rng.normal(size=k)
    z = rng.normal(size=(k, d)) * rng.uniform(0.1, 10.0, (k, 1))
    for sigma in (rng.uniform(0.1, 10.0, k), -rng.uniform(1e-3, 0.1, k)):
        got = a.copy()
        fastfit._ldl_update(got, z.copy(), sigma, np.zeros((k, d)), P, d)
        want = np.array([_ldl_update_scipy(d, a[r], z[r], sigma[r]) for r in range(k)])
        # same operations in the same order: only np.where's evaluation of both branches differs
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_ldl_solve_and_multiply_invert_each_other():
    rng = np.random.default_rng(0)
    d, P = 3, fastfit._packed(3)
    a = np.zeros((50, 6))
    for i in range(d):
        a[:, P[(i, i)]] = rng.uniform(0.1, 3.0, 50)
        for j in range(i + 1, d):
            a[:, P[(j, i)]] = rng.normal(size=50)
    g = rng.normal(size=(50, d))
    s = fastfit._ldl_solve(a, g, P, d)  # -(L D L')^-1 g
    np.testing.assert_allclose(fastfit._ldl_mul(a, s, P, d), -g, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "loss",
    [
        make_loss("logistic"),
        make_loss("huberised", tau=0.26),
        make_loss("huberised", tau=0.7),  # switch point z0 < 0
        make_loss("huberised", tau=1.0),  # plain logistic
        make_loss("partially_huberised", tau=1.36),
        make_loss("partially_huberised", tau=2.0),  # switch at z0 = 0
        make_loss("partially_huberised", tau=5.0),  # z0 < 0
    ],
    ids=lambda l: l.label,
)
def test_closed_form_kernels_match_the_loss(loss):
    spec = fastfit._closed_form_spec(loss)
    assert spec is not None and fastfit._closed_form_matches(loss, spec)
    z = np.concatenate([np.linspace(-60, 60, 4801), [-1e4, -800, -708, -700, 0.0, -0.0, 700, 708, 800, 1e4]])
    v, dv = fastfit._closed_form_values(loss, spec, z)
    v_ref, d_ref = loss(z)
    # phi: log(1 + e) is summed as a log of products, exact to ~1 ulp of 1 (absolute)
    np.testing.assert_allclose(v, v_ref, rtol=1e-13, atol=4e-16)
    # phi': a few ulp, except that exp(-|z|) is floored at exp(-708) ~ 3.3e-308, which PHuber's
    # tau * sigmoid(z) turns into up to tau * 3.3e-308 (atol)
    np.testing.assert_allclose(dv, d_ref, rtol=1e-13, atol=1e-306)


def test_a_loss_named_like_a_paper_loss_but_different_uses_the_generic_path(small_noisy):
    doubled = MarginLoss("logistic", lambda z: tuple(2.0 * a for a in logistic(z)))
    assert not fastfit._closed_form_matches(doubled, fastfit._closed_form_spec(doubled))
    res = fit_linear_trials(doubled, small_noisy.X_train[:3], small_noisy.y_train[:3])
    assert res.kernel == "generic"
    ref = fit_slsqp_trials(doubled, small_noisy.X_train[:3], small_noisy.y_train[:3])
    np.testing.assert_allclose(res.theta, ref, rtol=1e-9)


# --------------------------------------------------------------------------------------------------
# Result, helper and bad inputs
# --------------------------------------------------------------------------------------------------


def test_result_fields(small_noisy):
    res = fit_linear_trials(LOSSES["huberised"], small_noisy.X_train[:5], small_noisy.y_train[:5])
    assert isinstance(res, FastFitResult)
    assert res.theta.shape == (5, 2) and res.risk.shape == (5,)
    assert res.nit.dtype.kind == "i" and res.nfev.dtype.kind == "i" and np.all(res.nfev >= res.nit)
    assert res.success.dtype == bool and np.array_equal(res.converged, res.status == 0)
    assert res.kernel == "closed-form huberised" and res.chunks == 1
    with pytest.raises(AttributeError):
        res.theta = None  # frozen


def test_fig2a_fast_matches_its_definition_and_chunks():
    p = get_preset("smoke")
    acc = fig2a_fast(p, seed=3)
    assert list(acc) == ["logistic", "huberised", "partially_huberised"]
    data = long_servedio_trials(trials=p.trials, n_train=p.n_train, n_test=p.n_test, rho=p.rho, seed=3)
    for name, loss in fastfit.fig2a_losses(p).items():
        theta = fit_linear_trials(loss, data.X_train, data.y_train, maxiter=p.slsqp_maxiter).theta
        np.testing.assert_array_equal(acc[name], test_accuracy(theta, data.X_test, data.y_test))
    small = fig2a_fast("smoke", seed=3, trials=9, chunk_bytes=1)  # one trial per chunk
    assert all(v.shape == (9,) for v in small.values())
    for name in acc:
        np.testing.assert_array_equal(small[name][: p.trials], acc[name])


@pytest.mark.parametrize(
    "X, y, kw, match",
    [
        (np.zeros((4, 2)), np.ones(4), {}, r"X\.shape=\(4, 2\) must be \(T, n, d\)"),
        (np.zeros((2, 4, 2)), np.ones((2, 3)), {}, r"y\.shape=\(2, 3\) must be \(T, n\)"),
        (np.zeros((0, 4, 2)), np.ones((0, 4)), {}, r"T >= 1 trials"),
        (np.zeros((2, 4, 2)), np.zeros((2, 4)), {}, r"only -1 and \+1"),
        (np.full((2, 4, 2), np.nan), np.ones((2, 4)), {}, r"X must be finite"),
        (np.zeros((2, 4, 2)), np.ones((2, 4)), {"maxiter": 0}, r"maxiter=0 must be an integer >= 1"),
        (np.zeros((2, 4, 2)), np.ones((2, 4)), {"chunk_bytes": 0}, r"chunk_bytes=0 must be an integer >= 1"),
        (np.zeros((2, 4, 2)), np.ones((2, 4)), {"chunk_bytes": 1.5}, r"chunk_bytes=1.5"),
    ],
)
def test_bad_inputs(X, y, kw, match):
    with pytest.raises(ValueError, match=match):
        fit_linear_trials(LOSSES["logistic"], X, y, **kw)


def test_a_loss_must_be_callable():
    with pytest.raises(ValueError, match="loss='logistic' must be a margin loss"):
        fit_linear_trials("logistic", np.zeros((1, 3, 2)), np.ones((1, 3)))


def test_fig2a_fast_bad_inputs():
    with pytest.raises(ValueError, match="preset='nope' is unknown"):
        fig2a_fast("nope", seed=0)
    with pytest.raises(ValueError, match="trials=0 must be an integer >= 1"):
        fig2a_fast("smoke", seed=0, trials=0)
