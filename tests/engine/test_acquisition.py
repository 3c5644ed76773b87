"""Acquisition objectives: set points (goal: target) and the weighted desirability, through
real BoTorch fits in short closed loops on cheap functions with known answers."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from doe.domain import CampaignConfig
from doe.engine import EngineSettings, propose

SPACE = [{"name": "x0", "type": "continuous", "bounds": [0.0, 1.0]},
         {"name": "x1", "type": "continuous", "bounds": [0.0, 1.0]}]


def _loop(config: CampaignConfig, lab: Callable[[pd.DataFrame], pd.DataFrame], settings: EngineSettings,
          rounds: int, batch: int = 2, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Initial design of 4, then ``rounds`` model-based batches; returns (all, model-based) rows."""
    first = propose(config, pd.DataFrame(columns=config.parameter_names), 4, seed=seed, settings=settings)
    experiments = lab(first.recipes[config.parameter_names])
    model_rows = []
    for r in range(rounds):
        proposal = propose(config, experiments, batch, seed=seed + r + 1, settings=settings)
        assert proposal.strategy != "initial_design"
        measured = lab(proposal.recipes[config.parameter_names])
        model_rows.append(measured)
        experiments = pd.concat([experiments, measured], ignore_index=True)
    return experiments, pd.concat(model_rows, ignore_index=True)


def _thickness_lab(recipes: pd.DataFrame) -> pd.DataFrame:
    """Coating thickness (nm) rising with both parameters, 0 to 37.5; 10 nm on a curve inside."""
    out = recipes.copy()
    out["thickness_nm"] = 25.0 * out["x0"] * (0.5 + out["x1"])
    return out


def test_set_point_converges_on_target(fast: EngineSettings) -> None:
    config = CampaignConfig.from_dict({
        "name": "set-point", "parameters": SPACE,
        "objectives": [{"name": "thickness_nm", "goal": "target", "target": 10.0}],
    })
    experiments, model_based = _loop(config, _thickness_lab, fast, rounds=5)
    distance = (model_based["thickness_nm"] - 10.0).abs()
    # maximising would push every model-based proposal towards 37.5 nm (distance ~ 20+)
    assert distance.min() < 0.5
    assert distance.median() < 2.0
    assert (experiments["thickness_nm"] - 10.0).abs().min() < 0.5


def test_a_set_point_tolerance_becomes_two_outcome_constraints(fast: EngineSettings) -> None:
    config = CampaignConfig.from_dict({
        "name": "set-point-tol", "parameters": SPACE,
        "objectives": [{"name": "thickness_nm", "goal": "target", "target": 10.0, "tolerance": 1.0}],
    })
    rng = np.random.default_rng(0)
    experiments = _thickness_lab(pd.DataFrame(rng.uniform(0, 1, size=(8, 2)), columns=["x0", "x1"]))
    proposal = propose(config, experiments, 1, seed=0, settings=fast)
    assert proposal.model_settings["constraints_used"] == ["thickness_nm tolerance"] * 2
    # 9 <= y <= 11 as constraints on the modelled thickness: the proposal's prediction lies inside
    assert abs(float(proposal.recipes["thickness_nm_mean"].iloc[0]) - 10.0) < 1.0


def _two_objective_lab(recipes: pd.DataFrame) -> pd.DataFrame:
    out = recipes.copy()
    out["thickness_nm"] = 20.0 * out["x0"]  # 10 nm at x0 = 0.5
    out["capacity"] = out["x1"] - 0.5 * (out["x0"] - 0.5) ** 2  # more is better: x1 = 1, x0 = 0.5
    return out


def test_set_point_as_one_of_two_pareto_objectives(fast: EngineSettings) -> None:
    config = CampaignConfig.from_dict({
        "name": "set-point-pareto", "parameters": SPACE,
        "objectives": [{"name": "thickness_nm", "goal": "target", "target": 10.0},
                       {"name": "capacity", "goal": "maximize"}],
    })
    _, model_based = _loop(config, _two_objective_lab, fast, rounds=5)
    distance = (model_based["thickness_nm"] - 10.0).abs()
    # the front is the one recipe x0 = 0.5, x1 = 1; as a maximised objective thickness would
    # pull x0 to 1 (20 nm, distance 10)
    assert distance.median() < 3.0
    assert distance.min() < 1.0
    assert model_based["x1"].max() > 0.8


def _conflict_lab(recipes: pd.DataFrame) -> pd.DataFrame:
    out = recipes.copy()
    out["efficiency"] = out["x0"] + 0.1 * out["x1"]
    out["stability"] = 1.0 - out["x0"] + 0.1 * out["x1"]
    return out


def _weighted_config(weights: tuple[float, float], mode: str = "weighted") -> CampaignConfig:
    return CampaignConfig.from_dict({
        "name": "weighted", "parameters": SPACE, "objective_mode": mode,
        "objectives": [{"name": "efficiency", "goal": "maximize", "weight": weights[0]},
                       {"name": "stability", "goal": "maximize", "weight": weights[1]}],
    })


@pytest.mark.parametrize(("weights", "side"), [((4.0, 1.0), "high"), ((1.0, 4.0), "low")])
def test_weighted_mode_follows_the_weights(weights: tuple[float, float], side: str, fast: EngineSettings) -> None:
    config = _weighted_config(weights)
    rng = np.random.default_rng(3)
    experiments = _conflict_lab(pd.DataFrame(rng.uniform(0.2, 0.8, size=(8, 2)), columns=["x0", "x1"]))
    proposal = propose(config, experiments, 2, seed=1, settings=fast)
    assert proposal.strategy != "initial_design"
    x0 = proposal.recipes["x0"]
    # efficiency and stability trade x0 one for one; the heavier weight decides the side (the
        # trust region around the best measured recipe bounds how far one batch goes)
    if side == "high":
        assert (x0 > 0.75).all(), x0.tolist()
    else:
        assert (x0 < 0.25).all(), x0.tolist()


def test_weighted_mode_with_huge_weights_proposes_as_with_their_ratio(fast: EngineSettings) -> None:
    rng = np.random.default_rng(3)
    experiments = _conflict_lab(pd.DataFrame(rng.uniform(0.2, 0.8, size=(8, 2)), columns=["x0", "x1"]))
    small = propose(_weighted_config((4.0, 1.0)), experiments, 2, seed=1, settings=fast)
    huge = propose(_weighted_config((1.6e308, 4e307)), experiments, 2, seed=1, settings=fast)  # sums past float max
    pd.testing.assert_frame_equal(huge.recipes, small.recipes)


def test_weighted_mode_uses_the_desirability_acquisition(fast: EngineSettings) -> None:
    rng = np.random.default_rng(3)
    experiments = _conflict_lab(pd.DataFrame(rng.uniform(0.2, 0.8, size=(8, 2)), columns=["x0", "x1"]))
    settings: Any = fast
    weighted = propose(_weighted_config((4.0, 1.0)), experiments, 1, seed=1, settings=settings)
    pareto = propose(_weighted_config((4.0, 1.0), "pareto"), experiments, 1, seed=1, settings=settings)
    assert weighted.model_settings["acquisition"] == "qlognei-desirability"
    assert pareto.model_settings["acquisition"] == "qlognehvi"


@pytest.mark.parametrize("unit", [1e-3, 1e-6])
def test_an_outcome_constraint_works_whatever_the_outcomes_unit(unit: float, fast: EngineSettings) -> None:
    """A probe: with a thickness of order 1e-3 (mm, not um) the constraint's smoothing width had a
    floor of 1e-3 in its units, so the constraint gave no direction and every suggestion broke it."""
    def config(scale: float) -> CampaignConfig:  # th = scale * x1: feasible where x1 <= 0.3
        return CampaignConfig.from_dict({
            "name": "units", "parameters": SPACE, "objectives": [{"name": "y", "goal": "maximize"}],
            "outcomes": [{"name": "th"}], "constraints": [f"th <= {0.3 * scale}"]})

    settings = dataclasses.replace(fast, trust_region_width=None)
    names = config(1.0).parameter_names
    design = propose(config(1.0), pd.DataFrame(columns=names), 8, seed=1, settings=settings).recipes
    proposals = []
    for scale in (1.0, unit):
        experiments = design[names].assign(y=design["x0"] + design["x1"], th=scale * design["x1"])
        proposals.append(propose(config(scale), experiments, 4, seed=2, settings=settings).recipes)
    assert (proposals[1]["x1"] <= 0.35).sum() >= 3
    assert np.allclose(proposals[1][["x0", "x1"]], proposals[0][["x0", "x1"]], atol=1e-3)
    assert np.allclose(proposals[1]["probability_feasible"], proposals[0]["probability_feasible"], atol=1e-3)


@pytest.mark.parametrize("pareto", [False, True])
def test_an_objective_of_tiny_magnitude_is_searched_as_one_of_order_one(pareto: bool, fast: EngineSettings) -> None:
    """A probe: objectives of 1e-7 (a diffusivity in cm^2/s) fell below BoTorch's fixed log-EI
    tolerance of 1e-6, every recipe scored the same and the batch was four copies of one."""
    objectives = [{"name": "a", "goal": "maximize"}, {"name": "b", "goal": "maximize"}][: 1 + pareto]
    config = CampaignConfig.from_dict({"name": "tiny", "parameters": SPACE, "objectives": objectives})
    design = propose(config, pd.DataFrame(columns=config.parameter_names), 6, seed=1, settings=fast).recipes
    a = np.sin(3 * design["x0"]) + design["x1"] ** 2
    b = 1 - design["x0"] + design["x1"] ** 2
    proposals = []  # spread 1 (goes in as it is), then spread 1e-8 (goes in divided by its spread)
    for scale_a, scale_b in ((1 / np.std(a), 1 / np.std(b)), (1e-8, 1e-8)):
        experiments = design[config.parameter_names].assign(a=scale_a * a, b=scale_b * b)
        proposals.append(propose(config, experiments, 4, seed=2, settings=fast).recipes[["x0", "x1"]].to_numpy())
    assert np.allclose(proposals[1], proposals[0], atol=1e-3)
    assert min(np.linalg.norm(p - q) for k, p in enumerate(proposals[1]) for q in proposals[1][k + 1:]) > 0.05
