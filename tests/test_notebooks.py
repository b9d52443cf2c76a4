"""The notebooks: committed executed (a reader sees their plots and numbers), and run by the tests.

* Every committed notebook carries the outputs of its current code: ``python -m sandbox notebooks``
  stores a hash of the code cells in the notebook's metadata, recomputed here, so a code cell edited
  without re-executing fails. Its outputs hold no error and no warning, every code cell was executed,
  and it shows at least one figure.
* Every notebook also runs top to bottom on a fresh kernel with the ``smoke`` preset (seconds), from
  the ``notebooks/`` directory, as a user opening it in Jupyter would.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from sandbox.notebooks import code_hash, execute, is_stale

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))
TIMEOUT_S = 600  # per cell
MAX_TOTAL_BYTES = 5 * 2**20  # notebooks/ stays under about 5 MB with its outputs


def _read(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return nb


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 7


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_outputs_belong_to_the_current_code(path):
    nb = _read(path)
    meta = nb.metadata.get("sandbox", {})
    assert meta.get("code_sha256"), f"{path.name}: never executed by 'python -m sandbox notebooks'"
    assert not is_stale(nb), (f"{path.name}: a code cell changed since its outputs were made; re-run "
                              f"python -m sandbox notebooks {path.name[:2]}")
    assert meta["code_sha256"] == code_hash(nb)


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_outputs_hold_no_error_or_warning_and_show_a_figure(path):
    nb = _read(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))  # every cell ran, in order
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, stderr  # warnings and tracebacks go to stderr
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name} shows no figure"
    text = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    for volatile in ("np.float64(", " at 0x", "e-00", "e+00"):  # numpy reprs, addresses, 3-digit exponents
        assert volatile not in text, (path.name, volatile)
    # nothing that changes from run to run: widget views (random model ids) and timing-dependent chunking
    assert not [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    for c in code:
        kinds = [(o.output_type, o.get("name")) for o in c.outputs]
        assert all(a != b or a[0] != "stream" for a, b in zip(kinds, kinds[1:])), (path.name, "split stream")


def test_notebooks_stay_small():
    assert sum(p.stat().st_size for p in NB_DIR.glob("*.ipynb")) < MAX_TOTAL_BYTES


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_sources_hold_no_control_characters(path):
    """A LaTeX command written through a non-raw Python string loses its backslash ("\\frac" becomes
    a form feed and "rac", "\\tau" a tab and "au"); such characters never belong in a notebook."""
    for i, cell in enumerate(_read(path).cells):
        bad = sorted({repr(ch) for ch in cell.source if ord(ch) < 32 and ch != "\n"})
        assert not bad, f"{path.name}: cell {i} holds control characters {bad}"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_with_the_smoke_preset(path):
    # the same executor as `python -m sandbox notebooks --preset smoke`, without writing the notebook back
    nb = execute(path, preset="smoke", write=False)  # raises CellExecutionError, with the failing cell, on error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert nb.metadata["sandbox"]["preset"] == "smoke" and not is_stale(nb)
