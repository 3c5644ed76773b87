"""Cycling files of every supported text format round-trip to the capacities they were written
from; bad files get a clear error naming the file."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from doe.instruments import (
    FORMATS,
    InstrumentFileError,
    cycling_outcomes,
    detect_format,
    impedance_outcomes,
    read_cycling,
    read_cycling_points,
    results_from_files,
    retention_curve,
)
from doe.instruments.synthetic import (
    POINTS_PER_HALF_CYCLE,
    SPECTRUM_PARAMETERS,
    fade_curve,
    write_cycling_file,
    write_sample_set,
)

REPO = Path(__file__).resolve().parents[2]
MASS_MG = 12.0


# only EC-Lab writes a decimal comma (French or German Windows)
@pytest.mark.parametrize(("file_format", "decimal_comma"), [*((f, False) for f in FORMATS), ("biologic_mpt", True)])
def test_each_format_round_trips_to_the_true_capacities(tmp_path: Path, file_format: str, decimal_comma: bool) -> None:
    charge, discharge = fade_curve(25, first_charge_mah_per_g=221.0, first_ce_pct=87.0)
    mass_g = MASS_MG / 1000
    path = write_cycling_file(tmp_path / f"cell.{file_format}", file_format,  # type: ignore[arg-type]
                              charge * mass_g, discharge * mass_g, decimal_comma=decimal_comma)
    assert detect_format(path) == file_format
    table = read_cycling(path, active_mass_mg=MASS_MG)
    assert table["cycle"].tolist() == list(range(1, 26))
    np.testing.assert_allclose(table["charge_capacity_mah_per_g"], charge, rtol=1e-6)
    np.testing.assert_allclose(table["discharge_capacity_mah_per_g"], discharge, rtol=1e-6)
    outcomes = cycling_outcomes(path, active_mass_mg=MASS_MG)
    assert outcomes["first_cycle_ce_pct"] == pytest.approx(87.0, rel=1e-6)
    assert outcomes["first_cycle_discharge_capacity_mah_per_g"] == pytest.approx(221.0 * 0.87, rel=1e-6)
    assert outcomes["first_cycle_charge_capacity_mah_per_g"] == pytest.approx(221.0, rel=1e-6)
    assert outcomes["last_cycle"] == 25
    assert outcomes["retention_at_last_cycle_pct"] == pytest.approx(100 * discharge[-1] / discharge[0], rel=1e-6)
    assert np.isnan(outcomes["capacity_retention_pct"])  # 25 cycles say nothing of cycle 200


def test_the_committed_sample_set_is_what_the_generator_writes(tmp_path: Path) -> None:
    written = write_sample_set(tmp_path)
    for path in written:
        committed = REPO / "datasets" / "instruments" / path.name
        assert committed.read_bytes() == path.read_bytes(), f"regenerate {committed}"
        if path.name in {"biologic_peis.mpt", "gamry_eis.DTA", "spectrum.csv"}:
            resistance = impedance_outcomes(committed)["interfacial_resistance_ohm"]
            assert resistance == pytest.approx(SPECTRUM_PARAMETERS["R2"], rel=0.05)
            continue
        outcomes = cycling_outcomes(committed, active_mass_mg=MASS_MG)
        assert outcomes["first_cycle_ce_pct"] == pytest.approx(90.0, rel=1e-6)
        assert outcomes["first_cycle_discharge_capacity_mah_per_g"] == pytest.approx(203.04, rel=1e-6)


def test_retention_is_relative_to_the_reference_cycle(tmp_path: Path) -> None:
    charge, discharge = fade_curve(200)
    path = write_cycling_file(tmp_path / "long.csv", "neware_csv", charge / 100, discharge / 100)
    assert cycling_outcomes(path, active_mass_mg=10.0)["capacity_retention_pct"] == pytest.approx(70.0, rel=1e-6)
    later = cycling_outcomes(path, active_mass_mg=10.0, reference_cycle=2)["capacity_retention_pct"]
    assert later == pytest.approx(100 * discharge[-1] / discharge[1], rel=1e-6)
    at_100 = cycling_outcomes(path, active_mass_mg=10.0, retention_cycle=100)["capacity_retention_pct"]
    assert at_100 == pytest.approx(100 * discharge[99] / discharge[0], rel=1e-6)
    with pytest.raises(InstrumentFileError, match=r"long\.csv: reference_cycle 500"):
        cycling_outcomes(path, active_mass_mg=10.0, reference_cycle=500)


def _cycle_sheet(path: Path, cycles: list[int], discharge_mah: list[float]) -> Path:
    """A Neware cycle sheet with a row at each of ``cycles`` only (charge 1.001 x discharge)."""
    rows = ["Cycle Index,Chg. Cap.(mAh),DChg. Cap.(mAh)"]
    rows += [f"{n},{d * 1.001:.6f},{d:.6f}" for n, d in zip(cycles, discharge_mah, strict=True)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_file_logged_past_the_retention_cycle_without_a_row_there_gives_the_interpolation(tmp_path: Path) -> None:
    """A cycle sheet logged every 7th cycle up to 210 (rows at 196 and 203, none at 200) gave
    capacity_retention_pct NaN, so a campaign with a plain retention outcome recorded nothing
    from it, while the same file recorded as a curve outcome got 90.05 by interpolation."""
    cycles = [1, *range(7, 211, 7)]
    path = _cycle_sheet(tmp_path / "sparse.csv", cycles, [2.0 - 0.001 * (n - 1) for n in cycles])
    # by hand: 100 x 1.805 / 2 = 90.25 at 196, 100 x 1.798 / 2 = 89.9 at 203; 4/7 of the way
    outcomes = cycling_outcomes(path, active_mass_mg=10.0)
    assert outcomes["capacity_retention_pct"] == pytest.approx(90.25 + (89.9 - 90.25) * 4 / 7, abs=1e-9)
    assert outcomes["capacity_retention_pct"] == pytest.approx(90.05, abs=1e-9)
    preview = results_from_files(path, experiment_id="E1", active_mass_mg=10.0,
                                 outcome_names=["capacity_retention_pct"])
    assert "capacity_retention_pct" not in preview.skipped
    assert preview.table["capacity_retention_pct"].tolist() == pytest.approx([90.05], abs=1e-9)
    # the same rows up to 196 stop before cycle 200: no retention there
    short = _cycle_sheet(tmp_path / "short.csv", cycles[:-2], [2.0 - 0.001 * (n - 1) for n in cycles[:-2]])
    assert np.isnan(cycling_outcomes(short, active_mass_mg=10.0)["capacity_retention_pct"])


def test_a_long_gap_around_the_retention_cycle_is_bridged_as_a_curve_outcome_bridges_it(tmp_path: Path) -> None:
    """Rows at cycles 1-20 and 250-260 (further apart than a tenth of 200): the plain outcome is
    the value the curve outcome of the same file gets (its fade law through the rows on both
    sides), near the true 70 %, not the straight line from cycle 20 to 250 (63.3 %)."""
    from doe.campaign import Campaign

    cycles = [*range(1, 21), *range(250, 261)]
    truth = [2.0 * (1 - 0.3 * (n / 200) ** 2) for n in cycles]  # 70 % of cycle 1's 2 mAh at 200 (to 1e-5)
    path = _cycle_sheet(tmp_path / "gap.csv", cycles, truth)
    value = cycling_outcomes(path, active_mass_mg=10.0)["capacity_retention_pct"]
    line = 100 * (truth[19] + (truth[20] - truth[19]) * 180 / 230) / truth[0]
    assert abs(line - 70.0) > 6 and abs(value - 70.0) < 1
    config = {"name": "gap", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
              "objectives": [{"name": "capacity_retention_pct", "goal": "maximize", "over": "cycle", "at": 200}],
              "seed": 1}
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'lab.sqlite3'}", actor="test")
    campaign.record(pd.DataFrame({"experiment_id": ["E1"], "x": [0.5]}))
    campaign.record_files(path, experiment_id="E1", active_mass_mg=10.0, confirm=True)
    row = campaign.history().set_index("experiment_id").loc["E1"]
    assert row["capacity_retention_pct_pred_sd"] == 0
    assert row["capacity_retention_pct"] == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    (b"time,voltage\n1,3.7\n", "not a cycling export doe reads"),
    (b"\x00\x01binary", "a binary file"),
    (b"Cycle Index,Chg. Cap.(mAh),DChg. Cap.(mAh)\n1,2.5,2.2\n2,2.4,", r"line 3, column 'DChg\. Cap\.\(mAh\)' is empty"),
    (b"Cycle Index,Chg. Cap.(mAh),DChg. Cap.(mAh)\n1,0,0\n", "no cycle with a charge or discharge capacity"),
    (b"EC-Lab ASCII FILE\r\nNb header lines : 40\r\n\r\n", "no data after the 40-line header"),
])
def test_bad_files_are_refused_with_the_file_named(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad_cell.csv"
    path.write_bytes(content)
    with pytest.raises(InstrumentFileError, match=rf"bad_cell\.csv: .*{message}"):
        read_cycling(path, active_mass_mg=MASS_MG)


@pytest.mark.parametrize("mass", [0, -1.0, float("nan"), True, "12"])
def test_a_mass_that_is_not_positive_is_refused(tmp_path: Path, mass: object) -> None:
    charge, discharge = fade_curve(3)
    path = write_cycling_file(tmp_path / "cell.csv", "neware_csv", charge, discharge)
    with pytest.raises(InstrumentFileError, match=r"cell\.csv: active_mass_mg must be a positive number"):
        read_cycling(path, active_mass_mg=mass)  # type: ignore[arg-type]


# the line of column names in each generated export, and its delimiter
COLUMN_HEADER_LINE = {"biologic_mpt": 10, "neware_csv": 0, "arbin_csv": 0, "maccor_txt": 1}
DELIMITER = {"biologic_mpt": "\t", "neware_csv": ",", "arbin_csv": ",", "maccor_txt": "\t"}


def _written(tmp_path: Path, file_format: str, n_cycles: int, name: str = "cell") -> tuple[Path, list[str]]:
    """A generated export of ``fade_curve(n_cycles)`` and its lines."""
    charge, discharge = fade_curve(n_cycles, first_charge_mah_per_g=221.0, first_ce_pct=87.0)
    path = write_cycling_file(tmp_path / f"{name}.{file_format}", file_format,  # type: ignore[arg-type]
                              charge * MASS_MG / 1000, discharge * MASS_MG / 1000)
    return path, path.read_text(encoding="cp1252").splitlines()


def test_a_trailing_comma_on_the_data_rows_shifts_no_column(tmp_path: Path) -> None:
    path = tmp_path / "cycles.csv"
    path.write_text("Cycle Index,Chg. Cap.(mAh),DChg. Cap.(mAh),Chg.-DChg. Eff(%)\n"
                    "1,250.000,225.000,90.000,\n2,240.000,220.000,91.667,\n")
    outcomes = cycling_outcomes(path, active_mass_mg=1000.0)
    assert outcomes["first_cycle_charge_capacity_mah_per_g"] == 250.0
    assert outcomes["first_cycle_discharge_capacity_mah_per_g"] == 225.0
    assert outcomes["first_cycle_ce_pct"] == pytest.approx(90.0, rel=1e-12)
    assert outcomes["retention_at_last_cycle_pct"] == pytest.approx(100 * 220 / 225, rel=1e-12)


@pytest.mark.parametrize("file_format", FORMATS)
def test_each_format_reads_data_rows_that_end_with_a_delimiter(tmp_path: Path, file_format: str) -> None:
    path, lines = _written(tmp_path, file_format, 5)
    head = COLUMN_HEADER_LINE[file_format]
    path.write_text("\n".join([*lines[:head + 1], *(line + DELIMITER[file_format] for line in lines[head + 1:])]),
                    encoding="cp1252")
    table = read_cycling(path, active_mass_mg=MASS_MG)
    charge, discharge = fade_curve(5, first_charge_mah_per_g=221.0, first_ce_pct=87.0)
    assert table["cycle"].tolist() == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(table["charge_capacity_mah_per_g"], charge, rtol=1e-6)
    np.testing.assert_allclose(table["discharge_capacity_mah_per_g"], discharge, rtol=1e-6)


@pytest.mark.parametrize("file_format", FORMATS)
def test_a_test_exported_mid_cycle_has_no_retention_at_its_unfinished_cycle(tmp_path: Path, file_format: str) -> None:
    # an interim export of a running test: cycle 4 is charged, its discharge not begun
    path, lines = _written(tmp_path, file_format, 4)
    if file_format == "neware_csv":  # the cycle sheet: one row per cycle, the running one without a discharge
        cycle, charge_mah, _, _ = lines[-1].split(",")
        unfinished = [*lines[:-1], f"{cycle},{charge_mah},0,0"]
    else:
        unfinished = lines[:-POINTS_PER_HALF_CYCLE]
    path.write_text("\n".join(unfinished) + "\n", encoding="cp1252")
    _, discharge = fade_curve(4, first_charge_mah_per_g=221.0, first_ce_pct=87.0)
    table = read_cycling(path, active_mass_mg=MASS_MG)
    assert table["cycle"].tolist() == [1, 2, 3, 4]
    curve = retention_curve(table)
    assert curve.index.tolist() == [1, 2, 3]
    np.testing.assert_allclose(curve, 100 * discharge[:3] / discharge[0], rtol=1e-6)
    assert np.isnan(cycling_outcomes(path, active_mass_mg=MASS_MG, retention_cycle=4)["capacity_retention_pct"])
    outcomes = cycling_outcomes(path, active_mass_mg=MASS_MG, retention_cycle=3)
    assert outcomes["capacity_retention_pct"] == pytest.approx(100 * discharge[2] / discharge[0], rel=1e-6)
    assert outcomes["last_cycle"] == 3
    assert outcomes["retention_at_last_cycle_pct"] == pytest.approx(100 * discharge[2] / discharge[0], rel=1e-6)
    preview = results_from_files([path], experiment_id="E1", active_mass_mg=MASS_MG,
                                 outcome_names=["capacity_retention_pct"],
                                 curve_outcomes={"capacity_retention_pct": 200})
    points = preview.table.dropna(subset=["cycle"])
    assert points["cycle"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(points["capacity_retention_pct"], 100 * discharge[:3] / discharge[0], rtol=1e-6)
    # a cell that died before its first discharge has no reference: still refused
    dead = unfinished[:COLUMN_HEADER_LINE[file_format] + 1 + POINTS_PER_HALF_CYCLE]  # up to cycle 1's charge
    if file_format == "neware_csv":
        dead = [lines[0], "1,2.7,0,0"]
    path.write_text("\n".join(dead) + "\n", encoding="cp1252")
    with pytest.raises(InstrumentFileError, match=rf"cell\.{file_format}: reference_cycle 1 has no discharge capacity"):
        cycling_outcomes(path, active_mass_mg=MASS_MG)


@pytest.mark.parametrize("file_format", FORMATS)
def test_a_cycle_number_that_goes_back_is_refused_at_its_row(tmp_path: Path, file_format: str) -> None:
    # two exports in one file (or a resumed test that restarted its count): cycles 1, 2 then 1, 2, 3
    path, first = _written(tmp_path, file_format, 2)
    _, second = _written(tmp_path, file_format, 3, name="resumed")
    head = COLUMN_HEADER_LINE[file_format]
    path.write_text("\n".join([*first, *second[head + 1:]]) + "\n", encoding="cp1252")
    last, restart = (1, 0) if file_format in ("biologic_mpt", "maccor_txt") else (2, 1)  # counted from 0 or 1
    message = (rf"cell\.{file_format}: the cycle number goes back from {last} to {restart} in data row "
               rf"{len(first) - head}")
    with pytest.raises(InstrumentFileError, match=message):
        read_cycling(path, active_mass_mg=MASS_MG)
    if file_format != "neware_csv":  # the cycle sheet has no voltage curve
        with pytest.raises(InstrumentFileError, match=message):
            read_cycling_points(path, active_mass_mg=MASS_MG)


@pytest.mark.parametrize("file_format", FORMATS)
def test_a_row_with_more_fields_than_the_header_is_refused_naming_its_line(tmp_path: Path,
                                                                           file_format: str) -> None:
    path, lines = _written(tmp_path, file_format, 3)
    sep, head = DELIMITER[file_format], COLUMN_HEADER_LINE[file_format]
    n_columns = len(lines[head].split(sep))
    # a footer with two fields more than the header, as a hand-edited file or a damaged export has
    path.write_text("\n".join([*lines, sep.join(["1"] * (n_columns + 2))]) + "\n", encoding="cp1252")
    with pytest.raises(InstrumentFileError,
                       match=rf"cell\.{file_format}: line {len(lines) + 1} has more fields than the column header"):
        read_cycling(path, active_mass_mg=MASS_MG)
    # one value past the header on a row: not an empty trailing field, so not dropped
    path.write_text("\n".join([*lines[:head + 2], lines[head + 2] + sep + "7", *lines[head + 3:]]) + "\n",
                    encoding="cp1252")
    with pytest.raises(InstrumentFileError, match=rf"cell\.{file_format}: data row 2 has a value after the last column"):
        read_cycling(path, active_mass_mg=MASS_MG)


@pytest.mark.parametrize("bom_encoding", ["utf-16", "utf-16-be"])
def test_a_utf16_export_with_its_byte_order_mark_is_read(tmp_path: Path, bom_encoding: str) -> None:
    path, lines = _written(tmp_path, "biologic_mpt", 3)
    expected = read_cycling(path, active_mass_mg=MASS_MG)
    text = "\r\n".join(lines) + "\r\n"
    # Python's utf-16 writes a BOM (little-endian here); utf-16-be does not, so add it
    path.write_bytes(text.encode("utf-16") if bom_encoding == "utf-16" else b"\xfe\xff" + text.encode("utf-16-be"))
    assert detect_format(path) == "biologic_mpt"
    pd.testing.assert_frame_equal(read_cycling(path, active_mass_mg=MASS_MG), expected)


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252"])  # Excel's "Unicode text" and "Text (tab delimited)"
@pytest.mark.parametrize(("file_format", "record_sheet"),
                         [("neware_csv", False), ("neware_csv", True), ("arbin_csv", False)])
def test_a_tab_separated_export_reads_like_its_comma_version(tmp_path: Path, file_format: str, record_sheet: bool,
                                                            encoding: str) -> None:
    charge, discharge = fade_curve(4, first_charge_mah_per_g=221.0, first_ce_pct=87.0)
    path = write_cycling_file(tmp_path / "cell.csv", file_format, charge * MASS_MG / 1000,  # type: ignore[arg-type]
                              discharge * MASS_MG / 1000, neware_record_sheet=record_sheet)
    expected = read_cycling(path, active_mass_mg=MASS_MG)
    expected_points = None if not record_sheet and file_format == "neware_csv" else read_cycling_points(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert all("\t" not in line for line in lines)  # no field of the generator's files holds a tab
    path.write_bytes(("\r\n".join(line.replace(",", "\t") for line in lines) + "\r\n").encode(encoding))
    assert detect_format(path) == file_format
    pd.testing.assert_frame_equal(read_cycling(path, active_mass_mg=MASS_MG), expected)
    if expected_points is not None:
        pd.testing.assert_frame_equal(read_cycling_points(path), expected_points)


@pytest.mark.parametrize("file_format", FORMATS)
def test_rows_of_empty_fields_are_skipped_and_a_row_with_an_empty_value_is_refused(tmp_path: Path,
                                                                                file_format: str) -> None:
    path, lines = _written(tmp_path, file_format, 3)
    expected = read_cycling(path, active_mass_mg=MASS_MG)
    sep, head = DELIMITER[file_format], COLUMN_HEADER_LINE[file_format]
    empty_row = sep * (len(lines[head].split(sep)) - 1)  # what Excel leaves below the data: ",,,,,"
    path.write_text("\n".join([*lines, empty_row, empty_row, " " + empty_row]) + "\n", encoding="cp1252")
    pd.testing.assert_frame_equal(read_cycling(path, active_mass_mg=MASS_MG), expected)
    # a data row with one field left empty: refused with its line and column, even among empty rows
    column = {"biologic_mpt": "Q discharge/mA.h", "neware_csv": "DChg. Cap.(mAh)",
              "arbin_csv": "Discharge_Capacity(Ah)", "maccor_txt": "Amp-hr"}[file_format]
    position = lines[head].split(sep).index(column)
    third = head + 3  # the third data row, line head + 4 of the file
    fields = lines[third].split(sep)
    fields[position] = ""
    path.write_text("\n".join([*lines[:head + 1], empty_row, *lines[head + 1:third], sep.join(fields),
                               *lines[third + 1:], empty_row]) + "\n", encoding="cp1252")
    with pytest.raises(InstrumentFileError,
                       match=rf"cell\.{file_format}: line {third + 2}, column '{re.escape(column)}' is empty"):
        read_cycling(path, active_mass_mg=MASS_MG)
    fields[position] = "n/a"
    path.write_text("\n".join([*lines[:third], sep.join(fields), *lines[third + 1:]]) + "\n", encoding="cp1252")
    with pytest.raises(InstrumentFileError,
                       match=rf"cell\.{file_format}: line {third + 1}, column '{re.escape(column)}': 'n/a' is not "
                             "a number"):
        read_cycling(path, active_mass_mg=MASS_MG)


@pytest.mark.parametrize(("file_format", "record_sheet"), [*((f, f == "neware_csv") for f in FORMATS)])
def test_a_test_exported_mid_discharge_has_no_retention_at_its_unfinished_cycle(tmp_path: Path, file_format: str,
                                                                                record_sheet: bool) -> None:
    # an interim export of a running test: cycle 4's discharge has passed 2 of its 4 points (3.73 V, not 2.8 V)
    charge, discharge = fade_curve(4, first_charge_mah_per_g=221.0, first_ce_pct=87.0)
    path = write_cycling_file(tmp_path / f"cell.{file_format}", file_format,  # type: ignore[arg-type]
                              charge * MASS_MG / 1000, discharge * MASS_MG / 1000, neware_record_sheet=record_sheet)
    lines = path.read_text(encoding="cp1252").splitlines()
    path.write_text("\n".join(lines[:-POINTS_PER_HALF_CYCLE // 2]) + "\n", encoding="cp1252")
    table = read_cycling(path, active_mass_mg=MASS_MG)
    assert table["cycle"].tolist() == [1, 2, 3, 4]
    curve = retention_curve(table)
    assert curve.index.tolist() == [1, 2, 3]
    np.testing.assert_allclose(curve, 100 * discharge[:3] / discharge[0], rtol=1e-6)
    # the partial capacity is reported as measured, and marked as not finished
    np.testing.assert_allclose(table["discharge_capacity_mah_per_g"], [*discharge[:3], discharge[3] / 2], rtol=1e-6)
    assert table["discharge_finished"].tolist() == [True, True, True, False]
    outcomes = cycling_outcomes(path, active_mass_mg=MASS_MG, retention_cycle=4)
    assert np.isnan(outcomes["capacity_retention_pct"])
    assert outcomes["last_cycle"] == 3
    assert outcomes["retention_at_last_cycle_pct"] == pytest.approx(100 * discharge[2] / discharge[0], rel=1e-6)
    preview = results_from_files([path], experiment_id="E1", active_mass_mg=MASS_MG,
                                 outcome_names=["capacity_retention_pct"],
                                 curve_outcomes={"capacity_retention_pct": 200})
    assert preview.table.dropna(subset=["cycle"])["cycle"].tolist() == [1, 2, 3]
    with pytest.raises(InstrumentFileError, match=rf"cell\.{file_format}: reference_cycle 4 has no finished discharge"):
        retention_curve(table, reference_cycle=4, name=path.name)
    # the same file with its last discharge finished: every cycle counts
    path.write_text("\n".join(lines) + "\n", encoding="cp1252")
    assert read_cycling(path)["discharge_finished"].all()
    assert cycling_outcomes(path, active_mass_mg=MASS_MG, retention_cycle=4)["capacity_retention_pct"] == \
        pytest.approx(100 * discharge[3] / discharge[0], rel=1e-6)


@pytest.mark.parametrize(("sample", "header", "message"), [
    ("neware_record.csv", 0, r"line 10, column 'DataPoint': record 1 follows record 8 \(line 9\)"),
    ("maccor_export.txt", 1, r"line 11, column 'Rec#': record 1 follows record 8 \(line 10\)")])
def test_rows_repeated_in_a_point_by_point_export_are_refused_not_summed(tmp_path: Path, sample: str, header: int,
                                                                         message: str) -> None:
    """Cycle 1's rows twice (an export appended to itself, a copy-paste) doubled its capacity where
    the counter restarts at every step: the cycle number never goes down (found by a probe)."""
    lines = (REPO / "datasets" / "instruments" / sample).read_text().splitlines()
    rows = lines[header + 1:header + 9]  # cycle 1: a CC and a CV charge step, a discharge step
    path = tmp_path / sample
    path.write_text("\n".join([*lines[:header + 9], *rows, *lines[header + 9:]]) + "\n")
    for read in (read_cycling, read_cycling_points):
        with pytest.raises(InstrumentFileError, match=rf"{sample}: {message}; rows repeated or out of order"):
            read(path)


def test_a_step_number_that_goes_back_within_a_cycle_is_refused_where_a_sheet_has_no_record_number(
        tmp_path: Path) -> None:
    lines = (REPO / "datasets" / "instruments" / "neware_record.csv").read_text().splitlines()
    path = tmp_path / "no_record_column.csv"
    path.write_text("\n".join(line.split(",", 1)[1] for line in [*lines[:9], *lines[1:9], *lines[9:]]) + "\n")
    for read in (read_cycling, read_cycling_points):
        with pytest.raises(InstrumentFileError, match=r"no_record_column.csv: line 10: the step number goes back "
                                                      r"from 3 to 1 within cycle 1; rows repeated"):
            read(path)


@pytest.mark.parametrize("written", ["inf", "Infinity", "-inf", "1e400"])
def test_an_infinite_or_overflowing_capacity_is_refused_with_its_line_and_column(tmp_path: Path, written: str) -> None:
    """pandas reads 'inf', 'Infinity' and 1e400 as infinity: a first charge of inf gave a CE of
    0 %, and was recorded (found by a probe)."""
    lines = (REPO / "datasets" / "instruments" / "neware_cycles.csv").read_text().splitlines()
    path = tmp_path / "cellC.csv"
    path.write_text("\n".join([lines[0], f"1,{written},2.43648,90", *lines[2:]]) + "\n")
    with pytest.raises(InstrumentFileError, match=r"cellC.csv: line 2, column 'Chg. Cap.\(mAh\)': '-?inf(inity)?' "
                                                  r"is infinite or too large to be a number"):
        cycling_outcomes(path, active_mass_mg=MASS_MG)


def test_a_capacity_that_overflows_in_mah_is_refused(tmp_path: Path) -> None:
    lines = (REPO / "datasets" / "instruments" / "arbin_channel.csv").read_text().splitlines()
    path = tmp_path / "arbin.csv"  # 1e306 Ah is a float, 1e309 mAh is not
    path.write_text("\n".join([lines[0], lines[1].replace("0.000676800000", "1e306"), *lines[2:]]) + "\n")
    with pytest.raises(InstrumentFileError, match=r"arbin.csv: cycle 1 has a capacity too large to be a number of mAh"):
        cycling_outcomes(path, active_mass_mg=MASS_MG)


@pytest.mark.parametrize(("row", "column"), [("1,-2.7072,2.43648,90", "Chg. Cap.(mAh)"),
                                             ("1,2.7072,-2.43648,90", "DChg. Cap.(mAh)")])
def test_a_negative_capacity_is_refused_naming_its_line_cycle_and_column(tmp_path: Path, row: str,
                                                                        column: str) -> None:
    """A negative first charge was taken for no charge: cycle 2 was recorded as the first cycle
    (a CE of 99.7 % for a file whose first cycle says 90 %); all-negative discharges were 'no
    discharge capacity' at the reference cycle, which did not point at the sign (found by a probe)."""
    lines = (REPO / "datasets" / "instruments" / "neware_cycles.csv").read_text().splitlines()
    path = tmp_path / "cellD.csv"
    path.write_text("\n".join([lines[0], row, *lines[2:]]) + "\n")
    with pytest.raises(InstrumentFileError, match=rf"cellD.csv: line 2 \(cycle 1\), column {re.escape(repr(column))}: "
                                                  r"-2.\d+ is negative; .* a sign convention"):
        cycling_outcomes(path, active_mass_mg=MASS_MG)
    maccor = (REPO / "datasets" / "instruments" / "maccor_export.txt").read_text().splitlines()
    path = tmp_path / "maccor.txt"  # the point-by-point readers too
    path.write_text("\n".join([*maccor[:2], maccor[2].replace("\t0.000676800000\t", "\t-0.000676800000\t"),
                               *maccor[3:]]) + "\n")
    for read in (read_cycling, read_cycling_points):
        with pytest.raises(InstrumentFileError, match=r"maccor.txt: line 3 \(cycle 0\), column 'Amp-hr': -0.0006768 "
                                                      r"is negative"):
            read(path)


def test_a_cycle_written_twice_in_a_neware_cycle_sheet_is_refused_naming_both_lines(tmp_path: Path) -> None:
    """The largest value of each column per cycle took the charge from one row and the discharge
    from the other: a CE of 84 % that neither row says (90 % and 69 %; found by a probe)."""
    lines = (REPO / "datasets" / "instruments" / "neware_cycles.csv").read_text().splitlines()
    path = tmp_path / "cellE.csv"
    path.write_text("\n".join([lines[0], lines[1], "1,2.9,2.0,69.0", *lines[2:]]) + "\n")
    with pytest.raises(InstrumentFileError, match=r"cellE.csv: cycle 1 is written twice \(lines 2 and 3\); the cycle "
                                                  r"sheet has one row per cycle"):
        cycling_outcomes(path, active_mass_mg=MASS_MG)


@pytest.mark.parametrize(("file_format", "written", "shown"), [
    ("neware_csv", "1.5", "1.5"), ("neware_csv", "99999999999999999999", "1e+20"), ("neware_csv", "-1", "-1"),
    ("biologic_mpt", "1.5", "1.5")])
def test_a_cycle_number_that_is_not_a_whole_number_is_refused_naming_its_column(tmp_path: Path, file_format: str,
                                                                                written: str, shown: str) -> None:
    """A fractional cycle crashed with pandas' 'truth value of a Series is ambiguous' (Neware) or was
    truncated (EC-Lab); a huge one overflowed to a last cycle of -9.2e18 (found by a probe)."""
    path, lines = _written(tmp_path, file_format, 3)
    sep, head = DELIMITER[file_format], COLUMN_HEADER_LINE[file_format]
    column = lines[head].split(sep).index("Cycle Index" if file_format == "neware_csv" else "cycle number")
    fields = lines[head + 2].split(sep)
    fields[column] = written
    lines[head + 2] = sep.join(fields)
    path.write_text("\n".join(lines) + "\n", encoding="cp1252")
    name = "Cycle Index" if file_format == "neware_csv" else "cycle number"
    with pytest.raises(InstrumentFileError, match=rf"cell\.{file_format}: line {head + 3}, column '{name}': "
                                                  rf"{re.escape(shown)} is not a cycle number \(a whole number"):
        cycling_outcomes(path, active_mass_mg=MASS_MG)


@pytest.mark.parametrize("file_format", FORMATS)
def test_a_file_that_starts_past_the_first_cycle_of_a_test_is_refused(tmp_path: Path, file_format: str) -> None:
    """A resumed test's later file (or an export of cycles 6 to 12) was read as if its first cycle
    were the cell's first: first-cycle CE 99.7 % for 87 %, the discharge capacity of cycle 6 as the
    first one, and the retention relative to cycle 6 (found by a probe)."""
    path, lines = _written(tmp_path, file_format, 12)
    head, sep = COLUMN_HEADER_LINE[file_format], DELIMITER[file_format]
    column = {"biologic_mpt": "cycle number", "neware_csv": "Cycle Index", "arbin_csv": "Cycle_Index",
              "maccor_txt": "Cyc#"}[file_format]
    at = lines[head].split(sep).index(column)
    first_counted = 0 if file_format in ("biologic_mpt", "maccor_txt") else 1
    kept = [line for line in lines[head + 1:] if float(line.split(sep)[at]) >= 5 + first_counted]
    path.write_text("\n".join([*lines[:head + 1], *kept]) + "\n", encoding="cp1252")
    message = (rf"cell\.{file_format}: line {head + 2}, column '{re.escape(column)}': the file starts at cycle "
               rf"{5 + first_counted}, but a cycler counts a test's cycles from 0 or 1")
    with pytest.raises(InstrumentFileError, match=message):
        cycling_outcomes(path, active_mass_mg=MASS_MG)
    if file_format != "neware_csv":  # the cycle sheet has no voltage curve
        with pytest.raises(InstrumentFileError, match=message):
            read_cycling_points(path, active_mass_mg=MASS_MG)


@pytest.mark.parametrize("file_format", ["neware_csv", "arbin_csv"])
def test_a_file_counted_from_1_whose_first_cycle_is_a_discharge_is_read_from_its_first_charge(
        tmp_path: Path, file_format: str) -> None:
    """Cycle 1 a discharge alone, the first charge in cycle 2: still the test's start, read as before."""
    if file_format == "neware_csv":
        path = tmp_path / "cell.neware_csv"
        path.write_text("Cycle Index,Chg. Cap.(mAh),DChg. Cap.(mAh)\n1,0,0.05\n2,2.652,2.307\n3,2.320,2.313\n"
                        "4,2.318,2.311\n")
    else:
        path = tmp_path / "cell.arbin_csv"
        path.write_text("Data_Point,Cycle_Index,Current(A),Voltage(V),Charge_Capacity(Ah),Discharge_Capacity(Ah)\n"
                        "1,1,-0.0001,2.9,0,0.00005\n2,2,0.0001,4.3,0.002652,0\n3,2,-0.0001,2.8,0.002652,0.002307\n"
                        "4,3,0.0001,4.3,0.002320,0\n5,3,-0.0001,2.8,0.002320,0.002313\n")
    outcomes = cycling_outcomes(path, active_mass_mg=MASS_MG)
    assert outcomes["first_cycle_ce_pct"] == pytest.approx(100 * 2.307 / 2.652)


def test_an_ec_lab_export_with_the_mean_current_column_tells_discharges_by_it(tmp_path: Path) -> None:
    """GCPL writes the current as ``<I>/mA``: such a file had no current to doe, so a test exported
    mid-discharge counted its half discharge as cycle 4's retention (48.2 % for a cell at 96 %, a
    curve point recorded at cycle 4), and a rate test gave no rate values (found by a probe)."""
    charge, discharge = fade_curve(4, first_charge_mah_per_g=221.0, first_ce_pct=87.0)
    mass_g = MASS_MG / 1000
    one_c_ma = discharge[0] * mass_g  # the first discharge's capacity in an hour
    rates = np.array([0.1, 1.0, 0.1, 1.0])
    path = write_cycling_file(tmp_path / "gcpl.mpt", "biologic_mpt", charge * mass_g, discharge * mass_g,
                              discharge_current_ma=rates * one_c_ma)
    lines = path.read_text(encoding="cp1252").splitlines()
    head = COLUMN_HEADER_LINE["biologic_mpt"]
    columns = lines[head].split("\t")
    assert "<I>/mA" not in columns
    lines[head] = "\t".join("<I>/mA" if c == "I/mA" else c for c in columns)
    path.write_text("\r\n".join(lines) + "\r\n", encoding="cp1252")
    table = read_cycling(path, active_mass_mg=MASS_MG)
    np.testing.assert_allclose(table["discharge_current_ma"], rates * one_c_ma, rtol=1e-5)
    assert table["discharge_finished"].all()
    rate_capability = 100 * (discharge[1] + discharge[3]) / (discharge[0] + discharge[2])
    assert cycling_outcomes(path, active_mass_mg=MASS_MG)["rate_capability_pct"] == pytest.approx(rate_capability)
    assert read_cycling_points(path)["half"].tolist()[:POINTS_PER_HALF_CYCLE + 1] == \
        ["charge"] * POINTS_PER_HALF_CYCLE + ["discharge"]
    # exported while cycle 4 discharges: its half discharge is no retention
    path.write_text("\r\n".join(lines[:-POINTS_PER_HALF_CYCLE // 2]) + "\r\n", encoding="cp1252")
    table = read_cycling(path, active_mass_mg=MASS_MG)
    assert table["discharge_finished"].tolist() == [True, True, True, False]
    outcomes = cycling_outcomes(path, active_mass_mg=MASS_MG, retention_cycle=4)
    assert np.isnan(outcomes["capacity_retention_pct"])
    assert outcomes["last_cycle"] == 3
    preview = results_from_files([path], experiment_id="E1", active_mass_mg=MASS_MG,
                                 outcome_names=["capacity_retention_pct"],
                                 curve_outcomes={"capacity_retention_pct": 200})
    assert preview.table.dropna(subset=["cycle"])["cycle"].tolist() == [1, 2, 3]


# a test that starts with a discharge (0.02 mAh), then charges (2.652) and discharges (2.307) on
HALVES = [("D", 0.02), ("C", 2.652), ("D", 2.307), ("C", 2.320), ("D", 2.313), ("C", 2.318), ("D", 2.311)]
CYCLE_COLUMN = {"biologic_mpt": "cycle number", "arbin_csv": "Cycle_Index", "maccor_txt": "Cyc#",
                "neware_csv": "Cycle Index"}


def _halves_file(tmp_path: Path, file_format: str, cycles: list[int]) -> tuple[Path, int]:
    """:data:`HALVES` (two rows each) numbered ``cycles`` as ``file_format`` writes them; the
    line of the first data row. EC-Lab's counters run within a half-cycle, Arbin's on through the
    cycle, MACCOR's and Neware's within a step (one step a half)."""
    rows = []  # cycle, step, kind, the half's counter, the cycle's counters (C, D), current (mA), voltage
    cycle_total = {"C": 0.0, "D": 0.0}
    for step, (n, (kind, q)) in enumerate(zip(cycles, HALVES, strict=True), start=1):
        if step > 1 and n != cycles[step - 2]:
            cycle_total = {"C": 0.0, "D": 0.0}
        for k in (1, 2):
            running = {**cycle_total, kind: cycle_total[kind] + q * k / 2}
            rows.append((n, step, kind, q * k / 2, running, 0.24 if kind == "C" else -0.24,
                         4.0 + 0.3 * k if kind == "C" else 3.6 - 0.4 * k))
        cycle_total = running
    path = tmp_path / f"cell.{file_format}"
    if file_format == "biologic_mpt":
        lines = ["EC-Lab ASCII FILE", "Nb header lines : 3",
                 "mode\tox/red\ttime/s\tEwe/V\tI/mA\tcycle number\tQ charge/mA.h\tQ discharge/mA.h"]
        lines += [f"1\t{int(kind == 'C')}\t{60.0 * i:.1f}\t{v:.4f}\t{i_ma:.6f}\t{n:.6E}\t"
                  f"{q if kind == 'C' else 0.0:.9f}\t{q if kind == 'D' else 0.0:.9f}"
                  for i, (n, _, kind, q, _, i_ma, v) in enumerate(rows)]
        first = 4
    elif file_format == "arbin_csv":
        lines = ["Data_Point,Cycle_Index,Current(A),Voltage(V),Charge_Capacity(Ah),Discharge_Capacity(Ah)"]
        lines += [f"{i},{n},{i_ma / 1000:.6f},{v:.4f},{running['C'] / 1000:.9f},{running['D'] / 1000:.9f}"
                  for i, (n, _, _, _, running, i_ma, v) in enumerate(rows, start=1)]
        first = 2
    elif file_format == "maccor_txt":
        lines = ["Today's Date\t12/04/2026", "Rec#\tCyc#\tStep\tAmp-hr\tAmps\tVolts\tState"]
        lines += [f"{i}\t{n}\t{step}\t{q / 1000:.9f}\t0.000240\t{v:.4f}\t{kind}"
                  for i, (n, step, kind, q, _, _, v) in enumerate(rows, start=1)]
        first = 3
    else:  # Neware's record sheet
        lines = ["DataPoint,Cycle Index,Step Index,Step Type,Current(mA),Voltage(V),Chg. Cap.(mAh),DChg. Cap.(mAh)"]
        lines += [f"{i},{n},{step},{'CC Chg' if kind == 'C' else 'CC DChg'},{i_ma:.6f},{v:.4f},"
                  f"{q if kind == 'C' else 0.0:.9f},{q if kind == 'D' else 0.0:.9f}"
                  for i, (n, step, kind, q, _, i_ma, v) in enumerate(rows, start=1)]
        first = 2
    path.write_text("\n".join(lines) + "\n", encoding="cp1252")
    return path, first


@pytest.mark.parametrize("file_format", FORMATS)
def test_a_cycle_numbered_from_its_discharge_is_refused_not_paired_with_the_next_charge(tmp_path: Path,
                                                                                      file_format: str) -> None:
    """A cycler that counts a cycle from a discharge (a test that starts with one) puts each discharge
    under the number of the next charge: doe recorded a first-cycle CE of 0.75 % (the initial 0.02 mAh
    over the first charge) and a first discharge capacity of 1.7 mAh/g, inside the valid ranges
    (found by a probe)."""
    base = 0 if file_format in ("biologic_mpt", "maccor_txt") else 1
    counted_from_discharge = [base + k for k in (0, 0, 1, 1, 2, 2, 3)]
    path, first = _halves_file(tmp_path, file_format, counted_from_discharge)
    column = re.escape(CYCLE_COLUMN[file_format])
    with pytest.raises(InstrumentFileError, match=rf"cell\.{file_format}: line {first}: cycle {base} \(column "
                                                  rf"'{column}'\) discharges before it charges"):
        cycling_outcomes(path, active_mass_mg=MASS_MG)
    # an initial discharge inside the first cycle adds to its discharge where counters run on or steps add up
    path, first = _halves_file(tmp_path, file_format, [base + k for k in (0, 0, 0, 1, 1, 2, 2)])
    with pytest.raises(InstrumentFileError, match=rf"line {first}: cycle {base} \(column '{column}'\) discharges "
                                                  "before it charges"):
        cycling_outcomes(path, active_mass_mg=MASS_MG)
    # the initial discharge counted as a cycle of its own: no cycle, each charge with the discharge after it
    path, _ = _halves_file(tmp_path, file_format, [base + k for k in (0, 1, 1, 2, 2, 3, 3)])
    table = read_cycling(path, active_mass_mg=MASS_MG)
    np.testing.assert_allclose(table["charge_capacity_mah"], [2.652, 2.320, 2.318], rtol=1e-6)
    np.testing.assert_allclose(table["discharge_capacity_mah"], [2.307, 2.313, 2.311], rtol=1e-6)


def test_arbin_counters_that_run_on_through_the_test_are_read_per_cycle(tmp_path: Path) -> None:
    """An Arbin channel whose Charge_Capacity(Ah) and Discharge_Capacity(Ah) run on through the
    test instead of restarting each cycle gave each cycle the capacity of every cycle up to it: the
    first cycle right, a retention at cycle 12 of 1145 % and every later rate value a sum (found by
    a probe); only a valid_range on the outcome stopped it. Such a file now gives what the same
    test with restarting counters gives, also where only some cycles carried on."""
    path, lines = _written(tmp_path, "arbin_csv", 12)
    restarting = cycling_outcomes(path, active_mass_mg=MASS_MG)
    table = read_cycling(path, active_mass_mg=MASS_MG)
    points = read_cycling_points(path, active_mass_mg=MASS_MG)
    header = lines[0].split(",")
    cycle_at, charge_at, discharge_at = (header.index(c) for c in
                                         ("Cycle_Index", "Charge_Capacity(Ah)", "Discharge_Capacity(Ah)"))
    for reset_every in (None, 5):  # run on throughout; restarted at cycles 5 and 10 (a schedule's reset)
        run_on = list(lines)
        carried, ended, previous = [0.0, 0.0], [0.0, 0.0], "1"
        for k, line in enumerate(lines[1:], start=1):
            fields = line.split(",")
            if fields[cycle_at] != previous:
                reset = reset_every is not None and int(fields[cycle_at]) % reset_every == 0
                carried = [0.0, 0.0] if reset else [c + e for c, e in zip(carried, ended, strict=True)]
                previous = fields[cycle_at]
            ended = [float(fields[charge_at]), float(fields[discharge_at])]
            fields[charge_at], fields[discharge_at] = (f"{c + e:.12f}" for c, e in zip(carried, ended, strict=True))
            run_on[k] = ",".join(fields)
        path.write_text("\n".join(run_on) + "\n")
        assert float(run_on[-1].split(",")[charge_at]) > 2.5 * float(lines[-1].split(",")[charge_at])  # carried on
        pd.testing.assert_series_equal(cycling_outcomes(path, active_mass_mg=MASS_MG), restarting, rtol=1e-9)
        pd.testing.assert_frame_equal(read_cycling(path, active_mass_mg=MASS_MG), table, rtol=1e-9)
        pd.testing.assert_frame_equal(read_cycling_points(path, active_mass_mg=MASS_MG), points, rtol=1e-9)


def _saved_by_a_german_excel(lines: list[str], sep: str) -> list[str]:
    """A comma-separated export as Excel in a German locale saves it: the header's names as they
    are, each data row's fields separated by ``sep`` and written with a decimal comma."""
    return [lines[0].replace(",", sep), *(sep.join(f.replace(".", ",") for f in line.split(",")) for line in lines[1:])]


# Excel for Mac's CSV ends lines with CR alone: its header was split off on LF, no data row was left
# to show the decimal comma and the first one was refused as '2,707200000' against decimal points
@pytest.mark.parametrize("line_end", ["\r\n", "\r"])
@pytest.mark.parametrize("sep", [";", "\t"])  # Excel's "CSV (Trennzeichen-getrennt)" and "Text (Tabstopp-getrennt)"
@pytest.mark.parametrize(("file_format", "record_sheet"),
                         [("neware_csv", False), ("neware_csv", True), ("arbin_csv", False)])
def test_a_neware_or_arbin_export_saved_with_decimal_commas_reads_like_its_comma_version(
        tmp_path: Path, file_format: str, record_sheet: bool, sep: str, line_end: str) -> None:
    charge, discharge = fade_curve(4, first_charge_mah_per_g=221.0, first_ce_pct=87.0)
    path = write_cycling_file(tmp_path / "cell.csv", file_format, charge * MASS_MG / 1000,  # type: ignore[arg-type]
                              discharge * MASS_MG / 1000, neware_record_sheet=record_sheet)
    expected = read_cycling(path, active_mass_mg=MASS_MG)
    expected_points = None if not record_sheet and file_format == "neware_csv" else read_cycling_points(path)
    lines = _saved_by_a_german_excel(path.read_text(encoding="utf-8").splitlines(), sep)
    path.write_bytes((line_end.join(lines) + line_end).encode("cp1252"))
    assert detect_format(path) == file_format
    pd.testing.assert_frame_equal(read_cycling(path, active_mass_mg=MASS_MG), expected)
    if expected_points is not None:
        pd.testing.assert_frame_equal(read_cycling_points(path), expected_points)
    # one number written with a decimal point among the commas is refused, naming its line and column
    fields = lines[3].split(sep)
    k = next(k for k, field in enumerate(fields) if re.fullmatch(r"\d+,\d*[1-9]\d*", field))  # a capacity, a voltage
    fields[k] = fields[k].replace(",", ".")
    path.write_bytes((line_end.join([*lines[:3], sep.join(fields), *lines[4:]]) + line_end).encode("cp1252"))
    column = lines[0].split(sep)[k]
    with pytest.raises(InstrumentFileError, match=rf"cell\.csv: line 4, column '{re.escape(column)}': .* is written "
                                                  "with a decimal point, but the file writes decimal commas"):
        read_cycling(path, active_mass_mg=MASS_MG)


def _in_amp_hours(lines: list[str], columns: dict[str, str]) -> list[str]:
    """A comma-separated export whose ``columns`` (mAh or mA name -> Ah or A name) BTSDA wrote in
    Ah and A: each renamed, its values divided by 1000 exactly (as decimals)."""
    header = lines[0].split(",")
    scaled = [k for k, name in enumerate(header) if name in columns]
    rows = [line.split(",") for line in lines[1:]]
    for row in rows:
        for k in scaled:
            row[k] = str(Decimal(row[k]) / 1000)
    return [",".join(columns.get(name, name) for name in header), *(",".join(row) for row in rows)]


@pytest.mark.parametrize(("file_format", "record_sheet", "columns"), [
    # Arbin MITS Pro 8 (as in the Battery Archive and Sandia exports): a space before each unit
    ("arbin_csv", False, {"Test_Time(s)": "Test_Time (s)", "Current(A)": "Current (A)", "Voltage(V)": "Voltage (V)",
                          "Charge_Capacity(Ah)": "Charge_Capacity (Ah)",
                          "Discharge_Capacity(Ah)": "Discharge_Capacity (Ah)"}),
    # Neware BTSDA with the sheet's unit set to Ah (and A)
    ("neware_csv", False, {"Chg. Cap.(mAh)": "Chg. Cap.(Ah)", "DChg. Cap.(mAh)": "DChg. Cap.(Ah)"}),
    ("neware_csv", True, {"Current(mA)": "Current(A)", "Capacity(mAh)": "Capacity(Ah)",
                          "Chg. Cap.(mAh)": "Chg. Cap.(Ah)", "DChg. Cap.(mAh)": "DChg. Cap.(Ah)"}),
])
def test_arbin_mits_pro_8_and_neware_amp_hour_headers_read_like_the_usual_ones(
        tmp_path: Path, file_format: str, record_sheet: bool, columns: dict[str, str]) -> None:
    charge, discharge = fade_curve(4, first_charge_mah_per_g=221.0, first_ce_pct=87.0)
    rates = np.array([0.25, 2.5, 0.25, 2.5])  # mA: a rate test, so that the current is read too
    path = write_cycling_file(tmp_path / "cell.csv", file_format, charge * MASS_MG / 1000,  # type: ignore[arg-type]
                              discharge * MASS_MG / 1000, neware_record_sheet=record_sheet, discharge_current_ma=rates)
    expected = read_cycling(path, active_mass_mg=MASS_MG)
    expected_points = None if not record_sheet and file_format == "neware_csv" else read_cycling_points(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    if file_format == "arbin_csv":  # the same numbers under the new names
        lines = [",".join(columns.get(c, c) for c in lines[0].split(",")), *lines[1:]]
    else:
        lines = _in_amp_hours(lines, columns)
    assert set(columns.values()) <= set(lines[0].split(","))
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    assert detect_format(path) == file_format
    pd.testing.assert_frame_equal(read_cycling(path, active_mass_mg=MASS_MG), expected)
    if expected_points is not None:
        pd.testing.assert_frame_equal(read_cycling_points(path), expected_points)
    if "discharge_current_ma" in expected and expected["discharge_current_ma"].notna().all():
        np.testing.assert_allclose(read_cycling(path)["discharge_current_ma"], rates, rtol=1e-6)


@pytest.mark.parametrize("file_format", ["neware_csv", "biologic_mpt", "arbin_csv"])
def test_a_cycle_the_test_went_past_without_a_discharge_has_no_retention_not_zero(tmp_path: Path,
                                                                                   file_format: str) -> None:
    """Found by a probe: a file whose cycle 7 was charged and not discharged (the test went on
    with cycle 8) gave a retention of 0 % at cycle 7, and a curve campaign recorded that 0 as a
    point of the cell's fade; only a last cycle without a discharge was left out."""
    charge, discharge = fade_curve(12, first_charge_mah_per_g=221.0, first_ce_pct=87.0)
    gap = discharge.copy()
    gap[6] = 0.0
    path = write_cycling_file(tmp_path / f"gap.{'mpt' if file_format == 'biologic_mpt' else 'csv'}", file_format,
                              charge * MASS_MG / 1000, gap * MASS_MG / 1000)
    curve = retention_curve(read_cycling(path, active_mass_mg=MASS_MG))
    assert curve.index.tolist() == [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12]
    np.testing.assert_allclose(curve, 100 * np.delete(discharge, 6) / discharge[0], rtol=1e-6)
    assert cycling_outcomes(path, active_mass_mg=MASS_MG, retention_cycle=7)["capacity_retention_pct"] == pytest.approx(
        100 * (discharge[5] + discharge[7]) / 2 / discharge[0], rel=1e-6)  # between its neighbours, as for a gap
    preview = results_from_files([path], experiment_id="E1", active_mass_mg=MASS_MG,
                                 outcome_names=["capacity_retention_pct"],
                                 curve_outcomes={"capacity_retention_pct": 200})
    assert 7 not in preview.table.dropna(subset=["cycle"])["cycle"].tolist()


@pytest.mark.parametrize(("file_format", "decimal_comma"), [*((f, False) for f in FORMATS), ("biologic_mpt", True)])
def test_an_export_cut_off_inside_its_last_line_is_refused_not_read_short(tmp_path: Path, file_format: str,
                                                                          decimal_comma: bool) -> None:
    """A copy cut off inside its last number (2.2646 as 2.2) was read as that shorter number, with
    no message (a probe). Now a file that does not end with a line end, and whose last line holds
    fewer fields than the rows above or ends in a number with fewer decimals or exponent digits
    than its column writes, is refused naming the line; the whole file without its final line end
    reads as before."""
    charge, discharge = fade_curve(25, first_charge_mah_per_g=221.0, first_ce_pct=87.0)
    path = write_cycling_file(tmp_path / f"cell.{file_format}", file_format,  # type: ignore[arg-type]
                              charge * MASS_MG / 1000, discharge * MASS_MG / 1000, decimal_comma=decimal_comma)
    raw = path.read_bytes()
    whole = read_cycling(path, active_mass_mg=MASS_MG)
    body = raw.rstrip(b"\r\n")
    path.write_bytes(body)
    pd.testing.assert_frame_equal(read_cycling(path, active_mass_mg=MASS_MG), whole)
    last = body[body.rfind(b"\n") + 1:]
    line = body.count(b"\n") + 1
    sep = DELIMITER[file_format].encode()
    numeric_end = last.rfind(sep) if file_format == "maccor_txt" else len(last)  # MACCOR ends in a date and time
    if file_format == "neware_csv":  # a writer that drops trailing zeros: refused as cut, read once the line ends
        path.write_bytes(body[:-2] + b"\n")
        read_cycling(path, active_mass_mg=MASS_MG)
        path.write_bytes(body[:-2])
        with pytest.raises(InstrumentFileError, match="reads once it ends with a line break"):
            read_cycling(path, active_mass_mg=MASS_MG)
    for k in range(1, numeric_end):  # every place inside the line's numbers
        path.write_bytes(body[:len(body) - len(last) + k])
        with pytest.raises(InstrumentFileError, match=rf"cell\.{file_format}: the file ends inside its last line "
                                                      rf"\(line {line}: .*cut off"):
            read_cycling(path, active_mass_mg=MASS_MG)


@pytest.mark.parametrize("file_format", ["neware_csv", "arbin_csv", "biologic_mpt"])
def test_a_column_doe_reads_named_twice_is_refused_not_read_from_its_first_copy(tmp_path: Path,
                                                                                file_format: str) -> None:
    """Two cells' exports pasted side by side under one header: pandas renamed the second copy of
    each column (``Cycle Index.1``) and doe read the first cell alone, recording its values for a
    file of two cells (found by a probe)."""
    charge, discharge = fade_curve(5)
    one = write_cycling_file(tmp_path / "one.txt", file_format, charge * MASS_MG / 1000, discharge * MASS_MG / 1000)
    other = write_cycling_file(tmp_path / "other.txt", file_format, charge * MASS_MG / 2000,
                               discharge * MASS_MG / 3000)
    sep = "\t" if file_format == "biologic_mpt" else ","
    first, second = one.read_text(encoding="cp1252").splitlines(), other.read_text(encoding="cp1252").splitlines()
    start = next(i for i, line in enumerate(first) if sep in line and "cycle" in line.lower())
    path = tmp_path / "two_cells.txt"
    path.write_text("\n".join(first[:start] + [a + sep + b for a, b in zip(first[start:], second[start:], strict=True)])
                    + "\n", encoding="cp1252")
    column = {"neware_csv": "Cycle Index", "arbin_csv": "Cycle_Index", "biologic_mpt": "cycle number"}[file_format]
    with pytest.raises(InstrumentFileError, match=rf"two_cells\.txt: the column header names {re.escape(repr(column))} "
                                                  r"twice \(columns \d+ and \d+\)"):
        cycling_outcomes(path, active_mass_mg=MASS_MG)


def _arbin_csv(path: Path, rows: list[tuple[int, float, float, float]], places: int = 9) -> Path:
    """An Arbin CSV at ``path`` of ``rows`` (cycle, current mA, charge mAh, discharge mAh), at 3.0 V,
    capacities written to ``places`` decimals of Ah."""
    path.write_text("Data_Point,Cycle_Index,Current(A),Voltage(V),Charge_Capacity(Ah),Discharge_Capacity(Ah)\n"
                    + "".join(f"{i},{c},{a / 1000:.9f},{3.0:.4f},{q / 1000:.{places}f},{d / 1000:.{places}f}\n"
                              for i, (c, a, q, d) in enumerate(rows, start=1)))
    return path


@pytest.mark.parametrize("file_format", ["biologic_mpt", "arbin_csv"])
def test_a_rest_numbered_as_its_own_cycle_before_the_first_charge_is_not_cycle_1(tmp_path: Path,
                                                                               file_format: str) -> None:
    """A rest logged as its own instrument cycle before the first charge, its residual current
    (below the rest threshold) adding nA h to both counters: read_cycling took it for cycle 1 (a
    CE of 100 %, 4e-7 mAh/g and a retention of 5e10 %) while read_cycling_points started at the
    first charge (found by a probe)."""
    rest = [(0.000001, 1e-9, 0.0), (-0.000001, 1e-9, 1e-9), (0.000001, 2e-9, 1e-9)]  # mA, mAh charge, discharge
    halves = [(0.24, 2.652, 0.0), (-0.24, 2.652, 2.307), (0.24, 2.320, 0.0), (-0.24, 2.320, 2.313)]
    if file_format == "biologic_mpt":
        path = tmp_path / "cell.mpt"
        rows = [(0, *r) for r in rest] + [(1 + k // 2, *h) for k, h in enumerate(halves)]
        path.write_text("EC-Lab ASCII FILE\r\nNb header lines : 4\r\n\r\n"
                        "time/s\tEwe/V\tI/mA\tcycle number\tQ charge/mA.h\tQ discharge/mA.h\r\n" + "".join(
                            f"{60 * i}\t{4.3 if i % 2 else 2.8:.4f}\t{a:.6f}\t{c:.6E}\t{q:.12E}\t{d:.12E}\r\n"
                            for i, (c, a, q, d) in enumerate(rows)), encoding="cp1252")
    else:
        path = _arbin_csv(tmp_path / "cell.csv", [(1, *r) for r in rest] + [(2 + k // 2, *h) for k, h in enumerate(halves)],
                          places=15)
    table = read_cycling(path, active_mass_mg=MASS_MG)
    assert table["cycle"].tolist() == [1, 2]
    assert table["charge_capacity_mah"].tolist() == pytest.approx([2.652, 2.320])
    assert cycling_outcomes(path, active_mass_mg=MASS_MG)["first_cycle_ce_pct"] == pytest.approx(100 * 2.307 / 2.652)
    points = read_cycling_points(path, active_mass_mg=MASS_MG)
    assert points.groupby("cycle")["capacity_mah"].max().tolist() == pytest.approx([2.652, 2.320])


def test_a_slow_formation_cycle_below_the_rest_threshold_of_a_fast_rate_step_is_still_cycle_1(
        tmp_path: Path) -> None:
    """A formation cycle at C/20 in a file whose rate steps reach 20C: its current is under
    REST_FRACTION of the file's largest, but its charge is the cell's first; it stays cycle 1."""
    path = _arbin_csv(tmp_path / "cell.csv", [(1, 0.012, 2.652, 0.0), (1, -0.012, 2.652, 2.307),
                                              (2, 0.24, 2.320, 0.0), (2, -4.8, 2.320, 2.1)])
    table = read_cycling(path, active_mass_mg=MASS_MG)
    assert table["cycle"].tolist() == [1, 2]
    assert table["charge_capacity_mah"].tolist() == pytest.approx([2.652, 2.320])


def test_a_neware_cycle_sheet_exported_mid_discharge_has_no_retention_at_its_unfinished_cycle(
        tmp_path: Path) -> None:
    """Neware's cycle sheet has no voltage, so a test exported while its 5th discharge ran counted
    that half discharge as finished: a retention of 45 % at cycle 5 for a cell at 99.4 %, recorded
    as a curve point (found by a probe). A last cycle without a voltage whose CE falls more than
    LAST_CE_DROP_PCT below every earlier cycle's is now unfinished."""
    path = tmp_path / "cell.csv"
    lines = ["Cycle Index,Chg. Cap.(mAh),DChg. Cap.(mAh)", "1,2.707,2.436", "2,2.440,2.432", "3,2.437,2.429",
             "4,2.433,2.425"]
    path.write_text("\n".join([*lines, "5,2.430,1.100"]) + "\n")
    table = read_cycling(path, active_mass_mg=MASS_MG)
    assert table["discharge_finished"].tolist() == [True, True, True, True, False]
    assert np.isnan(cycling_outcomes(path, active_mass_mg=MASS_MG, retention_cycle=5)["capacity_retention_pct"])
    preview = results_from_files([path], experiment_id="E1", active_mass_mg=MASS_MG,
                                 outcome_names=["capacity_retention_pct"],
                                 curve_outcomes={"capacity_retention_pct": 200})
    assert preview.table.dropna(subset=["cycle"])["cycle"].tolist() == [1, 2, 3, 4]
    # the same cell once the discharge ended: its CE is as the earlier cycles', so it counts
    path.write_text("\n".join([*lines, "5,2.430,2.421"]) + "\n")
    assert read_cycling(path)["discharge_finished"].all()
    assert cycling_outcomes(path, active_mass_mg=MASS_MG, retention_cycle=5)["capacity_retention_pct"] == \
        pytest.approx(100 * 2.421 / 2.436)
    # a two-cycle file compares its last cycle with the first (a lower CE than later cycles)
    path.write_text("\n".join([*lines[:2], "2,2.440,1.100"]) + "\n")
    assert read_cycling(path)["discharge_finished"].tolist() == [True, False]
    path.write_text("\n".join([*lines[:3]]) + "\n")
    assert read_cycling(path)["discharge_finished"].all()


@pytest.mark.parametrize(("file_format", "column"), [("neware_csv", "Step Type"), ("maccor_txt", "State"),
                                                     ("neware_csv", "DataPoint"), ("maccor_txt", "Rec#")])
def test_a_text_column_doe_reads_named_twice_is_refused_not_read_from_its_first_copy(tmp_path: Path, file_format: str,
                                                                                     column: str) -> None:
    """A column doe reads as text or as row order (Neware's ``Step Type``, MACCOR's ``State``, the
    record number) named twice was read from its first copy while a repeated numeric column was
    refused (found by a probe)."""
    charge, discharge = fade_curve(5)
    path = write_cycling_file(tmp_path / "cell.txt", file_format, charge * MASS_MG / 1000, discharge * MASS_MG / 1000,
                              neware_record_sheet=True)
    sep = "," if file_format == "neware_csv" else "\t"
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if column in line.split(sep))
    position = lines[start].split(sep).index(column) + 1
    width = lines[start].count(sep) + 1
    pasted = [line + sep + line.split(sep)[position - 1] if k > start else line
              for k, line in enumerate(lines)]
    pasted[start] += sep + column
    path.write_text("\n".join(pasted) + "\n", encoding="utf-8")
    for read in (read_cycling, read_cycling_points):
        with pytest.raises(InstrumentFileError, match=rf"cell\.txt: the column header names {re.escape(repr(column))} "
                                                      rf"twice \(columns {position} and {width + 1}\)"):
            read(path, active_mass_mg=MASS_MG)


def test_the_voltage_curves_keep_a_slow_formation_cycle_as_cycle_1_as_read_cycling_does(tmp_path: Path) -> None:
    """read_cycling_points classed the C/20 formation cycle's rows as rest by the current alone
    (under REST_FRACTION of a 20C step's) and dropped the cycle: its cycle 1 was read_cycling's
    cycle 2 (found by a probe)."""
    path = tmp_path / "cell.csv"
    rows = [(1, 0.012, 3.7, 1.3, 0.0), (1, 0.012, 4.3, 2.652, 0.0), (1, -0.012, 3.6, 2.652, 1.2),
            (1, -0.012, 2.8, 2.652, 2.307), (2, 0.24, 4.3, 2.320, 0.0), (2, -4.8, 2.8, 2.320, 2.1)]
    path.write_text("Data_Point,Cycle_Index,Current(A),Voltage(V),Charge_Capacity(Ah),Discharge_Capacity(Ah)\n"
                    + "".join(f"{i},{c},{a / 1000:.9f},{v:.4f},{q / 1000:.9f},{d / 1000:.9f}\n"
                              for i, (c, a, v, q, d) in enumerate(rows, start=1)))
    table = read_cycling(path, active_mass_mg=MASS_MG)
    points = read_cycling_points(path, active_mass_mg=MASS_MG)
    ends = points.groupby(["cycle", "half"])["capacity_mah"].max().unstack()
    assert ends.index.tolist() == table["cycle"].tolist() == [1, 2]
    np.testing.assert_allclose(ends["charge"], table["charge_capacity_mah"])
    np.testing.assert_allclose(ends["discharge"], table["discharge_capacity_mah"])
    assert points["voltage_v"].tolist() == [row[2] for row in rows]
