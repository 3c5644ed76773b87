"""When a value was measured, by whom and on which sample: recorded with it, listed, exported
and imported again (SQLite file and PostgreSQL); a bad one is refused naming its cell."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from doe.campaign import Campaign
from doe.errors import DataError


def test_date_operator_and_sample_id_travel_with_the_value(store_url: str) -> None:
    campaign = Campaign.from_config("hfo2-ncm85", storage=store_url, name="context", actor="lead")
    campaign.suggest(2)
    first, second = campaign.history()["experiment_id"].tolist()
    campaign.record(pd.DataFrame({
        "experiment_id": [first, second], "first_cycle_ce_pct": [88.0, 86.5],
        "measured_at": ["2026-12-01", "2026-12-02 14:30+01:00"], "operator": ["Ana", None],
        "sample_id": ["P-117/A", "P-118/B"]}))
    values = campaign.measurements().set_index("experiment_id")
    assert values.loc[first, "operator"] == "Ana" and pd.isna(values.loc[second, "operator"])
    assert values["sample_id"].tolist() == ["P-117/A", "P-118/B"]
    assert [str(t) for t in values["measured_at"]] == ["2026-12-01 00:00:00+00:00", "2026-12-02 13:30:00+00:00"]
    assert values["recorded_by"].tolist() == ["lead", "lead"]  # who typed it in stays separate
    copy = Campaign.import_json(campaign.export_json(), storage=store_url, name="context-copy")
    assert copy.measurements()[["operator", "sample_id", "measured_at"]].equals(
        campaign.measurements()[["operator", "sample_id", "measured_at"]])


@pytest.mark.parametrize(("column", "value", "message"), [
    ("measured_at", "yesterday-ish", "not a date"),
    ("measured_at", "9999-12-31 23:59-01:00", "check the year"),  # past the last UTC time: OverflowError before
    ("measured_at", "0001-01-01 00:30+01:00", "check the year"),
    ("operator", "Ana\x1b[31m", "printable"),
    ("sample_id", "S" * 65, "at most 64"),
])
def test_a_bad_date_operator_or_sample_id_is_refused_naming_its_cell(store_url: str, column: str, value: str,
                                                                       message: str) -> None:
    campaign = Campaign.from_config("hfo2-ncm85", storage=store_url, name="bad-context", actor="lead")
    campaign.suggest(1)
    first = campaign.history()["experiment_id"].iloc[0]
    revision = campaign.revision()
    with pytest.raises(DataError) as err:
        campaign.record(pd.DataFrame({"experiment_id": [first], "first_cycle_ce_pct": [88.0], column: [value]}))
    assert any(p.column == column and message in p.problem for p in err.value.problems)
    assert campaign.revision() == revision and campaign.measurements().empty


FAILURE_COLUMNS = ["failure_reason", "failure_note", "failure_operator", "failure_sample_id", "failure_measured_at"]
FAILED_WHOLE = ["gelled", 'lab book p.12, "=edge"', "Ana Müller", "S-1/B", pd.Timestamp("2026-12-01 13:30", tz="UTC")]


def _failures(campaign: Campaign) -> list[list[object]]:
    history = campaign.history().set_index("experiment_id")
    return [[None if pd.isna(v) else v for v in history.loc[i, FAILURE_COLUMNS]] for i in ("F1", "F3")]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_failed_experiment_keeps_its_note_operator_sample_id_and_date_through_every_copy(
        store_url: str, tmp_path: Path, file_format: str) -> None:
    """A row failing a whole experiment kept only its failure_reason: its note, operator, sample
    id and date were dropped (listed as not stored), although the README says they are kept.
    Now they are stored with the failure, shown by history(), and come back from the cells
    file (recorded into another campaign), the JSON export and a clone; the exported files
    recorded back into their own campaign change nothing."""
    config = {"name": "fails", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
              "objectives": [{"name": "y", "goal": "maximize"}], "seed": 1}
    campaign = Campaign.from_config(config, storage=store_url, actor="lead")
    campaign.record(pd.DataFrame([
        {"experiment_id": "F1", "x": .1, "failure_reason": "gelled", "note": 'lab book p.12, "=edge"',
         "operator": "Ana Müller", "sample_id": "S-1/B", "measured_at": "2026-12-01 14:30+01:00"},
        {"experiment_id": "F2", "x": .2, "replicate": "A", "y": 1.0, "operator": "Ana"},
        {"experiment_id": "F3", "x": .3, "failure_reason": "spilled"}]))
    expected = [FAILED_WHOLE, ["spilled", None, None, None, None]]
    assert _failures(campaign) == expected
    assert campaign.history().set_index("experiment_id").loc["F2", FAILURE_COLUMNS[1:]].isna().all()

    revision = campaign.revision()
    for cells in (False, True):  # the history and the cells file, recorded back, change nothing
        path = tmp_path / f"{'cells' if cells else 'history'}.{file_format}"
        campaign.export_table(path, cells=cells)
        campaign.import_table(path)
        assert campaign.revision() == revision and _failures(campaign) == expected
    history_file = pd.read_csv(path.with_name(f"history.{file_format}")) if file_format == "csv" else pd.read_excel(
        path.with_name(f"history.{file_format}"))
    assert history_file.set_index("experiment_id").loc["F1", "note"] == 'lab book p.12, "=edge"'

    elsewhere = Campaign.from_config(config | {"name": "fails-copy"}, storage=store_url, actor="lead")
    elsewhere.import_table(tmp_path / f"cells.{file_format}")
    assert _failures(elsewhere) == expected
    exported = campaign.export_json()
    assert exported["format_version"] == 5
    assert Campaign.import_json(exported, storage=store_url, name="fails-json").history().equals(campaign.history())
    assert _failures(campaign.clone("fails-clone", with_history=True)) == expected


def test_a_failed_experiment_given_again_with_other_context_is_a_correction(tmp_path: Path) -> None:
    """The same whole failure again with a sample id it was stored without: listed as not
    stored, and stored by a correction, which keeps the note it does not give; measured after
    all, the experiment keeps none of them."""
    config = {"name": "again", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
              "objectives": [{"name": "y", "goal": "maximize"}], "seed": 1}
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'c.sqlite3'}", actor="lead")
    campaign.record(pd.DataFrame([{"experiment_id": "F1", "x": .1, "failure_reason": "gelled", "note": "p.12"}]))
    again = pd.DataFrame([{"experiment_id": "F1", "failure_reason": "gelled", "sample_id": "S-1"}])
    revision = campaign.revision()
    report = campaign.record(again)
    assert report.context_not_stored == ["F1 (failed): sample_id stored none, new 'S-1'"]
    stored = campaign.history().set_index("experiment_id").loc["F1"]
    assert campaign.revision() == revision and pd.isna(stored["failure_sample_id"])
    campaign.record(again, correct=True)
    stored = campaign.history().set_index("experiment_id").loc["F1"]
    assert (stored["failure_reason"], stored["failure_note"], stored["failure_sample_id"]) == ("gelled", "p.12", "S-1")
    campaign.record(pd.DataFrame([{"experiment_id": "F1", "y": 2.0}]), correct=True)
    stored = campaign.history().set_index("experiment_id").loc["F1"]
    assert stored["status"] == "completed" and stored[FAILURE_COLUMNS].isna().all()



def test_a_reason_corrected_in_the_history_file_keeps_the_failures_note_operator_sample_and_date(
        tmp_path: Path) -> None:
    """Found probing round trips: a failed experiment's reason edited in the exported history and
    recorded with correct=True wiped its stored note, operator, sample id and date (the history
    file's failure_* columns are not read back), and no audit row kept them. Now a corrected
    reason keeps the stored ones the row does not give, as the same reason again does."""
    config = {"name": "reason", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
              "objectives": [{"name": "y", "goal": "maximize"}], "seed": 1}
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'c.sqlite3'}", actor="lead")
    campaign.record(pd.DataFrame([{"experiment_id": "F1", "x": .1, "failure_reason": "gelled", "note": "lumps",
                                   "operator": "Kim", "sample_id": "S-9", "measured_at": "2026-12-04 14:30"}]))
    campaign.export_table(tmp_path / "history.csv")
    edited = pd.read_csv(tmp_path / "history.csv", dtype=str, keep_default_na=False)
    edited.loc[0, "failure_reason"] = "gelled after 2 h"  # only the reason changed
    edited.to_csv(tmp_path / "edited.csv", index=False)
    campaign.import_table(tmp_path / "edited.csv", correct=True)
    stored = campaign.history().set_index("experiment_id").loc["F1"]
    assert stored[["status", *FAILURE_COLUMNS[:4]]].tolist() == ["failed", "gelled after 2 h", "lumps", "Kim", "S-9"]
    assert stored["failure_measured_at"] == pd.Timestamp("2026-12-04 14:30", tz="UTC")
    campaign.record(pd.DataFrame([{"experiment_id": "F1", "failure_reason": "gelled", "sample_id": "S-10"}]),
                    correct=True)
    stored = campaign.history().set_index("experiment_id").loc["F1"]
    assert stored[FAILURE_COLUMNS[:4]].tolist() == ["gelled", "lumps", "Kim", "S-10"]


def test_a_replaced_failure_reason_and_context_stay_in_the_audit_trail(tmp_path: Path) -> None:
    """Found probing corrections: an experiment recorded failed ('gelled'), its reason corrected,
    then measured after all (correct=True): the audit trail said only the new reasons, so the
    first reason and the failure's note and sample id, cleared by the value, were nowhere. Now
    each status change from failed keeps the reason and the context it replaced."""
    config = {"name": "audit", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
              "objectives": [{"name": "y", "goal": "maximize"}], "seed": 1}
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'c.sqlite3'}", actor="lead")
    campaign.record(pd.DataFrame([{"experiment_id": "F1", "x": .1, "failure_reason": "gelled", "note": "lumps",
                                   "sample_id": "S-9", "measured_at": "2026-12-04 14:30"}]))
    campaign.record(pd.DataFrame([{"experiment_id": "F1", "failure_reason": "gelled badly"}]), correct=True)
    campaign.record(pd.DataFrame([{"experiment_id": "F1", "y": 3.0}]), correct=True)
    audit = campaign.audit()
    details = [json.loads(d) for d in audit.loc[audit["action"] == "status_changed", "detail"]]
    assert details == [
        {"from": "failed", "to": "failed", "reason": "gelled badly", "old_reason": "gelled"},
        {"from": "failed", "to": "completed", "reason": None, "old_reason": "gelled badly", "old_note": "lumps",
         "old_sample_id": "S-9", "old_measured_at": "2026-12-04T14:30:00+00:00"}]
    assert campaign.history()["status"].tolist() == ["completed"]


def test_a_failed_cells_replaced_note_operator_and_sample_stay_in_the_audit_trail(tmp_path: Path) -> None:
    """Found probing corrections: a failed cell's note and operator corrected (same reason), then
    the cell measured after all (correct=True): the audit rows said only the reason, so the first
    note and operator, and the failure's note, operator and sample id the value withdrew, were
    nowhere. Now the correction keeps what it replaced, and the withdrawal what it removed."""
    config = {"name": "audit", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
              "objectives": [{"name": "y", "goal": "maximize"}], "seed": 1}
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'c.sqlite3'}", actor="lead")
    campaign.record(pd.DataFrame([
        {"experiment_id": "F1", "x": .1, "replicate": "A", "y": 1.0},
        {"experiment_id": "F1", "x": .1, "replicate": "B", "failure_reason": "cracked", "note": "edge",
         "operator": "Kim", "sample_id": "S-9", "measured_at": "2026-12-04 14:30"}]))
    campaign.record(pd.DataFrame([{"experiment_id": "F1", "replicate": "B", "failure_reason": "cracked",
                                   "note": "centre", "operator": "Lee"}]), correct=True)
    campaign.record(pd.DataFrame([{"experiment_id": "F1", "replicate": "B", "y": 2.0}]), correct=True)
    audit = campaign.audit().set_index("action")
    assert json.loads(audit.loc["cell_failure_corrected", "detail"]) == {
        "replicate": "B", "old_reason": "cracked", "new_reason": "cracked", "old_note": "edge", "old_operator": "Kim"}
    assert json.loads(audit.loc["cell_failure_withdrawn", "detail"]) == {
        "replicate": "B", "reason": "cracked", "note": "centre", "operator": "Lee", "sample_id": "S-9",
        "measured_at": "2026-12-04T14:30:00+00:00"}
    assert campaign.cell_failures().empty

FAILED_CELL = ["F2", "B", "short", "cracked, \"=edge\"", "Ana Müller", "P-17/B",
               pd.Timestamp("2026-12-02 13:30", tz="UTC")]
CELL_COLUMNS = ["experiment_id", "replicate", "failure_reason", "note", "operator", "sample_id", "measured_at"]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_failed_cell_keeps_its_operator_sample_id_and_date_through_every_copy(
        store_url: str, tmp_path: Path, file_format: str) -> None:
    """A failed replicate cell kept only its reason and note: the sample id naming the cracked
    pellet, who made it and when were dropped (found by a round-trip probe). Now they are stored
    and come back from the cells file (recorded into another campaign), the JSON export and a
    clone with its history."""
    config = {"name": "cells", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
              "objectives": [{"name": "y", "goal": "maximize"}], "seed": 1}
    campaign = Campaign.from_config(config, storage=store_url, actor="lead")
    campaign.record(pd.DataFrame([
        {"experiment_id": "F2", "x": .2, "replicate": "A", "y": 1.0, "operator": "Ana Müller"},
        {"experiment_id": "F2", "x": .2, "replicate": "B", "failure_reason": "short", "note": 'cracked, "=edge"',
         "operator": "Ana Müller", "sample_id": "P-17/B", "measured_at": "2026-12-02 14:30+01:00"}]))
    assert campaign.cell_failures()[CELL_COLUMNS].values.tolist() == [FAILED_CELL]

    path = tmp_path / f"cells.{file_format}"
    campaign.export_table(path, cells=True)
    elsewhere = Campaign.from_config(config | {"name": "cells-copy"}, storage=store_url, actor="lead")
    elsewhere.import_table(path)
    assert elsewhere.cell_failures()[CELL_COLUMNS].values.tolist() == [FAILED_CELL]

    exported = campaign.export_json()
    assert exported["cell_failures"][0]["sample_id"] == "P-17/B"
    copy = Campaign.import_json(exported, storage=store_url, name="cells-json")
    assert copy.cell_failures()[CELL_COLUMNS].values.tolist() == [FAILED_CELL]
    clone = campaign.clone("cells-clone", with_history=True)
    assert clone.cell_failures()[CELL_COLUMNS].values.tolist() == [FAILED_CELL]


def test_a_failed_cell_given_again_with_other_context_is_a_correction(tmp_path: Path) -> None:
    """The same failure again with a sample id it was stored without: listed as not stored, and
    stored by a correction, which keeps the note it does not give."""
    config = {"name": "again", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
              "objectives": [{"name": "y", "goal": "maximize"}], "seed": 1}
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'c.sqlite3'}", actor="lead")
    rows = [{"experiment_id": "F2", "x": .2, "replicate": "A", "y": 1.0},
            {"experiment_id": "F2", "x": .2, "replicate": "B", "failure_reason": "short", "note": "cracked"}]
    campaign.record(pd.DataFrame(rows))
    again = pd.DataFrame([{"experiment_id": "F2", "replicate": "B", "failure_reason": "short", "sample_id": "P-17"}])
    revision = campaign.revision()
    report = campaign.record(again)
    assert report.context_not_stored == ["F2 replicate 'B' (failed): sample_id stored none, new 'P-17'"]
    assert campaign.revision() == revision and campaign.cell_failures()["sample_id"].isna().all()
    campaign.record(again, correct=True)
    assert campaign.cell_failures()[["failure_reason", "note", "sample_id"]].values.tolist() == [
        ["short", "cracked", "P-17"]]


def test_exported_times_say_utc_in_excel_and_read_back_exactly(tmp_path: Path) -> None:
    """The Excel cells file wrote measured_at in UTC with nothing saying so: 13:30 measured at
    14:30 in Berlin read as a local 13:30 to a person. Now each time cell shows its zone
    ('2026-12-02 13:30:15.250 UTC') and is still a date to Excel; the file and the CSV, which
    writes the zone (+00:00), record into another campaign with the same times."""
    import openpyxl
    from openpyxl.styles.numbers import is_date_format

    config = {"name": "times", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
              "objectives": [{"name": "y", "goal": "maximize"}], "seed": 1}
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'c.sqlite3'}", actor="lead")
    campaign.record(pd.DataFrame([
        {"experiment_id": "E1", "x": .2, "replicate": "A", "y": 1.0, "measured_at": "2026-12-02 14:30:15.250+01:00"},
        {"experiment_id": "E1", "x": .2, "replicate": "B", "y": 2.0, "measured_at": "2026-07-01 23:30"}]))
    measured = campaign.measurements()["measured_at"].tolist()
    assert [str(t) for t in measured] == ["2026-12-02 13:30:15.250000+00:00", "2026-07-01 23:30:00+00:00"]

    campaign.export_table(tmp_path / "cells.xlsx", cells=True)
    sheet = openpyxl.load_workbook(tmp_path / "cells.xlsx").active
    header = [cell.value for cell in sheet[1]]
    cells = [row[header.index("measured_at")] for row in sheet.iter_rows(min_row=2)]
    assert [c.number_format for c in cells] == ['yyyy-mm-dd hh:mm:ss.000 "UTC"', 'yyyy-mm-dd hh:mm:ss "UTC"']
    assert all(is_date_format(c.number_format) and c.is_date for c in cells)
    campaign.export_table(tmp_path / "cells.csv", cells=True)
    csv = pd.read_csv(tmp_path / "cells.csv", encoding="utf-8-sig", dtype=str)
    assert csv["measured_at"].tolist() == ["2026-12-02 13:30:15.250+00:00", "2026-07-01 23:30:00.000+00:00"]

    for suffix in ("xlsx", "csv"):
        copy = Campaign.from_config(config | {"name": f"times-{suffix}"}, storage=campaign.storage_url, actor="lead")
        copy.import_table(tmp_path / f"cells.{suffix}")
        assert copy.measurements()["measured_at"].tolist() == measured


def test_a_no_break_space_in_operator_or_sample_id_is_kept_and_an_invisible_character_named(tmp_path: Path) -> None:
    """Found by a probe: 'Dr.<U+00A0>Müller' (text pasted from Word or a LIMS) was refused as 'at most
    200 printable characters' though 11 characters long, while ids and replicate labels took it.
    It is kept as written now; a character still refused is named."""
    campaign = Campaign.from_config({"name": "nbsp", "parameters": [{"name": "x", "type": "continuous",
                                                                        "bounds": [0, 1]}],
                                     "objectives": [{"name": "ce", "goal": "maximize"}]},
                                    storage=f"sqlite:///{tmp_path / 'nbsp.sqlite3'}")
    operator, sample = "Dr.\u00a0Müller", "NCM85\u202f-\u202f07"
    campaign.record(pd.DataFrame([{"experiment_id": "E1", "x": 0.5, "ce": 90.0, "operator": operator,
                                   "sample_id": sample}]))
    assert campaign.measurements()[["operator", "sample_id"]].values.tolist() == [[operator, sample]]
    for column in ("operator", "sample_id"):
        with pytest.raises(DataError) as err:
            campaign.record(pd.DataFrame([{"experiment_id": "E2", "x": 0.4, "ce": 91.0, column: "Ana\u200bB"}]))
        [problem] = err.value.problems
        assert problem.column == column and "U+200B, an invisible character (zero width space)" in problem.problem
        assert "at most" not in problem.problem
