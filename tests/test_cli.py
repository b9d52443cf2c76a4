"""The figure command line (``python -m sandbox figures``) and atomic writes (``sandbox.io``).

One real subprocess run writes every figure at the ``smoke`` preset (module fixture); the other checks
call :func:`sandbox.cli.main` in-process, which runs the same code faster.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sandbox import cli
from sandbox import io as sio
from sandbox.figures import FIGURE_MODULES
from sandbox.presets import get_preset
from sandbox.registry import PAPER_LOSSES

ROOT = Path(__file__).resolve().parents[1]
PAPER_FIGURES = ("fig1_losses", "fig2a_long_servedio", "fig2b_outliers")
ALL_FIGURES = tuple(FIGURE_MODULES)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("smoke")
    res = run_cli("figures", "--preset", "smoke", "--out", str(out))
    assert res.returncode == 0, res.stderr
    return out, res


def figure_json(out: Path, name: str) -> dict:
    return json.loads((out / f"{name}.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------------
# listing and a real run
# --------------------------------------------------------------------------------------------------


def test_list_prints_every_paper_figure_with_a_summary(capsys):
    assert cli.main(["figures", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name in PAPER_FIGURES:
        (line,) = [ln for ln in lines if ln.split()[0] == name]
        assert len(line.split()) > 3  # name followed by a one-line summary


@pytest.mark.parametrize("name", PAPER_FIGURES)
def test_smoke_run_writes_png_and_json(smoke_run, name):
    out, _ = smoke_run
    assert (out / f"{name}.png").read_bytes()[:8] == PNG_MAGIC
    data = figure_json(out, name)
    meta = data["meta"]
    assert meta["figure"] == name
    assert meta["preset"] == get_preset("smoke").to_dict()
    assert meta["seed"] == 0 and meta["overrides"] == {}
    assert set(meta["versions"]) == {"python", "numpy", "scipy", "matplotlib"}
    assert meta["command"] == f"python -m sandbox figures {name} --preset smoke --seed 0"
    assert data["preset"] == "smoke" and "params" in data


def test_smoke_run_leaves_no_temporary_files(smoke_run):
    out, _ = smoke_run
    expected = [f"{n}.{e}" for n in ALL_FIGURES for e in ("json", "png")] + ["table2_mnist.md"]
    assert sorted(p.name for p in out.iterdir()) == sorted(expected)


def test_smoke_run_reports_progress_on_stderr_and_results_on_stdout(smoke_run):
    _, res = smoke_run
    assert "fig2a_long_servedio: logistic:" in res.stderr and " s] " in res.stderr
    assert "phuber" in res.stdout and "wrote" in res.stdout


def test_fig2a_json_has_the_interface_keys(smoke_run):
    data = figure_json(smoke_run[0], "fig2a_long_servedio")
    T = get_preset("smoke").trials
    assert set(data["test_accuracy"]) == set(PAPER_LOSSES)
    for name in PAPER_LOSSES:
        acc = data["test_accuracy"][name]
        assert len(acc) == T and all(0.0 <= a <= 1.0 for a in acc)
        s = data["summary"][name]
        assert set(s) == {"median", "q25", "q75", "mean", "std", "n", "frac_success"}
        assert s["n"] == T
        assert s["std"] == pytest.approx(np.std(acc, ddof=1), rel=1e-12, abs=1e-15)  # std, not the variance
    assert "ddof=1" in data["summary_note"]
    assert len(data["realised_rho"]) == T


def test_fig2b_json_has_curves_and_minimisers(smoke_run):
    data = figure_json(smoke_run[0], "fig2b_outliers")
    n = get_preset("smoke").theta_points
    assert len(data["theta"]) == n and data["theta"][0] == -2.0 and data["theta"][-1] == 2.0
    for key in ("inliers", "with_outliers"):
        for name in PAPER_LOSSES:
            assert len(data["risk"][key][name]) == n
            assert -2.0 <= data["minimiser"][key][name]["argmin"] <= 2.0


# --------------------------------------------------------------------------------------------------
# seeds: the same seed gives the same bytes, another seed other numbers
# --------------------------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_json_for_every_figure_whatever_the_jobs(smoke_run, tmp_path, capsys):
    """Nothing run-dependent (timings, dates) is in any figure's JSON, and the number of worker
    processes does not change a number: a second run, in one process, writes the same bytes."""
    out, _ = smoke_run  # written with the default (one job per CPU)
    assert cli.main(["figures", "--preset", "smoke", "--out", str(tmp_path), "-q", "--jobs", "1"]) == 0
    for name in ALL_FIGURES:
        assert (tmp_path / f"{name}.json").read_bytes() == (out / f"{name}.json").read_bytes(), name
    assert (tmp_path / "table2_mnist.md").read_bytes() == (out / "table2_mnist.md").read_bytes()


def test_other_seed_and_rho_override_change_the_numbers(smoke_run, tmp_path, capsys):
    base = figure_json(smoke_run[0], "fig2a_long_servedio")
    argv = ["figures", "fig2a_long_servedio", "--preset", "smoke", "--seed", "1", "--rho", "0.1", "--trials", "3"]
    assert cli.main([*argv, "--out", str(tmp_path), "-q"]) == 0
    other = figure_json(tmp_path, "fig2a_long_servedio")
    assert other["meta"]["seed"] == 1 and other["meta"]["overrides"] == {"rho": 0.1}
    assert other["meta"]["preset"]["rho"] == 0.1 and other["params"]["rho"] == 0.1
    assert other["meta"]["command"] == "python -m sandbox figures fig2a_long_servedio --preset smoke --seed 1 --trials 3 --rho 0.1"
    assert len(other["realised_rho"]) == 3
    assert other["realised_rho"] != base["realised_rho"][:3]
    assert other["test_accuracy"]["logistic"] != base["test_accuracy"]["logistic"][:3]


def test_the_converged_protocol_goes_into_the_json_and_the_command(tmp_path, capsys):
    argv = ["figures", "fig2a_long_servedio", "--preset", "smoke", "--protocol", "converged", "--out", str(tmp_path), "-q"]
    assert cli.main(argv) == 0
    data = figure_json(tmp_path, "fig2a_long_servedio")
    assert data["protocol"] == "converged" and data["meta"]["overrides"] == {"protocol": "converged"}
    assert data["meta"]["command"].endswith("--protocol converged")
    assert "converged fits" in capsys.readouterr().out


def test_different_seed_gives_different_fig2a_numbers(smoke_run, tmp_path, capsys):
    base = figure_json(smoke_run[0], "fig2a_long_servedio")
    assert cli.main(["figures", "fig2a_long_servedio", "--preset", "smoke", "--seed", "7", "--out", str(tmp_path), "-q"]) == 0
    other = figure_json(tmp_path, "fig2a_long_servedio")
    assert other["realised_rho"] != base["realised_rho"]
    assert other["test_accuracy"] != base["test_accuracy"]


# --------------------------------------------------------------------------------------------------
# bad arguments: status 2, one line, no traceback
# --------------------------------------------------------------------------------------------------

BAD = {
    "unknown_figure": ["figures", "no_such_figure"],
    "unknown_preset": ["figures", "fig1_losses", "--preset", "no_such_preset"],
    "zero_trials": ["figures", "fig2a_long_servedio", "--trials", "0"],
    "rho_too_large": ["figures", "fig2a_long_servedio", "--rho", "0.7"],
    "rho_half": ["figures", "fig2a_long_servedio", "--rho", "0.5"],
    "rho_negative": ["figures", "fig2a_long_servedio", "--rho", "-0.1"],
    "negative_seed": ["figures", "fig2a_long_servedio", "--seed", "-1"],
    "trials_not_int": ["figures", "--trials", "many"],
    "zero_jobs": ["figures", "fig1_losses", "--jobs", "0"],
    "unknown_option": ["figures", "--frobnicate"],
    "no_command": [],
    "rho_without_noise_rate": ["figures", "fig1_losses", "--rho", "0.3"],
    "rho_for_all_figures": ["figures", "--rho", "0.3"],
    "rho_for_calibration": ["figures", "calibration", "--rho", "0.3"],
    "trials_for_a_grid": ["figures", "phase_population", "--trials", "7"],
    "trials_for_fig1": ["figures", "fig2a_long_servedio", "fig1_losses", "--trials", "7"],
    "protocol_for_a_population_map": ["figures", "phase_population", "--protocol", "converged"],
    "protocol_unknown": ["figures", "fig2a_long_servedio", "--protocol", "lbfgs"],
}


@pytest.mark.parametrize("argv", BAD.values(), ids=BAD.keys())
def test_bad_arguments_exit_2_with_one_line_before_touching_the_file_system(argv, tmp_path, capsys):
    out = tmp_path / "not_yet"
    assert cli.main([*argv, "--out", str(out)] if argv else argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sandbox: error: ")
    assert "Traceback" not in err
    assert not out.exists()  # every argument is checked before the output directory is created


def test_an_option_a_figure_cannot_use_is_named_in_the_error(capsys):
    assert cli.main(["figures", "fig1_losses", "landscape", "--rho", "0.3", "--out", "/nonexistent/x"]) == 2
    err = capsys.readouterr().err
    assert "--rho does not apply to fig1_losses" in err and "landscape" in err.split("applies to")[1]


def test_list_says_what_each_option_means_per_figure(capsys):
    assert cli.main(["figures", "--list"]) == 0
    out = capsys.readouterr().out
    assert "--trials: seeds" in out  # table2_mnist: --trials is a number of seeds
    assert "--rho: the symmetric noise rate" in out


@pytest.mark.parametrize("target", ["/proc", "/sys"])
def test_an_unwritable_output_directory_fails_in_one_line_before_computing(target, capsys):
    if not Path(target).is_dir():
        pytest.skip(f"{target} does not exist on this system")
    start = time.perf_counter()
    assert cli.main(["figures", "fig2a_long_servedio", "--preset", "smoke", "--out", target]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write to the output directory" in err and "Traceback" not in err
    assert time.perf_counter() - start < 2.0  # nothing was computed first


def test_an_output_path_that_is_a_file_is_rejected(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert cli.main(["figures", "fig1_losses", "--out", str(f)]) == 2
    assert "is not a directory" in capsys.readouterr().err


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_stopping_the_pool_cancels_queued_work_and_ends_running_workers():
    import concurrent.futures

    pool = concurrent.futures.ProcessPoolExecutor(max_workers=1)
    futures = [pool.submit(_sleep, 30.0) for _ in range(4)]
    time.sleep(0.5)  # the first one is running, the others are queued
    workers = list(pool._processes.values())
    start = time.perf_counter()
    cli._stop(pool)
    assert time.perf_counter() - start < 3.0  # not the 120 s the four sleeps would take
    assert futures[-1].cancelled()  # still queued: never started (one more sits in the executor's call queue)
    assert workers and not any(w.is_alive() for w in workers)  # the running one was ended, not awaited


def test_ctrl_c_stops_at_once_keeps_finished_figures_and_leaves_no_partial_file(tmp_path):
    """SIGINT to the process group (what Ctrl-C does) during a parallel run: the running figures stop,
    the command returns within seconds with status 130, the figure already written is kept whole, and
    no partial or temporary file is left."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    names = ["phase_sample", "noise_sweep", "fig1_losses"]  # fig1 finishes in ~2 s, the others take ~15 s
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "figures", *names, "--jobs", "3", "--out", str(tmp_path)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.perf_counter() + 120
    while not (tmp_path / "fig1_losses.json").exists() and time.perf_counter() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    sent = time.perf_counter()
    _, err = proc.communicate(timeout=30)
    elapsed = time.perf_counter() - sent
    assert proc.returncode == 130, err
    assert elapsed < 5.0, elapsed  # measured ~0.3 s; generous for a loaded CI machine
    assert "sandbox: interrupted" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig1_losses.json", "fig1_losses.png"]  # no temp file
    assert (tmp_path / "fig1_losses.png").read_bytes()[:8] == PNG_MAGIC
    assert json.loads((tmp_path / "fig1_losses.json").read_text())["meta"]["figure"] == "fig1_losses"


def test_bad_arguments_in_a_real_process():
    res = run_cli("figures", "no_such_figure", "--preset", "smoke")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "no_such_figure" in res.stderr and "Traceback" not in res.stderr
    assert res.stdout == ""


def test_bench_is_handed_the_rest_of_the_command_line(monkeypatch):
    from sandbox import bench

    seen = []
    monkeypatch.setattr(bench, "main", lambda argv: seen.append(argv) or 3)
    assert cli.main(["bench", "--quick", "figures"]) == 3
    assert seen == [["--quick", "figures"]]


# --------------------------------------------------------------------------------------------------
# atomic writes
# --------------------------------------------------------------------------------------------------


def test_failed_savefig_keeps_the_previous_png_and_leaves_no_temp_file(tmp_path, monkeypatch):
    from sandbox.figures._style import new_figure

    target = tmp_path / "fig.png"
    fig, ax = new_figure()
    ax.plot([0, 1], [0, 1])
    sio.save_figure(fig, target)
    before = target.read_bytes()
    assert before[:8] == PNG_MAGIC

    def broken_savefig(fname, **kw):
        assert kw.get("format") == "png"
        Path(fname).write_bytes(PNG_MAGIC + b"truncated")  # a partial file, then the failure
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(fig, "savefig", broken_savefig)
    with pytest.raises(OSError, match="simulated"):
        sio.save_figure(fig, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]


@pytest.mark.parametrize("exc", [OSError("fsync failed (simulated)"), KeyboardInterrupt()])
def test_interrupted_json_write_keeps_the_previous_file(tmp_path, monkeypatch, exc):
    target = tmp_path / "data.json"
    sio.write_json(target, {"x": [1.0, 2.0]})

    def boom(fd):
        raise exc

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(type(exc)):
        sio.write_json(target, {"x": [3.0]})
    assert json.loads(target.read_text()) == {"x": [1.0, 2.0]}
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]


def test_atomic_files_get_the_usual_permissions(tmp_path):
    # mkstemp creates 0600 files; the written file must have the mode open() would give it
    umask = os.umask(0)
    os.umask(umask)
    sio.write_json(tmp_path / "a.json", {"x": 1})
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o666 & ~umask


def test_json_floats_round_trip_exactly_and_non_finite_become_null():
    x = np.random.default_rng(0).standard_normal(50)
    text = sio.dumps_json({"x": x, "t": (np.float32(0.1), np.int64(3), np.bool_(True)), "inf": np.inf})
    back = json.loads(text)
    assert np.array_equal(np.array(back["x"]), x)  # full precision
    assert back["t"] == [float(np.float32(0.1)), 3, True]
    assert back["inf"] is None
    with pytest.raises(TypeError):
        sio.dumps_json({1: 2})
