"""The adaptive trust region (replayed from the history), the untried-label exploration slot and the
whole-space slots."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from doe.domain import CampaignConfig
from doe.engine import EngineSettings, propose
from doe.engine.encoding import Encoder
from doe.engine.trust import (
    COLLAPSE_FRACTION,
    SUCCESS_TOLERANCE,
    adapt_trust_region,
    untried_values,
)
from doe.errors import ProposalError


def test_the_region_keeps_its_width_without_a_verdict() -> None:
    state = adapt_trust_region(np.array([1.0, 2.0, 3.0, 4.0]), initial_width=0.4, n_initial=4, dim=3)
    assert (state.width, state.successes, state.failures, state.restarts) == (0.4, 0, 0, 0)


def test_improvements_in_a_row_double_the_width() -> None:
    scores = np.array([0.0, 0.0, 0.0, 0.0, *range(1, SUCCESS_TOLERANCE + 1)], dtype=float)
    state = adapt_trust_region(scores, initial_width=0.4, n_initial=4, dim=3)
    assert state.width == pytest.approx(0.8)
    # the width never exceeds the whole range
    many = np.array([0.0] * 4 + list(range(1, 20)), dtype=float)
    assert adapt_trust_region(many, initial_width=0.4, n_initial=4, dim=3).width == 1.0


def test_runs_without_improvement_halve_it_and_a_failed_run_is_no_improvement() -> None:
    dim = 6  # failure tolerance max(4, 6) = 6
    scores = np.array([5.0, 1.0, 1.0, 1.0, 4.0, np.nan, 3.0, 5.0, 2.0, np.nan], dtype=float)
    state = adapt_trust_region(scores, initial_width=0.4, n_initial=4, dim=dim)
    assert state.width == pytest.approx(0.2)
    assert state.failures == 0
    # one run short of the tolerance: unchanged
    assert adapt_trust_region(scores[:-1], initial_width=0.4, n_initial=4, dim=dim).width == pytest.approx(0.4)


def test_a_collapsed_region_restarts_over_the_whole_space_once() -> None:
    halvings = round(np.log2(1 / COLLAPSE_FRACTION)) + 1
    flat = np.array([1.0] * 4 + [0.0] * (4 * halvings))  # dim 2: tolerance 4
    state = adapt_trust_region(flat, initial_width=0.4, n_initial=4, dim=2)
    assert state.width is None and state.restarts == 1
    # the next result (from the whole-space batch) starts the region again at its first width
    after = adapt_trust_region(np.append(flat, 0.0), initial_width=0.4, n_initial=4, dim=2)
    assert after.width == pytest.approx(0.4) and after.restarts == 1 and after.failures == 1


def _space() -> CampaignConfig:
    return CampaignConfig.from_dict({
        "name": "explore",
        "parameters": [
            {"name": "x_mm", "type": "continuous", "bounds": [0.0, 1.0]},
            {"name": "solvent", "type": "categorical", "values": ["a", "b", "c"]},
            {"name": "bath_c", "type": "discrete", "values": [40.0, 50.0]},
        ],
        "objectives": [{"name": "y", "goal": "maximize"}],
    })


def _history(n: int, seed: int, solvents: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n)
    solvent = [solvents[i % len(solvents)] for i in range(n)]
    bath = [40.0 if i % 3 else 50.0 for i in range(n)]
    y = -((x - 0.3) ** 2) + np.where(np.array(solvent) == "a", 0.5, 0.0) + rng.normal(0, 0.01, n)
    return pd.DataFrame({"x_mm": x, "solvent": solvent, "bath_c": bath, "y": y})


def test_untried_values_are_least_used_first_and_skip_fixed_columns() -> None:
    config = _space()
    encoder = Encoder(config)
    X = encoder.encode(_history(7, 0, ["a", "a", "b"]))
    found = untried_values(encoder, X, {}, min_tries=2)
    assert found[0] == (1, 2.0, 0)  # solvent c: never used
    assert all(used < 2 for _, _, used in found)
    assert untried_values(encoder, X, {1: 0.0}, min_tries=2) == []  # solvent held, bath used 2 and 5 times


@pytest.mark.parametrize("explore", [0, 1])
def test_the_first_slot_tries_an_unused_label_only_when_asked(explore: int) -> None:
    config = _space()
    history = _history(8, 1, ["a", "b"])  # "c" never tried; "a" is clearly best
    settings = replace(EngineSettings.fast(), explore_untried=explore)
    proposal = propose(config, history, 3, seed=3, settings=settings)
    recipes = proposal.recipes
    if explore:
        assert recipes["strategy"].iloc[0] == "explore_untried"
        assert recipes["solvent"].iloc[0] == "c"
    else:
        assert "explore_untried" not in set(recipes["strategy"])


def test_adaptive_mode_records_its_state_and_searches_the_whole_space_after_a_collapse() -> None:
    config = _space()
    history = _history(4, 2, ["a", "b"])
    flat = history.iloc[[0] * 16].reset_index(drop=True)  # 16 runs without improvement: four halvings (tolerance 4)
    flat["x_mm"] = np.linspace(0.01, 0.99, 16)
    flat["y"] = history["y"].min() - 1.0
    data = pd.concat([history, flat], ignore_index=True)
    settings = replace(EngineSettings.fast(), trust_region="adaptive")
    proposal = propose(config, data, 2, seed=1, settings=settings)
    region = proposal.model_settings["trust_region"]
    assert region["mode"] == "adaptive"
    assert region["width"] is None and region["restarts"] >= 1
    fixed_mode = propose(config, data, 2, seed=1, settings=EngineSettings.fast())
    assert fixed_mode.model_settings["trust_region"]["width"] == 0.4


@pytest.mark.parametrize("field,value", [("trust_region", "turbo"), ("explore_untried", -1), ("explore_untried", 1.5),
                                         ("whole_space_slots", -1), ("whole_space_slots", True)])
def test_bad_settings_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ProposalError, match=f"EngineSettings.{field}"):
        EngineSettings(**{field: value})  # type: ignore[arg-type]


def _two_hills() -> tuple[CampaignConfig, pd.DataFrame]:
    """One number in [0, 1]: the best measurements near x = 0.1, two nearly as good near
    x = 0.9 and nothing between; the trust region (0.4 wide around the best) ends at x = 0.3."""
    config = CampaignConfig.from_dict({
        "name": "hills",
        "parameters": [{"name": "x", "type": "continuous", "bounds": [0.0, 1.0]}],
        "objectives": [{"name": "y", "goal": "maximize"}],
    })
    x = np.array([0.0, 0.04, 0.08, 0.1, 0.12, 0.16, 0.2, 0.88, 0.94])
    y = np.where(x < 0.5, 1.0 - 10.0 * (x - 0.1) ** 2, 0.97 - 10.0 * (x - 0.91) ** 2)
    return config, pd.DataFrame({"x": x, "y": y})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_whole_space_slot_leaves_the_trust_region_only_when_asked(seed: int) -> None:
    config, history = _two_hills()
    best_x = float(history.loc[history["y"].idxmax(), "x"])
    wide = propose(config, history, 3, seed=seed, settings=replace(EngineSettings.fast(), whole_space_slots=1)).recipes
    assert list(wide["strategy"]) == ["qlognei", "qlognei", "whole_space"]
    assert (np.abs(wide["x"].iloc[:2] - best_x) <= 0.2 + 1e-6).all()
    assert wide["x"].iloc[2] > 0.5, "the whole-space slot should reach the other hill"
    plain = propose(config, history, 3, seed=seed, settings=EngineSettings.fast()).recipes
    assert list(plain["strategy"]) == ["qlognei"] * 3
    assert (np.abs(plain["x"] - best_x) <= 0.2 + 1e-6).all()
    # a batch of one keeps its trust region
    single = propose(config, history, 1, seed=seed, settings=replace(EngineSettings.fast(), whole_space_slots=1))
    assert "whole_space" not in set(single.recipes["strategy"])
    assert abs(float(single.recipes["x"].iloc[0]) - best_x) <= 0.2 + 1e-6


def test_the_whole_space_slot_is_explained() -> None:
    from doe.domain.explain import purpose

    config, history = _two_hills()
    wide = propose(config, history, 3, seed=0, settings=replace(EngineSettings.fast(), whole_space_slots=1)).recipes
    text = purpose(wide.iloc[2], history.assign(experiment_id=[f"e{i}" for i in range(len(history))]), None, config)
    assert text == "chosen from the whole range, not only near the best recipe"
