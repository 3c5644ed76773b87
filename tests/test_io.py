"""CSV and Excel in and out: mapping, units, encodings, limits, formula injection."""

from __future__ import annotations

import csv
import datetime
import io
import json
import math
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doe.domain import validate_experiments
from doe.domain.config import CampaignConfig
from doe.domain.units import canonical_unit, split_header
from doe.errors import DataError
from doe.io import (
    campaign_from_json,
    campaign_to_json,
    read_table,
    table_bytes,
    write_table,
)
from doe.templates import resolve_config


@pytest.fixture
def config() -> CampaignConfig:
    return resolve_config("hfo2-ncm85")


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def test_split_header_and_units() -> None:
    assert split_header("anneal_temperature_c [C]") == ("anneal_temperature_c", "C")
    assert split_header("anneal_temperature (C)") == ("anneal_temperature", "C")
    assert split_header("anneal_time_h / min") == ("anneal_time_h", "min")
    assert split_header("capacity / mAh/g") == ("capacity", "mAh/g")
    assert split_header("first_cycle_ce_pct") == ("first_cycle_ce_pct", None)
    assert canonical_unit("°C") == canonical_unit("degC") == "C"
    assert canonical_unit("wt.%") == "wt%" and canonical_unit("-") is None


def test_mapping_and_matching_units_are_read(config: CampaignConfig) -> None:
    text = ("Sample,HfO2 (wt%),anneal_temperature (C),anneal_time_h [h],Atmosphere,CE\n"
            "S-1,0.83,400,2,O2,90.1\n"
            ",,,,,\n"
            "S-2,1.2,450,1.5,air,\n")
    frame = read_table(csv_bytes(text), config, column_mapping={
        "Sample": "experiment_id", "HfO2": "hfo2_loading_wt_pct", "Atmosphere": "anneal_atmosphere",
        "CE": "first_cycle_ce_pct"})
    assert frame.columns.tolist() == ["experiment_id", "hfo2_loading_wt_pct", "anneal_temperature_c",
                                      "anneal_time_h", "anneal_atmosphere", "first_cycle_ce_pct"]
    assert len(frame) == 2  # the blank row is dropped
    assert frame["experiment_id"].tolist() == ["S-1", "S-2"]
    assert frame["anneal_temperature_c"].tolist() == [400.0, 450.0]
    assert frame.loc[0, "first_cycle_ce_pct"] == 90.1 and math.isnan(frame.loc[1, "first_cycle_ce_pct"])
    clean = validate_experiments(frame, config, parameters="optional")
    assert clean["anneal_atmosphere"].tolist() == ["O2", "air"]
    with pytest.raises(DataError, match=r"column_mapping names column\(s\) \['Temp'\]"):
        read_table(csv_bytes(text), config, column_mapping={"Temp": "anneal_temperature_c"})


def test_convertible_units_are_converted_with_a_note(config: CampaignConfig, caplog: pytest.LogCaptureFixture) -> None:
    text = ("anneal_temperature [K],anneal_time_h [min],sonication_time_min / s,first_cycle_ce_pct [fraction]\n"
            "673.15,120,900,0.9\n")
    with caplog.at_level("INFO", logger="doe.io"):
        frame = read_table(csv_bytes(text), config)
    assert frame.columns.tolist() == ["anneal_temperature_c", "anneal_time_h", "sonication_time_min",
                                      "first_cycle_ce_pct"]
    row = frame.iloc[0]
    assert row["anneal_temperature_c"] == pytest.approx(400.0)
    assert row["anneal_time_h"] == pytest.approx(2.0)
    assert row["sonication_time_min"] == pytest.approx(15.0)
    assert row["first_cycle_ce_pct"] == pytest.approx(90.0)
    assert len(frame.attrs["unit_conversions"]) == 4
    assert "converted K to C" in caplog.text


@pytest.mark.parametrize(("header", "found", "expected"), [
    ("anneal_temperature_c [F]", "F", "'C'"),
    ("anneal_time_h [days]", "days", "'h'"),
    ("hfo2_loading_wt_pct [%]", "%", "'wt%'"),
    ("anneal_atmosphere [bar]", "bar", "no unit"),
])
def test_wrong_units_name_column_found_and_expected(config: CampaignConfig, header: str, found: str,
                                                    expected: str) -> None:
    with pytest.raises(DataError) as info:
        read_table(csv_bytes(f"{header}\n1\n"), config)
    [problem] = info.value.problems
    assert problem.column == header and problem.value == found
    assert f"unit {found!r}" in str(info.value) and f"campaign's unit {expected}" in str(info.value)


def test_encodings(config: CampaignConfig, tmp_path) -> None:
    text = "experiment_id,note,first_cycle_ce_pct\nE1,Glühen bei 400 °C,90.5\n"
    for data in (csv_bytes(text), b"\xef\xbb\xbf" + csv_bytes(text)):
        frame = read_table(data, config)
        assert frame.columns[0] == "experiment_id" and frame.loc[0, "note"] == "Glühen bei 400 °C"
    windows = tmp_path / "excel_windows.csv"
    windows.write_bytes(csv_bytes(text, "cp1252"))
    with pytest.raises(DataError, match=r"not UTF-8 .*CSV UTF-8.*encoding='cp1252'"):
        read_table(windows, config)
    assert read_table(windows, config, encoding="cp1252").loc[0, "note"] == "Glühen bei 400 °C"


def test_semicolon_and_decimal_comma(config: CampaignConfig) -> None:
    text = "experiment_id;hfo2_loading_wt_pct;first_cycle_ce_pct\nE1;0,83;90,5\n"
    frame = read_table(csv_bytes(text), config)
    assert frame.loc[0, "hfo2_loading_wt_pct"] == 0.83 and frame.loc[0, "first_cycle_ce_pct"] == 90.5
    dotted = "experiment_id;hfo2_loading_wt_pct;first_cycle_ce_pct\nE1;0.83;90.5\n"  # dots throughout: decimal points
    assert read_table(csv_bytes(dotted), config).loc[0, "hfo2_loading_wt_pct"] == 0.83


def test_a_dotted_number_among_decimal_commas_is_refused_not_read_a_thousand_times_smaller(config: CampaignConfig) -> None:
    """A German Excel writes 1250 shown with thousands as '1.250'; it was read as 1.25."""
    text = "experiment_id;first_cycle_ce_pct;interfacial_resistance_ohm\nE1;85,5;1.250\n\nE2;86,5;980\n"
    with pytest.raises(DataError, match="cannot be used") as caught:
        read_table(csv_bytes(text), config)
    assert [(p.file_row, p.column, p.value) for p in caught.value.problems] == [(2, "interfacial_resistance_ohm", "1.250")]
    assert "decimal commas" in caught.value.problems[0].problem




def test_a_thousands_dot_in_a_semicolon_file_without_decimal_commas_is_refused(config: CampaignConfig) -> None:
    """A German Excel file of whole-ohm resistances writes 1250 as '1.250' and no decimal comma
    anywhere: it was read as 1.25. A file whose other cells show a decimal point is read as written."""
    text = "experiment_id;hfo2_loading_wt_pct;first_cycle_ce_pct;interfacial_resistance_ohm\nE1;1;85;1.250\nE2;1;86;980\n"
    with pytest.raises(DataError, match="cannot be used") as caught:
        read_table(csv_bytes(text), config)
    assert [(p.file_row, p.column, p.value) for p in caught.value.problems] == [(2, "interfacial_resistance_ohm", "1.250")]
    assert "may mean 1250" in caught.value.problems[0].problem
    fine = read_table(csv_bytes(text.replace("1.250", "1250")), config)
    assert fine.to_dict("list")["interfacial_resistance_ohm"] == [1250.0, 980.0]
    assert fine.to_dict("list")["hfo2_loading_wt_pct"] == [1.0, 1.0]
    # a file whose other cells show the dot as its decimal mark (85.3, 4.5) keeps 195.812 as written
    points = "experiment_id;first_cycle_ce_pct;first_cycle_discharge_capacity_mah_per_g\nE1;85.3;195.812\nE2;86.125;201.5\n"
    assert read_table(csv_bytes(points), config)["first_cycle_discharge_capacity_mah_per_g"].tolist() == [195.812, 201.5]

NOTE_TEXT = st.text(alphabet='abc ,;\t"\n', max_size=12)


@settings(max_examples=120, derandomize=True, deadline=None)
@given(st.sampled_from([",", ";", "\t"]), st.integers(0, 2),
       st.lists(st.one_of(st.none(), st.tuples(st.floats(0.0, 3.0, allow_nan=False), st.sampled_from(["O2", "air", "Ar"]),
                                               NOTE_TEXT)), min_size=1, max_size=6))
def test_a_lab_table_reads_back_cell_for_cell(delimiter: str, above: int,
                                             rows: list[tuple[float, str, str] | None]) -> None:
    """As a spreadsheet writes it: any of the three delimiters (a decimal comma with ';'), notes
    that hold the other delimiters, quotes and line breaks, rows left empty (written as
    delimiters only) above the header, between rows and at the end."""
    config = resolve_config("hfo2-ncm85")
    columns = ["experiment_id", "hfo2_loading_wt_pct", "anneal_atmosphere", "note"]
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    empty = [""] * len(columns)
    for _ in range(above):
        writer.writerow(empty)
    writer.writerow(columns)
    expected, numbers = [], []
    for i, row in enumerate(rows):
        if row is None:
            writer.writerow(empty)
            continue
        loading, atmosphere, note = row
        number = repr(loading).replace(".", ",") if delimiter == ";" else repr(loading)
        writer.writerow([f"E{i}", number, atmosphere, note])
        expected.append({"experiment_id": f"E{i}", "hfo2_loading_wt_pct": loading, "anneal_atmosphere": atmosphere,
                         "note": note.strip() or None})
        numbers.append(above + 2 + i)
    if not expected:
        with pytest.raises(DataError, match="no data rows"):
            read_table(out.getvalue().encode(), config)
        return
    frame = read_table(out.getvalue().encode(), config)
    assert frame.columns.tolist() == columns
    assert frame.astype(object).where(frame.notna(), None).to_dict("records") == expected
    assert frame.attrs["file_rows"] == numbers


def _sheet_file(tmp_path: Path, suffix: str, rows: list[list[object]]) -> Path:
    """``rows`` as a CSV or a workbook, as a spreadsheet saves them (None: an empty cell)."""
    path = tmp_path / f"table.{suffix}"
    if suffix == "csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([["" if v is None else v for v in row] for row in rows])
    else:
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        for row in rows:
            sheet.append(row)
        book.save(path)
    return path


LAYOUTS = {  # rows, then the problems: (file row, column, what is said)
    "a cell beyond the header": (
        [["experiment_id", "hfo2_loading_wt_pct", "first_cycle_ce_pct"], ["E1", 0.8, 88.5], ["E2", 1.0, 89.0, 91.2]],
        [(3, "D", "a value in a column that the header row (row 1) does not name")]),
    "a cell under an empty header cell, below an empty row": (
        [[], ["experiment_id", None, "first_cycle_ce_pct"], ["E1", None, 88.5], [], ["E2", "x", 89.0]],
        [(5, "B", "a value in a column that the header row (row 2) does not name")]),
    "a table index written with the data": (
        [[None, "experiment_id", "first_cycle_ce_pct"], [0, "E1", 88.5], [1, "E2", 89.0]],
        [(2, "A", "(a table index written with the data?"), (3, "A", "(a table index written with the data?")]),
    "a column named twice": (
        [["experiment_id", "note", " note"], ["E1", "a", "b"]],
        [(1, "note", "the header row names this column 2 times (columns B, C); keep one")]),
}


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_values_no_header_names_are_refused_naming_their_cells(config: CampaignConfig, tmp_path: Path,
                                                                suffix: str, layout: str) -> None:
    """pandas' CSV reader took a row with one cell more than the header as a row label and
    shifted every value one column left; a workbook's such values came as unknown 'Unnamed: 3'
    columns, a repeated name as 'note.1'."""
    rows, expected = LAYOUTS[layout]
    with pytest.raises(DataError, match="do not fit its header row") as caught:
        read_table(_sheet_file(tmp_path, suffix, rows), config)
    problems = caught.value.problems
    assert [(p.file_row, p.column) for p in problems] == [(row, column) for row, column, _ in expected]
    assert all(said in p.problem for p, (_, _, said) in zip(problems, expected, strict=True))


@pytest.mark.parametrize(("text", "row", "column", "said"), [
    ('experiment_id,first_cycle_ce_pct,note\nE1,85.1,"12 inch wafer\nE2,86.3,ok\nE3,84.0,ok\n', 2, "C", "never closed"),
    ('experiment_id,note,first_cycle_ce_pct\nE1,ok,85.1\nE2,"gelled,86.3\nE3,ok,84.0\n', 3, "B", "never closed"),
    ('experiment_id,note,first_cycle_ce_pct\nE1,ok,85.1\nE2,"gelled,86.3\nE3,"ok",84.0\n', 3, "B",
     "quotes run over 2 lines and close with text after the closing quote"),
])
def test_quotes_that_do_not_pair_up_are_refused_not_read_into_one_cell(config: CampaignConfig, text: str, row: int,
                                                                      column: str, said: str) -> None:
    """Read leniently, a quote never closed took every row below into its cell, and a missing
    quote joined rows up to the next quote (E2 then carried E3's CE): both silently."""
    with pytest.raises(DataError, match="a quote is missing or one too many") as caught:
        read_table(text.encode(), config)
    assert [(p.file_row, p.column) for p in caught.value.problems] == [(row, column)]
    assert said in caught.value.problems[0].problem
    closed = read_table(text.replace("wafer", 'wafer"').replace("gelled,", 'gelled",').encode(), config)
    assert closed["experiment_id"].tolist() == ["E1", "E2", "E3"]
    spaced = 'experiment_id,note,first_cycle_ce_pct\r\nE1,"two\r\nlines" ,85.1\r\nE2,"x" ,86.3\r\n'
    assert read_table(spaced.encode(), config)["note"].tolist() == ["two\r\nlines", "x"]  # spaces after a quote


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_a_cell_that_goes_on_after_its_closing_quote_is_refused(config: CampaignConfig, delimiter: str) -> None:
    """Read leniently, '"12" disc, cracked"' lost its quotes and split at the comma: the note
    became '12 disc' and the next column (here the operator) 'cracked"', silently."""
    def table(note: str) -> bytes:
        rows = [["experiment_id", "first_cycle_ce_pct", "note", "operator"], ["E1", "85.1", "ok", "ada"],
                ["E2", "86.3", note]]
        return "\n".join(delimiter.join(row) for row in rows).encode() + b"\n"

    with pytest.raises(DataError, match="a quote is missing or one too many") as caught:
        read_table(table(f'"12" disc{delimiter} cracked"'), config)
    assert [(p.file_row, p.column, p.value) for p in caught.value.problems] == [(3, "C", "12 disc")]
    assert "goes on after its closing quote" in caught.value.problems[0].problem
    quoted = read_table(table(f'"""12"" disc{delimiter} cracked"'), config)  # as a spreadsheet writes it
    assert quoted["note"].tolist() == ["ok", f'"12" disc{delimiter} cracked']
    assert quoted["operator"].isna().tolist() == [False, True]
    assert read_table(table('12" disc'), config)["note"].tolist() == ["ok", '12" disc']  # a quote inside: literal


DITTO_MARKS = {  # the file, the problem (row, column, the ditto mark's line, what is said), the values written out
    "in two rows, which were joined into one": (
        'experiment_id,note,first_cycle_ce_pct\r\nE1,"gelled, re-mixed",86.3\r\nE2,",85.1\r\nE3,",84.0\r\n'
        "E4,ok,83.2\r\n", (3, "B", 3, "lines 3 to 4 of the file would be read as one row"),
        'experiment_id,note,first_cycle_ce_pct\r\nE1,"gelled, re-mixed",86.3\r\nE2,"gelled, re-mixed",85.1\r\n'
        'E3,"gelled, re-mixed",84.0\r\nE4,ok,83.2\r\n'),
    "in the last column": (
        'experiment_id,first_cycle_ce_pct,note\nE1,86.3,gelled\nE2,85.1,"\nE3,84.0,"\nE4,83.2,ok\n',
        (3, "C", 3, "lines 3 to 4"), "experiment_id,first_cycle_ce_pct,note\nE1,86.3,gelled\nE2,85.1,gelled\n"
        "E3,84.0,gelled\nE4,83.2,ok\n"),
    "a ditto of a number": (
        'experiment_id,first_cycle_ce_pct,note\nE1,86.3,"gelled"\nE2,",re-mixed\nE3,",ok\n',
        (3, "B", 3, "lines 3 to 4"), 'experiment_id,first_cycle_ce_pct,note\nE1,86.3,"gelled"\nE2,86.3,re-mixed\n'
        "E3,86.3,ok\n"),
    "twice on one line": (
        'experiment_id,note,operator,first_cycle_ce_pct\nE1,gelled,ada,86.3\nE2,",",85.1\n',
        (3, "B", 3, "the cells after it moved left"),
        "experiment_id,note,operator,first_cycle_ce_pct\nE1,gelled,ada,86.3\nE2,gelled,ada,85.1\n"),
    "below a quote never closed, with decimal commas": (
        'experiment_id;note;first_cycle_ce_pct\nE1;ok;86,3\nE2;"gelled;85,1\nE3;";84,0\n',
        (3, "B", 4, "lines 3 to 4"), 'experiment_id;note;first_cycle_ce_pct\nE1;ok;86,3\nE2;"gelled";85,1\nE3;gelled;84,0\n'),
}


@pytest.mark.parametrize("case", DITTO_MARKS)
def test_a_ditto_mark_is_refused_naming_its_line_not_paired_with_the_next_quote(config: CampaignConfig,
                                                                                case: str) -> None:
    """A quote typed for "same as above" pairs with the next quote as CSV quoting: the rows
    between became one note (E2's CE then E3's, E3 gone) or the cells moved left (the operator
    read as 85.1), silently."""
    text, (row, column, line, said), written_out = DITTO_MARKS[case]
    with pytest.raises(DataError, match="a quote is missing or one too many") as caught:
        read_table(text.encode(), config)
    [problem] = caught.value.problems
    assert (problem.file_row, problem.column) == (row, column)
    assert f'a cell on line {line} of the file holds only a quote ("), e.g. a ditto mark' in problem.problem
    assert said in problem.problem
    frame = read_table(written_out.encode(), config)
    assert frame["experiment_id"].tolist() == [f"E{i}" for i in range(1, len(frame) + 1)]
    assert frame["first_cycle_ce_pct"].notna().all() and len(frame) == written_out.count("\n") - 1


@pytest.mark.parametrize("note", ["\nsee notebook, p. 12, cracked", "gelled,\n", "see E1,\n\n", ", re-mixed", '"',
                                  "\n"])
def test_notes_that_start_or_end_with_a_line_break_or_a_comma_still_read(config: CampaignConfig, note: str) -> None:
    """Quoted as a spreadsheet writes them, such notes open or close with a quote alone in its
    cell, as a ditto mark does; their lines, read as rows, do not look like the table's rows."""
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows([["experiment_id", "first_cycle_ce_pct", "note"],
                                                      ["E1", "86.3", "ok"], ["E2", "85.1", note], ["E3", "84.0", "ok"]])
    frame = read_table(out.getvalue().encode(), config)
    assert frame["first_cycle_ce_pct"].tolist() == [86.3, 85.1, 84.0]
    assert frame["note"].astype(object).where(frame["note"].notna(), None).tolist() == ["ok", note.strip() or None, "ok"]


TAB_HEADER = "experiment_id\thfo2_loading_wt_pct\tfirst_cycle_ce_pct\tinterfacial_resistance_ohm\tnote\r\n"


def test_a_tab_separated_file_with_decimal_commas_reads_them(config: CampaignConfig) -> None:
    """German Excel's 'Text (Tab delimited)': the numbers were refused as text."""
    text = TAB_HEADER + "E1\t0,83\t85,5\t980\tgelled, re-mixed\r\nE2\t1,2\t86\t1,250\tok\r\n"
    assert read_table(text.encode(), config).to_dict("list") == {
        "experiment_id": ["E1", "E2"], "hfo2_loading_wt_pct": [0.83, 1.2], "first_cycle_ce_pct": [85.5, 86.0],
        "interfacial_resistance_ohm": [980.0, 1.25], "note": ["gelled, re-mixed", "ok"]}
    dots = TAB_HEADER + "E1\t0.83\t85.5\t980\tok\r\n"  # dots throughout: decimal points
    assert read_table(dots.encode(), config).loc[0, "hfo2_loading_wt_pct"] == 0.83


@pytest.mark.parametrize(("rows", "value", "said"), [
    ("E1\t0,83\t85,5\t980\tok\r\nE2\t1,2\t86\t1.250\tok\r\n", "1.250", "a number with a dot in a file whose numbers "
                                                                         "use decimal commas"),
    ("E1\t0.83\t85.5\t980\tok\r\nE2\t1.2\t86\t1,250\tok\r\n", "1,250", "may mean 1250 (1,250 with a thousands "
                                                                         "separator) or 1.25"),
])
def test_a_tab_separated_number_that_may_mean_a_thousand_times_more_is_refused(config: CampaignConfig, rows: str,
                                                                               value: str, said: str) -> None:
    """'1.250' among decimal commas was read as 1.25 (German Excel writes 1250 so), and '1,250'
    among decimal points is 1250 where a thousands separator is shown."""
    with pytest.raises(DataError, match="cannot be used") as caught:
        read_table((TAB_HEADER + rows).encode(), config)
    assert [(p.file_row, p.column, p.value) for p in caught.value.problems] == [(3, "interfacial_resistance_ohm", value)]
    assert said in caught.value.problems[0].problem


def test_header_names_holding_another_delimiter_keep_the_files_own(config: CampaignConfig) -> None:
    text = "experiment_id;CE, %;Retention, %\nE1;85,1;90\nE2;85,2;91,5\n"
    frame = read_table(text.encode(), config, column_mapping={"CE, %": "first_cycle_ce_pct",
                                                              "Retention, %": "capacity_retention_pct"})
    assert frame.to_dict("list") == {"experiment_id": ["E1", "E2"], "first_cycle_ce_pct": [85.1, 85.2],
                                     "capacity_retention_pct": [90.0, 91.5]}


def test_a_name_repeated_once_its_byte_order_mark_is_gone_and_a_long_cell(config: CampaignConfig) -> None:
    bom = b"\xef\xbb\xbfexperiment_id,first_cycle_ce_pct,experiment_id\nE1,85,E1\n"
    with pytest.raises(DataError, match="names this column 2 times"):  # read as UTF-8 the mark stays in the text
        read_table(bom, config, encoding="utf-8")
    long = "gelled " * 40_000  # 280 000 characters, over the csv module's own limit of 131 072
    assert read_table(f"experiment_id,note\nE1,{long}\n".encode(), config).loc[0, "note"] == long.strip()


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_empty_cells_beyond_the_header_are_fine(config: CampaignConfig, tmp_path: Path, suffix: str) -> None:
    path = _sheet_file(tmp_path, suffix, [["experiment_id", "first_cycle_ce_pct", None], ["E1", 88.5, None, "  "]])
    assert read_table(path, config).to_dict("records") == [{"experiment_id": "E1", "first_cycle_ce_pct": 88.5}]
    # an empty header cell beside a column pandas once named 'Unnamed: 1' (a traceback: two columns of one name)
    path = _sheet_file(tmp_path, suffix, [["experiment_id", None, "Unnamed: 1", "first_cycle_ce_pct"], ["E1", None, None, 88.5]])
    assert read_table(path, config).to_dict("records") == [{"experiment_id": "E1", "first_cycle_ce_pct": 88.5}]


def test_a_results_table_over_20_mb_is_read_whole(config: CampaignConfig, tmp_path) -> None:
    # the size of `doe export --cells` of ~900 experiments with replicate curves (the old limit was 20 MB)
    note = "pellet pressed at 300 MPa and electrolyte filled in the glovebox; " * 29
    rows = 11_500
    big = tmp_path / "cells.csv"
    big.write_text("experiment_id,replicate,first_cycle_ce_pct,note\n" + "".join(
        f"E{i // 3:05d},{'ABC'[i % 3]},{85 + i % 7}.5,{note}\n" for i in range(rows)), encoding="utf-8")
    assert big.stat().st_size > 20_000_000
    table = read_table(big, config)
    assert len(table) == rows
    assert table["first_cycle_ce_pct"].iloc[-1] == 85 + (rows - 1) % 7 + 0.5
    assert table["note"].iloc[0] == note.strip()


def test_empty_huge_and_unreadable_files(config: CampaignConfig, tmp_path) -> None:
    for empty in (b"", b"\xef\xbb\xbf", b"  \n\n"):
        with pytest.raises(DataError, match="empty"):
            read_table(empty, config)
    with pytest.raises(DataError, match="no data rows"):
        read_table(b"experiment_id,first_cycle_ce_pct\n", config)
    big = tmp_path / "big.csv"
    big.write_bytes(b"first_cycle_ce_pct\n" + b"90.0\n" * 300_000)
    with pytest.raises(DataError, match="larger than 1 MB, the most read as one table; nothing was read: split it") as refused:
        read_table(big, config, max_bytes=1_000_000)
    assert "max_bytes" not in str(refused.value)  # no option of doe record or import_table: not offered
    with pytest.raises(DataError, match=r"workbook is larger than 20 MB.*save it as CSV"):
        read_table(b"PK\x03\x04" + b"0" * 20_000_000, config)
    with pytest.raises(DataError, match="larger than"):
        read_table(io.BytesIO(big.read_bytes()), config, max_bytes=1_000_000)
    with pytest.raises(DataError, match="does not exist"):
        read_table(tmp_path / "nope.csv", config)
    with pytest.raises(DataError, match=r"not a valid \.xlsx"):
        read_table(b"PK\x03\x04garbage", config)
    with pytest.raises(DataError, match=r"\.xls\) are not read"):
        (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
        read_table(tmp_path / "old.xls", config)


SHEET_HEADER = ["experiment_id", "sample_id", "operator", "first_cycle_ce_pct", "capacity_retention_pct"]


def _workbook(tmp_path: Path, rows: list[list[object]], **formats: str) -> Path:
    """``rows`` below :data:`SHEET_HEADER` as Excel saves them; ``formats``: cell -> number format."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [SHEET_HEADER, *rows]:
        sheet.append(row)
    for cell, number_format in formats.items():
        sheet[cell].number_format = number_format
    path = tmp_path / "results.xlsx"
    book.save(path)
    return path


def test_a_workbooks_ids_read_as_the_sheet_shows_them(config: CampaignConfig, tmp_path: Path) -> None:
    """A number shown with leading zeros (7 formatted '000') was read as '7'; text stays text."""
    path = _workbook(tmp_path, [["007", "00123", "ada", 85.5, 90], [7, 12.0, "bob", 86.25, 91]], A3="000")
    assert read_table(path, config).to_dict("list") == {
        "experiment_id": ["007", "007"], "sample_id": ["00123", "12"], "operator": ["ada", "bob"],
        "first_cycle_ce_pct": [85.5, 86.25], "capacity_retention_pct": [90.0, 91.0]}


WORKBOOK_CELLS = {  # a row below the header, number formats, what edits the cells, then the problem (column, said)
    "a serial number longer than Excel keeps": (
        ["E1", 123456789012345678, "ada", 85.5, 90], {}, None,
        ("sample_id", "cell B2 holds the number 1.23456789012346e+17: Excel keeps 15 digits")),
    "a date Excel made of a label": (
        ["E1", datetime.datetime(2026, 1, 2), "ada", 85.5, 90], {"B2": "d-mmm"}, None,
        ("sample_id", "cell B2 holds a date or time, which Excel makes of text such as 1-2")),
    "an id shown through a format": (
        ["E1", 7, "ada", 85.5, 90], {"B2": '"S-"000'}, None, ("sample_id", "number format '\"S-\"000'")),
    "an error value beside measured values": (
        ["E1", "s1", "ada", "#DIV/0!", 90], {}, lambda sheet: setattr(sheet["D2"], "data_type", "e"),
        ("first_cycle_ce_pct", "cell D2 holds the error value #DIV/0!")),
    "a percentage": (
        ["E1", "s1", "ada", 0.855, 90], {"D2": "0.0%"}, None,
        ("first_cycle_ce_pct", "cell D2 is formatted as a percentage: it shows 85.5% and holds 0.855")),
    "merged cells": (
        ["E1", "s1", "ada", 85.5, 90], {}, lambda sheet: (sheet.append(["E2", "s2", None, 86.0, 91]),
                                                         sheet.merge_cells("C2:C3")),
        ("operator", "cells C2:C3 are merged: the sheet shows the value of C2 across them")),
}


@pytest.mark.parametrize("case", WORKBOOK_CELLS)
def test_workbook_cells_that_would_be_read_other_than_shown_are_refused_naming_the_cell(
        config: CampaignConfig, tmp_path: Path, case: str) -> None:
    """Read through pandas these changed on the quiet: the serial's last digits, a date for an
    id, '7' for 'S-007', an error value as not measured, 0.855 for 85.5 %, and an operator
    merged over two rows as the first row's only."""
    row, formats, edit, (column, said) = WORKBOOK_CELLS[case]
    path = _workbook(tmp_path, [row], **formats)
    if edit is not None:
        book = openpyxl.load_workbook(path)
        edit(book.active)
        book.save(path)
    with pytest.raises(DataError, match="cells that would not be read as the sheet shows them") as caught:
        read_table(path, config)
    [problem] = caught.value.problems
    assert (problem.file_row, problem.column) == (2, column)
    assert said in problem.problem


def test_a_workbooks_hidden_rows_and_columns_are_refused_naming_them(config: CampaignConfig, tmp_path: Path) -> None:
    """Rows left out by a filter, a row and a column hidden by hand were read and recorded,
    though the sheet the engineer saved did not show them; empty hidden rows and hidden
    columns doe does not read change nothing."""
    path = _workbook(tmp_path, [["E1", "s1", "ada", 85.5, 90], ["E2", "s2", "bob", 70.0, 60],
                                ["E3", "s3", "cy", 86.0, 91], [None] * 5, ["E4", "s4", "di", 87.0, 92]])
    book = openpyxl.load_workbook(path)
    sheet = book.active
    sheet.auto_filter.ref = "A1:E6"
    sheet.auto_filter.add_filter_column(2, ["ada", "cy", "di"])
    sheet.row_dimensions[3].hidden = True  # what a filter leaves out: bob's row
    sheet.row_dimensions[5].hidden = True  # an empty row, hidden
    sheet.column_dimensions["F"].hidden = True  # no header: not read
    book.save(path)
    with pytest.raises(DataError, match="cells that would not be read as the sheet shows them") as caught:
        read_table(path, config)
    [problem] = caught.value.problems
    assert (problem.file_row, problem.column, problem.value) == (3, "experiment_id", "E2")
    assert "row 3 is hidden (by a filter, or hidden by hand)" in problem.problem

    sheet.row_dimensions[3].hidden = False
    sheet.column_dimensions.group("D", "D", hidden=True)
    book.save(path)
    with pytest.raises(DataError) as caught:
        read_table(path, config)
    [problem] = caught.value.problems
    assert (problem.file_row, problem.column) == (1, "first_cycle_ce_pct")
    assert "column D is hidden" in problem.problem

    sheet.column_dimensions.group("D", "D", hidden=False)
    book.save(path)
    assert read_table(path, config)["experiment_id"].tolist() == ["E1", "E2", "E3", "E4"]


def test_a_workbooks_hidden_sheets_are_not_counted_by_position(config: CampaignConfig, tmp_path: Path) -> None:
    """The first sheet was read even when hidden: rows the engineer cannot see."""
    path = _workbook(tmp_path, [["OLD1", "s1", "ada", 80.0, 70]])
    book = openpyxl.load_workbook(path)
    book.active.sheet_state = "hidden"
    current = book.create_sheet("results")
    for row in [SHEET_HEADER, ["E1", "s1", "ada", 85.5, 90]]:
        current.append(row)
    book.active = 1
    book.save(path)
    assert read_table(path, config)["experiment_id"].tolist() == ["E1"]
    assert read_table(path, config, sheet="Sheet")["experiment_id"].tolist() == ["OLD1"]  # by name, if asked
    with pytest.raises(DataError, match=r"1 visible sheet\(s\) \['results'\] \(hidden: \['Sheet'\]\); sheet 1 does not"):
        read_table(path, config, sheet=1)


def test_a_workbook_whose_first_sheet_has_no_rows_says_which_sheet_was_read(config: CampaignConfig,
                                                                            tmp_path: Path) -> None:
    """A notes sheet before the results: 'the file has a header row but no data rows' said
    neither which sheet was read nor that the workbook has others (found by a probe)."""
    book = openpyxl.Workbook()
    book.active.title = "notes"
    book.active.append(["batch B0003, furnace run of 3 Dec"])
    results = book.create_sheet("results")
    for row in [SHEET_HEADER, ["E1", "s1", "ada", 85.5, 90]]:
        results.append(row)
    book.save(tmp_path / "two.xlsx")
    with pytest.raises(DataError, match=r"sheet 'notes' of the workbook's sheets \['notes', 'results'\] has a header "
                                        r"row but no data rows; doe reads the first sheet unless told another: name the "
                                        r"results sheet \(the upload form's 'Sheet', doe record --sheet NAME\)"):
        read_table(tmp_path / "two.xlsx", config)
    assert read_table(tmp_path / "two.xlsx", config, sheet="results")["experiment_id"].tolist() == ["E1"]
    del book["results"]
    book.save(tmp_path / "one.xlsx")
    with pytest.raises(DataError, match=r"^the file has a header row but no data rows$"):
        read_table(tmp_path / "one.xlsx", config)


def test_xlsx_round_trip_with_units(config: CampaignConfig, tmp_path) -> None:
    table = pd.DataFrame({
        "experiment_id": ["E0001", "E0002"],
        "anneal_temperature_c": [400.0, 525.5],
        "anneal_atmosphere": ["O2", "Ar"],
        "first_cycle_ce_pct": [90.1, math.nan],
        "proposed_at": pd.to_datetime(["2026-01-01T10:00:00Z", "2026-01-02T10:00:00Z"], utc=True),
    })
    units = {"anneal_temperature_c": "C", "first_cycle_ce_pct": "%"}
    path = tmp_path / "results.xlsx"
    write_table(table, path, units=units)
    sheet = openpyxl.load_workbook(path).active
    assert [c.value for c in sheet[1]][:4] == ["experiment_id", "anneal_temperature_c [C]", "anneal_atmosphere",
                                               "first_cycle_ce_pct [%]"]
    back = read_table(path, config, column_mapping={"proposed_at": "note"})
    assert back["experiment_id"].tolist() == ["E0001", "E0002"]
    assert back["anneal_temperature_c"].tolist() == [400.0, 525.5]
    assert back["anneal_atmosphere"].tolist() == ["O2", "Ar"]
    assert back.loc[0, "first_cycle_ce_pct"] == 90.1 and math.isnan(back.loc[1, "first_cycle_ce_pct"])
    # the same through bytes, and a second sheet chosen by name
    data = table_bytes(table, "xlsx", units=units)
    assert read_table(data, config, sheet="experiments", column_mapping={"proposed_at": "note"}).equals(back)
    with pytest.raises(DataError, match="no sheet 'Results'"):
        read_table(data, config, sheet="Results")


def test_csv_round_trip(config: CampaignConfig, tmp_path) -> None:
    table = pd.DataFrame({"experiment_id": ["E0001"], "anneal_time_h": [2.0], "note": ["ok, fine"]})
    for name in ("t\ud800.csv", "t\ud800.xlsx"):  # no file system can hold this name
        with pytest.raises(DataError, match=r"the file name '.*t\\ud800\.\w+' holds a character that is not Unicode"):
            write_table(table, tmp_path / name)
    assert list(tmp_path.iterdir()) == []
    path = tmp_path / "t.csv"
    write_table(table, path, units={"anneal_time_h": "h"})
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    back = read_table(path, config)
    assert back.to_dict("list") == {"experiment_id": ["E0001"], "anneal_time_h": [2.0], "note": ["ok, fine"]}


HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
           "\t=1+1", "\r=1+1"]


def hostile_table() -> pd.DataFrame:
    n = len(HOSTILE)
    return pd.DataFrame({"experiment_id": [f"E{i}" for i in range(n)], "note": HOSTILE,
                         "value": [-5.0] + [1.0] * (n - 1), "=danger": ["fine"] * n})


def test_formula_injection_neutralised_in_csv(tmp_path) -> None:
    text = table_bytes(hostile_table(), "csv").decode("utf-8-sig")
    rows = list(pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False).itertuples(index=False))
    assert [r.note for r in rows] == ["'" + h for h in HOSTILE]
    assert rows[0].value == "-5.0"  # a number, written as a number
    assert text.splitlines()[0].split(",")[-1] == "'=danger"


def test_formula_injection_neutralised_in_xlsx(tmp_path) -> None:
    path = tmp_path / "hostile.xlsx"
    write_table(hostile_table(), path)
    sheet = openpyxl.load_workbook(path).active
    notes = [sheet.cell(row=r, column=2) for r in range(2, len(HOSTILE) + 2)]
    # XML stores a carriage return as a line feed; what matters is the leading apostrophe
    assert [c.value for c in notes] == ["'" + h.replace("\r", "\n") for h in HOSTILE]
    assert all(c.data_type == "s" for c in notes)  # text, not formulas
    value = sheet.cell(row=2, column=3)
    assert value.value == -5.0 and value.data_type == "n"
    assert sheet.cell(row=1, column=4).value == "'=danger"


def test_campaign_json_helpers() -> None:
    data = {"format": "doe-campaign", "format_version": 1, "name": "ü", "experiments": [{"v": 0.1 + 0.2}]}
    text = campaign_to_json(data)
    assert campaign_from_json(text) == data
    assert campaign_from_json(text.encode("utf-8")) == data
    with pytest.raises(DataError, match="not valid JSON"):
        campaign_from_json("{nope")
    with pytest.raises(DataError, match="not a doe campaign export"):
        campaign_from_json(json.dumps({"a": 1}))
    with pytest.raises(DataError, match="larger than"):
        campaign_from_json(text, max_bytes=10)
    with pytest.raises(DataError, match="cannot be written as JSON"):
        campaign_to_json({"format": "doe-campaign", "x": math.nan})
    # a key given twice (json keeps the last, silently), a number of over 4300 digits and nesting
    # past Python's recursion limit are each a DataError, not a silent pick or a traceback
    with pytest.raises(DataError, match=r"'value' is given twice in one entry \(experiment_id 'E1'\), with 1 and 2"):
        campaign_from_json('{"format": "doe-campaign", "m": [{"experiment_id": "E1", "value": 1, "value": 2}]}')
    with pytest.raises(DataError, match="not valid JSON"):
        campaign_from_json('{"format": "doe-campaign", "n": ' + "1" * 5000 + "}")
    with pytest.raises(DataError, match="not valid JSON"):
        campaign_from_json("[" * 100_000 + "]" * 100_000)


def test_a_date_excel_made_of_a_note_is_read_as_the_date_written(config: CampaignConfig, tmp_path: Path) -> None:
    """A note typed '2026-12-03' (a date cell to Excel) was stored as '2026-12-03 00:00:00'."""
    rows = [["experiment_id", "first_cycle_ce_pct", "note", "failure_reason", "measured_at"],
            ["E1", 88.5, datetime.datetime(2026, 12, 3), None, datetime.datetime(2026, 12, 3, 14, 30)],
            ["E2", 89.0, datetime.datetime(2026, 12, 3, 9, 5, 7), None, datetime.date(2026, 12, 4)],
            ["E3", None, "cracked", datetime.datetime(2026, 12, 5), None]]
    frame = read_table(_sheet_file(tmp_path, "xlsx", rows), config)
    assert frame["note"].tolist()[:2] == ["2026-12-03", "2026-12-03 09:05:07"]
    assert frame["failure_reason"].tolist()[2] == "2026-12-05"
    clean = validate_experiments(frame, config, parameters="optional")
    assert [str(v)[:16] for v in clean["measured_at"].tolist()[:2]] == ["2026-12-03 14:30", "2026-12-04 00:00"]


def test_excels_unicode_text_a_workbook_and_a_json_array_under_a_csv_name(config: CampaignConfig, tmp_path: Path) -> None:
    """Excel's 'Unicode Text' (UTF-16 with its byte order mark) was refused with advice to read
    it as cp1252, which gave column names full of NULs; a workbook or a JSON array renamed .csv
    got the same encoding advice, or was read as one odd column."""
    text = "experiment_id\tfirst_cycle_ce_pct\tnote\r\nE1\t85,5\tGlühen bei 400 °C\r\n"
    for encoding in ("utf-16", "utf-16-be"):
        data = text.encode(encoding) if encoding == "utf-16" else b"\xfe\xff" + text.encode(encoding)
        assert read_table(data, config).to_dict("records") == [
            {"experiment_id": "E1", "first_cycle_ce_pct": 85.5, "note": "Glühen bei 400 °C"}]
    workbook = tmp_path / "results.csv"
    openpyxl.Workbook().save(workbook)
    with pytest.raises(DataError, match=r"an Excel workbook \(.xlsx\), not CSV text: give it the .xlsx suffix"):
        read_table(workbook, config)
    rows = tmp_path / "rows.csv"
    rows.write_text(json.dumps([{"experiment_id": "E1", "first_cycle_ce_pct": 85.5}]))
    with pytest.raises(DataError, match="holds JSON, not a table of results"):
        read_table(rows, config)


@pytest.mark.parametrize("line", ["sep=;", '"sep=;"', "sep=;;;"])
def test_excels_sep_line_names_the_delimiter_and_is_no_row(config: CampaignConfig, line: str) -> None:
    """A file starting 'sep=;' (Excel writes and reads it) was refused: 'unknown column sep=;'."""
    text = f"{line}\r\nexperiment_id;first_cycle_ce_pct;note\r\nE1;85,5;a, b\r\nE2;86;ok\r\n"
    frame = read_table(csv_bytes(text), config)
    assert frame.to_dict("list") == {"experiment_id": ["E1", "E2"], "first_cycle_ce_pct": [85.5, 86.0],
                                     "note": ["a, b", "ok"]}
    assert frame.attrs["file_rows"] == [2, 3]  # as Excel numbers them: the sep line is no row


def test_a_column_mapping_to_no_campaign_column_is_refused_naming_it(config: CampaignConfig) -> None:
    """--map 'CE (%)=bogus' said "column 'bogus' takes no unit"."""
    text = "experiment_id,CE (%)\nE1,85\n"
    with pytest.raises(DataError, match=r"column_mapping: 'CE \(%\)' -> 'bogus' names no column of the campaign; "
                                        r"the columns are experiment_id, replicate"):
        read_table(csv_bytes(text), config, column_mapping={"CE (%)": "bogus"})
    assert read_table(csv_bytes(text), config, column_mapping={"CE (%)": "first_cycle_ce_pct"}).to_dict("list") == {
        "experiment_id": ["E1"], "first_cycle_ce_pct": [85.0]}


def test_a_workbooks_text_cell_with_a_decimal_comma_reads_as_the_grid_reads_it(config: CampaignConfig,
                                                                              tmp_path: Path) -> None:
    """A text cell '87,3' in an Excel file (typed where Excel takes a comma for text) was refused
    while the app's grid read it; '1,250' (1250 or 1.25?) still is not read as a number."""
    path = _sheet_file(tmp_path, "xlsx", [["experiment_id", "first_cycle_ce_pct", "interfacial_resistance_ohm"],
                                          ["E1", "87,3", 980], ["E2", 86.5, "1,250"], ["E3", "0,830", "12,5"]])
    frame = read_table(path, config)
    assert frame["first_cycle_ce_pct"].tolist() == [87.3, 86.5, 0.83]
    assert frame["interfacial_resistance_ohm"].tolist() == [980.0, "1,250", 12.5]  # text: validation names it
    with pytest.raises(DataError, match="interfacial_resistance_ohm"):
        validate_experiments(frame, config, parameters="optional")


def test_a_percent_sign_after_a_number_in_a_percent_column_is_the_unit_said_again(config: CampaignConfig) -> None:
    """Excel writes a percent-formatted cell to CSV as '87.3%' (German: '87,3 %'): it was refused."""
    frame = read_table(csv_bytes("experiment_id,first_cycle_ce_pct,capacity_retention_pct\nE1,87.3%,70 %\n"), config)
    assert frame.to_dict("list") == {"experiment_id": ["E1"], "first_cycle_ce_pct": [87.3],
                                     "capacity_retention_pct": [70.0]}
    german = read_table(csv_bytes("experiment_id;first_cycle_ce_pct\nE1;87,3\u00a0%\nE2;88,1 %\n"), config)
    assert german["first_cycle_ce_pct"].tolist() == [87.3, 88.1]
    # not in a column of another unit (wt%), nor under a header that says fraction: left as text, refused
    other = read_table(csv_bytes("experiment_id,hfo2_loading_wt_pct,first_cycle_ce_pct [fraction]\nE1,0.83 %,87%\n"),
                       config)
    assert other["hfo2_loading_wt_pct"].tolist() == ["0.83 %"]
    with pytest.raises(DataError):
        validate_experiments(other, config, parameters="optional")


@pytest.mark.parametrize("text", ["NaN", "nan", "NA", "n/a", "N/A"])
def test_the_text_data_tools_write_for_no_value_is_an_empty_cell_in_a_number_column(config: CampaignConfig,
                                                                                   text: str) -> None:
    """'NaN' in a results file was read as an empty cell (not measured) but R's 'NA' was refused:
    both are read as empty in a number column; in a note they are the note's text."""
    frame = read_table(csv_bytes(f"experiment_id,first_cycle_ce_pct,capacity_retention_pct,note\n"
                                 f"E1,{text},70,{text}\nE2,,71,\n"), config)
    checked = validate_experiments(frame, config, parameters="optional")
    assert math.isnan(checked.loc[0, "first_cycle_ce_pct"]) and checked.loc[0, "capacity_retention_pct"] == 70.0
    assert frame.loc[0, "note"] == text
    # a spreadsheet's error value is no 'no value': it is refused, naming the cell
    with pytest.raises(DataError) as raised:
        validate_experiments(read_table(csv_bytes("experiment_id,first_cycle_ce_pct\nE1,#N/A\n"), config),
                             config, parameters="optional")
    assert [(p.row, p.column, p.value) for p in raised.value.problems] == [(0, "first_cycle_ce_pct", "#N/A")]


def test_csv_decimals_are_written_at_exactly_their_places_rounded_as_doe_shows_them() -> None:
    """``round(4.0, 2)`` wrote 4.0 on a 0.25 grid (the xlsx and the app show 4.00), and a tie went
    to even in the CSV (87.625 as 87.62) but away from zero in the app and report (87.63)."""
    from doe.domain.display import format_number

    values = [4.0, 87.625, 0.125, 2.675, -1.5, -0.001, 1e-12]
    out = io.BytesIO()
    write_table(pd.DataFrame({"anneal_time_h": values, "note": ["-x"] * len(values)}), out, file_format="csv",
                decimals={"anneal_time_h": 2}, units={"anneal_time_h": "h"})
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert rows[0] == ["anneal_time_h [h]", "note"]
    written = [r[0] for r in rows[1:]]
    assert written == ["4.00", "87.63", "0.13", "2.67", "-1.50", "0.00", "0.00"]
    assert written == [format_number(v, 2).replace("-0.00", "0.00") for v in values]  # one rounding
    assert {r[1] for r in rows[1:]} == {"'-x"}  # text still neutralised
    out = io.BytesIO()
    write_table(pd.DataFrame({"t": [400.0, math.nan, math.inf], "n": [2.5, None, "=1"]}), out, file_format="csv",
                decimals={"t": 0, "n": 1})
    assert out.getvalue().decode("utf-8-sig").splitlines()[1:] == ["400,2.5", ",", "inf,'=1"]


def test_a_csv_run_sheet_at_its_decimals_records_back_unchanged(tmp_path: Path) -> None:
    """The Plan page's and doe suggest's CSV run sheet, written at each parameter's decimals (4.00
    on a 0.25 grid, 1.20 on a 0.01 grid), filled in and recorded: the recipes match the stored ones
    (a changed recipe would be refused) and the results are stored."""
    from doe import Campaign
    from doe.domain.display import column_decimals
    from doe.domain.exports import run_sheet

    raw = resolve_config("hfo2-ncm85").to_dict() | {"name": "sheet-decimals"}
    grids = {"anneal_time_h": 0.25, "anneal_temperature_c": 5.0, "hfo2_loading_wt_pct": 0.01}
    for p in raw["parameters"]:
        if p["name"] in grids:
            p["resolution"] = grids[p["name"]]
    campaign = Campaign.from_config(raw, storage=f"sqlite:///{tmp_path / 'lab.sqlite3'}", actor="test")
    proposed = campaign.suggest(2, fixed={"anneal_time_h": 4.0, "hfo2_loading_wt_pct": 1.2})
    campaign.accept()
    config = campaign.config
    sheet = run_sheet(proposed, config)
    decimals = column_decimals(sheet, config)
    assert decimals["anneal_time_h"] == 2 and decimals["hfo2_loading_wt_pct"] == 2
    text = table_bytes(sheet, "csv", units=config.units, decimals=decimals).decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    rows = list(csv.DictReader(io.StringIO(text)))
    time_column = next(h for h in header if h.startswith("anneal_time_h"))
    loading_column = next(h for h in header if h.startswith("hfo2_loading_wt_pct"))
    assert [r[time_column] for r in rows] == ["4.00", "4.00"]
    assert [r[loading_column] for r in rows] == ["1.20", "1.20"]
    filled = read_table(text.encode("utf-8"), config, file_format="csv")
    filled["first_cycle_ce_pct"] = [88.5, 90.25]
    report = campaign.record(filled)
    assert not report.rejected and report.measurements_added == 2
    history = campaign.history().set_index("experiment_id")
    recipes = proposed.set_index("experiment_id")[config.parameter_names]
    assert history.loc[recipes.index, config.parameter_names].to_dict("index") == recipes.to_dict("index")  # unchanged
    assert history.loc[recipes.index, "first_cycle_ce_pct"].tolist() == [88.5, 90.25]
