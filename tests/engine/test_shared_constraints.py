"""Held (fixed=) values meeting linear constraints: on furnace-shared parameters, and on the
control recipe's row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from engine_helpers import assert_in_space

from doe import Campaign
from doe.domain import CampaignConfig
from doe.engine import EngineSettings, propose
from doe.engine.surrogates import Surrogates
from doe.errors import ProposalError

FURNACE = ["load_wt_pct", "anneal_temperature_c", "anneal_time_h"]


def furnace_config(**changes: Any) -> CampaignConfig:
    """A furnace whose hotter runs allow longer anneals: time <= temperature / 100 - 1."""
    data: dict[str, Any] = {
        "name": "furnace-constraint",
        "seed": 7,
        "parameters": [
            {"name": "load_wt_pct", "type": "continuous", "bounds": [0, 3]},
            {"name": "anneal_temperature_c", "type": "continuous", "bounds": [250, 750]},
            {"name": "anneal_time_h", "type": "continuous", "bounds": [0.5, 6]},
        ],
        "objectives": [{"name": "ce_pct", "goal": "maximize"}],
        "constraints": ["anneal_temperature_c - 100 * anneal_time_h >= 100"],
        "batch_shared": ["anneal_temperature_c", "anneal_time_h"],
    }
    data.update(changes)
    return CampaignConfig.from_dict(data)


def furnace_history() -> pd.DataFrame:
    """Eight feasible runs; a longer anneal is better, so the search presses on the constraint."""
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"load_wt_pct": rng.uniform(0, 3, 8),
                          "anneal_temperature_c": [300.0, 400, 500, 600, 700, 650, 450, 350],
                          "anneal_time_h": [1, 2, 3, 4, 5, 1.5, 2.5, 0.5]})
    table["ce_pct"] = 85 + 3 * np.sin(table["load_wt_pct"]) + table["anneal_time_h"]
    return table


def assert_one_furnace_run_at(recipes: pd.DataFrame, temperature_c: float) -> None:
    assert list(recipes["anneal_temperature_c"]) == [temperature_c] * len(recipes)
    assert recipes["anneal_time_h"].nunique() == 1, recipes["anneal_time_h"].tolist()
    # at 400 C the constraint allows anneals up to 3 h
    assert (recipes["anneal_temperature_c"] - 100 * recipes["anneal_time_h"] >= 100 - 1e-9).all(), recipes


def assert_predictions_are_for_the_stored_rows(surrogates: Surrogates, recipes: pd.DataFrame,
                                               parameters: list[str], outcome: str) -> None:
    again = surrogates.predict(recipes[parameters])
    for column in (f"{outcome}_mean", f"{outcome}_sd"):
        np.testing.assert_allclose(recipes[column].to_numpy(), again[column].to_numpy(), rtol=1e-6, atol=1e-9,
                                   err_msg=column)


@pytest.mark.parametrize("shared_search", ["joint", "first_slot", "both"])
def test_a_held_shared_value_and_a_constraint_linking_the_shared_parameters_give_one_feasible_run(
        shared_search: str) -> None:
    config = furnace_config()
    history = furnace_history()
    settings = EngineSettings.fast().with_text({"shared_search": shared_search})
    fixed = {"anneal_temperature_c": 400.0}
    first = propose(config, history.iloc[:0], 3, fixed=fixed, seed=1, settings=settings)
    assert first.strategy == "initial_design"
    assert_one_furnace_run_at(first.recipes, 400.0)
    modelled = propose(config, history, 3, fixed=fixed, seed=1, settings=settings)
    assert modelled.strategy == "qlognei"
    assert_in_space(config, modelled.recipes)
    assert_one_furnace_run_at(modelled.recipes, 400.0)
    # the joint search chose the anneal: the longest the held temperature allows (longer is better)
    assert modelled.recipes["anneal_time_h"].iloc[0] > 2.5
    pending = modelled.recipes[FURNACE]
    again = propose(config, history, 3, fixed=fixed, pending=pending, seed=2, settings=settings)
    assert again.strategy == "qlognei"
    assert_one_furnace_run_at(again.recipes, 400.0)


@pytest.mark.parametrize("atmosphere", [False, True])
def test_both_shared_values_held_on_the_constraint_boundary_are_accepted(atmosphere: bool) -> None:
    config, history = furnace_config(), furnace_history()
    if atmosphere:  # a shared value left to choose: the joint search runs with the constraint all held
        config = furnace_config(
            parameters=[*config.to_dict()["parameters"], {"name": "atmosphere", "type": "categorical",
                                                          "values": ["air", "O2"]}],
            batch_shared=["anneal_temperature_c", "anneal_time_h", "atmosphere"])
        history["atmosphere"] = ["air", "O2"] * 4
    fixed = {"anneal_temperature_c": 400.0, "anneal_time_h": 3.0}  # exactly on the boundary
    batch = propose(config, history, 3, fixed=fixed, seed=1, settings=EngineSettings.fast()).recipes
    assert list(batch["anneal_time_h"]) == [3.0] * 3
    assert_one_furnace_run_at(batch, 400.0)
    assert all(batch[name].nunique() == 1 for name in config.batch_shared), batch


def test_held_values_no_recipe_can_meet_are_refused_naming_the_constraint() -> None:
    # (Campaign.suggest refuses these values already, as a bad fixed= request; propose says why too)
    with pytest.raises(ProposalError, match=r"fixed values \{'anneal_temperature_c': 250.0, 'anneal_time_h': 2.0\} "
                                            r"\(broken: 'anneal_temperature_c - 100 \* anneal_time_h >= 100'\)") as error:
        propose(furnace_config(), furnace_history(), 3, fixed={"anneal_temperature_c": 250.0, "anneal_time_h": 2.0},
                settings=EngineSettings.fast())
    assert "\n" not in str(error.value)


def control_config(**changes: Any) -> CampaignConfig:
    data: dict[str, Any] = {
        "name": "control", "seed": 4, "control_recipe": "reference",
        "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1], "resolution": 0.1, "reference": 0.3},
                       {"name": "y", "type": "continuous", "bounds": [0, 1], "resolution": 0.1, "reference": 0.6}],
        "objectives": [{"name": "f", "goal": "maximize"}],
        "constraints": ["x + y <= 1"],
    }
    data.update(changes)
    return CampaignConfig.from_dict(data)


CONTROL_HISTORY = pd.DataFrame({"x": [0.1, 0.2, 0.4, 0.5, 0.0], "y": [0.1, 0.5, 0.2, 0.3, 0.9],
                                "f": [1.0, 2.0, 3.0, 4.0, 5.0]})


def test_a_fixed_value_holds_on_the_control_row_too_and_its_prediction_is_for_that_row() -> None:
    config = control_config()
    settings = EngineSettings.fast()
    surrogates = Surrogates(config, settings).fit(CONTROL_HISTORY, seed=0)
    batch = propose(config, CONTROL_HISTORY, 3, fixed={"x": 0.4}, seed=1, settings=settings,
                    surrogates=surrogates).recipes
    control = batch.iloc[-1]
    assert control["strategy"] == "control"
    assert (control["x"], control["y"]) == (0.4, 0.6)  # the held value, the control's own other values
    assert list(batch["x"]) == [0.4] * 3
    assert_predictions_are_for_the_stored_rows(surrogates, batch, ["x", "y"], "f")


def test_a_fixed_value_that_makes_the_control_break_a_constraint_is_refused(tmp_path: Path) -> None:
    campaign = Campaign.from_config(control_config(), storage=f"sqlite:///{tmp_path / 'c.sqlite3'}", actor="t",
                                    settings=EngineSettings.fast())
    refused = r"control_recipe: with the fixed values \{'x': 0.7\} the control recipe breaks the constraint 'x \+ y <= 1'"
    with pytest.raises(ProposalError, match=refused):  # the space-filling start
        campaign.suggest(3, fixed={"x": 0.7})
    assert campaign.history().empty  # nothing stored
    campaign.record(CONTROL_HISTORY)
    with pytest.raises(ProposalError, match=refused):  # the model's batch
        campaign.suggest(3, fixed={"x": 0.7})
    assert len(campaign.history()) == len(CONTROL_HISTORY)
    batch = campaign.suggest(3, fixed={"x": 0.4})
    assert batch["strategy"].iloc[-1] == "control"
    assert (batch["x"] + batch["y"] <= 1 + 1e-9).all()


def test_the_control_of_a_batch_of_two_runs_in_the_batch_furnace_run_and_is_predicted_there() -> None:
    config = furnace_config(control_recipe={"load_wt_pct": 1.0, "anneal_temperature_c": 300.0, "anneal_time_h": 1.0})
    history = furnace_history()
    settings = EngineSettings.fast()
    surrogates = Surrogates(config, settings).fit(history, seed=0)
    batch = propose(config, history, 2, seed=1, settings=settings, surrogates=surrogates).recipes
    assert list(batch["strategy"]) == ["qlognei", "control"]
    assert batch["anneal_temperature_c"].nunique() == 1 and batch["anneal_time_h"].nunique() == 1
    assert batch["load_wt_pct"].iloc[-1] == 1.0
    assert_predictions_are_for_the_stored_rows(surrogates, batch, FURNACE, "ce_pct")


def test_a_control_recipe_the_config_accepts_on_a_constraint_boundary_is_not_checked_again(tmp_path: Path) -> None:
    """A control within the config's tolerance (1e-6 relative) of a constraint, outside the
    encoder's (1e-9): every batch was refused though nothing held changed it (review finding)."""
    from doe.templates import resolve_config

    base = resolve_config("hfo2-ncm85")
    data = base.to_dict()
    data.pop("batch_shared", None)
    data["constraints"] = [*data.get("constraints", []), "hfo2_loading_wt_pct + anneal_time_h <= 4"]
    data["control_recipe"] = {**(base.reference_recipe() or {}), "hfo2_loading_wt_pct": 1.0, "anneal_time_h": 3.000003}
    campaign = Campaign.from_config(data, storage=f"sqlite:///{tmp_path / 'c.sqlite3'}", name="ctl",
                                    settings=EngineSettings.fast())
    batch = campaign.suggest(3)
    assert batch["strategy"].tolist()[-1] == "control" and batch["anneal_time_h"].iloc[-1] == 3.000003


def test_a_furnace_run_that_breaks_the_control_gives_way_to_the_controls_own_run() -> None:
    """The engine chose a furnace run (anneal time) in which the control recipe broke a
    constraint, then refused that and every later batch of the campaign (found by a probe):
    the batch is proposed again in the control recipe's own run."""
    config = {"name": "control-run", "seed": 7,  # a seed whose batches hit the case
              "parameters": [{"name": "loading", "type": "continuous", "bounds": [0.0, 3.0], "reference": 0.83},
                             {"name": "temp", "type": "continuous", "bounds": [250.0, 750.0], "reference": 400.0},
                             {"name": "time_h", "type": "continuous", "bounds": [0.5, 6.0], "reference": 2.0},
                             {"name": "solid", "type": "continuous", "bounds": [5.0, 40.0], "reference": 20.0}],
              "objectives": [{"name": "ce", "goal": "maximize"}],
              "constraints": ["loading + 0.5 * time_h <= 2"],
              "batch_shared": ["temp", "time_h"], "control_recipe": "reference"}
    campaign = Campaign.from_config(config, storage=":memory:", settings=EngineSettings.fast())
    for _ in range(4):
        batch = campaign.suggest(3)
        assert batch["strategy"].iloc[-1] == "control" and batch["loading"].iloc[-1] == 0.83
        assert batch[["temp", "time_h"]].nunique().tolist() == [1, 1]
        assert (batch["loading"] + 0.5 * batch["time_h"] <= 2 + 1e-9).all(), batch
        campaign.record(batch[["experiment_id"]].assign(ce=80 + batch["loading"]))
    settings = campaign.proposals()["model_settings"]
    held = [s for s in settings if s.get("furnace_run_of_the_control")]
    assert held, "the case: a batch whose run the engine chose broke the control"
    with pytest.raises(ProposalError, match="with the fixed values"):  # a value the engineer holds: still said
        campaign.suggest(3, fixed={"loading": 2.0, "temp": 400.0})


def test_several_objectives_with_a_furnace_run_search_a_joint_batch_of_at_most_eight() -> None:
    """The hypervolume of a joint batch costs 2^n: suggest(12) took 172 s and suggest(30) did not
    end (found by a probe). The shared values come from a joint batch of 8; every row is placed."""
    from doe.engine.shared import MAX_JOINT_HYPERVOLUME

    config = {"name": "mo-furnace", "seed": 3,
              "objectives": [{"name": "y0", "goal": "maximize"}, {"name": "y1", "goal": "minimize"}],
              "parameters": [{"name": "a", "type": "continuous", "bounds": [0, 3]},
                             {"name": "T", "type": "continuous", "bounds": [250, 750]}],
              "batch_shared": ["T"]}
    campaign = Campaign.from_config(config, storage=":memory:", settings=EngineSettings.fast())
    first = campaign.suggest(6)
    campaign.record(first[["experiment_id"]].assign(y0=np.sin(first["a"]) + first["T"] / 500,
                                                     y1=first["a"] * 0.3 + first["T"] / 1000))
    small = campaign.suggest(4)
    assert "shared_joint_rows" not in campaign.proposals()["model_settings"].iloc[-1]  # a joint batch of 4, as before
    campaign.abandon(small["experiment_id"].tolist())
    big = campaign.suggest(12)
    assert len(big) == 12 and big["T"].nunique() == 1 and big["a"].nunique() == 12
    assert campaign.proposals()["model_settings"].iloc[-1]["shared_joint_rows"] == MAX_JOINT_HYPERVOLUME == 8


def test_a_batch_larger_than_one_furnace_run_allows_says_so() -> None:
    """'only 2 untested recipe(s) remain in the search space' while 6 were untested: the refusal
    did not say that one furnace run (batch_shared) allows 2 (found by a probe)."""
    config = {"name": "one-run", "seed": 1, "objectives": [{"name": "y", "goal": "maximize"}],
              "parameters": [{"name": "atm", "type": "categorical", "values": ["O2", "air", "Ar"]},
                             {"name": "bath", "type": "discrete", "values": [40.0, 60.0]}],
              "batch_shared": ["atm"]}
    campaign = Campaign.from_config(config, storage=":memory:", settings=EngineSettings.fast())
    with pytest.raises(ProposalError, match=r"only 2 untested recipe\(s\) remain .* \(counted in one furnace run: the "
                                            r"batch shares \{'atm': '\w+'\}, its batch_shared values"):
        campaign.suggest(3)
    assert len(campaign.suggest(2)) == 2
