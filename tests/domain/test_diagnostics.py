"""Model trust from leave-one-out predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from doe import load_config
from doe.domain.diagnostics import min_experiments, model_trust

CONFIG = load_config("hfo2-ncm85")


def _cv(outcome: str, measured: list[float], predicted: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"experiment_id": [f"E{i}" for i in range(len(measured))], "outcome": outcome,
                         "measured": measured, "predicted_mean": predicted, "predicted_sd": 1.0})


def test_r2_rmse_and_the_sentence() -> None:
    measured = [80.0, 85.0, 90.0, 95.0]
    cv = pd.concat([_cv("first_cycle_ce_pct", measured, [81.0, 84.0, 91.0, 94.0]),
                    _cv("capacity_retention_pct", measured, [95.0, 90.0, 85.0, 80.0])])
    trust = model_trust(cv, CONFIG).set_index("outcome")
    ce = trust.loc["first_cycle_ce_pct"]
    assert ce["rmse"] == pytest.approx(1.0) and ce["r2"] == pytest.approx(1 - 4 / 125)
    assert ce["verdict"] == "first_cycle_ce_pct: reliable: the model explains 97% of the variation (typical error 1 %)"
    assert trust.loc["capacity_retention_pct", "r2"] < 0
    assert trust.loc["capacity_retention_pct", "verdict"] == (
        "capacity_retention_pct: still exploring: the model does not yet predict better than the average")
    assert list(trust.index) == ["first_cycle_ce_pct", "capacity_retention_pct"]  # the configuration's order
    flat = model_trust(_cv("first_cycle_ce_pct", [88.0, 88.0], [88.0, 88.0]), CONFIG)
    assert np.isnan(flat.loc[0, "r2"]) and "nothing to predict" in flat.loc[0, "verdict"]


def test_minimum_experiments_grows_with_the_parameters() -> None:
    assert min_experiments(CONFIG) == len(CONFIG.parameters) + 2 == 11
