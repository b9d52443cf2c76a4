"""The figure command line (``python -m sandbox figures``) and atomic writes (``sandbox.io``).

One real subprocess run writes the three paper figures at the ``smoke`` preset (module fixture);
the other checks call :func:`sandbox.cli.main` in-process, which runs the same code faster.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from sandbox import cli
from sandbox import io as sio
from sandbox.fig_paper import LOSS_ORDER
from sandbox.presets import get_preset

ROOT = Path(__file__).resolve().parents[1]
PAPER_FIGURES = ("fig1_losses", "fig2a_long_servedio", "fig2b_outliers")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("smoke")
    res = run_cli("figures", *PAPER_FIGURES, "--preset", "smoke", "--out", str(out))
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
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.{e}" for n in PAPER_FIGURES for e in ("json", "png"))


def test_smoke_run_reports_progress_on_stderr_and_results_on_stdout(smoke_run):
    _, res = smoke_run
    assert "fig2a_long_servedio: logistic:" in res.stderr and " s] " in res.stderr
    assert "partially_huberised" in res.stdout and "wrote" in res.stdout


def test_fig2a_json_has_the_interface_keys(smoke_run):
    data = figure_json(smoke_run[0], "fig2a_long_servedio")
    T = get_preset("smoke").trials
    assert set(data["test_accuracy"]) == set(LOSS_ORDER)
    for name in LOSS_ORDER:
        acc = data["test_accuracy"][name]
        assert len(acc) == T and all(0.0 <= a <= 1.0 for a in acc)
        s = data["summary"][name]
        assert set(s) == {"median", "mean", "std", "n", "frac_ge_0.99"}
        assert s["n"] == T
        assert s["std"] == pytest.approx(np.std(acc, ddof=1), rel=1e-12, abs=1e-15)  # std, not the variance
    assert "ddof=1" in data["summary_note"]
    assert len(data["realised_rho"]) == T


def test_fig2b_json_has_curves_and_minimisers(smoke_run):
    data = figure_json(smoke_run[0], "fig2b_outliers")
    n = get_preset("smoke").theta_points
    assert len(data["theta"]) == n and data["theta"][0] == -2.0 and data["theta"][-1] == 2.0
    for key in ("inliers", "with_outliers"):
        for name in LOSS_ORDER:
            assert len(data["risk"][key][name]) == n
            assert -2.0 <= data["minimiser"][key][name]["argmin"] <= 2.0


# --------------------------------------------------------------------------------------------------
# seeds: the same seed gives the same bytes, another seed other numbers
# --------------------------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_json(smoke_run, tmp_path, capsys):
    out, _ = smoke_run
    names = ["fig2a_long_servedio", "fig2b_outliers"]
    assert cli.main(["figures", *names, "--preset", "smoke", "--out", str(tmp_path), "-q"]) == 0
    for name in names:
        assert (tmp_path / f"{name}.json").read_bytes() == (out / f"{name}.json").read_bytes()


def test_numbers_do_not_depend_on_the_number_of_jobs(smoke_run, tmp_path, capsys):
    out, _ = smoke_run  # written with the default (one job per CPU)
    names = list(PAPER_FIGURES)
    assert cli.main(["figures", *names, "--preset", "smoke", "--out", str(tmp_path), "-q", "--jobs", "1"]) == 0
    for name in names:
        assert (tmp_path / f"{name}.json").read_bytes() == (out / f"{name}.json").read_bytes()


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
}


@pytest.mark.parametrize("argv", BAD.values(), ids=BAD.keys())
def test_bad_arguments_exit_2_with_one_line(argv, tmp_path, capsys):
    assert cli.main([*argv, "--out", str(tmp_path)] if argv else argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sandbox: error: ")
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # nothing was written


def test_bad_arguments_in_a_real_process():
    res = run_cli("figures", "no_such_figure", "--preset", "smoke")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "no_such_figure" in res.stderr and "Traceback" not in res.stderr
    assert res.stdout == ""


def test_bench_is_handed_the_rest_of_the_command_line(monkeypatch):
    seen = []
    fake = types.ModuleType("sandbox.bench")
    fake.main = lambda argv: seen.append(argv) or 3
    monkeypatch.setitem(sys.modules, "sandbox.bench", fake)
    assert cli.main(["bench", "--quick", "figures"]) == 3
    assert seen == [["--quick", "figures"]]


def test_bench_missing_is_a_one_line_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sandbox.bench", None)  # import raises ModuleNotFoundError
    assert cli.main(["bench"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bench" in err


# --------------------------------------------------------------------------------------------------
# atomic writes
# --------------------------------------------------------------------------------------------------


def test_failed_savefig_keeps_the_previous_png_and_leaves_no_temp_file(tmp_path, monkeypatch):
    from sandbox.plotting import new_figure

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
