"""The figure registry: every module is registered under its name, and each figure's declared
command-line options are exactly the ones that change its numbers (so the CLI may reject the others)."""

import dataclasses
import json

import pytest

from sandbox.figures import FIGURE_MODULES, all_figures, get_figure
from sandbox.io import dumps_json
from sandbox.presets import get_preset

SMOKE = get_preset("smoke")


def test_every_module_is_registered_under_its_own_name():
    figs = all_figures()
    assert list(figs) == list(FIGURE_MODULES)
    for name, spec in figs.items():
        assert spec.name == name and spec.summary and callable(spec.compute) and callable(spec.plot)
        assert set(spec.options) <= {"trials", "rho", "protocol"}
    with pytest.raises(ValueError, match="fig3.*unknown.*fig1_losses"):
        get_figure("fig3")


@pytest.mark.parametrize("name", FIGURE_MODULES)
def test_declared_options_are_the_ones_that_change_the_numbers(smoke_figures, name):
    """A figure that lists --rho or --trials gives other numbers with another value; one that does not
    list it gives byte-identical numbers (the option would be silently ignored: the CLI rejects it)."""
    spec = get_figure(name)
    base = dumps_json(smoke_figures[name])
    changed = {
        "rho": spec.compute(dataclasses.replace(SMOKE, rho=0.1), seed=0, trials=None),
        "trials": spec.compute(SMOKE, seed=0, trials=1),
    }
    if "protocol" in spec.options:
        changed["protocol"] = spec.compute(SMOKE, seed=0, trials=None, protocol="converged")
    for option, data in changed.items():
        same = dumps_json(data) == base
        assert same is (option not in spec.options), (name, option)
    json.loads(base)  # plain JSON


@pytest.mark.parametrize("name", ["phase_population"])
def test_sweep_cells_give_the_same_numbers_on_any_executor(smoke_figures, name):
    """The cells of a sweep run through any concurrent.futures-style executor: the same bytes come back."""
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    for pool in (ThreadPoolExecutor(2), ProcessPoolExecutor(2)):
        with pool:
            data = get_figure(name).compute(SMOKE, seed=0, trials=None, executor=pool)
        assert dumps_json(data) == dumps_json(smoke_figures[name])
