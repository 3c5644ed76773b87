"""The fade law's prediction at the target cycle stays inside the outcome's valid range."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from doe.domain.fade import FadeLawPredictor
from doe.simulate.curves import retention_curve


def _points(retention_at: float, n_cycles: int, seed: int, experiment_id: str = "E0") -> pd.DataFrame:
    curve = retention_curve(retention_at, n_cycles, seed=seed)
    return pd.DataFrame({"experiment_id": experiment_id, "cycle": curve["cycle"], "value": curve["retention_pct"]})


def test_a_few_cycles_are_never_predicted_outside_the_valid_range() -> None:
    """12 cycles of a cell heading for 30 % at cycle 200, no population: the law alone predicted
    -50 % retention (the benchmark's campaigns without a full curve: a third of the 12-cycle
    predictions below 0)."""
    points = _points(30.0, 12, 0)
    free = FadeLawPredictor(200).fit(points).predict().iloc[0]
    assert free["mean"] < 0  # the case: the unbounded posterior reaches far below 0
    bounded = FadeLawPredictor(200, (0.0, 150.0)).fit(points).predict().iloc[0]
    assert 0 < bounded["mean"] < points["value"].iloc[-1] and bounded["cycling"]
    assert 0 < bounded["sd"] < free["sd"]
    continuation = FadeLawPredictor(200, (0.0, 150.0)).fit(points).continuation("E0", np.array([6, 12, 100, 200]))
    assert continuation[0][-1] == pytest.approx(bounded["mean"]) and (continuation[0] >= 0).all()
    free_continuation = FadeLawPredictor(200).fit(points).continuation("E0", np.array([6, 12]))
    assert np.allclose(continuation[0][:2], free_continuation[0])  # measured cycles: as fitted
    assert np.allclose(continuation[1][:2], free_continuation[1])


def test_a_range_open_on_one_side_and_values_inside_it_change_nothing() -> None:
    points = pd.concat([_points(70.0 + k, 200, k, f"E{k}") for k in range(4)] + [_points(72.0, 50, 9, "E9")])
    free = FadeLawPredictor(200).fit(points).predict()
    for valid_range in ((0.0, None), (None, 150.0), (0.0, 150.0)):
        bounded = FadeLawPredictor(200, valid_range).fit(points).predict()
        assert np.allclose(bounded[["mean", "sd"]], free[["mean", "sd"]], rtol=1e-6)  # far inside: the same
    measured = free[~free["cycling"]]
    assert (measured["sd"] == 0).all() and len(measured) == 4


def test_far_outside_the_range_the_prediction_is_the_bound() -> None:
    points = _points(30.0, 12, 0)
    free = FadeLawPredictor(200).fit(points).predict().iloc[0]
    for low, high in ((95.0, 150.0), (5000.0, 6000.0), (1e6, None)):  # odd ranges, far above the posterior
        bounded = FadeLawPredictor(200, (low, high)).fit(points).predict().iloc[0]
        assert low <= bounded["mean"] <= (high or np.inf) and 0 < bounded["sd"] <= free["sd"]
