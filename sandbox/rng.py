"""Explicit randomness: one seed at the entry point, independent child streams per trial.

Every stochastic function takes ``rng``: an int seed (0 included) or a ``numpy.random.Generator``
(NumPy's SPEC 7 convention). Library code never touches global state. Trials get indexed,
independent child streams (``SeedSequence.spawn``): trial ``t`` sees the same stream whether trials
run in a loop, vectorised, or in chunks (:func:`child_rngs` with ``first``).
"""

from __future__ import annotations

import numbers

import numpy as np

from ._checks import InputTypeError, check_positive_int

__all__ = ["as_generator", "child_rngs"]


def _seed(rng, name: str) -> int:
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, (numbers.Integral, np.integer)):
        raise InputTypeError(f"{name}={rng!r} must be a non-negative integer seed or a numpy.random.Generator")
    if int(rng) < 0:
        raise ValueError(f"{name}={rng!r} must be a non-negative integer seed or a numpy.random.Generator")
    return int(rng)


def as_generator(rng, *, name: str = "rng") -> np.random.Generator:
    """A ``Generator`` from an int seed (0 included) or a ``Generator`` (returned as is)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(_seed(rng, name))


def child_rngs(rng, n: int, *, first: int = 0, name: str = "rng") -> list[np.random.Generator]:
    """Children ``first, ..., first + n - 1`` of ``rng``'s ``SeedSequence``, one ``Generator`` each.

    With an int seed the children are indexed: child ``t`` is the same for every ``n`` and
    ``first``, so chunked and one-shot draws agree. With a ``Generator`` the children are spawned
    from it (``Generator.spawn``), which advances its spawn counter like any other use of it.
    """
    n = check_positive_int("n", n)
    first = check_positive_int("first", first, minimum=0)
    if isinstance(rng, np.random.Generator):
        return rng.spawn(first + n)[first:]
    children = np.random.SeedSequence(_seed(rng, name)).spawn(first + n)[first:]
    return [np.random.default_rng(ss) for ss in children]
