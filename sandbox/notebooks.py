"""``python -m sandbox notebooks``: execute the notebooks in place, so a reader sees their outputs unrun.

::

    python -m sandbox notebooks [NAME ...] [--preset PRESET] [--dir DIR] [--check] [--timeout S]

Each notebook is run top to bottom on a fresh kernel from its own directory, with ``SANDBOX_PRESET`` set
to the preset (default ``rescience``) and the Agg backend, and written back with its outputs. The
written notebook is deterministic, so re-running on unchanged code gives no diff:

* volatile metadata is removed: execution timestamps, kernel and session ids, widget state and widget views
  (their model ids are random; the text fallback stays); printed text is one output per stream, however the
  kernel chunked it;
* execution counts are renumbered 1, 2, ... over the code cells;
* figures are PNG bytes rendered by :func:`sandbox.io.png_bytes` (no date or version in them), and the
  notebooks print no timings or memory addresses.

The notebook's metadata records ``sandbox.code_sha256``, a hash of its code cells (:func:`code_hash`),
and the preset: the test suite recomputes the hash, so a code cell edited without re-executing the
notebook fails CI. ``--check`` executes nothing and reports the notebooks whose outputs are stale.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

from .presets import DEFAULT_PRESET, PRESETS

__all__ = ["code_hash", "execute", "is_stale", "main", "NOTEBOOK_DIR"]

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
TIMEOUT_S = 1800  # per cell: the MNIST table at full size takes a few minutes
_VOLATILE_CELL_KEYS = ("execution", "collapsed", "scrolled", "ExecuteTime")


def code_hash(nb) -> str:
    """SHA-256 of the notebook's code cells (their sources, in order, with a separator)."""
    h = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code":
            h.update(cell.source.encode("utf-8"))
            h.update(b"\n\x1e\n")  # a record separator between cells
    return h.hexdigest()


def is_stale(nb) -> bool:
    """Whether the outputs stored in ``nb`` were produced by other code cells than it now holds."""
    return nb.metadata.get("sandbox", {}).get("code_sha256") != code_hash(nb)


_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _merge_streams(outputs: list) -> list:
    """Consecutive ``stream`` outputs of the same name as one: how the kernel chunks printed text
    depends on timing, and must not show up as a diff."""
    merged = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and prev is not None and prev.get("output_type") == "stream"
                and prev.get("name") == out.get("name")):
            prev["text"] = prev["text"] + out["text"]
        else:
            merged.append(out)
    return merged


def _clean(nb, preset: str) -> None:
    """Strip volatile metadata and renumber executions, in place."""
    count = 0
    for cell in nb.cells:
        for key in _VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
            cell.outputs = _merge_streams(cell.outputs)
            for out in cell.outputs:
                if "execution_count" in out:
                    out["execution_count"] = count
                out.get("metadata", {}).pop("transient", None)
                # a widget view points at a random model id whose state is not saved: it cannot render
                # unrun, and would differ on every run; its text/plain fallback stays
                out.get("data", {}).pop(_WIDGET_VIEW, None)
    for key in ("widgets", "papermill", "execution"):
        nb.metadata.pop(key, None)
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["sandbox"] = {"code_sha256": code_hash(nb), "preset": preset,
                              "command": "python -m sandbox notebooks"}


def execute(path, *, preset: str = DEFAULT_PRESET, timeout: int = TIMEOUT_S, write: bool = True):
    """Execute the notebook at ``path`` with ``SANDBOX_PRESET=preset``; return it (written back if
    ``write``). Raises ``nbclient.exceptions.CellExecutionError`` naming the failing cell."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    env = {"SANDBOX_PRESET": preset, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    # the kernel talks over local IPC sockets in a private temporary directory (not TCP on localhost, which
    # newer kernels warn about on every start), and is shut down here whatever happens
    with tempfile.TemporaryDirectory(prefix="sandbox-kernel-") as sockets:
        km = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "kernel"))
        try:
            client = NotebookClient(nb, timeout=timeout, km=km, resources={"metadata": {"path": str(path.parent)}})
            client.execute()
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=True)
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    _clean(nb, preset)
    if write:
        from .io import atomic_write_bytes

        atomic_write_bytes(path, (nbformat.writes(nb) + "\n").encode("utf-8"))
    return nb


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ValueError(f"notebooks: {message} (see python -m sandbox notebooks --help)")


def main(argv: list[str] | None = None) -> int:
    ap = _Parser(prog="python -m sandbox notebooks",
                 description="Execute the notebooks in place (outputs committed), or check which are stale.")
    ap.add_argument("names", nargs="*", metavar="NAME", help="notebook file names or their number prefix "
                    "(e.g. 02); default: all")
    ap.add_argument("--preset", default=DEFAULT_PRESET, choices=sorted(PRESETS),
                    help=f"the preset the notebooks run with (default {DEFAULT_PRESET})")
    ap.add_argument("--dir", default=str(NOTEBOOK_DIR), help="the notebook directory (default: the repository's)")
    ap.add_argument("--check", action="store_true", help="execute nothing; list stale notebooks, exit 1 if any")
    ap.add_argument("--timeout", type=int, default=TIMEOUT_S, help=f"seconds per cell (default {TIMEOUT_S})")
    args = ap.parse_args(argv)
    folder = Path(args.dir)
    paths = sorted(folder.glob("*.ipynb"))
    if not paths:
        raise ValueError(f"--dir {str(folder)!r} holds no notebooks")
    if args.names:
        chosen = [p for p in paths if any(p.name == n or p.stem == n or p.name.startswith(n) for n in args.names)]
        missing = [n for n in args.names if not any(p.name == n or p.stem == n or p.name.startswith(n) for p in paths)]
        if missing:
            raise ValueError(f"notebook(s) {', '.join(missing)} not found; choose from {', '.join(p.stem for p in paths)}")
        paths = chosen
    if args.check:
        import nbformat

        stale = [p.name for p in paths if is_stale(nbformat.read(p, as_version=4))]
        for name in stale:
            print(f"stale: {name} (re-run: python -m sandbox notebooks {name[:2]})")
        return 1 if stale else 0
    start = time.perf_counter()
    for p in paths:
        t = time.perf_counter()
        print(f"[{time.perf_counter() - start:7.1f} s] executing {p.name} (preset {args.preset}) ...",
              file=sys.stderr, flush=True)
        execute(p, preset=args.preset, timeout=args.timeout)
        print(f"wrote {p} ({time.perf_counter() - t:.1f} s)", flush=True)
    return 0
