"""The mirror lab (``benchmarks/mirror_lab.py``): the virtual lab mirrored, CE not floored."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.mirror_lab import MirrorLab, mirrored
from doe.simulate import VirtualLab

CE = "first_cycle_ce_pct"
LABELS = ["dispersion_solvent", "anneal_atmosphere"]


def _mirror_recipe_of(seen: pd.DataFrame) -> pd.DataFrame:
    """The mirror-lab recipe that the virtual lab sees as ``seen`` (the mirror's inverse)."""
    out = mirrored(seen)
    out[LABELS] = mirrored(mirrored(seen))[LABELS]
    return out


def test_the_best_anneal_lies_far_from_the_reference_programme() -> None:
    lab = MirrorLab(0)
    best, expected = lab.lab.optimum(n_samples=5_000)
    recipe = _mirror_recipe_of(best[lab.config.parameter_names])
    assert float(lab.truth(recipe)[CE].iloc[0]) == pytest.approx(float(expected[CE].iloc[0]))
    assert float(recipe["anneal_temperature_c"].iloc[0]) > 550.0  # the reference anneals at 400 C
    assert float(recipe["anneal_time_h"].iloc[0]) < 1.0  # ... for 2 h
    assert recipe["anneal_atmosphere"].iloc[0] == "Ar"  # ... in O2
    study = VirtualLab.study_recipe()[lab.config.parameter_names]
    assert float(lab.truth(study)[CE].iloc[0]) < float(expected[CE].iloc[0]) - 5.0


def test_not_floored_and_seeded() -> None:
    recipes = VirtualLab.random_recipes(200, seed=4)
    truth = MirrorLab(0).truth(recipes)[CE].to_numpy()
    assert np.unique(np.round(truth, 6)).size == len(truth)  # no floor: every recipe reads its own CE
    first, again = MirrorLab(3).run(recipes), MirrorLab(3).run(recipes)
    pd.testing.assert_frame_equal(first, again)
    assert not first[CE].equals(MirrorLab(4).run(recipes)[CE])
