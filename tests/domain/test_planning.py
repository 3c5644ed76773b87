"""plan_record: what a validated results table does to a history, without a database."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from doe.domain import validate_experiments
from doe.domain.config import CampaignConfig
from doe.domain.planning import NOT_MEASURED, plan_record
from doe.domain.records import NewExperimentRef, NewMeasurement, StatusChange
from doe.templates import resolve_config

CE, RET = "first_cycle_ce_pct", "capacity_retention_pct"
BASE = resolve_config("hfo2-ncm85")
CONFIG = CampaignConfig.from_dict({
    **BASE.to_dict(),
    "constraints": [*BASE.to_dict()["constraints"], "hfo2_loading_wt_pct + 0.004 * anneal_temperature_c <= 4.5"],
})
STUDY = dict(BASE.reference_recipe() or {})


def _history(*rows: dict[str, object]) -> pd.DataFrame:
    """A history table as Campaign.history() gives it (every parameter and outcome column)."""
    columns = ["experiment_id", "status", "batch_id", "config_version", *CONFIG.parameter_names,
               *CONFIG.outcome_names, "failure_reason"]
    return pd.DataFrame([{**STUDY, "status": "running", "batch_id": None, "config_version": 1,
                          "failure_reason": None, **r} for r in rows], columns=columns)


def _plan(table: pd.DataFrame, history: pd.DataFrame | None = None):
    clean = validate_experiments(table, CONFIG, parameters="optional")
    return plan_record(clean, _history() if history is None else history, CONFIG, 3)


def test_a_known_id_with_a_measurement_is_completed() -> None:
    history = _history({"experiment_id": "E0001"})
    plan = _plan(pd.DataFrame([{"experiment_id": "E0001", CE: 91.5}]), history)
    assert plan.problems == [] and plan.new_experiments == []
    assert plan.status_changes == [StatusChange("E0001", "completed")]
    assert plan.measurements == [NewMeasurement("E0001", CE, 91.5, unit=CONFIG.unit_of(CE))]
    assert plan.experiment_ids([]) == ["E0001"]


def test_a_completed_experiment_gets_more_outcomes_without_a_status_change() -> None:
    history = _history({"experiment_id": "E0001", "status": "completed", CE: 90.0})
    plan = _plan(pd.DataFrame([{"experiment_id": "E0001", RET: 70.0, "note": "week 4"}]), history)
    assert plan.status_changes == []
    assert plan.measurements == [NewMeasurement("E0001", RET, 70.0, unit=CONFIG.unit_of(RET), note="week 4")]


def test_failed_with_a_reason_and_a_bare_failed_flag() -> None:
    history = _history({"experiment_id": "E0001"}, {"experiment_id": "E0002"},
                       {"experiment_id": "E0003", "status": "failed", "failure_reason": "gelled"})
    table = pd.DataFrame({"experiment_id": ["E0001", "E0002", "E0003"],
                          "failure_reason": ["dispersion gelled", None, "gelled"],
                          "failed": [False, True, True]})
    plan = _plan(table, history)
    assert plan.problems == []
    assert plan.status_changes == [StatusChange("E0001", "failed", "dispersion gelled"),
                                   StatusChange("E0002", "failed", "failed (no reason given)")]
    assert plan.measurements == []


def test_an_abandoned_experiment_is_refused() -> None:
    history = _history({"experiment_id": "E0001", "status": "abandoned"})
    plan = _plan(pd.DataFrame([{"experiment_id": "E0001", CE: 88.0}]), history)
    assert [(p.row, p.column) for p in plan.problems] == [(0, "experiment_id")]
    assert "abandoned" in plan.problems[0].problem
    assert plan.measurements == [] and plan.status_changes == [] and plan.row_ids == [None]


def test_a_parameter_that_differs_from_the_stored_one_is_a_problem() -> None:
    history = _history({"experiment_id": "E0001"})
    same = _plan(pd.DataFrame([{"experiment_id": "E0001", "anneal_temperature_c": 400.0 + 1e-10, CE: 88.0}]),
                 history)
    assert same.problems == []
    plan = _plan(pd.DataFrame([{"experiment_id": "E0001", "anneal_temperature_c": 450.0, CE: 88.0}]), history)
    assert [(p.row, p.column, p.value) for p in plan.problems] == [(0, "anneal_temperature_c", 450.0)]
    assert plan.problems[0].problem.startswith("differs from the stored value")
    assert "400.0" in plan.problems[0].problem and "of E0001; a recorded experiment keeps its recipe" in plan.problems[0].problem
    assert plan.measurements == []


def test_a_known_row_without_a_result_is_a_problem() -> None:
    plan = _plan(pd.DataFrame([{"experiment_id": "E0001", "note": "nothing yet"}]), _history({"experiment_id": "E0001"}))
    assert [p.problem for p in plan.problems] == [NOT_MEASURED]
    assert NOT_MEASURED.startswith("the row has no measured outcome and is not marked failed: give a result")


def test_a_pending_experiments_row_without_a_result_is_left_out_and_said() -> None:
    """A run sheet filled in part (the other cells still cycling) was refused as a whole."""
    history = _history({"experiment_id": "E0001"}, {"experiment_id": "E0002", "status": "proposed"},
                       {"experiment_id": "E0003", "status": "completed", CE: 88.0},
                       {"experiment_id": "E0004"})
    table = pd.DataFrame([{"experiment_id": "E0001", **STUDY, CE: 89.0}, {"experiment_id": "E0002", **STUDY},
                          {"experiment_id": "E0003", **STUDY}, {"experiment_id": "E0004", **STUDY,
                                                                "anneal_time_h": 5.0}])
    plan = _plan(table, history)
    assert [(p.row, p.value, p.problem) for p in plan.not_measured] == [
        (1, "E0002", "E0002 is proposed and the row gives no result yet: nothing recorded")]
    # a finished experiment's empty row, and a pending one's with another recipe, stay problems
    assert [(p.row, p.column) for p in plan.problems] == [(2, "experiment_id"), (3, "anneal_time_h"), (3, "experiment_id")]
    assert [m.experiment_id for m in plan.measurements] == ["E0001"]
    ok = _plan(table.iloc[:2], history)  # the row left out is no recorded row (a runner waits on its experiment)
    assert ok.problems == [] and ok.experiment_ids([]) == ["E0001"]


def test_a_new_experiment_needs_every_parameter() -> None:
    table = pd.DataFrame([{"anneal_temperature_c": 400.0, CE: 85.0}])
    plan = _plan(table)
    missing = sorted(p.column for p in plan.problems)
    assert missing == sorted(p for p in CONFIG.parameter_names if p != "anneal_temperature_c")
    assert all("a new experiment needs every parameter" in p.problem for p in plan.problems)
    assert plan.new_experiments == [] and plan.measurements == []


def test_a_new_experiment_must_meet_the_linear_constraints() -> None:
    plan = _plan(pd.DataFrame([{**STUDY, "hfo2_loading_wt_pct": 3.0, "anneal_temperature_c": 700.0, CE: 85.0}]))
    assert [p.column for p in plan.problems] == ["hfo2_loading_wt_pct,anneal_temperature_c"]
    assert "violates constraint" in plan.problems[0].problem
    assert plan.new_experiments == []


def test_new_experiments_are_referenced_by_position_even_beside_ids_like_references() -> None:
    history = _history({"experiment_id": "E0001"})
    table = pd.DataFrame([
        {**STUDY, "experiment_id": "#1", CE: 80.0},
        {"experiment_id": "E0001", CE: 81.0},
        {**STUDY, CE: 82.0, "failure_reason": None},
        {**STUDY, "failed": True, "failure_reason": "cracked"},
        {**STUDY},
    ])
    plan = _plan(table, history)
    assert plan.problems == []
    assert [(e.experiment_id, e.status, e.source, e.config_version, e.failure_reason)
            for e in plan.new_experiments] == [("#1", "completed", "import", 3, None),
                                               (None, "completed", "import", 3, None),
                                               (None, "failed", "import", 3, "cracked"),
                                               (None, "running", "import", 3, None)]
    assert plan.new_experiments[0].parameters == STUDY
    assert [m.experiment_id for m in plan.measurements] == [NewExperimentRef(0), "E0001", NewExperimentRef(1)]
    assert plan.new_rows == [0, 2, 3, 4]
    assert plan.experiment_ids(["#1", "E0002", "E0003", "E0004"]) == ["#1", "E0001", "E0002", "E0003", "E0004"]


def test_valid_rows_are_planned_beside_rejected_ones() -> None:
    history = _history({"experiment_id": "E0001", "status": "abandoned"})
    table = pd.DataFrame([
        {**STUDY, CE: 82.0},
        {"experiment_id": "E0001", CE: 81.0},
        {"anneal_temperature_c": 300.0, CE: 70.0},
        {**STUDY, RET: 60.0},
    ])
    plan = _plan(table, history)
    assert sorted({p.row for p in plan.problems}) == [1, 2]
    assert plan.row_ids == [None, None, None, None] and plan.new_rows == [0, 3]
    assert [m.experiment_id for m in plan.measurements] == [NewExperimentRef(0), NewExperimentRef(1)]
    assert plan.experiment_ids(["E0002", "E0003"]) == ["E0002", "E0003"]


def test_nothing_measured_is_nothing_planned() -> None:
    plan = _plan(pd.DataFrame([{**STUDY, CE: math.nan}]))
    assert [e.status for e in plan.new_experiments] == ["running"] and plan.measurements == []


@pytest.mark.parametrize("ref", [-1, True, 1.0])
def test_a_reference_is_a_whole_number_from_zero(ref: object) -> None:
    with pytest.raises(ValueError, match="whole number >= 0"):
        NewExperimentRef(ref)  # type: ignore[arg-type]


def test_cells_of_one_new_experiment_create_it_once_and_measure_each_cell() -> None:
    table = pd.DataFrame([
        {**STUDY, "experiment_id": "P1", "replicate": "A", "failed": True, "failure_reason": "cell shorted"},
        {"experiment_id": "P1", "replicate": "B", CE: 90.0},
        {"experiment_id": "P1", "replicate": "C", CE: 91.0, "anneal_temperature_c": STUDY["anneal_temperature_c"]},
    ])
    plan = _plan(table)
    assert plan.problems == []
    assert len(plan.new_experiments) == 1 and plan.new_experiments[0].experiment_id == "P1"
    assert plan.new_experiments[0].status == "completed"  # a measured cell: not a failed experiment
    assert plan.measurements == [
        NewMeasurement(NewExperimentRef(0), CE, 90.0, unit=CONFIG.unit_of(CE), replicate="B"),
        NewMeasurement(NewExperimentRef(0), CE, 91.0, unit=CONFIG.unit_of(CE), replicate="C")]
    assert plan.experiment_ids(["P1"]) == ["P1", "P1", "P1"]


def test_a_later_cell_with_another_recipe_is_a_problem() -> None:
    other = STUDY["anneal_temperature_c"] + 50.0
    table = pd.DataFrame([{**STUDY, "experiment_id": "P1", "replicate": "A", CE: 90.0},
                          {"experiment_id": "P1", "replicate": "B", CE: 91.0, "anneal_temperature_c": other}])
    plan = _plan(table)
    assert [(p.row, p.column) for p in plan.problems] == [(1, "anneal_temperature_c")]
    assert len(plan.measurements) == 1


def test_a_prediction_column_read_back_as_written_or_as_a_spreadsheet_shows_it_is_no_problem() -> None:
    from doe.domain.read_back import typed_over_predictions

    predictions = {"E1": {f"{CE}_mean": 86.69773, f"{RET}_mean": 65.0423}, "E2": {f"{CE}_mean": 192.4483}}
    table = pd.DataFrame({"experiment_id": ["E1", "E2", "E3", None],
                          f"{CE}_mean": [86.7, 192.4, 50.0, 10.0],  # 4 significant figures of 192.4: one decimal
                          f"{RET}_mean": [65.04232781572001, None, None, None]})
    assert typed_over_predictions(table, predictions, [CE, RET]) == []  # E3: no proposal of doe; row 4: no id
    table.loc[0, f"{CE}_mean"] = 85.5  # a measured value, one column too far left
    table.loc[1, f"{RET}_mean"] = 71.0  # where doe predicted nothing
    found = typed_over_predictions(table, predictions, [CE, RET])
    assert [(p.row, p.column, p.value) for p in found] == [(0, f"{CE}_mean", 85.5), (1, f"{RET}_mean", 71.0)]
    assert "not the prediction doe stored for E1 (86.7)" in found[0].problem
    assert "doe stored no prediction of capacity_retention_pct for E2" in found[1].problem
    # a script's rounding (0.5 %) is what doe wrote; a value typed into the _sd column next to an
    # outcome (the sheet's real left neighbour) is refused; a history's _sd (cells' spread) is not checked
    predictions["E1"] |= {f"{RET}_sd": 5.6864}
    rounded = pd.DataFrame({"experiment_id": ["E1"], f"{CE}_mean": [86.8], f"{RET}_sd": [5.7]})
    assert typed_over_predictions(rounded, predictions, [CE, RET]) == []
    typed = rounded.assign(**{f"{RET}_sd": [85.5]})
    assert [(p.row, p.column) for p in typed_over_predictions(typed, predictions, [CE, RET])] == [(0, f"{RET}_sd")]
    assert typed_over_predictions(typed.assign(**{f"{RET}_n": [2]}), predictions, [CE, RET]) == []
