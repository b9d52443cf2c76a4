"""The robust-loss atlas (:mod:`sandbox.atlas`, figures ``loss_atlas`` and ``loss_atlas_hyper``).

* Every registered loss's population verdict, at several (rho, gamma) cells, against a brute-force
  minimisation over directions and radii written here (not the package's minimiser), with the limit at
  infinite radius evaluated from ``phi(+-inf)`` and ties treated as ties.
* The symmetry check against closed forms (the constants of the symmetric losses; PHuber's deviation is
  Prop. 7's ``Delta``), and at its edges (a perturbation of 1e-6; a loss constant to rounding on
  ``|z| <= 1e6`` that is not symmetric).
* What theory decides: symmetric losses never break under symmetric noise; the noisy risk of a symmetric
  loss is affine in the clean risk; the squared loss's verdict does not depend on rho; PHuber's break rho
  does not increase with tau (its Prop. 7 guarantee shrinks as tau grows).
* The figures at the smoke preset: plain JSON, labelled plots, the samples equal to Fig. 2a's.
* The numbers the notebook quotes, against the committed figures' JSON.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from sandbox import atlas
from sandbox import calibration as cal
from sandbox.data import long_servedio
from sandbox.figures import get_figure
from sandbox.io import dumps_json
from sandbox.population import population_risk
from sandbox.presets import get_preset
from sandbox.registry import LOSS_NAMES, MarginLoss, make_loss

SMOKE = get_preset("smoke")
SETTINGS = atlas.atlas_settings(tau_huberised=0.26, tau_phuber=1.36)
ROOT = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------------------------------
# population verdicts against a brute force written here
# --------------------------------------------------------------------------------------------------

CELLS = [(0.0, 1 / 24), (0.2, 1 / 24), (0.45, 1 / 24), (0.3, 0.1)]  # (rho, gamma)
ANGLES = np.linspace(-np.pi, np.pi, 2880, endpoint=False)  # 0.125 degrees
RADII = np.logspace(-2, 5, 281)


def _brute(loss, gamma, rhos):
    """For each rho: the minimal risk over the (angle, radius) grid and its limits at r = inf, and the
    lowest risk of every clean accuracy the atoms' sign patterns allow (a dict accuracy -> risk).

    The limit at infinity along ``u`` is ``sum_i w_i [(1 - rho) phi(s_i inf) + rho phi(-s_i inf)]`` with
    ``s_i = sign(<u, y_i x_i>)`` (a zero weight times an infinite value counts 0). For the unhinged loss
    every direction with a positive noisy mean margin has limit ``-inf`` (all tie at ``-inf``); the atlas,
    like van Rooyen et al., takes the minimiser under a norm bound, so the limit is left out and the grid's
    largest radius stands for the bound."""
    atoms = np.array([[1.0, 0.0], [gamma, 5 * gamma], [gamma, -gamma]])  # Long & Servedio, labels +1
    w = np.array([0.25, 0.25, 0.5])
    u = np.stack([np.cos(ANGLES), np.sin(ANGLES)], -1)
    m = u @ atoms.T  # (A, 3) margins of the unit direction
    z = RADII[:, None, None] * m[None]  # (R, A, 3)
    vp, vm = loss(z)[0], loss(-z)[0]
    s = np.sign(m)
    acc = ((s > 0) + 0.5 * (s == 0)) @ w  # (A,) clean accuracy of each direction
    lim = np.asarray(loss(np.array([np.inf, -np.inf, 0.0]))[0], float)
    phi_s = np.where(s > 0, lim[0], np.where(s < 0, lim[1], lim[2]))  # phi(s_i inf)
    phi_ms = np.where(s > 0, lim[1], np.where(s < 0, lim[0], lim[2]))  # phi(-s_i inf)
    out = []
    for rho in rhos:
        risk = ((1 - rho) * vp + rho * vm) @ w  # (R, A)
        best = risk.min(axis=0)
        if loss.name != "unhinged":
            with np.errstate(invalid="ignore"):
                terms = np.where(1 - rho > 0, (1 - rho) * phi_s, 0.0) + np.where(rho > 0, rho * phi_ms, 0.0)
            best = np.minimum(best, terms @ w)
        by_acc = {float(a): float(best[acc == a].min()) for a in np.unique(acc)}
        out.append((float(best.min()), by_acc))
    return out


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_population_verdict_matches_a_brute_force_search(name):
    loss = make_loss(name, **SETTINGS[name])
    for gamma in sorted({g for _, g in CELLS}):
        rhos = [r for r, g in CELLS if g == gamma]
        v = atlas.population_verdict(loss, gamma=gamma, rho=rhos)
        for k, (rho, (fmin, by_acc)) in enumerate(zip(rhos, _brute(loss, gamma, rhos))):
            scale = max(1.0, abs(fmin))
            # the package's minimum is at least as low as every grid point and limit (it is a minimiser)
            assert v.risk[k] <= fmin + 1e-12 * scale, (name, rho, gamma, v.risk[k], fmin)
            # accuracies whose best grid risk is (to the grid's resolution) the minimum: the brute force's
            # verdict; a tie when several accuracies reach it
            grid_tol = 1e-9 * scale
            winners = [a for a, f in by_acc.items() if f <= fmin + grid_tol]
            lo, hi = v.accuracy_low[k], v.accuracy[k]
            assert lo <= min(winners) and max(winners) <= hi, (name, rho, gamma, winners, lo, hi, by_acc)
            if lo == hi:  # no tie: the brute force's verdict is unique and is the package's
                assert winners == [hi], (name, rho, gamma, by_acc)
                runner_up = min((f for a, f in by_acc.items() if a != hi), default=np.inf)
                assert runner_up > fmin + grid_tol  # decisive on this grid, not by rounding
            else:  # a tie: the brute force reaches both ends within rounding
                assert by_acc.get(lo, np.inf) <= fmin + grid_tol and by_acc.get(hi, np.inf) <= fmin + grid_tol


def test_a_tie_is_reported_as_a_tie_by_both_searches():
    """Half the puller flipped (f = (0, 1/2, 0)): its noisy term (phi(z) + phi(-z)) / 2 is even in its margin
    and smallest at z = 0 (PHuber's S(u) is minimal at u = 1/2). The infimum w_puller phi(0) is approached at
    infinite radius along the puller's own decision line, where the other atoms' losses vanish and the puller's
    margin stays 0: from either side of that line, so with the puller right or wrong -- a tie, accuracy 0.75 or 1."""
    from sandbox.population import minimise_population_risk

    phuber = make_loss("phuber", tau=1.36)
    fit = minimise_population_risk(phuber, long_servedio(), flip=np.array([0.0, 0.5, 0.0]))
    assert fit.tie and tuple(fit.accuracy_range) == (0.75, 1.0)
    phi0 = -1.36 * 0.5 + np.log(1.36) + 1  # Eq. 12 at p = 1/2 <= 1/tau: the linear piece
    assert float(phuber.value(np.array([0.0]))[0]) == pytest.approx(phi0, rel=1e-15)
    assert float(fit.risk) == pytest.approx(0.25 * phi0, rel=1e-9)  # reached to rounding along the line
    adv = atlas.adversary_verdict(make_loss("phuber", tau=1.36), gamma=1 / 24, budgets=[0.1, 0.125, 0.15],
                                  levels=(0.0, 0.5, 0.6))
    assert adv.tie_budget == 0.125 and adv.break_budget == 0.15  # the tie is not counted as a break
    np.testing.assert_allclose(adv.break_flip, [0.0, 0.6, 0.0])


# --------------------------------------------------------------------------------------------------
# the symmetry check
# --------------------------------------------------------------------------------------------------

SYMMETRIC = {  # (name, params): phi(z) + phi(-z), derived by hand from the formulas in sandbox.robust_losses
    ("linear", ()): 1.0,  # (1 - p) + p
    ("ramp", ()): 2.0,  # (1 - z)_+ - (-1 - z)_+ summed at z and -z
    ("unhinged", ()): 2.0,  # (1 - z) + (1 + z)
    ("nce", ()): 1.0,  # a / (a + b) + b / (a + b)
    ("nce_mae", (("alpha", 2.0), ("beta", 3.0))): 5.0,  # alpha + beta
    ("nce_rce", (("alpha", 1.0), ("beta", 2.0), ("A", -4.0))): 9.0,  # alpha - A beta
    ("sce", (("alpha", 0.0), ("beta", 1.0), ("A", -4.0))): 4.0,  # -A beta (alpha = 0: RCE alone)
    ("taylor_ce", (("k", 1.0),)): 1.0,  # k = 1 is the linear loss
    ("gce", (("q", 1.0),)): 1.0,  # q = 1: (1 - p) + p
}


@pytest.mark.parametrize("key", SYMMETRIC, ids=lambda k: k[0])
def test_symmetric_losses_have_their_constant(key):
    name, params = key
    c = atlas.symmetry_check(make_loss(name, **dict(params)))
    assert c.symmetric and c.constant == pytest.approx(SYMMETRIC[key], rel=1e-14)
    assert c.deviation <= 4 * np.finfo(float).eps


def test_the_atlas_settings_split_into_symmetric_and_not_as_their_formulas_say():
    sym = {n for n, p in SETTINGS.items() if atlas.symmetry_check(make_loss(n, **p)).symmetric}
    assert sym == {"linear", "ramp", "unhinged", "nce", "nce_mae", "nce_rce"}


@pytest.mark.parametrize("tau", [1.01, 1.36, 1.9])
def test_phuber_deviates_from_symmetry_by_prop7_delta(tau):
    """PHuber's phi(z) + phi(-z) = S(sigmoid z) runs from S(1/2) = 2 phi(0) at z = 0 to S(0) = 1 + log tau at
    |z| = inf (tau <= 2), so the largest deviation is Delta(tau), relative to |phi(inf)| + |phi(-inf)| = 1 + log tau."""
    c = atlas.symmetry_check(make_loss("phuber", tau=tau))
    assert not c.symmetric
    assert c.deviation == pytest.approx(float(cal.phuber_log_delta(tau)) / (1 + np.log(tau)), rel=1e-9)


def test_symmetry_check_at_its_edges():
    def bent(eps):
        return MarginLoss("bent", lambda z: (1 - np.tanh(np.asarray(z, float)) + eps * np.logaddexp(0, -np.asarray(z, float)),
                                            np.zeros_like(np.asarray(z, float))))

    assert atlas.symmetry_check(bent(0.0)).symmetric  # 1 - tanh(z): symmetric, constant 2
    assert atlas.symmetry_check(bent(0.0)).constant == 2.0
    assert not atlas.symmetry_check(bent(1e-6)).symmetric  # 1e-6 logistic added: not symmetric
    # log 2 to rounding for |z| <= 1e6 (sigma_t'(0) = 2^-51), not symmetric: the check looks up to 1e300
    t50 = make_loss("t_logistic", t=50.0)
    z = np.logspace(-3, 6, 50)
    assert np.all(t50.value(z) + t50.value(-z) == 2 * np.log(2))
    assert not atlas.symmetry_check(t50).symmetric
    assert not atlas.symmetry_check(make_loss("squared")).symmetric  # 2 + 2 z^2, and inf at 1e300


# --------------------------------------------------------------------------------------------------
# what theory decides
# --------------------------------------------------------------------------------------------------

RHO = np.round(np.arange(0.0, 0.495, 0.01), 2)


@pytest.mark.parametrize("name", ["linear", "ramp", "unhinged", "nce", "nce_mae", "nce_rce"])
def test_symmetric_losses_never_break_and_their_noisy_risk_is_affine_in_the_clean_risk(name):
    """phi(z) + phi(-z) = C gives R_rho = (1 - 2 rho) R_0 + rho C: the same minimisers for every rho < 1/2."""
    loss = make_loss(name, **SETTINGS[name])
    ls = long_servedio(gamma=1 / 24)
    C = atlas.symmetry_check(loss).constant
    theta = np.random.default_rng(1).normal(scale=5.0, size=(50, 2))
    for rho in (0.1, 0.3, 0.45):
        lhs = population_risk(loss, theta, ls, rho=rho)
        rhs = (1 - 2 * rho) * population_risk(loss, theta, ls, rho=0.0) + rho * C
        np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-12)
    v = atlas.population_verdict(loss, gamma=1 / 24, rho=RHO[::7])
    assert v.break_rho is None and v.tie_rho is None and np.all(v.accuracy == 1.0)


def test_squared_loss_verdict_does_not_depend_on_rho():
    """Noisy minimiser (1 - 2 rho) E[vv']^-1 E[v]: the same direction, so the same verdict, at every rho; on
    these atoms the clean one already misclassifies the penalizer."""
    v = atlas.population_verdict(make_loss("squared"), gamma=1 / 24, rho=RHO[::6])
    assert np.all(v.accuracy == 0.5) and v.break_rho == 0.0 and not v.tie.any()
    np.testing.assert_allclose(v.angle_deg, v.angle_deg[0], atol=1e-6)
    np.testing.assert_array_equal(v.atom_correct, np.tile([1.0, 1.0, 0.0], (v.rho.size, 1)))


def test_phuber_break_rho_does_not_increase_with_tau():
    taus = (1.01, 1.36, 2.0, 4.0, 10.0, 100.0, 1000.0)
    brk = [atlas.population_verdict(make_loss("phuber", tau=t), gamma=1 / 24, rho=RHO).break_rho for t in taus]
    b = [np.inf if x is None else x for x in brk]
    assert all(u >= v for u, v in zip(b, b[1:])), brk
    assert b[0] > b[-1]  # and it does fall: tau -> inf approaches logistic
    guarantee = cal.guaranteed_rho(np.array(taus), min_weight=0.25)  # Prop. 7 corollary: a lower bound
    assert all(g < x for g, x in zip(guarantee, b))


def test_convex_potentials_are_the_losses_long_and_servedio_defeat():
    fam = {n: atlas.loss_family(make_loss(n, **p), symmetric=atlas.symmetry_check(make_loss(n, **p)).symmetric)
           for n, p in SETTINGS.items()}
    assert {n for n, f in fam.items() if f == "convex_potential"} == {"logistic", "huberised"}
    assert fam["squared"] == "convex" and fam["unhinged"] == "symmetric"  # convex, but no potential
    assert {n for n, f in fam.items() if f == "unbounded"} == {"sce", "t_logistic"}
    for n in ("logistic", "huberised"):  # both fail on the construction at the preset's gamma
        assert atlas.population_verdict(make_loss(n, **SETTINGS[n]), gamma=1 / 24, rho=[0.2]).accuracy[0] == 0.5


def test_hyper_values_and_settings():
    assert atlas.hyper_values("phuber") == atlas.HYPER_SWEEPS["phuber"].values
    three = atlas.hyper_values("taylor_ce", points=3)
    assert three[0] == 1.0 and three[-1] == 64.0 and len(three) == 3
    assert set(atlas.atlas_settings(tau_huberised=0.1, tau_phuber=2.0)) == set(LOSS_NAMES)
    assert atlas.atlas_loss("phuber", tau_huberised=0.26, tau_phuber=1.36).label == "phuber (tau=1.36)"
    assert atlas.atlas_loss("gce", tau_huberised=0.26, tau_phuber=1.36, q=0.3).label == "gce (q=0.3)"
    for name, sw in atlas.HYPER_SWEEPS.items():  # every sweep value is a valid parameter
        for v in sw.values:
            make_loss(name, **{**SETTINGS[name], sw.param: v})


@pytest.mark.parametrize("call, exc, match", [
    (lambda: atlas.population_verdict(make_loss("logistic"), gamma=1 / 24, rho=[0.5]), ValueError, "rho=0.5"),
    (lambda: atlas.population_verdict(make_loss("logistic"), gamma=0.2, rho=[0.1]), ValueError, "gamma=0.2"),
    (lambda: atlas.population_verdict("logistic", gamma=1 / 24, rho=[0.1]), TypeError, "loss="),
    (lambda: atlas.symmetry_check("logistic"), TypeError, "loss="),
    (lambda: atlas.atlas_loss("hinge", tau_huberised=0.26, tau_phuber=1.36), ValueError, "name='hinge'"),
    (lambda: atlas.atlas_settings(tau_huberised=0.26, tau_phuber=1.0), ValueError, "tau_phuber=1.0"),
    (lambda: atlas.hyper_values("phuber", points=1), ValueError, "points=1"),
    (lambda: atlas.adversary_verdict(make_loss("logistic"), gamma=1 / 24, budgets=[1.5]), ValueError, "budgets=1.5"),
    (lambda: atlas.sample_verdicts(make_loss("logistic"), trials=0, n_train=10, n_test=10, rho=0.2, rng=0),
     ValueError, "trials=0"),
])
def test_bad_inputs_name_the_parameter(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --------------------------------------------------------------------------------------------------
# the figures at smoke size
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["loss_atlas", "loss_atlas_hyper"])
def test_json_and_plot(smoke_figures, name):
    data = smoke_figures[name]
    assert isinstance(data["report"], list) and "params" in data
    text = json.dumps(data, allow_nan=False)
    assert json.loads(dumps_json(data)) == json.loads(text)
    fig = get_figure(name).plot(json.loads(text))
    assert isinstance(fig, Figure)
    for ax in fig.axes:
        assert ax.get_xlabel() or ax.get_ylabel() or ax.get_title()
    assert any(ax.get_ylabel() for ax in fig.axes) and any(ax.get_xlabel() for ax in fig.axes)


def test_loss_atlas_content(smoke_figures):
    d = smoke_figures["loss_atlas"]
    L = d["losses"]
    assert sorted(d["order"]) == sorted(LOSS_NAMES)
    fams = [L[n]["family"] for n in d["order"]]
    assert fams == sorted(fams, key=list(d["families"]).index)  # grouped, in the families' order
    for n in d["order"]:
        r = L[n]
        assert (r["family"] == "symmetric") == r["symmetry"]["symmetric"]
        pop = r["population"]
        assert all(lo <= hi for lo, hi in zip(pop["accuracy_low"], pop["accuracy"]))
        if pop["break_rho"] is not None:
            assert pop["tie_rho"] is not None and pop["tie_rho"] <= pop["break_rho"]
        adv = r["adversary"]
        above = [b for b in d["budgets"] if pop["break_rho"] is not None and b >= pop["break_rho"]]
        if above:  # the adversary's candidates include symmetric noise at every budget
            assert adv["break_budget"] is not None and adv["break_budget"] <= min(above)
        s = r["samples"]["slsqp"]
        assert s["stats"]["n"] == SMOKE.trials == len(s["accuracy"])
        conv = r["samples"]["converged"]
        assert conv["available"] == (n not in ("sce", "t_logistic"))  # neither convex nor bounded at the setting
    assert d["params"]["settings"]["phuber"]["tau"] == SMOKE.tau_phuber


def test_loss_atlas_samples_are_fig2a_trials(smoke_figures):
    """The atlas's Fig. 2a part is the figure's experiment: the same trials, fits and accuracies."""
    L = smoke_figures["loss_atlas"]["losses"]
    f2a = smoke_figures["fig2a_long_servedio"]["test_accuracy"]
    conv = get_figure("fig2a_long_servedio").compute(SMOKE, seed=0, protocol="converged")["test_accuracy"]
    for name in ("logistic", "huberised", "phuber"):
        assert L[name]["samples"]["slsqp"]["accuracy"] == f2a[name]
        assert L[name]["samples"]["converged"]["accuracy"] == conv[name]


def test_loss_atlas_hyper_content(smoke_figures):
    d = smoke_figures["loss_atlas_hyper"]
    assert list(d["sweeps"]) == list(atlas.HYPER_SWEEPS)
    for name, s in d["sweeps"].items():
        assert s["values"] == list(atlas.hyper_values(name, points=3))
        assert s["param"] == atlas.HYPER_SWEEPS[name].param
    assert d["sweeps"]["phuber"]["trend"] == "non-increasing"
    for name in ("nce_mae", "nce_rce"):  # symmetric at every value: never break
        assert all(b is None for b in d["sweeps"][name]["break_rho"]) and all(d["sweeps"][name]["symmetric"])
    g = d["sweeps"]["gce"]
    assert g["symmetric"][-1] and g["break_rho"][-1] is None  # q = 1 is the linear loss


# --------------------------------------------------------------------------------------------------
# the notebook's numbers are the committed figures'
# --------------------------------------------------------------------------------------------------


def _fig(name):
    return json.loads((ROOT / "figures" / f"{name}.json").read_text())


def _notebook_text():
    nb = json.loads((ROOT / "notebooks" / "08_loss_atlas.ipynb").read_text())
    return " ".join(" ".join("".join(c["source"]).split()) for c in nb["cells"] if c["cell_type"] == "markdown")


def _atlas_quotes():
    """(text the notebook quotes, the same text computed from figures/loss_atlas*.json)."""
    a, h = _fig("loss_atlas"), _fig("loss_atlas_hyper")
    L = a["losses"]
    pop = {n: L[n]["population"] for n in L}
    st = {n: {k: L[n]["samples"][k].get("stats") for k in ("slsqp", "converged")} for n in L}
    ph = h["sweeps"]["phuber"]
    return [
        ("logistic breaks at ρ = {:g} and the Huberised loss at ρ = {:g}".format(
            pop["logistic"]["break_rho"], pop["huberised"]["break_rho"])),
        ("the squared loss fails at every ρ, ρ = 0 included (accuracy {:g})".format(pop["squared"]["accuracy"][0])),
        ("PHuber (τ = 1.36) holds to ρ = {:g}".format(round(pop["phuber"]["break_rho"] - 0.01, 2))),
        ("GCE {:g}, PHuber-GCE {:g}, Taylor-CE {:g}, LogitClip {:g}".format(
            *(pop[n]["break_rho"] for n in ("gce", "phuber_gce", "taylor_ce", "logit_clip")))),
        ("bi-tempered {:g}, t-logistic {:g}, SCE {:g}".format(
            *(pop[n]["break_rho"] for n in ("bi_tempered", "t_logistic", "sce")))),
        ("every loss falls to a per-atom adversary by budget {:g}".format(
            max(L[n]["adversary"]["break_budget"] for n in L))),
        ("logistic at budget {:g}".format(L["logistic"]["adversary"]["break_budget"])),
        ("PHuber's break ρ falls from {} at τ = {:g} to {:g} at τ = {:g}".format(
            "never" if ph["break_rho"][0] is None else f"{ph['break_rho'][0]:g}", ph["values"][0],
            ph["break_rho"][-1], ph["values"][-1])),
        ("logistic: median {:.3f}, ≥ 0.99 in {:.1%} of {} trials".format(
            st["logistic"]["slsqp"]["median"], st["logistic"]["slsqp"]["frac_success"], st["logistic"]["slsqp"]["n"])),
        ("PHuber ≥ 0.99 in {:.1%} of trials under SLSQP and {:.1%} converged".format(
            st["phuber"]["slsqp"]["frac_success"], st["phuber"]["converged"]["frac_success"])),
        ("bi-tempered: median {:.3f} (SLSQP) and {:.3f} (converged)".format(
            st["bi_tempered"]["slsqp"]["median"], st["bi_tempered"]["converged"]["median"])),
        ("t-logistic ≥ 0.99 in {:.1%} of SLSQP fits".format(st["t_logistic"]["slsqp"]["frac_success"])),
    ]


@pytest.mark.notebook
def test_every_atlas_number_the_notebook_quotes_is_the_committed_figures():
    text = _notebook_text()
    a = _fig("loss_atlas")
    assert a["preset"] == "rescience" and _fig("loss_atlas_hyper")["preset"] == "rescience"
    for quoted in _atlas_quotes():
        assert quoted in text, f"the notebook does not say {quoted!r} (figures/loss_atlas*.json)"
