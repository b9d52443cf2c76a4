"""Sweeps over cells through any ``concurrent.futures``-style executor.

A figure's sweep (rows of a phase map, losses, noise rates) is a list of independent cells, each a
module-level function of plain, picklable arguments. :func:`cell_map` runs them in order: in this
process when ``executor`` is ``None``, else through ``executor.map`` — a
``concurrent.futures.ProcessPoolExecutor`` (what ``python -m sandbox figures`` hands a figure that runs
alone with ``--jobs`` > 1), or any executor with the same ``map``, e.g. one from a cluster engine (Dask's
``client.get_executor()``, Ray's or MPI's pool executors). Every cell's result depends only on its
arguments, so a figure's numbers never depend on where its cells ran.
"""

from __future__ import annotations

from typing import Callable, Iterable

__all__ = ["cell_map"]


def cell_map(fn: Callable, items: Iterable, executor=None) -> list:
    """``[fn(x) for x in items]``, through ``executor.map`` if one is given (results in input order)."""
    items = list(items)
    if executor is None:
        return [fn(x) for x in items]
    return list(executor.map(fn, items))
