"""Shared fixtures: every figure computed once per session at the ``smoke`` preset (seconds)."""

import pytest

from sandbox.figures import FIGURE_MODULES, get_figure
from sandbox.presets import get_preset


@pytest.fixture(scope="session")
def smoke_figures() -> dict:
    """``{name: compute(smoke, seed=0)}`` for every registered figure."""
    smoke = get_preset("smoke")
    return {name: get_figure(name).compute(smoke, seed=0, trials=None) for name in FIGURE_MODULES}
