"""Bad input to Campaign.record/suggest/import_table is refused cleanly and changes nothing
(issue 14, item 4), on a real SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from doe import Campaign, list_campaigns
from doe.engine import EngineSettings
from doe.errors import ConfigError, DataError, DoeError, StorageError
from doe.templates import resolve_config

CONFIG = resolve_config("hfo2-ncm85")
RECIPE = CONFIG.reference_recipe()
assert RECIPE is not None


@pytest.fixture()
def campaign(tmp_path: Path) -> Campaign:
    return Campaign.from_config("hfo2-ncm85", storage=f"sqlite:///{tmp_path / 'c.sqlite3'}", actor="alice",
                                settings=EngineSettings.fast())


def _state(campaign: Campaign) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    return campaign.history(), campaign.measurements(), len(campaign.audit())


def _unchanged(campaign: Campaign, before: tuple[pd.DataFrame, pd.DataFrame, int]) -> None:
    after = _state(campaign)
    pd.testing.assert_frame_equal(after[0], before[0])
    pd.testing.assert_frame_equal(after[1], before[1])
    assert after[2] == before[2]


@pytest.mark.parametrize("table", [[RECIPE], None, RECIPE, "results.csv", 3])
def test_record_of_something_else_than_a_table_names_the_argument(campaign: Campaign, table: object) -> None:
    before = _state(campaign)
    with pytest.raises(DataError, match="table: expected a pandas DataFrame"):
        campaign.record(table)  # type: ignore[arg-type]
    _unchanged(campaign, before)


def test_suggest_with_candidates_that_are_not_a_table_names_the_argument(campaign: Campaign) -> None:
    with pytest.raises(DataError, match="candidates: expected a pandas DataFrame"):
        campaign.suggest(1, candidates=[RECIPE])  # type: ignore[arg-type]
    assert campaign.history().empty


@pytest.mark.parametrize("n", [-1, 0, 1.5])
def test_best_with_a_count_that_is_not_a_whole_number_from_1_names_n(campaign: Campaign, n: float) -> None:
    campaign.record(pd.DataFrame([{**RECIPE, "experiment_id": f"E{k}", "first_cycle_ce_pct": 85.0 + k,
                                   "capacity_retention_pct": 60.0 + k, "coating_thickness_nm": 10.0} for k in range(3)]))
    with pytest.raises(DoeError, match=r"^n: the number of best recipes must be a whole number >= 1"):
        campaign.best(n)  # type: ignore[arg-type]
    assert campaign.best(5)["experiment_id"].tolist() == ["E2"]  # the Pareto front: E2 beats E0 and E1


@pytest.mark.parametrize("status", ["Completed", "complete", "", ["completed", "bogus"], 5, ["completed", None]])
def test_history_of_a_status_it_does_not_know_names_the_argument(campaign: Campaign, status: object) -> None:
    # a mistyped status ("Completed") gave an empty table, silently, and 5 a TypeError
    campaign.record(pd.DataFrame([{**RECIPE, "experiment_id": "E1", "first_cycle_ce_pct": 85.0}]))
    with pytest.raises(DataError, match=r"^status: .*'proposed', 'running', 'completed', 'failed', 'abandoned'"):
        campaign.history(status=status)  # type: ignore[arg-type]
    assert campaign.history(status=("completed",))["experiment_id"].tolist() == ["E1"]
    assert campaign.history(status=[]).empty


@pytest.mark.parametrize("flag", ["no", "False", 0.0, None])
def test_measurements_with_include_superseded_not_a_bool_names_it(campaign: Campaign, flag: object) -> None:
    # "no" is a true string: the superseded values were listed as if asked for
    campaign.record(pd.DataFrame([{**RECIPE, "experiment_id": "E1", "first_cycle_ce_pct": 85.0}]))
    campaign.record(pd.DataFrame([{"experiment_id": "E1", "first_cycle_ce_pct": 86.0}]), correct=True)
    with pytest.raises(DataError, match=r"^include_superseded: give True or False"):
        campaign.measurements(include_superseded=flag)  # type: ignore[arg-type]
    assert campaign.measurements()["value"].tolist() == [86.0]
    assert len(campaign.measurements(include_superseded=np.True_)) == 2  # type: ignore[arg-type]


@pytest.mark.parametrize("argument", ["correct", "valid_rows_only", "allow_duplicates"])
@pytest.mark.parametrize("flag", ["no", "false", 2, None])
def test_record_with_a_flag_that_is_not_a_bool_names_it_and_changes_nothing(campaign: Campaign, argument: str,
                                                                            flag: object) -> None:
    # correct="no" (a setting read from a text file) is true to Python: it replaced the stored value
    campaign.record(pd.DataFrame([{**RECIPE, "experiment_id": "E1", "first_cycle_ce_pct": 85.0}]))
    before = _state(campaign)
    with pytest.raises(DataError, match=rf"^{argument}: give True or False"):
        campaign.record(pd.DataFrame([{"experiment_id": "E1", "first_cycle_ce_pct": 58.0}]), **{argument: flag})
    _unchanged(campaign, before)


def test_archive_and_clone_with_a_flag_that_is_not_a_bool_name_it(campaign: Campaign) -> None:
    # archive("no") archived the campaign; clone(with_history="no") copied its history
    campaign.record(pd.DataFrame([{**RECIPE, "experiment_id": "E1", "first_cycle_ce_pct": 85.0}]))
    with pytest.raises(DataError, match=r"^archived: give True or False"):
        campaign.archive("no")  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"^with_history: give True or False"):
        campaign.clone("copy", with_history="no")  # type: ignore[arg-type]
    listed = list_campaigns(campaign.storage_url, include_archived=True)
    assert listed["name"].tolist() == [campaign.name] and not listed["archived"].any()
    campaign.archive(0)  # the integers 0 and 1 are the bools they were before the check (a review)
    campaign.record(pd.DataFrame([{"experiment_id": "E1", "first_cycle_ce_pct": 86.0}]), correct=1)
    assert campaign.history()["first_cycle_ce_pct"].tolist() == [86.0]


def test_suggest_and_best_refuse_a_float_count_alike_saying_why(campaign: Campaign) -> None:
    """suggest(2.0) was refused as "not a whole number, got 2.0": one rule (an int) for both
    counts, and the message says that 2.0 is a float and which int to give."""
    campaign.record(pd.DataFrame([{**RECIPE, "experiment_id": "E0", "first_cycle_ce_pct": 85.0,
                                   "capacity_retention_pct": 60.0, "coating_thickness_nm": 10.0}]))
    for call in (campaign.suggest, campaign.best):
        with pytest.raises(DoeError, match=r"must be a whole number .*, got 2\.0 \(a float: give the int 2\)$"):
            call(2.0)  # type: ignore[arg-type]
        with pytest.raises(DoeError, match=r", got True \(a bool, not an int\)$"):
            call(True)
    assert len(campaign.history()) == 1  # nothing proposed


def test_duplicate_column_names_are_a_data_error(campaign: Campaign) -> None:
    table = pd.DataFrame([[*RECIPE.values(), 90.0, 91.0]],
                         columns=[*RECIPE, "first_cycle_ce_pct", "first_cycle_ce_pct"])
    with pytest.raises(DataError, match=r"first_cycle_ce_pct.*more than once"):
        campaign.record(table)
    table = pd.DataFrame([[*RECIPE.values(), 400.0]], columns=[*RECIPE, "anneal_temperature_c"])
    with pytest.raises(DataError, match=r"anneal_temperature_c.*more than once"):
        campaign.record(table)
    assert campaign.history().empty


def test_a_failed_run_with_measured_values_is_refused(campaign: Campaign) -> None:
    before = _state(campaign)
    rows = [{**RECIPE, "failed": True, "first_cycle_ce_pct": 88.0, "coating_thickness_nm": 4.0},
            {**RECIPE, "failure_reason": "gelled", "capacity_retention_pct": 60.0}]
    with pytest.raises(DataError) as info:
        campaign.record(pd.DataFrame(rows))
    text = str(info.value)
    assert "row 0" in text and "first_cycle_ce_pct" in text and "coating_thickness_nm" in text
    assert "row 1" in text and "capacity_retention_pct" in text
    _unchanged(campaign, before)
    # a failed run without values, and a measured run not marked failed, are fine
    campaign.record(pd.DataFrame([{**RECIPE, "failed": True, "failure_reason": "gelled"},
                                  {**RECIPE, "failed": False, "first_cycle_ce_pct": 88.0}]))
    assert sorted(campaign.history()["status"]) == ["completed", "failed"]


@pytest.mark.parametrize("cell", ["3_50", "4_0_0", "1_000"])
def test_numbers_with_underscores_are_not_read_as_numbers(campaign: Campaign, cell: str) -> None:
    with pytest.raises(DataError, match=r"anneal_temperature_c.*not a number"):
        campaign.record(pd.DataFrame([{**RECIPE, "anneal_temperature_c": cell, "first_cycle_ce_pct": 80}]))
    with pytest.raises(DataError, match=r"first_cycle_ce_pct.*not a number"):
        campaign.record(pd.DataFrame([{**RECIPE, "first_cycle_ce_pct": "8_5"}]))
    assert campaign.history().empty


def test_reimporting_the_same_rows_without_ids_is_refused_unless_asked(campaign: Campaign) -> None:
    rows = pd.DataFrame([{**RECIPE, "first_cycle_ce_pct": 88.0},
                         {**RECIPE, "anneal_temperature_c": 500.0, "first_cycle_ce_pct": 84.0}])
    campaign.record(rows)
    before = _state(campaign)
    with pytest.raises(DataError, match="already recorded") as info:
        campaign.record(rows)
    assert {p.row for p in info.value.problems} == {0, 1}
    assert "E0001" in str(info.value) and "E0002" in str(info.value)
    _unchanged(campaign, before)
    # same recipe, another measured value: a repeat of the experiment, welcome
    campaign.record(pd.DataFrame([{**RECIPE, "first_cycle_ce_pct": 87.0}]))
    assert len(campaign.history()) == 3
    report = campaign.record(rows, allow_duplicates=True)
    assert len(report.created) == 2 and len(campaign.history()) == 5


def test_import_table_takes_an_encoding(campaign: Campaign, tmp_path: Path) -> None:
    path = tmp_path / "windows.csv"
    frame = pd.DataFrame([{**RECIPE, "first_cycle_ce_pct": 88.0, "note": "Probe Müller, 400 °C"}])
    path.write_bytes(frame.to_csv(index=False).encode("cp1252"))
    with pytest.raises(DataError, match="encoding="):
        campaign.import_table(path)
    campaign.import_table(path, encoding="cp1252")
    assert campaign.measurements()["note"].tolist() == ["Probe Müller, 400 °C"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_exported_history_imports_into_a_fresh_clone(campaign: Campaign, tmp_path: Path, suffix: str) -> None:
    config = CONFIG.to_dict()
    solvents = next(p for p in config["parameters"] if p["name"] == "dispersion_solvent")
    solvents["values"] = ["=1+1", "+SUM(A1)", "toluene"]
    solvents["reference"] = "=1+1"
    source = Campaign.from_config(config, storage=campaign.storage_url, name="source", actor="alice")
    source.record(pd.DataFrame([
        {**RECIPE, "dispersion_solvent": "=1+1", "first_cycle_ce_pct": 88.0, "note": "=HYPERLINK(1)"},
        {**RECIPE, "dispersion_solvent": "+SUM(A1)", "failed": True, "failure_reason": "-gelled"},
        {**RECIPE, "dispersion_solvent": "toluene", "anneal_temperature_c": 600.0, "capacity_retention_pct": 61.0},
    ]))
    path = tmp_path / f"history{suffix}"
    source.export_table(path)
    # the file stays safe: the formula-like label is neutralised in the file
    if suffix == ".xlsx":
        cells = [c.value for c in next(openpyxl.load_workbook(path).active.iter_cols(min_col=1, max_col=30))
                 if isinstance(c.value, str)]
        sheet = openpyxl.load_workbook(path).active
        texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
        assert "'=1+1" in texts and "=1+1" not in texts and cells
        assert "'=HYPERLINK(1)" in texts  # the note travels with the export
        assert sheet.freeze_panes == "A2"  # the header row stays in view
        exported = pd.read_excel(path, dtype=str)
    else:
        text = path.read_bytes().decode("utf-8-sig")
        assert "'=1+1" in text and ",=1+1" not in text
        assert "'=HYPERLINK(1)" in text
        exported = pd.read_csv(path, dtype=str, keep_default_na=False)
    reasons = dict(zip(exported["experiment_id"], exported["ranking_note"].fillna(""), strict=True))
    assert reasons == {"E0001": "capacity_retention_pct not measured", "E0002": "failed run",
                       "E0003": "first_cycle_ce_pct not measured"}
    clone = Campaign.from_config(config, storage=campaign.storage_url, name="clone", actor="alice")
    clone.import_table(path)
    keep = ["experiment_id", "status", *CONFIG.parameter_names, *CONFIG.outcome_names, "failure_reason"]
    pd.testing.assert_frame_equal(clone.history()[keep], source.history()[keep])


@pytest.mark.parametrize(("suffix", "cells"), [(".csv", False), (".xlsx", False), (".csv", True), (".xlsx", True)])
def test_an_export_records_into_another_campaign_without_the_experiments_never_made(
        campaign: Campaign, tmp_path: Path, suffix: str, cells: bool) -> None:
    """An abandoned experiment (never made) came back as a failed run, which the feasibility
    model counts against its recipe, and a proposed one as running work."""
    from click.testing import CliRunner

    from doe.cli import cli

    batch = campaign.suggest(4)
    ids = batch["experiment_id"].tolist()
    campaign.accept(ids[:2])
    campaign.record(pd.DataFrame([{"experiment_id": ids[0], "replicate": "A", "first_cycle_ce_pct": 88.0},
                                  {"experiment_id": ids[0], "replicate": "B", "first_cycle_ce_pct": 87.0}] if cells
                                 else [{"experiment_id": ids[0], "first_cycle_ce_pct": 88.0}]))
    campaign.abandon([ids[2]], "no powder left")  # ids[1] running, ids[3] proposed
    path = tmp_path / f"export{suffix}"
    campaign.export_table(path, cells=cells)
    other = Campaign.from_config(CONFIG.replace(name="other"), storage=campaign.storage_url, actor="alice")
    result = CliRunner().invoke(cli, ["record", str(path), "--campaign", "other", "--db", campaign.storage_url])
    assert result.exit_code == 0, result.output
    assert "2 row(s) left out, experiments never made in their campaign" in result.output
    rows = {e: i + 2 for i, e in enumerate(pd.read_csv(path)["experiment_id"] if suffix == ".csv"
                                           else pd.read_excel(path)["experiment_id"])}  # the file's rows
    assert f"row {rows[ids[2]]} of the file, column 'status': {ids[2]} was abandoned in its campaign" in result.output
    assert f"row {rows[ids[3]]} of the file, column 'status': {ids[3]} was proposed in its" in result.output
    statuses = dict(zip(other.history()["experiment_id"], other.history()["status"], strict=True))
    assert statuses == {ids[0]: "completed", ids[1]: "running"}
    assert other.measurements()["replicate"].fillna("-").tolist() == (["A", "B"] if cells else ["-"])
    assert other.pending()["experiment_id"].tolist() == [ids[1]]
    for again in (other, campaign):  # again, and into its own campaign: nothing changes
        before = _state(again)
        report = again.import_table(path)
        assert report.created == [] and report.measurements_added == 0
        assert len(report.never_made) == (2 if again is other else 0)
        _unchanged(again, before)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_typed_apostrophes_and_formulas_survive_the_round_trip(campaign: Campaign, tmp_path: Path,
                                                              suffix: str) -> None:
    reasons = ["'=1+1", "''", "'plain", "=SUM(A1)", "@cmd", "it's fine"]
    campaign.record(pd.DataFrame([{**RECIPE, "anneal_temperature_c": 300.0 + i, "failure_reason": r}
                                  for i, r in enumerate(reasons)]))
    path = tmp_path / f"h{suffix}"
    campaign.export_table(path)
    clone = Campaign.from_config("hfo2-ncm85", storage=campaign.storage_url, name="clone", actor="alice")
    clone.import_table(path)
    assert clone.history()["failure_reason"].tolist() == reasons


def test_xlsx_formulas_without_a_calculated_value_are_refused(campaign: Campaign, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([*RECIPE, "first_cycle_ce_pct", "capacity_retention_pct"])
    sheet.append([*RECIPE.values(), 88.0, "=J2-30"])
    sheet.append([*RECIPE.values(), "=AVERAGE(85,87)", 60.0])
    path = tmp_path / "written-by-a-script.xlsx"
    workbook.save(path)
    with pytest.raises(DataError, match=r"K2, J3 hold formulas whose values were never calculated"):
        campaign.import_table(path)
    assert campaign.history().empty


LONE_SURROGATE = "gelled \ud800"  # what JSON's "\ud800" escape gives; no UTF-8 file or database holds it


@pytest.mark.parametrize("column", ["note", "failure_reason", "experiment_id", "replicate", "operator", "sample_id"])
def test_text_that_is_not_unicode_is_refused_naming_its_cell(campaign: Campaign, column: str) -> None:
    campaign.record(pd.DataFrame([{**RECIPE, "experiment_id": "P1", "first_cycle_ce_pct": 88.0}]))
    before = _state(campaign)
    row: dict[str, object] = {**RECIPE, "experiment_id": "P2", "first_cycle_ce_pct": 87.0, column: LONE_SURROGATE}
    if column == "failure_reason":
        del row["first_cycle_ce_pct"]
    # object columns: pandas' default string columns cannot hold the character at all
    table = pd.DataFrame({k: pd.Series([v], dtype=object) for k, v in row.items()})
    with pytest.raises(DataError) as err:
        campaign.record(table)
    assert [(p.row, p.column) for p in err.value.problems] == [(0, column)]
    _unchanged(campaign, before)


def test_one_experiment_id_is_one_experiment(campaign: Campaign) -> None:
    campaign.record(pd.DataFrame([{**RECIPE, "experiment_id": "P1", "first_cycle_ce_pct": 88.0}]))
    ids = campaign.suggest(2)["experiment_id"].tolist()
    assert campaign.accept(ids[0]) == [ids[0]]
    campaign.fail(ids[0], "dispersion gelled")
    campaign.abandon(ids[1])
    history = campaign.history().set_index("experiment_id")
    assert history.loc[ids[0], "status"] == "failed" and history.loc[ids[0], "failure_reason"] == "dispersion gelled"
    assert history.loc[ids[1], "status"] == "abandoned"


def _rows_file(tmp_path: Path, suffix: str) -> Path:
    """Header, a good row with a note over two lines, two blank rows, then a row out of bounds:
    the spreadsheet shows the bad row as row 5 (row 6 in the workbook, which starts one lower)."""
    columns = [*RECIPE, "first_cycle_ce_pct", "note"]
    good = [*RECIPE.values(), 88.0, "gelled at first,\nthen fine"]
    bad = [*(9999.0 if k == "anneal_temperature_c" else v for k, v in RECIPE.items()), 80.0, "hot"]
    path = tmp_path / f"results.{suffix}"
    if suffix == "csv":
        lines = pd.DataFrame([good], columns=columns).to_csv(index=False).splitlines(keepends=True)
        tail = pd.DataFrame([bad], columns=columns).to_csv(index=False, header=False)
        path.write_text("".join(lines) + "\n" + ",".join([""] * len(columns)) + "\n" + tail, encoding="utf-8")
    else:
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        for row in ([], columns, good, [], [None, None], bad):  # a blank first row: the header is row 2
            sheet.append(row)
        book.save(path)
    return path


@pytest.mark.parametrize(("suffix", "bad_row", "good_row"), [("csv", 5, 2), ("xlsx", 6, 3)])
def test_problems_of_a_file_name_its_rows_as_a_spreadsheet_shows_them(campaign: Campaign, tmp_path: Path,
                                                                     suffix: str, bad_row: int, good_row: int) -> None:
    path = _rows_file(tmp_path, suffix)
    before = _state(campaign)
    with pytest.raises(DataError) as err:
        campaign.import_table(path)
    assert f"row {bad_row} of the file, column 'anneal_temperature_c': out of bounds" in str(err.value)
    assert [(p.row, p.file_row) for p in err.value.problems] == [(1, bad_row)]
    _unchanged(campaign, before)
    report = campaign.import_table(path, valid_rows_only=True)
    assert [(p.file_row, p.column) for p in report.rejected] == [(bad_row, "anneal_temperature_c")]
    assert campaign.measurements()["note"].tolist() == ["gelled at first,\nthen fine"]
    again = campaign.import_table(path, valid_rows_only=True)  # the good row is now a repeat: named by its row
    assert sorted(p.file_row for p in again.rejected) == [good_row, bad_row]


@pytest.mark.parametrize("kind", ["xlsx_error_cell", "csv_nan_row", "csv_cr_line_ends"])
def test_a_row_dropped_as_empty_keeps_the_rows_below_numbered(campaign: Campaign, tmp_path: Path, kind: str) -> None:
    """A row that reads as empty (a formula copied down that gives #DIV/0!, a 'NaN') is dropped
    and still counted; old Mac line ends (CR only) are rows too: the bad row is row 4."""
    columns = [*RECIPE, "first_cycle_ce_pct"]
    good = [*RECIPE.values(), 88.0]
    bad = [*(9999.0 if k == "anneal_temperature_c" else v for k, v in RECIPE.items()), 80.0]
    empty = [None] * len(RECIPE) + ["#DIV/0!" if kind == "xlsx_error_cell" else "NaN"]
    if kind == "xlsx_error_cell":
        path = tmp_path / "results.xlsx"
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        for row in (columns, good, empty, bad):
            sheet.append(row)
        sheet.cell(3, len(columns)).data_type = "e"  # an error value, as Excel stores it
        book.save(path)
    else:
        path = tmp_path / "results.csv"
        ends = "\r" if kind == "csv_cr_line_ends" else "\n"
        lines = [",".join("" if v is None else str(v) for v in row) for row in (columns, good, empty, bad)]
        path.write_text(ends.join(lines) + ends, encoding="utf-8")
    report = campaign.import_table(path, valid_rows_only=True)
    assert [(p.file_row, p.column) for p in report.rejected] == [(4, "anneal_temperature_c")]
    assert len(campaign.history()) == 1


def test_ids_names_mappings_and_fixed_values_that_are_not_unicode_are_clear_errors(campaign: Campaign,
                                                                                    tmp_path: Path) -> None:
    from doe.errors import StorageError

    campaign.record(pd.DataFrame([{**RECIPE, "experiment_id": "P1", "first_cycle_ce_pct": 88.0}]))
    before = _state(campaign)
    with pytest.raises(StorageError, match="experiment id"):
        campaign.fail("P\ud8001", "gelled")
    with pytest.raises(DataError, match="experiment_ids: give an experiment id or a list"):
        campaign.fail(3, "gelled")  # type: ignore[arg-type]
    with pytest.raises(StorageError, match="no campaign named"):
        Campaign.load("c\udcff", storage=campaign.storage_url)
    with pytest.raises(DataError, match=r"fixed: values that cannot be held") as err:
        campaign.suggest(1, fixed={"anneal_atmosphere": "O\ud8002"})
    assert [p.column for p in err.value.problems] == ["anneal_atmosphere"]
    path = tmp_path / "r.csv"
    pd.DataFrame([{**RECIPE, "CE": 87.0}]).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"column_mapping.CE: holds a character that is not Unicode"):
        campaign.import_table(path, column_mapping={"CE": "first_cycle_ce_pct\ud800"})
    _unchanged(campaign, before)


@pytest.mark.parametrize("change", ["drop a label", "narrow a range", "add a parameter"])
def test_recipes_of_an_earlier_config_version_record_back_and_refuse_a_clone_cleanly(
        campaign: Campaign, tmp_path: Path, change: str) -> None:
    """After a config update, the campaign's own exported history was refused (its recipes
    checked against today's config), and clone(with_history=True) refused it only after making
    the clone, which stayed behind empty and took the name."""
    campaign.record(pd.DataFrame([{**RECIPE, "experiment_id": "P1", "dispersion_solvent": "hexane",
                                   "anneal_temperature_c": 300.0, "first_cycle_ce_pct": 88.0}]))
    config = CONFIG.to_dict()
    if change == "drop a label":
        solvent = next(p for p in config["parameters"] if p["name"] == "dispersion_solvent")
        solvent["values"] = [v for v in solvent["values"] if v != "hexane"]
    elif change == "narrow a range":
        next(p for p in config["parameters"] if p["name"] == "anneal_temperature_c")["bounds"] = [350, 700]
    else:
        config["parameters"].append({"name": "drying_time_h", "type": "continuous", "bounds": [1, 12],
                                     "reference": 4})
    campaign.update_config(config)
    path = tmp_path / "history.csv"
    campaign.export_table(path)
    before = _state(campaign)
    assert campaign.import_table(path).measurements_unchanged == 1
    _unchanged(campaign, before)
    edited = pd.read_csv(path)
    edited["anneal_temperature_c"] = 301.0  # an edited recipe is still refused
    with pytest.raises(DataError):
        campaign.record(edited)
    with pytest.raises(DataError, match=r"the history cannot be cloned: 1 cell\(s\).*nothing was created"):
        campaign.clone("copy", with_history=True)
    assert "copy" not in list_campaigns(campaign.storage_url)["name"].tolist()
    copy = Campaign.import_json(campaign.export_json(), campaign.storage_url, name="copy")
    assert copy.history()["first_cycle_ce_pct"].tolist() == [88.0]


def test_a_clone_refused_for_a_later_constraint_or_cells_beside_an_unlabelled_value_leaves_nothing(
        campaign: Campaign) -> None:
    """Review findings: check_clonable missed linear constraints added since, and cells stored
    beside an unlabelled value by an older version; the clone was made, then refused, and
    stayed behind empty."""
    campaign.record(pd.DataFrame([{**RECIPE, "anneal_time_h": 4.0, "experiment_id": "P1", "first_cycle_ce_pct": 88.0}]))
    config = CONFIG.to_dict()  # a constraint P1 breaks and the reference recipe (anneal_time_h 2) meets
    config["constraints"] = [*config.get("constraints", []), "hfo2_loading_wt_pct + anneal_time_h <= 4"]
    campaign.update_config(config)
    with pytest.raises(DataError, match=r"(?s)cannot be cloned.*violates constraint"):
        campaign.clone("copy", with_history=True)
    data = campaign.export_json()
    cell = next(m for m in data["measurements"] if m["experiment_id"] == "P1")
    data["measurements"].append({**cell, "replicate": "A", "value": 90.0})  # as an older version stored it
    data["config_versions"] = data["config_versions"][:1]
    mixed = Campaign.import_json(data, campaign.storage_url, name="mixed")
    with pytest.raises(DataError, match=r"(?s)cannot be cloned.*a value without a replicate label beside labelled"):
        mixed.clone("copy", with_history=True)
    assert sorted(list_campaigns(campaign.storage_url)["name"]) == ["hfo2-ncm85", "mixed"]


@pytest.mark.parametrize("refused", ["the history's rows", "the last rows written (its audit trail)"])
def test_a_clone_whose_write_the_database_refuses_half_way_leaves_nothing(
        campaign: Campaign, tmp_path: Path, refused: str) -> None:
    """The clone was created before its history was written: a write the database then refused
    (a full disk, in the field; a trigger here) left an empty or half-filled clone that took the
    name. The whole clone is one transaction now (the failure after measuring is written with
    the history, so the refusal is put on the last rows written), and the error is the database's."""
    campaign.record(pd.DataFrame([{**RECIPE, "experiment_id": "P1", "first_cycle_ce_pct": 88.0},
                                  {**RECIPE, "experiment_id": "P2", "hfo2_loading_wt_pct": 0.5,
                                   "first_cycle_ce_pct": 86.0}]))
    campaign.fail(["P2"], "cracked pellet")
    before = _state(campaign)
    with sqlite3.connect(tmp_path / "c.sqlite3") as db:
        clone_id = "(SELECT id FROM campaigns WHERE name = 'copy')"
        if refused == "the history's rows":
            db.execute(f"CREATE TRIGGER refuse AFTER INSERT ON experiments WHEN NEW.campaign_id = {clone_id} "
                       "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        else:
            db.execute(f"CREATE TRIGGER refuse AFTER INSERT ON audit_log WHEN NEW.campaign_id = {clone_id} "
                       "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(StorageError, match="disk full"):
        campaign.clone("copy", with_history=True)
    assert list_campaigns(campaign.storage_url)["name"].tolist() == ["hfo2-ncm85"]
    _unchanged(campaign, before)
    with sqlite3.connect(tmp_path / "c.sqlite3") as db:
        db.execute("DROP TRIGGER refuse")
        orphans = [db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                   for table in ("experiments", "measurements", "config_versions", "audit_log")]
    assert orphans == [2, len(before[1]), 1, before[2]]
    copy = campaign.clone("copy", with_history=True)  # the name is free again
    assert copy.history()["status"].tolist() == ["completed", "failed"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_experiment_measured_then_failed_records_back_from_its_history_unchanged(
        campaign: Campaign, tmp_path: Path, suffix: str) -> None:
    """The history export recorded back into its own campaign was refused whole once an
    experiment had been failed after measuring ('marked failed but has measured values'); the
    README says it changes nothing."""
    campaign.record(pd.DataFrame([{**RECIPE, "experiment_id": "P1", "first_cycle_ce_pct": 85.0},
                                  {**RECIPE, "experiment_id": "P2", "hfo2_loading_wt_pct": 0.5,
                                   "first_cycle_ce_pct": 80.0}]))
    campaign.fail(["P2"], "contaminated glovebox")
    path = tmp_path / f"history{suffix}"
    campaign.export_table(path)
    before = _state(campaign)
    report = campaign.import_table(path)
    assert report.measurements_unchanged == 2 and report.measurements_added == 0
    _unchanged(campaign, before)
    # one failed without a value: a value typed into its exported row is refused, not stored beside the failure
    campaign.record(pd.DataFrame([{**RECIPE, "experiment_id": "P3", "hfo2_loading_wt_pct": 0.6, "failed": True,
                                   "failure_reason": "gelled"}]))
    before = _state(campaign)
    campaign.export_table(path)
    typed = pd.read_csv(path) if suffix == ".csv" else pd.read_excel(path)
    ce = next(c for c in typed.columns if str(c).startswith("first_cycle_ce_pct"))
    typed.loc[typed["experiment_id"] == "P3", ce] = 81.0
    with pytest.raises(DataError, match="marked failed"):
        campaign.record(typed.rename(columns=lambda c: str(c).split(" [")[0]))
    _unchanged(campaign, before)
    # a different reason, or values typed beside a new failure, are still refused or recorded as before
    edited = pd.read_csv(path) if suffix == ".csv" else pd.read_excel(path)
    edited.loc[edited["experiment_id"] == "P2", "failure_reason"] = "cracked pellet"
    with pytest.raises(DataError, match="marked failed"):
        campaign.record(edited.rename(columns=lambda c: str(c).split(" [")[0]))
    _unchanged(campaign, before)


def test_an_outcome_dropped_from_the_config_keeps_its_values_in_exports_and_clones(tmp_path: Path) -> None:
    """An outcome removed from the configuration after it was measured: the cells file and
    clone(with_history=True) left its values out without a word, and the history export did
    not record back ('unknown column')."""
    config = {"name": "dropped", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 10]}],
              "objectives": [{"name": "ce", "goal": "maximize"}], "outcomes": [{"name": "cap"}], "seed": 1}
    url = f"sqlite:///{tmp_path / 'doe.sqlite3'}"
    campaign = Campaign.from_config(config, storage=url, actor="me")
    campaign.record(pd.DataFrame({"experiment_id": ["E1", "E2"], "x": [1.0, 2.0], "ce": [85.0, 86.0],
                                  "cap": [250.0, None]}))
    campaign.update_config({k: v for k, v in config.items() if k != "outcomes"})
    campaign.export_table(tmp_path / "cells.csv", cells=True)
    campaign.export_table(tmp_path / "history.csv")
    cells = pd.read_csv(tmp_path / "cells.csv", encoding="utf-8-sig")
    assert cells.set_index("experiment_id")["cap"].tolist() == pytest.approx([250.0, np.nan], nan_ok=True)
    revision = campaign.revision()
    for name in ("cells.csv", "history.csv"):  # recorded back: nothing changes
        assert campaign.import_table(tmp_path / name).measurements_added == 0
    assert campaign.revision() == revision
    for exp_id, value in (("E1", 260.0), ("E2", 240.0)):  # a changed value, a new one: refused, naming the column
        edited = cells.assign(cap=np.where(cells["experiment_id"] == exp_id, value, cells["cap"]))
        edited.to_csv(tmp_path / "edited.csv", index=False)
        with pytest.raises(DataError, match=r"column 'cap': cap is no longer an outcome of this campaign"):
            campaign.import_table(tmp_path / "edited.csv")
        assert campaign.revision() == revision
    with pytest.raises(DataError, match=r"cannot be cloned.*\n.*column 'cap': unknown column"):
        campaign.clone("dropped-clone", with_history=True)
    assert "dropped-clone" not in set(list_campaigns(url)["name"])
    copy = Campaign.import_json(campaign.export_json(), storage=url, name="dropped-copy")  # every config version
    assert copy.measurements().query("outcome == 'cap'")["value"].tolist() == [250.0]
    # a parameter may not take its name: the history would show both under one column (found by a review)
    version = campaign.config_version
    with pytest.raises(ConfigError, match="'cap' is the name of an outcome with recorded values"):
        campaign.update_config({**config, "outcomes": [], "parameters": [*config["parameters"], {
            "name": "cap", "type": "continuous", "bounds": [0, 400], "reference": 250.0}]})
    assert campaign.config_version == version


def test_a_parameter_dropped_from_the_config_stays_in_the_cells_file_and_refuses_the_clone(tmp_path: Path) -> None:
    """A parameter removed from the configuration after experiments were made with it: the cells
    file (CSV and Excel) left out its column, and clone(with_history=True) made a clone whose
    recipes lacked it, without a word (found by a round-trip probe)."""
    config = {"name": "bath", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]},
                                             {"name": "bath_c", "type": "discrete", "values": [40, 60]}],
              "objectives": [{"name": "ce", "goal": "maximize"}], "seed": 1}
    url = f"sqlite:///{tmp_path / 'doe.sqlite3'}"
    campaign = Campaign.from_config(config, storage=url, actor="me")
    campaign.record(pd.DataFrame({"experiment_id": ["E1", "E1", "E2"], "replicate": ["A", "B", "A"],
                                  "x": [0.2, 0.2, 0.4], "bath_c": [40, 40, 60], "ce": [85.0, 85.5, 86.0]}))
    campaign.update_config({**config, "parameters": config["parameters"][:1]})
    revision = campaign.revision()
    for name in ("cells.csv", "cells.xlsx"):
        campaign.export_table(tmp_path / name, cells=True)
        cells = (pd.read_csv(tmp_path / name, encoding="utf-8-sig") if name.endswith(".csv")
                 else pd.read_excel(tmp_path / name))
        assert cells["bath_c"].tolist() == [40, 40, 60]
        assert campaign.import_table(tmp_path / name).measurements_added == 0  # recorded back: nothing changes
        assert campaign.revision() == revision
    cells.loc[2, "bath_c"] = 40  # a changed recipe: refused, naming the column
    with pytest.raises(DataError, match=r"column 'bath_c': bath_c is no longer a parameter of this campaign"):
        campaign.record(cells)
    with pytest.raises(DataError, match=r"cannot be cloned.*\n.*column 'bath_c': unknown column"):
        campaign.clone("bath-clone", with_history=True)
    assert "bath-clone" not in set(list_campaigns(url)["name"]) and campaign.revision() == revision
    copy = Campaign.import_json(campaign.export_json(), storage=url, name="bath-copy")  # every config version
    assert copy.history()["bath_c"].tolist() == [40, 60]


def test_a_value_typed_into_an_abandoned_row_of_the_history_says_abandoned(tmp_path: Path) -> None:
    """The history carries an abandoned experiment's reason in failure_reason: a value typed into
    its row was refused as 'marked failed but has measured values' when it had a reason."""
    config = {"name": "abandoned", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 10]}],
              "objectives": [{"name": "ce", "goal": "maximize"}], "seed": 1}
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'doe.sqlite3'}", actor="me")
    campaign.record(pd.DataFrame([{"experiment_id": "E1", "x": 1.0, "ce": 85.0}]))
    with_reason, without = campaign.suggest(2)["experiment_id"].tolist()
    campaign.abandon([with_reason], "no powder left")
    campaign.abandon([without])
    campaign.export_table(tmp_path / "history.csv")
    revision = campaign.revision()
    assert campaign.import_table(tmp_path / "history.csv").measurements_added == 0  # as exported: nothing
    history = pd.read_csv(tmp_path / "history.csv", encoding="utf-8-sig")
    for exp_id in (with_reason, without):
        history.assign(ce=history["ce"].where(history["experiment_id"] != exp_id, 70.0)).to_csv(
            tmp_path / "typed.csv", index=False)
        with pytest.raises(DataError) as err:
            campaign.import_table(tmp_path / "typed.csv")
        assert [(p.column, p.problem) for p in err.value.problems] == [
            ("experiment_id", "the experiment was abandoned; record it under a new id")]
    assert campaign.revision() == revision


def test_an_experiment_listed_twice_changes_status_once(campaign: Campaign) -> None:
    """Found by a probe: abandon(['E0001', 'E0001']) of a proposed experiment was refused as
    'E0001: abandoned -> abandoned', and accept() of one listed twice as running -> running: the
    second listing was taken as a change of the first in the same write."""
    ids = campaign.suggest(3, design="latin_hypercube")["experiment_id"].tolist()
    assert campaign.accept([ids[0], ids[0]]) == [ids[0]]
    campaign.abandon([ids[1], ids[2], ids[1]], "no powder left")
    history = campaign.history().set_index("experiment_id")
    assert history.loc[ids, "status"].tolist() == ["running", "abandoned", "abandoned"]
    trail = campaign.audit()
    assert (trail["action"] == "status_changed").sum() == 3


def test_an_id_mistyped_in_case_or_leading_zeros_is_refused_naming_the_stored_one(campaign: Campaign) -> None:
    """Found by a probe: abandon('e0003') or accept('E3') said only "has no experiment(s)
    ['e0003']", leaving the engineer to guess the spelling doe stores; now the message names it,
    and nothing changes."""
    ids = campaign.suggest(3, design="latin_hypercube")["experiment_id"].tolist()
    before = _state(campaign)
    for act in (lambda: campaign.abandon(["e0003"], "no powder left"), lambda: campaign.accept(["E3", "X9"])):
        with pytest.raises(StorageError) as caught:
            act()
        assert f"may mean {ids[2]!r}" in str(caught.value) and "nothing was written" in str(caught.value)
        assert "'X9' may mean" not in str(caught.value)
        _unchanged(campaign, before)
