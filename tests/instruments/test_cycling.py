"""Cycling files of every supported text format round-trip to the capacities they were written
from; bad files get a clear error naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from doe.instruments import (
    FORMATS,
    InstrumentFileError,
    cycling_outcomes,
    detect_format,
    impedance_outcomes,
    read_cycling,
)
from doe.instruments.synthetic import (
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


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    (b"time,voltage\n1,3.7\n", "not a cycling export doe reads"),
    (b"\x00\x01binary", "a binary file"),
    (b"Cycle Index,Chg. Cap.(mAh),DChg. Cap.(mAh)\n1,2.5,2.2\n2,2.4,", "not a number in data row 2"),
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
