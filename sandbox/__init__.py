"""A NumPy theory sandbox for Menon, Rawat, Reddi & Kumar, "Can gradient clipping mitigate label noise?"
(ICLR 2020): losses, clipping, the paper's counterexamples, fitters and the population picture.

The API a notebook needs, in one place (each name's module has the details)::

    import sandbox as sb
    loss = sb.make_loss("phuber", tau=1.36)                      # margin losses (sb.LOSS_NAMES)
    data = sb.long_servedio_trials(trials=100, n_train=1000, n_test=500, rho=0.2, rng=0)
    fit = sb.fit_slsqp(loss, data.X_train, data.y_train)         # the paper's protocol, batched
    sb.accuracy(fit.theta, data.X_test, data.y_test)             # clean test accuracy per trial
    sb.minimise_population_risk(loss, sb.long_servedio(), rho=0.2).clean_accuracy

Conventions: labels in {-1, +1}; ``X`` is ``(n, d)`` or ``(T, n, d)`` for ``T`` trials at once; every
fitter takes ``(loss, X, y, *, keywords)`` and returns a result object with ``theta``; every
stochastic function takes ``rng``, an int seed or a ``numpy.random.Generator``; hyperparameters are
keyword-only and validated (``ValueError``/``TypeError`` naming the parameter).
"""

from . import atlas, calibration
from .adversary import adversarial_atom_flips, atom_flip_search
from .clipping import (
    clip_base_derivative,
    clip_by_global_norm,
    clip_loss_derivative,
    clip_per_example,
)
from .converged import ConvergedFit, fit_converged
from .data import (
    DiscreteDistribution,
    ding_outliers,
    long_servedio,
    long_servedio_mixture,
    sample_discrete,
)
from .gd import GDResult, clipped_direction, train_gd
from .linear import accuracy, margins, mean_grad, risk, risk_and_grad, scores
from .metrics import SUCCESS, break_rho, summarise
from .multiclass import make_multiclass_loss
from .noise import (
    flip_class_conditional,
    flip_exact_fraction,
    flip_group,
    flip_largest_margin,
    flip_multiclass,
    flip_symmetric,
)
from .population import (
    PopulationFit,
    angular_pulls,
    clean_accuracy,
    minimise_population_risk,
    mixture_accuracy,
    population_risk,
    profile_risk,
)
from .presets import PRESETS, Preset, get_preset
from .registry import LOSS_NAMES, PAPER_LOSSES, MarginLoss, make_loss, paper_losses
from .rng import as_generator, child_rngs
from .slsqp import FitResult, fit_slsqp, fit_slsqp_scipy
from .trials import LSTrials, long_servedio_trials, trials_over_rho

__all__ = [
    # losses and clipping
    "make_loss", "MarginLoss", "LOSS_NAMES", "PAPER_LOSSES", "paper_losses", "make_multiclass_loss",
    "clip_by_global_norm", "clip_per_example", "clip_loss_derivative", "clip_base_derivative",
    # data and noise
    "long_servedio", "long_servedio_mixture", "ding_outliers", "sample_discrete", "DiscreteDistribution",
    "long_servedio_trials", "trials_over_rho", "LSTrials",
    "flip_symmetric", "flip_exact_fraction", "flip_class_conditional", "flip_largest_margin", "flip_group",
    "flip_multiclass",
    # fit
    "train_gd", "clipped_direction", "GDResult", "fit_slsqp", "fit_slsqp_scipy", "FitResult", "fit_converged",
    "ConvergedFit",
    # evaluate
    "scores", "margins", "risk", "risk_and_grad", "mean_grad", "accuracy", "summarise", "break_rho", "SUCCESS",
    # population
    "population_risk", "clean_accuracy", "mixture_accuracy", "minimise_population_risk", "PopulationFit",
    "profile_risk", "angular_pulls", "adversarial_atom_flips", "atom_flip_search", "calibration", "atlas",
    # settings and randomness
    "Preset", "PRESETS", "get_preset", "as_generator", "child_rngs",
]
