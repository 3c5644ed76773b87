"""Surrogates: estimator discipline, partial outcomes, robustness, LOO and importance."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from engine_helpers import random_recipes, smooth_outcomes

from doe.domain import CampaignConfig
from doe.engine import EngineSettings, Surrogates
from doe.errors import ProposalError


def test_predict_before_fit_raises(hfo2: CampaignConfig) -> None:
    surrogates = Surrogates(hfo2)
    for call in (lambda: surrogates.predict(random_recipes(hfo2, 2, 0)), surrogates.cross_validate,
                 surrogates.feature_importance):
        with pytest.raises(ProposalError, match=r"call fit\(\) first"):
            call()


def test_partial_outcomes_get_their_own_models(hfo2: CampaignConfig, fast: EngineSettings) -> None:
    table = smooth_outcomes(hfo2, random_recipes(hfo2, 12, 1))
    table.loc[5:, "capacity_retention_pct"] = np.nan  # retention arrives weeks later
    table.loc[:, "coating_thickness_nm"] = np.nan
    table.loc[0, "coating_thickness_nm"] = 7.0
    surrogates = Surrogates(hfo2, fast).fit(table, seed=0)
    assert surrogates.n_train_["first_cycle_ce_pct"] == 12
    assert surrogates.n_train_["capacity_retention_pct"] == 5
    assert surrogates.n_train_["coating_thickness_nm"] == 1
    assert "coating_thickness_nm" not in surrogates.fitted_outcomes_
    assert "capacity_retention_pct" in surrogates.fitted_outcomes_
    recipes = random_recipes(hfo2, 4, 2)
    pred = surrogates.predict(recipes)
    assert list(pred.index) == list(recipes.index)
    assert pred["coating_thickness_nm_mean"].isna().all()
    assert pred["capacity_retention_pct_mean"].notna().all()
    assert (pred["capacity_retention_pct_sd"] > 0).all()
    # with no model for the constrained outcome, only the feasibility model counts (no failures: 1)
    assert np.allclose(pred["probability_feasible"], 1.0)
    # the retention model was trained on its 5 rows only: LOO lists exactly those
    loo = surrogates.cross_validate()
    assert sorted(loo.loc[loo["outcome"] == "capacity_retention_pct", "experiment_index"]) == [0, 1, 2, 3, 4]


def test_predictions_interpolate_and_report_constraint_probability(hfo2: CampaignConfig, fast: EngineSettings) -> None:
    table = smooth_outcomes(hfo2, random_recipes(hfo2, 25, 3), noise=0.0)
    table["first_cycle_ce_pct"] += 50  # inside its valid_range [0, 100], where predictions are truncated
    surrogates = Surrogates(hfo2, fast).fit(table)
    pred = surrogates.predict(table[hfo2.parameter_names])
    err = np.abs(pred["first_cycle_ce_pct_mean"] - table["first_cycle_ce_pct"])
    assert err.max() < 0.2 * table["first_cycle_ce_pct"].std()
    # the synthetic thickness is about -1..1, far below 15 nm: feasible
    assert (pred["probability_feasible"] > 0.95).all()
    strict = hfo2.replace(constraints=["coating_thickness_nm >= 60"])  # far above every value
    pred_strict = Surrogates(strict, fast).fit(table).predict(table[hfo2.parameter_names])
    assert (pred_strict["probability_feasible"] < 0.05).all()


def test_one_objectives_tolerance_counts_in_the_probability_feasible(hfo2: CampaignConfig, fast: EngineSettings) -> None:
    table = smooth_outcomes(hfo2, random_recipes(hfo2, 25, 3), noise=0.0)
    ce = table["first_cycle_ce_pct"]
    raw = hfo2.to_dict()
    raw.pop("constraints", None)

    def probability(objective: dict[str, object]) -> np.ndarray:
        config = CampaignConfig.from_dict({**raw, "objectives": [{"name": "first_cycle_ce_pct", **objective}]})
        return Surrogates(config, fast).fit(table).predict(table[hfo2.parameter_names])["probability_feasible"].to_numpy()

    # a set point far above every measured value, with a narrow tolerance: no recipe is predicted within it
    assert (probability({"goal": "target", "target": float(ce.max() + 10 * ce.std()), "tolerance": float(ce.std() / 10)})
            < 0.01).all()
    assert np.allclose(probability({"goal": "target", "target": float(ce.median())}), 1.0)  # no tolerance: no limit
    assert (probability({"goal": "maximize", "threshold": float(ce.min() - 10 * ce.std())}) > 0.99).all()
    # the other sides: a threshold above every value, a set point below every value
    assert (probability({"goal": "maximize", "threshold": float(ce.max() + 10 * ce.std())}) < 0.01).all()
    assert (probability({"goal": "target", "target": float(ce.min() - 10 * ce.std()), "tolerance": float(ce.std() / 10)})
            < 0.01).all()


def test_robust_one_point_duplicates_constant(hfo2: CampaignConfig, fast: EngineSettings,
                                              caplog: pytest.LogCaptureFixture) -> None:
    one = smooth_outcomes(hfo2, random_recipes(hfo2, 1, 4))
    with caplog.at_level(logging.INFO, logger="doe.engine"):
        surrogates = Surrogates(hfo2, fast).fit(one)
    assert surrogates.fitted_outcomes_ == []
    assert "at least 2" in caplog.text
    assert surrogates.predict(random_recipes(hfo2, 2, 5)).filter(like="_mean").isna().all().all()
    assert surrogates.cross_validate().empty
    # the same recipe measured four times with tiny differences, plus a constant outcome
    base = smooth_outcomes(hfo2, random_recipes(hfo2, 1, 6))
    dup = pd.concat([base] * 4, ignore_index=True)
    dup["first_cycle_ce_pct"] += [0.0, 1e-9, 0.0, 2e-9]
    dup["rate_capability_pct"] = 81.5
    surrogates = Surrogates(hfo2, fast).fit(dup)
    pred = surrogates.predict(random_recipes(hfo2, 3, 7))
    assert np.isfinite(pred["first_cycle_ce_pct_mean"]).all() and np.isfinite(pred["first_cycle_ce_pct_sd"]).all()
    assert (pred["rate_capability_pct_mean"] == 81.5).all() and (pred["rate_capability_pct_sd"] == 0).all()
    assert surrogates.kind("rate_capability_pct") == "constant"
    loo = surrogates.cross_validate()
    assert np.isfinite(loo["predicted_mean"]).all()


def test_cross_validate_shape_and_quality(hfo2: CampaignConfig, fast: EngineSettings) -> None:
    table = smooth_outcomes(hfo2, random_recipes(hfo2, 30, 8), noise=0.01)
    surrogates = Surrogates(hfo2, fast).fit(table)
    loo = surrogates.cross_validate()
    assert list(loo.columns) == ["experiment_index", "outcome", "measured", "predicted_mean", "predicted_sd"]
    assert len(loo) == 30 * len(hfo2.outcome_names)
    assert (loo["predicted_sd"] > 0).all()
    ce = loo[loo["outcome"] == "first_cycle_ce_pct"]
    corr = np.corrcoef(ce["measured"], ce["predicted_mean"])[0, 1]
    assert corr > 0.5, f"LOO predictions should follow the measurements (r = {corr:.2f})"
    # closed-form LOO equals refitting-free brute force: drop one row and condition on the rest
    gp = surrogates.model("first_cycle_ce_pct")
    data_X = surrogates.X_
    y = table["first_cycle_ce_pct"].to_numpy()
    from doe.engine.gp import ExactGP

    brute = ExactGP({i: len(v) for i, v in surrogates.encoder_.cat_dims.items()}, 9, surrogates.device_)
    brute.set_hyperparameters(gp.lengthscale_.numpy(), gp.noise_, gp.constant_, data_X[1:], y[1:])
    brute.y_mean_, brute.y_sd_ = gp.y_mean_, gp.y_sd_
    brute._condition(brute.X_train_, (brute.z_train_ * np.std(y[1:], ddof=1) + y[1:].mean() - gp.y_mean_) / gp.y_sd_)
    import torch

    mean, _ = brute.mean_cov(torch.as_tensor(data_X[:1]), full_cov=False)
    assert abs(float(mean[0]) - float(ce["predicted_mean"].iloc[0])) < 1e-6 * max(1.0, abs(float(mean[0])))


def test_feature_importance_finds_the_driver(fast: EngineSettings) -> None:
    config = CampaignConfig.from_dict({
        "name": "imp", "objectives": [{"name": "y", "goal": "maximize"}], "outcomes": [{"name": "w"}],
        "parameters": [{"name": "a", "type": "continuous", "bounds": [0, 10]},
                       {"name": "b", "type": "continuous", "bounds": [1, 100], "log_scale": True},
                       {"name": "c", "type": "categorical", "values": ["x", "y", "z"]},
                       {"name": "d", "type": "discrete", "values": [1, 2, 3]}],
    })
    recipes = random_recipes(config, 30, 9)
    table = recipes.copy()
    table["y"] = np.sin(recipes["a"].to_numpy() / 3.0) * 3
    table["w"] = recipes["c"].map({"x": 0.0, "y": 2.0, "z": -2.0}) + 0.01 * recipes["a"]
    surrogates = Surrogates(config, fast).fit(table)
    importance = surrogates.feature_importance()
    assert list(importance.index) == ["a", "b", "c", "d"]
    assert list(importance.columns) == ["y", "w"]
    assert np.allclose(importance.sum(), 1.0)
    assert (importance >= 0).all().all()
    assert importance["y"].idxmax() == "a" and importance.loc["a", "y"] > 0.8
    assert importance["w"].idxmax() == "c"


def test_settings(fast: EngineSettings) -> None:
    import json

    json.dumps(EngineSettings().to_dict())
    assert fast.num_restarts < EngineSettings().num_restarts
    assert EngineSettings().design_size(9) == 6
    assert EngineSettings(initial_design_size=3).design_size(9) == 3
    for bad in ({"device": "tpu"}, {"num_restarts": 0}, {"raw_samples": 1, "num_restarts": 2},
                {"initial_design_size": 1}, {"trust_region_width": 0.0}, {"trust_region_width": 1.5},
                {"best_guess_width": None}, {"best_guess": "yes"}, {"kernel": "laplace"},
                {"lengthscale_prior": (0.0, 0.0)}, {"lengthscale_prior": (float("nan"), 1.0)},
                {"lengthscale_prior": 1.0}, {"lengthscale_prior": (1.0, 2.0, 3.0)},
                {"noise_prior": (-4.0, 0.0)}, {"noise_prior": (float("inf"), 1.0)}, {"noise_prior": "wide"}):
        with pytest.raises(ProposalError, match=f"EngineSettings.{next(iter(bad))}|raw_samples"):
            EngineSettings(**bad)  # type: ignore[arg-type]
    assert EngineSettings(trust_region_width=None).trust_region_width is None
    # a prior given as a list (as stored in JSON) comes back as the same tuple
    assert EngineSettings(lengthscale_prior=[0.5, 1]).lengthscale_prior == (0.5, 1.0)
    assert EngineSettings().with_text({"noise_prior": "-4,2"}).noise_prior == (-4.0, 2.0)
    assert str(EngineSettings(device="cpu").torch_device()) == "cpu"


def test_noise_prior_setting_reaches_every_fitted_gp(hfo2: CampaignConfig, fast: EngineSettings) -> None:
    """``EngineSettings.noise_prior`` is the prior of each outcome's GP, and on noisy outcomes the
    prior centred higher learns more noise (the engine's model description names it)."""
    table = smooth_outcomes(hfo2, random_recipes(hfo2, 14, 5))
    rng = np.random.default_rng(5)
    outcome = "first_cycle_ce_pct"
    table[outcome] = table[outcome] + 3.0 * table[outcome].std() * rng.standard_normal(len(table))
    table["failed"] = False
    default = Surrogates(hfo2, fast).fit(table, seed=0)
    wide = Surrogates(hfo2, replace(fast, noise_prior=(-1.0, 0.5))).fit(table, seed=0)
    assert default.model(outcome).noise_prior == (-4.0, 1.0)
    assert wide.model(outcome).noise_prior == (-1.0, 0.5)
    assert wide.model(outcome).noise_ > 2 * default.model(outcome).noise_


def test_training_data_is_a_read_only_view_of_each_outcome(hfo2: CampaignConfig, fast: EngineSettings) -> None:
    table = smooth_outcomes(hfo2, random_recipes(hfo2, 10, 21))
    table.loc[[2, 7], "capacity_retention_pct"] = np.nan
    table["failed"] = False
    table.loc[4, "failed"] = True
    table.loc[4, hfo2.outcome_names] = np.nan
    surrogates = Surrogates(hfo2, fast).fit(table, seed=0)
    data = surrogates.training_data("capacity_retention_pct")
    assert data.kind == "gp"
    assert data.positions.tolist() == [0, 1, 3, 5, 6, 8, 9]
    assert np.array_equal(data.y, table["capacity_retention_pct"].to_numpy()[data.positions])
    assert np.array_equal(data.X, surrogates.encoder_.encode(table.iloc[data.positions]))
    with pytest.raises(ValueError, match="read-only"):
        data.y[0] = 0.0
    with pytest.raises(AttributeError):
        data.kind = "none"  # type: ignore[misc]
    with pytest.raises(ProposalError, match="'thickness': not an outcome"):
        surrogates.training_data("thickness")
    model = surrogates.acquisition_model(["capacity_retention_pct", "first_cycle_ce_pct"])
    assert model.num_outputs == 2
    assert model.gps[0] is surrogates.model("capacity_retention_pct")
    table.loc[:, "coating_thickness_nm"] = np.nan
    sparse = Surrogates(hfo2, fast).fit(table, seed=0)
    assert sparse.training_data("coating_thickness_nm").kind == "none"
    with pytest.raises(ProposalError, match="'coating_thickness_nm' has no GP"):
        sparse.acquisition_model(["coating_thickness_nm"])


def test_a_mean_of_three_tight_cells_counts_more_than_one_cell(hfo2: CampaignConfig, fast: EngineSettings) -> None:
    # the same mean at recipe 0, once from one cell and once from three cells that agree
    # closely: the replicated mean must pull the posterior closer and leave it less uncertain
    table = smooth_outcomes(hfo2, random_recipes(hfo2, 14, 3), noise=0.15)
    ce = "first_cycle_ce_pct"
    table.loc[0, ce] += 0.6  # the measured mean sits away from the smooth trend
    measured = float(table.loc[0, ce])
    single = table.copy()
    replicated = table.copy()
    replicated[f"{ce}_n"] = 1
    replicated[f"{ce}_sd"] = np.nan
    replicated.loc[0, f"{ce}_n"] = 3
    replicated.loc[0, f"{ce}_sd"] = 0.02
    recipe = table.loc[[0], hfo2.parameter_names]
    one = Surrogates(hfo2, fast).fit(single, seed=0)
    three = Surrogates(hfo2, fast).fit(replicated, seed=0)
    assert three.training_data(ce).cells.tolist() == [3.0] + [1.0] * 13
    p1, p3 = one.predict(recipe).iloc[0], three.predict(recipe).iloc[0]
    assert p3[f"{ce}_sd"] < 0.8 * p1[f"{ce}_sd"]
    assert abs(p3[f"{ce}_mean"] - measured) < abs(p1[f"{ce}_mean"] - measured)
    # the other outcomes carry no replicate columns and are fitted exactly as before
    other = "capacity_retention_pct"
    assert one.predict(recipe).iloc[0][f"{other}_sd"] == pytest.approx(three.predict(recipe).iloc[0][f"{other}_sd"])


def test_feature_importance_of_a_parameter_that_never_varied_is_zero(fast: EngineSettings) -> None:
    # The two-recipe demo's complaint: solvent and atmosphere ranked first although neither varied.
    config = CampaignConfig.from_dict({
        "name": "imp0", "objectives": [{"name": "y", "goal": "maximize"}],
        "parameters": [{"name": "a", "type": "continuous", "bounds": [0, 10]},
                       {"name": "t", "type": "continuous", "bounds": [0, 10]},
                       {"name": "solvent", "type": "categorical", "values": ["nmp", "toluene", "water"]},
                       {"name": "d", "type": "discrete", "values": [1, 2, 3]}],
    })
    recipes = random_recipes(config, 20, 4)
    recipes["solvent"], recipes["t"], recipes["d"] = "nmp", 5.0, 2.0
    table = recipes.copy()
    table["y"] = np.sin(recipes["a"].to_numpy() / 3.0) * 3
    importance = Surrogates(config, fast).fit(table).feature_importance()["y"]
    assert importance["solvent"] == 0.0 and importance["t"] == 0.0 and importance["d"] == 0.0
    assert importance["a"] == pytest.approx(1.0)


def test_feature_importance_not_biased_to_a_categorical_without_effect(fast: EngineSettings) -> None:
    config = CampaignConfig.from_dict({
        "name": "imp1", "objectives": [{"name": "y", "goal": "maximize"}],
        "parameters": [{"name": "a", "type": "continuous", "bounds": [0, 10]},
                       {"name": "solvent", "type": "categorical", "values": ["nmp", "toluene", "water", "dmf"]}],
    })
    recipes = random_recipes(config, 16, 5)
    recipes["solvent"] = np.where(np.arange(16) % 2 == 0, "nmp", "water")  # two of the four labels tried
    table = recipes.copy()
    table["y"] = 0.3 * recipes["a"].to_numpy() + np.random.default_rng(0).normal(0, 0.05, 16)
    importance = Surrogates(config, fast).fit(table).feature_importance()["y"]
    assert importance["solvent"] < 0.1 < 0.9 < importance["a"]


@pytest.mark.parametrize("scale", [1e-13, 1e-12, 1e6])
def test_an_outcome_is_modelled_the_same_at_any_scale(scale: float) -> None:
    """A diffusivity of about 1e-12 cm^2/s (found by a probe): the sd was 1e10 times the data at
    1e-12, and at 1e-13 the values (a factor 2.5 apart) were read as one constant. Standardising
    is relative to the values' own scale."""
    from doe import Campaign

    config = {"name": "scale", "seed": 1, "parameters": [{"name": "x", "type": "continuous", "bounds": [0.0, 10.0]}],
              "objectives": [{"name": "d_li", "goal": "maximize"}]}
    xs = np.linspace(0, 10, 8)
    predicted = []
    for factor in (1.0, scale):
        campaign = Campaign.from_config(config, storage=":memory:", settings=EngineSettings.fast())
        campaign.record(pd.DataFrame({"x": xs, "d_li": factor * (1 + np.sin(xs / 3))}))
        predicted.append(campaign.predict(pd.DataFrame({"x": [1.0, 5.0]}))[["d_li_mean", "d_li_sd"]].to_numpy())
    np.testing.assert_allclose(predicted[1], scale * predicted[0], rtol=1e-4)


def test_predictions_shown_keep_to_the_outcomes_valid_range() -> None:
    """A CE with valid_range [0, 100], measured at 0 and 100, was predicted at 102 % in the
    suggestion table (and below 0 by Campaign.predict): values the configuration says it cannot
    take. They are now the posterior truncated to the range, as a curve's predictions are."""
    from doe import Campaign

    config = {"name": "vr", "seed": 1, "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]},
              {"name": "t", "type": "continuous", "bounds": [1e-3, 10], "log_scale": True}],
              "objectives": [{"name": "ce", "goal": "maximize", "valid_range": [0, 100]}],
              "outcomes": [{"name": "free", "valid_range": None}]}
    campaign = Campaign.from_config(config, storage=":memory:", actor="t", settings=EngineSettings.fast())
    first = campaign.suggest(6)
    campaign.record(first[["experiment_id"]].assign(ce=np.where(first.x > 0.5, 100.0, 0.0), free=250 * first.x - 20))
    batch = campaign.suggest(3)
    grid = campaign.predict(pd.DataFrame({"x": np.linspace(0, 1, 41), "t": 1.0}))
    for table in (batch, grid):
        assert table.ce_mean.between(0, 100).all() and (table.ce_sd >= 0).all(), table.ce_mean.tolist()
    assert grid.ce_mean.max() > 50 > grid.ce_mean.min()  # still the model's picture
    assert (grid.free_mean < 0).any()  # an outcome without a range: as the model says
