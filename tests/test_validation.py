"""One validation layer: every public fitter and generator rejects bad input the same way.

Each row feeds one public function one bad input and names the parameter the error must mention. The
error must be a ``ValueError`` or ``TypeError`` (nothing else: no IndexError from NumPy, no SciPy
"Rank-deficient ... HFTI", no AttributeError), carry the parameter's name, and come with no warning.
"""

import warnings

import numpy as np
import pytest

import sandbox as sb
from sandbox import calibration, noise
from sandbox.nets import MLP, TrainConfig, train_net

LOG = sb.make_loss("logistic")
X = np.random.default_rng(0).normal(size=(30, 2))
Y = np.where(X[:, 0] > 0, 1.0, -1.0)
XT, YT = np.stack([X, X]), np.stack([Y, Y])
X_NAN = X.copy()
X_NAN[3, 1] = np.nan
Y01 = (Y > 0).astype(float)  # labels in {0, 1}: must be rejected, not silently used
LS = sb.long_servedio()

FITTERS = {
    "train_gd": lambda **kw: sb.train_gd(LOG, **{"X": X, "y": Y, "lr": 1.0, "steps": 3, **kw}),
    "fit_slsqp": lambda **kw: sb.fit_slsqp(LOG, **{"X": X, "y": Y, **kw}),
    "fit_slsqp_scipy": lambda **kw: sb.fit_slsqp_scipy(LOG, **{"X": X, "y": Y, **kw}),
}

CASES = [
    # (name, call, exception, parameter named in the message)
    *[(f"{f}-labels01", lambda f=f: FITTERS[f](y=Y01), ValueError, "y") for f in FITTERS],
    *[(f"{f}-y-length", lambda f=f: FITTERS[f](y=Y[:-1]), ValueError, "y.shape") for f in FITTERS],
    *[(f"{f}-nan-X", lambda f=f: FITTERS[f](X=X_NAN), ValueError, "X") for f in FITTERS],
    *[(f"{f}-X-1d", lambda f=f: FITTERS[f](X=X[:, 0], y=Y), ValueError, "X.shape") for f in FITTERS],
    *[(f"{f}-loss-str", lambda f=f: {"train_gd": sb.train_gd, "fit_slsqp": sb.fit_slsqp,
                                      "fit_slsqp_scipy": sb.fit_slsqp_scipy}[f]("logistic", X, Y, **(
                                          {"lr": 1.0, "steps": 1} if f == "train_gd" else {})),
       TypeError, "loss") for f in FITTERS],
    ("train_gd-global-without-tau", lambda: FITTERS["train_gd"](clip="global"), ValueError, "tau"),
    ("train_gd-per-example-without-tau", lambda: FITTERS["train_gd"](clip="per_example"), ValueError, "tau"),
    ("train_gd-tau-str", lambda: FITTERS["train_gd"](clip="global", tau="2"), TypeError, "tau"),
    ("train_gd-tau-negative", lambda: FITTERS["train_gd"](clip="loss", tau=-1.0), ValueError, "tau"),
    ("train_gd-lr-nan", lambda: FITTERS["train_gd"](lr=float("nan")), ValueError, "lr"),
    ("train_gd-steps-float", lambda: FITTERS["train_gd"](steps=2.5), ValueError, "steps"),
    ("train_gd-clip-unknown", lambda: FITTERS["train_gd"](clip="norm"), ValueError, "clip"),
    ("train_gd-rng-str", lambda: FITTERS["train_gd"](batch_size=4, rng="0"), TypeError, "rng"),
    ("train_gd-rng-negative", lambda: FITTERS["train_gd"](batch_size=4, rng=-1), ValueError, "rng"),
    ("train_gd-theta0-shape", lambda: FITTERS["train_gd"](theta0=np.zeros(3)), ValueError, "theta0"),
    ("fit_slsqp-maxiter-0", lambda: FITTERS["fit_slsqp"](maxiter=0), ValueError, "maxiter"),
    ("fit_slsqp-ftol-str", lambda: FITTERS["fit_slsqp"](ftol="1e-6"), TypeError, "ftol"),
    ("fit_slsqp-chunk-0", lambda: FITTERS["fit_slsqp"](chunk_bytes=0), ValueError, "chunk_bytes"),
    ("fit_slsqp_scipy-theta0", lambda: FITTERS["fit_slsqp_scipy"](theta0=[1.0]), ValueError, "theta0"),
    ("train_net-nan-X", lambda: train_net(sb.make_multiclass_loss("ce"), np.full((4, 3), np.nan), np.zeros(4, int),
                                          model=MLP(3, 2, 2), config=TrainConfig(epochs=1), rng=0), ValueError, "X"),
    ("train_net-loss-str", lambda: train_net("ce", np.zeros((4, 3)), np.zeros(4, int), model=MLP(3, 2, 2),
                                             config=TrainConfig(epochs=1), rng=0), TypeError, "loss"),
    # generators
    ("trials-rho", lambda: sb.long_servedio_trials(trials=2, n_train=5, n_test=5, rho=0.5, rng=0), ValueError, "rho"),
    ("trials-n", lambda: sb.long_servedio_trials(trials=2, n_train=0, n_test=5, rho=0.1, rng=0), ValueError, "n_train"),
    ("trials-rng-float", lambda: sb.long_servedio_trials(trials=2, n_train=5, n_test=5, rho=0.1, rng=1.5), TypeError,
     "rng"),
    ("trials-first", lambda: sb.long_servedio_trials(trials=2, n_train=5, n_test=5, rho=0.1, rng=0, first_trial=-1),
     ValueError, "first_trial"),
    ("mixture-gamma", lambda: sb.long_servedio_mixture(10, rng=0, gamma=0.2), ValueError, "gamma"),
    ("mixture-rng-none", lambda: sb.long_servedio_mixture(10, rng=None), TypeError, "rng"),
    ("atoms-gamma-str", lambda: sb.long_servedio(gamma="0.1"), TypeError, "gamma"),
    ("discrete-n", lambda: sb.sample_discrete(LS, 0, rng=0), ValueError, "n"),
    ("ding-outliers", lambda: sb.ding_outliers(rng=0, n_outliers=-1), ValueError, "n_outliers"),
    ("ding-mean-nan", lambda: sb.ding_outliers(rng=0, outlier_mean=float("nan")), ValueError, "outlier_mean"),
    # noise
    ("flip-symmetric-labels", lambda: sb.flip_symmetric(Y01, rho=0.1, rng=0), ValueError, "y"),
    ("flip-symmetric-rho", lambda: sb.flip_symmetric(Y, rho=0.5, rng=0), ValueError, "rho"),
    ("flip-exact-rho-str", lambda: sb.flip_exact_fraction(Y, rho="0.1", rng=0), TypeError, "rho"),
    ("flip-cc-sum", lambda: sb.flip_class_conditional(Y, rho_pos=0.6, rho_neg=0.5, rng=0), ValueError, "rho_pos"),
    ("flip-largest-X-shape", lambda: sb.flip_largest_margin(Y, X[:-1], np.ones(2), rho=0.1), ValueError, "X"),
    ("flip-largest-theta", lambda: sb.flip_largest_margin(Y, X, np.ones(3), rho=0.1), ValueError, "theta"),
    ("flip-group-shape", lambda: sb.flip_group(Y, np.zeros(5), target=0, rho=0.1, rng=0), ValueError, "group"),
    ("flip-group-budget", lambda: sb.flip_group(Y, np.zeros(30), target=1, rho=0.1, rng=0), ValueError, "rho"),
    ("flip-multiclass-labels", lambda: sb.flip_multiclass(np.array([0.5, 1.0]), rho=0.1, num_classes=3, rng=0),
     ValueError, "y"),
    ("flip-multiclass-K", lambda: sb.flip_multiclass(np.array([0, 1]), rho=0.1, num_classes=1, rng=0), ValueError,
     "num_classes"),
    # population and calibration
    ("population-rho", lambda: sb.minimise_population_risk(LOG, LS, rho=0.5), ValueError, "rho"),
    ("population-flip-shape", lambda: sb.population_risk(LOG, np.ones(2), LS, flip=[0.1, 0.2]), ValueError, "flip"),
    ("population-loss", lambda: sb.minimise_population_risk("logistic", LS, rho=0.1), TypeError, "loss"),
    ("population-n-angles", lambda: sb.minimise_population_risk(LOG, LS, rho=0.1, n_angles=0), ValueError, "n_angles"),
    ("adversary-rho", lambda: sb.adversarial_atom_flips(LOG, LS, rho=1.5), ValueError, "rho"),
    ("calibration-eta", lambda: calibration.phuber_log_minimiser([0.5, 1.5], tau=2.0), ValueError, "eta"),
    ("calibration-tau-str", lambda: calibration.phuber_log_minimiser(0.5, tau="2"), TypeError, "tau"),
    # losses and clipping
    ("make_loss-tau-str", lambda: sb.make_loss("huberised", tau="2"), TypeError, "tau"),
    ("make_loss-tau-bool", lambda: sb.make_loss("phuber", tau=True), TypeError, "tau"),
    ("make_loss-name", lambda: sb.make_loss("mae_typo"), ValueError, "name"),
    ("multiclass-name", lambda: sb.make_multiclass_loss("crossentropy"), ValueError, "name"),
    ("clip-tau-zero", lambda: sb.clip_by_global_norm(np.ones(3), tau=0.0), ValueError, "tau"),
    ("clip-tau-str", lambda: sb.clip_per_example(np.ones((2, 3)), tau="1"), TypeError, "tau"),
    ("rng-bool", lambda: sb.as_generator(True), TypeError, "rng"),
    ("children-n", lambda: sb.child_rngs(0, 0), ValueError, "n"),
]


@pytest.mark.parametrize("call, exc, param", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error_naming_the_parameter(call, exc, param):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning on the way to the error fails the test
        try:
            call()
        except (ValueError, TypeError) as e:
            assert isinstance(e, exc), f"{type(e).__name__}: {e}"
            assert param in str(e), str(e)
        except Exception as e:  # noqa: BLE001 - any other exception type is the failure under test
            pytest.fail(f"{type(e).__name__} instead of {exc.__name__}: {e}")
        else:
            pytest.fail("no error raised")


def test_a_nan_margin_gives_nan_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in sb.LOSS_NAMES:
            kw = {"huberised": {"tau": 0.26}, "phuber": {"tau": 1.36}, "phuber_gce": {"tau": 2.0}, "taylor_ce": {"k": 2},
                  "bi_tempered": {"t1": 0.8, "t2": 1.2}, "t_logistic": {"t": 1.5}}.get(name, {})
            v, d = sb.make_loss(name, **kw)(np.array([np.nan, 0.5]))
            assert np.isnan(v[0]) and np.isnan(d[0]) and np.isfinite(v[1]), name


def test_an_int_seed_and_a_generator_are_both_accepted_everywhere():
    a = sb.train_gd(LOG, X, Y, lr=1.0, steps=5, batch_size=4, rng=0).theta
    b = sb.train_gd(LOG, X, Y, lr=1.0, steps=5, batch_size=4, rng=np.random.default_rng(0)).theta
    np.testing.assert_array_equal(a, b)  # an int seed is default_rng(seed)
    gen = np.random.default_rng(3)
    d = sb.long_servedio_trials(trials=2, n_train=5, n_test=5, rho=0.1, rng=gen)  # children spawned from it
    assert d.X_train.shape == (2, 5, 2)
    assert noise.flip_symmetric(Y, rho=0.2, rng=5).flipped.shape == Y.shape
