"""The command line: ``python -m sandbox figures|notebooks|bench ...``.

::

    python -m sandbox figures [NAME ...] [--preset PRESET] [--trials N] [--seed S] [--rho RHO]
                              [--out DIR] [--list] [--quiet] [--jobs J]
    python -m sandbox notebooks [ARGS ...]      # sandbox.notebooks: execute the notebooks in place
    python -m sandbox bench [ARGS ...]          # sandbox.bench

``figures`` computes each named figure (all of them if none is named) with the preset, draws it and
writes ``DIR/NAME.png`` and ``DIR/NAME.json`` atomically (:mod:`sandbox.io`). The JSON holds the
figure's numbers and a ``meta`` block: the preset with overrides applied, the seed, the package
versions and the command that regenerates that figure alone; nothing run-dependent (no timestamp, no
timing), so the same command and seed give byte-identical JSON. Progress goes to stderr (with elapsed
seconds), results to stdout. Figures are computed in ``--jobs`` worker processes (default: one per
CPU), longest first; a figure computed alone hands its sweep cells to those processes instead. Each
figure's numbers depend only on the preset and the seed, never on where they were computed.

Everything is validated before anything is computed or written: unknown figures or presets, bad
numbers, an option a named figure cannot use (``--rho`` for a figure without a noise rate; see
``--list``), an output directory that cannot be written. A user error prints one line
``sandbox: error: ...`` on stderr and exits with status 2, without a traceback. Ctrl-C cancels the
figures not yet started, stops the running ones at once, keeps the figures already written and leaves
no partial or temporary file (exit status 130).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from ._checks import InputTypeError, check_interval, check_positive_int
from .figures import all_figures
from .io import atomic_write_bytes, run_metadata, save_figure, write_json
from .presets import DEFAULT_PRESET, PRESETS, get_preset

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


def _options_help() -> str:
    lines = []
    for name, spec in all_figures().items():
        opts = "; ".join(f"--{k}: {v}" for k, v in spec.options.items()) or "no --trials or --rho (deterministic grid)"
        lines.append(f"  {name}: {opts}")
    return "what --trials and --rho mean per figure:\n" + "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=f"python -m {PROG}", description="Regenerate the sandbox's figures, notebooks and benchmarks.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)
    fig = sub.add_parser(
        "figures",
        help="compute, draw and write figures (PNG + JSON)",
        description="Compute each figure NAME (default: all) and write DIR/NAME.png and DIR/NAME.json.",
        epilog=_options_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fig.add_argument("names", nargs="*", metavar="NAME", help="figure names (see --list); default: all")
    fig.add_argument("--list", action="store_true", help="print the figure names, summaries and options, then exit")
    fig.add_argument(
        "--preset", default=DEFAULT_PRESET, help=f"one of {', '.join(PRESETS)} (default: {DEFAULT_PRESET})"
    )
    fig.add_argument("--trials", type=int, default=None, help="trials; what they are depends on the figure (see below)")
    fig.add_argument("--seed", type=int, default=0, help="master seed, a non-negative integer (default: 0)")
    fig.add_argument("--rho", type=float, default=None,
                     help="override the preset's noise rate, 0 <= rho < 0.5 (figures with one noise rate only)")
    fig.add_argument("--protocol", choices=("slsqp", "converged"), default=None,
                     help="how samples are fit: the paper's SLSQP (default) or converged fits (figures that take it)")
    fig.add_argument("--out", default="figures", help="output directory (default: figures)")
    fig.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    fig.add_argument(
        "--jobs", type=int, default=None,
        help="figures computed in parallel processes (default: the number of CPUs); results do not depend on it",
    )
    fig.set_defaults(func=_figures)
    # listed for --help only: main() hands everything after them to their modules unparsed
    sub.add_parser("notebooks", help="execute the notebooks in place (python -m sandbox notebooks --help)",
                   add_help=False)
    sub.add_parser("bench", help="benchmarks (python -m sandbox bench --help)", add_help=False)
    return parser


def _command(name: str, args, rho: float | None, trials: int | None) -> str:
    """The command that regenerates figure ``name`` alone (no ``--out``, so it is location-free)."""
    parts = [f"python -m {PROG} figures {name} --preset {args.preset} --seed {args.seed}"]
    if trials is not None:
        parts.append(f"--trials {trials}")
    if rho is not None:
        parts.append(f"--rho {rho!r}")
    if args.protocol is not None:
        parts.append(f"--protocol {args.protocol}")
    return " ".join(parts)


def _writable_dir(out: Path) -> None:
    """Create ``out`` if needed and prove it writable by creating (and removing) a file in it."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".sandbox-write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UsageError(f"cannot write to the output directory {str(out)!r}: {e.strerror or e}") from None


def _list(figs) -> int:
    width = max((len(n) for n in figs), default=0)
    for name, spec in figs.items():
        print(f"{name:<{width}}  {spec.summary}")
        for key, meaning in spec.options.items():
            print(f"{'':<{width}}    --{key}: {meaning}")
    return 0


def _figures(args) -> int:
    figs = all_figures()
    if args.list:
        return _list(figs)
    names = list(dict.fromkeys(args.names)) or list(figs)
    for name in names:
        if name not in figs:
            raise UsageError(f"figure name={name!r} is unknown; choose one of {', '.join(figs)}")
    preset = get_preset(args.preset)
    overrides: dict = {}
    rho = None
    if args.rho is not None:
        rho = check_interval("rho", args.rho, 0.0, 0.5, high_open=True, hint="symmetric noise needs rho < 1/2")
    trials = None if args.trials is None else check_positive_int("trials", args.trials)
    if args.seed < 0:
        raise UsageError(f"seed={args.seed!r} must be a non-negative integer")
    jobs = (os.cpu_count() or 1) if args.jobs is None else check_positive_int("jobs", args.jobs)
    protocol = {None: None, "slsqp": "slsqp_batched", "converged": "converged"}[args.protocol]
    for option, value in (("rho", rho), ("trials", trials), ("protocol", protocol)):
        if value is None:
            continue
        cannot = [n for n in names if option not in figs[n].options]
        if cannot:
            can = [n for n, s in figs.items() if option in s.options]
            raise UsageError(f"--{option} does not apply to {', '.join(cannot)} (it applies to {', '.join(can)}); "
                             "name the figures it applies to")
    if rho is not None:
        preset = replace(preset, rho=rho)
        overrides["rho"] = rho
    extra = {} if protocol is None else {"protocol": protocol}
    if protocol is not None:
        overrides["protocol"] = args.protocol
    out = Path(args.out)
    _writable_dir(out)  # the last check, and the first thing that touches the file system
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

    if jobs == 1 or len(names) == 1:
        # one figure with --jobs > 1: its sweep cells go to the worker processes instead
        pool = concurrent.futures.ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else None
        try:
            for name in names:
                finish(name, _compute(name, preset, args.seed, trials, args.quiet, progress.t0, pool, extra))
        except BaseException:
            if pool is not None:
                _stop(pool)
            raise
        if pool is not None:
            pool.shutdown()
        return 0
    # longest first, so the slowest figure does not start last; each figure is deterministic on its
    # own, so the numbers do not depend on how figures are spread over processes
    order = sorted(names, key=lambda n: -figs[n].cost)
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=min(jobs, len(names)))
    try:
        futures = {pool.submit(_compute, n, preset, args.seed, trials, args.quiet, progress.t0, None, extra): n
                   for n in order}
        for fut in concurrent.futures.as_completed(futures):
            finish(futures[fut], fut.result())
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown()
    return 0


def _stop(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """Cancel the figures not yet started and end the running workers now (not when they finish)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        with contextlib.suppress(Exception):
            p.terminate()
    for p in processes:
        with contextlib.suppress(Exception):
            p.join(timeout=2)


def _compute(name: str, preset, seed: int, trials: int | None, quiet: bool, t0: float, executor=None,
             extra: dict | None = None) -> dict:
    """Compute one figure's numbers (in a worker process when several figures run with ``--jobs`` > 1;
    in this process, its sweep cells on ``executor``, when it runs alone)."""
    progress = _Progress(quiet, t0)
    progress(f"{name}: start (preset {preset.name!r}, seed {seed})")
    spec = all_figures()[name]
    return spec.compute(preset, seed=seed, trials=trials, progress=lambda m: progress(f"{name}: {m}"),
                        executor=executor, **(extra or {}))


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv and argv[0] == "bench":
            from . import bench

            return int(bench.main(argv[1:]) or 0)
        if argv and argv[0] == "notebooks":
            from . import notebooks

            return int(notebooks.main(argv[1:]) or 0)
        args = build_parser().parse_args(argv)
        return args.func(args)
    except (UsageError, ValueError, InputTypeError) as e:
        message = " ".join(str(e).split())  # one line, whatever the exception text holds
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
