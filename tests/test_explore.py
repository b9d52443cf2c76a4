"""The live explorer's computations (notebook 07): the same answers as the population module."""

import numpy as np
import pytest
from matplotlib.figure import Figure

import sandbox as sb
from sandbox.explore import (
    EXPLORER_LOSSES,
    TAU_RANGES,
    explore_point,
    loss_at,
    phase_map,
    plot_explorer,
)


@pytest.mark.parametrize("name, tau, rho, accuracy", [("phuber", 1.36, 0.2, 1.0), ("huberised", 0.26, 0.2, 0.5),
                                                      ("logistic", None, 0.0, 1.0), ("logistic", None, 0.3, 0.5)])
def test_a_point_is_the_population_minimiser_and_its_atom_verdicts(name, tau, rho, accuracy):
    pt = explore_point(name, tau=tau, rho=rho, gamma=1 / 24)
    loss = loss_at(name, tau)
    ls = sb.long_servedio(gamma=1 / 24)
    fit = sb.minimise_population_risk(loss, ls, rho=rho, n_angles=720, n_radii=121)
    assert pt["clean_accuracy"] == fit.clean_accuracy == accuracy  # Prop. 4 / Prop. 7 at the population level
    assert pt["minimiser_deg"] == pytest.approx(np.degrees(fit.angle), abs=1e-12)
    # the verdicts are the signs of y<u, x> per atom, and weigh up to the accuracy
    u = np.array([np.cos(fit.angle), np.sin(fit.angle)])
    margins = ls.yx @ u
    assert pt["atoms"]["verdict"] == ["correct" if m > 0 else "wrong" for m in margins]
    assert np.dot(ls.weights, margins > 0) == accuracy
    # the profile never beats the refined minimiser (the profile's grid over the radius can only be above)
    assert np.min(pt["noisy_profile"]) >= pt["minimiser_risk"] - 1e-9


def test_the_phase_map_agrees_with_the_refined_minimiser_away_from_the_boundary():
    ph = phase_map("phuber", gamma=1 / 24, n_tau=4, rhos=(0.0, 0.2, 0.45))
    assert np.shape(ph["clean_accuracy"]) == (4, 3)
    for i, tau in enumerate(ph["tau"]):
        want = sb.minimise_population_risk(sb.make_loss("phuber", tau=tau), sb.long_servedio(), rho=np.array(ph["rho"])).clean_accuracy
        np.testing.assert_array_equal(ph["clean_accuracy"][i][:2], want[:2])  # rho 0 and 0.2: far from the boundary
    assert phase_map("logistic", gamma=1 / 24)["tau"] == [None]


def test_the_plot_has_three_labelled_panels():
    pt = explore_point("huberised", tau=0.26, rho=0.2, gamma=1 / 24)
    fig = plot_explorer(pt, phase_map("huberised", gamma=1 / 24, n_tau=3))
    assert isinstance(fig, Figure)
    assert [bool(ax.get_xlabel()) for ax in fig.axes[:3]] == [True, True, True]


@pytest.mark.parametrize("call, match", [
    (lambda: explore_point("phuber", tau=0.5, rho=0.2, gamma=0.04), "tau=0.5"),
    (lambda: explore_point("phuber", tau=2.0, rho=0.5, gamma=0.04), "rho=0.5"),
    (lambda: explore_point("gce", tau=2.0, rho=0.2, gamma=0.04), "loss='gce'"),
    (lambda: phase_map("phuber", gamma=0.2), "gamma=0.2"),
])
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_every_explorer_loss_has_a_range_inside_its_domain():
    for name in EXPLORER_LOSSES:
        rng = TAU_RANGES[name]
        if rng is not None:
            for tau in rng:  # both ends are valid thresholds: loss_at raises a ValueError otherwise
                assert dict(loss_at(name, tau).params)["tau"] == tau
