"""The needle lab (``benchmarks/needle_lab.py``): the virtual lab mirrored, its CE floored."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.needle_lab import CE, FLOOR_CE_PCT, NeedleLab, mirrored, share_above_floor
from doe.simulate import VirtualLab

LABELS = ["dispersion_solvent", "anneal_atmosphere"]


def _needle_recipe_of(seen: pd.DataFrame) -> pd.DataFrame:
    """The needle-lab recipe that the virtual lab sees as ``seen`` (the mirror's inverse)."""
    out = mirrored(seen)  # numbers: mirrored once (a mirror is its own inverse)
    out[LABELS] = mirrored(mirrored(seen))[LABELS]  # labels: rotated twice (a rotation of three, backwards)
    return out


def test_the_virtual_optimum_is_the_needle_optimum_and_lies_above_the_floor() -> None:
    lab = NeedleLab(0)
    best, expected = lab.lab.optimum(n_samples=5_000)
    needle = _needle_recipe_of(best[lab.config.parameter_names])
    pd.testing.assert_frame_equal(mirrored(needle)[lab.config.parameter_names], best[lab.config.parameter_names],
                                  check_exact=False)
    ce = float(lab.truth(needle)[CE].iloc[0])
    assert ce == pytest.approx(float(expected[CE].iloc[0]))
    assert ce > FLOOR_CE_PCT + 2.0
    # ... and far from it in the recipe itself: the mirror moves the loading and the temperature
    assert abs(float(needle["hfo2_loading_wt_pct"].iloc[0]) - float(best["hfo2_loading_wt_pct"].iloc[0])) > 1.0


def test_the_reference_recipe_reads_the_floor_and_the_island_is_small() -> None:
    lab = NeedleLab(0)
    study = VirtualLab.study_recipe()[lab.config.parameter_names]
    assert float(lab.truth(study)[CE].iloc[0]) == FLOOR_CE_PCT
    assert 0.005 < share_above_floor(n_samples=20_000) < 0.04


def test_runs_are_seeded_noisy_around_the_floored_truth_and_fail_as_the_virtual_lab() -> None:
    recipes = VirtualLab.random_recipes(2_000, seed=2)
    measured, again = NeedleLab(4).run(recipes), NeedleLab(4).run(recipes)
    pd.testing.assert_frame_equal(measured, again)
    truth = NeedleLab(4).truth(recipes)
    assert (truth[CE] >= FLOOR_CE_PCT).all()
    failed = measured["failed"].to_numpy()
    assert failed.any() and measured.loc[failed, CE].isna().all()
    error = (measured[CE] - truth[CE]).to_numpy()[~failed]
    assert abs(error.mean()) < 0.1 and 0.45 < error.std() < 0.75
    # the failures are the virtual lab's, of the mirrored recipes
    virtual = VirtualLab(4).run(mirrored(recipes))
    np.testing.assert_array_equal(virtual["failed"].to_numpy(), failed)
