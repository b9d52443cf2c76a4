"""Every notebook in ``notebooks/`` runs top to bottom on a fresh kernel, and is committed without outputs.

Executed with the ``smoke`` preset (``SANDBOX_PRESET=smoke``; seconds per notebook) and the Agg
backend, from the ``notebooks/`` directory, as a user opening it in Jupyter would. Committed
notebooks carry no outputs, so what the repository shows can never be stale: outputs exist only
when someone runs the notebook.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))
TIMEOUT_S = 600  # per cell


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {i} has outputs (strip them before committing)"
            assert cell.execution_count is None, f"{path.name}: cell {i} has an execution count"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_sources_hold_no_control_characters(path):
    """A LaTeX command written through a non-raw Python string loses its backslash ("\\frac" becomes
    a form feed and "rac", "\\tau" a tab and "au"); such characters never belong in a notebook."""
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        bad = sorted({repr(ch) for ch in cell.source if ord(ch) < 32 and ch != "\n"})
        assert not bad, f"{path.name}: cell {i} holds control characters {bad}"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_with_the_smoke_preset(path, monkeypatch):
    monkeypatch.setenv("SANDBOX_PRESET", "smoke")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(NB_DIR)}}
    )
    client.execute()  # raises CellExecutionError, with the failing cell and traceback, on any error
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
