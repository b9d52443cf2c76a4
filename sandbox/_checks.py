"""Argument validation shared by every public function: one place, one wording.

Every check raises ``ValueError`` (a value outside its domain) or ``TypeError`` (a value of the
wrong kind) with one sentence that names the parameter, the value it got and the domain it
accepts, e.g. ``tau=-1.0 is outside its domain (0, inf)``. Numbers must be real numbers: strings
and booleans are rejected (``tau="2"`` is a ``TypeError``), never silently converted.

Arrays: :func:`check_features` and :func:`check_labels` return float arrays that are finite (and
``+-1`` for labels); :func:`check_data` also checks that their shapes match, ``X (..., n, d)``
against ``y (..., n)``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "InputTypeError",
    "check_number",
    "check_interval",
    "check_positive_int",
    "check_choice",
    "check_features",
    "check_labels",
    "check_data",
    "check_loss",
]


class InputTypeError(TypeError):
    """An argument of the wrong kind (a ``TypeError``); the command line reports it in one line."""


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


def check_number(name: str, value) -> float:
    """``float(value)`` for a real number (int, float or NumPy real scalar); ``TypeError`` otherwise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiu":
            return float(value)
        raise InputTypeError(f"{name}={value!r} must be a real number, not {type(value).__name__}")
    return float(value)


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
    v = check_number(name, value)
    lo_ok = v > low if low_open else v >= low
    hi_ok = v < high if high_open else v <= high
    if not (lo_ok and hi_ok) or math.isnan(v):
        domain = f"{'(' if low_open else '['}{_fmt(low)}, {_fmt(high)}{')' if high_open else ']'}"
        extra = f" ({hint})" if hint else ""
        raise ValueError(f"{name}={value!r} is outside its domain {domain}{extra}")
    return v


def check_positive_int(name: str, value, *, minimum: int = 1) -> int:
    """Return ``int(value)`` if it is an integer ``>= minimum`` (a float like ``3.0`` is accepted)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
        raise InputTypeError(f"{name}={value!r} must be an integer >= {minimum}, not {type(value).__name__}")
    ok = math.isfinite(float(value)) and float(value).is_integer()
    if not ok or int(value) < minimum:
        raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


def check_choice(name: str, value, choices) -> str:
    """``value`` if it is one of ``choices``; ``ValueError`` listing them otherwise."""
    if value not in tuple(choices):
        raise ValueError(f"{name}={value!r} is unknown; choose one of {', '.join(map(str, choices))}")
    return value


def _float_array(name: str, value) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputTypeError(f"{name} must be an array of real numbers (got {type(value).__name__})") from None
    return a


def check_features(X, *, name: str = "X", ndim: tuple[int, ...] = (2, 3)) -> np.ndarray:
    """``X`` as a finite float array with one of the given numbers of dimensions and no empty axis."""
    X = _float_array(name, X)
    if X.ndim not in ndim:
        shapes = " or ".join({1: "(n,)", 2: "(n, d)", 3: "(T, n, d)"}[k] for k in ndim)
        raise ValueError(f"{name}.shape={X.shape} must be {shapes}")
    if 0 in X.shape:
        raise ValueError(f"{name}.shape={X.shape} must not have an empty axis")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return X


def check_labels(y, *, name: str = "y") -> np.ndarray:
    """``y`` as a float array of labels in ``{-1, +1}`` (``{0, 1}`` is rejected, not converted)."""
    y = _float_array(name, y)
    bad = ~((y == 1.0) | (y == -1.0))
    if np.any(bad):
        example = y[bad].ravel()[0]
        raise ValueError(f"{name} must hold labels in {{-1, +1}}; found {float(example)!r}")
    return y


def check_data(X, y, *, ndim: tuple[int, ...] = (2, 3)) -> tuple[np.ndarray, np.ndarray]:
    """Features ``X (..., n, d)`` and labels ``y (..., n)`` with matching shapes, both checked."""
    X = check_features(X, ndim=ndim)
    y = check_labels(y)
    if y.shape != X.shape[:-1]:
        raise ValueError(f"y.shape={y.shape} must be X.shape[:-1]={X.shape[:-1]} (one label per row of X)")
    return X, y


def check_loss(loss) -> None:
    """A margin loss: a callable ``z -> (phi(z), phi'(z))`` (see :func:`sandbox.registry.make_loss`)."""
    if not callable(loss):
        raise InputTypeError(f"loss={loss!r} must be a margin loss, a callable z -> (phi(z), phi'(z)); "
                        "build one with sandbox.make_loss(name, ...)")
