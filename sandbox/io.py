"""Writing figure results: atomic files, JSON of plain numbers, and the metadata of a run.

Every write goes to a temporary file in the destination's own directory, is flushed and
``fsync``-ed, and is then moved over the destination with ``os.replace`` (atomic on POSIX and
Windows). An interrupted or failing write therefore leaves either the previous file or the new one,
never a truncated file, and no temporary file behind.

JSON holds plain numbers only: numpy arrays become lists, numpy scalars Python scalars, tuples
lists; floats are written with full precision (``repr``, so they read back bit for bit).
Non-finite floats are not JSON: they are written as ``null`` (the plot functions treat ``None`` as
"no value", e.g. the switch point of a loss that is never clipped).

:func:`run_metadata` records what is needed to redo a figure: the preset, every parameter, the seed,
the package versions and the command. It has no timestamp, so the same command with the same seed
writes byte-identical JSON.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import platform
import tempfile
from dataclasses import asdict, is_dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "to_jsonable",
    "dumps_json",
    "atomic_write_bytes",
    "write_json",
    "save_figure",
    "png_bytes",
    "package_versions",
    "run_metadata",
]

PNG_DPI = 150


def to_jsonable(obj):
    """``obj`` with numpy arrays and scalars, tuples and dataclasses turned into JSON types.

    Non-finite floats become ``None``. Dict keys must be strings. Anything else raises ``TypeError``.
    """
    if is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(asdict(obj))
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise TypeError(f"JSON keys must be strings, got {k!r}")
            out[k] = to_jsonable(v)
        return out
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if obj is None or isinstance(obj, str):
        return obj
    raise TypeError(f"cannot write {type(obj).__name__} as JSON: {obj!r:.80}")


def dumps_json(obj) -> str:
    """Deterministic JSON text: keys in insertion order, 1-space indent, full-precision floats."""
    return json.dumps(to_jsonable(obj), indent=1, allow_nan=False) + "\n"


def _fsync_dir(directory: Path) -> None:
    # make the rename itself durable where the platform allows it (not on Windows)
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _new_file_mode() -> int:
    """``0o666`` minus the process umask: the mode a plain ``open(path, "w")`` would create."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def _atomic_target(path):
    """Yield a temporary path next to ``path``; on success move it over ``path``, else delete it."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, _new_file_mode())  # mkstemp makes 0600; give the file the mode open() would
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same directory, fsync, replace)."""
    with _atomic_target(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
    return Path(path)


def write_json(path, obj) -> Path:
    """Write ``obj`` as JSON (see :func:`dumps_json`) to ``path`` atomically."""
    return atomic_write_bytes(path, dumps_json(obj).encode("utf-8"))


def save_figure(fig, path, *, dpi: int = PNG_DPI) -> Path:
    """Save a matplotlib ``Figure`` as PNG to ``path`` atomically (explicit ``format="png"``)."""
    with _atomic_target(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return Path(path)


def png_bytes(fig, *, dpi: int = 110) -> bytes:
    """The figure rendered as PNG bytes (for ``IPython.display.Image`` in notebooks); deterministic: the
    PNG metadata holds no software version or date, so re-rendering unchanged numbers gives the same bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def package_versions() -> dict[str, str]:
    """Versions of Python and of the numerical packages a result depends on."""
    import matplotlib
    import scipy

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "matplotlib": matplotlib.__version__,
    }


def run_metadata(*, figure: str, preset, overrides: dict, seed: int, trials: int | None, command: str) -> dict:
    """The ``meta`` block of a figure's JSON.

    ``preset`` is the :class:`~sandbox.presets.Preset` actually used (overrides applied);
    ``overrides`` lists the command-line values that replaced the named preset's; ``trials`` is the
    ``--trials`` override (``None``: the preset's); ``command`` regenerates this figure alone.
    """
    return {
        "figure": figure,
        "preset": to_jsonable(asdict(preset)),
        "overrides": to_jsonable(overrides),
        "seed": int(seed),
        "trials_override": trials,
        "command": command,
        "versions": package_versions(),
    }
