"""``python -m sandbox bench``: runs, prints its tables, compares fits correctly. No timing assertions."""

import subprocess
import sys

import numpy as np
import pytest

from sandbox.bench import agreement, main
from sandbox.trials import long_servedio_trials


def test_quick_bench_prints_every_table():
    # through the package's command line, as a user runs it; seconds long (no timing asserted)
    out = subprocess.run(
        [sys.executable, "-m", "sandbox", "bench", "--quick"],
        capture_output=True, text=True, timeout=300, check=True,
    ).stdout
    for heading in ("Machine", "Head to head", "Chunks", "time against trials", "time against n_train"):
        assert heading in out
    for column in ("reference s", "batched s", "ratio", "agree labels", "same nit", "ms/trial/loss", "agreement"):
        assert column in out
    assert "phuber (tau=1.36)" in out
    assert "yes (bitwise)" in out and " NO" not in out  # chunks leave results bitwise identical
    converged = out[out.index("Converged fits"):]  # the converged section comes last, with its own tables
    for heading in ("converged s", "unbounded", "same labels", "all three (first run)", "time against trials",
                    "time against n_train", "ns/point/loss"):
        assert heading in converged
    assert "phuber (tau=1.36)" in converged


def test_in_process_without_scaling(capsys):
    assert main(["--quick", "--no-scaling", "--trials", "3", "--preset", "smoke", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert "3 trials, n_train 200" in out and "all three" in out
    assert "Scaling" not in out
    assert "Converged fits" in out and "time against trials" not in out.split("Converged fits")[1]
    head_to_head = out.split("Converged fits")[0]  # the converged section has rows of its own
    rows = [ln for ln in head_to_head.splitlines() if ln.strip().startswith(("logistic ", "huberised (", "phuber ("))]
    assert len(rows) == 3 and all(ln.count("100.00%") == 3 for ln in rows)  # labels, accuracy, nit agree


@pytest.mark.parametrize("argv", [["--trials", "0"], ["--seed", "-1"], ["--preset", "nope"], ["--frobnicate"]])
def test_bad_arguments_exit_with_status_2(argv, capsys):
    from sandbox import cli

    assert cli.main(["bench", *argv]) == 2  # python -m sandbox bench ...
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("sandbox: error: bench:"), captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_agreement_definition():
    data = long_servedio_trials(trials=4, n_train=50, n_test=40, rho=0.2, rng=1)
    theta = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 0.0], [-1.0, 0.0]])
    same = agreement(theta, theta, data.X_test, data.y_test)
    assert (same.labels, same.accuracy, same.max_rel_theta, same.trials) == (1.0, 1.0, 0.0, 4)
    flipped = agreement(-theta, theta, data.X_test, data.y_test)
    assert flipped.labels == 0.25  # only the zero vector (all scores 0) predicts the same labels
    assert flipped.max_rel_theta == 2.0
