"""Encoding between engineer units and the model space."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from engine_helpers import random_config, random_recipes

from doe.domain import CampaignConfig
from doe.engine.encoding import Encoder


def test_round_trip_and_log_scale(hfo2: CampaignConfig) -> None:
    encoder = Encoder(hfo2)
    recipes = random_recipes(hfo2, 20, 0)
    X = encoder.encode(recipes)
    assert X.shape == (20, 9)
    assert np.all(encoder.bounds[0] <= X) and np.all(encoder.bounds[1] >= X)
    back = encoder.decode(X)
    pd.testing.assert_frame_equal(back, recipes, check_exact=False, rtol=1e-12)
    # anneal_time_h is log-scale: the geometric mean of its bounds sits in the middle
    mid = recipes.iloc[:1].copy()
    mid["anneal_time_h"] = math.sqrt(0.5 * 6.0)
    assert abs(encoder.encode(mid)[0, hfo2.parameter_names.index("anneal_time_h")] - 0.5) < 1e-12
    # categories are indices, discrete values map to [0, 1] in order
    assert set(encoder.cat_dims) == {3, 6}
    assert encoder.discrete_dims[8] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_old_rows_are_clipped_and_unknown_labels_flagged(hfo2: CampaignConfig) -> None:
    encoder = Encoder(hfo2)
    recipes = random_recipes(hfo2, 3, 1)
    recipes.loc[0, "anneal_temperature_c"] = 900.0
    recipes.loc[1, "anneal_atmosphere"] = "N2"
    mask = encoder.usable_rows(recipes)
    assert list(mask) == [True, False, True]
    X = encoder.encode(recipes[mask])
    assert X[0, 1] == 1.0


def test_linear_constraints_in_model_space() -> None:
    for seed in range(20):
        config = random_config(seed)
        if not config.linear_constraints:
            continue
        encoder = Encoder(config)
        recipes = random_recipes(config, 50, seed, feasible=False)
        ok_domain = np.array([all(c.satisfied(r.to_dict(), tol=1e-9) for c in config.linear_constraints)
                              for _, r in recipes.iterrows()])
        assert (encoder.feasible(encoder.encode(recipes)) == ok_domain).all()
        # a log-scale parameter inside a linear constraint is encoded linearly
        for name in config.linear_constraints[0].coefficients:
            assert config.parameter_names.index(name) not in encoder.log_dims
        centre = encoder.interior_point()
        assert centre is not None and encoder.feasible(centre[None, :])[0]
