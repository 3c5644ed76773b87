"""The third simulated lab (``benchmarks/third_lab.py``): seeding, truth, failures, validation.

Only the interface is checked here, never where the lab's optimum lies: the lab is a test
problem on which no setting is chosen.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks import second_lab, third_lab
from doe.errors import DataError
from doe.simulate import OUTCOMES, VirtualLab

CE = "first_cycle_ce_pct"


@pytest.fixture(scope="module")
def recipes() -> pd.DataFrame:
    return VirtualLab.random_recipes(1_000, seed=3)


def test_same_seed_and_calls_give_the_same_results(recipes: pd.DataFrame) -> None:
    first, second = third_lab.ThirdLab(seed=7), third_lab.ThirdLab(seed=7)
    for chunk in (recipes.iloc[:200], recipes.iloc[200:]):
        pd.testing.assert_frame_equal(first.run(chunk), second.run(chunk))
    chunk = recipes.iloc[:200]
    assert not third_lab.ThirdLab(seed=7).run(chunk)[CE].equals(third_lab.ThirdLab(seed=8).run(chunk)[CE])


def test_truth_is_finite_with_failure_probabilities_in_range(recipes: pd.DataFrame) -> None:
    truth = third_lab.ThirdLab(seed=0).truth(recipes)
    assert list(truth.columns) == [*OUTCOMES, "failure_probability"]
    assert truth.index.equals(recipes.index)
    assert np.isfinite(truth.to_numpy(dtype=float)).all()
    assert truth["failure_probability"].between(0.0, 1.0).all()
    assert truth[CE].between(40.0, 100.0).all()
    assert (truth["coating_thickness_nm"] >= 0.0).all()
    assert (truth["interfacial_resistance_ohm"] > 0.0).all()


def test_the_bare_material_sits_near_eighty_percent_ce() -> None:
    bare = third_lab.ThirdLab(seed=0).truth(VirtualLab.bare_recipe()).iloc[0]
    assert 78.5 <= bare[CE] <= 80.5
    assert bare["coating_thickness_nm"] == 0.0


def test_run_marks_failures_with_nan_outcomes_and_a_reason(recipes: pd.DataFrame) -> None:
    lab = third_lab.ThirdLab(seed=1)
    many = pd.concat([recipes] * 3, ignore_index=True)
    measured = lab.run(many)
    assert measured.index.equals(many.index)
    assert measured["failed"].dtype == bool
    failed = measured["failed"].to_numpy()
    assert failed.any() and not failed.all()
    assert measured.loc[failed, list(OUTCOMES)].isna().all().all()
    assert measured.loc[~failed, list(OUTCOMES)].notna().all().all()
    reasons = measured["failure_reason"]
    assert all(isinstance(r, str) and r for r in reasons[failed])
    assert reasons[~failed].isna().all()
    # failures follow the failure probability: more of them where it is high
    probability = lab.truth(many)["failure_probability"].to_numpy()
    high = probability > 0.5
    assert failed[high].mean() > failed[~high].mean()


def test_run_scatters_around_the_truth(recipes: pd.DataFrame) -> None:
    lab = third_lab.ThirdLab(seed=2)
    measured, truth = lab.run(recipes), lab.truth(recipes)
    ok = ~measured["failed"].to_numpy()
    error = (measured[CE] - truth[CE]).to_numpy()[ok]
    assert abs(error.mean()) < 0.15
    assert 0.45 < error.std() < 0.75


@pytest.mark.parametrize(("column", "value"), [
    ("dispersion_solvent", "acetone"),
    ("anneal_atmosphere", "N2"),
    ("hfo2_loading_wt_pct", 3.5),
    ("anneal_temperature_c", 100.0),
    ("evaporation_bath_temperature_c", 55.0),
])
def test_invalid_recipes_raise_as_in_the_second_lab(column: str, value: str | float) -> None:
    bad = VirtualLab.study_recipe()
    bad[column] = [value]
    with pytest.raises(DataError):
        second_lab.SecondLab(seed=0).truth(bad)
    for call in (third_lab.ThirdLab(seed=0).truth, third_lab.ThirdLab(seed=0).run):
        with pytest.raises(DataError):
            call(bad)


def test_a_missing_parameter_column_raises() -> None:
    with pytest.raises(DataError):
        third_lab.ThirdLab(seed=0).truth(VirtualLab.study_recipe().drop(columns="sonication_time_min"))


def test_extra_columns_are_ignored() -> None:
    lab = third_lab.ThirdLab(seed=0)
    recipe = VirtualLab.study_recipe()
    noted = recipe.assign(notes="first try", experiment_id="E1")
    pd.testing.assert_frame_equal(lab.truth(noted), lab.truth(recipe))


def test_outcomes_function_matches_truth(recipes: pd.DataFrame) -> None:
    values = third_lab.third_lab_outcomes({c: recipes[c].to_numpy() for c in recipes.columns})
    truth = third_lab.ThirdLab(seed=0).truth(recipes)
    for name in [*OUTCOMES, "failure_probability"]:
        np.testing.assert_allclose(values[name], truth[name].to_numpy())


def test_optimum_ce_beats_the_study_recipe() -> None:
    lab = third_lab.ThirdLab(seed=0)
    study = float(lab.truth(VirtualLab.study_recipe())[CE].iloc[0])
    best = lab.optimum_ce(n_samples=50_000)
    assert np.isfinite(best)
    assert best > study
    assert best < 100.0
