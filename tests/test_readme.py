"""The README's code and numbers are what the package does today: its examples are run and compared."""

import contextlib
import io
import json
import re
from pathlib import Path

from sandbox.figures.sample_convergence import first_n_matching

README = Path(__file__).resolve().parents[1] / "README.md"


def _text() -> str:
    return README.read_text(encoding="utf-8")


def test_readme_example_prints_what_the_readme_says():
    m = re.search(r"```python\n(.*?)```\s*\nprints\s*\n\s*```text\n(.*?)```", _text(), re.S)
    assert m, "the README must hold a ```python example followed by 'prints' and its ```text output"
    code, expected = m.group(1), m.group(2)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md example", "exec"), {})
    assert out.getvalue().strip() == expected.strip()


def test_readme_api_in_one_screen_runs():
    block = re.search(r"## The API in one screen\s*\n\s*```python\n(.*?)```", _text(), re.S)
    assert block, "the README must hold an 'API in one screen' section with a python block"
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(block.group(1), "README.md API", "exec"), {})


def test_readme_states_the_two_commands_and_ci_runs_the_test_command():
    text = _text()
    assert "pip install -r requirements.txt && python -m sandbox figures" in text
    assert "python -m pytest -q" in text and "python -m venv" in text
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pip install -q -r requirements.txt" in ci and "python -m pytest -q" in ci
    assert "-e ." in (README.parent / "requirements.txt").read_text()  # the install installs the package


def _fig(name: str) -> dict:
    return json.loads((README.parent / "figures" / f"{name}.json").read_text())


def _brk(block: dict, key: str, value: float):
    return block["break_rho"][min(range(len(block[key])), key=lambda i: abs(block[key][i] - value))]


def _agree(ps: dict, protocol: str) -> tuple[int, int]:
    a = ps["agreement"][protocol].values()
    return sum(m["agree"] for m in a), sum(m["cells"] for m in a)


def _first_n_all_match(name: str, rho: float) -> int:
    return first_n_matching(_fig("sample_convergence"), name, "converged", rho)


# every number the README quotes, next to the figure value it must equal (formatted as quoted)
QUOTED = [
    ("medians 0.524 and 0.506", lambda: "medians {:.3f} and {:.3f}".format(
        *(_fig("fig2a_long_servedio")["summary"][k]["median"] for k in ("logistic", "huberised")))),
    ("ρ = 0.2, 500 trials: PHuber ≥ 0.99 in every trial", lambda: "ρ = {:g}, {} trials: PHuber ≥ 0.99 in {}".format(
        _fig("fig2a_long_servedio")["params"]["rho"], _fig("fig2a_long_servedio")["params"]["trials"],
        "every trial" if _fig("fig2a_long_servedio")["summary"]["phuber"]["frac_success"] == 1.0 else "some trials")),
    ("breaks at ρ = 0.06–0.09", lambda: "breaks at ρ = {:g}–{:g}".format(
        min(_fig("phase_population")["huberised"]["break_rho"]), max(_fig("phase_population")["huberised"]["break_rho"]))),
    ("PHuber at τ = 1.36 holds to ρ = 0.48", lambda: "PHuber at τ = 1.36 holds to ρ = {:g}".format(
        round(_brk(_fig("phase_population")["phuber"], "tau", 1.36) - 0.01, 2))),
    ("236 of 286 cells agree under the paper's SLSQP, 263 under converged fits",
     lambda: "{} of {} cells agree under the paper's SLSQP, {} under converged fits".format(
         *_agree(_fig("phase_sample"), "slsqp"), _agree(_fig("phase_sample"), "converged")[0])),
    ("verdict in every trial from n = 1000 at ρ = 0.2, from n = 30000 at ρ = 0.45",
     lambda: "verdict in every trial from n = {} at ρ = 0.2, from n = {} at ρ = 0.45".format(
         _first_n_all_match("phuber", 0.2), _first_n_all_match("phuber", 0.45))),
    ("17 losses: symmetric ones never break", lambda: "{} losses: symmetric ones {} break".format(
        len(_fig("loss_atlas")["losses"]), "never" if all(
            v["population"]["break_rho"] is None for v in _fig("loss_atlas")["losses"].values()
            if v["family"] == "symmetric") else "DO")),
    ("convex potentials from ρ = 0.06", lambda: "convex potentials from ρ = {:g}".format(min(
        v["population"]["break_rho"] for v in _fig("loss_atlas")["losses"].values() if v["family"] == "convex_potential"))),
    ("breaks every loss by budget 0.15", lambda: "breaks every loss by budget {:g}".format(max(
        v["adversary"]["break_budget"] for v in _fig("loss_atlas")["losses"].values()))),
    ("from never (τ = 1.01) to 0.14 (τ = 1000)", lambda: "from {} (τ = {:g}) to {:g} (τ = {:g})".format(
        "never" if _fig("loss_atlas_hyper")["sweeps"]["phuber"]["break_rho"][0] is None else "?",
        _fig("loss_atlas_hyper")["sweeps"]["phuber"]["values"][0], _fig("loss_atlas_hyper")["sweeps"]["phuber"]["break_rho"][-1],
        _fig("loss_atlas_hyper")["sweeps"]["phuber"]["values"][-1])),
    ("PHuber's median is 1.000 up to ρ = 0.45", lambda: "PHuber's median is 1.000 up to ρ = {:g}".format(max(
        r for r, m in zip(_fig("noise_sweep")["rho"], _fig("noise_sweep")["methods"]["phuber"]["stats"]["median"])
        if all(x == 1.0 for x in _fig("noise_sweep")["methods"]["phuber"]["stats"]["median"][: _fig("noise_sweep")["rho"].index(r) + 1])))),
    ("breaks PHuber at budget 0.15", lambda: "breaks PHuber at budget {:g}".format(
        _fig("adversarial_flips")["break_budget"]["phuber"]["population_search"])),
    ("(a tie from 1/8)", lambda: "(a tie from 1/{:g})".format(
        1 / _fig("adversarial_flips")["break_budget"]["phuber"]["population_search_tie"])),
    ("below ρΔ(τ) at all 450 grid points", lambda: "below ρΔ(τ) at all {} grid points".format(
        sum(len(r) for r in _fig("calibration")["bound"]["excess"]) if _fig("calibration")["bound"]["holds"] else "NOT")),
    ("boundary (63.2°, 69.1°)", lambda: "boundary ({:.1f}°, {:.1f}°)".format(
        *(_fig("landscape")["losses"][k]["minimiser_angle_deg"] for k in ("logistic", "huberised")))),
    ("at ρ = 0.6 CE 63.2%, PHuber-CE 83.8%", lambda: "at ρ = 0.6 CE {:.1f}%, PHuber-CE {:.1f}%".format(
        *(100 * _fig("table2_mnist")["mean"][_fig("table2_mnist")["losses"].index(k)][-1] for k in ("ce", "phuber_ce")))),
]


def test_every_number_the_readme_quotes_is_the_committed_figures():
    text = _text()
    for quoted, computed in QUOTED:
        assert quoted in text, f"the README no longer says {quoted!r}: update QUOTED"
        assert computed() == quoted, (quoted, computed())


def test_readme_is_short_and_every_claim_test_exists():
    text = _text()
    assert len(text) < 12_000
    for path, name in re.findall(r"`(test_\w+\.py)::(\w+)`", text):
        assert f"def {name}(" in (README.parent / "tests" / path).read_text(), (path, name)
