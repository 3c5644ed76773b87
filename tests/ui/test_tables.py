"""Tables the pages show and read back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from doe import load_config
from doe.domain.exports import run_sheet
from doe.errors import CellProblem, DataError
from doe.ui.entry_templates import history_template
from doe.ui.tables import (
    ID_COLUMN,
    filled_rows,
    filter_history,
    grid_changes,
    parse_column_mapping,
    problems_frame,
    proposed_with_predictions,
    record_grid,
    suggestion_view,
)

CONFIG = load_config("hfo2-ncm85")


def _history() -> pd.DataFrame:
    rows = []
    for i, status in enumerate(["completed", "running", "completed", "failed", "abandoned", "proposed"], start=1):
        row = {"experiment_id": f"E{i:04d}", "status": status, "batch_id": "B0001" if i < 4 else "B0002",
               "config_version": 1, **{p: 1.0 for p in CONFIG.parameter_names}}
        row.update(anneal_atmosphere="O2", dispersion_solvent="toluene", evaporation_bath_temperature_c=60.0)
        row.update({o: np.nan for o in CONFIG.outcome_names})
        row["failure_reason"] = "gelled" if status == "failed" else None
        rows.append(row)
    table = pd.DataFrame(rows)
    table.loc[0, ["first_cycle_ce_pct", "capacity_retention_pct"]] = [88.0, 66.0]
    table.loc[2, "first_cycle_ce_pct"] = 85.0  # retention still to come
    return table


def test_record_grid_shows_what_awaits_results() -> None:
    grid = record_grid(_history(), CONFIG)
    assert grid["experiment_id"].tolist() == ["E0002", "E0003", "E0006"]
    assert grid["failed"].tolist() == [False, False, False]
    every = record_grid(_history(), CONFIG, "all")
    assert "E0005" not in every["experiment_id"].tolist()  # abandoned
    assert every.set_index("experiment_id").loc["E0004", "failed"]


def test_grid_changes_keep_only_edited_rows_and_need_a_reason_for_a_failure() -> None:
    original = record_grid(_history(), CONFIG)
    original.index = pd.RangeIndex(1, len(original) + 1)
    edited = original.copy()
    edited.loc[2, "capacity_retention_pct"] = 64.0
    changes = grid_changes(original, edited, CONFIG)
    assert changes["experiment_id"].tolist() == ["E0003"]
    assert changes.index.tolist() == [2]
    assert changes.loc[2, "capacity_retention_pct"] == 64.0
    assert np.isnan(changes.loc[2, "first_cycle_ce_pct"])  # shown (85.0), not typed: not recorded again

    edited.loc[3, "failed"] = True
    with pytest.raises(DataError) as err:
        grid_changes(original, edited, CONFIG)
    assert [(p.row, p.column) for p in err.value.problems] == [(2, "failure_reason")]
    edited.loc[3, "failure_reason"] = "  furnace tripped "
    changes = grid_changes(original, edited, CONFIG)
    assert changes.loc[3, "failure_reason"] == "furnace tripped"

    edited.loc[1, "note"] = "a note alone"  # saved with a value only: refused, naming the cell
    with pytest.raises(DataError) as err:
        grid_changes(original, edited, CONFIG)
    assert [(p.row, p.column) for p in err.value.problems] == [(0, "note")]
    assert err.value.problems[0].problem.endswith("type the value too")


def test_problems_frame_shows_stored_values_and_lists_as_plain_text() -> None:
    """The 'value' of a conflict showed a Python dict ({'capacity_retention_pct': 71.2})."""
    frame = problems_frame([CellProblem(0, "capacity_retention_pct", {"capacity_retention_pct": 71.2}, "differs"),
                            CellProblem(None, "x", ["a", "b"], "unknown")])
    assert frame["value"].tolist() == ["capacity_retention_pct = 71.2", "a, b"]


def test_problems_frame_uses_the_shown_row_numbers_and_ids() -> None:
    table = pd.DataFrame({"experiment_id": ["E0007", "E0009"], "x": [1, 2]}, index=[4, 7])
    problems = [CellProblem(1, "first_cycle_ce_pct", "high", "not a number"), CellProblem(None, "foo", "foo", "unknown")]
    frame = problems_frame(problems, table)
    assert frame.values.tolist() == [[7, "E0009", "first_cycle_ce_pct", "high", "not a number"],
                                     [None, None, "foo", "foo", "unknown"]]
    assert problems_frame(problems)["row"].tolist()[0] == 2  # first data row is 1
    # a file's row keeps its spreadsheet number and still names its experiment (it showed None)
    in_file = [CellProblem(1, "first_cycle_ce_pct", "87,3", "not a number", file_row=3)]
    assert problems_frame(in_file, table).values.tolist()[0][:2] == [3, "E0009"]


def test_suggestions_show_mean_and_sd_and_the_reason() -> None:
    suggestions = pd.DataFrame({"experiment_id": ["E0001"], "batch_id": ["B0001"],
                                **{p: [1.0] for p in CONFIG.parameter_names},
                                "first_cycle_ce_pct_mean": [88.123], "first_cycle_ce_pct_sd": [1.54],
                                "probability_feasible": [0.9], "acquisition_value": [-2.0],
                                "strategy": ["qLogNEHVI"]})
    view = suggestion_view(suggestions, CONFIG)
    unit = CONFIG.unit_of("first_cycle_ce_pct")
    assert view.loc[0, "first_cycle_ce_pct (predicted)"] == f"88.1 {unit} ± 1.5"
    assert view.loc[0, "capacity_retention_pct (predicted)"] == ""
    assert view.loc[0, "purpose"] == "spreads the first recipes over the whole range (before the model chooses them)"
    shown = " ".join(map(str, view.columns)) + " " + " ".join(map(str, view.iloc[0]))
    assert "acquisition" not in shown and "qLogNEHVI" not in shown  # no algorithm names
    assert view.loc[0, "probability_feasible"] == 0.9


def test_no_chance_of_success_is_shown_before_anything_is_measured() -> None:
    """A new campaign's first batch showed P(success) 100 % on every row: no outcome had a model."""
    first = pd.DataFrame({"experiment_id": ["E0001", "E0002"], **{p: [1.0, 2.0] for p in CONFIG.parameter_names},
                          **{f"{o}_mean": [np.nan, np.nan] for o in CONFIG.outcome_names},
                          **{f"{o}_sd": [np.nan, np.nan] for o in CONFIG.outcome_names},
                          "probability_feasible": [1.0, 1.0], "strategy": ["initial_design"] * 2})
    assert suggestion_view(first, CONFIG)["probability_feasible"].isna().all()
    later = first.assign(first_cycle_ce_pct_mean=[88.0, 87.0], first_cycle_ce_pct_sd=[1.0, 1.0])
    assert suggestion_view(later, CONFIG)["probability_feasible"].tolist() == [1.0, 1.0]
    failed_only = first.assign(probability_feasible=[0.4, 1.0])  # failed runs, nothing measured: the chance says
    assert suggestion_view(failed_only, CONFIG)["probability_feasible"].tolist()[0] == 0.4


def test_stored_predictions_join_the_proposed_rows_and_the_run_sheet() -> None:
    history = _history()
    proposed = history[history["status"] == "proposed"]
    proposals = pd.DataFrame({"experiment_id": ["E0006"], "predictions": [{"first_cycle_ce_pct_mean": 90.0,
                                                                            "first_cycle_ce_pct_sd": 1.2,
                                                                            "strategy": "initial design"}]})
    joined = proposed_with_predictions(proposed, proposals)
    assert joined["first_cycle_ce_pct_mean"].tolist() == [90.0]
    sheet = run_sheet(joined, CONFIG)
    assert sheet.columns[:2].tolist() == ["experiment_id", "batch_id"]
    assert sheet["first_cycle_ce_pct_mean"].tolist() == [90.0]
    assert sheet["first_cycle_ce_pct_sd"].tolist() == [1.2]  # the run sheet carries the uncertainty
    assert sheet["first_cycle_ce_pct"].isna().all() and not sheet["failed"].any()
    # once the campaign holds replicate cells the history has a replicate sd of the same name
    # (NaN for a proposed experiment): the prediction's sd still reaches the view and the sheet
    replicated = proposed.assign(first_cycle_ce_pct_sd=np.nan, first_cycle_ce_pct_n=0)
    joined = proposed_with_predictions(replicated, proposals)
    assert run_sheet(joined, CONFIG)["first_cycle_ce_pct_sd"].tolist() == [1.2]
    assert suggestion_view(joined, CONFIG)["first_cycle_ce_pct (predicted)"].str.endswith("± 1.2").all()


def test_history_filters_and_template() -> None:
    history = _history()
    assert filter_history(history, statuses=["completed"])["experiment_id"].tolist() == ["E0001", "E0003"]
    assert filter_history(history, batches=["B0002"], text="GELLED")["experiment_id"].tolist() == ["E0004"]
    template = history_template(CONFIG)
    assert filled_rows(template).empty
    template.loc[1, "first_cycle_ce_pct"] = 80.0
    assert filled_rows(template).index.tolist() == [1]


def test_column_mapping_lines() -> None:
    assert parse_column_mapping("CE (%) = first_cycle_ce_pct\n# note\nT -> anneal_temperature_c\n") == {
        "CE (%)": "first_cycle_ce_pct", "T": "anneal_temperature_c"}
    with pytest.raises(DataError) as err:
        parse_column_mapping("just a column")
    assert err.value.problems[0].value == "just a column"


def test_column_mapping_splits_at_the_last_separator() -> None:
    # a doe column name has no '=', ':' or '->' (an identifier); a file's column name may, as `doe record --map`
    # reads it: split at the first '=', 'CE=final = ce' looked for the doe column 'final = ce' and was refused
    assert parse_column_mapping("CE=final = first_cycle_ce_pct\nT: set -> anneal_temperature_c\nQ:mAh : capacity") == {
        "CE=final": "first_cycle_ce_pct", "T: set": "anneal_temperature_c", "Q:mAh": "capacity"}


# ------------------------------------------------------------------ unsaved edits of the Record grid
def test_editor_state_by_position_becomes_edits_by_experiment_id() -> None:
    from doe.ui.tables import apply_editor_state, unsaved_edits

    grid = record_grid(_history(), CONFIG, "all")
    edited = apply_editor_state(grid, {"edited_rows": {1: {"first_cycle_ce_pct": 88.0, "unknown": 1}, 99: {"x": 1}},
                                       "added_rows": [], "deleted_rows": []})
    edits = unsaved_edits(grid, edited, CONFIG)
    assert list(edits) == [grid["experiment_id"].iloc[1]]
    edit = edits[grid["experiment_id"].iloc[1]]["first_cycle_ce_pct"]
    assert np.isnan(edit.before) and edit.after == 88.0


def test_unsaved_values_follow_their_experiment_and_saved_or_changed_cells_are_told_apart() -> None:
    from doe.ui.tables import CellEdit, merge_unsaved

    grid = record_grid(_history(), CONFIG, "all")
    ids = grid["experiment_id"].tolist()
    fresh = grid.iloc[::-1].reset_index(drop=True)  # rows moved
    fresh.loc[fresh["experiment_id"] == ids[1], "capacity_retention_pct"] = 61.0  # someone else stored this
    fresh.loc[fresh["experiment_id"] == ids[2], "first_cycle_ce_pct"] = 77.0  # saved as typed
    edits = {
        ids[1]: {"capacity_retention_pct": CellEdit(np.nan, 65.0), "note": CellEdit(None, "typed")},
        ids[2]: {"first_cycle_ce_pct": CellEdit(np.nan, 77.0)},
        "gone": {"first_cycle_ce_pct": CellEdit(np.nan, 1.0)},
    }
    merged = merge_unsaved(fresh, edits)
    row = merged.grid.set_index("experiment_id").loc[ids[1]]
    assert row["capacity_retention_pct"] == 65.0 and row["note"] == "typed"
    assert merged.conflicts == ((ids[1], "capacity_retention_pct"),)
    assert set(merged.kept) == {ids[1]}
    assert merged.grid["experiment_id"].tolist() == fresh["experiment_id"].tolist()
    # text typed into a number cell that is not read as a number yet stays, for the person to correct
    merged = merge_unsaved(fresh, {ids[0]: {"first_cycle_ce_pct": CellEdit(np.nan, "1,250")}})
    assert merged.grid.set_index("experiment_id").loc[ids[0], "first_cycle_ce_pct"] == "1,250"


def test_audit_trail_newest_first_in_local_time_and_readable() -> None:
    from doe.ui.tables import audit_view

    audit = pd.DataFrame({
        "at": pd.to_datetime(["2026-03-01T10:00:00Z", "2026-03-01T12:30:05Z"], utc=True),
        "actor": ["ann", "bob"], "action": ["experiment_created", "measurement_corrected"],
        "experiment_id": [None, "E0001"],
        "detail": ['{"status": "completed", "batch_id": null}', '{"reason": "typo in CE", "old": 8.8}'],
    })
    view = audit_view(audit, "Europe/Berlin")
    assert view["who"].tolist() == ["bob", "ann"]  # newest first
    assert view.loc[0, "when"] == "2026-03-01 13:30:05 CET"
    assert view.loc[0, "what"] == "measurement corrected"
    assert view.loc[0, "details"] == "reason: typo in CE · old: 8.8"
    assert view.loc[1, "details"] == "status: completed" and view.loc[1, "experiment_id"] == ""
    assert audit_view(audit, "Not/AZone")["when"].str.len().min() > 0  # unknown zone: the server's time


def test_the_audit_trail_shows_values_as_the_app_and_keeps_them_exact(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The audit trail printed a measured value at full float precision (409.7279652953148)."""
    from doe import Campaign
    from doe.domain.config import CampaignConfig
    from doe.ui.tables import audit_view

    config = CampaignConfig.from_dict({
        "name": "audit", "parameters": [{"name": "temp", "type": "continuous", "bounds": [250, 750], "resolution": 5}],
        "objectives": [{"name": "ce", "goal": "maximize", "unit": "%"}]})
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'a.sqlite3'}", actor="ana")
    campaign.record(pd.DataFrame({"experiment_id": ["E1", "E2"], "temp": [400.0, 500.0],
                                  "ce": [409.7279652953148, 85.4633]}))
    campaign.record(pd.DataFrame({"experiment_id": ["E2"], "temp": [500.0], "ce": [85.4634]}), correct=True)
    view = audit_view(campaign.audit()).set_index(["what", "experiment_id"])["details"]
    assert view[("measurement added", "E1")] == "outcome: ce · value: 409.7 · unit: %"
    # a correction shows as many figures as tell the two values apart (not 85.46 to 85.46)
    assert view[("measurement corrected", "E2")].startswith("outcome: ce · old value: 85.4633 · new value: 85.4634")
    assert "409.7279652953148" in campaign.audit()["detail"].str.cat()  # the stored detail keeps the value
    assert campaign.measurements().set_index("experiment_id").loc["E1", "value"] == 409.7279652953148


def test_a_note_typed_alone_goes_with_the_values_of_the_experiments_one_cell(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A note, operator, sample id or date typed alone in the grid was refused ('type the value
    too'), and typing the shown value again changed no cell, so a note could not be added to a
    recorded value from the grid. Now the row carries its one cell's stored values and label,
    and recording it with correct=True stores the note with them."""
    from doe import Campaign

    ce, retention = "first_cycle_ce_pct", "capacity_retention_pct"
    campaign = Campaign.from_config("hfo2-ncm85", storage=f"sqlite:///{tmp_path / 'doe.sqlite3'}", name="notes")
    campaign.suggest(4)
    campaign.record(pd.DataFrame({"experiment_id": ["E0001", "E0002", "E0003", "E0003"],
                                  "replicate": [None, "A", "A", "B"], ce: [85.0, 86.0, 87.0, 88.0],
                                  retention: [61.5, None, None, None]}))
    history, measurements = campaign.history(), campaign.measurements()
    original = record_grid(history, campaign.config, "all")
    original.index = pd.RangeIndex(1, len(original) + 1)
    edited = original.copy()
    edited.loc[1, "note"] = "cell shorted at cycle 30"
    edited.loc[2, "operator"] = "Kim"
    changes = grid_changes(original, edited, campaign.config, history, measurements)
    assert changes[ID_COLUMN].tolist() == ["E0001", "E0002"]
    assert changes[[ce, retention]].values.tolist()[0] == [85.0, 61.5]
    assert changes["replicate"].tolist()[1] == "A" and changes[ce].tolist()[1] == 86.0
    report = campaign.record(changes)
    assert (report.measurements_added, len(report.context_not_stored)) == (0, 3)  # said, not stored
    report = campaign.record(changes, correct=True)
    assert (report.measurements_added, report.measurements_corrected) == (0, 3)
    cells = campaign.measurements().set_index(["experiment_id", "outcome"])
    assert cells.loc[("E0001", ce), "note"] == cells.loc[("E0001", retention), "note"] == "cell shorted at cycle 30"
    assert cells.loc[("E0002", ce), "operator"] == "Kim" and cells.loc[("E0002", ce), "value"] == 86.0
    assert campaign.history()[f"{ce}_n"].tolist() == [1, 1, 2, 0]  # no cell added

    campaign.fail(["E0002"], "separator torn")  # measured, then failed: the row stands for the failure
    history, measurements = campaign.history(), campaign.measurements()
    original = record_grid(history, campaign.config, "all")
    original.index = pd.RangeIndex(1, len(original) + 1)
    edited = original.copy()
    edited.loc[2, "sample_id"] = "S-17"  # the failure's own sample id (record_grid shows it)
    failure = grid_changes(original, edited, campaign.config, history, measurements)
    assert failure[[ID_COLUMN, "failed", "failure_reason", "sample_id"]].values.tolist() == [
        ["E0002", True, "separator torn", "S-17"]]
    assert failure[[ce, retention]].isna().all(axis=None)
    campaign.record(failure, correct=True)
    stored = campaign.history().set_index(ID_COLUMN).loc["E0002"]
    assert (stored["status"], stored["failure_sample_id"], stored[ce]) == ("failed", "S-17", 86.0)
    for row, expected in ((3, "goes with one cell, and E0003 has 2"), (4, "type the value too")):
        edited = original.copy()
        edited.loc[row, "sample_id"] = "S-17"
        with pytest.raises(DataError) as err:
            grid_changes(original, edited, campaign.config, history, measurements)
        assert [(p.row, p.column) for p in err.value.problems] == [(row - 1, "sample_id")]
        assert expected in err.value.problems[0].problem


def test_the_grid_shows_a_failures_note_operator_sample_and_date_and_a_new_reason_keeps_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A failed experiment's row showed its reason but empty note, operator, sample id and date,
    though they are stored: a reason changed in the grid and saved cleared them. Now the row
    shows them and saves them with the reason; ticked off for a value measured after all, the
    failure's are not that value's."""
    from doe import Campaign

    ce = "first_cycle_ce_pct"
    campaign = Campaign.from_config("hfo2-ncm85", storage=f"sqlite:///{tmp_path / 'doe.sqlite3'}", name="failures")
    campaign.suggest(2)
    campaign.record(pd.DataFrame([{"experiment_id": e, "failure_reason": "gelled", "note": "lumps after 2 h",
                                   "operator": "Kim", "sample_id": "S-9", "measured_at": "2026-12-04 14:30"}
                                  for e in ("E0001", "E0002")]))
    history = campaign.history()
    original = record_grid(history, campaign.config, "all")
    original.index = pd.RangeIndex(1, len(original) + 1)
    shown = original.set_index(ID_COLUMN).loc["E0001"]
    assert (shown["note"], shown["operator"], shown["sample_id"]) == ("lumps after 2 h", "Kim", "S-9")
    assert pd.Timestamp(shown["measured_at"]) == pd.Timestamp("2026-12-04 14:30", tz="UTC")
    edited = original.copy()
    edited.loc[1, "failure_reason"] = "gelled slurry"  # only the reason changed
    edited.loc[2, ["failed", "failure_reason", ce]] = [False, None, 84.0]  # measured after all
    changes = grid_changes(original, edited, campaign.config, history, campaign.measurements())
    assert changes.loc[1, ["note", "operator", "sample_id"]].tolist() == ["lumps after 2 h", "Kim", "S-9"]
    assert changes.loc[2, ["note", "operator", "sample_id", "measured_at"]].isna().all()
    campaign.record(changes, correct=True)
    after = campaign.history().set_index(ID_COLUMN)
    assert after.loc["E0001", ["status", "failure_reason", "failure_note", "failure_operator",
                               "failure_sample_id"]].tolist() == ["failed", "gelled slurry", "lumps after 2 h", "Kim",
                                                                  "S-9"]
    assert after.loc["E0001", "failure_measured_at"] == pd.Timestamp("2026-12-04 14:30", tz="UTC")
    assert (after.loc["E0002", "status"], after.loc["E0002", ce]) == ("completed", 84.0)
    value = campaign.measurements().set_index(ID_COLUMN).loc["E0002"]
    assert value[["note", "operator", "sample_id", "measured_at"]].isna().all()


def test_a_failures_note_or_operator_emptied_in_the_grid_is_refused_not_kept_silently(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Found by review: a failed experiment's note emptied in the grid and saved as a correction
    was sent as 'not given', which record() reads as 'keep the stored one': the page reported the
    save and the note stayed. Now the emptied cells are refused, naming each, and nothing is saved."""
    from doe import Campaign

    campaign = Campaign.from_config("hfo2-ncm85", storage=f"sqlite:///{tmp_path / 'doe.sqlite3'}", name="failures")
    campaign.suggest(1)
    campaign.record(pd.DataFrame([{"experiment_id": "E0001", "failure_reason": "gelled", "note": "lumps after 2 h",
                                   "operator": "Kim", "sample_id": "S-9"}]))
    history = campaign.history()
    original = record_grid(history, campaign.config, "all")
    edited = original.copy()
    edited.loc[0, ["note", "operator"]] = [None, "  "]
    with pytest.raises(DataError) as err:
        grid_changes(original, edited, campaign.config, history, campaign.measurements())
    assert [(p.row, p.column, p.value) for p in err.value.problems] == [(0, "note", "lumps after 2 h"),
                                                                         (0, "operator", "Kim")]
    assert "the failure's stored note cannot be removed here" in err.value.problems[0].problem
    edited.loc[0, ["failed", "failure_reason", "first_cycle_ce_pct"]] = [False, None, 84.0]  # measured after all
    changes = grid_changes(original, edited, campaign.config, history, campaign.measurements())
    assert changes.loc[0, ["note", "operator"]].isna().all()  # the failure's are not the value's: nothing to keep


def test_grid_changes_read_typed_text_as_the_number_meant_or_name_the_cell() -> None:
    """The grid's outcome cells are text: '1.2e3' was stored as 1.23 and '12,5' as 125 by
    Streamlit's number editor; now they are read as 1200 and 12.5, and an ambiguous or wrong
    text is refused naming its row and column."""
    ce, resistance = "first_cycle_ce_pct", "interfacial_resistance_ohm"
    original = record_grid(_history(), CONFIG)
    original.index = pd.RangeIndex(1, len(original) + 1)
    edited = original.astype({o: object for o in CONFIG.outcome_names})  # as the page's text columns
    edited.loc[1, resistance] = "1.2e3"
    edited.loc[2, ce] = "85.0"  # the value shown (85.0), typed as text: no change
    edited.loc[3, ce] = "12,5"
    changes = grid_changes(original, edited, CONFIG)
    assert changes.index.tolist() == [1, 3]
    assert changes.loc[1, resistance] == 1200.0 and changes.loc[3, ce] == 12.5
    assert changes[ce].dtype == float
    edited.loc[2, "capacity_retention_pct"] = "1,250"
    edited.loc[3, resistance] = "12 Ohm"
    with pytest.raises(DataError) as err:
        grid_changes(original, edited, CONFIG)
    assert [(p.row, p.column, p.value) for p in err.value.problems] == [
        (1, "capacity_retention_pct", "1,250"), (2, resistance, "12 Ohm")]
    assert "may mean 1250" in err.value.problems[0].problem
    frame = problems_frame(err.value.problems, edited)
    assert frame[["row", ID_COLUMN, "column"]].values.tolist() == [
        [2, "E0003", "capacity_retention_pct"], [3, "E0006", resistance]]


def test_after_a_save_the_values_it_stored_are_no_longer_unsaved() -> None:
    """A CE and a note saved from the grid: the note (shown empty again, for the values saved
    next) stayed 'unsaved', and the page said someone else had saved and warned before leaving."""
    from doe.ui.tables import CellEdit, drop_saved, merge_unsaved, unsaved_edits

    grid = record_grid(_history(), CONFIG, "all")
    edited = grid.copy()
    row = grid.index[grid[ID_COLUMN] == "E0002"][0]
    edited.loc[row, ["first_cycle_ce_pct", "note", "operator"]] = [85.0, "pellet pressed at 375 MPa", "Kim"]
    other = grid.index[grid[ID_COLUMN] == "E0006"][0]
    edited.loc[other, "sample_id"] = "S-9"  # typed in another row, not saved
    edits = unsaved_edits(grid, edited, CONFIG)
    saved = grid_changes(grid, edited.assign(sample_id=None), CONFIG)  # what the save of E0002 recorded
    # after the save the stored CE is 85.0 and the note columns are empty again: without drop_saved
    # the note and operator were kept as unsaved
    fresh = grid.copy()
    fresh.loc[row, "first_cycle_ce_pct"] = 85.0
    assert set(merge_unsaved(fresh, edits).kept["E0002"]) == {"note", "operator"}
    left = drop_saved(edits, saved)
    assert left == {"E0006": {"sample_id": CellEdit(None, "S-9")}}
    assert not merge_unsaved(fresh, left).kept.get("E0002")
    # an edit whose value differs from the one saved (the person typed again meanwhile) is kept
    retyped = {"E0002": {"note": CellEdit(None, "pressed at 400 MPa")}}
    assert drop_saved(retyped, saved) == retyped


def test_the_problems_of_an_uploaded_file_name_each_rows_experiment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The upload form has no table of its own to look ids up in (it hands the file to
    import_table): its problem table showed no experiment id for a file's rows."""
    from doe import Campaign

    campaign = Campaign.from_config("hfo2-ncm85", storage=":memory:")
    recipe = CONFIG.reference_recipe()
    path = tmp_path / "results.csv"
    pd.DataFrame([{"experiment_id": "P1", **recipe, "first_cycle_ce_pct": 88.0},
                  {"experiment_id": "P2", **recipe, "first_cycle_ce_pct": "high"},
                  {"experiment_id": None, **recipe, "first_cycle_ce_pct": "low"}]).to_csv(path, index=False)
    with pytest.raises(DataError) as err:
        campaign.import_table(path)
    frame = problems_frame(err.value.problems)
    assert frame[["row", ID_COLUMN, "column"]].values.tolist() == [[3, "P2", "first_cycle_ce_pct"],
                                                                 [4, None, "first_cycle_ce_pct"]]


def test_an_experiment_still_cycling_awaits_its_curve_outcome_in_the_record_grid(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Once curve points were recorded, an experiment short of cycle 200 had its retention filled
    with the prediction in history(), and the grid said 'No experiment awaits results' while
    Insights listed it as still cycling (found by a browser walk)."""
    from doe import Campaign
    from doe.simulate.curves import retention_curve

    config = load_config("hfo2-ncm85").model_dump(mode="json")
    config["objectives"] = [o | {"over": "cycle", "at": 200} if o["name"] == "capacity_retention_pct" else o
                            for o in config["objectives"]]
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'doe.sqlite3'}", name="cycling")
    campaign.suggest(2)
    campaign.record(pd.DataFrame({"experiment_id": ["E0001", "E0002"], "first_cycle_ce_pct": [85.0, 86.0]}))
    for experiment_id, cycles in (("E0001", 100), ("E0002", 200)):
        curve = retention_curve(75.0, cycles, seed=1)
        campaign.record(pd.DataFrame({"experiment_id": experiment_id, "cycle": curve["cycle"],
                                      "capacity_retention_pct": curve["retention_pct"]}))
    history = campaign.history()
    assert history["capacity_retention_pct"].notna().all()  # E0001's is predicted
    grid = record_grid(history, campaign.config)
    assert grid[ID_COLUMN].tolist() == ["E0001"] and grid["capacity_retention_pct"].isna().all()


def test_a_curve_value_typed_in_the_grid_for_a_cell_with_points_short_of_its_cycle_is_recorded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A review: with cycle points recorded up to 30 (the history predicting the value at 200), a
    retention typed into the Record grid's empty cell was refused ("give the cycle ... in a cycle
    column"), which the grid has no way to give. It is measured at cycle 200, as before."""
    from doe import Campaign

    config = {"name": "curve-grid", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
              "objectives": [{"name": "retention_pct", "goal": "maximize", "over": "cycle", "at": 200}]}
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'doe.sqlite3'}", actor="me")
    campaign.record(pd.DataFrame({"experiment_id": ["E0", "E1"], "x": [0.2, 0.8]}))
    campaign.record(pd.DataFrame({"experiment_id": "E0", "cycle": range(1, 31),
                                  "retention_pct": np.linspace(100, 95, 30)}))
    history = campaign.history()
    assert history.set_index("experiment_id").loc["E0", "retention_pct_pred_sd"] > 0  # predicted at 200
    original = record_grid(history, campaign.config, show="all")
    edited = original.copy()
    row = original.index[original["experiment_id"] == "E0"][0]
    assert pd.isna(original.loc[row, "retention_pct"])  # the grid shows no prediction to type over
    edited.loc[row, "retention_pct"] = 71.5
    campaign.record(grid_changes(original, edited, campaign.config, history, campaign.measurements()))
    points = campaign.measurements()
    e0 = points[(points["experiment_id"] == "E0") & (points["outcome"] == "retention_pct")]
    assert e0.loc[e0["cycle"] == 200, "value"].tolist() == [71.5]
