"""Ranking: feasibility, Pareto front and best recipes from a history table, without a database."""

from __future__ import annotations

import numpy as np
import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.ranking import best, feasible_completed, pareto_front, pareto_mask
from doe.templates import resolve_config

CE, RET, THICK = "first_cycle_ce_pct", "capacity_retention_pct", "coating_thickness_nm"
TWO = resolve_config("hfo2-ncm85")  # maximise CE (threshold 80) and retention (55); thickness <= 15
_RAW = TWO.to_dict()
ONE = CampaignConfig.from_dict({  # maximise CE only (threshold 80); retention just measured
    **_RAW, "objectives": _RAW["objectives"][:1],
    "outcomes": [*_RAW["outcomes"], {"name": RET, "unit": "%"}]})


def _history(rows: list[tuple[str, str, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"experiment_id": i, "status": s, CE: ce, RET: ret, THICK: t} for i, s, ce, ret, t in rows])


HISTORY = _history([
    ("A", "completed", 90.0, 60.0, 10.0),
    ("B", "completed", 85.0, 70.0, 12.0),
    ("C", "completed", 95.0, 65.0, 20.0),   # too thick
    ("D", "completed", 84.0, 59.0, np.nan),  # dominated by A; thickness unmeasured counts as met
    ("E", "running", 99.0, 99.0, 1.0),      # not completed
    ("F", "completed", 92.0, np.nan, 5.0),  # an objective unmeasured
    ("G", "completed", 70.0, 90.0, 8.0),  # under the CE threshold (matters with one objective)
])


def test_feasible_completed_keeps_completed_measured_rows_inside_the_constraints() -> None:
    assert list(feasible_completed(HISTORY, TWO)["experiment_id"]) == ["A", "B", "D", "G"]


def test_pareto_front_and_its_mask() -> None:
    assert list(pareto_front(HISTORY, TWO)["experiment_id"]) == ["A", "B", "G"]
    signed = np.array([[1.0, 1.0], [2.0, 0.0], [0.5, 0.5], [1.0, 1.0]])
    assert pareto_mask(signed).tolist() == [True, True, False, True]


def test_best_with_two_objectives_ranks_the_front_by_scaled_weighted_sum() -> None:
    # front A (90, 60), B (85, 70), G (70, 90): scaled scores A 1 + 0 = 1, B 0.75 + 1/3, G 0 + 1
    assert list(best(HISTORY, TWO, n=3)["experiment_id"]) == ["B", "A", "G"]
    assert list(best(HISTORY, TWO)["experiment_id"]) == ["B"]


def test_best_with_one_objective_applies_its_threshold_and_sorts() -> None:
    # F counts now (retention is no objective); G falls under the CE threshold; C is too thick
    assert list(best(HISTORY, ONE, n=5)["experiment_id"]) == ["F", "A", "B", "D"]
    assert best(HISTORY[HISTORY["status"] != "completed"], ONE).empty
