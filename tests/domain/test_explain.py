"""Why a recipe was proposed: predictions with their uncertainty and purposes in words."""

from __future__ import annotations

import pandas as pd
import pytest

from doe import load_config
from doe.domain.explain import prediction_text, purpose, recipe_distance

CONFIG = load_config("hfo2-ncm85")
BASE = {"hfo2_loading_wt_pct": 1.0, "anneal_temperature_c": 400.0, "anneal_time_h": 2.0, "anneal_atmosphere": "O2",
        "solid_content_mg_per_ml": 20.0, "ligand_to_np_mass_ratio": 0.5, "dispersion_solvent": "chloroform",
        "sonication_time_min": 30.0, "evaporation_bath_temperature_c": 60.0}


def _measured() -> pd.DataFrame:
    rows = []
    for i, (temperature, ce) in enumerate([(300.0, 85.0), (400.0, 90.0), (700.0, 80.0)], start=1):
        rows.append({"experiment_id": f"E000{i}", **BASE, "anneal_temperature_c": temperature,
                     "first_cycle_ce_pct": ce})
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("mean", "sd", "unit", "text"), [
    (90.123, 1.234, "%", "90.1 % ± 1.2"),
    (174.5, 160.0, None, "175 ± 160"),  # not "174.5 ± 1.6e+02"; a tie away from zero, as the app shows it
    (12080.4, None, None, "12080"),  # not 1.208e+04
    (0.01234, 0.00056, "g", "0.01234 g ± 0.00056"),
    (88.0, None, "%", "88 %"),
    (None, 1.0, "%", ""),
])
def test_prediction_text_rounds_to_what_the_uncertainty_allows(mean: object, sd: object, unit: str | None,
                                                               text: str) -> None:
    assert prediction_text(mean, sd, unit) == text


def test_distance_scales_each_parameter_and_counts_a_label_as_one() -> None:
    best = pd.Series(BASE)
    moved = pd.DataFrame([{**BASE, "anneal_temperature_c": 650.0}, {**BASE, "dispersion_solvent": "toluene"}, BASE])
    distance = recipe_distance(moved, best, CONFIG)
    assert distance[0] == pytest.approx((250 / 500) / 3)
    assert distance[1] == pytest.approx(1 / 3)
    assert distance[2] == 0.0


def test_purposes_in_words() -> None:
    measured = _measured()
    near_best = pd.Series({**BASE, "anneal_temperature_c": 410.0, "strategy": "qlognehvi"})
    assert purpose(near_best, measured, "E0002", CONFIG) == "exploits near the best recipe E0002"
    toluene = pd.Series({**BASE, "dispersion_solvent": "toluene", "strategy": "qlognehvi"})
    assert purpose(toluene, measured, "E0002", CONFIG) == "explores untried toluene (dispersion_solvent)"
    far = pd.Series({**BASE, "anneal_temperature_c": 750.0, "hfo2_loading_wt_pct": 3.0, "sonication_time_min": 0.0,
                     "strategy": "qlognehvi", "first_cycle_ce_pct_sd": 8.0})
    assert purpose(far, measured, "E0002", CONFIG) == (
        "explores where the model is unsure about first_cycle_ce_pct (nearest measured recipe E0003)")
    far_sure = pd.Series({**far, "first_cycle_ce_pct_sd": 0.5, "strategy": "qlognehvi+candidates"})
    assert purpose(far_sure, measured, "E0002", CONFIG) == (
        "promising and not yet measured (nearest measured recipe E0003) (from your candidate list)")
    assert purpose(pd.Series({**BASE, "strategy": "initial_design"}), measured, None, CONFIG).startswith("spreads")
    assert purpose(pd.Series({**BASE, "strategy": "reference"}), measured, None, CONFIG).startswith(
        "the reference recipe")
    guess = pd.Series({**BASE, "strategy": "best_guess"})
    assert purpose(guess, measured, "E0002", CONFIG) == "the model's best guess, near the best recipe E0002"


def test_classical_designs_and_the_control_recipe_say_so() -> None:
    measured = _measured()
    assert purpose(pd.Series({**BASE, "strategy": "control"}), measured, "E0002", CONFIG) == (
        "the control recipe, repeated in every batch to catch drift")
    assert purpose(pd.Series({**BASE, "strategy": "screening"}), measured, None, CONFIG).startswith(
        "part of a two-level screening design")
    assert purpose(pd.Series({**BASE, "strategy": "latin_hypercube"}), measured, None, CONFIG).startswith(
        "part of a Latin hypercube design")
