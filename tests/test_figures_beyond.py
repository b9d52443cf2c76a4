"""The beyond-the-paper figures at the ``smoke`` size: their scientific content, JSON and plots.

Every figure is computed once per session (module fixture), then its numbers are checked against what
the theory decides. Cells are only asserted where the theory is unambiguous at smoke size (e.g. the
population phase map, which has no sampling noise).
"""

import json

import numpy as np
import pytest
from matplotlib.figure import Figure

from sandbox.adversary import adversarial_atom_flips, atom_flip_search
from sandbox.data import long_servedio
from sandbox.figures import get_figure
from sandbox.gd import clipped_direction, train_gd
from sandbox.io import dumps_json
from sandbox.linear import mean_grad
from sandbox.losses import huberised_logistic, logistic
from sandbox.metrics import SUCCESS
from sandbox.presets import get_preset
from sandbox.registry import make_loss
from sandbox.trials import long_servedio_trials
from sandbox.variants import per_atom_huberised, unit_norm

SMOKE = get_preset("smoke")
NAMES = ["clipping_variants", "phase_population", "phase_sample", "sample_convergence", "noise_sweep",
         "adversarial_flips", "calibration", "landscape"]
LS = long_servedio(gamma=1 / 24)


@pytest.fixture(scope="module")
def figs(smoke_figures):
    return smoke_figures


def _f(x):
    return np.array([np.nan if v is None else v for v in x], dtype=float)


# --------------------------------------------------------------------------------------------------
# registry, JSON, plots
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_json_and_plot(figs, name):
    data = figs[name]
    assert "meta" not in data and isinstance(data["report"], list) and "params" in data
    text = json.dumps(data, allow_nan=False)  # plain JSON numbers only (inf/NaN written as null)
    assert json.loads(dumps_json(data)) == json.loads(text)
    fig = get_figure(name).plot(json.loads(text))
    assert isinstance(fig, Figure)
    for ax in fig.axes:  # every panel is labelled (shared axes carry the axis label once; a title names it)
        assert ax.get_xlabel() or ax.get_ylabel() or ax.get_title()
    assert any(ax.get_ylabel() for ax in fig.axes) and any(ax.get_xlabel() for ax in fig.axes)


# --------------------------------------------------------------------------------------------------
# 1. clipping variants
# --------------------------------------------------------------------------------------------------


def test_clipping_variants_content(figs):
    d = figs["clipping_variants"]
    res = d["results"]
    prm = d["params"]
    assert prm["lr"] > 0 and prm["steps_gd"] > 0 and prm["steps_sgd"] > 0 and prm["batch_sizes"] == [1, 10, 100]
    # full-batch global clipping keeps GD's direction, hence its fixed point
    assert d["gd_vs_global_full_max_angle_diff_deg"] < 1e-3
    assert res["global_full"]["frac_clipped"] > 0  # ... although it did clip
    # the population predictions the theory decides (Long & Servedio atoms, rho = 0.2)
    pop = {k: res[k]["population"] for k in res}
    assert pop["none"]["clean_accuracy"] == 0.5 and pop["global_full"]["clean_accuracy"] == 0.5
    assert pop["loss"]["clean_accuracy"] == 0.5  # Huberised: Prop. 4
    assert pop["composite"]["clean_accuracy"] == 1.0  # PHuber: Prop. 7
    assert pop["per_example_raw"]["clean_accuracy"] == 1.0  # Lemma 1 clips only the large-margin atom
    assert pop["global_b10"] is None and pop["global_b100"] is None  # no equivalent loss
    # samples: L-clipping fails and CL-clipping succeeds in every trial
    assert max(res["loss"]["test_accuracy"]) < 0.7
    assert min(res["composite"]["test_accuracy"]) >= SUCCESS
    assert min(res["per_example_unit"]["test_accuracy"]) >= SUCCESS
    # converged fits of the equivalent margin loss: exactly where one exists, and GD reaches them where
    # the minimiser is finite (200 steps leave L-clipping's flat Huberised risk ~0.06 deg short)
    conv = {k: res[k]["converged"] for k in res}
    assert {k for k, c in conv.items() if c is not None} == {"none", "global_full", "per_example_unit", "none_unit",
                                                           "loss", "composite"}
    assert conv["loss"]["loss"] == "huberised" and conv["composite"]["loss"] == "phuber"
    for k in ("none", "global_full", "per_example_unit", "none_unit"):
        assert conv[k]["frac_unbounded"] == 0.0 and conv[k]["max_angle_diff_deg"] < 1e-3, k
    assert conv["loss"]["max_angle_diff_deg"] < 0.2
    # PHuber's minimiser is at infinity on these samples: GD only drifts towards it, the verdicts agree
    assert conv["composite"]["frac_unbounded"] == 1.0
    assert min(conv["composite"]["test_accuracy"]) >= SUCCESS


def test_sample_loss_matches_the_population_loss():
    from sandbox.variants import clipping_variants, population_loss, sample_loss

    for v in clipping_variants(tau_norm=0.26, tau_global=0.01, tau_huberised=0.26, tau_phuber=1.36):
        loss, pop = sample_loss(v), population_loss(v, LS)
        if loss is None:
            continue
        assert pop is not None, v.name
        z = np.linspace(-3, 3, 39).reshape(13, 3)  # the last axis indexes the atoms (per-atom thresholds)
        for a, b in zip(loss(z), pop[0](z)):  # values and derivatives
            np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=v.name)


def test_full_batch_clipped_gd_moves_along_gd():
    """Every step of full-batch global clipping is parallel to the GD step; both reach the same point."""
    tr = long_servedio_trials(trials=3, n_train=200, n_test=10, rho=0.2, rng=3)
    loss = make_loss("logistic")
    theta = np.random.default_rng(0).normal(size=(3, 2))
    g, _, _ = clipped_direction(loss, theta, tr.X_train, tr.y_train, clip="none")
    gc, _, was = clipped_direction(loss, theta, tr.X_train, tr.y_train, clip="global", tau=1e-3)
    assert np.all(was == 1.0)
    cos = np.sum(g * gc, axis=1) / np.linalg.norm(g, axis=1) / np.linalg.norm(gc, axis=1)
    np.testing.assert_allclose(cos, 1.0, rtol=1e-14)
    a = train_gd(loss, tr.X_train, tr.y_train, lr=30, steps=300, record_every=0).theta
    b = train_gd(loss, tr.X_train, tr.y_train, lr=30, steps=300, clip="global", tau=0.01, record_every=0).theta
    np.testing.assert_allclose(np.arctan2(a[:, 1], a[:, 0]), np.arctan2(b[:, 1], b[:, 0]), atol=1e-6)


def test_per_example_clipping_on_unit_norm_features_is_l_clipping():
    """Lemma 1 with ||x|| = 1: the two trainers take the same steps (up to rounding)."""
    tr = long_servedio_trials(trials=2, n_train=100, n_test=10, rho=0.2, rng=1)
    X = unit_norm(tr.X_train)
    loss = make_loss("logistic")
    a = train_gd(loss, X, tr.y_train, lr=5, steps=50, clip="per_example", tau=0.26, record_every=0).theta
    b = train_gd(loss, X, tr.y_train, lr=5, steps=50, clip="loss", tau=0.26, record_every=0).theta
    np.testing.assert_allclose(a, b, rtol=1e-10)


def test_per_atom_huberised_is_lemma_1():
    # equal thresholds: the Huberised loss; thresholds >= 1: logistic
    z = np.linspace(-20, 20, 401)[:, None] * np.ones(3)
    v, d = per_atom_huberised(np.full(3, 0.26))(z)
    vh, dh = huberised_logistic(z, tau=0.26)
    np.testing.assert_allclose(v, vh, rtol=1e-14)
    np.testing.assert_array_equal(d, dh)
    v, d = per_atom_huberised(np.full(3, 1.5))(z)
    np.testing.assert_allclose(v, logistic(z)[0], rtol=1e-14)
    # on the atoms (one example each), per-example clipping's mean gradient is this loss's gradient
    tau = 0.1
    norms = np.linalg.norm(LS.atoms, axis=1)
    theta = np.array([0.3, -2.0])
    loss = make_loss("logistic")
    gc, _, _ = clipped_direction(loss, theta, LS.atoms, LS.labels, clip="per_example", tau=tau)
    g = mean_grad(per_atom_huberised(tau / norms), theta, LS.atoms, LS.labels)
    np.testing.assert_allclose(gc, g, rtol=1e-13)


# --------------------------------------------------------------------------------------------------
# 2-3. phase maps
# --------------------------------------------------------------------------------------------------


def _row(block, key, tau):
    i = int(np.argmin(np.abs(np.asarray(block[key]) - tau)))
    assert block[key][i] == pytest.approx(tau)
    return i


def test_phase_population_cells_the_theory_decides(figs):
    d = figs["phase_population"]
    rho = np.asarray(d["rho"])
    # logistic fails for gamma = 1/24 and rho >= 0.1 (Long & Servedio), succeeds without noise
    acc = np.asarray(d["logistic"]["clean_accuracy"])
    assert np.all(acc[rho >= 0.1] == 0.5) and acc[rho == 0][0] == 1.0
    # the same row appears in the gamma map
    g = d["logistic_gamma"]
    np.testing.assert_array_equal(np.asarray(g["clean_accuracy"])[_row(g, "gamma", 1 / 24)], acc)
    # PHuber with tau = 1.36 succeeds for every rho up to 0.45
    ph = d["phuber"]
    row = np.asarray(ph["clean_accuracy"])[_row(ph, "tau", 1.36)]
    assert np.all(row[rho <= 0.45] == 1.0)
    # the Huberised loss at 0.26 fails like logistic from rho = 0.1 (Prop. 4)
    h = d["huberised"]
    row = np.asarray(h["clean_accuracy"])[_row(h, "tau", 0.26)]
    assert np.all(row[rho >= 0.1] == 0.5)
    # a larger gamma (0.12) defeats no rho for logistic: the construction needs a small gamma
    assert g["break_rho"][_row(g, "gamma", 0.12)] is None
    # below the Prop. 7 corollary's guaranteed rho every PHuber cell is perfect
    from sandbox.calibration import guaranteed_rho

    for t, accrow in zip(ph["tau"], ph["clean_accuracy"]):
        assert np.all(np.asarray(accrow)[rho < guaranteed_rho(t, min_weight=0.25)] == 1.0), t
    # smaller tau makes PHuber break later (monotone on this grid)
    b = _f(ph["break_rho"])
    b = np.where(np.isnan(b), 1.0, b)
    assert np.all(np.diff(b) <= 0)


def test_phase_sample_matches_the_population(figs):
    d = figs["phase_sample"]
    pop = figs["phase_population"]
    rho = np.asarray(d["rho"])
    assert d["params"]["trials_per_cell"] == 4
    assert np.shape(d["huberised"]["median_nit"]) == np.shape(d["huberised"]["median"])  # SLSQP iterations kept
    ph = d["phuber"]
    med = np.asarray(ph["median"])[_row(ph, "tau", 1.36)]
    assert np.all(med[rho <= 0.3] >= SUCCESS)
    lg = np.asarray(d["logistic"]["median"])
    assert np.all(lg[rho >= 0.1] < 0.9)
    # the boundary drawn on top is the population's (same grid, same rows)
    assert d["logistic"]["population_break_rho"] == pop["logistic"]["break_rho"]
    i = _row(pop["phuber"], "tau", 1.36)
    assert ph["population_break_rho"][_row(ph, "tau", 1.36)] == pop["phuber"]["break_rho"][i]
    assert np.shape(d["phuber"]["converged"]["median"]) == np.shape(d["phuber"]["median"])


def test_phase_sample_agreement_recount(figs):
    d = figs["phase_sample"]
    rho = np.asarray(d["rho"])
    for proto, pick in (("slsqp", lambda b: b["median"]), ("converged", lambda b: b["converged"]["median"])):
        for m in ("huberised", "phuber", "logistic_gamma"):
            med = np.atleast_2d(pick(d[m]))
            brk = _f(np.atleast_1d(np.asarray(d[m]["population_break_rho"], dtype=object)))
            pop_ok = rho[None, :] < np.where(np.isnan(brk), np.inf, brk)[:, None]
            a = d["agreement"][proto][m]
            assert a["cells"] == med.size and a["agree"] == int(np.sum((med >= SUCCESS) == pop_ok)), (proto, m)
            assert len(a["samples_succeed_population_fails"]) == int(np.sum((med >= SUCCESS) & ~pop_ok))
            assert a["agree"] + len(a["samples_succeed_population_fails"]) + len(
                a["samples_fail_population_succeeds"]) == a["cells"]


# --------------------------------------------------------------------------------------------------
# 4. noise sweep
# --------------------------------------------------------------------------------------------------


def test_noise_sweep(figs):
    d = figs["noise_sweep"]
    rho = list(d["rho"])
    m = d["methods"]
    losses = {"logistic", "huberised", "phuber"}
    assert set(m) == losses | {f"{k}_converged" for k in losses} | {"per_example_raw", "global_b1", "global_b10"}
    assert {k for k, v in m.items() if v["kind"] == "loss_converged"} == {f"{k}_converged" for k in losses}
    for k, v in m.items():
        st = v["stats"]
        assert st["median"][rho.index(0.0)] == 1.0, k
        assert np.all(np.asarray(st["q25"]) <= np.asarray(st["median"]))
        assert np.all(np.asarray(st["median"]) <= np.asarray(st["q75"]))
    i = rho.index(0.2)
    assert m["phuber"]["stats"]["median"][i] == 1.0
    assert m["logistic"]["stats"]["median"][i] < 0.7
    assert m["phuber_converged"]["stats"]["median"][i] == 1.0
    assert m["logistic_converged"]["stats"]["median"][i] < 0.7
    assert m["per_example_raw"]["lr"] == 30.0 and m["global_b10"]["batch_size"] == 10


# --------------------------------------------------------------------------------------------------
# 5. adversarial flips
# --------------------------------------------------------------------------------------------------


def test_adversary_never_weaker_than_symmetric(figs):
    d = figs["adversarial_flips"]
    b = np.asarray(d["budgets"])
    for name, r in d["results"].items():
        sym = np.asarray(r["population_symmetric"]["clean_accuracy"])
        assert np.all(np.asarray(r["population_search"]["clean_accuracy"]) <= sym), name
        assert np.all(np.asarray(r["population_search"]["used_budget"]) <= b + 1e-12)
        # with no budget nothing changes; the clean minimiser classifies every atom
        assert r["population_search"]["clean_accuracy"][0] == 1.0
        for s in d["sample_strategies"]:
            assert r[s]["stats"]["median"][0] == 1.0
            assert r[s]["converged"]["stats"]["median"][0] == 1.0
            assert np.shape(r[s]["converged"]["test_accuracy"]) == np.shape(r[s]["test_accuracy"])
        for s in d["sample_strategies"]:  # a break per protocol, from that protocol's medians
            conv = _f(r[s]["converged"]["stats"]["median"])
            low = np.flatnonzero(conv < SUCCESS)
            assert d["break_budget"][name][f"{s}_converged"] == (float(b[low[0]]) if low.size else None)
    # exact budgets for the symmetric and largest-margin flips (round(rho n) labels)
    n = d["params"]["n_train"]
    for s in ("symmetric", "largest_margin"):
        np.testing.assert_allclose(d["realised_flip_fraction"][s], np.round(b * n) / n, atol=1e-12)
    # wherever the corollary guarantees PHuber, the adversary's flips leave every atom correct
    ph = d["results"]["phuber"]
    for key in ("population_search", "population_search_majority"):
        g = np.asarray(ph[key]["guaranteed"], dtype=bool)
        assert np.all(np.asarray(ph[key]["clean_accuracy"])[g] == 1.0)
    # logistic breaks at the smallest nonzero budget under the adversary; PHuber survives symmetric flips
    assert d["results"]["logistic"]["population_search"]["clean_accuracy"][1] < 1.0
    assert d["break_budget"]["phuber"]["population_symmetric"] is None


def test_sample_convergence(figs):
    from sandbox.converged import fit_converged
    from sandbox.figures.sample_convergence import cell_draws, convergence_cell
    from sandbox.linear import accuracy
    from sandbox.population import minimise_population_risk
    from sandbox.registry import paper_losses

    d = figs["sample_convergence"]
    rho, ns = np.asarray(d["rho"]), d["n_train"]
    losses = paper_losses(tau_huberised=SMOKE.tau_huberised, tau_phuber=SMOKE.tau_phuber)
    for name, loss in losses.items():
        r = d["results"][name]
        np.testing.assert_array_equal(r["population_accuracy"],
                                      minimise_population_risk(loss, LS, rho=rho).clean_accuracy)
        for proto in ("converged", "slsqp"):
            match = np.asarray(r[proto]["match"])
            assert match.shape == (rho.size, len(ns)) and np.all((match >= 0) & (match <= 1))
    # the population verdicts the figure is about: logistic fails and PHuber succeeds at every rho here
    assert not any(a == 1.0 for a in d["results"]["logistic"]["population_accuracy"])
    assert all(a == 1.0 for a in d["results"]["phuber"]["population_accuracy"])
    # one cell recomputed from its own draws: converged accuracies -> the fraction stored
    cell = (float(rho[0]), ns[-1], d["trials"][-1], d["params"]["n_test"], SMOKE.gamma, SMOKE.sigma,
            (SMOKE.tau_huberised, SMOKE.tau_phuber), 0, SMOKE.slsqp_maxiter)
    draws = cell_draws(cell)
    other = cell_draws(cell[:1] + (ns[-2],) + cell[2:])  # another n: other draws, not a prefix of these
    assert not np.array_equal(other.X_train[:, :5], draws.X_train[:, :5])
    acc = accuracy(fit_converged(losses["phuber"], draws.X_train, draws.y_train).theta, draws.X_test, draws.y_test)
    np.testing.assert_array_equal(acc, convergence_cell(cell)["phuber"]["converged"])
    assert d["results"]["phuber"]["converged"]["match"][0][-1] == np.mean(acc >= SUCCESS)


@pytest.mark.parametrize("loss", [make_loss("logistic"), make_loss("phuber", tau=1.36)])
def test_vectorised_search_equals_the_core_adversary(loss):
    budgets = [0.1, 0.2]
    mine = atom_flip_search(loss, LS, budgets, resolution=0.25)
    for j, rho in enumerate(budgets):
        core = adversarial_atom_flips(loss, LS, rho=rho, resolution=0.25)
        assert mine["clean_accuracy"][j] == core.clean_accuracy
        np.testing.assert_array_equal(mine["flip"][j], core.flip)
        assert mine["n_candidates"][j] == core.n_candidates


# --------------------------------------------------------------------------------------------------
# 6-7. calibration and landscape
# --------------------------------------------------------------------------------------------------


def test_calibration_figure(figs):
    d = figs["calibration"]
    bd = d["bound"]
    assert bd["holds"] is True
    excess = np.array(bd["excess"], dtype=float)
    bound = np.array(bd["bound"], dtype=float)
    assert np.all(excess <= bound + 1e-12)  # Prop. 7 at every grid point
    assert max(d["minimiser"]["max_abs_diff_brute_force"]) < 1e-6
    np.testing.assert_allclose(bd["delta"], bd["delta_brute_force"], rtol=1e-9)


def test_landscape(figs):
    d = figs["landscape"]
    geo = d["geometry"]
    L = d["losses"]
    for name in ("logistic", "huberised"):
        a = L[name]["minimiser_angle_deg"]
        # the convex losses tilt past the penalizer boundary, towards (not beyond) the puller
        assert geo["penalizer_boundary_deg"] < a < geo["puller_deg"]
        assert L[name]["clean_accuracy"] == 0.5
        pulls = np.asarray(L[name]["pulls_at_45"])
        assert pulls.sum() < 0  # at 45 degrees the risk still decreases with the angle
        assert pulls[1] < 0 < pulls[2]  # the puller pulls on, the penalizer pushes back
    ph = L["phuber"]
    assert geo["puller_boundary_deg"] < ph["minimiser_angle_deg"] < geo["penalizer_boundary_deg"]
    assert ph["clean_accuracy"] == 1.0
    # the profile (grid over angles and radii) never beats the refined minimiser by more than its resolution
    for name, o in L.items():
        assert min(_f(o["noisy_profile"])) >= o["minimiser_risk"] - 1e-3, name
