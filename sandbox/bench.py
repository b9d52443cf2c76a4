"""``python -m sandbox bench``: the paper's per-trial SLSQP protocol against the batched solver.

On the same data, in the same process:

* the reference: :func:`sandbox.slsqp.fit_slsqp_scipy`, SciPy SLSQP (at most ``maxiter`` iterations
  from ``theta = 0``) on each trial in turn, as a reader would write it from the paper;
* the batched solver: :func:`sandbox.slsqp.fit_slsqp`, all trials at once.

It prints the machine, wall times, their ratio and the per-trial agreement, then scaling tables
(time against the number of trials and against ``n_train``). A trial *agrees* when the two fits
predict identical labels (the sign of the score, 0 included) on every point of that trial's clean
test set. The reference runs in the scaling tables only where its estimated time (from the
head-to-head) fits ``--ref-budget``; elsewhere the row says ``skipped``. Progress goes to stderr.

Last, "Converged fits": :func:`sandbox.converged.fit_converged` on the preset's trials for the three
losses (time, flags, agreement of clean test labels with the SLSQP protocol) and, unless
``--no-scaling``, its time against the number of trials and against ``n_train``.
Timings are wall-clock and depend on the machine's load (printed); no test asserts on them.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from dataclasses import dataclass

import numpy as np

from .converged import fit_converged
from .figures import fig2a_long_servedio
from .linear import accuracy, scores
from .metrics import SUCCESS
from .presets import DEFAULT_PRESET, PRESETS, get_preset
from .registry import paper_losses
from .slsqp import DEFAULT_CHUNK_BYTES, bytes_per_trial, fit_slsqp, fit_slsqp_scipy
from .trials import long_servedio_trials

__all__ = ["main", "machine_info", "agreement", "converged_section"]

# --------------------------------------------------------------------------------------------------
# Machine
# --------------------------------------------------------------------------------------------------


def _cpu_model() -> str:
    """``model name`` from /proc/cpuinfo, with family/model, L2 cache and whether it is a VM."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if not line.strip():
                    break  # first processor only
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        return platform.processor() or platform.machine()
    name = fields.get("model name", platform.machine())
    extra = [f"family {fields['cpu family']} model {fields['model']}"] if "cpu family" in fields else []
    if "cache size" in fields:
        extra.append(f"cache {fields['cache size']}")
    if "hypervisor" in fields.get("flags", "").split():
        extra.append("virtual machine")
    return f"{name} ({', '.join(extra)})" if extra else name


def _mem_gib() -> str:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal"):
                    return f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    return "?"


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _blas() -> str:
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        desc = f"{cfg.get('name', '?')} {cfg.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - informational only
        desc = "?"
    try:
        from threadpoolctl import threadpool_info

        threads = sorted({str(p.get("num_threads")) for p in threadpool_info() if p.get("user_api") == "blas"})
        if threads:
            desc += f", {'/'.join(threads)} BLAS threads"
    except Exception:  # noqa: BLE001 - threadpoolctl is optional
        pass
    return desc


def _exp_speed() -> str:
    """Current cost of ``np.exp`` per double (best of 5 on 2**20): a gauge of the machine's speed now."""
    x = -np.linspace(0.0, 30.0, 2**20)
    out = np.empty_like(x)
    best = math.inf
    for _ in range(5):
        t = time.perf_counter()
        np.exp(x, out=out)
        best = min(best, time.perf_counter() - t)
    return f"np.exp {1e9 * best / x.size:.1f} ns per double (best of 5; slower when the machine is busy)"


def machine_info() -> list[str]:
    """Lines describing the machine and the numerical stack."""
    import scipy

    cpus = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cpus
    return [
        f"cpu         {_cpu_model()}",
        f"cores       {cpus} logical CPUs ({usable} usable by this process), {_mem_gib()} RAM",
        f"load        {_load()} (1, 5, 15 min average at start)",
        f"gauge       {_exp_speed()}",
        f"software    Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}",
        f"blas        {_blas()}",
        f"batched     chunks of {DEFAULT_CHUNK_BYTES // 2**20} MiB of working arrays",
    ]


# --------------------------------------------------------------------------------------------------
# The two protocols and their agreement
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Agreement:
    """Per-trial comparison of two fits on the trials' clean test sets."""

    labels: float  # fraction of trials with identical predicted labels on every test point
    accuracy: float  # fraction of trials with identical test accuracy
    max_rel_theta: float  # max over trials of ||theta_batched - theta_ref|| / ||theta_ref|| (0/0 = 0)
    trials: int


def agreement(theta_fast, theta_ref, X_test, y_test) -> Agreement:
    """Compare two ``(T, d)`` weight sets on test sets ``X_test`` ``(T, m, d)``, ``y_test`` ``(T, m)``."""
    lab_f = np.sign(scores(theta_fast, X_test))
    lab_r = np.sign(scores(theta_ref, X_test))
    acc_f = accuracy(theta_fast, X_test, y_test)
    acc_r = accuracy(theta_ref, X_test, y_test)
    diff = np.linalg.norm(theta_fast - theta_ref, axis=-1)
    norm = np.linalg.norm(theta_ref, axis=-1)
    rel = np.divide(diff, norm, out=np.where(diff == 0, 0.0, np.inf), where=norm > 0)
    return Agreement(
        labels=float(np.mean(np.all(lab_f == lab_r, axis=-1))),
        accuracy=float(np.mean(acc_f == acc_r)),
        max_rel_theta=float(np.max(rel)),
        trials=len(theta_ref),
    )


# --------------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------------


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _losses(preset) -> dict:
    return paper_losses(tau_huberised=preset.tau_huberised, tau_phuber=preset.tau_phuber)


def _data(preset, trials: int, n_train: int, seed: int):
    t = time.perf_counter()
    d = long_servedio_trials(
        trials=trials, n_train=n_train, n_test=preset.n_test, rho=preset.rho, rng=seed,
        gamma=preset.gamma, sigma=preset.sigma,
    )
    return d, time.perf_counter() - t


def _fast_all(losses, data, maxiter: int) -> tuple[dict, float]:
    out, total = {}, 0.0
    for name, loss in losses.items():
        t = time.perf_counter()
        out[name] = fit_slsqp(loss, data.X_train, data.y_train, maxiter=maxiter)
        total += time.perf_counter() - t
    return out, total


def _ref_all(losses, data, maxiter: int) -> tuple[dict, float]:
    out, total = {}, 0.0
    for name, loss in losses.items():
        _say(f"  reference loop: {name}, {data.trials} trials ...")
        t = time.perf_counter()
        out[name] = fit_slsqp_scipy(loss, data.X_train, data.y_train, maxiter=maxiter)
        total += time.perf_counter() - t
    return out, total


def _fmt_s(x: float) -> str:
    return f"{x:.3f}" if x < 100 else f"{x:.0f}"


def head_to_head(preset, *, trials: int, seed: int) -> tuple[list[str], float]:
    """Table lines, and the reference's cost per (trial x n_train) in seconds (for budgeting)."""
    losses = _losses(preset)
    _say(f"head to head: drawing {trials} trials (n_train {preset.n_train}) ...")
    data, t_data = _data(preset, trials, preset.n_train, seed)
    header = (
        f"{'loss':<32}{'reference s':>12}{'batched s':>10}{'ratio':>9}{'agree labels':>14}"
        f"{'agree acc':>11}{'same nit':>10}{'max rel dtheta':>16}"
    )
    lines = [header, "-" * len(header)]
    tr_sum = tf_sum = 0.0
    for name, loss in losses.items():
        _say(f"  {name}: reference loop over {trials} trials ...")
        t = time.perf_counter()
        ref = fit_slsqp_scipy(loss, data.X_train, data.y_train, maxiter=preset.slsqp_maxiter)
        tr = time.perf_counter() - t
        _say(f"  {name}: batched solver ...")
        t = time.perf_counter()
        res = fit_slsqp(loss, data.X_train, data.y_train, maxiter=preset.slsqp_maxiter)
        tf = time.perf_counter() - t
        agr = agreement(res.theta, ref.theta, data.X_test, data.y_test)
        tr_sum, tf_sum = tr_sum + tr, tf_sum + tf
        lines.append(
            f"{loss.label:<32}{_fmt_s(tr):>12}{_fmt_s(tf):>9}{tr / tf:>8.1f}x{agr.labels:>14.2%}"
            f"{agr.accuracy:>11.2%}{np.mean(res.nit == ref.nit):>10.2%}{agr.max_rel_theta:>16.1e}"
        )
    lines.append("-" * len(header))
    lines.append(f"{'all three':<32}{_fmt_s(tr_sum):>12}{_fmt_s(tf_sum):>9}{tr_sum / tf_sum:>8.1f}x")
    lines.append(f"(drawing the trials' data, shared by both and not included above: {t_data:.3f} s)")
    return lines, tr_sum / (trials * preset.n_train)


def _scaling_row(preset, trials, n_train, seed, ref_cost, budget) -> str:
    losses = _losses(preset)
    _say(f"scaling: {trials} trials x n_train {n_train} ...")
    data, t_data = _data(preset, trials, n_train, seed)
    fast, t_fast = _fast_all(losses, data, preset.slsqp_maxiter)
    est = ref_cost * trials * n_train
    per = 1e3 * t_fast / (trials * len(losses))
    row = f"{trials:>7}{n_train:>9}{t_data:>9.2f}{t_fast:>9.3f}{per:>15.3f}"
    if est <= budget:
        ref, t_ref = _ref_all(losses, data, preset.slsqp_maxiter)
        agr = min(
            agreement(fast[k].theta, ref[k].theta, data.X_test, data.y_test).labels for k in losses
        )
        return row + f"{t_ref:>13.2f}{t_ref / t_fast:>8.1f}x{agr:>11.2%}"
    return row + f"{'skipped':>13}{'':>9}{'':>11}   (reference ~{est:.0f} s)"


def scaling_tables(preset, *, trial_grid, n_grid, n_grid_trials, seed, ref_cost, budget) -> list[str]:
    header = (
        f"{'trials':>7}{'n_train':>9}{'data s':>9}{'batched s':>10}{'ms/trial/loss':>15}"
        f"{'reference s':>13}{'ratio':>9}{'agreement':>11}"
    )
    rule = "-" * len(header)
    lines = [f"time against trials (n_train {preset.n_train}, three losses)", header, rule]
    lines += [_scaling_row(preset, T, preset.n_train, seed, ref_cost, budget) for T in trial_grid]
    lines += ["", f"time against n_train ({n_grid_trials} trials, three losses)", header, rule]
    lines += [_scaling_row(preset, n_grid_trials, n, seed, ref_cost, budget) for n in n_grid]
    return lines


def chunks(preset, *, trials: int, seed: int, chunk_trials: int) -> list[str]:
    """The batched solver in one chunk and in chunks of ``chunk_trials`` trials, on the same data:
    time, and whether the weights are bitwise identical."""
    losses = _losses(preset)
    data, _ = _data(preset, trials, preset.n_train, seed)
    X, y, m = data.X_train, data.y_train, preset.slsqp_maxiter
    per_trial = bytes_per_trial(preset.n_train, X.shape[-1])
    runs = [("1 chunk", DEFAULT_CHUNK_BYTES), (f"chunks of {chunk_trials} trials", chunk_trials * per_trial)]
    base = None
    lines = [f"{'batched solver':<32}{'s':>8}{'identical to first':>20}", "-" * 60]
    for label, cb in runs:
        _say(f"  batched: {label} ...")
        t = time.perf_counter()
        th = [fit_slsqp(loss, X, y, maxiter=m, chunk_bytes=cb).theta for loss in losses.values()]
        dt = time.perf_counter() - t
        same = "-" if base is None else ("yes (bitwise)" if all(map(np.array_equal, th, base)) else "NO")
        base = th if base is None else base
        lines.append(f"{label:<32}{dt:>8.3f}{same:>20}")
    return lines


# --------------------------------------------------------------------------------------------------
# Converged fits (sandbox.converged)
# --------------------------------------------------------------------------------------------------


def _converged_all(losses, data) -> tuple[dict, float]:
    out, total = {}, 0.0
    for name, loss in losses.items():
        t = time.perf_counter()
        out[name] = fit_converged(loss, data.X_train, data.y_train)
        total += time.perf_counter() - t
    return out, total


def _converged_row(preset, trials: int, n_train: int, seed: int) -> str:
    _say(f"converged scaling: {trials} trials x n_train {n_train} ...")
    data, t_data = _data(preset, trials, n_train, seed)
    _, t_fit = _converged_all(_losses(preset), data)
    per_point = 1e9 * t_fit / (trials * n_train * 3)
    return f"{trials:>7}{n_train:>9}{t_data:>9.2f}{t_fit:>10.3f}{1e3 * t_fit / (3 * trials):>15.3f}{per_point:>15.1f}"


def converged_section(preset, *, trials: int, seed: int, trial_grid=(), n_grid=(), n_grid_trials: int = 0) -> list[str]:
    """Converged fits of the three paper losses on ``trials`` trials: time, flags, and agreement with the
    SLSQP protocol (fraction of trials whose clean test labels are identical), then scaling tables."""
    losses = _losses(preset)
    _say(f"converged: drawing {trials} trials (n_train {preset.n_train}) ...")
    data, _ = _data(preset, trials, preset.n_train, seed)
    _say("converged: fitting the three losses ...")
    fits, total = _converged_all(losses, data)
    header = (f"{'loss':<24}{'converged s':>12}{'ms/trial':>10}{'converged':>11}{'unbounded':>11}{'tie':>7}"
              f"{'same labels':>13}{'median acc':>12}{'SLSQP acc':>11}{f'acc>={SUCCESS:g}':>11}{'SLSQP':>7}")
    lines = [header, "-" * len(header)]
    for name, loss in losses.items():
        t = time.perf_counter()
        fit = fit_converged(loss, data.X_train, data.y_train)
        dt = time.perf_counter() - t
        ref = fit_slsqp(loss, data.X_train, data.y_train, maxiter=preset.slsqp_maxiter)
        th = fit.theta / np.maximum(np.abs(fit.theta).max(axis=1, keepdims=True), 1e-300)  # R_INF-sized: rescale
        same = agreement(th, ref.theta, data.X_test, data.y_test).labels
        acc, acc_ref = accuracy(fit.theta, data.X_test, data.y_test), accuracy(ref.theta, data.X_test, data.y_test)
        lines.append(
            f"{loss.label:<24}{dt:>12.3f}{1e3 * dt / trials:>10.3f}{np.mean(fit.converged):>11.1%}"
            f"{np.mean(fit.unbounded):>11.1%}{np.mean(fit.tie):>7.1%}{same:>13.1%}{np.median(acc):>12.3f}"
            f"{np.median(acc_ref):>11.3f}{np.mean(acc >= SUCCESS):>11.1%}{np.mean(acc_ref >= SUCCESS):>7.1%}"
        )
    lines.append("-" * len(header))
    lines.append(f"{'all three (first run)':<24}{total:>12.3f}   ({trials} trials x n_train {preset.n_train}; "
                 "the per-loss rows are a second run)")
    lines.append("same labels: trials whose converged and SLSQP-protocol fits predict identical clean test labels "
                 "(information, not a check).")
    if trial_grid or n_grid:
        head = f"{'trials':>7}{'n_train':>9}{'data s':>9}{'fit s':>10}{'ms/trial/loss':>15}{'ns/point/loss':>15}"
        rule = "-" * len(head)
        lines += ["", f"time against trials (n_train {preset.n_train}, three losses)", head, rule]
        lines += [_converged_row(preset, T, preset.n_train, seed) for T in trial_grid]
        lines += ["", f"time against n_train ({n_grid_trials} trials, three losses)", head, rule]
        lines += [_converged_row(preset, n_grid_trials, n, seed) for n in n_grid]
    return lines


# --------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """Bad arguments raise ``ValueError``: the command line prints it as one line and exits 2."""

    def error(self, message):
        raise ValueError(f"bench: {message} (see python -m sandbox bench --help)")


def main(argv: list[str] | None = None) -> int:
    ap = _Parser(
        prog="python -m sandbox bench",
        description="Time the per-trial SLSQP protocol against the batched solver (same data, same "
        "process) and print the per-trial agreement and scaling tables.",
    )
    ap.add_argument("--quick", action="store_true", help="a seconds-long version (small sizes)")
    ap.add_argument("--preset", default=DEFAULT_PRESET, choices=sorted(PRESETS), help="experiment settings")
    ap.add_argument("--seed", type=int, default=0, help="seed of the trials (default 0)")
    ap.add_argument(
        "--trials", type=int, default=None, help="trials in the head-to-head (default: the preset's; 20 with --quick)"
    )
    ap.add_argument("--no-scaling", action="store_true", help="skip the scaling tables")
    ap.add_argument(
        "--ref-budget", type=float, default=None,
        help="seconds the reference loop may take in a scaling row, else it is skipped (default 30; 2 with --quick)",
    )
    args = ap.parse_args(argv)
    if args.seed < 0:
        ap.error(f"--seed={args.seed} must be a non-negative integer")
    if args.trials is not None and args.trials < 1:
        ap.error(f"--trials={args.trials} must be >= 1")

    preset = get_preset(args.preset)
    trials = args.trials or (min(20, preset.trials) if args.quick else preset.trials)
    budget = args.ref_budget if args.ref_budget is not None else (2.0 if args.quick else 30.0)
    start = time.perf_counter()

    quick = " --quick" if args.quick else ""
    print(f"python -m sandbox bench{quick} --preset {preset.name} --seed {args.seed}")
    print()
    print("Machine")
    for line in machine_info():
        print("  " + line)
    print()
    print(
        f"Head to head: preset {preset.name} (rho {preset.rho:g}, tau_huberised {preset.tau_huberised:g}, "
        f"tau_phuber {preset.tau_phuber:g}), {trials} trials, "
        f"n_train {preset.n_train}, n_test {preset.n_test}, SLSQP maxiter {preset.slsqp_maxiter}, seed {args.seed}"
    )
    lines, ref_cost = head_to_head(preset, trials=trials, seed=args.seed)
    for line in lines:
        print("  " + line)
    print(
        "  agree labels: trials whose two fits predict identical labels on every clean test point; "
        "agree acc: identical test accuracy;\n  same nit: identical SLSQP iteration count; "
        "max rel dtheta: max over trials of |theta_batched - theta_ref| / |theta_ref|."
    )
    _say("Fig. 2a end to end ...")
    t = time.perf_counter()
    fig2a_long_servedio.compute(preset, seed=args.seed, trials=trials)
    print(
        f"  Fig. 2a end to end (sandbox.figures.fig2a_long_servedio.compute: draw the {trials} trials, "
        f"fit the three losses, score the test sets): {time.perf_counter() - t:.3f} s"
    )
    if not args.no_scaling:
        print()
        print("Chunks (batched solver only, same data)")
        chunk_trials = max(1, trials // (4 if args.quick else 10))
        for line in chunks(preset, trials=trials, seed=args.seed, chunk_trials=chunk_trials):
            print("  " + line)
        print()
        print(f"Scaling (reference run where its estimated time <= {budget:g} s)")
        if args.quick:
            grid, ngrid, nt = (10, 100), (100, 1000, 10000), 10
        else:
            grid, ngrid, nt = (10, 100, 1000, 5000), (100, 1000, 10000, 100000), 50
        for line in scaling_tables(
            preset, trial_grid=grid, n_grid=ngrid, n_grid_trials=nt, seed=args.seed,
            ref_cost=ref_cost, budget=budget,
        ):
            print("  " + line)
    print()
    c_trials = min(20, preset.trials) if args.quick else preset.trials
    print(f"Converged fits (sandbox.converged.fit_converged; tau_huberised {preset.tau_huberised:g}, "
          f"tau_phuber {preset.tau_phuber:g}, rho {preset.rho:g}, seed {args.seed})")
    if args.no_scaling:
        grids = {}
    elif args.quick:
        grids = dict(trial_grid=(10, 100), n_grid=(100, 1000, 10000), n_grid_trials=10)
    else:
        grids = dict(trial_grid=(100, 500, 1000, 5000), n_grid=(100, 1000, 10000, 100000), n_grid_trials=20)
    for line in converged_section(preset, trials=c_trials, seed=args.seed, **grids):
        print("  " + line)
    print()
    print(f"load {_load()} at the end; bench wall time {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
