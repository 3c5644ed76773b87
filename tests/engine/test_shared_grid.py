"""Furnace-shared parameters on the lab's resolution grid, coupled to the rows by a linear
constraint: the shared value is rounded onto the grid inside the bounds, rows that the rounding
leaves outside the constraint are moved back, and shared values that leave no grid rows are
moved to the nearest that do rather than refused."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from engine_helpers import assert_in_space
from test_lattice import assert_on_grid

from doe import Campaign
from doe.domain import CampaignConfig
from doe.engine import EngineSettings, propose
from doe.errors import ProposalError


def furnace_config(**changes: Any) -> CampaignConfig:
    """A furnace in 5 C steps whose upper bound (748 C) is off the grid: a hotter anneal allows more loading."""
    data: dict[str, Any] = {
        "name": "furnace-grid",
        "seed": 2,
        "parameters": [
            {"name": "anneal_c", "type": "continuous", "bounds": [250, 748], "resolution": 5},
            {"name": "loading_wt_pct", "type": "continuous", "bounds": [0, 8], "resolution": 0.01},
            {"name": "ratio", "type": "continuous", "bounds": [0, 1]},
        ],
        "objectives": [{"name": "ce", "goal": "maximize"}],
        "constraints": ["loading_wt_pct - 0.01 * anneal_c <= 0"],
        "batch_shared": ["anneal_c"],
    }
    data.update(changes)
    return CampaignConfig.from_dict(data)


def assert_one_feasible_grid_run(config: CampaignConfig, recipes: pd.DataFrame, n: int) -> None:
    assert len(recipes) == n
    assert_in_space(config, recipes)
    assert_on_grid(config, recipes)
    for name in config.batch_shared:
        assert recipes[name].nunique() == 1, recipes[name].tolist()


def test_a_shared_value_past_the_last_grid_point_rounds_to_it_and_the_batch_is_made(fast: EngineSettings) -> None:
    # the best recipes lie at the hot end with the most loading the constraint allows: the
    # continuous optimum is 748 C (off the grid), whose rows break the constraint at 745 C
    config = furnace_config()
    anneal = [250.0, 400.0, 550.0, 700.0, 740.0, 740.0, 748.0, 748.0, 300.0]
    loading = [1.0, 3.5, 5.0, 6.5, 7.38, 5.0, 7.48, 7.0, 2.0]
    ratio = [0.2, 0.5, 0.9, 0.3, 0.3, 0.4, 0.6, 0.1, 0.8]
    experiments = pd.DataFrame({"anneal_c": anneal, "loading_wt_pct": loading, "ratio": ratio})
    experiments["ce"] = 50 + 5 * experiments.loading_wt_pct + experiments.ratio
    proposal = propose(config, experiments, 3, seed=2, settings=fast)
    assert proposal.strategy.startswith("qlog")
    assert_one_feasible_grid_run(config, proposal.recipes, 3)
    assert proposal.recipes.anneal_c.iloc[0] == 745.0  # the hottest grid point inside the bounds


def test_a_campaign_at_the_off_grid_bound_keeps_getting_batches() -> None:
    campaign = Campaign.from_config(furnace_config().to_dict(), storage=":memory:", settings=EngineSettings.fast())
    for _ in range(4):
        batch = campaign.suggest(3)
        assert_one_feasible_grid_run(campaign.config, batch, 3)
        campaign.record(batch.assign(ce=50 + 5 * batch.loading_wt_pct + batch.ratio)[["experiment_id", "ce"]])


def test_a_shared_value_of_the_relaxation_with_no_grid_rows_moves_to_the_nearest_that_has_some(fast: EngineSettings) -> None:
    # x is shared and not gridded; y takes 0, 4 or 8; x - y <= 1 leaves grid rows for every
    # x <= 9, none for 9 < x <= 10, where the continuous relaxation (y = 10) puts the optimum
    config = CampaignConfig.from_dict({
        "name": "relaxation", "seed": 1,
        "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 10]},
                       {"name": "y", "type": "continuous", "bounds": [0, 10], "resolution": 4},
                       {"name": "z", "type": "continuous", "bounds": [0, 1]}],
        "objectives": [{"name": "ce", "goal": "maximize"}],
        "constraints": ["x - y <= 1"], "batch_shared": ["x"],
    })
    experiments = pd.DataFrame({"x": [0.640594] * 3 + [8.72578] * 3,
                                "y": [0.0, 8.0, 8.0, 8.0, 8.0, 8.0],
                                "z": [0.086584, 0.986165, 0.002947, 0.488427, 0.982997, 0.005085]})
    experiments["ce"] = 5 * experiments.x + experiments.y + experiments.z
    for n in (2, 3):
        proposal = propose(config, experiments, n, seed=1, settings=fast)
        assert_one_feasible_grid_run(config, proposal.recipes, n)


def _random_space(seed: int) -> CampaignConfig:
    """A shared gridded parameter with an off-grid bound, coupled to a gridded row parameter."""
    rng = np.random.default_rng(seed)
    step = float(rng.choice([0.5, 1.0, 2.0, 5.0]))
    lower = float(rng.integers(0, 5)) * step
    upper = lower + step * float(rng.integers(3, 12)) + step * float(rng.uniform(0.2, 0.9))  # off the grid
    row_step = float(rng.choice([0.01, 0.1, 0.5]))
    slope = float(rng.uniform(0.2, 1.5))
    row_upper = round(slope * upper + 1.0, 2)
    sign = rng.choice(["<=", ">="])
    constraint = (f"row - {slope:.3f} * shared <= 0.5" if sign == "<=" else
                  f"row + {slope:.3f} * shared >= {slope * upper - 0.5:.3f}")
    parameters = [{"name": "shared", "type": "continuous", "bounds": [lower, upper], "resolution": step},
                  {"name": "row", "type": "continuous", "bounds": [0.0, row_upper], "resolution": row_step},
                  {"name": "free", "type": "continuous", "bounds": [0.0, 1.0]}]
    if rng.random() < 0.5:
        parameters.append({"name": "atmosphere", "type": "categorical", "values": ["air", "argon"]})
    return CampaignConfig.from_dict({
        "name": f"shared-grid-{seed}", "seed": seed, "parameters": parameters,
        "objectives": [{"name": "ce", "goal": "maximize"}], "constraints": [constraint],
        "batch_shared": ["shared", "atmosphere"] if len(parameters) == 4 else ["shared"],
    })


@pytest.mark.parametrize("seed", range(8))
def test_random_shared_grid_spaces_give_one_feasible_grid_run_or_a_clear_refusal(seed: int) -> None:
    config = _random_space(seed)
    campaign = Campaign.from_config(config.to_dict(), storage=":memory:", settings=EngineSettings.fast())
    made = 0
    for n in (3, 3, 2, 3, 4):
        try:
            batch = campaign.suggest(n)
        except ProposalError as err:  # a refusal must say what to do, not crash
            assert "asked for" in str(err) or "relax" in str(err), str(err)
            continue
        assert_one_feasible_grid_run(campaign.config, batch, n)
        made += 1
        # more of both ends of the coupling is better: the optimum sits where a bound meets the constraint
        ce = batch.row + 0.5 * batch.shared + batch.free
        campaign.record(batch.assign(ce=ce)[["experiment_id", "ce"]])
    assert made >= 3


def test_a_shared_fraction_of_a_mixture_on_the_grid_gives_a_furnace_run_not_a_crash() -> None:
    """A mixture a + b + c = 1 on the grid with a shared: the joint search's start batches copied
    row 0's a into every row, so no start met the equality, and the search crashed inside BoTorch
    ('a Tensor with 0 elements cannot be converted to Scalar') from the first model batch on."""
    config = CampaignConfig.from_dict({
        "name": "shared-mixture", "seed": 1,
        "parameters": [{"name": "a_frac", "type": "continuous", "bounds": [0, 1], "resolution": 0.1},
                       {"name": "b_frac", "type": "continuous", "bounds": [0, 1], "resolution": 0.1},
                       {"name": "c_frac", "type": "continuous", "bounds": [0, 1], "resolution": 0.05},
                       {"name": "anneal_c", "type": "continuous", "bounds": [300, 500], "resolution": 20}],
        "objectives": [{"name": "ce", "goal": "maximize"}],
        "constraints": ["a_frac + b_frac + c_frac <= 1", "a_frac + b_frac + c_frac >= 1", "anneal_c + 100 * a_frac <= 520"],
        "batch_shared": ["a_frac", "anneal_c"],
    })
    campaign = Campaign.from_config(config.to_dict(), storage=":memory:", settings=EngineSettings.fast())
    rng = np.random.default_rng(0)
    for design in ("latin_hypercube", "model", "model"):
        batch = campaign.suggest(4, design=design)  # type: ignore[arg-type]
        assert_one_feasible_grid_run(campaign.config, batch, 4)
        assert np.allclose(batch.a_frac + batch.b_frac + batch.c_frac, 1.0), batch
        ce = 80 + 10 * batch.b_frac - 5 * batch.c_frac + rng.normal(size=4)
        campaign.record(batch.assign(ce=ce)[["experiment_id", "ce"]])
