"""Ranking: feasibility, Pareto front and best recipes from a history table, without a database."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from doe.domain.config import CampaignConfig
from doe.domain.objectives import Desirability
from doe.domain.ranking import best, feasible_completed, pareto_front, pareto_mask, ranking_notes
from doe.errors import DoeError
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


@pytest.mark.parametrize("n", [0, -1, 1.5, 2.0, True, "2", None])
def test_best_refuses_a_count_that_is_not_a_whole_number_from_1_naming_n(n: object) -> None:
    # -1 once gave every row but the last, 1.5 a raw pandas TypeError
    with pytest.raises(DoeError, match=r"^n: the number of best recipes must be a whole number >= 1, got "):
        best(HISTORY, ONE, n=n)  # type: ignore[arg-type]
    assert list(best(HISTORY, ONE, n=np.int64(2))["experiment_id"]) == ["F", "A"]
    assert list(best(HISTORY, ONE, n=99)["experiment_id"]) == ["F", "A", "B", "D"]  # all there are


def _set_point(tolerance: float | None = None, **extra: object) -> CampaignConfig:
    """Thickness to a set point of 10 nm (no outcome constraint on it), retention maximised."""
    thick: dict[str, object] = {"name": THICK, "goal": "target", "target": 10.0, "unit": "nm"}
    if tolerance is not None:
        thick["tolerance"] = tolerance
    return CampaignConfig.from_dict({**_RAW, "objectives": [thick, _RAW["objectives"][1]],
                                     "outcomes": [{"name": CE, "unit": "%"}], "constraints": [], **extra})


SET_POINT_HISTORY = _history([
    ("A", "completed", 90.0, 60.0, 10.5),
    ("B", "completed", 85.0, 70.0, 12.0),
    ("C", "completed", 95.0, 65.0, 20.0),  # far from 10 and less retention than B: dominated
    ("D", "completed", 84.0, 59.0, 9.8),   # closest to 10 nm
    ("G", "completed", 70.0, 90.0, 7.0),   # 3 nm off, best retention
])


def test_a_set_point_alone_ranks_by_closeness_and_its_tolerance_filters() -> None:
    one = CampaignConfig.from_dict({**_set_point().to_dict(), "objectives": [_set_point().objectives[0].to_dict()]})
    assert list(best(SET_POINT_HISTORY, one, n=5)["experiment_id"]) == ["D", "A", "B", "G", "C"]
    tight = CampaignConfig.from_dict({**one.to_dict(), "objectives": [
        {**one.objectives[0].to_dict(), "tolerance": 1.0}]})
    assert list(best(SET_POINT_HISTORY, tight, n=5)["experiment_id"]) == ["D", "A"]


def test_a_note_says_in_words_why_a_row_misses_its_set_point_or_threshold() -> None:
    one = CampaignConfig.from_dict({**_set_point().to_dict(), "objectives": [
        {**_set_point().objectives[0].to_dict(), "tolerance": 1.0}]})
    notes = ranking_notes(SET_POINT_HISTORY, one)
    assert notes[1] == f"{THICK} = 12 is not within 1 of the target 10"
    assert ranking_notes(HISTORY, ONE)[6] == f"{CE} = 70 misses the threshold 80"


def test_a_note_on_a_value_near_its_limit_shows_the_digits_that_tell_them_apart() -> None:
    """79.99999 read "misses the threshold 80" as "80 misses the threshold 80", and 15.00004
    "breaks <= 15" as "15 breaks <= 15" (``:g``'s six figures)."""
    near = _history([("A", "completed", 79.99999, 60.0, 10.0), ("B", "completed", 90.0, 60.0, 15.00004),
                     ("C", "completed", 80.0, 60.0, 15.0)])
    notes = ranking_notes(near, ONE)
    assert notes.tolist() == [f"{CE} = 79.99999 misses the threshold 80", f"{THICK} = 15.00004 breaks {THICK} <= 15", ""]
    one = CampaignConfig.from_dict({**_set_point().to_dict(), "objectives": [
        {**_set_point().objectives[0].to_dict(), "tolerance": 1.0}]})
    off = _history([("A", "completed", 90.0, 60.0, 11.0000001), ("B", "completed", 90.0, 60.0, 8.99999999)])
    assert ranking_notes(off, one).tolist() == [f"{THICK} = 11.0000001 is not within 1 of the target 10",
                                                f"{THICK} = 8.99999999 is not within 1 of the target 10"]


def test_a_set_point_in_the_pareto_front_counts_closeness_not_size() -> None:
    # scores (-|t - 10|, retention): A (-0.5, 60) D (-0.2, 59) B (-2, 70) G (-3, 90) C (-10, 65)
    assert list(pareto_front(SET_POINT_HISTORY, _set_point())["experiment_id"]) == ["A", "B", "D", "G"]


def _weighted(thickness_weight: float, retention_weight: float) -> CampaignConfig:
    raw = _set_point(objective_mode="weighted").to_dict()
    raw["objectives"][0]["weight"] = thickness_weight
    raw["objectives"][1]["weight"] = retention_weight
    return CampaignConfig.from_dict(raw)


def test_weighted_mode_ranks_every_feasible_row_by_the_weighted_desirability() -> None:
    # anchors: thickness score 0 (on target) .. -10 (C); retention 55 (threshold) .. 90
    # desirabilities D (0.98, 4/35) A (0.95, 5/35) B (0.8, 15/35) G (0.7, 1) C (0, 10/35)
    # thickness 10 : retention 1 -> D 9.91, A 9.64, B 8.43, G 8.0
    assert list(best(SET_POINT_HISTORY, _weighted(10.0, 1.0), n=4)["experiment_id"]) == ["D", "A", "B", "G"]
    # thickness 1 : retention 3 -> G 3.7, B 2.09, A 1.38, D 1.32
    assert list(best(SET_POINT_HISTORY, _weighted(1.0, 3.0), n=4)["experiment_id"]) == ["G", "B", "A", "D"]


def test_weighted_mode_ranks_the_same_with_huge_weights_of_the_same_ratio() -> None:
    # only the weights' ratio counts: 1.5e308 : 4.5e307 sums past the float range, 10 : 3 does not
    expected = list(best(SET_POINT_HISTORY, _weighted(10.0, 3.0), n=4)["experiment_id"])
    huge = best(SET_POINT_HISTORY, _weighted(1.5e308, 4.5e307), n=4)
    assert list(huge["experiment_id"]) == expected


def test_weighted_mode_ranks_rows_that_all_miss_their_thresholds_by_how_far_they_miss() -> None:
    """Every row below both thresholds scored 0 and ranked in recording order: a row worse on
    both objectives came first (found by a probe). Ties on the clipped value go by the unclipped."""
    raw = {**TWO.to_dict(), "objective_mode": "weighted", "constraints": []}
    config = CampaignConfig.from_dict(raw)  # thresholds: CE 80, retention 55
    below = _history([("E1", "completed", 70.0, 40.0, 10.0), ("E2", "completed", 79.0, 54.0, 10.0),
                      ("E3", "completed", 75.0, 50.0, 10.0)])
    assert list(best(below, config, n=3)["experiment_id"]) == ["E2", "E3", "E1"]
    # one row past both thresholds still ranks first, however far below the others are
    past = pd.concat([below, _history([("E4", "completed", 81.0, 56.0, 10.0)])], ignore_index=True)
    assert list(best(past, config, n=4)["experiment_id"]) == ["E4", "E2", "E3", "E1"]


def test_weighted_desirability_of_a_set_point_measured_on_target_is_its_best() -> None:
    """Every value exactly on target: the fallback anchors put the best at 1 above 0 and scored
    the on-target rows 0, so the set point counted for nothing in the search (found by a probe)."""
    thickness = _weighted(1.0, 1.0).objectives[0]
    scalar = Desirability.from_measured([thickness], [np.array([10.0, 10.0])])
    assert scalar.value([np.array([10.0, 11.0, 9.5])]).tolist() == [1.0, 0.0, 0.5]


def test_pareto_ranking_is_the_same_with_huge_weights_of_the_same_ratio() -> None:
    """1.5e308 : 1.5e308 summed to inf for every row of the front, which then ranked in
    recording order; only the weights' ratio counts."""
    raw = TWO.to_dict()
    expected = list(best(HISTORY, TWO, n=3)["experiment_id"])
    for objective in raw["objectives"]:
        objective["weight"] = 1.5e308
    assert list(best(HISTORY, CampaignConfig.from_dict(raw), n=3)["experiment_id"]) == expected == ["B", "A", "G"]
