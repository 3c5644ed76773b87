"""A linear constraint that cuts between grid points: ``x - y <= 1`` with ``y`` on 0, 4, 8.

The relaxation's optimum (x = 10, y = 10) has no feasible grid rounding (y's last grid point
is 8, so x must drop to 9). Rounding must move such a recipe to its nearest feasible grid
recipe, not drop it (ordinary batches) or skip its shared value (furnace-shared batches).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from engine_helpers import assert_in_space
from test_lattice import assert_on_grid

from doe import Campaign
from doe.engine import EngineSettings
from doe.engine.encoding import Encoder
from doe.engine.lattice import Lattice


def coupled_config(x_resolution: float, seed: int = 0, **changes: Any) -> dict[str, Any]:
    return {
        "name": "coupled", "seed": seed,
        "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 10], "resolution": x_resolution},
                       {"name": "y", "type": "continuous", "bounds": [0, 10], "resolution": 4},
                       {"name": "z", "type": "continuous", "bounds": [0, 1]}],
        "objectives": [{"name": "ce", "goal": "maximize"}],
        "constraints": ["x - y <= 1"], **changes,
    }


def measured(seed: int) -> bytes:
    """Twelve grid recipes where more x is better, the best at x = 9 (the feasible edge), as CSV."""
    x = np.array([0, 1, 2, 3, 4, 5, 5, 6, 7, 8, 9, 9.0])
    y = np.array([0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 8, 8.0])
    z = np.random.default_rng(seed).uniform(0, 1, len(x))
    return pd.DataFrame({"x": x, "y": y, "z": z, "ce": 5 * x + y + z}).to_csv(index=False).encode()


def suggest(config: dict[str, Any], n: int) -> pd.DataFrame:
    campaign = Campaign.from_config(config, storage=":memory:", settings=EngineSettings.fast())
    campaign.import_table(measured(int(config["seed"])))
    batch = campaign.suggest(n)
    assert len(batch) == n
    assert_in_space(campaign.config, batch)
    assert_on_grid(campaign.config, batch)
    return batch


def test_a_recipe_whose_grid_neighbours_all_break_a_constraint_settles_on_the_nearest_feasible_one() -> None:
    encoder = Encoder(Campaign.from_config(coupled_config(1.0), storage=":memory:").config)
    lattice = Lattice(encoder)
    X = encoder.encode(pd.DataFrame({"x": [10.0, 5.4], "y": [10.0, 7.0], "z": [0.3, 0.7]}))
    assert len(lattice.nearest(X)[0]) == 1  # (10, 8) and (10, 10) are out: the first row has no neighbour
    settled, owner = lattice.settle(X)
    recipes = encoder.decode(settled)
    assert list(owner) == [0, 1]
    assert recipes.x.tolist() == pytest.approx([9.0, 5.0])
    assert recipes.y.tolist() == pytest.approx([8.0, 8.0])
    assert recipes.z.tolist() == pytest.approx([0.3, 0.7])  # values without a grid kept where they fit


@pytest.mark.parametrize("seed", range(4))
def test_an_ordinary_batch_reaches_the_feasible_edge_of_a_fine_grid(seed: int) -> None:
    # x on 0.1 steps: the best grid recipe (9.0, 8) is rarely in a random pool of grid recipes
    batch = suggest(coupled_config(0.1, seed), 3)
    assert batch.x.iloc[0] == 9.0, batch[["x", "y"]].to_dict("list")  # the first slot: the acquisition's best


@pytest.mark.parametrize("seed", range(4))
def test_a_shared_value_whose_grid_neighbours_leave_no_rows_moves_to_the_nearest_that_does(seed: int) -> None:
    # the joint search's shared x = 10 leaves no grid rows (y <= 8): x = 9 does, and is better
    batch = suggest(coupled_config(1.0, seed, batch_shared=["x"]), 3)
    assert batch.x.tolist() == [9.0] * 3, batch[["x", "y"]].to_dict("list")


def test_a_shared_value_without_a_grid_keeps_its_own_value_until_the_grid_values_run_out() -> None:
    """Review of 89ba430: the first ring also moved a shared value without a grid 1/64 toward the
    interior, so unconstrained gridded campaigns got other batches than before; it may move only
    once the neighbouring grid values of the others left no feasible rows."""
    from doe.engine.shared import outward_rings

    grid = np.array([450.0, 475.0, 425.0, 500.0])  # a gridded shared value, nearest first
    free = 2.7 + np.linspace(0.0, 1.0, 5) * (2.0 - 2.7)  # no grid: its value, then steps inward
    rings = list(outward_rings([grid, free], [0, 1]))
    assert rings[0].tolist() == [[450.0, 2.7], [475.0, 2.7]]
    assert {tuple(v) for v in rings[1]} == {(425.0, 2.7), (450.0, free[1]), (475.0, free[1]), (425.0, free[1])}
    seen = np.concatenate(rings)
    assert len({tuple(v) for v in seen}) == len(seen) == len(grid) * len(free)  # every combination once
