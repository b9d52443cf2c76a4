"""Argument validation shared by every module.

Every check raises ``ValueError`` with one sentence that names the parameter, the value it got and
the domain it accepts, e.g. ``tau=-1.0 is outside its domain (0, inf)``.
"""

from __future__ import annotations

import math

__all__ = ["check_interval", "check_positive_int"]


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


def check_interval(
    name: str,
    value,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
    hint: str = "",
) -> float:
    """Return ``float(value)`` if it lies in the interval, else raise ``ValueError``.

    ``low_open``/``high_open`` make the corresponding end exclusive. NaN is never inside.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} is not a number") from None
    lo_ok = v > low if low_open else v >= low
    hi_ok = v < high if high_open else v <= high
    if not (lo_ok and hi_ok) or math.isnan(v):
        domain = f"{'(' if low_open else '['}{_fmt(low)}, {_fmt(high)}{')' if high_open else ']'}"
        extra = f" ({hint})" if hint else ""
        raise ValueError(f"{name}={value!r} is outside its domain {domain}{extra}")
    return v


def check_positive_int(name: str, value, *, minimum: int = 1) -> int:
    """Return ``int(value)`` if it is an integer >= ``minimum``, else raise ``ValueError``."""
    ok = not isinstance(value, bool)
    try:
        ok = ok and float(value).is_integer()
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok or int(value) < minimum:
        raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)
