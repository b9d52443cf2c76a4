"""Named margin losses: the registry behind :func:`make_loss`.

Each entry of :data:`LOSSES` is a :class:`LossEntry`: the loss function ``fn(z, **params) -> (phi,
phi')``, its hyperparameters and their defaults, and what the rest of the package needs to know of it
(its base loss on probabilities for CL-clipping, a value-only formula, a fused kernel of the batched
SLSQP solver, whether it is convex and whether it is bounded). Adding a loss is one function (in
:mod:`sandbox.losses` or a module of its own) plus one entry here. :func:`make_loss` builds a
:class:`MarginLoss` by name (or by one of the :data:`ALIASES`, all listed in every "unknown loss"
error) and validates its hyperparameters at once.

``convex``: ``phi`` is convex (a "convex potential", so Long & Servedio's construction applies:
Prop. 4). ``bounded``: ``phi`` has finite limits at both ends (``phi(+inf)`` and ``phi(-inf)``), so
the risk's infimum may lie at infinite norm and is then reached by a direction alone. Where either
depends on the hyperparameters (e.g. ``sce`` is bounded only at ``alpha = 0``) the entry holds a
function of them and :func:`make_loss` stores its value for the parameters given.

The robust losses of the label-noise literature (symmetric, active-passive, Taylor, tempered, LogitClip)
are in :mod:`sandbox.robust_losses`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.special import logit

from . import base_losses
from . import robust_losses as RL
from ._checks import check_number
from .losses import (
    _value_huberised,
    _value_logistic,
    _value_phuber,
    gce,
    huberised_logistic,
    linear,
    logistic,
    phuber_gce,
    phuber_logistic,
    unhinged,
)

__all__ = ["MarginLoss", "LossEntry", "LOSSES", "ALIASES", "LOSS_NAMES", "PAPER_LOSSES", "make_loss", "paper_losses"]

LossFn = Callable[[np.ndarray], "tuple[np.ndarray, np.ndarray]"]




@dataclass(frozen=True)
class MarginLoss:
    """A margin loss with its parameters: ``loss(z) -> (phi(z), phi'(z))``.

    ``base`` is the base loss on probabilities when the loss is composite (``phi = base o sigmoid``);
    CL-clipping clips its derivative. ``None`` for non-composite losses (unhinged).
    ``kernel`` names a fused mean-risk kernel of the batched SLSQP solver for this loss
    (:mod:`sandbox._kernels`), or ``None`` (the solver then calls ``loss(z)``). ``convex`` and
    ``bounded`` are the registry's (``None`` for a loss built by hand).
    """

    name: str
    fn: LossFn = field(repr=False, compare=False)
    params: tuple[tuple[str, float], ...] = ()
    base: base_losses.BaseLoss | None = field(default=None, repr=False, compare=False)
    value_fn: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False, compare=False)
    kernel: str | None = field(default=None, repr=False, compare=False)
    convex: bool | None = field(default=None, repr=False, compare=False)
    bounded: bool | None = field(default=None, repr=False, compare=False)

    def __call__(self, z) -> tuple[np.ndarray, np.ndarray]:
        return self.fn(z)

    def value(self, z) -> np.ndarray:
        """``phi(z)`` alone (no derivative computed where a value formula is registered)."""
        if self.value_fn is None:
            return self.fn(z)[0]
        with np.errstate(invalid="ignore"):
            return self.value_fn(z)

    def deriv(self, z) -> np.ndarray:
        return self.fn(z)[1]

    def __reduce__(self):
        """Registry losses pickle as ``(name, params)`` (so they can be sent to worker processes)."""
        entry = LOSSES.get(self.name)
        if entry is not None and isinstance(self.fn, functools.partial) and self.fn.func is entry.fn:
            return (_from_registry, (self.name, self.params))
        return super().__reduce__()

    @property
    def tau(self) -> float | None:
        """The loss's ``tau`` parameter, or ``None`` if it has none."""
        return dict(self.params).get("tau")

    @property
    def label(self) -> str:
        """Human-readable name with parameters, e.g. ``huberised (tau=0.26)``."""
        if not self.params:
            return self.name
        return f"{self.name} ({', '.join(f'{k}={v:g}' for k, v in self.params)})"


@dataclass(frozen=True)
class LossEntry:
    """One registered loss: ``fn(z, **params) -> (phi, phi')``, its parameters and their defaults.

    ``base(**params)`` returns the base loss on probabilities (CL-clipping needs it; ``None``: the
    loss is not composite); ``value(z, **params)`` the value alone (``None``: ``fn(z)[0]``);
    ``kernel``: the batched solver's fused kernel for it (``None``: generic). ``convex``, ``bounded``:
    see the module docstring; a bool, or a function of the parameters returning one.
    """

    fn: Callable[..., tuple]
    summary: str
    convex: bool | Callable[..., bool]
    bounded: bool | Callable[..., bool]
    params: tuple[str, ...] = ()
    defaults: dict = field(default_factory=dict)
    base: Callable[..., base_losses.BaseLoss] | None = None
    value: Callable[..., np.ndarray] | None = None
    kernel: str | None = None


def _base_from_margin(fn: LossFn) -> base_losses.BaseLoss:
    """The base loss ``varphi(p) = phi(logit p)`` of a margin loss, ``varphi' = phi'(z) / (p (1 - p))``."""

    def base(p):
        p = np.asarray(p, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            v, d = fn(logit(p))
            return v, d / (p * (1.0 - p))

    return base


LOSSES: dict[str, LossEntry] = {
    "logistic": LossEntry(
        logistic, "log(1 + e^-z): the cross-entropy of a sigmoid", True, False, value=_value_logistic,
        base=lambda: base_losses.log_loss, kernel="logistic"),
    "huberised": LossEntry(
        huberised_logistic, "Huberised logistic = L-clipping of logistic (Lemma 2); tau in (0, 1)", True, False,
        params=("tau",), value=_value_huberised,
        base=lambda tau: _base_from_margin(lambda z: huberised_logistic(z, tau=tau)), kernel="huberised"),
    "phuber": LossEntry(
        phuber_logistic, "partially Huberised logistic = CL-clipping of logistic (Eq. 11); tau > 1", False, True,
        params=("tau",), value=_value_phuber,
        base=lambda tau: functools.partial(base_losses.phuber_log_loss, tau=tau), kernel="phuber"),
    "unhinged": LossEntry(unhinged, "1 - z (van Rooyen et al. 2015); unbounded below", True, False),
    "linear": LossEntry(linear, "1 - sigmoid(z): the paper's linear loss 1 - p = the sigmoid loss (Ghosh et al. "
                        "2015) = half the binary MAE 2(1 - p); symmetric", False, True,
                        base=lambda: base_losses.linear_base),
    "gce": LossEntry(gce, "generalised cross-entropy (1 - p^q)/q (Zhang & Sabuncu 2018); q in (0, 1]", False, True,
                     params=("q",), defaults={"q": 0.7},
                     base=lambda q: functools.partial(base_losses.gce_base, q=q)),
    "phuber_gce": LossEntry(phuber_gce, "partially Huberised GCE; tau > 1, q in (0, 1)", False, True,
                            params=("tau", "q"), defaults={"q": 0.7},
                            base=lambda tau, q: functools.partial(base_losses.phuber_gce_base, tau=tau, q=q)),
    # robust losses of the label-noise literature (sandbox.robust_losses; defaults and sources there)
    "ramp": LossEntry(RL.ramp, "ramp min(2, max(0, 1 - z)) (Ghosh et al. 2015); symmetric: phi(z) + phi(-z) = 2",
                      False, True),
    "squared": LossEntry(RL.squared, "squared (1 - z)^2 (Manwani & Sastry 2013: tolerant to uniform noise)",
                         True, False),
    "sce": LossEntry(RL.sce, "symmetric CE alpha CE - A beta (1 - p) (Wang et al. 2019); alpha, beta >= 0, A < 0",
                     RL.sce_is_convex, lambda alpha, beta, A: alpha == 0.0,
                     params=("alpha", "beta", "A"), defaults={"alpha": 0.1, "beta": 1.0, "A": -4.0},
                     base=lambda alpha, beta, A: functools.partial(base_losses.sce_base, alpha=alpha, beta=beta, A=A)),
    "nce": LossEntry(RL.nce, "normalised CE log p / (log p + log(1 - p)) (Ma et al. 2020); symmetric", False, True,
                     base=lambda: base_losses.nce_base),
    "nce_mae": LossEntry(RL.nce_mae, "active-passive alpha NCE + beta (1 - p) (Ma et al. 2020); symmetric", False, True,
                         params=("alpha", "beta"), defaults={"alpha": 1.0, "beta": 1.0},
                         base=lambda alpha, beta: functools.partial(base_losses.nce_mae_base, alpha=alpha, beta=beta)),
    "nce_rce": LossEntry(RL.nce_rce, "active-passive alpha NCE - A beta (1 - p) (Ma et al. 2020); symmetric",
                         False, True, params=("alpha", "beta", "A"), defaults={"alpha": 1.0, "beta": 1.0, "A": -4.0},
                         base=lambda alpha, beta, A: functools.partial(base_losses.nce_rce_base, alpha=alpha,
                                                                       beta=beta, A=A)),
    "taylor_ce": LossEntry(RL.taylor_ce, "Taylor CE sum_{i<=k} (1 - p)^i / i (Feng et al. 2020); integer k >= 1",
                           False, True, params=("k",),
                           base=lambda k: functools.partial(base_losses.taylor_ce_base, k=int(k))),
    "logit_clip": LossEntry(RL.logit_clip, "LogitClip log(1 + e^-clip(z, +-delta)) (Wei et al. 2023); delta > 0",
                            False, True, params=("delta",), defaults={"delta": 1.0},
                            base=lambda delta: functools.partial(base_losses.logit_clip_base, delta=delta)),
    "bi_tempered": LossEntry(RL.bi_tempered, "bi-tempered logistic (Amid et al. 2019); t1 in [0, 1], t2 in [1, 100]",
                             lambda t1, t2: t1 == 1.0 and t2 == 1.0, lambda t1, t2: t1 < 1.0, params=("t1", "t2")),
    "t_logistic": LossEntry(RL.t_logistic, "t-logistic -log sigma_t(z) (Ding & Vishwanathan 2010); t in [1, 100]",
                            lambda t: t == 1.0, False, params=("t",)),
}
ALIASES = {"partially_huberised": "phuber", "phuber_logistic": "phuber", "huberised_logistic": "huberised",
           "sigmoid": "linear"}
LOSS_NAMES = tuple(LOSSES)
PAPER_LOSSES = ("logistic", "huberised", "phuber")  # the paper's Figure 2, in display order


def _names() -> str:
    return ", ".join(LOSS_NAMES) + "; aliases " + ", ".join(f"{a} -> {c}" for a, c in ALIASES.items())


def make_loss(name: str, **params) -> MarginLoss:
    """Build a :class:`MarginLoss` by registry name (or alias), validating its parameters now.

    ==========================  =========================  =================================
    name (aliases)              parameters                 base loss (for CL-clipping)
    ==========================  =========================  =================================
    ``logistic``                --                         log loss
    ``huberised``               ``tau`` in (0, inf)        ``phi_tau(logit p)``
    (``huberised_logistic``)
    ``phuber``                  ``tau`` > 1                PHuber log loss (Eq. 12)
    (``partially_huberised``,
    ``phuber_logistic``)
    ``unhinged``                --                         none
    ``linear``                  --                         ``1 - p``
    ``gce``                     ``q`` in (0, 1] (0.7)      GCE
    ``phuber_gce``              ``tau`` > 1, ``q`` (0.7)   PHuber-GCE
    ``ramp``, ``squared``       --                         none
    ``sce``                     ``alpha`` (0.1), ``beta``  ``-alpha log p - A beta (1 - p)``
                                (1), ``A`` (-4)
    ``nce``                     --                         NCE
    ``nce_mae``                 ``alpha`` (1), ``beta``    NCE + reduced MAE
                                (1)
    ``nce_rce``                 ``alpha``, ``beta`` (1),   NCE + RCE
                                ``A`` (-4)
    ``taylor_ce``               ``k``: integer >= 1        Taylor CE
    ``logit_clip``              ``delta`` > 0 (1)          ``-log clip(p)``
    ``bi_tempered``             ``t1`` in [0, 1], ``t2``   none (tempered link)
                                in [1, 100]
    ``t_logistic``              ``t`` in [1, 100]          none (tempered link)
    ==========================  =========================  =================================

    >>> make_loss("phuber", tau=1.36).label
    'phuber (tau=1.36)'
    """
    if not isinstance(name, str) or ALIASES.get(name, name) not in LOSSES:
        raise ValueError(f"loss name={name!r} is unknown; choose one of {_names()}")
    canonical = ALIASES.get(name, name)
    entry = LOSSES[canonical]
    extra = sorted(set(params) - set(entry.params))
    if extra:
        raise ValueError(f"loss {canonical!r} takes parameters {entry.params or '()'}, got unexpected {extra}")
    full = {**entry.defaults, **params}
    missing = [k for k in entry.params if k not in full]
    if missing:
        raise ValueError(f"loss {canonical!r} needs parameter(s) {missing}")
    values = {k: check_number(k, full[k]) for k in entry.params}
    entry.fn(np.zeros(1), **values)  # validates the values: ValueError naming the parameter
    fn = functools.partial(entry.fn, **values)
    flag = lambda f: bool(f(**values)) if callable(f) else f  # noqa: E731  (parameter-dependent flags)
    return MarginLoss(
        canonical,
        fn,
        tuple(values.items()),
        None if entry.base is None else entry.base(**values),
        None if entry.value is None else functools.partial(entry.value, **values),
        entry.kernel,
        flag(entry.convex),
        flag(entry.bounded),
    )


def _from_registry(name: str, params: tuple) -> MarginLoss:
    return make_loss(name, **dict(params))


def paper_losses(*, tau_huberised: float, tau_phuber: float) -> dict[str, MarginLoss]:
    """The three losses of the paper's Figure 2 by name, in :data:`PAPER_LOSSES` order: ``logistic``,
    ``huberised`` (= L-clipping) and ``phuber`` (= CL-clipping of logistic), at the given thresholds."""
    return {
        "logistic": make_loss("logistic"),
        "huberised": make_loss("huberised", tau=tau_huberised),
        "phuber": make_loss("phuber", tau=tau_phuber),
    }
