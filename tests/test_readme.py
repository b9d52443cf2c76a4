"""The README's code and numbers are what the package does today: its examples are run and compared."""

import contextlib
import io
import json
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _text() -> str:
    return README.read_text(encoding="utf-8")


def test_readme_example_prints_what_the_readme_says():
    m = re.search(r"```python\n(.*?)```\s*\nprints\s*\n\s*```text\n(.*?)```", _text(), re.S)
    assert m, "the README must hold a ```python example followed by 'prints' and its ```text output"
    code, expected = m.group(1), m.group(2)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md example", "exec"), {})
    assert out.getvalue().strip() == expected.strip()


def test_readme_api_in_one_screen_runs():
    block = re.search(r"## The API in one screen\s*\n\s*```python\n(.*?)```", _text(), re.S)
    assert block, "the README must hold an 'API in one screen' section with a python block"
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(block.group(1), "README.md API", "exec"), {})


def test_readme_states_the_two_commands_and_ci_runs_the_test_command():
    text = _text()
    assert "pip install -r requirements.txt && python -m sandbox figures" in text
    assert "python -m pytest -q" in text and "python -m venv" in text
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pip install -q -r requirements.txt" in ci and "python -m pytest -q" in ci
    assert "-e ." in (README.parent / "requirements.txt").read_text()  # the install installs the package


def test_readme_fig2a_output_is_the_committed_figures_report():
    """The console example in the README is what the committed figures/fig2a_long_servedio.json reports."""
    block = re.search(r"```console\n\$ python -m sandbox figures fig2a_long_servedio\n(.*?)```", _text(), re.S).group(1)
    report = json.loads((README.parent / "figures" / "fig2a_long_servedio.json").read_text())["report"]
    assert [line for line in block.splitlines() if not line.startswith("wrote ")] == report
