"""Converged fits: against an independent brute-force search, SciPy run to convergence, and hand-derived cases.

References are written here, never taken from :mod:`sandbox.converged`: a fine angle x log-radius grid
(with ``r = inf`` evaluated at ``1e300``) polished by SciPy, ``scipy.optimize.minimize`` at tight
tolerance for the convex losses, and closed forms derived in the docstrings.
"""

import numpy as np
import pytest
from scipy import optimize

from sandbox.converged import R_INF, fit_converged, loss_kind
from sandbox.linear import accuracy
from sandbox.registry import MarginLoss, make_loss
from sandbox.trials import long_servedio_trials

LOGISTIC = make_loss("logistic")
HUBER = make_loss("huberised", tau=0.26)
PHUBER = make_loss("phuber", tau=1.36)
GCE = make_loss("gce", q=0.7)
LINEAR = make_loss("linear")
UNHINGED = make_loss("unhinged")


def _risk(loss, theta, V):
    """Empirical risk of ``theta`` ``(..., 2)`` on ``V = y x`` ``(n, 2)``, written from the definition."""
    return np.mean(loss.value(np.einsum("...d,nd->...n", np.asarray(theta, float), V)), axis=-1)


def _brute(loss, V):
    """Independent minimum: 1440 angles x (61 log-spaced radii in [1e-2, 1e4] and r = 1e300), then the 8
    best finite grid points polished by Nelder-Mead in (angle, log r) and 4 more started at r = 1e3.
    Returns the smallest value seen (an upper bound on the infimum that a converged fit must match)."""
    ang = np.linspace(-np.pi, np.pi, 1440, endpoint=False)
    rad = np.r_[np.logspace(-2, 4, 61), 1e300]
    U = np.stack([np.cos(ang), np.sin(ang)], -1)
    M = U @ V.T  # (A, n)
    R = np.array([np.mean(loss.value(r * M), axis=1) for r in rad])  # (radii, A)
    best = float(R.min())
    fin = R[:-1]
    order = np.argsort(fin, axis=None)[:8]
    seeds = [(ang[i % len(ang)], np.log(rad[i // len(ang)])) for i in order]
    seeds += [(a, np.log(1e3)) for a in ang[np.argsort(R[-1])[:4]]]

    def f(p):
        return float(_risk(loss, np.exp(p[1]) * np.array([np.cos(p[0]), np.sin(p[0])]), V))

    for a0, lr0 in seeds:
        res = optimize.minimize(f, [a0, lr0], method="Nelder-Mead",
                                options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000})
        best = min(best, float(res.fun))
    return best


def _samples(rho, trials, n, seed):
    d = long_servedio_trials(trials=trials, n_train=n, n_test=200, rho=rho, rng=seed)
    return d.X_train, d.y_train, d.X_test, d.y_test


# --------------------------------------------------------------------------------------------------
# Against the brute force, every family, separable and noisy samples
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", [LOGISTIC, HUBER, PHUBER, GCE, LINEAR], ids=lambda l: l.name)
@pytest.mark.parametrize("rho", [0.0, 0.2, 0.45])
def test_no_grid_point_beats_the_converged_fit(loss, rho):
    X, y, _, _ = _samples(rho, 3, 40, seed=7)
    fit = fit_converged(loss, X, y)
    for t in range(3):
        V = y[t, :, None] * X[t]
        ref = _brute(loss, V)
        # the fit is at least as good as anything the grid + polishing finds; 1e-9: Nelder-Mead's and the
        # Newton tolerances on flat risks (the grid resolves the angle to ~1e-10 rad after polishing)
        assert fit.risk[t] <= ref + 1e-9, (t, fit.risk[t], ref)
        # and its risk is real: reached at theta (for r = inf the stand-in R_INF * u gives the limit)
        at_theta = float(_risk(loss, fit.theta[t], V))
        assert at_theta == pytest.approx(fit.risk[t], rel=1e-12, abs=1e-15)
        if not fit.unbounded[t]:
            assert fit.converged[t]


def test_separable_samples_reach_the_infimum_at_infinity():
    """rho = 0: the mixture is separated by x1 > 0, so every decreasing loss has infimum phi(+inf) = 0
    (a fraction of points with zero features adds phi(0); none here), approached only as r -> inf."""
    X, y, Xt, yt = _samples(0.0, 4, 60, seed=3)
    for loss in (LOGISTIC, HUBER, PHUBER, GCE):
        fit = fit_converged(loss, X, y)
        assert fit.unbounded.all() and np.all(fit.radius == np.inf) and fit.converged.all()
        np.testing.assert_array_equal(fit.risk, 0.0)  # phi(+inf) is exactly 0 for these losses
        assert np.all(accuracy(fit.theta, X, y) == 1.0)
        assert not fit.tie.any()  # one arc classifies everything correctly: a unique sign pattern
        lo, hi = fit.arc.T
        ang = np.arctan2(fit.direction[:, 1], fit.direction[:, 0])
        assert np.all((np.mod(ang - lo, 2 * np.pi) > 0) & (np.mod(ang - lo, 2 * np.pi) < hi - lo))


# --------------------------------------------------------------------------------------------------
# Convex losses against SciPy run to convergence
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", [LOGISTIC, HUBER], ids=lambda l: l.name)
@pytest.mark.parametrize("d", [2, 3])
def test_convex_minimiser_matches_scipy(loss, d):
    rng = np.random.default_rng(d)
    T, n = 4, 80
    X = rng.normal(size=(T, n, d))
    y = np.where(X @ rng.normal(size=d) + rng.normal(size=(T, n)) > 0, 1.0, -1.0)  # noisy: not separable
    fit = fit_converged(loss, X, y)
    assert fit.converged.all() and not fit.unbounded.any()
    for t in range(T):
        V = y[t, :, None] * X[t]

        def fun(th):
            v, dv = loss(V @ th)
            return float(np.mean(v)), dv @ V / n

        ref = optimize.minimize(fun, np.zeros(d), jac=True, method="BFGS", options={"gtol": 1e-13, "maxiter": 10000})
        # the risk is flat to second order at the minimiser: values agree to rounding, weights to
        # ~sqrt of the gradient tolerances (BFGS stops at ~1e-11, Newton at 1e-10 * rms|x|)
        assert fit.risk[t] <= ref.fun + 1e-14
        np.testing.assert_allclose(fit.theta[t], ref.x, rtol=1e-6, atol=1e-8)
        assert fit.grad_norm[t] <= 1e-10 * np.sqrt(np.mean(np.sum(V * V, 1)))


def test_huberised_linear_piece_and_zero_curvature_start():
    """At theta = 0 every margin is 0 < z0 = log(0.74/0.26): the Huberised risk is linear there (zero
    Hessian), so plain Newton is undefined; the regularised step still converges."""
    X, y, _, _ = _samples(0.45, 3, 200, seed=1)
    fit = fit_converged(HUBER, X, y)
    assert fit.converged.all() and not fit.unbounded.any() and np.all(fit.nit < 30)


# --------------------------------------------------------------------------------------------------
# Hand-derived ties and unbounded minimisers
# --------------------------------------------------------------------------------------------------


def test_max_margin_direction_of_a_separable_pair():
    """v = (1, 0), (0, 1): the directions classifying both lie in the open arc (0, pi/2); logistic's
    infimum 0 is approached along all of them. The max-margin direction maximises min(cos a, sin a):
    a = pi/4."""
    fit = fit_converged(LOGISTIC, np.array([[1.0, 0.0], [0.0, 1.0]]), np.ones(2))
    assert fit.unbounded and fit.radius == np.inf and fit.risk == 0.0 and not fit.tie
    np.testing.assert_allclose(fit.direction, [2**-0.5, 2**-0.5], rtol=1e-14)
    np.testing.assert_allclose(fit.arc, [0.0, np.pi / 2], atol=1e-15)
    np.testing.assert_allclose(fit.theta, R_INF * fit.direction)


def test_three_symmetric_points_tie_at_infinity():
    """v at 0, 120 and 240 degrees: a direction has at most two positive margins, on the three arcs
    (30, 90), (150, 210), (270, 330) degrees, equivalent under the 120-degree rotation: three minimising
    arcs with different sign patterns, limit (2 phi(+inf) + phi(-inf)) / 3. Within (30, 90) the smallest
    positive margin min(cos a, cos(a - 120)) peaks at a = 60 degrees."""
    a = np.radians([0.0, 120.0, 240.0])
    fit = fit_converged(PHUBER, np.stack([np.cos(a), np.sin(a)], 1), np.ones(3))
    assert fit.unbounded and fit.tie and fit.n_min == 3
    assert fit.risk == pytest.approx((1 + np.log(1.36)) / 3, rel=1e-15)
    ang = np.degrees(np.arctan2(fit.direction[1], fit.direction[0])) % 360
    assert min(abs(ang - c) for c in (60.0, 180.0, 300.0)) < 1e-9


def test_event_line_limit_with_an_offset():
    """x = (0, 1) with labels +1 and -1, and x = (1, 0) labelled +1: v_a = (0, 1), v_b = (0, -1), v_c = (1, 0).
    R(theta) = [phi(t1) + phi(t2) + phi(-t2)] / 3: phi(t1) -> 0 only as t1 -> inf, so the infimum is
    min_s [phi(s) + phi(-s)] / 3 along the direction (1, 0) with offset s (0, 1), below both arcs'
    limit (1 + log tau) / 3. For PHuber(1.36), on its linear piece |s| <= z0 = -log(0.36),
    phi(s) + phi(-s) = 2 (1 + log tau) - tau is constant: s < 0, s = 0 and s > 0 all attain it and
    classify x = (0, 1) differently (a tie). For logistic the unique optimum is s = 0: no tie."""
    X = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([1.0, -1.0, 1.0])
    fit = fit_converged(PHUBER, X, y)
    assert fit.unbounded and fit.tie
    np.testing.assert_allclose(fit.direction, [1.0, 0.0], atol=1e-15)
    assert fit.risk == pytest.approx((2 * (1 + np.log(1.36)) - 1.36) / 3, rel=1e-12)
    assert fit.risk < (1 + np.log(1.36)) / 3 - 0.01
    np.testing.assert_allclose(fit.arc, [0.0, 0.0], atol=1e-15)  # a single direction, no cone
    lg = fit_converged(LOGISTIC, X, y)
    assert lg.unbounded and not lg.tie
    assert lg.risk == pytest.approx(2 * np.log(2) / 3, rel=1e-12)  # s = 0: log(1 + e^0) twice
    # a different offset-free convex check: the limit equals the risk at the stand-in theta
    assert float(_risk(LOGISTIC, lg.theta, y[:, None] * X)) == pytest.approx(lg.risk, rel=1e-12)


def test_unhinged_is_unbounded_below():
    """phi(z) = 1 - z: R(theta) = 1 - <theta, mean v> -> -inf along every u with <u, mean v> > 0.
    v = (1, 0), (0, 2): mean v = (1/2, 1); directions in that half-plane classify v = (1, 0) differently:
    a tie. With v and -v only, mean v = 0: R = 1 everywhere, every theta is a minimiser."""
    fit = fit_converged(UNHINGED, np.array([[1.0, 0.0], [0.0, 2.0]]), np.ones(2))
    assert fit.unbounded and fit.risk == -np.inf and fit.tie and loss_kind(UNHINGED) == "affine"
    np.testing.assert_allclose(fit.direction, np.array([1.0, 2.0]) / np.sqrt(5), rtol=1e-15)
    flat = fit_converged(UNHINGED, np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([1.0, -1.0]))
    assert not flat.unbounded and flat.risk == 1.0 and np.all(flat.theta == 0) and flat.tie


def test_squared_loss_has_a_finite_minimiser_on_separable_data():
    """phi(z) = (1 - z)^2 is convex but grows at +inf too: separable data do not send it to infinity.
    Its minimiser is the least-squares solution of V theta = 1 (numpy's lstsq, independent of the fit)."""
    X, y, _, _ = _samples(0.0, 3, 60, seed=3)  # rho = 0: separable
    fit = fit_converged(make_loss("squared"), X, y)
    assert not fit.unbounded.any() and np.all(np.isfinite(fit.radius)) and fit.converged.all()
    for t in range(3):
        V = y[t, :, None] * X[t]
        ref = np.linalg.lstsq(V, np.ones(len(V)), rcond=None)[0]
        np.testing.assert_allclose(fit.theta[t], ref, rtol=1e-8)  # Newton on a quadratic: one exact step


def test_separable_in_three_dimensions():
    """v = e1, e2, e3: the max-margin direction maximises min(u1, u2, u3) on the sphere: (1, 1, 1)/sqrt 3."""
    fit = fit_converged(LOGISTIC, np.eye(3), np.ones(3))
    assert fit.unbounded and fit.risk == 0.0 and fit.arc is None
    np.testing.assert_allclose(fit.direction, np.ones(3) / np.sqrt(3), rtol=1e-6)  # SLSQP's QP tolerance


def test_finite_minimum_below_every_limit_is_found():
    """A noisy sample (rho = 0.3, n = 40) where a finite theta beats every limit at infinity by ~5e-3:
    the independent grid search confirms that some finite point lies below the exact limit, and the
    converged fit is such a point, at least as good as the grid's."""
    X, y, _, _ = _samples(0.3, 1, 40, seed=7)
    fit = fit_converged(PHUBER, X, y)
    V = y[0, :, None] * X[0]
    ref = _brute(PHUBER, V)
    assert ref < fit.limit_risk[0] - 1e-3  # the grid alone finds a finite point below the limit
    assert not fit.unbounded[0] and np.isfinite(fit.radius[0]) and fit.converged[0]
    assert fit.risk[0] <= ref + 1e-12  # 1e-12: rounding of the risk (Nelder-Mead only polishes the grid)
    assert fit.risk[0] == fit.finite_risk[0] < fit.limit_risk[0]
    assert fit.grad_norm[0] <= 1e-10 * np.sqrt(np.mean(np.sum(V * V, 1)))


# --------------------------------------------------------------------------------------------------
# Chunking, shapes, bad inputs
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", [LOGISTIC, PHUBER, UNHINGED], ids=lambda l: l.name)
def test_chunking_does_not_change_results(loss):
    X, y, _, _ = _samples(0.3, 9, 50, seed=2)
    y[4] = np.where(X[4, :, 0] > 0, 1.0, -1.0)  # a separable trial (x1 > 0) among noisy ones
    whole = fit_converged(loss, X, y)
    parts = fit_converged(loss, X, y, chunk_bytes=1)  # one trial per chunk
    assert whole.chunks == 1 and parts.chunks == 9
    for field in ("theta", "risk", "radius", "nit", "converged", "unbounded", "tie", "limit_risk"):
        np.testing.assert_array_equal(getattr(parts, field), getattr(whole, field), err_msg=field)
    single = fit_converged(loss, X[5], y[5])  # one (n, d) problem: leading axis dropped
    assert np.ndim(single.risk) == 0 and single.theta.shape == (2,)
    np.testing.assert_array_equal(single.theta, whole.theta[5])


def test_bounded_losses_need_two_features():
    X = np.random.default_rng(0).normal(size=(30, 3))
    with pytest.raises(ValueError, match="d=3.*d = 2"):
        fit_converged(PHUBER, X, np.sign(X[:, 0]))
    fit_converged(LOGISTIC, X, np.where(X[:, 0] + X[:, 1] > 0.3, 1.0, -1.0))  # convex: any d


def test_losses_without_a_sound_method_are_refused():
    plain = MarginLoss("plain", lambda z: (np.tanh(-np.asarray(z)), np.tanh(-np.asarray(z)) * 0 - 1))
    with pytest.raises(ValueError, match="neither convex nor bounded"):
        fit_converged(plain, np.ones((3, 2)), np.ones(3))
    rising = MarginLoss("rising", lambda z: (np.tanh(np.asarray(z, float)), 1 - np.tanh(np.asarray(z, float)) ** 2),
                        bounded=True, convex=False)
    with pytest.raises(ValueError, match="non-increasing"):
        fit_converged(rising, np.ones((3, 2)), np.ones(3))


@pytest.mark.parametrize("kwargs, match", [
    ({"tol": 0.0}, "tol=0.0 is outside"),
    ({"maxiter": 0}, "maxiter=0 must be"),
    ({"risk_tol": -1.0}, "risk_tol=-1.0 is outside"),
    ({"chunk_bytes": 0}, "chunk_bytes=0 must be"),
    ({"starts": np.zeros((2, 3))}, "starts.shape"),
])
def test_bad_keywords(kwargs, match):
    X, y, _, _ = _samples(0.2, 2, 20, seed=0)
    with pytest.raises(ValueError, match=match):
        fit_converged(PHUBER, X, y, **kwargs)


def test_bad_data():
    with pytest.raises(ValueError, match="labels in"):
        fit_converged(LOGISTIC, np.ones((4, 2)), np.array([0.0, 1.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="y.shape"):
        fit_converged(LOGISTIC, np.ones((4, 2)), np.ones(3))
    with pytest.raises(TypeError, match="margin loss"):
        fit_converged("logistic", np.ones((4, 2)), np.ones(4))
