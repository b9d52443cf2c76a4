"""The per-atom adversary: flip fractions chosen to defeat a loss, at the population level.

For a discrete distribution with atom weights ``w_i``, an adversary with budget ``rho`` chooses per-atom
flip fractions ``f_i`` with ``sum_i w_i f_i <= rho`` to maximise the clean error of the minimiser of the
noisy population risk ``R_f`` (:mod:`sandbox.population`). The search is exhaustive over a grid of flip
fractions; the risk is linear in ``f``, so all candidates share one vectorised minimisation.
Ties. When the noisy risk reaches its minimum both in a region that classifies an atom correctly and
in one that does not (e.g. an atom flipped at exactly 1/2, whose noisy label is a fair coin), the
minimiser is not unique (:attr:`sandbox.population.PopulationFit.tie`). The adversary is credited only
with what every minimiser gets wrong: candidates are ranked by the *highest* clean accuracy over the
tied minimisers (``accuracy_range[1]``), so a tie never counts as a break; the lowest accuracy that a
tie allows is reported beside it (``tie_accuracy``). Among equally damaging candidates the one with the
smallest used budget is reported, then the one with the largest noisy risk.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ._checks import check_interval
from .data import DiscreteDistribution
from .population import PopulationFit, minimise_population_risk

__all__ = ["AdversarialFlips", "adversarial_atom_flips", "adversarial_atom_flips_sweep", "atom_flip_search",
           "lowest_accuracy"]


@dataclass(frozen=True)
class AdversarialFlips:
    """Result of the per-atom adversary: the flip fractions it chose, the budget they use, and the
    minimiser of the noisy risk they induce. ``clean_accuracy`` is the accuracy every minimiser of that
    risk reaches at least (the highest over a tie); ``tie`` whether the chosen flips leave the
    minimiser tied; ``tie_accuracy`` the lowest accuracy any candidate within the budget allows through
    a tie, if it is below ``clean_accuracy`` (else ``None``). ``n_candidates`` flip vectors were searched."""

    flip: np.ndarray
    used_budget: float
    fit: PopulationFit
    clean_accuracy: float
    tie: bool
    tie_accuracy: float | None
    n_candidates: int


def adversarial_atom_flips(
    loss,
    dist: DiscreteDistribution,
    *,
    rho: float,
    resolution: float = 0.1,
    n_angles: int = 720,
    n_radii: int = 121,
) -> AdversarialFlips:
    """Choose per-atom flip fractions ``f`` with ``sum_i w_i f_i <= rho`` to maximise the clean error
    of the noisy-risk minimiser of ``loss`` (an exhaustive search over the atoms' flip fractions).

    Candidates: every ``f`` on the grid ``{0, resolution, ..., 1}^m`` within the budget, plus the
    symmetric ``f_i = rho`` (so the adversary is never weaker than symmetric noise). Candidates are
    ranked by the accuracy every minimiser reaches (ties: see the module docstring); among the worst
    the one with the smallest budget wins, then the one with the largest noisy risk.
    ``rho in [0, 1]``; ``resolution in (0, 1]``. :func:`adversarial_atom_flips_sweep` does many
    budgets in one minimisation.
    """
    rho = check_interval("rho", rho, 0.0, 1.0, hint="flip budget as a fraction of the population mass")
    return adversarial_atom_flips_sweep(
        loss, dist, budgets=[rho], resolution=resolution, n_angles=n_angles, n_radii=n_radii
    )[0]


def adversarial_atom_flips_sweep(
    loss,
    dist: DiscreteDistribution,
    *,
    budgets,
    resolution: float = 0.1,
    levels=None,
    n_angles: int = 720,
    n_radii: int = 121,
) -> list[AdversarialFlips]:
    """:func:`adversarial_atom_flips` for every budget in ``budgets``, from one vectorised minimisation.

    Candidates: flip vectors on ``levels^m`` (default ``{0, resolution, ..., 1}``) within the largest
    budget, each competing at every budget it fits in, plus the symmetric vector ``f_i = rho`` of each
    budget (competing only at its own). ``levels`` all below 1/2 restrict the adversary to flips that
    keep the clean label the majority label of every atom.
    """
    budgets = np.atleast_1d(np.asarray(budgets, dtype=float))
    for b in budgets:
        check_interval("rho", b, 0.0, 1.0, hint="flip budget as a fraction of the population mass")
    m = len(dist.weights)
    if levels is None:
        resolution = check_interval("resolution", resolution, 0.0, 1.0, low_open=True)
        levels = np.append(np.arange(0.0, 1.0 + 1e-12, resolution).clip(0, 1), 1.0)
    levels = np.unique(np.asarray(levels, dtype=float))
    if np.any(~((levels >= 0) & (levels <= 1))):
        raise ValueError(f"levels={levels.tolist()!r} hold flip fractions outside their domain [0, 1]")
    grid = np.array(list(itertools.product(levels, repeat=m)))
    grid = grid[grid @ dist.weights <= budgets.max() + 1e-12]
    cand = np.vstack([grid, np.repeat(budgets[:, None], m, axis=1)])
    fit = minimise_population_risk(loss, dist, flip=cand, n_angles=n_angles, n_radii=n_radii)
    used = cand @ dist.weights
    certain, lowest = fit.accuracy_range[:, 1], fit.accuracy_range[:, 0]
    G = len(grid)
    out = []
    for j, rho in enumerate(budgets):
        idx = np.concatenate([np.flatnonzero(used[:G] <= rho + 1e-12), [G + j]])
        best = idx[np.lexsort((-fit.risk[idx], used[idx], certain[idx]))[0]]
        one = PopulationFit(**{k: getattr(fit, k)[best] for k in fit.__dataclass_fields__})
        tie_low = float(lowest[idx].min())
        out.append(AdversarialFlips(
            flip=cand[best], used_budget=float(used[best]), fit=one, clean_accuracy=float(certain[best]),
            tie=bool(fit.tie[best]), tie_accuracy=tie_low if tie_low < certain[best] else None,
            n_candidates=int(idx.size),
        ))
    return out


def atom_flip_search(loss, dist: DiscreteDistribution, budgets, *, resolution: float = 0.1, levels=None,
                     n_angles: int = 720, n_radii: int = 121) -> dict:
    """:func:`adversarial_atom_flips_sweep` as arrays over the budgets: ``flip``, ``used_budget``,
    ``clean_accuracy`` (reached by every minimiser), ``tie``, ``tie_accuracy`` (``None`` where no tie
    does worse), ``angle_deg``, ``n_candidates``. ``levels`` all below 1/2 keep every atom's clean label
    its majority label."""
    res = adversarial_atom_flips_sweep(loss, dist, budgets=budgets, resolution=resolution, levels=levels,
                                       n_angles=n_angles, n_radii=n_radii)
    return {
        "flip": np.asarray([r.flip for r in res]),
        "used_budget": np.asarray([r.used_budget for r in res]),
        "clean_accuracy": np.asarray([r.clean_accuracy for r in res]),
        "tie": np.asarray([r.tie for r in res]),
        "tie_accuracy": [r.tie_accuracy for r in res],
        "angle_deg": np.asarray([float(np.degrees(r.fit.angle)) for r in res]),
        "n_candidates": np.asarray([r.n_candidates for r in res]),
    }


def lowest_accuracy(search: dict) -> np.ndarray:
    """The lowest clean accuracy a minimiser can have at each budget of an :func:`atom_flip_search`
    result: ``tie_accuracy`` where a tie does worse than ``clean_accuracy``, else ``clean_accuracy``."""
    acc = np.asarray(search["clean_accuracy"], dtype=float)
    return np.minimum(acc, [1.0 if t is None else t for t in search["tie_accuracy"]])
