"""Lab resolution: every suggestion on the grid, inside the bounds and the linear constraints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from engine_helpers import assert_in_space, random_config, random_recipes, smooth_outcomes

from doe import load_config
from doe.domain import CampaignConfig
from doe.domain.parameters import ContinuousParameter
from doe.engine import EngineSettings, propose
from doe.engine.encoding import Encoder
from doe.engine.lattice import Lattice

STEPS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)


def with_resolution(config: CampaignConfig, seed: int) -> CampaignConfig:
    """``config`` with a resolution on every continuous parameter: a round step, 3-200 per range."""
    rng = np.random.default_rng(seed)
    data = config.to_dict()
    for p in data["parameters"]:
        if p["type"] == "continuous":
            span = p["bounds"][1] - p["bounds"][0]
            fits = [s for s in STEPS if span / 200 <= s <= span / 3] or [STEPS[0]]
            p["resolution"] = float(rng.choice(fits))
    return CampaignConfig.from_dict(data)


def assert_on_grid(config: CampaignConfig, recipes: pd.DataFrame) -> None:
    for p in config.parameters:
        if isinstance(p, ContinuousParameter) and p.resolution is not None:
            for v in recipes[p.name]:
                k = round(v / p.resolution)
                assert v == p.grid_value(k), f"{p.name}: {v!r} is not a multiple of {p.resolution} written exactly"


@pytest.mark.parametrize("seed", range(6))
def test_random_spaces_suggest_on_grid_in_bounds_and_feasible(seed: int, fast: EngineSettings) -> None:
    config = with_resolution(random_config(seed), seed)
    initial = propose(config, random_recipes(config, 0, seed).assign(y0=[]), 3, seed=seed, settings=fast)
    assert initial.strategy == "initial_design"
    experiments = smooth_outcomes(config, random_recipes(config, 14, seed), seed)
    modelled = propose(config, experiments, 3, seed=seed, settings=fast)
    assert modelled.strategy.startswith("qlog")
    for proposal in (initial, modelled):
        assert_in_space(config, proposal.recipes)
        assert_on_grid(config, proposal.recipes)


def _ridge_config() -> CampaignConfig:
    # y grows with x1 + x2, whose optimum lies on the constraint x1 + x2 <= 10.5: every recipe
    # there has a half on one column, so the nearest grid point (rounding 0.5 up) breaks it.
    return CampaignConfig.from_dict({
        "name": "ridge",
        "parameters": [
            {"name": "x1", "type": "continuous", "bounds": [0, 10], "resolution": 1},
            {"name": "x2", "type": "continuous", "bounds": [0, 10], "resolution": 1},
        ],
        "objectives": [{"name": "y", "goal": "maximize"}],
        "constraints": ["x1 + x2 <= 10.5"],
    })


def test_rounding_keeps_linear_constraints_where_the_nearest_grid_point_breaks_them() -> None:
    config = _ridge_config()
    rng = np.random.default_rng(0)
    x1 = rng.uniform(0, 10, 30)
    x2 = np.minimum(rng.uniform(0, 10, 30), 10.5 - x1)
    experiments = pd.DataFrame({"x1": x1, "x2": x2, "y": x1 + x2, "failed": False})
    proposal = propose(config, experiments, 4, seed=1, settings=EngineSettings.fast())
    recipes = proposal.recipes
    assert_on_grid(config, recipes)
    assert_in_space(config, recipes)
    # the acquisition drove the batch to the constraint: the best grid recipes sum to 10
    assert (recipes["x1"] + recipes["x2"]).max() == 10


def test_nearest_rounding_drops_infeasible_grid_points() -> None:
    encoder = Encoder(_ridge_config())
    lattice = Lattice(encoder)
    X = encoder.encode(pd.DataFrame({"x1": [5.5], "x2": [5.0]}))
    rounded, owner = lattice.nearest(X)
    recipe = encoder.decode(rounded)
    assert list(owner) == [0]
    assert float(recipe["x1"].iloc[0]) == pytest.approx(5.0)  # 6 + 5 would break x1 + x2 <= 10.5


def test_log_scale_grid_is_linear_in_engineer_units(fast: EngineSettings) -> None:
    config = load_config({
        "name": "log-grid",
        "parameters": [{"name": "time_h", "type": "continuous", "bounds": [0.3, 6.1], "log_scale": True,
                        "resolution": 0.25},
                       {"name": "x", "type": "continuous", "bounds": [0, 1]}],
        "objectives": [{"name": "y", "goal": "maximize"}],
    })
    proposal = propose(config, pd.DataFrame(columns=["time_h", "x", "y"]), 6, seed=0, settings=fast)
    assert_on_grid(config, proposal.recipes)
    assert proposal.recipes["time_h"].between(0.5, 6.0).all()  # 0.25 and 6.25 lie outside the bounds


@pytest.mark.parametrize("bad, message", [
    (0, "positive"), (-5, "positive"), (float("nan"), "positive"), (float("inf"), "positive"),
    (600, "larger than the range"), ("5", "without quotes"), (True, "without quotes"),
    (1e-13, "finer than 12 decimal places"),
])
def test_bad_resolution_is_refused_naming_the_parameter(bad: Any, message: str) -> None:
    from doe.errors import ConfigError

    with pytest.raises(ConfigError, match=message) as err:
        load_config({"name": "bad", "objectives": [{"name": "y", "goal": "maximize"}],
                     "parameters": [{"name": "anneal_temperature_c", "type": "continuous",
                                     "bounds": [250, 750], "resolution": bad}]})
    assert "anneal_temperature_c" in str(err.value)


@pytest.mark.parametrize("listed", [
    {"name": "anneal_time_h", "type": "discrete", "values": [1.0, 2.0, 4.0]},
    {"name": "anneal_atmosphere", "type": "categorical", "values": ["air", "O2"]},
])
def test_resolution_on_a_listed_parameter_is_refused_naming_the_field(listed: dict[str, Any]) -> None:
    from doe.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        load_config({"name": "bad", "objectives": [{"name": "y", "goal": "maximize"}],
                     "parameters": [{"name": "t", "type": "continuous", "bounds": [250, 750], "resolution": -5},
                                    {**listed, "resolution": 1}]})
    text = str(err.value)
    assert f"parameters[{listed['name']}].resolution: only a continuous parameter takes a resolution" in text
    assert "parameters[t]" in text and "positive" in text  # every problem is listed, not only the first


def test_resolution_round_trips_and_grid_is_anchored_at_zero() -> None:
    data = {"name": "rt", "objectives": [{"name": "y", "goal": "maximize"}],
            "parameters": [{"name": "t", "type": "continuous", "bounds": [251.0, 749.0], "resolution": 5.0}]}
    config = load_config(data)
    assert config.to_dict() == data
    p = config.parameters[0]
    assert isinstance(p, ContinuousParameter)
    values = p.grid_values()
    assert values[0] == 255.0 and values[-1] == 745.0 and len(values) == 99


def test_a_tiny_resolution_keeps_suggestions_on_its_grid_and_in_bounds(fast: EngineSettings) -> None:
    config = load_config({"name": "tiny", "objectives": [{"name": "y", "goal": "maximize"}],
                          "parameters": [{"name": "x", "type": "continuous", "bounds": [1e-10, 1e-8],
                                          "resolution": 1e-12},
                                         {"name": "z", "type": "continuous", "bounds": [0, 1]}]})
    proposal = propose(config, pd.DataFrame(columns=["x", "z"]), 4, seed=0, settings=fast)
    assert_on_grid(config, proposal.recipes)
    assert proposal.recipes["x"].between(1e-10, 1e-8).all(), proposal.recipes["x"].tolist()


def test_an_off_grid_fixed_value_is_refused_naming_the_parameter_and_its_neighbours(tmp_path: Path) -> None:
    from doe import Campaign
    from doe.errors import DataError

    config = load_config({"name": "g", "objectives": [{"name": "y", "goal": "maximize"}],
                          "parameters": [{"name": "t_c", "type": "continuous", "bounds": [250, 750], "resolution": 5},
                                         {"name": "w_pct", "type": "continuous", "bounds": [0, 3], "resolution": 0.01}]})
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'g.sqlite3'}", actor="t",
                                    settings=EngineSettings.fast())
    with pytest.raises(DataError, match="resolution") as err:
        campaign.suggest(2, fixed={"t_c": 333, "w_pct": 1.234})
    text = str(err.value)
    assert "column 't_c'" in text and "330 and 335" in text and "column 'w_pct'" in text and "1.23 and 1.24" in text
    assert "row" not in text and campaign.history().empty
    with pytest.raises(DataError, match="column 't_c': out of bounds") as err:
        campaign.suggest(2, fixed={"t_c": 900})
    assert "row" not in str(err.value) and "recorded" not in str(err.value)
    assert set(campaign.suggest(2, fixed={"t_c": 335})["t_c"]) == {335.0}


@pytest.mark.parametrize("resolution, bounds", [(1e-9, [0, 1000]), (1e-12, [0, 1]), (0.01, [0, 20000]), (5, [250, 750])])
def test_every_grid_point_is_on_the_grid_and_no_midpoint_is(resolution: float, bounds: list[float]) -> None:
    config = load_config({"name": "g", "objectives": [{"name": "y", "goal": "maximize"}],
                          "parameters": [{"name": "x", "type": "continuous", "bounds": bounds,
                                          "resolution": resolution}]})
    p = config.parameters[0]
    assert isinstance(p, ContinuousParameter)
    first, last = p.grid_range()
    for k in np.random.default_rng(0).integers(first, last, size=500):
        x = p.grid_value(int(k))
        assert p.on_grid(x), x
        assert not p.on_grid(x + resolution / 2)
        assert p.nearest_grid_value(x + resolution / 4) == x


def test_the_grid_hint_names_distinct_neighbours_and_a_missing_fixed_value_is_no_crash(tmp_path: Path) -> None:
    from doe import Campaign
    from doe.errors import DataError, DoeError

    config = load_config({"name": "g", "objectives": [{"name": "y", "goal": "maximize"}],
                          "parameters": [{"name": "m_g", "type": "continuous", "bounds": [0, 20000], "resolution": 0.01},
                                         {"name": "z", "type": "continuous", "bounds": [0, 1]}]})
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'g.sqlite3'}", actor="t",
                                    settings=EngineSettings.fast())
    with pytest.raises(DataError, match=r"12345\.67 and 12345\.68"):
        campaign.suggest(2, fixed={"m_g": 12345.675})
    for missing in (None, float("nan")):
        with pytest.raises(DoeError):
            campaign.suggest(2, fixed={"m_g": missing})
    assert campaign.history().empty
