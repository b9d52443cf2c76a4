"""Summaries of accuracies over trials, and where a curve breaks: one definition of each.

Accuracies over repeated trials come out bimodal on the Long & Servedio data (about 0.5 or 1.0), so a
mean alone misleads: :func:`summarise` reports the median and quartiles, the mean with the *sample*
standard deviation (``ddof = 1``) and ``n``, and the fraction of trials that succeed. A trial
*succeeds* at clean test accuracy ``>= SUCCESS`` (0.99: at most 1 test point in 100 wrong, "~100%").
"""

from __future__ import annotations

import numpy as np

__all__ = ["SUCCESS", "summarise", "break_rho"]

SUCCESS = 0.99  # a trial "succeeds" at clean test accuracy >= 0.99


def summarise(acc, axis: int = -1) -> dict:
    """Median, quartiles, mean, sample std (``ddof=1``; ``None`` for one trial), ``n`` and the fraction
    of trials with accuracy ``>= SUCCESS`` (``frac_success``), along ``axis`` (trials).

    Scalars come back as Python floats for 1-D input, arrays otherwise.
    """
    a = np.asarray(acc, dtype=float)
    n = a.shape[axis]
    q25, q75 = np.percentile(a, [25, 75], axis=axis)
    out = {
        "median": np.median(a, axis=axis),
        "q25": q25,
        "q75": q75,
        "mean": np.mean(a, axis=axis),
        "std": np.std(a, axis=axis, ddof=1) if n > 1 else None,
        "n": int(n),
        "frac_success": np.mean(a >= SUCCESS, axis=axis),
    }
    if a.ndim == 1:
        out = {k: v if v is None or isinstance(v, int) else float(v) for k, v in out.items()}
    return out


def break_rho(rho, acc) -> float | None:
    """The smallest value of the grid ``rho`` at which ``acc`` (same length) drops below :data:`SUCCESS`
    (for population accuracies, which take values in {0, 1/4, 1/2, 3/4, 1}: below 1; for samples pass
    the medians over trials); ``None`` if it never does on the grid."""
    rho = np.asarray(rho, float)
    acc = np.asarray(acc, float)
    bad = np.flatnonzero(acc < SUCCESS)
    return float(rho[bad[0]]) if bad.size else None
