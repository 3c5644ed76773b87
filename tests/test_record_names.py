"""Names and values that look alike must not become different data: experiment ids and
replicate labels as two keyboards or a file write them, dates written several ways, and text
no database can hold; on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from doe import Campaign, list_campaigns
from doe.domain.config import CampaignConfig
from doe.errors import ConfigError, ConflictError, DataError, StorageError

CE = "first_cycle_ce_pct"


def _campaign(url: str, name: str) -> tuple[Campaign, dict[str, object]]:
    campaign = Campaign.from_config("hfo2-ncm85", storage=url, name=name, actor="lead")
    recipe = campaign.suggest(1).iloc[0][campaign.config.parameter_names].to_dict()
    return campaign, recipe


@pytest.mark.parametrize("twin", ["e0001", "E0001\u200b", "\uff25\u0030\u0030\u0030\u0031", "E\u20600001"])
def test_an_id_that_only_looks_like_a_stored_one_is_refused_not_a_second_experiment(store_url: str, twin: str) -> None:
    """'e0001', a zero-width space or a full-width 'Ｅ' each made a new experiment beside E0001,
    which stayed proposed while its result sat on the copy."""
    campaign, recipe = _campaign(store_url, "twins")
    assert campaign.history()["experiment_id"].tolist() == ["E0001"]
    revision = campaign.revision()
    with pytest.raises(DataError) as err:
        campaign.record(pd.DataFrame([{**recipe, "experiment_id": twin, CE: 85.0}]))
    assert [p.column for p in err.value.problems] == ["experiment_id"]
    assert "E0001" in err.value.problems[0].problem or "invisible" in err.value.problems[0].problem
    assert campaign.revision() == revision and campaign.history()["experiment_id"].tolist() == ["E0001"]
    campaign.record(pd.DataFrame([{"experiment_id": " E0001 ", CE: 85.0}]))  # spaces around it are not part of it
    assert campaign.history()["status"].tolist() == ["completed"]


@pytest.mark.parametrize("lab_id", ["e0002", "\uff25\u0030\u0030\u0030\u0032"])
def test_ids_doe_numbers_itself_skip_an_id_the_lab_took_in_another_spelling(store_url: str, lab_id: str) -> None:
    """After the lab's own 'e0002', doe numbered its next experiments E0001 and E0002: a twin the
    README says is refused, after which the campaign's cells file could not be recorded and
    clone(with_history=True) was refused (found by a docs probe)."""
    campaign = Campaign.from_config("hfo2-ncm85", storage=store_url, name="lab-ids", actor="lead")
    recipe = campaign.suggest(1, design="latin_hypercube").iloc[0][campaign.config.parameter_names].to_dict()
    campaign.abandon("E0001")
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": lab_id, CE: 85.0}]))
    campaign.record(pd.DataFrame([{**recipe, CE: 86.0}, {**recipe, CE: 87.0}]))
    proposed = campaign.suggest(1, design="latin_hypercube")["experiment_id"].tolist()
    assert campaign.history()["experiment_id"].tolist() == ["E0001", lab_id, "E0003", "E0004", *proposed]
    assert proposed == ["E0005"]
    clone = campaign.clone("lab-ids-copy", with_history=True)
    assert clone.history()["experiment_id"].tolist() == [lab_id, "E0003", "E0004"]  # the measured ones


def test_names_typed_in_two_unicode_forms_are_one_name(store_url: str) -> None:
    """'Müller' with a composed ü (NFC) and with u + combining diaeresis (NFD) look the same:
    they are one experiment and one cell."""
    campaign, recipe = _campaign(store_url, "forms")
    composed, decomposed = "Probe-Müller-1", unicodedata.normalize("NFD", "Probe-Müller-1")
    assert composed != decomposed
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": composed, "replicate": "Ä", CE: 85.0}]))
    report = campaign.record(pd.DataFrame([{"experiment_id": decomposed, "replicate": unicodedata.normalize("NFD", "Ä"),
                                            CE: 85.0}]))
    assert report.measurements_unchanged == 1 and report.measurements_added == 0
    assert campaign.history()["experiment_id"].tolist() == ["E0001", composed]
    with pytest.raises(DataError, match="only in upper and lower case"):
        campaign.record(pd.DataFrame([{**recipe, "experiment_id": "probe-müller-1", CE: 85.0}]))


def test_experiment_ids_that_differ_only_in_leading_zeros_or_a_decimal_point_are_refused(
        store_url: str, tmp_path: Path) -> None:
    """A cells file with ids '001' and '002' opened and saved in a spreadsheet has '1' and '2':
    recorded back, they made two new experiments with the same recipes and values (and a float
    column's '2.0' beside '2' did the same)."""
    campaign, recipe = _campaign(store_url, "id-zeros")
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": i, CE: v} for i, v in (("001", 85.0), ("002", 86.0))]))
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "7", CE: 80.0}]))
    campaign.export_table(tmp_path / "cells.csv", cells=True)
    saved = pd.read_csv(tmp_path / "cells.csv", encoding="utf-8-sig", dtype={"experiment_id": str})
    assert saved["experiment_id"].tolist() == ["E0001", "001", "002", "7"]
    saved.assign(experiment_id=["E0001", "1", "2", "7"]).to_csv(tmp_path / "saved.csv", index=False)  # a spreadsheet's
    revision = campaign.revision()
    with pytest.raises(DataError) as err:
        campaign.import_table(tmp_path / "saved.csv")
    assert [(p.column, p.value) for p in err.value.problems] == [("experiment_id", "1"), ("experiment_id", "2")]
    assert "differs from the experiment id '001' only in" in err.value.problems[0].problem
    with pytest.raises(DataError, match=r"differs from the experiment id '7' only in .*a '\.0'"):
        campaign.record(pd.DataFrame([{**recipe, "experiment_id": "7.0", CE: 81.0}]))
    with pytest.raises(DataError, match=r"differs from the experiment id '08' only in"):  # within one table too
        campaign.record(pd.DataFrame([{**recipe, "experiment_id": i, CE: 81.0} for i in ("08", "8")]))
    assert campaign.revision() == revision
    assert campaign.history()["experiment_id"].tolist() == ["E0001", "001", "002", "7"]
    saved.assign(experiment_id=["E0001", "001", "002", "7"]).to_csv(tmp_path / "fixed.csv", index=False)
    assert campaign.import_table(tmp_path / "fixed.csv").measurements_added == 0  # written as stored: as it was


def test_replicate_labels_that_differ_only_in_leading_zeros_are_refused_not_two_cells(store_url: str) -> None:
    """A cells file opened in a spreadsheet turns '01' into '1': its later retention values then
    made new cells beside the first-cycle ones, and n went from 2 to 4 without a word."""
    campaign, _ = _campaign(store_url, "zeros")
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"] * 2, "replicate": ["01", "02"], CE: [85.0, 86.0]}))
    revision = campaign.revision()
    later = pd.DataFrame({"experiment_id": ["E0001"] * 2, "replicate": ["1", "2"],
                          "capacity_retention_pct": [70.0, 71.0]})
    with pytest.raises(DataError, match=r"replicate '1' differs from its cell '01' only in .*leading zeros.*; write '01'"):
        campaign.record(later)
    with pytest.raises(DataError, match=r"replicates '3' and '003' differ only in"):  # within one table too
        campaign.record(pd.DataFrame({"experiment_id": ["E0001"] * 2, "replicate": ["3", "003"], CE: [85.0, 86.0]}))
    assert campaign.revision() == revision
    campaign.record(later.assign(replicate=["01", "02"]))
    assert campaign.history()[[f"{CE}_n", "capacity_retention_pct_n"]].values.tolist() == [[2, 2]]
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], "replicate": ["10"], CE: [84.0]}))  # not '1'
    assert campaign.history()[f"{CE}_n"].tolist() == [3]


def test_labels_and_ids_that_differ_only_in_trailing_decimal_zeros_are_refused_not_two_cells(
        store_url: str, tmp_path: Path) -> None:
    """A cells file with labels '1.10' and '1.20' saved by a spreadsheet has 1.1 and 1.2: recorded
    back they made two more cells, and n went from 3 to 5 without a word. An id '1.10' beside a
    stored '1.1' made a second experiment the same way."""
    campaign, recipe = _campaign(store_url, "decimal-zeros")
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"] * 3, "replicate": ["1.10", "1.20", "01"],
                                  CE: [80.0, 84.0, 82.0]}))
    campaign.export_table(tmp_path / "cells.csv", cells=True)
    saved = pd.read_csv(tmp_path / "cells.csv", encoding="utf-8-sig")  # as a spreadsheet reads it: numbers
    assert sorted(saved["replicate"].tolist()) == [1.0, 1.1, 1.2]
    saved.to_csv(tmp_path / "saved.csv", index=False)  # and writes it back: 1, 1.1, 1.2
    revision = campaign.revision()
    with pytest.raises(DataError, match=r"replicate '1\.1' differs from its cell '1\.10' only in .*trailing decimal"):
        campaign.import_table(tmp_path / "saved.csv")
    with pytest.raises(DataError, match=r"replicate '1\.1' differs from its cell '1\.10'"):  # a float label too
        campaign.record(pd.DataFrame({"experiment_id": ["E0001"], "replicate": [1.1], CE: [80.0]}))
    with pytest.raises(DataError, match=r"replicates '2\.5' and '2\.50' differ only in"):  # within one table too
        campaign.record(pd.DataFrame({"experiment_id": ["E0001"] * 2, "replicate": ["2.5", "2.50"], CE: [85.0, 86.0]}))
    assert campaign.revision() == revision and campaign.history()[f"{CE}_n"].tolist() == [3]
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], "replicate": ["1.11"], CE: [83.0]}))  # not '1.1'
    assert campaign.history()[f"{CE}_n"].tolist() == [4]
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "1.1", CE: 80.0}]))
    with pytest.raises(DataError, match=r"differs from the experiment id '1\.1' only in .*'1\.10' for '1\.1'"):
        campaign.record(pd.DataFrame([{**recipe, "experiment_id": "1.10", CE: 81.0}]))
    assert campaign.history()["experiment_id"].tolist() == ["E0001", "1.1"]


def test_replicate_labels_read_from_a_file_are_the_labels_recorded(store_url: str, tmp_path: Path) -> None:
    """A table recorded with labels 1.0, 2.0 (floats: cells '1', '2') and then from its CSV
    (text '1.0', '2.0') doubled the cells: n went from 2 to 4."""
    campaign, _ = _campaign(store_url, "labels")
    table = pd.DataFrame({"experiment_id": ["E0001"] * 2, "replicate": [1.0, 2.0], CE: [85.0, 86.0]})
    campaign.record(table)
    table.to_csv(tmp_path / "cells.csv", index=False)
    report = campaign.import_table(tmp_path / "cells.csv")
    assert report.measurements_added == 0 and report.measurements_unchanged == 2
    (tmp_path / "zeros.csv").write_text(f"experiment_id,replicate,{CE}\nE0001,1.00,85.0\nE0001,2,86.0\n")
    assert campaign.import_table(tmp_path / "zeros.csv").measurements_unchanged == 2
    assert campaign.history()[f"{CE}_n"].tolist() == [2]
    assert sorted(campaign.measurements()["replicate"]) == ["1", "2"]
    serials = ["12345678901234567891", "12345678901234567890", "007"]  # text: kept as written, digit for digit
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"] * 3, "replicate": serials, CE: [84.0, 84.5, 85.5]}))
    assert sorted(campaign.measurements()["replicate"]) == sorted(["1", "2", *serials])


@pytest.mark.parametrize(("written", "stored"), [
    ("04.03.2026", "2026-03-04 00:00:00+00:00"),  # day first with dots: 4 March
    ("13.03.2026 14:30", "2026-03-13 14:30:00+00:00"),
    ("2026-03-04T14:30:00+01:00", "2026-03-04 13:30:00+00:00"),
    (pd.Timestamp("2026-03-04 09:15"), "2026-03-04 09:15:00+00:00"),  # a workbook's date cell
    ("2026/03/04", "2026-03-04 00:00:00+00:00"),  # year first: a Japanese or Chinese Excel's default
    ("2026/3/4 14:30", "2026-03-04 14:30:00+00:00"),
    ("2026-3-4", "2026-03-04 00:00:00+00:00"),
    ("20260304", "2026-03-04 00:00:00+00:00"),  # ISO 8601's basic form
    ("2026-03-04 14:30:00 UTC", "2026-03-04 14:30:00+00:00"),
])
def test_dates_written_plainly_are_read_as_written(store_url: str, written: object, stored: str) -> None:
    campaign, _ = _campaign(store_url, "dates")
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], CE: [85.0], "measured_at": [written]}))
    assert [str(t) for t in campaign.measurements()["measured_at"]] == [stored]


@pytest.mark.parametrize("written", ["03/04/2026", "now", "today", "12:00", "2026", "4 March", "2026-13-01"])
def test_dates_that_would_be_guessed_are_refused(store_url: str, written: str) -> None:
    """pandas read '04.03.2026' as 3 April but '13.03.2026' as 13 March within one file, and
    stored 'now', '12:00' and '2026' as times."""
    campaign, _ = _campaign(store_url, "guessed")
    with pytest.raises(DataError) as err:
        campaign.record(pd.DataFrame({"experiment_id": ["E0001"], CE: [85.0], "measured_at": [written]}))
    assert [(p.column, "not a date" in p.problem) for p in err.value.problems] == [("measured_at", True)]
    assert campaign.measurements().empty


def test_text_no_database_holds_and_numbers_beyond_a_float_are_refused_naming_the_field(store_url: str) -> None:
    """A NUL in a note was stored on SQLite (PostgreSQL refuses it), and an integer beyond any
    float raised a bare OverflowError."""
    campaign, _ = _campaign(store_url, "odd")
    for column, value, said in [("note", "cracked\x00", "control character"),
                                ("failure_reason", "gelled\x00", "control character"),
                                (CE, 10**400, "not a finite number")]:
        row = {"experiment_id": "E0001", column: value} | ({} if column == CE else {CE: 85.0})
        if column == "failure_reason":
            row.pop(CE)
        with pytest.raises(DataError) as err:
            campaign.record(pd.DataFrame([row], dtype=object))
        assert [(p.column, said in p.problem) for p in err.value.problems] == [(column, True)]
    assert campaign.measurements().empty
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], CE: [85.0], "note": ["two\tcolumns\nand lines"],
                                  "operator": [1234.0], "sample_id": [17.0]}))
    stored = campaign.measurements().iloc[0]
    assert (stored["note"], stored["operator"], stored["sample_id"]) == ("two\tcolumns\nand lines", "1234", "17")


def test_a_database_drivers_exact_numbers_are_recorded_as_the_numbers_they_are(store_url: str) -> None:
    """Found by a probe: a Decimal (what a PostgreSQL driver gives for a NUMERIC column, read from
    a lab's LIMS) was refused as 'not a number', in a parameter and in an outcome alike; a
    parameter given as -0.0 was stored and printed as '-0.0'."""
    from decimal import Decimal
    from fractions import Fraction

    campaign, recipe = _campaign(store_url, "exact")
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "L1", "anneal_temperature_c": Decimal("400"),
                                   CE: Decimal("85.1")},
                                  {**recipe, "experiment_id": "L2", "anneal_temperature_c": Decimal("450"),
                                   CE: Fraction(171, 2)}], dtype=object))
    stored = campaign.history().set_index("experiment_id")
    assert stored.loc[["L1", "L2"], "anneal_temperature_c"].tolist() == [400.0, 450.0]
    assert stored.loc[["L1", "L2"], CE].tolist() == [85.1, 85.5]
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "L3", "hfo2_loading_wt_pct": -0.0, CE: 80.0}]))
    held = campaign.suggest(1, fixed={"hfo2_loading_wt_pct": -0.0}, design="latin_hypercube")
    for zero in (campaign.history().set_index("experiment_id").loc["L3", "hfo2_loading_wt_pct"],
                 held["hfo2_loading_wt_pct"].iloc[0]):  # a probe: stored and shown as '-0.0' on run sheets
        assert zero == 0.0 and str(zero) == "0.0"
    with pytest.raises(DataError) as err:
        campaign.record(pd.DataFrame([{"experiment_id": "L1", CE: Decimal("sNaN")}], dtype=object), correct=True)
    assert [(p.column, "not a finite number" in p.problem) for p in err.value.problems] == [(CE, True)]


def test_a_failed_flag_as_a_spreadsheet_number(store_url: str) -> None:
    """A 'failed' column with an empty cell is a float column: 1.0 and 0.0, refused before."""
    campaign, _ = _campaign(store_url, "flags")
    campaign.suggest(1)
    campaign.record(pd.DataFrame({"experiment_id": ["E0001", "E0002"], "failed": [1.0, 0.0],
                                  "failure_reason": ["gelled", None], CE: [None, 86.0]}))
    assert campaign.history().set_index("experiment_id")["status"].to_dict() == {"E0001": "failed", "E0002": "completed"}


def test_a_column_is_ignored_only_when_a_run_sheet_or_history_carries_it(store_url: str) -> None:
    """Any column ending in _mean or _sd was dropped without a word: 'CE_mean' and
    'anything_sd' went nowhere while the row's other values were recorded."""
    campaign, _ = _campaign(store_url, "carried")
    with pytest.raises(DataError) as err:
        campaign.record(pd.DataFrame({"experiment_id": ["E0001"], "capacity_retention_pct": [70.0],
                                      "CE_mean": [84.0], "anything_sd": [3.0]}))
    assert sorted(p.column for p in err.value.problems) == ["CE_mean", "anything_sd"]
    assert all("unknown column" in p.problem for p in err.value.problems)
    assert campaign.measurements().empty
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], CE: [85.0], f"{CE}_mean": [84.1], f"{CE}_sd": [1.2],
                                  "acquisition_value": [0.3]}))  # a filled run sheet: its predictions are skipped
    assert campaign.measurements()[["outcome", "value"]].values.tolist() == [[CE, 85.0]]


def test_a_json_import_stores_its_recipes_as_record_would(store_url: str) -> None:
    """An import checked ' O2 ' and 3.000000000001 wt% (a hair over the bound) and stored them
    as given: the model then dropped the experiment for its unknown label and proposed its
    recipe again."""
    campaign, _ = _campaign(store_url, "source")
    campaign.suggest(1)
    data = campaign.export_json()
    data["experiments"][0]["parameters"]["anneal_atmosphere"] = " O2 "
    data["experiments"][1]["parameters"]["hfo2_loading_wt_pct"] = 3.000000000001
    copy = Campaign.import_json(data, storage=store_url, name="copy")
    recipes = copy.history().set_index("experiment_id")
    assert recipes.loc["E0001", "anneal_atmosphere"] == "O2"
    assert recipes.loc["E0002", "hfo2_loading_wt_pct"] == 3.0
    assert copy.history().equals(Campaign.import_json(copy.export_json(), storage=store_url, name="again").history())


@pytest.mark.parametrize(("stored", "corrected"), [(8e-13, 0.0), (1.0e-9, 1.0005e-9), (85.0, 85.00000001)])
def test_a_correction_of_a_small_value_is_a_correction(store_url: str, stored: float, corrected: float) -> None:
    """Measurements were compared with an absolute tolerance of 1e-12: a thickness of 8e-13
    corrected to 0, or a conductivity of 1.0e-9 to 1.0005e-9, was 'unchanged' and kept."""
    campaign, _ = _campaign(store_url, "small")
    outcome = "coating_thickness_nm"
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], outcome: [stored]}))
    again = pd.DataFrame({"experiment_id": ["E0001"], outcome: [corrected]})
    with pytest.raises(ConflictError):
        campaign.record(again)
    assert campaign.record(again, correct=True).measurements_corrected == 1
    assert campaign.measurements()["value"].tolist() == [corrected]
    assert campaign.record(pd.DataFrame({"experiment_id": ["E0001"], outcome: [float(f"{corrected:.16g}")]}),
                           ).measurements_unchanged == 1  # as a workbook keeps it (16 digits)


def test_a_value_recorded_again_with_another_note_is_a_correction_of_the_note(store_url: str) -> None:
    """A value recorded again unchanged dropped the note, operator, sample id and date it came
    with, even with correct=True."""
    campaign, _ = _campaign(store_url, "context")
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], CE: [85.0], "operator": ["ada"]}))
    again = pd.DataFrame({"experiment_id": ["E0001"], CE: [85.0], "note": ["cell 2 cracked, re-measured"],
                          "measured_at": ["2026-01-02 10:00"], "sample_id": ["S-9"]})
    report = campaign.record(again)
    assert report.measurements_unchanged == 1 and len(report.context_not_stored) == 1
    assert "note stored none, new 'cell 2 cracked, re-measured'" in report.context_not_stored[0]
    assert campaign.measurements()["note"].isna().all()
    report = campaign.record(again, correct=True)
    assert report.measurements_corrected == 1 and report.context_not_stored == []
    stored = campaign.measurements(include_superseded=True).sort_values("superseded")
    assert stored[["value", "note", "operator", "sample_id", "superseded"]].fillna("-").values.tolist() == [
        [85.0, "cell 2 cracked, re-measured", "ada", "S-9", False], [85.0, "-", "ada", "-", True]]
    assert str(stored["measured_at"].iloc[0]) == "2026-01-02 10:00:00+00:00"
    assert campaign.record(again).context_not_stored == []  # the same context again: nothing to say


def test_the_cli_says_which_unchanged_values_came_with_another_note(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from doe.cli import cli

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DOE_DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--template", "hfo2-ncm85", "--name", "coating"]).exit_code == 0
    Campaign.load("coating", storage=url).suggest(1)
    (tmp_path / "r.csv").write_text(f"experiment_id,{CE}\nE0001,85.0\n")
    (tmp_path / "noted.csv").write_text(f"experiment_id,{CE},note\nE0001,85.0,re-measured\n")
    assert runner.invoke(cli, ["record", str(tmp_path / "r.csv")]).exit_code == 0
    result = runner.invoke(cli, ["record", str(tmp_path / "noted.csv")])
    assert result.exit_code == 0 and "1 unchanged value(s) came with another note" in result.output
    assert "E0001 first_cycle_ce_pct: note stored none, new 're-measured'" in result.output
    result = runner.invoke(cli, ["record", str(tmp_path / "noted.csv"), "--correct"])
    assert "1 corrected" in result.output
    assert Campaign.load("coating", storage=url).measurements()["note"].tolist() == ["re-measured"]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_notes_read_back_from_the_cells_file_as_they_were_stored(store_url: str, tmp_path: Path, suffix: str) -> None:
    """The API kept '  spaced  ' and '\\r\\n' where a file's reader strips a cell and a workbook
    keeps no carriage return (a leading one came back as an apostrophe): the cells file then
    recorded back changed notes."""
    campaign, _ = _campaign(store_url, "notes")
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], CE: [85.0],
                                  "note": ["\r\n  cell 2 cracked,\r\nre-measured  \n"]}))
    assert campaign.measurements()["note"].tolist() == ["cell 2 cracked,\nre-measured"]
    campaign.export_table(tmp_path / f"cells.{suffix}", cells=True)
    report = campaign.import_table(tmp_path / f"cells.{suffix}")
    assert (report.measurements_unchanged, report.context_not_stored) == (1, [])


def test_a_value_outside_the_outcomes_valid_range_is_refused_naming_its_cell(store_url: str, tmp_path: Path) -> None:
    """A CE of 180 %, a negative capacity or a thickness of -5 nm (which even met the
    constraint coating_thickness_nm <= 15) were stored, and best() returned them."""
    campaign, _ = _campaign(store_url, "ranges")
    bad = pd.DataFrame({"experiment_id": ["E0001"], CE: [850.0], "capacity_retention_pct": [250.0],
                        "first_cycle_discharge_capacity_mah_per_g": [-200.0], "coating_thickness_nm": [-5.0]})
    with pytest.raises(DataError) as err:
        campaign.record(bad)
    assert {p.column: p.problem.split(":")[0] for p in err.value.problems} == {
        CE: f"outside the values {CE} can take (from 0 to 100 %",
        "capacity_retention_pct": "outside the values capacity_retention_pct can take (from 0 to 150 %",
        "first_cycle_discharge_capacity_mah_per_g":
            "outside the values first_cycle_discharge_capacity_mah_per_g can take (from 0 to 300 mAh/g",
        "coating_thickness_nm": "outside the values coating_thickness_nm can take (at least 0 nm"}
    assert campaign.measurements().empty
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], CE: [100.0], "coating_thickness_nm": [0.0]}))
    # a campaign without valid_range takes any finite value, as before
    data = campaign.config.to_dict()
    for item in [*data["objectives"], *data["outcomes"]]:
        item.pop("valid_range", None)
    (tmp_path / "open.yaml").write_text(__import__("yaml").safe_dump(data))
    open_ranges = Campaign.from_config(str(tmp_path / "open.yaml"), storage=store_url, name="open")
    open_ranges.suggest(1)
    open_ranges.record(pd.DataFrame({"experiment_id": ["E0001"], CE: [850.0]}))
    assert open_ranges.measurements()["value"].tolist() == [850.0]


def test_ids_stored_before_they_were_composed_are_still_recorded(store_url: str) -> None:
    """Ids stored as typed before ids were composed (a decomposed 'Müller', an id with a
    zero-width space, as an older version or an import stored them) were refused: the first as
    a twin of itself, the second as invisible."""
    campaign, _ = _campaign(store_url, "legacy-source")
    data = campaign.export_json()
    decomposed, hidden = unicodedata.normalize("NFD", "Probe-Müller-1"), "Zw\u200b1"
    data["experiments"].append({**data["experiments"][0], "experiment_id": decomposed})
    data["experiments"].append({**data["experiments"][0], "experiment_id": hidden})
    legacy = Campaign.import_json(data, storage=store_url, name="legacy")
    for typed in (decomposed, "Probe-Müller-1", hidden):
        legacy.record(pd.DataFrame({"experiment_id": [typed], CE: [85.0]}))
    history = legacy.history().set_index("experiment_id")
    assert history.loc[[decomposed, hidden], "status"].tolist() == ["completed", "completed"]
    assert len(history) == 3
    with pytest.raises(DataError, match="invisible character"):  # a new id still may not hold one
        legacy.record(pd.DataFrame([{**_campaign(store_url, "other")[1], "experiment_id": "New\u200b1", CE: 80.0}]))


def test_an_id_typed_without_the_invisible_character_it_is_stored_with_names_the_stored_id(store_url: str) -> None:
    """Found by a probe: 'X3' typed for the stored 'X\u200b3' (an older doe allowed it) was
    taken as a new experiment and refused for its missing parameters."""
    campaign, recipe = _campaign(store_url, "hidden-source")
    data = campaign.export_json()
    data["experiments"].append({**data["experiments"][0], "experiment_id": "X\u200b3"})
    legacy = Campaign.import_json(data, storage=store_url, name="hidden")
    with pytest.raises(DataError, match=r"differs from the stored experiment id 'X\\u200b3' only in invisible "
                                        r"characters .*\(got 'X3'\)"):
        legacy.record(pd.DataFrame([{**recipe, "experiment_id": "X3", CE: 80.0}]))
    assert len(legacy.history()) == 2


def test_a_history_read_back_compares_its_values_as_measurements(store_url: str, tmp_path: Path) -> None:
    """A history with cell counts (_n columns) compared its values within an absolute 1e-12:
    a thickness of 8e-13 edited to 0 was 'unchanged', even with correct=True."""
    campaign, _ = _campaign(store_url, "means")
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"] * 2, "replicate": ["A", "B"], CE: [85.0, 86.0]}))
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], "coating_thickness_nm": [8e-13]}))
    campaign.export_table(tmp_path / "history.csv")
    history = pd.read_csv(tmp_path / "history.csv", encoding="utf-8-sig")
    column = next(c for c in history.columns if c.startswith("coating_thickness_nm"))
    history[column] = 0.0
    history.to_csv(tmp_path / "edited.csv", index=False)
    with pytest.raises(ConflictError):
        campaign.import_table(tmp_path / "edited.csv")
    campaign.import_table(tmp_path / "edited.csv", correct=True)
    values = campaign.measurements().set_index("outcome")
    assert values.loc["coating_thickness_nm", "value"] == 0.0


def test_a_history_files_joined_note_is_no_measurements_note(store_url: str, tmp_path: Path) -> None:
    """The history's note joins an experiment's notes ('CE: pellet 1; retention after 200
    cycles'): read back, each measurement was said to have another note, and correct=True
    replaced every note with the joined text."""
    campaign, _ = _campaign(store_url, "joined")
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], CE: [85.0], "note": ["CE: pellet 1"]}))
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], "capacity_retention_pct": [70.0],
                                  "note": ["retention after 200 cycles"]}))
    campaign.export_table(tmp_path / "history.csv")
    assert campaign.import_table(tmp_path / "history.csv").context_not_stored == []
    history = pd.read_csv(tmp_path / "history.csv", encoding="utf-8-sig")
    history[next(c for c in history.columns if c.startswith(CE))] = 86.0  # a typo fixed in the history file
    history.to_csv(tmp_path / "edited.csv", index=False)
    campaign.import_table(tmp_path / "edited.csv", correct=True)
    notes = campaign.measurements().set_index("outcome")["note"]
    assert notes.to_dict() == {CE: "CE: pellet 1", "capacity_retention_pct": "retention after 200 cycles"}


def test_a_corrected_value_keeps_the_context_the_correction_does_not_give(store_url: str) -> None:
    """A value corrected (a typo fixed in the Record grid) lost its stored note, operator and
    date: the correction gave none of them."""
    campaign, _ = _campaign(store_url, "keeps")
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], CE: [85.0], "note": ["pellet 1"], "operator": ["ada"],
                                  "measured_at": ["2026-03-04 10:00"]}))
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], CE: [86.0]}), correct=True)
    stored = campaign.measurements().iloc[0]
    assert (stored["value"], stored["note"], stored["operator"], str(stored["measured_at"])) == (
        86.0, "pellet 1", "ada", "2026-03-04 10:00:00+00:00")
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], CE: [87.0], "operator": ["bea"]}), correct=True)
    assert campaign.measurements()[["note", "operator"]].values.tolist() == [["pellet 1", "bea"]]


def test_a_reason_given_to_fail_is_stored_as_a_tables_failure_reason_is(store_url: str, tmp_path: Path) -> None:
    """fail() only stripped its reason: a CRLF reason then made the history file's own
    reason ('\\n') a conflict when recorded back, and a NUL was stored."""
    campaign, _ = _campaign(store_url, "fails")
    campaign.fail(["E0001"], "  gelled\r\nsecond line ")
    assert campaign.history()["failure_reason"].iloc[0] == "gelled\nsecond line"
    campaign.export_table(tmp_path / "history.csv")
    campaign.import_table(tmp_path / "history.csv")  # the same failure: nothing changes, nothing refused
    revision = campaign.revision()
    for bad in ("gelled\x00", "", None):
        with pytest.raises(DataError, match="reason"):
            campaign.fail(["E0001"], bad)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="control characters"):
        campaign.abandon(["E0001"], "oven\x00")
    assert campaign.revision() == revision


def test_a_file_recorded_before_is_recorded_again_for_its_corrections(store_url: str, tmp_path: Path) -> None:
    """A file that also created an experiment (a row without an id) could not be recorded again
    with correct=True to store a note the first recording reported as not stored: its new row
    was now 'already recorded', so the correction the CLI and the page offer failed."""
    campaign, recipe = _campaign(store_url, "again")
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], CE: [85.0]}))
    table = pd.DataFrame([{"experiment_id": "E0001", CE: 85.0, "note": "re-measured"},
                          {**recipe, "hfo2_loading_wt_pct": 1.5, CE: 80.0}])
    assert len(campaign.record(table).context_not_stored) == 1
    with pytest.raises(DataError, match="already recorded"):
        campaign.record(table)  # the same file again, without correct: refused as before
    report = campaign.record(table, correct=True)
    assert (report.measurements_corrected, report.created) == (1, [])
    assert len(campaign.history()) == 2
    assert campaign.measurements().set_index("experiment_id").loc["E0001", "note"] == "re-measured"


def test_cells_stored_under_a_label_written_before_labels_were_cleaned_stay_one_cell(store_url: str) -> None:
    """A CSV's '1.0' was stored as the label '1.0' before labels were cleaned; read now as '1',
    the same file recorded again made a second cell beside it."""
    campaign, _ = _campaign(store_url, "old-labels")
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"] * 2, "replicate": ["A", "B"], CE: [85.0, 86.0]}))
    data = campaign.export_json()
    for value in data["measurements"]:
        value["replicate"] = {"A": "1.0", "B": "2.0"}[value["replicate"]]  # as an older version stored them
    legacy = Campaign.import_json(data, storage=store_url, name="legacy-labels")
    report = legacy.record(pd.DataFrame({"experiment_id": ["E0001"] * 2, "replicate": ["1.0", "2.0"],
                                         CE: [85.0, 86.0]}))
    assert (report.measurements_added, report.measurements_unchanged) == (0, 2)
    assert sorted(legacy.measurements()["replicate"]) == ["1.0", "2.0"]
    assert legacy.history()[f"{CE}_n"].tolist() == [2]


@pytest.mark.parametrize("twin", ["a", "\uff21"])
def test_a_replicate_label_that_only_looks_like_a_stored_one_is_refused_not_a_second_cell(
        store_url: str, twin: str) -> None:
    """Cell 'A' recorded, then 'a' or a full-width 'Ａ' for the same experiment: a second cell,
    so n went from 1 to 2 for one coated powder's one cell."""
    campaign, _ = _campaign(store_url, "label-twins")
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], "replicate": ["A"], CE: [85.0]}))
    revision = campaign.revision()
    with pytest.raises(DataError, match="write 'A'"):
        campaign.record(pd.DataFrame({"experiment_id": ["E0001"], "replicate": [twin], CE: [86.0]}))
    with pytest.raises(DataError, match="write 'A'"):  # a failed cell under the twin label too
        campaign.record(pd.DataFrame({"experiment_id": ["E0001"], "replicate": [twin], "failed": [True],
                                      "failure_reason": ["pellet cracked"]}))
    assert campaign.revision() == revision
    assert campaign.measurements()["replicate"].tolist() == ["A"]
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], "replicate": ["B"], CE: [86.0]}))  # a new cell is fine
    assert campaign.history()[f"{CE}_n"].tolist() == [2]


def test_two_labels_of_one_write_that_differ_only_in_case_are_refused(store_url: str) -> None:
    campaign, recipe = _campaign(store_url, "label-twins-in-one")
    revision = campaign.revision()
    with pytest.raises(DataError, match="'B' and 'b'"):
        campaign.record(pd.DataFrame({"experiment_id": ["E0001"] * 2, "replicate": ["B", "b"], CE: [85.0, 86.0]}))
    with pytest.raises(DataError, match="'B' and 'b'"):  # a new experiment's cells too
        campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P1", "replicate": "B", CE: 85.0},
                                      {**recipe, "experiment_id": "P1", "replicate": "b", CE: 86.0}]))
    assert campaign.revision() == revision and campaign.measurements().empty


def test_a_failed_cell_stored_under_a_label_written_before_labels_were_cleaned_is_that_cell(store_url: str) -> None:
    """A failed cell stored as '2.0' (an older version's spelling of a CSV's 2.0): a value for
    cell 2 went in beside it as a new cell, so the cell was both failed and measured."""
    campaign, _ = _campaign(store_url, "old-failed-labels")
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"] * 2, "replicate": ["1", "2"], CE: [85.0, None],
                                  "failed": [False, True], "failure_reason": [None, "pellet cracked"]}))
    data = campaign.export_json()
    for cell in data["cell_failures"]:
        cell["replicate"] = "2.0"  # as an older version stored it
    legacy = Campaign.import_json(data, storage=store_url, name="legacy-failed-labels")
    late = pd.DataFrame({"experiment_id": ["E0001"], "replicate": ["2"], CE: [84.0]})
    with pytest.raises(ConflictError, match="stored as failed"):
        legacy.record(late)
    legacy.record(late, correct=True)  # the cell re-measured: its failure is withdrawn
    assert legacy.cell_failures().empty
    assert sorted(legacy.measurements()["replicate"]) == ["1", "2.0"]  # under the cell's stored label
    assert legacy.history()[f"{CE}_n"].tolist() == [2]


def test_an_id_imported_with_spaces_around_it_is_found_under_its_typed_form(store_url: str) -> None:
    """An export may hold an id with spaces around it ('P1 ', written through the store's API or
    by hand). After import, a results row for 'P1' (a file's cells are stripped) made a second
    experiment beside it, and 'p1' was no twin of it."""
    campaign, recipe = _campaign(store_url, "spaced")
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P1", "replicate": "A", CE: 85.0}]))
    data = campaign.export_json()
    for item in (*data["experiments"], *data["measurements"]):
        if item["experiment_id"] == "P1":
            item["experiment_id"] = "P1 "
    spaced = Campaign.import_json(data, storage=store_url, name="spaced-import")
    assert spaced.history()["experiment_id"].tolist() == ["E0001", "P1 "]
    spaced.record(pd.DataFrame({"experiment_id": ["P1"], "replicate": ["B"], CE: [86.0]}))
    assert spaced.history()["experiment_id"].tolist() == ["E0001", "P1 "]
    assert spaced.history()[f"{CE}_n"].tolist() == [0, 2]
    with pytest.raises(DataError, match="only in upper and lower case"):
        spaced.record(pd.DataFrame([{**recipe, "experiment_id": "p1", CE: 80.0}]))


def test_context_imported_as_its_export_held_it_is_no_change_when_recorded_again(store_url: str) -> None:
    """An export may hold a note with Windows line breaks and spaces around it, or an operator
    with a space after it (stored before texts were cleaned). Recorded again from a file (whose
    cells are cleaned), each was a 'different' note or operator, reported as not stored."""
    campaign, _ = _campaign(store_url, "old-context")
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"], CE: [85.0], "note": ["cracked\nre-pressed"],
                                  "operator": ["Ana"]}))
    data = campaign.export_json()
    data["measurements"][0].update(note=" cracked\r\nre-pressed ", operator="Ana ")
    legacy = Campaign.import_json(data, storage=store_url, name="old-context-import")
    report = legacy.record(pd.DataFrame({"experiment_id": ["E0001"], CE: [85.0], "note": ["cracked\nre-pressed"],
                                         "operator": ["Ana"]}))
    assert (report.measurements_unchanged, report.context_not_stored) == (1, [])
    report = legacy.record(pd.DataFrame({"experiment_id": ["E0001"], CE: [85.0], "operator": ["Bo"]}))
    assert report.context_not_stored == ["E0001 first_cycle_ce_pct: operator stored 'Ana ', new 'Bo'"]


def test_an_id_that_names_two_stored_spellings_is_refused_not_given_to_one(store_url: str) -> None:
    """'P1 ' and ' P1' restored from an export: a row for 'P1' went to one of them silently."""
    campaign, recipe = _campaign(store_url, "two-spellings")
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P1", CE: 85.0},
                                  {**recipe, "experiment_id": "P2", CE: 86.0}]))
    data = campaign.export_json()
    for item in (*data["experiments"], *data["measurements"]):
        item["experiment_id"] = {"P1": "P1 ", "P2": " P1"}.get(item["experiment_id"], item["experiment_id"])
    both = Campaign.import_json(data, storage=store_url, name="two-spellings-import")
    before = both.measurements()
    with pytest.raises(DataError, match=r"names 2 stored experiments \('P1 ', ' P1'\) that differ only in spaces"):
        both.record(pd.DataFrame({"experiment_id": ["P1"], "replicate": ["B"], CE: [87.0]}))
    assert both.measurements().equals(before)


def test_a_history_of_an_id_imported_with_spaces_records_back_as_its_means(store_url: str, tmp_path: Path) -> None:
    """The check for means of experiments not in the campaign stripped a file's id but not the
    stored one, so the history of an imported 'P1 ' was refused as 'not in this campaign'."""
    campaign, recipe = _campaign(store_url, "spaced-means")
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P1", "replicate": r, CE: v}
                                  for r, v in (("A", 88.0), ("B", 90.0))]))
    data = campaign.export_json()
    for item in (*data["experiments"], *data["measurements"]):
        item["experiment_id"] = "P1 " if item["experiment_id"] == "P1" else item["experiment_id"]
    spaced = Campaign.import_json(data, storage=store_url, name="spaced-means-import")
    spaced.export_table(tmp_path / "history.csv")
    report = spaced.import_table(tmp_path / "history.csv")
    assert (report.measurements_added, report.rejected) == (0, [])


def test_cells_stored_under_twin_labels_before_they_were_refused_record_back(store_url: str, tmp_path: Path) -> None:
    """Cells 'A' and 'a' stored by an older version (restored from an export): the campaign's own
    cells file was refused, and no label can be renamed."""
    campaign, _ = _campaign(store_url, "old-twins")
    campaign.record(pd.DataFrame({"experiment_id": ["E0001"] * 2, "replicate": ["A", "B"], CE: [88.0, 90.0]}))
    data = campaign.export_json()
    for value in data["measurements"]:
        value["replicate"] = {"B": "a"}.get(value["replicate"], value["replicate"])
    legacy = Campaign.import_json(data, storage=store_url, name="old-twins-import")
    legacy.export_table(tmp_path / "cells.csv", cells=True)
    report = legacy.import_table(tmp_path / "cells.csv")
    assert (report.measurements_added, report.measurements_unchanged) == (0, 2)
    with pytest.raises(DataError, match="write 'A'"):  # a third spelling is still refused
        legacy.record(pd.DataFrame({"experiment_id": ["E0001"], "replicate": ["\uff21"], CE: [89.0]}))


def test_a_recipe_is_compared_with_the_experiment_its_id_names_when_two_stored_spellings_clean_alike(
        store_url: str) -> None:
    """'P1' and 'P1 ' restored from an export: a row for 'P1' with the other spelling's recipe
    was recorded, its recipe compared with the wrong experiment (review finding)."""
    campaign, recipe = _campaign(store_url, "recipe-twins")
    campaign.record(pd.DataFrame([{**recipe, "experiment_id": "P1", "anneal_time_h": 2.0},
                                  {**recipe, "experiment_id": "P2", "anneal_time_h": 3.0}]))
    data = json.loads(json.dumps(campaign.export_json()).replace('"P2"', '"P1 "'))
    twins = Campaign.import_json(data, storage=store_url, name="recipe-twins-import")
    with pytest.raises(DataError, match=r"differs from the stored value 2\.0 of P1"):
        twins.record(pd.DataFrame([{**recipe, "experiment_id": "P1", "anneal_time_h": 3.0, CE: 88.0}]))
    assert twins.measurements().empty


BASE = {"parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]},
                       {"name": "atm", "type": "categorical", "values": ["A", "B"]}],
        "objectives": [{"name": "ce", "goal": "maximize"}]}
ONE_LINE_BREAKERS = ["\x85", "\x9b", "\u2028", "\u2029"]  # NEXT LINE, the terminal escape CSI, line/paragraph separators


@pytest.mark.parametrize("char", ONE_LINE_BREAKERS)
def test_c1_controls_and_line_separators_are_refused_in_every_label_field(store_url: str, char: str) -> None:
    """Found by a probe: only U+0000-U+001F and U+007F were refused, so a campaign name, a
    category label, an experiment id, a replicate label held U+0085 or U+2028 (the stored YAML
    then read U+0085 back as a space: config.name differed from the campaign's name) and
    `doe list` printed U+009B raw. Each is refused naming its field and the character."""
    code = f"U+{ord(char):04X}"
    pattern = re.escape(code)
    with pytest.raises(ConfigError, match=rf"name: .*{pattern}"):
        Campaign.from_config({**BASE, "name": f"n{char}ame"}, storage=store_url)
    with pytest.raises(ConfigError, match=rf"parameters\[atm\]\.values: category label .*{pattern}"):
        Campaign.from_config({**BASE, "name": "lab", "parameters": [
            BASE["parameters"][0], {"name": "atm", "type": "categorical", "values": ["A", f"A{char}B"]}]},
            storage=store_url)
    assert list_campaigns(store_url).empty
    campaign = Campaign.from_config({**BASE, "name": "lab"}, storage=store_url)
    revision = campaign.revision()
    row = {"experiment_id": "E1", "x": 0.5, "atm": "A", "ce": 90.0}
    for column, value in (("experiment_id", f"E{char}1"), ("replicate", f"r{char}x"), ("operator", f"Ada{char}L"),
                          ("sample_id", f"S{char}1")):
        with pytest.raises(DataError) as err:
            campaign.record(pd.DataFrame([{**row, column: value}]))
        assert [p.column for p in err.value.problems] == [column]
        assert code in err.value.problems[0].problem
    assert campaign.revision() == revision and campaign.history().empty


def test_a_description_with_a_next_line_character_reads_back_as_written(store_url: str) -> None:
    """Found by a probe: the stored YAML wrote U+0085 raw and read it back as a space."""
    text = "first\x85second\u2028third\nfourth"
    campaign = Campaign.from_config({**BASE, "name": "described", "description": text}, storage=store_url)
    assert Campaign.load("described", storage=store_url).config.description == text
    assert CampaignConfig.from_yaml(campaign.config.to_yaml()).description == text


@pytest.mark.parametrize("char", ["\u200b", "\u200f", "\ufeff"])  # zero-width space, right-to-left mark, BOM
def test_a_clone_or_an_import_under_a_new_name_with_an_invisible_character_is_refused(store_url: str,
                                                                                     char: str) -> None:
    """Found by a probe: the Campaigns page cloned a campaign as 'copy' + U+200F (typed with a
    right-to-left name), and `clone()` or `import_json(name=...)` stored any new name holding an
    invisible character, which a new campaign's name may not hold (two names that look the same)."""
    code = re.escape(f"U+{ord(char):04X}")
    campaign = Campaign.from_config({**BASE, "name": "lab"}, storage=store_url)
    campaign.record(pd.DataFrame([{"experiment_id": "E1", "x": 0.5, "atm": "A", "ce": 90.0}]))
    for name in (f"copy{char}", f"la{char}b"):
        with pytest.raises(StorageError, match=rf"invisible character.*{code}|{code}.*invisible"):
            campaign.clone(name, with_history=True)
        with pytest.raises(StorageError, match=rf"invisible character.*{code}|{code}.*invisible"):
            Campaign.import_json(campaign.export_json(), storage=store_url, name=name)
    assert list_campaigns(store_url)["name"].tolist() == ["lab"]
