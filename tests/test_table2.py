"""The sandbox Table 2 (sandbox.table2 and its figure): smoke size end to end, reports, determinism,
validation, and the paper's claim at a CI size (PHuber-CE beats CE at rho = 0.6)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from matplotlib.figure import Figure

from sandbox import multiclass as mc
from sandbox import table2 as t2
from sandbox.figures import table2_mnist as fig
from sandbox.nets import TrainConfig

SMOKE = t2.TABLE2_SIZES["smoke"]
ALL = t2.TABLE2_LOSSES + t2.TABLE2_ROBUST_LOSSES  # every preset's rows: the paper's six, then four robust ones
TINY = dataclasses.replace(SMOKE, rhos=(0.0, 0.6), seeds=1, losses=("ce", "phuber_ce"), n_train=300, n_test=100,
                           n_val=60, train=TrainConfig(epochs=1))


@pytest.fixture(scope="module")
def smoke():
    lines: list[str] = []
    result = t2.run_table2(SMOKE, seed=0, progress=lines.append)
    return result, lines


def test_smoke_shapes_and_ranges(smoke):
    r, _ = smoke
    shape = (len(ALL), 4, SMOKE.seeds)
    for name in ("accuracy", "memorised", "clipped_fraction", "run_seconds"):
        assert getattr(r, name).shape == shape, name
    assert np.all(r.run_seconds > 0)
    assert r.losses == ALL and r.rhos == (0.0, 0.2, 0.4, 0.6)
    assert np.all((r.accuracy >= 0) & (r.accuracy <= 1))
    assert r.mean.shape == r.std.shape == shape[:2]
    np.testing.assert_allclose(r.std, r.accuracy.std(axis=-1, ddof=1))  # documented: sample std
    assert np.all(np.isnan(r.memorised[:, 0])) and np.all(np.isfinite(r.memorised[:, 1:]))
    clip_row = r.losses.index("ce_clip")
    assert np.all(r.clipped_fraction[clip_row] > 0)  # gradient norms of a fresh net exceed 0.1
    assert np.all(np.delete(r.clipped_fraction, clip_row, axis=0) == 0)
    assert r.per_seed("gce", 0.4) == tuple(r.accuracy[3, 2])
    assert set(r.timings) == {"load", "tau_selection", "runs", "total"} and r.timings["total"] > 0


def test_smoke_tau_selection(smoke):
    r, _ = smoke
    assert set(r.chosen_tau) == {"phuber_ce", "phuber_gce"}
    for key, tau in r.chosen_tau.items():
        scores = r.tau_validation[key]
        assert set(scores) == set(SMOKE.taus)
        assert scores[tau] == max(scores.values())  # chosen by noisy validation accuracy
        # ties go to the first candidate in the config's order
        first_best = next(t for t in SMOKE.taus if scores[t] == max(scores.values()))
        assert tau == first_best


def test_smoke_progress_lines(smoke):
    r, lines = smoke
    runs = [ln for ln in lines if ln.startswith("[seed")]
    assert len(runs) == r.accuracy.size  # one line per training run
    assert sum(ln.startswith("[tau]") for ln in lines) == 2 * len(SMOKE.taus) + 2  # candidates + choices


def test_markdown(smoke):
    r, _ = smoke
    md = fig.table2_to_markdown(r)
    lines = md.splitlines()
    assert lines[0] == "| loss | rho=0 | rho=0.2 | rho=0.4 | rho=0.6 |"
    rows = [ln for ln in lines[2:] if ln.startswith("| ")]
    assert len(rows) == len(ALL)
    assert all(ln.count(" ± ") == 4 and ln.count(f"(n={SMOKE.seeds})") == 4 for ln in rows)
    assert f"PHuber-CE (tau={r.chosen_tau['phuber_ce']:g})" in md and "sample std (ddof=1)" in md
    assert md.count("**") >= 2 * 4  # at least one best cell per column


def test_json_round_trip(smoke):
    r, _ = smoke
    d = t2.table2_to_json(r)
    text = json.dumps(d, allow_nan=False)  # NaN (memorised at rho = 0) must have become null
    back = json.loads(text)
    np.testing.assert_array_equal(np.array(back["accuracy"]), r.accuracy)  # floats survive JSON exactly
    assert back["std_ddof"] == 1 and back["config"]["rhos"] == [0.0, 0.2, 0.4, 0.6]
    assert back["memorised"][0][0] == [None] * SMOKE.seeds
    assert back["chosen_tau"] == {k: v for k, v in r.chosen_tau.items()}
    assert "run_seconds" not in back and "timings" not in back  # wall times vary from run to run


def test_figure(smoke):
    r, _ = smoke
    drawn = fig.plot_result(r)
    assert isinstance(drawn, Figure) and len(drawn.axes) == 2  # the paper's rows | the robust rows
    for ax, keys in zip(drawn.axes, (t2.TABLE2_LOSSES, t2.TABLE2_ROBUST_LOSSES)):
        assert ax.get_xlabel() and ax.get_title()
        lines = [c.lines[0] for c in ax.containers]  # the data line of each errorbar
        assert len(lines) == len(keys)
        assert len({ln.get_marker() for ln in lines}) == len(lines)  # distinct markers ...
        styles = fig._LINESTYLES[: len(lines)]  # ... and line styles (custom dash tuples report as '--')
        assert len(set(map(repr, styles))) == len(styles)
        assert [ln.get_linestyle() for ln in lines[:4]] == ["-", "--", ":", "-."]
        texts = [t.get_text() for t in ax.get_legend().get_texts()]
        assert [t for t in texts if "reference" not in t] == [r.label(k) for k in keys]
    assert drawn.axes[0].get_ylabel()
    assert sum("reference" in t.get_text() for t in drawn.axes[1].get_legend().get_texts()) == 2  # CE, PHuber-CE
    paper_only = fig.plot_result(t2.run_table2(TINY, seed=0))
    assert len(paper_only.axes) == 1  # the paper's rows alone: one panel
    drawn.canvas.draw()  # renders without error (Agg canvas of a bare Figure)


def test_determinism_per_seed():
    a = t2.run_table2(TINY, seed=0)
    b = t2.run_table2(TINY, seed=0)
    c = t2.run_table2(TINY, seed=1)
    np.testing.assert_array_equal(a.accuracy, b.accuracy)  # bit-for-bit: same streams, one BLAS thread
    assert a.chosen_tau == b.chosen_tau and a.tau_validation == b.tau_validation
    assert not np.array_equal(a.accuracy, c.accuracy) or a.tau_validation != c.tau_validation


def test_seed_zero_is_valid_and_negative_rejected():
    with pytest.raises(ValueError, match="seed"):
        t2.run_table2(TINY, seed=-1)


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"model": "lenet"}, "model"),
        ({"n_val": 500}, "n_val"),
        ({"rhos": (0.0, 1.2)}, r"rho=1\.2 is outside its domain"),
        ({"taus": (1.0, 10.0)}, r"tau=1\.0 is outside its domain"),
        ({"losses": ("ce", "mae")}, "losses"),
        ({"n_train": 4500, "n_test": 1000}, "5000"),
        ({"clip_norm": 0.0}, "clip_norm"),
        ({"train": TrainConfig(epochs=0)}, "epochs=0 must be an integer >= 1"),
        ({"train": TrainConfig(clip_norm=1.0)}, "clip_norm must be None"),
    ],
)
def test_config_validation(changes, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(SMOKE, **changes)


def test_presets_are_frozen_and_full_matches_the_paper_where_it_says_so():
    full = t2.TABLE2_SIZES["full"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        full.seeds = 1
    # the values the paper fixes (its Table 2 and Sec. 6)
    assert full.rhos == (0.0, 0.2, 0.4, 0.6) and full.taus == (2.0, 10.0) and full.q == 0.7
    assert full.clip_norm == 0.1 and full.tau_selection_rho == 0.6
    assert full.train.optimizer == "adam" and full.train.batch_size == 32  # MNIST: Adam, batch 32
    assert full.n_train + full.n_test <= 5000


def test_reference_numbers_are_those_in_the_notes():
    got = {(r.source, r.dataset, r.loss, r.rho): r.accuracy for r in fig.TABLE2_REFERENCES}
    assert got == {  # the paper's Table 2 (CIFAR-10, rho = 0.6) and the [Re]'s, as published
        ("paper", "CIFAR-10", "ce", 0.6): 40.6,
        ("paper", "CIFAR-10", "phuber_ce", 0.6): 72.2,
        ("[Re]", "CIFAR-10", "ce", 0.6): 44.0,
        ("[Re]", "CIFAR-10", "phuber_ce", 0.6): 73.2,
    }
    assert fig.RE_MNIST_FLOOR == 97.5
    md = fig.references_to_markdown()
    assert "40.6" in md and "73.2" in md and "97.5" in md


def test_compare_with_references(smoke):
    r, _ = smoke
    md = fig.compare_with_references(r)
    assert "| PHuber-CE minus CE at rho=0.6 (points) | 31.6 | 29.2 |" in md  # 72.2 - 40.6, 73.2 - 44.0
    ours = 100 * (r.mean[r.losses.index("phuber_ce"), 3] - r.mean[r.losses.index("ce"), 3])
    assert f"| {ours:.1f} |" in md


def test_markdown_memorised(smoke):
    r, _ = smoke
    md = fig.table2_to_markdown(r, quantity="memorised")
    rows = [ln for ln in md.splitlines()[2:] if ln.startswith("| ")]
    assert all(ln.split(" | ")[1] == "--" for ln in rows)  # nothing is flipped at rho = 0
    assert "**" not in md and "Flipped training labels" in md
    with pytest.raises(ValueError, match="quantity"):
        fig.table2_to_markdown(r, quantity="loss")


def test_json_inverse(smoke):
    r, _ = smoke
    back = t2.table2_from_json(json.loads(json.dumps(t2.table2_to_json(r), allow_nan=False)))
    assert back.config == r.config and back.seed == r.seed and back.rhos == r.rhos
    for name in ("accuracy", "memorised", "clipped_fraction"):
        np.testing.assert_array_equal(getattr(back, name), getattr(r, name))  # NaN == NaN here
    assert np.all(np.isnan(back.run_seconds)) and back.timings == {}  # wall times are not stored
    assert back.chosen_tau == r.chosen_tau and back.tau_validation == r.tau_validation
    assert fig.table2_to_markdown(back) == fig.table2_to_markdown(r)


def test_figure_command_writes_png_json_and_markdown(tmp_path):
    """table2_mnist through the figure command: PNG, JSON and the Markdown table, re-plottable."""
    import json
    import subprocess
    import sys

    from sandbox.figures import get_figure

    proc = subprocess.run(
        [sys.executable, "-m", "sandbox", "figures", "table2_mnist", "--preset", "smoke", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for suffix in (".png", ".json", ".md"):
        assert (tmp_path / f"table2_mnist{suffix}").stat().st_size > 0
    data = json.loads((tmp_path / "table2_mnist.json").read_text())
    md = (tmp_path / "table2_mnist.md").read_text()
    assert md.startswith("| loss | rho=0 | rho=0.2 | rho=0.4 | rho=0.6 |")
    assert md.strip() == data["markdown"].strip()
    assert data["meta"]["preset"]["name"] == "smoke"
    assert get_figure("table2_mnist").plot(data).axes  # re-plots from the JSON alone


# Measured with this configuration (base seeds 0, 1, 2; 3 trials each): CE 0.615 / 0.584 / 0.621,
# PHuber-CE 0.799 / 0.807 / 0.792 at rho = 0.6; the per-trial gap was 0.15-0.25 in all 9 trials
# (smallest 0.152). The test asks for 0.10 in every trial of base seed 0: a fail means the claim broke.
CLAIM = t2.Table2Config(train=TrainConfig(epochs=20, batch_size=32, optimizer="adam", lr=1e-3), model="mlp",
                        hidden=64, rhos=(0.6,), seeds=3, taus=(2.0,), n_train=2000, n_test=500, n_val=300,
                        losses=("ce", "phuber_ce"))


def test_table2_claim_at_ci_size_phuber_ce_beats_ce_at_rho_06():
    """Paper Table 2: with symmetric noise at rho = 0.6, CE degrades and PHuber-CE (tau = 2) holds up."""
    r = t2.run_table2(CLAIM, seed=0)
    ce, phuber = r.accuracy[r.losses.index("ce"), 0], r.accuracy[r.losses.index("phuber_ce"), 0]
    assert np.all(phuber - ce >= 0.10), (ce, phuber)
    assert phuber.mean() - ce.mean() >= 0.15


# ---------------------------------------------------------------------------------------------------
# Rows for the robust losses of the label-noise literature (every preset's table; the config default is the paper's)
# ---------------------------------------------------------------------------------------------------


def test_presets_have_the_papers_six_rows_then_the_robust_ones():
    assert t2.TABLE2_LOSSES == ("ce", "ce_clip", "linear", "gce", "phuber_ce", "phuber_gce")
    assert all(c.losses == ALL for c in t2.TABLE2_SIZES.values())
    assert t2.Table2Config().losses == t2.TABLE2_LOSSES
    assert set(t2.TABLE2_ROBUST_LOSSES) == set(t2.TABLE2_ROBUST_PARAMS)
    assert set(t2.TABLE2_LOSS_LABELS) == set(t2.TABLE2_LOSSES) | set(t2.TABLE2_ROBUST_LOSSES)


def test_robust_rows_use_the_registered_losses_with_their_parameters():
    for key in t2.TABLE2_ROBUST_LOSSES:
        loss, clip = t2._loss(key, SMOKE)
        assert not clip and loss == mc.make_multiclass_loss(key, **t2.TABLE2_ROBUST_PARAMS[key])


ROBUST_TINY = dataclasses.replace(TINY, losses=("ce", *t2.TABLE2_ROBUST_LOSSES))


def test_robust_rows_run_and_leave_the_other_rows_unchanged():
    r = t2.run_table2(ROBUST_TINY, seed=0)
    alone = t2.run_table2(dataclasses.replace(TINY, losses=("ce",)), seed=0)
    assert r.accuracy.shape == (5, 2, 1) and np.all((r.accuracy >= 0) & (r.accuracy <= 1))
    # each (rho, loss) run re-creates its training generator: another row cannot change CE's numbers
    np.testing.assert_array_equal(r.accuracy[0], alone.accuracy[0])
    assert r.label("sce") == "SCE (alpha=0.01, beta=1, A=-4)" and r.label("taylor_ce") == "Taylor-CE (k=2)"
    back = t2.table2_from_json(json.loads(json.dumps(t2.table2_to_json(r), allow_nan=False)))
    assert back.losses == r.losses and back.config == r.config
    assert "| LogitClip (delta=1) |" in fig.table2_to_markdown(r)
