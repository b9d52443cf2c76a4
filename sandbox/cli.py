"""The command line: ``python -m sandbox figures ...`` and ``python -m sandbox bench ...``.

::

    python -m sandbox figures [NAME ...] [--preset PRESET] [--trials N] [--seed S] [--rho RHO]
                              [--out DIR] [--list] [--quiet] [--jobs J]
    python -m sandbox bench [ARGS ...]          # handed to sandbox.bench.main(ARGS)

``figures`` computes each named figure (all of them if none is named) with the preset, draws it and
writes ``DIR/NAME.png`` and ``DIR/NAME.json`` atomically (:mod:`sandbox.io`). The JSON holds the
figure's numbers and a ``meta`` block: the preset with overrides applied, the seed, the package
versions and the command that regenerates that figure alone. No timestamp: the same command and
seed give byte-identical JSON. Progress goes to stderr (with elapsed seconds), results to stdout.
Figures are computed in ``--jobs`` worker processes (default: one per CPU), longest first; each
figure's numbers depend only on the preset and the seed, never on the number of jobs.

User errors (unknown figure or preset, ``--trials < 1``, ``--rho`` outside ``[0, 0.5)``, a negative
seed, and any ``ValueError`` raised by the package) print one line ``sandbox: error: ...`` on stderr
and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from ._checks import check_interval, check_positive_int
from .io import atomic_write_bytes, run_metadata, save_figure, write_json
from .presets import DEFAULT_PRESET, PRESETS, get_preset
from .registry import all_figures

__all__ = ["main", "build_parser", "UsageError"]

PROG = "sandbox"


class UsageError(Exception):
    """A bad command line: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print the usage and exit; we want one line
        raise UsageError(f"{message} (see --help)")


class _Progress:
    """Progress lines on stderr, prefixed with the seconds since the command started."""

    def __init__(self, quiet: bool, t0: float | None = None):
        self.quiet = quiet
        self.t0 = time.perf_counter() if t0 is None else t0  # monotonic clock, shared by workers

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.t0:7.1f} s] {message}", file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=f"python -m {PROG}", description="Regenerate the sandbox's figures and benchmarks.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)
    fig = sub.add_parser(
        "figures",
        help="compute, draw and write figures (PNG + JSON)",
        description="Compute each figure NAME (default: all) and write DIR/NAME.png and DIR/NAME.json.",
    )
    fig.add_argument("names", nargs="*", metavar="NAME", help="figure names (see --list); default: all")
    fig.add_argument("--list", action="store_true", help="print the figure names with one line each and exit")
    fig.add_argument(
        "--preset", default=DEFAULT_PRESET, help=f"one of {', '.join(PRESETS)} (default: {DEFAULT_PRESET})"
    )
    fig.add_argument("--trials", type=int, default=None, help="number of trials (default: the preset's)")
    fig.add_argument("--seed", type=int, default=0, help="master seed, a non-negative integer (default: 0)")
    fig.add_argument("--rho", type=float, default=None, help="override the preset's noise rate, 0 <= rho < 0.5")
    fig.add_argument("--out", default="figures", help="output directory (default: figures)")
    fig.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    fig.add_argument(
        "--jobs", type=int, default=None,
        help="figures computed in parallel processes (default: the number of CPUs); results do not depend on it",
    )
    fig.set_defaults(func=_figures)
    # listed for --help only: main() hands everything after 'bench' to sandbox.bench.main unparsed
    sub.add_parser("bench", help="benchmarks (arguments are passed to sandbox.bench)", add_help=False)
    return parser


def _command(name: str, args, rho: float | None, trials: int | None) -> str:
    """The command that regenerates figure ``name`` alone (no ``--out``, so it is location-free)."""
    parts = [f"python -m {PROG} figures {name} --preset {args.preset} --seed {args.seed}"]
    if trials is not None:
        parts.append(f"--trials {trials}")
    if rho is not None:
        parts.append(f"--rho {rho!r}")
    return " ".join(parts)


def _figures(args) -> int:
    figs = all_figures()
    if args.list:
        width = max((len(n) for n in figs), default=0)
        for name, spec in figs.items():
            print(f"{name:<{width}}  {spec.summary}")
        return 0
    names = list(dict.fromkeys(args.names)) or list(figs)
    for name in names:
        if name not in figs:
            raise UsageError(f"figure name={name!r} is unknown; choose one of {', '.join(figs)}")
    preset = get_preset(args.preset)
    overrides: dict = {}
    rho = None
    if args.rho is not None:
        rho = check_interval("rho", args.rho, 0.0, 0.5, high_open=True, hint="symmetric noise needs rho < 1/2")
        preset = replace(preset, rho=rho)
        overrides["rho"] = rho
    trials = None if args.trials is None else check_positive_int("trials", args.trials)
    if args.seed < 0:
        raise UsageError(f"seed={args.seed!r} must be a non-negative integer")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create the output directory {str(out)!r}: {e.strerror}") from None

    jobs = min(len(names), os.cpu_count() or 1) if args.jobs is None else check_positive_int("jobs", args.jobs)
    progress = _Progress(args.quiet)

    def finish(name: str, data: dict) -> None:
        spec = figs[name]
        if "meta" in data:
            raise RuntimeError(f"figure {name!r}: compute() must not return a 'meta' key (the CLI adds it)")
        fig = spec.plot(data)
        meta = run_metadata(
            figure=name, preset=preset, overrides=overrides, seed=args.seed, trials=trials,
            command=_command(name, args, rho, trials),
        )
        png, js = out / f"{name}.png", out / f"{name}.json"
        save_figure(fig, png)
        write_json(js, {**data, "meta": meta})
        written = [png, js]
        for suffix, text in (spec.extra_files(data) if spec.extra_files else {}).items():
            written.append(atomic_write_bytes(out / f"{name}{suffix}", text.encode("utf-8")))
        for line in data.get("report", []):
            print(line)
        print(f"wrote {', '.join(map(str, written))} ({time.perf_counter() - progress.t0:.1f} s since start)", flush=True)

    if jobs == 1:
        for name in names:
            finish(name, _compute(name, preset, args.seed, trials, args.quiet, progress.t0))
        return 0
    # longest first, so the slowest figure does not start last; each figure is deterministic on its
    # own, so the numbers do not depend on how figures are spread over processes
    order = sorted(names, key=lambda n: -figs[n].cost)
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_compute, n, preset, args.seed, trials, args.quiet, progress.t0): n for n in order}
        try:
            for fut in concurrent.futures.as_completed(futures):
                finish(futures[fut], fut.result())
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    return 0


def _compute(name: str, preset, seed: int, trials: int | None, quiet: bool, t0: float) -> dict:
    """Compute one figure's numbers (runs in a worker process when ``--jobs`` > 1)."""
    progress = _Progress(quiet, t0)
    progress(f"{name}: start (preset {preset.name!r}, seed {seed})")
    spec = all_figures()[name]
    return spec.compute(preset, seed=seed, trials=trials, progress=lambda m: progress(f"{name}: {m}"))


def _bench(rest: list[str]) -> int:
    try:
        bench = importlib.import_module(f"{__package__}.bench")
    except ModuleNotFoundError as e:
        if e.name == f"{__package__}.bench":
            raise UsageError("the bench command is not available (sandbox/bench.py is missing)") from None
        raise
    return int(bench.main(rest) or 0)


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv and argv[0] == "bench":
            return _bench(argv[1:])
        args = build_parser().parse_args(argv)
        return args.func(args)
    except (UsageError, ValueError) as e:
        message = " ".join(str(e).split())  # one line, whatever the exception text holds
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
