"""Furnace-shared batches: one value of the shared parameters per batch, chosen jointly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from engine_helpers import assert_in_space, random_recipes, smooth_outcomes

from doe import Campaign
from doe.domain import CampaignConfig
from doe.engine import EngineSettings, propose
from doe.engine.acquisition import AcquisitionFactory
from doe.engine.encoding import Encoder
from doe.engine.optimize import optimize_space
from doe.engine.shared import SharedLayout, optimize_shared
from doe.errors import ConfigError, ProposalError

SHARED = ["anneal_temperature_c", "anneal_time_h", "anneal_atmosphere", "bath_c"]


def furnace_config(**changes: Any) -> CampaignConfig:
    data: dict[str, Any] = {
        "name": "furnace",
        "parameters": [
            {"name": "loading_wt_pct", "type": "continuous", "bounds": [0, 3], "resolution": 0.01},
            {"name": "ligand_ratio", "type": "continuous", "bounds": [0, 1]},
            {"name": "solvent", "type": "categorical", "values": ["chloroform", "toluene", "hexane"]},
            {"name": "anneal_temperature_c", "type": "continuous", "bounds": [250, 750], "resolution": 5},
            {"name": "anneal_time_h", "type": "continuous", "bounds": [0.5, 6], "log_scale": True},
            {"name": "anneal_atmosphere", "type": "categorical", "values": ["O2", "air", "Ar"]},
            {"name": "bath_c", "type": "discrete", "values": [40, 50, 60, 70, 80]},
        ],
        "objectives": [{"name": "ce_pct", "goal": "maximize"}],
        "constraints": ["loading_wt_pct + 0.004 * anneal_temperature_c <= 4.5"],
        "batch_shared": SHARED,
    }
    data.update(changes)
    return CampaignConfig.from_dict(data)


def assert_shared_identical(recipes: pd.DataFrame, names: list[str]) -> None:
    for name in names:
        assert recipes[name].nunique() == 1, f"{name} differs within the batch: {list(recipes[name])}"


def _experiments(config: CampaignConfig, n: int, seed: int) -> pd.DataFrame:
    table = smooth_outcomes(config, random_recipes(config, n, seed), seed)
    return table


@pytest.mark.parametrize("shared_search", ["joint", "first_slot", "best_guess", "both", "thompson"])
@pytest.mark.parametrize("seed", [0, 1])
def test_shared_columns_identical_in_model_batches(seed: int, shared_search: str) -> None:
    config = furnace_config()
    experiments = _experiments(config, 16, seed)
    settings = EngineSettings.fast().with_text({"shared_search": shared_search})
    proposal = propose(config, experiments, 4, seed=seed, settings=settings)
    assert proposal.strategy == "qlognei"
    recipes = proposal.recipes
    assert_in_space(config, recipes)
    assert_shared_identical(recipes, SHARED)
    assert recipes["loading_wt_pct"].nunique() > 1 or recipes["solvent"].nunique() > 1  # rows still differ
    assert recipes["anneal_temperature_c"].iloc[0] % 5 == 0
    assert proposal.model_settings["batch_shared"] == SHARED


def test_initial_design_respects_shared_and_fixed_overrides() -> None:
    config = furnace_config()
    empty = pd.DataFrame(columns=[*config.parameter_names, "ce_pct"])
    initial = propose(config, empty, 4, seed=3, settings=EngineSettings.fast())
    assert initial.strategy == "initial_design"
    assert_shared_identical(initial.recipes, SHARED)
    assert initial.recipes["ligand_ratio"].nunique() == 4  # space-filling within the batch
    fixed = propose(config, _experiments(config, 16, 2), 3, seed=2, settings=EngineSettings.fast(),
                    fixed={"anneal_temperature_c": 402.5, "anneal_atmosphere": "air"})
    assert list(fixed.recipes["anneal_temperature_c"]) == [402.5] * 3  # fixed= wins over the grid too
    assert list(fixed.recipes["anneal_atmosphere"]) == ["air"] * 3
    assert_shared_identical(fixed.recipes, SHARED)


def test_pending_batches_keep_their_own_shared_values() -> None:
    config = furnace_config()
    campaign = Campaign.from_config(config.replace(seed=5), storage=":memory:", actor="test",
                                    settings=EngineSettings.fast())
    first = campaign.suggest(3)
    second = campaign.suggest(3)
    assert_shared_identical(first, SHARED)
    assert_shared_identical(second, SHARED)
    shared_first = first[SHARED].iloc[0].tolist()
    assert second[SHARED].iloc[0].tolist() != shared_first  # the new batch is not forced onto the pending one
    pending = campaign.pending().set_index("experiment_id")
    stored = pending.loc[first["experiment_id"], SHARED]
    assert (stored.to_numpy() == first[SHARED].to_numpy()).all()


def _without_ar() -> tuple[CampaignConfig, pd.DataFrame]:
    """Experiments that used every shared value but the atmosphere Ar (and the solvent hexane)."""
    config = furnace_config()
    experiments = _experiments(config, 16, 0)
    experiments["anneal_atmosphere"] = ["O2", "air"] * 8  # Ar never used
    experiments["bath_c"] = [40, 50, 60, 70, 80, 40, 50, 60] * 2
    experiments["solvent"] = ["chloroform", "toluene"] * 8  # hexane never used, but it is not shared
    return config, experiments


@pytest.mark.parametrize("shared_search", ["joint", "first_slot", "best_guess", "both", "thompson"])
def test_a_furnace_run_tries_the_shared_label_no_experiment_has_used(shared_search: str) -> None:
    """``shared_explore_untried``: the batch holds the atmosphere never used (every bath value
    has been), its rows say so; once that run is pending or measured, the next run is ordinary."""
    config, experiments = _without_ar()
    settings = EngineSettings.fast().with_text({"shared_explore_untried": "true", "shared_search": shared_search})
    campaign = Campaign.from_config(config.replace(seed=2), storage=":memory:", actor="test", settings=settings)
    campaign.record(experiments)
    exploring = campaign.suggest(4)
    assert_shared_identical(exploring, SHARED)
    assert set(exploring["anneal_atmosphere"]) == {"Ar"}
    assert set(exploring["strategy"]) == {"explore_untried"}
    assert_in_space(config, exploring[config.parameter_names])
    after = campaign.suggest(4)  # Ar is now pending: nothing is untried
    assert set(after["strategy"]) == {"qlognei"}


def test_exploring_a_shared_label_is_off_by_default_and_yields_to_fixed_values() -> None:
    config, experiments = _without_ar()
    plain = propose(config, experiments, 4, seed=2, settings=EngineSettings.fast())
    assert set(plain.recipes["strategy"]) == {"qlognei"}
    settings = EngineSettings.fast().with_text({"shared_explore_untried": "true"})
    held = propose(config, experiments, 4, seed=2, settings=settings, fixed={"anneal_atmosphere": "O2"})
    assert set(held.recipes["anneal_atmosphere"]) == {"O2"}
    assert set(held.recipes["strategy"]) == {"qlognei"}


# ---- a toy acquisition where the batch's best shared value is not any single row's best ----
class _Toy(torch.nn.Module):
    """Batch value of ``X (b, q, 2)`` (column 0 = shared t, column 1 = x), both in [0, 1]:

    ``max_rows peak(t, x) + sum_rows ridge(t)``: a narrow peak of height 1 at (t, x) = (0.9, 0.5)
    that only one row of a batch can use (like expected improvement: a second row at the same
    place adds nothing), and a ridge of height 0.6 at t = 0.2 that every row gains from. One
    row alone is best at the peak (t = 0.9, value 1 against 0.6); a batch of four sharing t is
    best on the ridge (t = 0.2: about 4 x 0.6 = 2.4 against about 1 at t = 0.9).
    """

    X_pending = None

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        t, x = X[..., 0], X[..., 1]
        peak = torch.exp(-((t - 0.9) ** 2 + (x - 0.5) ** 2) / 0.05)
        ridge = 0.6 * torch.exp(-((t - 0.2) ** 2) / 0.01)
        return peak.max(dim=-1).values + ridge.sum(dim=-1)

    def set_X_pending(self, X: torch.Tensor | None) -> None:
        pass


def _toy_space() -> Encoder:
    return Encoder(CampaignConfig.from_dict({
        "name": "toy", "batch_shared": ["t"],
        "parameters": [{"name": "t", "type": "continuous", "bounds": [0, 1]},
                       {"name": "x", "type": "continuous", "bounds": [0, 1]}],
        "objectives": [{"name": "y", "goal": "maximize"}]}))


def test_joint_shared_value_differs_from_any_single_rows_best() -> None:
    encoder = _toy_space()
    make = AcquisitionFactory(build=lambda pending: _Toy())
    settings = EngineSettings()
    alone, _ = optimize_space(make, encoder, 1, {}, np.zeros((0, 2)), settings, 0, torch.device("cpu"))
    assert abs(alone[0, 0] - 0.9) < 0.05  # one row alone (and so "copy the first row") picks the peak
    batch = optimize_shared(make, encoder, 4, [0], {}, settings, 0, torch.device("cpu"))
    assert np.all(batch[:, 0] == batch[0, 0])
    assert abs(batch[0, 0] - 0.2) < 0.05, f"shared t = {batch[0, 0]}: the joint batch value is best on the ridge"


def test_layout_expands_shared_once_and_rows_apart() -> None:
    layout = SharedLayout(3, [1], 2)
    z = np.array([[9.0, 1.0, 2.0, 3.0, 4.0]])
    assert layout.expand(z).tolist() == [[[1.0, 9.0, 2.0], [3.0, 9.0, 4.0]]]
    assert layout.reduce(layout.expand(z)).tolist() == z.tolist()


@pytest.mark.parametrize("bad, message", [
    (["nope"], r"\['nope'\] are not parameters"),
    (["anneal_temperature_c", "anneal_temp_c"], r"\['anneal_temp_c'\] are not parameters"),
    ([1], "list of parameter names"),
    (["ligand_ratio", "ligand_ratio"], "more than once"),
    ("anneal_time_h", "list of parameter names"),
    ([p for p in ["loading_wt_pct", "ligand_ratio", "solvent", *SHARED]], "every parameter"),
])
def test_bad_batch_shared_is_refused(bad: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        furnace_config(batch_shared=bad)
    assert "batch_shared" in str(err.value)


def test_batch_shared_round_trips() -> None:
    config = furnace_config()
    assert CampaignConfig.from_dict(config.to_dict()) == config
    assert config.to_dict()["batch_shared"] == SHARED


def test_first_slot_takes_the_shared_values_of_the_best_single_recipe() -> None:
    """``shared_search="first_slot"``: the batch's shared values are those of the batch of one."""
    config = furnace_config()
    experiments = _experiments(config, 16, 3)
    settings = EngineSettings.fast().with_text({"shared_search": "first_slot"})
    single = propose(config, experiments, 1, seed=3, settings=settings).recipes
    batch = propose(config, experiments, 4, seed=3, settings=settings).recipes
    assert_shared_identical(batch, SHARED)
    for name in SHARED:
        assert batch[name].iloc[0] == pytest.approx(single[name].iloc[0]), name


def test_best_guess_takes_the_shared_values_of_the_models_best_guess() -> None:
    """``shared_search="best_guess"``: the batch's shared values are those of the recipe the model
    expects to be best (a batch of one after an odd number of experiments is that best guess),
    not those of the best single recipe by the acquisition (``"first_slot"``)."""
    config = furnace_config()
    experiments = _experiments(config, 17, 3)
    guess = propose(config, experiments, 1, seed=3, settings=EngineSettings.fast()).recipes
    assert list(guess["strategy"]) == ["best_guess"]
    first_slot = propose(config, experiments, 4, seed=3,
                         settings=EngineSettings.fast().with_text({"shared_search": "first_slot"})).recipes
    batch = propose(config, experiments, 4, seed=3,
                    settings=EngineSettings.fast().with_text({"shared_search": "best_guess"})).recipes
    assert_shared_identical(batch, SHARED)
    for name in SHARED:
        assert batch[name].iloc[0] == pytest.approx(guess[name].iloc[0]), name
    assert any(batch[name].iloc[0] != first_slot[name].iloc[0] for name in SHARED)


def test_thompson_takes_the_programme_from_a_posterior_sample() -> None:
    """``shared_search="thompson"``: the programme maximises a posterior sample, so where the data
    pin CE to the anneal temperature (best at 400 C, 10 points lower 100 C away) every seed's
    programme lies near 400 C, while seeds still draw different programmes; one seed, one batch."""
    config = furnace_config(constraints=[])
    experiments = random_recipes(config, 40, 7)
    experiments["ce_pct"] = 90.0 - 10.0 * ((experiments["anneal_temperature_c"] - 400.0) / 100.0) ** 2
    experiments["failed"] = False
    settings = EngineSettings.fast().with_text({"shared_search": "thompson"})
    batches = [propose(config, experiments, 3, seed=seed, settings=settings).recipes for seed in range(4)]
    for batch in batches:
        assert_shared_identical(batch, SHARED)
        assert 340 <= batch["anneal_temperature_c"].iloc[0] <= 460, batch["anneal_temperature_c"].iloc[0]
    assert len({tuple(b[SHARED].iloc[0]) for b in batches}) > 1  # drawn, not the one best programme
    again = propose(config, experiments, 3, seed=2, settings=settings).recipes
    pd.testing.assert_frame_equal(again, batches[2])


def test_shared_search_is_checked() -> None:
    with pytest.raises(ProposalError, match=r"EngineSettings\.shared_search: must be 'joint', 'first_slot', 'best_guess', "
                       r"'both' or 'thompson'"):
        EngineSettings(shared_search="greedy")  # type: ignore[arg-type]


def _outside_box(config: CampaignConfig, proposal: Any) -> float:
    """How far (model space, beyond the rounding grid) the batch's continuous shared values lie
    outside the trust region around the incumbent; <= 0 inside."""
    encoder = Encoder(config)
    centre = encoder.encode(pd.DataFrame([proposal.model_settings["trust_region"]["centre"]]))[0]
    x = encoder.encode(proposal.recipes[config.parameter_names])[0]
    half = proposal.model_settings["trust_region"]["width"] / 2
    dims = [encoder.names.index(n) for n in ("anneal_temperature_c", "anneal_time_h")]
    return max(abs(x[i] - centre[i]) - half - 0.011 for i in dims)  # 0.011: one 5 C grid step is 0.01


def test_shared_region_trust_region_keeps_the_shared_values_near_the_incumbent() -> None:
    """``shared_region="trust_region"``: the continuous shared values stay in the trust region
    (the default searches them over their whole range, and leaves it on some seeds)."""
    config = furnace_config(constraints=None)
    inside = EngineSettings.fast().with_text({"shared_region": "trust_region", "trust_region_width": "0.2"})
    whole = EngineSettings.fast().with_text({"trust_region_width": "0.2"})
    left = []
    for seed in range(4):
        experiments = _experiments(config, 16, seed)
        boxed = propose(config, experiments, 4, seed=seed, settings=inside)
        assert_shared_identical(boxed.recipes, SHARED)
        assert _outside_box(config, boxed) <= 0, seed
        left.append(_outside_box(config, propose(config, experiments, 4, seed=seed, settings=whole)))
    assert max(left) > 0, left  # the test's space does reach past the box with the default


def test_shared_region_is_checked() -> None:
    with pytest.raises(Exception, match="shared_region"):
        EngineSettings(shared_region="box")  # type: ignore[arg-type]


class _Spike(_Toy):
    """Batch value: every row gains from a broad low hill at t = 0.2 (0.1) and from a spike at
    t = 0.537 (1.0, width 0.001) that no sampled start of the joint search comes near."""

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        t = X[..., 0]
        return (0.1 * torch.exp(-((t - 0.2) ** 2) / 0.05) + torch.exp(-((t - 0.537) ** 2) / 1e-6)).sum(dim=-1)


@pytest.mark.parametrize("seed", [0, 1])
def test_also_shared_values_compete_on_the_joint_acquisition(seed: int) -> None:
    """``shared_search="both"`` passes the best single recipe as ``also_shared``: its shared values
    are tried too, and the batch with the higher joint acquisition wins either way."""
    encoder = _toy_space()
    make = AcquisitionFactory(build=lambda pending: _Spike())
    settings = EngineSettings()
    cpu = torch.device("cpu")

    def per_row(held: dict[int, float]) -> np.ndarray:
        return optimize_space(make, encoder, 4, held, np.zeros((0, 2)), settings, seed, cpu)[0]

    joint_only = optimize_shared(make, encoder, 4, [0], {}, settings, seed, cpu, per_row=per_row)
    assert abs(joint_only[0, 0] - 0.2) < 0.05  # the joint search alone ends on the hill
    spike = np.array([[0.537, 0.5]])
    both = optimize_shared(make, encoder, 4, [0], {}, settings, seed, cpu, per_row=per_row, also_shared=spike)
    assert np.all(both[:, 0] == both[0, 0]) and abs(both[0, 0] - 0.537) < 1e-3
    # a worse candidate changes nothing
    hill = optimize_shared(make, encoder, 4, [0], {}, settings, seed, cpu, per_row=per_row,
                           also_shared=np.array([[0.9, 0.5]]))
    assert abs(hill[0, 0] - 0.2) < 0.05


def test_shared_search_both_reaches_the_first_slot_batch_through_propose() -> None:
    """``"both"`` differs from ``"joint"`` only by the first-slot candidate: on some seeds that
    candidate wins (the batches differ); were it not passed on, every batch would be the joint one."""
    config = furnace_config()
    differ = 0
    for seed in range(4):
        experiments = _experiments(config, 16, seed)
        joint = propose(config, experiments, 4, seed=seed, settings=EngineSettings.fast()).recipes
        both = propose(config, experiments, 4, seed=seed,
                       settings=EngineSettings.fast().with_text({"shared_search": "both"})).recipes
        assert_shared_identical(both, SHARED)
        differ += int(not joint[config.parameter_names].equals(both[config.parameter_names]))
    assert differ >= 1


def test_whole_space_slots_leave_furnace_batches_alone() -> None:
    """Every row of a furnace-shared batch stays in the trust region, whatever ``whole_space_slots`` says."""
    config = furnace_config()
    experiments = _experiments(config, 16, 1)
    for search in ("joint", "first_slot"):
        plain = EngineSettings.fast().with_text({"shared_search": search})
        wide = EngineSettings.fast().with_text({"shared_search": search, "whole_space_slots": "1"})
        a = propose(config, experiments, 4, seed=1, settings=plain).recipes
        b = propose(config, experiments, 4, seed=1, settings=wide).recipes
        assert list(b["strategy"]) == ["qlognei"] * 4
        pd.testing.assert_frame_equal(a[config.parameter_names], b[config.parameter_names])


def test_a_first_batch_from_candidates_takes_a_programme_enough_candidates_share() -> None:
    config = furnace_config()
    base = {"loading_wt_pct": 1.0, "ligand_ratio": 0.5, "solvent": "toluene", "anneal_time_h": 2.0, "bath_c": 60}
    candidates = pd.DataFrame([
        {**base, "anneal_temperature_c": 500, "anneal_atmosphere": "air"},  # a programme of one candidate
        *({**base, "ligand_ratio": r, "anneal_temperature_c": 300, "anneal_atmosphere": "O2"} for r in (0.1, 0.2, 0.3)),
    ])
    empty = pd.DataFrame(columns=[*config.parameter_names, "ce_pct"])
    for seed in range(6):
        batch = propose(config, empty, 2, seed=seed, settings=EngineSettings.fast(), candidates=candidates).recipes
        assert set(batch["anneal_temperature_c"]) == {300.0} and set(batch["anneal_atmosphere"]) == {"O2"}
    with pytest.raises(ProposalError, match="a batch of 4 needs 4 untested candidates with one furnace programme"):
        propose(config, empty, 4, seed=0, settings=EngineSettings.fast(), candidates=candidates)


def test_a_furnace_batch_when_no_recipe_is_left_names_the_batch_size_asked_for() -> None:
    # 9 grid recipes, all proposed: the furnace values' own one-recipe draw must not speak for the batch
    config = CampaignConfig.from_dict({
        "name": "used-up", "seed": 5, "batch_shared": ["x"],
        "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1], "resolution": 0.5},
                       {"name": "y", "type": "continuous", "bounds": [0, 1], "resolution": 0.5}],
        "objectives": [{"name": "ce", "goal": "maximize"}],
    })
    campaign = Campaign.from_config(config, storage=":memory:", actor="test", settings=EngineSettings.fast())
    for _ in range(3):
        campaign.suggest(3)
    with pytest.raises(ProposalError, match=r"only 0 untested recipe\(s\) remain .* but 2 were asked for"):
        campaign.suggest(2)
