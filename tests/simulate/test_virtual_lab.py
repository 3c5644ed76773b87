"""The virtual coating lab: calibration, landscape, noise, failures, seeding, validation."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import doe
from doe.domain import validate_experiments
from doe.errors import DataError
from doe.simulate import NOISE_SD, OUTCOMES, VirtualLab, expected_outcomes
from doe.templates import resolve_config

CE = "first_cycle_ce_pct"
CAP = "first_cycle_discharge_capacity_mah_per_g"
RET = "capacity_retention_pct"
RATE = "rate_capability_pct"
RES = "interfacial_resistance_ohm"
THICK = "coating_thickness_nm"


@pytest.fixture(scope="module")
def lab() -> VirtualLab:
    return VirtualLab(seed=0)


@pytest.fixture(scope="module")
def study_truth(lab: VirtualLab) -> pd.Series:
    return lab.truth(VirtualLab.study_recipe()).iloc[0]


@pytest.fixture(scope="module")
def bare_truth(lab: VirtualLab) -> pd.Series:
    return lab.truth(VirtualLab.bare_recipe()).iloc[0]


@pytest.fixture(scope="module")
def random_truth(lab: VirtualLab) -> pd.DataFrame:
    recipes = VirtualLab.random_recipes(50_000, seed=11)
    return pd.DataFrame(expected_outcomes({c: recipes[c].to_numpy() for c in recipes.columns}))


def _vary(**changes: object) -> pd.DataFrame:
    recipe = VirtualLab.study_recipe()
    for name, value in changes.items():
        recipe[name] = value
    return recipe


# ----------------------------------------------------------------- calibration
def test_recipes_are_in_template_columns() -> None:
    config = resolve_config("hfo2-ncm85")
    for recipe in (VirtualLab.study_recipe(), VirtualLab.bare_recipe()):
        assert list(recipe.columns) == config.parameter_names
        validate_experiments(recipe, config, outcomes_allowed=False)
    study = VirtualLab.study_recipe().iloc[0]
    assert study["hfo2_loading_wt_pct"] == 0.83
    assert study["anneal_temperature_c"] == 400.0
    assert study["anneal_time_h"] == 2.0
    assert study["anneal_atmosphere"] == "O2"
    assert study["dispersion_solvent"] == "chloroform"
    assert VirtualLab.bare_recipe().iloc[0]["hfo2_loading_wt_pct"] == 0.0
    assert VirtualLab().config.name == "hfo2-ncm85"


def test_bare_material_matches_the_study(bare_truth: pd.Series) -> None:
    assert bare_truth[CE] == pytest.approx(79.0, abs=1.0)
    assert bare_truth[CAP] == pytest.approx(175.0, abs=3.0)
    assert bare_truth[RET] == pytest.approx(58.0, abs=1.5)
    assert bare_truth[RATE] < 40.0
    assert bare_truth[THICK] == 0.0


def test_study_recipe_matches_the_study(study_truth: pd.Series, bare_truth: pd.Series) -> None:
    assert study_truth[CE] == pytest.approx(90.0, abs=1.0)
    assert study_truth[CAP] == pytest.approx(203.0, abs=3.0)
    assert study_truth[RET] == pytest.approx(70.0, abs=1.5)
    assert study_truth[RATE] == pytest.approx(65.0, abs=3.0)
    assert 5.0 <= study_truth[THICK] <= 11.0
    assert bare_truth[RES] / study_truth[RES] == pytest.approx(3.0, abs=0.4)


def test_truth_agrees_with_the_shipped_history_rows() -> None:
    from doe.datasets import load_recipes

    history = load_recipes()
    truth = VirtualLab().truth(history)
    assert truth["experiment_id"].tolist() == ["study-bare", "study-hfo2"]
    assert np.allclose(truth[CE], history[CE], atol=1.0)
    assert np.allclose(truth[CAP], history[CAP], atol=3.0)
    assert np.allclose(truth[RET], history[RET], atol=1.5)


# ----------------------------------------------------------------- landscape
def test_optimum_beats_the_study_inside_the_space(lab: VirtualLab, study_truth: pd.Series) -> None:
    recipe, truth = lab.optimum(n_samples=50_000, seed=3)
    config = lab.config
    validate_experiments(recipe, config, outcomes_allowed=False)  # inside bounds and labels
    gain = truth[CE].iloc[0] - study_truth[CE]
    assert 2.0 <= gain <= 4.5
    assert truth[THICK].iloc[0] <= 15.0  # the template's constraint holds at the optimum
    assert truth["failure_probability"].iloc[0] < 0.01


def test_random_recipes_rarely_beat_the_study(random_truth: pd.DataFrame, study_truth: pd.Series) -> None:
    fraction = float((random_truth[CE] > study_truth[CE]).mean())
    assert 0.003 <= fraction <= 0.02, fraction
    # so 30 random experiments usually do not beat the study
    assert (1.0 - fraction) ** 30 > 0.5


def test_random_recipes_fail_a_few_percent(random_truth: pd.DataFrame) -> None:
    assert 0.03 <= random_truth["failure_probability"].mean() <= 0.10


def test_landscape_is_smooth() -> None:
    """Not a needle: a 1 % step in any continuous parameter moves CE by under 2 points (of a
    50-point range), typically by a few tenths at most."""
    config = resolve_config("hfo2-ncm85")
    recipes = VirtualLab.random_recipes(2_000, seed=5)
    base = expected_outcomes({c: recipes[c].to_numpy() for c in recipes.columns})[CE]
    for p in config.parameters:
        if p.type != "continuous":
            continue
        moved = {c: recipes[c].to_numpy() for c in recipes.columns}
        step = 0.01 * (p.upper - p.lower)
        moved[p.name] = np.clip(moved[p.name] + step, p.lower, p.upper)
        delta = np.abs(expected_outcomes(moved)[CE] - base)
        assert delta.max() < 2.0, (p.name, delta.max())
        assert np.median(delta) < 0.5, (p.name, np.median(delta))


def test_good_region_is_reachable_by_local_climbing(study_truth: pd.Series) -> None:
    """From mediocre random starts (O2, chloroform), plain gradient ascent passes the study."""
    from scipy.optimize import minimize

    config = resolve_config("hfo2-ncm85")
    continuous = [p for p in config.parameters if p.type == "continuous"]
    starts = VirtualLab.random_recipes(200, seed=8)
    starts["anneal_atmosphere"] = "O2"
    starts["dispersion_solvent"] = "chloroform"
    starts["evaporation_bath_temperature_c"] = 50.0
    start_ce = VirtualLab().truth(starts)[CE].to_numpy()
    mediocre = starts[(start_ce > 70) & (start_ce < 85)].head(10)
    assert len(mediocre) == 10
    reached = []
    scale = np.array([p.upper - p.lower for p in continuous])
    for _, row in mediocre.iterrows():
        fixed = {c: np.array([row[c]]) for c in mediocre.columns}

        def negative_ce(x: np.ndarray, fixed: dict[str, np.ndarray] = fixed) -> float:
            recipe = dict(fixed)
            for p, value in zip(continuous, x * scale, strict=True):
                recipe[p.name] = np.array([value])
            return -float(expected_outcomes(recipe)[CE][0])

        x0 = np.array([row[p.name] for p in continuous]) / scale
        result = minimize(negative_ce, x0, method="L-BFGS-B",
                          bounds=[(p.lower / s, p.upper / s) for p, s in zip(continuous, scale, strict=True)])
        reached.append(-result.fun)
    # a few starts sit on the bare plateau (hot anneals where any coating hurts); most climb
    assert sum(ce > study_truth[CE] for ce in reached) >= 7, reached


@pytest.mark.parametrize(
    ("changes", "outcome", "direction"),
    [
        ({"hfo2_loading_wt_pct": 2.5}, RATE, "lower"),  # thick insulating HfO2 blocks Li+
        ({"hfo2_loading_wt_pct": 2.5}, RES, "higher"),
        ({"hfo2_loading_wt_pct": 2.5}, THICK, "higher"),
        ({"anneal_temperature_c": 700.0}, CE, "lower"),  # Hf interdiffusion into NCM
        ({"anneal_temperature_c": 700.0}, CAP, "lower"),
        ({"anneal_temperature_c": 260.0}, CE, "lower"),  # ligand not burnt off
        ({"anneal_atmosphere": "Ar"}, CE, "lower"),  # oxygen loss, char
        ({"anneal_atmosphere": "air"}, CE, "lower"),  # Li2CO3
        ({"dispersion_solvent": "hexane"}, CE, "lower"),
        ({"sonication_time_min": 0.0}, THICK, "higher"),  # agglomerates -> thick islands
        ({"ligand_to_np_mass_ratio": 0.0}, RET, "lower"),
        ({"evaporation_bath_temperature_c": 80.0}, CE, "lower"),  # chloroform boils
    ],
)
def test_mechanisms_push_the_right_way(changes: dict[str, object], outcome: str, direction: str,
                                       study_truth: pd.Series) -> None:
    value = VirtualLab().truth(_vary(**changes))[outcome].iloc[0]
    if direction == "lower":
        assert value < study_truth[outcome]
    else:
        assert value > study_truth[outcome]


def test_air_is_only_slightly_worse_than_oxygen(study_truth: pd.Series) -> None:
    air = VirtualLab().truth(_vary(anneal_atmosphere="air"))[CE].iloc[0]
    argon = VirtualLab().truth(_vary(anneal_atmosphere="Ar"))[CE].iloc[0]
    assert 0.5 < study_truth[CE] - air < 3.0
    assert argon < air


def test_outcomes_are_coupled(random_truth: pd.DataFrame) -> None:
    """CE, capacity and retention rise together; resistance falls as they rise."""
    corr = random_truth[[CE, CAP, RET, RES]].corr(method="spearman")
    assert corr.loc[CE, CAP] > 0.7
    assert corr.loc[CE, RET] > 0.7
    assert corr.loc[CE, RES] < -0.3


# ----------------------------------------------------------------- noise and failures
def test_noise_has_the_declared_spread() -> None:
    recipes = pd.concat([VirtualLab.study_recipe()] * 4_000, ignore_index=True)
    lab = VirtualLab(seed=42, failures=False)
    measured = lab.run(recipes)
    truth = lab.truth(recipes.head(1)).iloc[0]
    for name in OUTCOMES:
        values = measured[name].to_numpy()
        if name == RES:
            values = np.log(values / truth[name])
            assert values.mean() == pytest.approx(0.0, abs=0.01)
        else:
            assert values.mean() == pytest.approx(truth[name], abs=4 * NOISE_SD[name] / np.sqrt(len(values)) + 1e-9)
        assert values.std() == pytest.approx(NOISE_SD[name], rel=0.1), name
    assert not measured["failed"].any()
    assert measured["failure_reason"].isna().all()


def test_measurements_are_clipped_to_physical_ranges() -> None:
    recipes = pd.concat([VirtualLab.bare_recipe()] * 200, ignore_index=True)
    measured = VirtualLab(seed=1, failures=False).run(recipes)
    assert (measured[THICK] == 0.0).all()  # nothing to see on an uncoated particle
    lab = VirtualLab(seed=2, failures=False)
    random = lab.run(VirtualLab.random_recipes(5_000, seed=3))
    for name in (CE, RET, RATE):
        assert random[name].between(0.0, 100.0).all()
    assert (random[[CAP, RES, THICK]] >= 0).all().all()


def test_noise_off_gives_the_truth() -> None:
    recipes = VirtualLab.random_recipes(50, seed=4)
    lab = VirtualLab(seed=1, noise=False, failures=False)
    measured = lab.run(recipes)
    truth = lab.truth(recipes)
    pd.testing.assert_frame_equal(measured[list(OUTCOMES)], truth[list(OUTCOMES)].clip(lower=0), check_exact=False)


def test_a_gelled_dispersion_fails_and_the_study_almost_never() -> None:
    gelled = _vary(solid_content_mg_per_ml=40.0, ligand_to_np_mass_ratio=0.0,
                   dispersion_solvent="hexane", sonication_time_min=0.0)
    lab = VirtualLab(seed=5)
    assert lab.truth(gelled)["failure_probability"].iloc[0] > 0.9
    runs = lab.run(pd.concat([gelled] * 200, ignore_index=True))
    failed = runs[runs["failed"]]
    assert len(failed) > 170
    assert failed[list(OUTCOMES)].isna().all().all()
    assert failed["failure_reason"].str.contains("gelled").all()
    assert runs.loc[~runs["failed"], list(OUTCOMES)].notna().all().all()

    assert lab.truth(VirtualLab.study_recipe())["failure_probability"].iloc[0] < 0.01
    study_runs = lab.run(pd.concat([VirtualLab.study_recipe()] * 2_000, ignore_index=True))
    assert study_runs["failed"].mean() < 0.015
    assert study_runs["failed"].dtype == bool

    never = VirtualLab(seed=5, failures=False).run(pd.concat([gelled] * 50, ignore_index=True))
    assert not never["failed"].any()


# ----------------------------------------------------------------- seeding, shape, API
def test_same_seed_same_results_other_seed_other_results() -> None:
    recipes = VirtualLab.random_recipes(300, seed=9)
    first = VirtualLab(seed=123).run(recipes)
    again = VirtualLab(seed=123).run(recipes)
    other = VirtualLab(seed=124).run(recipes)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first[CE].fillna(0), other[CE].fillna(0))
    pd.testing.assert_frame_equal(VirtualLab.random_recipes(10, seed=1), VirtualLab.random_recipes(10, seed=1))


def test_successive_runs_are_independent_replicates() -> None:
    lab = VirtualLab(seed=7, failures=False)
    recipe = VirtualLab.study_recipe()
    assert lab.run(recipe)[CE].iloc[0] != lab.run(recipe)[CE].iloc[0]


def test_output_keeps_order_index_and_ids_and_ignores_extra_columns() -> None:
    recipes = VirtualLab.random_recipes(5, seed=2)
    recipes.index = [10, 3, 7, 1, 0]
    recipes.insert(0, "note", "x")
    recipes["experiment_id"] = ["e5", "e1", "e3", "e2", "e4"]
    recipes["first_cycle_ce_pct_mean"] = 90.0
    recipes["first_cycle_ce_pct_sd"] = 1.0
    lab = VirtualLab(seed=1)
    out = lab.run(recipes)
    assert list(out.columns) == ["experiment_id", *OUTCOMES, "failed", "failure_reason"]
    assert list(out.index) == [10, 3, 7, 1, 0]
    assert out["experiment_id"].tolist() == ["e5", "e1", "e3", "e2", "e4"]
    truth = lab.truth(recipes, latent=True)
    assert list(truth.columns[:8]) == ["experiment_id", *OUTCOMES, "failure_probability"]
    assert {"dispersion_quality", "coverage", "protection", "li_blocking", "interdiffusion"} <= set(truth.columns)
    one_by_one = pd.concat([lab.truth(recipes.iloc[[i]]) for i in range(5)])
    pd.testing.assert_frame_equal(truth[one_by_one.columns], one_by_one)


def test_vlab_is_exported_lazily_without_torch() -> None:
    assert doe.VirtualLab is VirtualLab
    code = "import sys, doe.simulate; assert 'torch' not in sys.modules and 'sqlalchemy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------- bad input
def _problems(excinfo: pytest.ExceptionInfo[DataError]) -> set[tuple[int | None, str]]:
    return {(p.row, p.column) for p in excinfo.value.problems}


def test_out_of_bounds_and_unknown_category_name_every_cell() -> None:
    recipes = pd.concat([VirtualLab.study_recipe()] * 3, ignore_index=True)
    recipes.loc[1, "anneal_temperature_c"] = 900.0
    recipes.loc[0, "anneal_atmosphere"] = "N2"
    recipes.loc[2, "evaporation_bath_temperature_c"] = 55.0
    for method in (VirtualLab().run, VirtualLab().truth):
        with pytest.raises(DataError) as excinfo:
            method(recipes)
        assert _problems(excinfo) == {(1, "anneal_temperature_c"), (0, "anneal_atmosphere"),
                                      (2, "evaporation_bath_temperature_c")}
        message = str(excinfo.value)
        assert "row 1, column 'anneal_temperature_c'" in message
        assert "'N2'" in message and "O2" in message


def test_missing_and_misspelt_columns_are_named() -> None:
    recipes = VirtualLab.study_recipe().drop(columns=["sonication_time_min"])
    with pytest.raises(DataError) as excinfo:
        VirtualLab().run(recipes)
    assert (None, "sonication_time_min") in _problems(excinfo)
    misspelt = VirtualLab.study_recipe().rename(columns={"anneal_time_h": "Anneal_Time_H"})
    with pytest.raises(DataError, match="did you mean 'anneal_time_h'"):
        VirtualLab().truth(misspelt)
    with pytest.raises(DataError, match="DataFrame"):
        VirtualLab().run([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(DataError, match="seed"):
        VirtualLab(seed=-1)


def test_replicates_give_k_cells_per_powder_with_shared_and_cell_noise() -> None:
    recipes = pd.concat([VirtualLab.study_recipe()] * 400, ignore_index=True)
    recipes.insert(0, "experiment_id", [f"P{i}" for i in range(len(recipes))])
    out = VirtualLab(seed=11, failures=False).run(recipes, replicates=3)
    assert list(out.columns[:2]) == ["experiment_id", "replicate"]
    assert len(out) == 1200 and out["replicate"].tolist()[:6] == ["1", "2", "3", "1", "2", "3"]
    assert out["experiment_id"].tolist()[:4] == ["P0", "P0", "P0", "P1"]
    cells = out[CE].to_numpy().reshape(400, 3)
    # every cell is measured with its own noise; the total scatter of one cell stays NOISE_SD
    assert (np.ptp(cells, axis=1) > 0).all()
    assert np.std(cells[:, 0], ddof=1) == pytest.approx(NOISE_SD[CE], rel=0.15)
    # within one powder the cells scatter by the cell share only, powders differ by the rest:
    # sd within = NOISE_SD * sqrt(1 - share), sd of 3-cell means^2 = share + (1 - share) / 3
    within = np.sqrt(np.mean(np.var(cells, axis=1, ddof=1)))
    assert within == pytest.approx(NOISE_SD[CE] * np.sqrt(0.5), rel=0.1)
    assert np.std(cells.mean(axis=1), ddof=1) == pytest.approx(NOISE_SD[CE] * np.sqrt(0.5 + 0.5 / 3), rel=0.15)


def test_a_failed_powder_fails_every_cell_and_bad_replicates_are_refused() -> None:
    recipes = VirtualLab.random_recipes(200, seed=5)
    out = VirtualLab(seed=3).run(recipes, replicates=2)
    failed = out["failed"].to_numpy().reshape(200, 2)
    assert failed.any() and (failed[:, 0] == failed[:, 1]).all()
    assert out.loc[out["failed"], CE].isna().all()
    for bad in (0, -1, 2.5, "3", 101):
        with pytest.raises(DataError, match="replicates must be a whole number"):
            VirtualLab(seed=3).run(recipes, replicates=bad)  # type: ignore[arg-type]
    # a replicate column of the caller's is refused, not relabelled 1 ... k; a repeated id says
    # nothing was run (run() records nothing)
    labelled = recipes.iloc[:2].assign(experiment_id=["E1", "E2"], replicate=["X", "Y"])
    for k in (2, None):
        with pytest.raises(DataError, match=r"have a 'replicate' column.*nothing was run"):
            VirtualLab(seed=3).run(labelled, replicates=k)
    with pytest.raises(DataError, match=r"E1 are in more than one row.*nothing was run") as refused:
        VirtualLab(seed=3).run(labelled.drop(columns="replicate").assign(experiment_id="E1"), replicates=2)
    assert "recorded" not in str(refused.value)
    with pytest.raises(DataError, match="nothing was run") as refused:
        VirtualLab(seed=3).run(recipes.iloc[:1].assign(anneal_temperature_c=9999.0))
    assert "recorded" not in str(refused.value)
    # without replicates the results are those of before (same stream, no replicate column)
    plain = VirtualLab(seed=3).run(recipes)
    assert "replicate" not in plain.columns and list(plain.index) == list(recipes.index)
