"""The response-surface grid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from doe import load_config
from doe.errors import DataError
from doe.ui.surface import held_recipe, numeric_parameters, surface_grid

CONFIG = load_config("hfo2-ncm85")


def test_grid_covers_both_axes_and_holds_the_rest() -> None:
    held = held_recipe(CONFIG)
    assert held == CONFIG.reference_recipe()
    grid = surface_grid(CONFIG, "anneal_time_h", "evaporation_bath_temperature_c", held, points=7)
    assert np.isclose(grid.x_values[[0, -1]], [0.5, 6.0]).all()
    assert np.allclose(np.diff(np.log(grid.x_values)), np.log(12) / 6)  # log scale
    assert grid.y_values.tolist() == [40.0, 50.0, 60.0, 70.0, 80.0]  # the allowed values
    assert len(grid.recipes) == 35 and grid.recipes["anneal_atmosphere"].eq("O2").all()
    assert grid.recipes.loc[7, "anneal_time_h"] == grid.x_values[0]
    assert grid.recipes.loc[7, "evaporation_bath_temperature_c"] == 50.0
    assert grid.reshape(np.arange(35.0)).shape == (5, 7)


def test_linear_constraints_blank_the_forbidden_corner() -> None:
    data = CONFIG.to_dict()
    data["constraints"] = ["solid_content_mg_per_ml + 10 * hfo2_loading_wt_pct <= 40"]
    config = load_config(data)
    grid = surface_grid(config, "hfo2_loading_wt_pct", "solid_content_mg_per_ml", held_recipe(config), points=5)
    z = grid.reshape(np.ones(25))
    assert np.isnan(z[-1, -1]) and z[0, 0] == 1.0


def test_best_recipe_is_held_and_categorical_axes_refused() -> None:
    best = pd.DataFrame([{**CONFIG.reference_recipe(), "anneal_temperature_c": 555.0}])
    assert held_recipe(CONFIG, best)["anneal_temperature_c"] == 555.0
    assert "anneal_atmosphere" not in numeric_parameters(CONFIG)
    with pytest.raises(DataError, match="categorical"):
        surface_grid(CONFIG, "anneal_atmosphere", "anneal_time_h", held_recipe(CONFIG))
    with pytest.raises(DataError, match="two different"):
        surface_grid(CONFIG, "anneal_time_h", "anneal_time_h", held_recipe(CONFIG))


def test_profile_slices_vary_one_parameter_at_a_time_through_the_recipe() -> None:
    from doe.templates import resolve_config
    from doe.ui.surface import held_recipe, profile_slices

    config = resolve_config("hfo2-ncm85")
    held = held_recipe(config)
    slices = profile_slices(config, held, points=5)
    assert set(slices.parameters) == set(config.parameter_names)
    for name, value, (_, recipe) in zip(slices.parameters, slices.values, slices.recipes.iterrows(), strict=True):
        assert recipe[name] == value
        assert all(recipe[p] == held[p] for p in config.parameter_names if p != name)
    assert slices.parameters.count("dispersion_solvent") == 3 and slices.parameters.count("anneal_time_h") == 5
