"""Explicit randomness: one seed at the entry point, independent child streams per trial.

Library functions never touch global state; they take a ``numpy.random.Generator``. Entry points
call :func:`trial_rngs` to get one independent child generator per trial (``SeedSequence.spawn``),
so trial ``t`` sees the same stream whether trials run in a loop, vectorised, or in chunks.
Seed 0 is a valid seed.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_positive_int

__all__ = ["as_generator", "trial_rngs"]


def as_generator(seed_or_rng) -> np.random.Generator:
    """A ``Generator`` from an int seed (0 included) or a ``Generator`` (returned as is)."""
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    if isinstance(seed_or_rng, (bool, float)) or seed_or_rng is None:
        raise ValueError(f"seed={seed_or_rng!r} must be a non-negative integer or a numpy Generator")
    if int(seed_or_rng) < 0:
        raise ValueError(f"seed={seed_or_rng!r} must be a non-negative integer or a numpy Generator")
    return np.random.default_rng(int(seed_or_rng))


def trial_rngs(seed_or_rng, n: int) -> list[np.random.Generator]:
    """``n`` independent child generators (spawned from the seed's ``SeedSequence``)."""
    n = check_positive_int("trials", n)
    return as_generator(seed_or_rng).spawn(n)
