"""SLSQP, the paper's Fig. 2a protocol: the batched solver equals the per-trial SciPy loop, which is SciPy.

The one module that checks the equivalence. References come from SciPy itself
(``scipy.optimize.minimize(method="SLSQP")``, called directly in the test, and
:func:`sandbox.slsqp.fit_slsqp_scipy`) and from a line-by-line scalar port of ``ldl_update`` in
SciPy's ``__slsqp.c`` (below), never from the code under test.
"""

import math

import numpy as np
import pytest
from scipy import optimize

from sandbox import _kernels
from sandbox import slsqp as slsqp_mod
from sandbox.figures import fig2a_long_servedio
from sandbox.linear import accuracy, risk_and_grad, scores
from sandbox.losses import logistic
from sandbox.presets import get_preset
from sandbox.registry import MarginLoss, make_loss
from sandbox.slsqp import FitResult, bytes_per_trial, fit_slsqp, fit_slsqp_scipy
from sandbox.trials import long_servedio_trials

LOSSES = {
    "logistic": make_loss("logistic"),
    "huberised": make_loss("huberised", tau=0.26),
    "phuber": make_loss("phuber", tau=1.36),
}


def _labels(theta, X):
    return np.sign(scores(theta, X))


@pytest.fixture(scope="module")
def rescience40():
    """40 trials at the default (rescience) setting: rho 0.2, n_train 1000, n_test 500."""
    p = get_preset("rescience")
    return long_servedio_trials(trials=40, n_train=p.n_train, n_test=p.n_test, rho=p.rho, rng=11)


@pytest.fixture(scope="module")
def small_noisy():
    """40 smaller trials at the paper's noise rate (rho 0.45, n_train 200): wider spread of fits."""
    return long_servedio_trials(trials=40, n_train=200, n_test=200, rho=0.45, rng=5)


# --------------------------------------------------------------------------------------------------
# The reference loop is SciPy
# --------------------------------------------------------------------------------------------------


def test_reference_loop_is_scipy_minimize_on_each_trial(small_noisy):
    """fit_slsqp_scipy gives, trial by trial, what scipy.optimize.minimize gives when called directly."""
    loss = LOSSES["phuber"]
    X, y = small_noisy.X_train[:4], small_noisy.y_train[:4]
    res = fit_slsqp_scipy(loss, X, y)
    for t in range(4):

        def fun(th):  # the mean loss and its gradient, written here from the chain rule
            v, d = loss(y[t] * (X[t] @ th))
            return float(np.mean(v)), (d * y[t]) @ X[t] / len(y[t])

        want = optimize.minimize(fun, np.zeros(2), jac=True, method="SLSQP", options={"maxiter": 100})
        np.testing.assert_allclose(res.theta[t], want.x, rtol=1e-10, atol=1e-14)
        assert res.nit[t] == want.nit and res.status[t] == want.status


def test_reference_loop_with_a_bias_and_a_start(small_noisy):
    X, y = small_noisy.X_train[0], small_noisy.y_train[0]
    res = fit_slsqp_scipy(LOSSES["logistic"], X, y, bias=True, theta0=[0.1, 0.0, 0.0])
    assert res.theta.shape == (3,) and np.ndim(res.risk) == 0
    # a converged convex fit is stationary (SLSQP's default ftol 1e-6 on the risk)
    assert np.linalg.norm(risk_and_grad(LOSSES["logistic"], res.theta, X, y, bias=True)[1]) < 1e-2


# --------------------------------------------------------------------------------------------------
# The batched solver equals the reference
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("which", ["rescience40", "small_noisy"])
def test_classifications_agree_with_per_trial_slsqp(name, which, request):
    data = request.getfixturevalue(which)
    loss = LOSSES[name]
    ref = fit_slsqp_scipy(loss, data.X_train, data.y_train)
    fast = fit_slsqp(loss, data.X_train, data.y_train)
    same = np.all(_labels(fast.theta, data.X_test) == _labels(ref.theta, data.X_test), axis=1)
    assert same.all(), np.flatnonzero(~same)
    np.testing.assert_array_equal(accuracy(fast.theta, data.X_test, data.y_test),
                                  accuracy(ref.theta, data.X_test, data.y_test))
    # the same iteration, not merely the same classifier: weights agree to rounding on most trials
    # (near-singular BFGS matrices can amplify rounding on a rare trial, hence the median)
    rel = np.linalg.norm(fast.theta - ref.theta, axis=1) / np.maximum(np.linalg.norm(ref.theta, axis=1), 1e-300)
    assert np.median(rel) < 1e-10
    np.testing.assert_array_equal(fast.nit, ref.nit)
    np.testing.assert_array_equal(fast.status, ref.status)
    np.testing.assert_allclose(fast.risk, ref.risk, rtol=1e-12)


def test_iteration_limit_gives_status_9_like_scipy(rescience40):
    X, y = rescience40.X_train[:6], rescience40.y_train[:6]
    loss = LOSSES["phuber"]
    fast = fit_slsqp(loss, X, y, maxiter=3)
    ref = fit_slsqp_scipy(loss, X, y, maxiter=3)
    assert fast.nit.tolist() == [3] * 6 == ref.nit.tolist()
    assert fast.status.tolist() == [9] * 6 and not fast.success.any()
    np.testing.assert_allclose(fast.theta, ref.theta, rtol=1e-12)


def test_tight_tolerance_agrees_too(small_noisy):
    X, y = small_noisy.X_train[:5], small_noisy.y_train[:5]
    fast = fit_slsqp(LOSSES["huberised"], X, y, ftol=1e-12, maxiter=1000)
    ref = fit_slsqp_scipy(LOSSES["huberised"], X, y, ftol=1e-12, maxiter=1000)
    np.testing.assert_array_equal(fast.nit, ref.nit)
    np.testing.assert_array_equal(_labels(fast.theta, small_noisy.X_test[:5]), _labels(ref.theta, small_noisy.X_test[:5]))


@pytest.mark.parametrize("d", [1, 3])
def test_other_dimensions_and_generic_losses_agree_with_scipy(d):
    rng = np.random.default_rng(d)
    T, n = 6, 150
    X = rng.normal(size=(T, n, d))
    w = rng.normal(size=d)
    y = np.where(X @ w + 0.5 * rng.normal(size=(T, n)) >= 0, 1.0, -1.0)
    gce = make_loss("gce", q=0.7)  # no fused kernel: goes through loss(z)
    for loss in (LOSSES["logistic"], gce):
        fast = fit_slsqp(loss, X, y)
        ref = fit_slsqp_scipy(loss, X, y)
        assert fast.theta.shape == (T, d)
        np.testing.assert_allclose(fast.theta, ref.theta, rtol=1e-9, atol=1e-12)
    assert fit_slsqp(gce, X, y).evaluator == "generic"


def test_fig2a_batched_and_scipy_protocols_give_the_same_figure():
    """The figure's default (batched) and its per-trial SciPy protocol: same accuracies and iterations."""
    smoke = get_preset("smoke")
    fast = fig2a_long_servedio.compute(smoke, seed=11, trials=4)
    ref = fig2a_long_servedio.compute(smoke, seed=11, trials=4, protocol="slsqp_scipy")
    assert fast["protocol"] == "slsqp_batched" and ref["protocol"] == "slsqp_scipy"
    assert fast["test_accuracy"] == ref["test_accuracy"]
    assert fast["slsqp"] == ref["slsqp"]  # same iteration counts and convergence flags


def test_the_papers_protocol_reproduces_fig2a_on_small_trials():
    """At rho = 0.2 (the [Re]'s setting) PHuber recovers the clean classifier, the convex losses do not."""
    d = long_servedio_trials(trials=5, n_train=200, n_test=100, rho=0.2, rng=0)
    acc = {k: accuracy(fit_slsqp(loss, d.X_train, d.y_train).theta, d.X_test, d.y_test) for k, loss in LOSSES.items()}
    assert np.all(acc["phuber"] >= 0.98)
    assert np.all(acc["logistic"] <= 0.75) and np.all(acc["huberised"] <= 0.75)


# --------------------------------------------------------------------------------------------------
# Memory chunks and trial subsets do not change results
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", [*LOSSES.values(), make_loss("linear")], ids=lambda l: l.name)
def test_chunked_equals_unchunked_bitwise(small_noisy, loss):
    X, y = small_noisy.X_train, small_noisy.y_train
    whole = fit_slsqp(loss, X, y)
    assert whole.chunks == 1
    per_trial = bytes_per_trial(X.shape[1], X.shape[2])
    for per in (7, 16):
        part = fit_slsqp(loss, X, y, chunk_bytes=per * per_trial)
        assert part.chunks == math.ceil(40 / per)
        for field in ("theta", "risk", "nit", "status"):
            np.testing.assert_array_equal(getattr(part, field), getattr(whole, field))
    ones = fit_slsqp(loss, X[:6], y[:6], chunk_bytes=1)  # below one trial: one trial per chunk
    assert ones.chunks == 6
    np.testing.assert_array_equal(ones.theta, whole.theta[:6])


def test_trial_subsets_do_not_change_results(small_noisy):
    X, y = small_noisy.X_train, small_noisy.y_train
    loss = LOSSES["phuber"]
    one = fit_slsqp(loss, X, y)
    sub = fit_slsqp(loss, X[[3, 17, 29]], y[[3, 17, 29]])
    np.testing.assert_array_equal(sub.theta, one.theta[[3, 17, 29]])
    single = fit_slsqp(loss, X[17], y[17])  # one problem, (n, d): the leading axis is dropped
    np.testing.assert_array_equal(single.theta, one.theta[17])
    assert np.ndim(single.nit) == 0


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
    P = slsqp_mod._packed(d)
    k = 400
    a = np.zeros((k, len(P)))
    for i in range(d):
        a[:, P[(i, i)]] = rng.uniform(0.05, 2.0, k)
        for j in range(i + 1, d):
            a[:, P[(j, i)]] = rng.normal(size=k)
    z = rng.normal(size=(k, d)) * rng.uniform(0.1, 10.0, (k, 1))
    for sigma in (rng.uniform(0.1, 10.0, k), -rng.uniform(1e-3, 0.1, k)):
        got = a.copy()
        slsqp_mod._ldl_update(got, z.copy(), sigma, np.zeros((k, d)), P, d)
        want = np.array([_ldl_update_scipy(d, a[r], z[r], sigma[r]) for r in range(k)])
        # same operations in the same order: only np.where's evaluation of both branches differs
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_ldl_solve_and_multiply_invert_each_other():
    rng = np.random.default_rng(0)
    d, P = 3, slsqp_mod._packed(3)
    a = np.zeros((50, 6))
    for i in range(d):
        a[:, P[(i, i)]] = rng.uniform(0.1, 3.0, 50)
        for j in range(i + 1, d):
            a[:, P[(j, i)]] = rng.normal(size=50)
    g = rng.normal(size=(50, d))
    s = slsqp_mod._ldl_solve(a, g, P, d)  # -(L D L')^-1 g
    np.testing.assert_allclose(slsqp_mod._ldl_mul(a, s, P, d), -g, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "loss",
    [
        make_loss("logistic"),
        make_loss("huberised", tau=0.26),
        make_loss("huberised", tau=0.7),  # switch point z0 < 0
        make_loss("huberised", tau=1.0),  # plain logistic
        make_loss("phuber", tau=1.36),
        make_loss("phuber", tau=2.0),  # switch at z0 = 0
        make_loss("phuber", tau=5.0),  # z0 < 0
    ],
    ids=lambda l: l.label,
)
def test_fused_kernels_match_the_loss(loss):
    spec = _kernels.kernel_spec(loss)
    assert spec is not None and _kernels.closed_form_matches(loss, spec)
    z = np.concatenate([np.linspace(-60, 60, 4801), [-1e4, -800, -708, -700, 0.0, -0.0, 700, 708, 800, 1e4]])
    v, dv = _kernels.closed_form_values(loss, spec, z)
    v_ref, d_ref = loss(z)
    # phi: log(1 + e) is summed as a log of products, exact to ~1 ulp of 1 (absolute)
    np.testing.assert_allclose(v, v_ref, rtol=1e-13, atol=4e-16)
    # phi': a few ulp, except that exp(-|z|) is floored at exp(-708) ~ 3.3e-308, which PHuber's
    # tau * sigmoid(z) turns into up to tau * 3.3e-308 (atol)
    np.testing.assert_allclose(dv, d_ref, rtol=1e-13, atol=1e-306)


def test_a_loss_naming_a_kernel_but_computing_something_else_uses_the_generic_path(small_noisy):
    doubled = MarginLoss("logistic", lambda z: tuple(2.0 * a for a in logistic(z)), kernel="logistic")
    assert not _kernels.closed_form_matches(doubled, _kernels.kernel_spec(doubled))
    res = fit_slsqp(doubled, small_noisy.X_train[:3], small_noisy.y_train[:3])
    assert res.evaluator == "generic"
    ref = fit_slsqp_scipy(doubled, small_noisy.X_train[:3], small_noisy.y_train[:3])
    np.testing.assert_allclose(res.theta, ref.theta, rtol=1e-9)


def test_result_fields(small_noisy):
    res = fit_slsqp(LOSSES["huberised"], small_noisy.X_train[:5], small_noisy.y_train[:5])
    assert isinstance(res, FitResult) and res.method == "batched"
    assert res.theta.shape == (5, 2) and res.risk.shape == (5,)
    assert res.nit.dtype.kind == "i" and res.success.dtype == bool
    assert res.evaluator == "fused huberised" and res.chunks == 1
    # the risk reported is the mean loss at the returned weights
    np.testing.assert_allclose(res.risk, risk_and_grad(LOSSES["huberised"], res.theta, small_noisy.X_train[:5],
                                                       small_noisy.y_train[:5])[0], rtol=1e-12)
    with pytest.raises(AttributeError):
        res.theta = None  # frozen
