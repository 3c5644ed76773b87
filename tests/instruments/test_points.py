"""The voltage curve of every cycling format, point by point: its half-cycles end at the capacities
``read_cycling`` reports, and its voltages are those the generator wrote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from doe.instruments import InstrumentFileError, read_cycling, read_cycling_points
from doe.instruments.binary import cycles_from_rows, points_from_rows

SAMPLES = Path(__file__).resolve().parents[2] / "datasets" / "instruments"
MASS_MG = 12.0
CURVE_FILES = ["biologic_gcpl.mpt", "biologic_gcpl_decimal_comma.mpt", "neware_record.csv", "arbin_channel.csv",
               "maccor_export.txt"]


def _ends(points: pd.DataFrame, column: str) -> pd.DataFrame:
    return points.groupby(["cycle", "half"])[column].last().unstack("half")


@pytest.mark.parametrize("name", CURVE_FILES)
def test_each_half_cycle_ends_at_the_capacity_read_cycling_reports(name: str) -> None:
    path = SAMPLES / name
    points = read_cycling_points(path, active_mass_mg=MASS_MG)
    table = read_cycling(path, active_mass_mg=MASS_MG)
    assert list(points.columns) == ["cycle", "half", "voltage_v", "capacity_mah", "capacity_mah_per_g"]
    assert set(points["half"]) == {"charge", "discharge"}
    # the generator's curves: 3.7 -> 4.3 V on charge, 4.2 -> 2.8 V on discharge, 4 points a half
    charge, discharge = points[points["half"] == "charge"], points[points["half"] == "discharge"]
    assert charge["voltage_v"].min() == pytest.approx(3.7) and charge["voltage_v"].max() == pytest.approx(4.3)
    assert discharge["voltage_v"].min() == pytest.approx(2.8) and discharge["voltage_v"].max() == pytest.approx(4.2)
    assert (points.groupby(["cycle", "half"]).size() == 4).all()
    ends = _ends(points, "capacity_mah_per_g")
    assert ends.index.tolist() == table["cycle"].tolist()
    np.testing.assert_allclose(ends["charge"], table["charge_capacity_mah_per_g"], rtol=1e-9)
    np.testing.assert_allclose(ends["discharge"], table["discharge_capacity_mah_per_g"], rtol=1e-9)
    # a CV step continues the CC step's capacity (Neware's counter restarts at every step)
    assert (points.groupby(["cycle", "half"])["capacity_mah"].diff().dropna() > 0).all()


def test_without_a_mass_the_capacity_is_in_mah() -> None:
    points = read_cycling_points(SAMPLES / "arbin_channel.csv")
    assert "capacity_mah_per_g" not in points.columns
    np.testing.assert_allclose(_ends(points, "capacity_mah")["discharge"],
                               read_cycling(SAMPLES / "arbin_channel.csv")["discharge_capacity_mah"], rtol=1e-9)


def test_neware_cycle_sheet_has_no_curve_and_says_which_sheet_to_export() -> None:
    with pytest.raises(InstrumentFileError, match=r"neware_cycles\.csv: .*export the record sheet"):
        read_cycling_points(SAMPLES / "neware_cycles.csv")


def test_a_bad_mass_is_refused() -> None:
    with pytest.raises(InstrumentFileError, match="active_mass_mg"):
        read_cycling_points(SAMPLES / "arbin_channel.csv", active_mass_mg=-1.0)


def test_binary_rows_give_the_curve_of_their_cycles() -> None:
    """Rows as galvani and NewareNDA return them (no sample .mpr or .nda can be installed)."""
    segments = [  # (current mA, counter values, restarts, voltages)
        (-0.2, [0.1, 0.3], True, [3.0, 2.9]),           # a discharge before any charge: no cycle
        (0.0, [0.0], True, [3.1]),                      # rest: no point
        (0.5, [0.4, 0.8, 1.2], True, [3.7, 3.9, 4.1]),  # CC charge
        (0.1, [0.1, 0.3], True, [4.3, 4.3]),            # CV charge: same half-cycle
        (-0.5, [0.5, 1.0, 1.35], True, [4.1, 3.6, 3.0]),
        (0.5, [0.6, 1.3], True, [3.8, 4.3]),
        (-0.5, [0.7, 1.2], True, [4.0, 3.0]),
    ]
    rows = pd.DataFrame([(amps, value, restart and k == 0, volts)
                         for amps, values, restart, voltages in segments
                         for k, (value, volts) in enumerate(zip(values, voltages, strict=True))],
                        columns=["current_ma", "counter_mah", "restart", "voltage_v"])
    points = points_from_rows(rows)
    assert points["cycle"].tolist() == [1] * 8 + [2] * 4
    assert points["half"].tolist() == ["charge"] * 5 + ["discharge"] * 3 + ["charge"] * 2 + ["discharge"] * 2
    np.testing.assert_allclose(points["capacity_mah"], [0.4, 0.8, 1.2, 1.3, 1.5, 0.5, 1.0, 1.35, 0.6, 1.3, 0.7, 1.2])
    np.testing.assert_allclose(points["voltage_v"].iloc[:5], [3.7, 3.9, 4.1, 4.3, 4.3])
    cycles = cycles_from_rows(rows)
    ends = _ends(points, "capacity_mah")
    np.testing.assert_allclose(ends["charge"], cycles["charge_mah"])
    np.testing.assert_allclose(ends["discharge"], cycles["discharge_mah"])
