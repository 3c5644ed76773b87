"""Binary cycler files (BioLogic .mpr via galvani, Neware .nda/.ndax via NewareNDA) and the
instrument-independent rules that turn their rows into cycles; MACCOR's per-step counter.

No installable package ships a sample .mpr or .nda (the datalab-org-galvani source
distribution holds its test files as Git LFS pointers only), so the libraries are exercised
here on damaged files, and the rules on row tables laid out as the libraries return them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from doe.instruments import InstrumentFileError, cycling_outcomes, detect_format, read_cycling
from doe.instruments.binary import cycles_from_rows
from doe.instruments.synthetic import fade_curve, write_biologic_mpr

REPO = Path(__file__).resolve().parents[2]


def _rows(segments: list[tuple[float, list[float], bool]]) -> pd.DataFrame:
    """Rows from (current mA, counter values, counter restarts at the segment's start)."""
    current, counter, restart = [], [], []
    for amps, values, restarts in segments:
        for k, value in enumerate(values):
            current.append(amps)
            counter.append(value)
            restart.append(restarts and k == 0)
    return pd.DataFrame({"current_ma": current, "counter_mah": counter, "restart": restart})


def test_a_cc_then_cv_charge_is_one_half_cycle_and_rests_count_for_nothing() -> None:
    # Neware-like: the counter restarts at every step
    rows = _rows([
        (0.0, [0.0, 0.0], True),               # opening rest
        (0.5, [0.4, 0.8, 1.2], True),          # CC charge
        (0.1, [0.1, 0.3], True),               # CV charge, same direction: same half-cycle
        (0.0, [0.0], True),                    # rest
        (-0.5, [0.5, 1.0, 1.35], True),        # discharge
        (0.5, [0.6, 1.3], True),               # cycle 2 charge
        (-0.5, [0.7, 1.2], True),              # cycle 2 discharge
    ])
    cycles = cycles_from_rows(rows)
    assert cycles["cycle"].tolist() == [1, 2]
    np.testing.assert_allclose(cycles["charge_mah"], [1.5, 1.3])
    np.testing.assert_allclose(cycles["discharge_mah"], [1.35, 1.2])


def test_a_running_counter_is_read_by_its_changes_and_cycles_are_counted_from_the_first_charge() -> None:
    # BioLogic-like: (Q-Qo) runs on through the file, down on discharge
    rows = _rows([
        (-0.2, [0.0, -0.1, -0.3], True),       # a discharge before any charge: no cycle
        (0.3, [0.0, 0.9, 1.7], False),
        (-0.3, [1.2, 0.2], False),
        (0.3, [1.0, 1.6], False),              # a last charge without its discharge
    ])
    cycles = cycles_from_rows(rows)
    assert cycles["cycle"].tolist() == [1, 2]
    np.testing.assert_allclose(cycles["charge_mah"], [2.0, 1.4])
    np.testing.assert_allclose(cycles["discharge_mah"], [1.5, 0.0])


def test_rows_without_current_give_no_cycle() -> None:
    assert cycles_from_rows(_rows([(0.0, [0.0, 0.0], True)])).empty


@pytest.mark.parametrize(("name", "file_format"), [("cell.mpr", "biologic_mpr"), ("cell.nda", "neware_nda"),
                                                   ("cell.NDAX", "neware_nda")])
def test_a_damaged_binary_file_is_refused_naming_the_file(tmp_path: Path, name: str, file_format: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\x00\x01 not an instrument file " * 20)
    assert detect_format(path) == file_format
    with pytest.raises(InstrumentFileError, match=rf"{path.name}: cannot be read as {file_format}"):
        read_cycling(path, active_mass_mg=12.0)
    empty = tmp_path / f"empty{path.suffix}"
    empty.write_bytes(b"")
    with pytest.raises(InstrumentFileError, match="empty"):
        cycling_outcomes(empty, active_mass_mg=12.0)


def test_another_binary_file_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "cell.res"
    path.write_bytes(b"\x00\x01\x02 Arbin database" * 10)
    with pytest.raises(InstrumentFileError, match="export it as text"):
        read_cycling(path)


def test_maccor_adds_the_steps_of_a_half_cycle(tmp_path: Path) -> None:
    """Amp-hr restarts at each step: a CC step then a CV step is one charge of their sum."""
    lines = ["Today's Date\t12/04/2026\tDate of Test:\t11/20/2026\tFilename:\tcell.001",
             "Rec#\tCyc#\tStep\tTest (Min)\tStep (Min)\tAmp-hr\tWatt-hr\tAmps\tVolts\tState\tES\tDPt Time"]
    rows = [(0, 1, 0.0010, "C"), (0, 1, 0.0020, "C"), (0, 2, 0.0001, "C"), (0, 2, 0.0003, "C"),
            (0, 3, 0.0, "R"), (0, 4, 0.0010, "D"), (0, 4, 0.0021, "D"),
            (1, 1, 0.0012, "C"), (1, 1, 0.0019, "C"), (1, 2, 0.0002, "C"), (1, 4, 0.0020, "D")]
    for i, (cycle, step, amp_hr, state) in enumerate(rows, start=1):
        lines.append(f"{i}\t{cycle}\t{step}\t{i:.3f}\t0.000\t{amp_hr:.7f}\t0.0\t0.000240\t3.9\t{state}\t0\t"
                     "12/04/2026 10:00:00")
    path = tmp_path / "cccv.txt"
    path.write_text("\n".join(lines) + "\n")
    table = read_cycling(path, active_mass_mg=10.0)
    np.testing.assert_allclose(table["charge_capacity_mah"], [2.3, 2.1])
    np.testing.assert_allclose(table["discharge_capacity_mah"], [2.1, 2.0])


def test_galvani_parses_the_generated_biologic_text_files() -> None:
    """The library doe uses for .mpr reads the sample .mpt files as well, to the same numbers."""
    from galvani import BioLogic

    for name in ("biologic_gcpl.mpt", "biologic_gcpl_decimal_comma.mpt"):
        path = REPO / "datasets" / "instruments" / name
        data, _ = BioLogic.MPTfile(str(path))
        table = read_cycling(path)
        by_cycle = pd.DataFrame({"cycle": np.asarray(data["cycle number"]),
                                 "charge": np.asarray(data["Q charge/mA.h"])}).groupby("cycle")["charge"].max()
        np.testing.assert_allclose(by_cycle.to_numpy(), table["charge_capacity_mah"].to_numpy(), rtol=1e-9)


def test_neware_record_sheet_adds_the_steps_of_a_half_cycle(tmp_path: Path) -> None:
    """BTSDA's record sheet has one row per point and capacities that restart at every step."""
    header = ("DataPoint,Cycle Index,Step Index,Step Type,Time,Total Time,Current(mA),Voltage(V),Capacity(mAh),"
              "Chg. Cap.(mAh),DChg. Cap.(mAh),Energy(Wh),Date")
    rows = [(1, 1, "Rest", 0.0, 0.0, 0.0, 0.0), (1, 2, "CC Chg", 0.25, 1.0, 1.0, 0.0), (1, 2, "CC Chg", 0.25, 2.0, 2.0, 0.0),
            (1, 3, "CV Chg", 0.05, 0.1, 0.1, 0.0), (1, 3, "CV Chg", 0.02, 0.2, 0.2, 0.0), (1, 4, "Rest", 0.0, 0.0, 0.0, 0.0),
            (1, 5, "CC DChg", -0.25, 1.0, 0.0, 1.0), (1, 5, "CC DChg", -0.25, 1.9, 0.0, 1.9),
            (2, 2, "CC Chg", 2.5, 1.5, 1.5, 0.0), (2, 3, "CV Chg", 0.5, 0.3, 0.3, 0.0), (2, 5, "CC DChg", -2.5, 1.2, 0.0, 1.2)]
    lines = [header] + [f"{i},{c},{s},{t},00:00:01,00:00:{i:02d},{amps:.4f},3.9,{q:.4f},{chg:.4f},{dchg:.4f},0.0,"
                        "2026-12-04 10:00:00" for i, (c, s, t, amps, q, chg, dchg) in enumerate(rows, start=1)]
    path = tmp_path / "record.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    assert detect_format(path) == "neware_csv"
    table = read_cycling(path, active_mass_mg=10.0)
    np.testing.assert_allclose(table["charge_capacity_mah"], [2.2, 1.8])
    np.testing.assert_allclose(table["discharge_capacity_mah"], [1.9, 1.2])
    np.testing.assert_allclose(table["discharge_current_ma"], [0.25, 2.5])


def test_a_binary_file_exported_mid_discharge_has_no_retention_at_its_unfinished_cycle(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import NewareNDA

    # the table NewareNDA.read returns for a running test: counters restart at each step; cycles 1
    # and 2 discharge to 2.8 V, cycle 3's discharge stopped at 3.6 V when the file was copied
    steps = [(1, 0.5, [1.0, 2.0], [3.9, 4.3]), (2, -0.5, [0.9, 1.8], [3.6, 2.8]),
             (3, 0.5, [0.9, 1.8], [3.9, 4.3]), (4, -0.5, [0.85, 1.7], [3.6, 2.8]),
             (5, 0.5, [0.85, 1.7], [3.9, 4.3]), (6, -0.5, [0.8], [3.6])]
    table = pd.DataFrame([{"Step": step, "Current(mA)": amps, "Voltage": volts,
                           "Charge_Capacity(mAh)": q if amps > 0 else 0.0,
                           "Discharge_Capacity(mAh)": q if amps < 0 else 0.0}
                          for step, amps, counters, voltages in steps
                          for q, volts in zip(counters, voltages, strict=True)])
    monkeypatch.setattr(NewareNDA, "read", lambda *args, **kwargs: table)
    path = tmp_path / "running.nda"
    path.write_bytes(b"NEWARE" + b"\x00" * 64)
    cycles = read_cycling(path, active_mass_mg=10.0)
    np.testing.assert_allclose(cycles["discharge_capacity_mah"], [1.8, 1.7, 0.8])
    outcomes = cycling_outcomes(path, active_mass_mg=10.0, retention_cycle=3)
    assert np.isnan(outcomes["capacity_retention_pct"])  # 0.8 of a discharge still running is not a retention
    assert outcomes["last_cycle"] == 2
    assert outcomes["retention_at_last_cycle_pct"] == pytest.approx(100 * 1.7 / 1.8)
    assert cycles["discharge_finished"].tolist() == [True, True, False]


def test_a_rest_after_each_discharge_is_not_part_of_its_end_voltage(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A rest after each discharge whose residual current has the discharge's sign (-0.5 uA,
    below the rest threshold) went on in the discharge as a CV tail does, so each discharge
    'ended' at the relaxed rest voltage; the test's last rest, longer, relaxed further (3.35 V
    against 3.1 V), and the last cycle, whose discharge had reached 2.8 V, was taken as a
    discharge stopped half-way: no retention at its cycle (found by a probe)."""
    import NewareNDA

    rows = []  # step, current (mA), counter (mAh, restarting at each step), voltage
    for cycle in range(3):
        rows += [(4 * cycle + 1, 0.5, q, 3.9 + 0.2 * q) for q in (1.0, 2.0)]
        rows += [(4 * cycle + 2, -0.5, q, volts) for q, volts in ((0.9, 3.5), (1.8 - 0.1 * cycle, 2.8))]  # to 2.8 V
        rest = 10 if cycle == 2 else 5  # the test ends with a longer rest
        rows += [(4 * cycle + 3, -0.0005, 0.0, 2.85 + 0.05 * k) for k in range(1, rest + 1)]
    table = pd.DataFrame([{"Step": step, "Current(mA)": amps, "Voltage": volts,
                           "Charge_Capacity(mAh)": q if amps > 0 else 0.0,
                           "Discharge_Capacity(mAh)": q if amps < 0 else 0.0} for step, amps, q, volts in rows])
    monkeypatch.setattr(NewareNDA, "read", lambda *args, **kwargs: table)
    path = tmp_path / "rests.nda"
    path.write_bytes(b"NEWARE" + b"\x00" * 64)
    cycles = read_cycling(path, active_mass_mg=10.0)
    np.testing.assert_allclose(cycles["discharge_capacity_mah"], [1.8, 1.7, 1.6])
    np.testing.assert_allclose(cycles["discharge_end_voltage_v"], [2.8, 2.8, 2.8])
    assert cycles["discharge_finished"].tolist() == [True, True, True]
    outcomes = cycling_outcomes(path, active_mass_mg=10.0, retention_cycle=3)
    assert outcomes["capacity_retention_pct"] == pytest.approx(100 * 1.6 / 1.8)


def test_a_cv_tail_below_the_rest_threshold_keeps_its_charge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows of at most 0.5 % of the file's largest current are rest, so that a residual current
    starts no half-cycle; a CV step's tail below that (0.02 mA beside a 5 mA rate step) still
    passes charge, and dropping it raised the CE."""
    import NewareNDA

    # step, current (mA), counter (mAh) per row: CC-CV charge whose CV tail falls to 0.02 mA,
    # a rest with a residual current of both signs, a discharge; then a 5 mA charge and discharge
    rows = [(1, 0.5, 1.0), (1, 0.5, 2.0), (2, 0.1, 0.05), (2, 0.02, 0.08), (2, 0.01, 0.1),
            (3, -0.00002, 0.0), (3, 0.00002, 0.0), (4, -0.5, 1.0), (4, -0.5, 1.9),
            (5, 5.0, 1.0), (5, 5.0, 1.8), (6, -5.0, 1.0), (6, -5.0, 1.7)]
    table = pd.DataFrame([{"Step": step, "Current(mA)": amps, "Voltage": 3.8,
                           "Charge_Capacity(mAh)": q if amps > 0 else 0.0,
                           "Discharge_Capacity(mAh)": q if amps < 0 else 0.0} for step, amps, q in rows])
    monkeypatch.setattr(NewareNDA, "read", lambda *args, **kwargs: table)
    path = tmp_path / "cccv.nda"
    path.write_bytes(b"NEWARE" + b"\x00" * 64)
    cycles = read_cycling(path, active_mass_mg=10.0)
    np.testing.assert_allclose(cycles["charge_capacity_mah"], [2.1, 1.8])  # 2.0 CC + 0.1 CV, tail and all
    np.testing.assert_allclose(cycles["discharge_capacity_mah"], [1.9, 1.7])
    np.testing.assert_allclose(cycles["discharge_current_ma"], [0.5, 5.0])


@pytest.mark.parametrize("current_column", ["I/mA", "<I>/mA"])
def test_an_mpr_file_whose_current_column_is_the_mean_current_is_read(tmp_path: Path, current_column: str) -> None:
    """GCPL writes the mean current <I>/mA (galvani's column ids 11 and 76) in place of I/mA; the
    .mpr is read by it, as its text export is."""
    from galvani import BioLogic

    charge, discharge = fade_curve(4, first_charge_mah_per_g=221.0, first_ce_pct=87.0)
    path = write_biologic_mpr(tmp_path / "cell.mpr", charge * 0.012, discharge * 0.012, current_column=current_column)
    assert current_column in (BioLogic.MPRfile(str(path)).data.dtype.names or ())  # a file galvani reads as EC-Lab's
    table = read_cycling(path, active_mass_mg=12.0)
    np.testing.assert_allclose(table["charge_capacity_mah_per_g"], charge, rtol=1e-6)
    np.testing.assert_allclose(table["discharge_capacity_mah_per_g"], discharge, rtol=1e-6)
    np.testing.assert_allclose(table["discharge_current_ma"], 0.24, rtol=1e-6)
    assert cycling_outcomes(path, active_mass_mg=12.0)["first_cycle_ce_pct"] == pytest.approx(87.0, rel=1e-6)


def test_a_charge_negative_mpr_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    """An .mpr whose current is negative on charge (its (Q-Qo) counter and its voltage rising while
    it passes) was read with its first charge dropped as 'a discharge before the first charge':
    a first charge of 203.0 mAh/g for 225.6 and a CE of 98.2 % for 90 % (found by a probe); the
    text exports of such a test are refused as discharging before they charge."""
    from doe.instruments import read_cycling_points

    charge, discharge = fade_curve(4)
    path = write_biologic_mpr(tmp_path / "cell.mpr", charge * 0.012, discharge * 0.012, current_ma=-0.24)
    for read in (read_cycling, read_cycling_points, cycling_outcomes):
        with pytest.raises(InstrumentFileError, match=r"cell\.mpr: .*discharges before it charges.*the charge "
                                                      r"current positive"):
            read(path, active_mass_mg=12.0)


@pytest.mark.parametrize("status", [True, False])
def test_a_charge_negative_nda_file_is_refused_naming_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               status: bool) -> None:
    """The table NewareNDA.read returns for a test whose current is negative on its charge steps
    (Status CC_Chg, voltage rising) was read as the .mpr was: its first charge dropped."""
    import NewareNDA

    rows = []  # step, status, current (mA), counter (mAh), voltage
    for cycle, (q_charge, q_discharge) in enumerate([(2.7, 2.4), (2.45, 2.4), (2.44, 2.38)]):
        rows += [(2 * cycle + 1, "CC_Chg", -0.24, q, 3.7 + 0.6 * q / q_charge) for q in (q_charge / 2, q_charge)]
        rows += [(2 * cycle + 2, "CC_DChg", 0.24, q, 4.2 - 1.4 * q / q_discharge) for q in (q_discharge / 2, q_discharge)]
    table = pd.DataFrame([{"Step": step, **({"Status": state} if status else {}), "Current(mA)": amps,
                           "Voltage": volts, "Charge_Capacity(mAh)": q if amps < 0 else 0.0,
                           "Discharge_Capacity(mAh)": q if amps > 0 else 0.0}
                          for step, state, amps, q, volts in rows])
    monkeypatch.setattr(NewareNDA, "read", lambda *args, **kwargs: table)
    path = tmp_path / "cell.ndax"
    path.write_bytes(b"NEWARE" + b"\x00" * 64)
    with pytest.raises(InstrumentFileError, match=r"cell\.ndax: .*discharges before it charges"):
        read_cycling(path, active_mass_mg=12.0)


def test_a_slow_formation_cycle_below_the_rest_threshold_of_a_fast_step_is_cycle_1() -> None:
    """A C/20 formation cycle in a binary file whose rate steps reach 20C: every row under
    REST_FRACTION of the largest current was rest, so the formation cycle was dropped and the
    first fast cycle read as cycle 1 (its charge and CE as the first cycle's), while read_cycling
    keeps such a cycle as cycle 1 in a text export. A residual current at rest stays rest."""
    rows = _rows([
        (0.0005, [0.0, 0.00001], True),           # a rest with a residual current: a few nA h, no charge
        (0.12, [1.3, 2.652], True),               # the C/20 formation charge, CC
        (-0.12, [1.2, 2.307], True),              # and its discharge
        (-0.0005, [0.00001], True),               # a rest
        (2.4, [1.5, 2.320], True),                # 1C: rate steps
        (-48.0, [1.5, 2.1], True),                # 20C
    ])
    cycles = cycles_from_rows(rows)
    assert cycles["cycle"].tolist() == [1, 2]
    np.testing.assert_allclose(cycles["charge_mah"], [2.652, 2.320])
    np.testing.assert_allclose(cycles["discharge_mah"], [2.307, 2.1])
    np.testing.assert_allclose(cycles["discharge_current_ma"], [0.12, 48.0])
