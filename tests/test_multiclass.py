"""Multiclass losses on logits (sandbox.multiclass): closed forms, gradients, identities, extremes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.special import softmax

from sandbox import losses as binary
from sandbox import multiclass as mc
from sandbox import robust_losses as robust
from sandbox.clipping import clip_base_derivative

LOG = np.log

# name -> (function, params) covering every loss; PHuber parameters chosen so both branches are hit below
CASES = {
    "ce": (mc.cross_entropy, {}),
    "phuber_ce": (mc.phuber_ce, {"tau": 3.0}),
    "gce": (mc.gce, {"q": 0.7}),
    "phuber_gce": (mc.phuber_gce, {"tau": 3.0, "q": 0.7}),
    "linear": (mc.linear, {}),
}
ROBUST = {  # name -> (function, params); LogitClip's delta puts rows on both sides of the norm bound
    "sce": (mc.sce, {"alpha": 0.1, "beta": 1.0, "A": -4.0}),
    "nce": (mc.nce, {}),
    "nce_mae": (mc.nce_mae, {"alpha": 1.0, "beta": 2.0}),
    "nce_rce": (mc.nce_rce, {"alpha": 1.0, "beta": 1.0, "A": -4.0}),
    "taylor_ce": (mc.taylor_ce, {"k": 3}),
    "logit_clip": (mc.logit_clip, {"delta": 6.0}),
}


def _random_problem(seed: int, n: int = 40, k: int = 5, scale: float = 3.0):
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal((n, k)), rng.integers(0, k, size=n)


def _p_y(logits, y):
    return softmax(logits, axis=-1)[np.arange(len(y)), y]


# ---------------------------------------------------------------------------------------------------
# Specific values, written as closed-form expressions
# ---------------------------------------------------------------------------------------------------


def test_values_closed_form():
    # logits log([1, 3]) -> p = [1/4, 3/4]; logits log([1, 4]) -> p = [1/5, 4/5]
    f13, f14 = LOG([[1.0, 3.0]]), LOG([[1.0, 4.0]])
    y0, y1 = np.array([0]), np.array([1])
    # rtol 1e-14: a handful of roundings in log_softmax / exp; the references are exact expressions
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-14)  # noqa: E731
    close(mc.cross_entropy(f13, y0)[0], [LOG(4.0)])
    close(mc.cross_entropy(f13, y1)[0], [LOG(4.0 / 3.0)])
    close(mc.phuber_ce(f13, y0, tau=2)[0], [-2 * 0.25 + LOG(2.0) + 1])  # p_y = 1/4 <= 1/2: linear part
    close(mc.phuber_ce(f13, y1, tau=2)[0], [LOG(4.0 / 3.0)])  # p_y = 3/4 > 1/2: CE part
    close(mc.gce(f13, y0, q=0.5)[0], [(1 - 0.25**0.5) / 0.5])  # = 1
    close(mc.linear(f13, y0)[0], [0.75])
    # PHuber-GCE, tau = 2, q = 1/2: p0 = 2^(-2) = 1/4, GCE(p0) = (1 - 1/2)/(1/2) = 1
    close(mc.phuber_gce(f14, y0, tau=2, q=0.5)[0], [1 - 2 * (0.2 - 0.25)])  # p_y = 1/5 < p0
    close(mc.phuber_gce(f14, y1, tau=2, q=0.5)[0], [(1 - 0.8**0.5) / 0.5])  # p_y = 4/5 > p0
    # three classes, uniform logits: p_y = 1/3
    close(mc.cross_entropy(np.zeros((1, 3)), y0)[0], [LOG(3.0)])
    close(mc.phuber_ce(np.zeros((1, 3)), y0, tau=2)[0], [-2 / 3 + LOG(2.0) + 1])  # 1/3 <= 1/2: linear part
    close(mc.phuber_ce(np.zeros((1, 3)), y0, tau=3)[0], [LOG(3.0)])  # 1/3 is the switch: branches agree


def test_cross_entropy_docstring_example():
    v, g = mc.cross_entropy([[0.0, 0.0]], [0])
    assert v.tolist() == [np.log(2.0)] and g.tolist() == [[-0.5, 0.5]]  # exact: softmax of zeros is 1/2


# ---------------------------------------------------------------------------------------------------
# Finite-difference gradients
# ---------------------------------------------------------------------------------------------------


def _check_central_differences(fn, logits, y, params):
    """The analytic gradient against central differences, one perturbation per class column (each
    row's loss depends only on its own logits). Truncation ~h^2 |f'''| ~ 1e-10, rounding
    ~eps |loss| / h ~ 1e-10 for losses up to ~10."""
    _, grad = fn(logits, y, **params)
    h = 1e-5
    num = np.empty_like(logits)
    for j in range(logits.shape[1]):
        e = np.zeros_like(logits)
        e[:, j] = h
        num[:, j] = (fn(logits + e, y, **params)[0] - fn(logits - e, y, **params)[0]) / (2 * h)
    np.testing.assert_allclose(grad, num, atol=1e-8)


@pytest.mark.parametrize("name", [*CASES, *ROBUST])
def test_gradient_matches_central_differences(name):
    fn, params = {**CASES, **ROBUST}[name]
    logits, y = _random_problem(1 if name in CASES else 11)
    p = _p_y(logits, y)
    if name.startswith("phuber"):  # the sample must exercise both branches
        p0 = 1 / params["tau"] if name == "phuber_ce" else mc.phuber_gce_switch(**params)
        assert (p < p0).any() and (p > p0).any(), "the sample must exercise both branches"
    if name == "logit_clip":  # ... and both sides of the norm bound
        norm = np.linalg.norm(logits, axis=1)
        assert (norm < params["delta"]).any() and (norm > params["delta"]).any(), "both regimes, please"
    _check_central_differences(fn, logits, y, params)


@pytest.mark.parametrize("name", list(CASES))
def test_gradient_rows_sum_to_zero(name):
    # softmax - e_y sums to 0 over classes, and every loss's gradient is a multiple of it
    fn, params = CASES[name]
    logits, y = _random_problem(2)
    _, grad = fn(logits, y, **params)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)  # sum of K numbers of size <= 1


def test_gradient_weights_relative_to_cross_entropy():
    """w(p_y) for each loss: grad = w * (softmax - e_y) (Eq. 12 and the chain rule through the softmax)."""
    logits, y = _random_problem(3)
    p = _p_y(logits, y)
    base = softmax(logits, axis=-1) - np.eye(logits.shape[1])[y]
    tau, q = 3.0, 0.7
    expected = {
        "ce": np.ones_like(p),
        "phuber_ce": np.minimum(1.0, tau * p),
        "gce": p**q,
        "phuber_gce": np.minimum(tau * p, p**q),
        "linear": p,
    }
    for name, (fn, params) in CASES.items():
        # rtol 1e-12: p_y from exp(log_softmax) vs scipy's softmax differ in the last few bits
        np.testing.assert_allclose(fn(logits, y, **params)[1], expected[name][:, None] * base, rtol=1e-12,
                                   atol=1e-15, err_msg=name)


def test_phuber_ce_gradient_is_cl_clipped_ce_gradient():
    """PHuber-CE's logit gradient == min(1, tau p_y)(softmax - e_y) == CL-clipping of -1/p at -tau."""
    logits, y = _random_problem(4)
    tau = 4.0
    s = softmax(logits, axis=-1)
    p = s[np.arange(len(y)), y]
    e_y = np.eye(logits.shape[1])[y]
    _, grad = mc.phuber_ce(logits, y, tau=tau)
    np.testing.assert_allclose(grad, np.minimum(1.0, tau * p)[:, None] * (s - e_y), rtol=1e-12, atol=1e-15)
    # chain rule with the clipped base derivative: d p_y / d f = p_y (e_y - s)
    clipped, n_clipped = clip_base_derivative(-1.0 / p, tau=tau)
    np.testing.assert_allclose(grad, (clipped * p)[:, None] * (e_y - s), rtol=1e-12, atol=1e-15)
    assert 0 < n_clipped < len(y)  # both regimes present


# ---------------------------------------------------------------------------------------------------
# K = 2: each loss is its binary margin counterpart at z = f_y - f_other
# ---------------------------------------------------------------------------------------------------

BINARY = {
    "ce": (mc.cross_entropy, binary.logistic, {}),
    "phuber_ce": (mc.phuber_ce, binary.phuber_logistic, {"tau": 2.5}),
    "gce": (mc.gce, binary.gce, {"q": 0.7}),
    "phuber_gce": (mc.phuber_gce, binary.phuber_gce, {"tau": 2.5, "q": 0.7}),
    "linear": (mc.linear, binary.linear, {}),
}


def _check_two_classes(multi, margin_loss, params, *, seed: int, grad_atol: float):
    """With two classes the multiclass loss is the binary margin loss of z = f_y - f_o: loss(f) = phi(z),
    so d/df_y = phi'(z) and d/df_o = -phi'(z). Tolerances: log_softmax gets log p_y to ~1e-16 *absolutely*
    (log of a rounded 1 + tiny) and softmax - e_y has the same absolute error at the label, multiplied by
    the loss's weight (``grad_atol``); relative agreement elsewhere is ~1e-14."""
    rng = np.random.default_rng(seed)
    n = 200
    logits = rng.uniform(-20, 20, size=(n, 2))
    y = rng.integers(0, 2, size=n)
    z = logits[np.arange(n), y] - logits[np.arange(n), 1 - y]
    value, grad = multi(logits, y, **params)
    phi, dphi = margin_loss(z, **params)
    sign = np.where(np.arange(2) == y[:, None], 1.0, -1.0)
    np.testing.assert_allclose(value, phi, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad, dphi[:, None] * sign, rtol=1e-12, atol=grad_atol)


@pytest.mark.parametrize("name", list(BINARY))
def test_two_classes_equal_binary_margin_loss(name):
    multi, margin_loss, params = BINARY[name]
    _check_two_classes(multi, margin_loss, params, seed=5, grad_atol=1e-15)


# ---------------------------------------------------------------------------------------------------
# Limits in tau, extreme logits, batch axes
# ---------------------------------------------------------------------------------------------------


def test_phuber_ce_large_tau_is_cross_entropy():
    logits, y = _random_problem(6, scale=2.0)
    assert _p_y(logits, y).min() > 1e-12  # above the switch at 1/tau, where PHuber-CE *is* CE
    for a, b in zip(mc.phuber_ce(logits, y, tau=1e12), mc.cross_entropy(logits, y)):
        np.testing.assert_array_equal(a, b)  # same branch, same floating-point operations


def test_phuber_gce_large_tau_is_gce():
    logits, y = _random_problem(7, scale=2.0)
    for a, b in zip(mc.phuber_gce(logits, y, tau=1e12, q=0.7), mc.gce(logits, y, q=0.7)):
        # p0 = 1e12^(-1/0.3) ~ 1e-40: every p_y here is above it; identical formulas
        np.testing.assert_array_equal(a, b)


def test_phuber_ce_tau_to_one_is_linear():
    logits, y = _random_problem(8)
    tau = 1.0 + 1e-9
    v, g = mc.phuber_ce(logits, y, tau=tau)
    vl, gl = mc.linear(logits, y)
    # every p_y < 1/tau here, so v = -tau p + log tau + 1 = (1 - p) + O(tau - 1)
    np.testing.assert_allclose(v, vl, atol=1e-8)
    np.testing.assert_allclose(g, gl, atol=1e-8)


@pytest.mark.parametrize("name", list(CASES))
def test_extreme_logits_finite(name):
    fn, params = CASES[name]
    big = 1e4
    logits = np.array([[big, -big, 0.0], [-big, big, 0.0], [big, big, -big], [-big, -big, -big]])
    y = np.array([0, 0, 0, 2])
    value, grad = fn(logits, y, **params)  # RuntimeWarnings are errors in this suite
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    # row 0: p_y = 1 in double precision, every loss is 0 and so is its gradient
    assert value[0] == 0.0 and np.all(grad[0] == 0.0)
    # row 1: p_y = e^-2e4 = 0 in double precision: each loss at its p -> 0 limit (bounded ones saturate)
    tau, q = params.get("tau"), params.get("q")
    limit = {
        "ce": 2 * big,
        "phuber_ce": lambda: 1 + np.log(tau),
        "gce": lambda: 1 / q,
        "phuber_gce": lambda: (1 - mc.phuber_gce_switch(tau=tau, q=q) ** q) / q + tau * mc.phuber_gce_switch(tau=tau, q=q),
        "linear": 1.0,
    }[name]
    limit = limit() if callable(limit) else limit
    assert value[1] == pytest.approx(limit, rel=1e-12)  # closed forms, a few roundings apart
    # rows 2, 3: shift invariance, p_y = 1/2 and 1/3 exactly as for zero logits
    v2, g2 = fn(np.zeros((1, 2)), np.array([0]), **params)
    v3, g3 = fn(np.zeros((1, 3)), np.array([2]), **params)
    assert value[2] == pytest.approx(v2[0], rel=1e-15) and value[3] == pytest.approx(v3[0], rel=1e-15)
    np.testing.assert_allclose(grad[2, :2], g2[0], rtol=1e-15)  # x - max(x) is exact, so is everything after
    np.testing.assert_allclose(grad[3], g3[0], rtol=1e-15)


@pytest.mark.parametrize("cases, scale", [("paper", 1.0), ("robust", 3.0)])
def test_leading_batch_axes(cases, scale):
    rng = np.random.default_rng(9 if cases == "paper" else 16)
    logits = rng.standard_normal((2, 3, 6, 4)) * scale
    y = rng.integers(0, 4, size=(2, 3, 6))
    for name, (fn, params) in (CASES if cases == "paper" else ROBUST).items():
        v, g = fn(logits, y, **params)
        assert v.shape == (2, 3, 6) and g.shape == (2, 3, 6, 4)
        v2, g2 = fn(logits.reshape(-1, 4), y.reshape(-1), **params)
        np.testing.assert_array_equal(v.reshape(-1), v2)  # same numbers, only reshaped
        np.testing.assert_array_equal(g.reshape(-1, 4), g2)


# ---------------------------------------------------------------------------------------------------
# Validation and the registry
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda f, y: mc.phuber_ce(f, y, tau=1.0), r"tau=1\.0 is outside its domain \(1, inf\)"),
        (lambda f, y: mc.phuber_ce(f, y, tau=0.5), r"tau=0\.5 is outside its domain"),
        (lambda f, y: mc.phuber_ce(f, y, tau=np.nan), r"tau=nan"),
        (lambda f, y: mc.phuber_ce(f, y, tau=np.inf), r"tau=inf is outside its domain"),
        (lambda f, y: mc.gce(f, y, q=0.0), r"q=0\.0 is outside its domain \(0, 1\]"),
        (lambda f, y: mc.gce(f, y, q=1.5), r"q=1\.5 is outside its domain"),
        (lambda f, y: mc.phuber_gce(f, y, tau=2.0, q=1.0), r"q=1\.0 is outside its domain \(0, 1\)"),
        (lambda f, y: mc.phuber_gce(f, y, tau=1.0, q=0.7), r"tau=1\.0 is outside its domain"),
    ],
)
def test_bad_parameters_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call(np.zeros((1, 3)), np.array([0]))


def test_bad_shapes_and_labels_raise():
    with pytest.raises(ValueError, match="y.shape"):
        mc.cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="must lie in"):
        mc.cross_entropy(np.zeros((1, 3)), np.array([3]))
    with pytest.raises(ValueError, match="integer"):
        mc.cross_entropy(np.zeros((1, 3)), np.array([0.0]))
    with pytest.raises(ValueError, match="K >= 2"):
        mc.cross_entropy(np.zeros((1, 1)), np.array([0]))


def test_registry():
    logits, y = _random_problem(10)
    for name, (fn, params) in zip(mc.MULTICLASS_LOSS_NAMES, CASES.values()):
        loss = mc.make_multiclass_loss(name, **params)
        assert loss.name == name and dict(loss.params) == {k: float(v) for k, v in params.items()}
        for a, b in zip(loss(logits, y), fn(logits, y, **params)):
            np.testing.assert_array_equal(a, b)  # the same function with the same parameters
    assert dict(mc.make_multiclass_loss("gce").params) == {"q": 0.7}  # the paper's default
    assert mc.make_multiclass_loss("phuber_gce", tau=10).label == "phuber_gce (tau=10, q=0.7)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        mc.make_multiclass_loss("ce").name = "x"
    with pytest.raises(ValueError, match="unknown"):
        mc.make_multiclass_loss("mae")
    with pytest.raises(ValueError, match="unexpected"):
        mc.make_multiclass_loss("ce", tau=2)
    with pytest.raises(ValueError, match="needs"):
        mc.make_multiclass_loss("phuber_ce")
    with pytest.raises(ValueError, match=r"tau=0\.5 is outside its domain"):
        mc.make_multiclass_loss("phuber_ce", tau=0.5)


# ---------------------------------------------------------------------------------------------------
# Robust losses of the label-noise literature (SCE, NCE, NCE+MAE, NCE+RCE, Taylor CE, LogitClip)
# ---------------------------------------------------------------------------------------------------



def test_robust_values_closed_form():
    # logits log([1, 3]) -> p = [1/4, 3/4]; three classes log([1, 2, 5]) -> p = [1/8, 2/8, 5/8]
    f13, f125 = LOG([[1.0, 3.0]]), LOG([[1.0, 2.0, 5.0]])
    y0 = np.array([0])
    # rtol 1e-14: a handful of roundings in log_softmax / exp; the references are exact expressions
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-14)  # noqa: E731
    close(mc.sce(f13, y0)[0], [0.1 * LOG(4.0) + 4 * 0.75])  # alpha CE - A beta (1 - p_y)
    close(mc.nce(f125, y0)[0], [LOG(1 / 8) / (LOG(1 / 8) + LOG(2 / 8) + LOG(5 / 8))])
    close(mc.nce_mae(f125, y0, alpha=2.0, beta=3.0)[0],
          [2 * LOG(1 / 8) / (LOG(1 / 8) + LOG(2 / 8) + LOG(5 / 8)) + 3 * 7 / 8])
    close(mc.nce_rce(f125, y0, A=-2.0)[0], [LOG(1 / 8) / (LOG(1 / 8) + LOG(2 / 8) + LOG(5 / 8)) + 2 * 7 / 8])
    close(mc.taylor_ce(f125, y0, k=3)[0], [7 / 8 + (7 / 8) ** 2 / 2 + (7 / 8) ** 3 / 3])
    # LogitClip: ||(3, 4)|| = 5 > delta = 1 -> clamped to (0.6, 0.8); below the bound, plain CE
    close(mc.logit_clip([[3.0, 4.0]], y0, delta=1.0)[0], [LOG(np.exp(0.6) + np.exp(0.8)) - 0.6])
    close(mc.logit_clip([[3.0, 4.0]], y0, delta=5.0)[0], mc.cross_entropy([[3.0, 4.0]], y0)[0])


@pytest.mark.parametrize("name", list(ROBUST))
def test_robust_gradient_rows_sum_to_zero(name):
    # a loss of softmax / log_softmax is shift invariant, so its gradient sums to 0 over the classes;
    # LogitClip's norm clamp is not (shifting the logits changes their norm)
    fn, params = ROBUST[name]
    logits, y = _random_problem(12)
    _, grad = fn(logits, y, **params)
    sums = grad.sum(axis=1)
    if name == "logit_clip":
        assert np.max(np.abs(sums)) > 1e-3  # the norm clamp is not shift invariant: a real difference
    else:
        np.testing.assert_allclose(sums, 0.0, atol=1e-14)  # K numbers of size <= ~10 cancelling


def test_robust_gradient_weights_for_the_reweighted_losses():
    """SCE and Taylor CE are reweighted CE gradients: w = alpha - A beta p_y and 1 - (1 - p_y)^k."""
    logits, y = _random_problem(13)
    p = _p_y(logits, y)
    base = softmax(logits, axis=-1) - np.eye(logits.shape[1])[y]
    # rtol 1e-12: p_y from exp(log_softmax) vs scipy's softmax differ in the last few bits
    np.testing.assert_allclose(mc.sce(logits, y, alpha=0.3, beta=2.0, A=-5.0)[1], (0.3 + 10.0 * p)[:, None] * base,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(mc.taylor_ce(logits, y, k=4)[1], (1 - (1 - p) ** 4)[:, None] * base,
                               rtol=1e-12, atol=1e-15)


ROBUST_BINARY = {  # multiclass, binary margin loss, params (shared names)
    "sce": (mc.sce, robust.sce, {"alpha": 0.3, "beta": 2.0, "A": -5.0}),
    "nce": (mc.nce, robust.nce, {}),
    "nce_mae": (mc.nce_mae, robust.nce_mae, {"alpha": 0.5, "beta": 2.0}),
    "nce_rce": (mc.nce_rce, robust.nce_rce, {"alpha": 1.0, "beta": 1.0, "A": -4.0}),
    "taylor_ce": (mc.taylor_ce, robust.taylor_ce, {"k": 3}),
}


@pytest.mark.parametrize("name", list(ROBUST_BINARY))
def test_robust_two_classes_equal_binary_margin_loss(name):
    multi, margin_loss, params = ROBUST_BINARY[name]
    # weights up to ~10 (SCE: alpha - A beta p_y = 0.3 + 10 p_y), hence atol 2e-14 on the gradient
    _check_two_classes(multi, margin_loss, params, seed=14, grad_atol=2e-14)


def test_logit_clip_two_classes_is_the_binary_loss_only_at_centred_logits():
    """The norm clamp of (f_y, f_o) is not a clamp of z = f_y - f_o. At centred logits (z/2, -z/2) the norm
    is |z|/sqrt 2, so it is the binary LogitClip at delta * sqrt 2; off-centre it is not."""
    z = np.linspace(-20, 20, 401) + 0.013
    delta = 2.0
    y = np.zeros(z.size, dtype=int)
    centred = np.stack([z / 2, -z / 2], axis=1)
    value, grad = mc.logit_clip(centred, y, delta=delta)
    phi, dphi = robust.logit_clip(z, delta=delta * np.sqrt(2))
    np.testing.assert_allclose(value, phi, rtol=1e-13)  # a few roundings (the norm, the rescale)
    # d/df_y of phi(f_y - f_o) restricted to centred moves: grad . (1/2, -1/2) = phi'(z)
    np.testing.assert_allclose(grad @ np.array([0.5, -0.5]), dphi, rtol=1e-12, atol=1e-15)
    shifted = centred + 5.0  # same margin z, larger norm: clamped more
    assert np.max(np.abs(mc.logit_clip(shifted, y, delta=delta)[0] - phi)) > 0.1


def test_robust_symmetry_over_labels():
    """Summed over the K labels: NCE = 1 and NCE+RCE = alpha - A beta (K - 1) for every input (symmetric
    losses, Ma et al. 2020); SCE and Taylor CE (k >= 2) are not constant."""
    logits, _ = _random_problem(15, n=30, k=4)
    per_label = lambda fn, **kw: sum(fn(logits, np.full(30, c), **kw)[0] for c in range(4))  # noqa: E731
    np.testing.assert_allclose(per_label(mc.nce), 1.0, rtol=1e-14)
    np.testing.assert_allclose(per_label(mc.nce_rce, alpha=2.0, beta=0.5, A=-4.0), 2.0 + 0.5 * 4.0 * 3, rtol=1e-14)
    np.testing.assert_allclose(per_label(mc.nce_mae, alpha=1.0, beta=1.0), 1.0 + 3.0, rtol=1e-14)
    assert np.ptp(per_label(mc.sce)) > 0.1 and np.ptp(per_label(mc.taylor_ce, k=2)) > 0.01


@pytest.mark.parametrize("name", list(ROBUST))
def test_robust_extreme_logits_finite(name):
    fn, params = ROBUST[name]
    big = 1e4
    logits = np.array([[big, -big, 0.0], [-big, big, 0.0], [big, big, -big], [-big, -big, -big]])
    y = np.array([0, 0, 0, 2])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value, grad = fn(logits, y, **params)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    assert np.all(value >= 0)
    if name != "logit_clip":  # row 0: p_y = 1 in double precision: the loss and its gradient vanish
        assert value[0] == 0.0 and np.all(grad[0] == 0.0)
    else:  # clamped to delta (1, -1, 0)/sqrt 2: bounded by the CE of a norm-delta logit vector
        assert 0 < value[0] < np.log(3) + params["delta"] * np.sqrt(2)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda f, y: mc.sce(f, y, alpha=-1.0), r"alpha=-1\.0 is outside its domain \[0, inf\)"),
        (lambda f, y: mc.sce(f, y, A=0.0), r"A=0\.0 is outside its domain \(-inf, 0\)"),
        (lambda f, y: mc.nce_mae(f, y, alpha=0.0, beta=0.0), r"alpha=0 and beta=0"),
        (lambda f, y: mc.nce_rce(f, y, beta=-1.0), r"beta=-1\.0 is outside its domain"),
        (lambda f, y: mc.taylor_ce(f, y, k=0), r"k=0 must be an integer >= 1"),
        (lambda f, y: mc.logit_clip(f, y, delta=0.0), r"delta=0\.0 is outside its domain \(0, inf\)"),
    ],
)
def test_robust_bad_parameters_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call(np.zeros((1, 3)), np.array([0]))


def test_robust_registry():
    logits, y = _random_problem(17)
    for name, (fn, params) in ROBUST.items():
        loss = mc.make_multiclass_loss(name, **params)
        assert loss.name == name and dict(loss.params) == {k: float(v) for k, v in params.items()}
        for a, b in zip(loss(logits, y), fn(logits, y, **params)):
            np.testing.assert_array_equal(a, b)  # the same function with the same parameters
    assert set(ROBUST) <= set(mc.MULTICLASS_LOSS_NAMES)
    defaults = {n: dict(mc.make_multiclass_loss(n).params) for n in ("sce", "nce_mae", "nce_rce", "logit_clip")}
    assert defaults == {  # the binary forms' defaults (sources in sandbox.robust_losses)
        "sce": {"alpha": 0.1, "beta": 1.0, "A": -4.0},
        "nce_mae": {"alpha": 1.0, "beta": 1.0},
        "nce_rce": {"alpha": 1.0, "beta": 1.0, "A": -4.0},
        "logit_clip": {"delta": 1.0},
    }
    with pytest.raises(ValueError, match="needs"):
        mc.make_multiclass_loss("taylor_ce")
    assert mc.make_multiclass_loss("taylor_ce", k=2).label == "taylor_ce (k=2)"
