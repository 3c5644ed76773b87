"""Rate capability: discharge capacity at each C-rate, and 1C over 0.1C, from a rate test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from doe.instruments import InstrumentFileError, cycling_outcomes, read_cycling, read_cycling_points
from doe.instruments.binary import cycles_from_rows
from doe.instruments.synthetic import write_cycling_file

MASS_MG = 12.0
FRACTION = {0.1: 1.0, 0.2: 0.95, 0.5: 0.85, 1.0: 0.65, 2.0: 0.45}  # the study: about 65 % at 1C
RATES = np.repeat(list(FRACTION), 2)


def _rate_test() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Charge and discharge capacity (mAh) and discharge current (mA) of each cycle."""
    first = 203.0 * MASS_MG / 1000.0
    discharge = np.array([first * FRACTION[r] for r in RATES])
    charge = discharge / 0.996
    charge[0] = first / 0.9
    return charge, discharge, RATES * first  # 1C: the first discharge capacity in one hour


@pytest.mark.parametrize(("file_format", "decimal_comma"),
                         [("biologic_mpt", False), ("biologic_mpt", True), ("arbin_csv", False), ("maccor_txt", False)])
def test_each_format_with_currents_gives_the_rate_capability(tmp_path: Path, file_format: str,
                                                             decimal_comma: bool) -> None:
    charge, discharge, current = _rate_test()
    path = write_cycling_file(tmp_path / "rate", file_format, charge, discharge,  # type: ignore[arg-type]
                              decimal_comma=decimal_comma, discharge_current_ma=current)
    outcomes = cycling_outcomes(path, active_mass_mg=MASS_MG)
    assert outcomes["rate_capability_pct"] == pytest.approx(65.0, rel=1e-6)
    for rate, label in [(0.1, "0p1"), (0.2, "0p2"), (0.5, "0p5"), (1.0, "1"), (2.0, "2")]:
        assert outcomes[f"discharge_capacity_mah_per_g_at_{label}c"] == pytest.approx(203.0 * FRACTION[rate], rel=1e-6)
    assert outcomes["first_cycle_ce_pct"] == pytest.approx(90.0, rel=1e-6)  # unchanged by the rates


def test_the_1c_current_can_be_given_per_gram(tmp_path: Path) -> None:
    charge, discharge, current = _rate_test()
    path = write_cycling_file(tmp_path / "rate", "arbin_csv", charge, discharge, discharge_current_ma=current)
    # 1C = 190 mAh/g: the 0.1C discharge reads as 0.107C, still 0.1C to one significant figure
    assert cycling_outcomes(path, active_mass_mg=MASS_MG, one_c_mah_per_g=190.0)["rate_capability_pct"] == \
        pytest.approx(65.0, rel=1e-6)
    # 1C = 101.5 mAh/g doubles every rate: 0.2C to 4C, no 0.1C, so no ratio
    doubled = cycling_outcomes(path, active_mass_mg=MASS_MG, one_c_mah_per_g=101.5)
    assert "rate_capability_pct" not in doubled and "discharge_capacity_mah_per_g_at_4c" in doubled
    with pytest.raises(InstrumentFileError, match="one_c_mah_per_g"):
        cycling_outcomes(path, active_mass_mg=MASS_MG, one_c_mah_per_g=0.0)


def test_one_rate_or_no_current_gives_no_rate_values(tmp_path: Path) -> None:
    charge, discharge, current = _rate_test()
    one_rate = write_cycling_file(tmp_path / "one", "maccor_txt", charge, discharge)
    no_current = write_cycling_file(tmp_path / "cycles.csv", "neware_csv", charge, discharge,
                                    discharge_current_ma=current)
    for path in (one_rate, no_current):
        outcomes = cycling_outcomes(path, active_mass_mg=MASS_MG)
        assert not any("rate" in name for name in outcomes.index), path.name


def test_binary_rows_give_the_charge_weighted_discharge_current() -> None:
    rows = pd.DataFrame({"current_ma": [1.0, 1.0, -2.0, -2.0, -0.5],
                         "counter_mah": [0.0, 2.0, 1.0, 0.0, -0.5],
                         "restart": [True, False, False, False, False]})
    cycles = cycles_from_rows(rows)
    np.testing.assert_allclose(cycles["discharge_mah"], [2.5])
    # 2 mA for 2 mAh and 0.5 mA for 0.5 mAh: (2*2 + 0.5*0.5) / 2.5
    np.testing.assert_allclose(cycles["discharge_current_ma"], [(4.0 + 0.25) / 2.5])


def test_record_files_offers_the_rate_capability_as_the_campaigns_outcome(tmp_path: Path) -> None:
    from doe.campaign import Campaign

    campaign = Campaign.from_config("hfo2-ncm85", storage=f"sqlite:///{tmp_path / 'lab.sqlite3'}", actor="test")
    campaign.suggest(1)
    experiment = campaign.history()["experiment_id"].iloc[0]
    charge, discharge, current = _rate_test()
    path = write_cycling_file(tmp_path / "rate.mpt", "biologic_mpt", charge, discharge, discharge_current_ma=current)
    preview = campaign.record_files([path], experiment_id=experiment, active_mass_mg=MASS_MG)
    assert preview.table["rate_capability_pct"].tolist() == pytest.approx([65.0], rel=1e-6)
    assert "discharge_capacity_mah_per_g_at_2c" in preview.skipped  # no such outcome in the template


# A rate test of a 10 mg cell as the cycler logs it, rest steps included: (cycle, step, current mA,
# voltage V, charge counter mAh, discharge counter mAh). 1C is the first discharge, 2.0 mAh in one
# hour: 2.0 mA. Cycle 1 discharges at 0.2 mA (0.1C) to 2.0 mAh, cycle 2 at 2.0 mA (1C) to 1.3 mAh.
# The rests carry the residual current cyclers log at open circuit: 3.1 nA, -4 nA and -2 uA.
REST_STEP_ROWS = [
    *((1, "charge", 0.2, v, q, 0.0) for v, q in zip([3.7, 3.9, 4.1, 4.3], [0.55, 1.1, 1.65, 2.2], strict=True)),
    *((1, "rest", 3.1e-6, v, 2.2, 0.0) for v in [4.25, 4.24]),
    *((1, "discharge", -0.2, v, 2.2, q) for v, q in zip([4.1, 3.7, 3.3, 2.8], [0.5, 1.0, 1.5, 2.0], strict=True)),
    *((1, "rest", -2e-3, v, 2.2, 2.0) for v in [3.2, 3.3, 3.35, 3.4]),
    *((2, "charge", 0.2, v, q, 0.0) for v, q in zip([3.7, 3.9, 4.1, 4.3], [0.5, 1.0, 1.5, 2.0], strict=True)),
    *((2, "rest", -4e-6, v, 2.0, 0.0) for v in [4.25, 4.24]),
    *((2, "discharge", -2.0, v, 2.0, q) for v, q in zip([3.9, 3.5, 3.1, 2.8], [0.325, 0.65, 0.975, 1.3], strict=True)),
    *((2, "rest", -2e-3, v, 2.0, 1.3) for v in [3.2, 3.3, 3.35, 3.4]),
]


def _with_rest_steps(path: Path, file_format: str) -> Path:
    """:data:`REST_STEP_ROWS` as an Arbin channel export or an EC-Lab text export."""
    if file_format == "arbin_csv":
        lines = ["Data_Point,Test_Time(s),Step_Index,Cycle_Index,Current(A),Voltage(V),Charge_Capacity(Ah),"
                 "Discharge_Capacity(Ah)"]
        steps = {"charge": 1, "rest": 2, "discharge": 3}
        lines += [f"{i},{10.0 * i:.1f},{steps[kind]},{cycle},{amps / 1000:.6E},{volts:.4f},{q_ch / 1000:.9f},"
                  f"{q_dis / 1000:.9f}"
                  for i, (cycle, kind, amps, volts, q_ch, q_dis) in enumerate(REST_STEP_ROWS, start=1)]
    else:  # EC-Lab: mode 3 is a rest, cycles counted from 0, the counters in mA.h
        lines = ["EC-Lab ASCII FILE", "Nb header lines : 3",
                 "mode\tox/red\ttime/s\tEwe/V\tI/mA\tcycle number\tQ charge/mA.h\tQ discharge/mA.h"]
        lines += [f"{3 if kind == 'rest' else 1}\t{int(q_dis == 0)}\t{10.0 * i:.4f}\t{volts:.7f}\t{amps:.6E}\t"
                  f"{cycle - 1:.6E}\t{q_ch:.12E}\t{q_dis:.12E}"
                  for i, (cycle, kind, amps, volts, q_ch, q_dis) in enumerate(REST_STEP_ROWS, start=1)]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="cp1252")
    return path


@pytest.mark.parametrize("file_format", ["arbin_csv", "biologic_mpt"])
def test_rest_rows_with_a_residual_current_are_rest_and_leave_the_rate_to_the_discharge(tmp_path: Path,
                                                                                      file_format: str) -> None:
    path = _with_rest_steps(tmp_path / "rest_steps", file_format)
    table = read_cycling(path, active_mass_mg=10.0)
    np.testing.assert_allclose(table["discharge_current_ma"], [0.2, 2.0], rtol=1e-9)  # the discharge rows only
    outcomes = cycling_outcomes(path, active_mass_mg=10.0)
    rates = sorted(name for name in outcomes.index if name.startswith("discharge_capacity_mah_per_g_at_"))
    assert rates == ["discharge_capacity_mah_per_g_at_0p1c", "discharge_capacity_mah_per_g_at_1c"]
    assert outcomes["discharge_capacity_mah_per_g_at_0p1c"] == pytest.approx(200.0, rel=1e-9)
    assert outcomes["discharge_capacity_mah_per_g_at_1c"] == pytest.approx(130.0, rel=1e-9)
    assert outcomes["rate_capability_pct"] == pytest.approx(65.0, rel=1e-9)
    # the voltage curve leaves the rests out: four points a half, each ending at its cutoff
    points = read_cycling_points(path, active_mass_mg=10.0)
    assert (points.groupby(["cycle", "half"]).size() == 4).all()
    ends = points.groupby(["cycle", "half"])["voltage_v"].last().unstack("half")
    np.testing.assert_allclose(ends["charge"], [4.3, 4.3])
    np.testing.assert_allclose(ends["discharge"], [2.8, 2.8])


def test_binary_rest_rows_with_a_residual_current_start_no_half_cycle() -> None:
    # Neware-like rows (the counter restarts at each step): the rests' residual current changes sign
    segments = [(0.5, [0.4, 0.8, 1.2]), (3e-6, [0.0]), (-3e-6, [0.0]), (-0.5, [0.5, 1.0]),
                (4e-6, [0.0]), (-4e-6, [0.0]), (4e-6, [0.0]), (0.5, [0.6, 1.3]), (-0.5, [0.7, 1.2])]
    rows = pd.DataFrame([(amps, value, k == 0) for amps, values in segments for k, value in enumerate(values)],
                        columns=["current_ma", "counter_mah", "restart"])
    cycles = cycles_from_rows(rows)
    assert cycles["cycle"].tolist() == [1, 2]
    np.testing.assert_allclose(cycles["charge_mah"], [1.2, 1.3])
    np.testing.assert_allclose(cycles["discharge_mah"], [1.0, 1.2])
    np.testing.assert_allclose(cycles["discharge_current_ma"], [0.5, 0.5])


def test_a_slow_discharge_beside_a_fast_one_is_not_taken_for_a_rest(tmp_path: Path) -> None:
    # C/20 and 5C in one rate test: the slow discharge passes 1 % of the largest current
    first = 2.0
    charge, discharge = np.array([2.2, 2.0, 2.0]), np.array([first, 1.9, 0.9])
    path = write_cycling_file(tmp_path / "wide.csv", "arbin_csv", charge, discharge,
                              discharge_current_ma=np.array([0.05, 0.05, 5.0]) * first)
    outcomes = cycling_outcomes(path, active_mass_mg=10.0)
    assert outcomes["discharge_capacity_mah_per_g_at_0p05c"] == pytest.approx(195.0, rel=1e-9)
    assert outcomes["discharge_capacity_mah_per_g_at_5c"] == pytest.approx(90.0, rel=1e-9)
