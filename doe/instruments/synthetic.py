"""Cycling files written as the instruments write them, from capacities known in advance.

No real instrument file can be downloaded on the build machine, so the readers are tested
on files this module writes: header blocks, column names, units, separators and decimal
conventions of each export (see :mod:`doe.instruments.cycling`), with a few points per
half-cycle whose capacity counter accumulates to the cycle's true capacity.

The committed sample set under ``datasets/instruments/`` is written by::

    python -m doe.instruments.synthetic datasets/instruments
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

from doe.instruments.cycling import CyclingFormat

POINTS_PER_HALF_CYCLE = 4


def fade_curve(n_cycles: int, *, first_charge_mah_per_g: float = 225.6, first_ce_pct: float = 90.0,
               retention_at_200_pct: float = 70.0, ce_later_pct: float = 99.7) -> tuple[np.ndarray, np.ndarray]:
    """Per-cycle charge and discharge capacity (mAh/g) of a cell whose discharge capacity fades
    to ``retention_at_200_pct`` of the first one at cycle 200 (a square-root law, as the early
    fade of Ni-rich cathodes against thiophosphates), with the study's first cycle by default
    (203 mAh/g discharge at 90 % CE)."""
    cycles = np.arange(1, n_cycles + 1, dtype=float)
    first_discharge = first_charge_mah_per_g * first_ce_pct / 100.0
    fade = 1.0 - (1.0 - retention_at_200_pct / 100.0) * np.sqrt((cycles - 1.0) / 199.0)
    discharge = first_discharge * fade
    charge = discharge / (ce_later_pct / 100.0)
    charge[0] = first_charge_mah_per_g
    return charge, discharge


def _ramp(total: float) -> np.ndarray:
    return total * np.arange(1, POINTS_PER_HALF_CYCLE + 1) / POINTS_PER_HALF_CYCLE


def write_cycling_file(path: str | Path, file_format: CyclingFormat, charge_mah: np.ndarray,
                       discharge_mah: np.ndarray, *, decimal_comma: bool = False,
                       discharge_current_ma: np.ndarray | None = None, neware_record_sheet: bool = False) -> Path:
    """Write per-cycle capacities (mAh) as ``file_format`` would; returns the path.

    ``discharge_current_ma`` sets each cycle's discharge current (a rate test); by default
    every discharge runs at the charge current. Neware's cycle sheet has no current column;
    with ``neware_record_sheet`` Neware's record sheet is written instead (one row per point,
    each charge a CC step then a CV step, capacities restarting at every step).
    """
    path = Path(path)

    def amps(k: int, is_charge: bool, default_a: float) -> float:
        """The current (A, negative on discharge) of cycle ``k``'s charge or discharge."""
        if is_charge:
            return default_a
        return -(default_a if discharge_current_ma is None else float(discharge_current_ma[k - 1]) / 1000.0)

    rows = []  # (cycle from 1, is_charge, capacity so far in mAh, voltage)
    for k, (q_ch, q_dis) in enumerate(zip(charge_mah, discharge_mah, strict=True), start=1):
        for q, v in zip(_ramp(q_ch), np.linspace(3.7, 4.3, POINTS_PER_HALF_CYCLE), strict=True):
            rows.append((k, True, float(q), float(v)))
        for q, v in zip(_ramp(q_dis), np.linspace(4.2, 2.8, POINTS_PER_HALF_CYCLE), strict=True):
            rows.append((k, False, float(q), float(v)))
    if file_format == "biologic_mpt":
        text = _mpt(rows, decimal_comma, [1000.0 * amps(k, is_charge, 0.24e-3) for k, is_charge, _, _ in rows])
    elif file_format == "neware_csv" and neware_record_sheet:
        text = _neware_record(rows, [1000.0 * amps(k, is_charge, 1e-4) for k, is_charge, _, _ in rows])
    elif file_format == "neware_csv":
        text = "Cycle Index,Chg. Cap.(mAh),DChg. Cap.(mAh),Chg.-DChg. Eff(%)\n" + "".join(
            f"{k},{c:.9f},{d:.9f},{100 * d / c:.3f}\n"
            for k, (c, d) in enumerate(zip(charge_mah, discharge_mah, strict=True), start=1))
    elif file_format == "arbin_csv":
        lines = ["Data_Point,Test_Time(s),Step_Index,Cycle_Index,Current(A),Voltage(V),Charge_Capacity(Ah),"
                 "Discharge_Capacity(Ah)"]
        for i, (k, is_charge, q, v) in enumerate(rows, start=1):
            charge = q if is_charge else charge_mah[k - 1]
            discharge = 0.0 if is_charge else q
            lines.append(f"{i},{60.0 * i:.1f},{1 if is_charge else 2},{k},{amps(k, is_charge, 1e-4):.6f},"
                         f"{v:.4f},{charge / 1000:.12f},{discharge / 1000:.12f}")
        text = "\n".join(lines) + "\n"
    elif file_format == "maccor_txt":
        lines = ["Today's Date\t12/04/2026\tDate of Test:\t11/20/2026\tFilename:\t" + path.name,
                 "Rec#\tCyc#\tStep\tTest (Min)\tStep (Min)\tAmp-hr\tWatt-hr\tAmps\tVolts\tState\tES\tDPt Time"]
        for i, (k, is_charge, q, v) in enumerate(rows, start=1):
            # MACCOR counts cycles from 0 and the capacity per step
            lines.append(f"{i}\t{k - 1}\t{1 if is_charge else 2}\t{i:.3f}\t{i % 4:.3f}\t{q / 1000:.12f}\t"
                         f"{q * v / 1000:.9f}\t{amps(k, is_charge, 1e-4):.6f}\t{v:.4f}\t"
                         f"{'C' if is_charge else 'D'}\t0\t12/04/2026 10:00:00")
        text = "\n".join(lines) + "\n"
    else:
        raise ValueError(f"file_format: unknown {file_format!r}")
    path.write_text(text, encoding="utf-8" if file_format != "biologic_mpt" else "cp1252")
    return path


def _neware_record(rows: list[tuple[int, bool, float, float]], currents_ma: list[float]) -> str:
    lines = ["DataPoint,Cycle Index,Step Index,Step Type,Time,Total Time,Current(mA),Voltage(V),Capacity(mAh),"
             "Chg. Cap.(mAh),DChg. Cap.(mAh),Energy(Wh),Date"]
    cc_end = 0.0
    for i, ((k, is_charge, q, v), current) in enumerate(zip(rows, currents_ma, strict=True), start=1):
        position = (i - 1) % POINTS_PER_HALF_CYCLE
        if is_charge and position == POINTS_PER_HALF_CYCLE - 1:  # the last charge point: a CV step
            step, kind, counted = 2, "CV Chg", q - cc_end
        elif is_charge:
            step, kind, counted = 1, "CC Chg", q
            cc_end = q
        else:
            step, kind, counted = 3, "CC DChg", q
        lines.append(f"{i},{k},{3 * (k - 1) + step},{kind},00:01:00,{i * 60},{current:.6f},{v:.4f},{counted:.9f},"
                     f"{counted if is_charge else 0.0:.9f},{0.0 if is_charge else counted:.9f},"
                     f"{counted * v / 1000:.9f},2026-12-04 10:00:00")
    return "\r\n".join(lines) + "\r\n"


def _mpt(rows: list[tuple[int, bool, float, float]], decimal_comma: bool, currents_ma: list[float]) -> str:
    columns = ["mode", "ox/red", "error", "control changes", "Ns changes", "counter inc.", "time/s",
               "control/mA", "Ewe/V", "I/mA", "cycle number", "Q charge/mA.h", "Q discharge/mA.h"]
    header_lines = [
        "EC-Lab ASCII FILE",
        "Nb header lines : {n}",
        "",
        "Galvanostatic Cycling with Potential Limitation",
        "",
        "Run on channel : 3 (SN 12345)",
        "Electrode material : NCM85 + HfO2",
        "Mass of active material : 12.000 mg",
        "Battery capacity : 2.400 mA.h",
        "",
    ]
    n = len(header_lines) + 1
    lines = [h.format(n=n) for h in header_lines] + ["\t".join(columns)]
    for i, ((k, is_charge, q, v), current) in enumerate(zip(rows, currents_ma, strict=True)):
        values = ["1", "1" if is_charge else "0", "0", "0", "0", "0", f"{60.0 * i:.4f}",
                  f"{current:.6f}", f"{v:.7f}", f"{current:.6f}",
                  f"{k - 1:.6E}",  # EC-Lab counts cycles from 0
                  f"{q if is_charge else 0.0:.12E}", f"{0.0 if is_charge else q:.12E}"]
        if decimal_comma:
            values = [v.replace(".", ",") for v in values]
        lines.append("\t".join(values))
    return "\r\n".join(lines) + "\r\n"


MPR_COLUMN_IDS = {"time/s": (4, "<f8"), "Ewe/V": (6, "<f4"), "I/mA": (8, "<f4"), "<I>/mA": (11, "<f8"),
                  "(Q-Qo)/mA.h": (13, "<f8")}
"""The column ids (and their binary types) of an EC-Lab ``.mpr`` data module, as galvani reads them."""


def write_biologic_mpr(path: str | Path, charge_mah: np.ndarray, discharge_mah: np.ndarray, *,
                       current_column: str = "I/mA", current_ma: float = 0.24) -> Path:
    """Write per-cycle capacities (mAh) as EC-Lab's raw ``.mpr`` (a settings module and a data
    module of version 2, the layout galvani reads): ``time/s``, ``Ewe/V``, the current
    (``current_column``: ``I/mA`` or ``<I>/mA``, the mean current GCPL writes; ``current_ma``,
    negative on discharge) and the running charge counter ``(Q-Qo)/mA.h``; returns the path."""
    path = Path(path)
    rows = [(0.0, 0.0, 3.0)]  # (current in mA, counter in mAh, voltage): the test starts at rest, Q-Qo = 0
    counter = 0.0
    for q_ch, q_dis in zip(charge_mah, discharge_mah, strict=True):
        start = counter
        for q, v in zip(_ramp(q_ch), np.linspace(3.7, 4.3, POINTS_PER_HALF_CYCLE), strict=True):
            rows.append((current_ma, start + q, v))
        counter = start + q_ch
        for q, v in zip(_ramp(q_dis), np.linspace(4.2, 2.8, POINTS_PER_HALF_CYCLE), strict=True):
            rows.append((-current_ma, counter - q, v))
        counter -= q_dis
    names = ["time/s", "Ewe/V", current_column, "(Q-Qo)/mA.h"]
    records = np.zeros(len(rows), dtype=[(n, MPR_COLUMN_IDS[n][1]) for n in names])
    records["time/s"] = 60.0 * np.arange(len(rows))
    records[current_column], records["(Q-Qo)/mA.h"], records["Ewe/V"] = (np.array(c) for c in zip(*rows, strict=True))
    ids = np.array([MPR_COLUMN_IDS[n][0] for n in names], dtype="<u2")
    head = np.array([len(rows)], dtype="<u4").tobytes() + bytes([len(names)]) + ids.tobytes()
    data = head.ljust(405, b"\x00") + records.tobytes()

    def module(short: bytes, long: bytes, body: bytes, version: int) -> bytes:
        header = np.array([(short.ljust(10), long.ljust(25), len(body), version, b"12/04/26")],
                          dtype=[("shortname", "S10"), ("longname", "S25"), ("length", "<u4"), ("version", "<u4"),
                                 ("date", "S8")])
        return b"MODULE" + header.tobytes() + body

    magic = b"BIO-LOGIC MODULAR FILE\x1a".ljust(48) + b"\x00\x00\x00\x00"
    path.write_bytes(magic + module(b"VMP Set", b"VMP settings", b"\x00" * 16, 0)
                     + module(b"VMP data", b"VMP data", data, 2))
    return path


SPECTRUM_PARAMETERS = {"R0": 30.0, "R1": 80.0, "CPE1_0": 1e-7, "CPE1_1": 0.9, "R2": 150.0, "CPE2_0": 5e-5,
                       "CPE2_1": 0.85, "Wo1_0": 200.0, "Wo1_1": 10.0}
"""A solid-state cathode half cell: bulk 30 ohm, grain boundary 80 ohm, interface 150 ohm."""


def impedance_spectrum(parameters: dict[str, float] | None = None, *, circuit: str | None = None,
                       noise: float = 0.005, seed: int = 0, points: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (1 MHz to 0.1 Hz) and the impedance of ``circuit`` with ``parameters``, with
    relative Gaussian noise. The default circuit takes :data:`SPECTRUM_PARAMETERS` where
    ``parameters`` gives no value; another circuit needs a value for each of its parameters."""
    from impedance.models.circuits import CustomCircuit

    from doe.domain.circuits import circuit_parameters
    from doe.instruments.impedance import DEFAULT_CIRCUIT

    circuit = circuit or DEFAULT_CIRCUIT
    values = {**(SPECTRUM_PARAMETERS if circuit == DEFAULT_CIRCUIT else {}), **(parameters or {})}
    model = CustomCircuit(circuit, initial_guess=[values[k] for k in circuit_parameters(circuit)])
    frequency = np.logspace(6, -1, points)
    with warnings.catch_warnings():  # "simulating circuit based on initial parameters": what is meant here
        warnings.filterwarnings("ignore", message="Simulating circuit", category=UserWarning)
        z = model.predict(frequency, use_initial=True)
    rng = np.random.default_rng(seed)
    z = z.real * (1 + noise * rng.standard_normal(points)) + 1j * z.imag * (1 + noise * rng.standard_normal(points))
    return frequency, z


def write_impedance_file(path: str | Path, file_format: str, frequency: np.ndarray, z: np.ndarray) -> Path:
    """Write a spectrum as ``biologic_peis_mpt``, ``gamry_dta`` or ``impedance_csv``."""
    path = Path(path)
    if file_format == "biologic_peis_mpt":
        header = ["EC-Lab ASCII FILE", "Nb header lines : 6", "", "Potentio Electrochemical Impedance Spectroscopy",
                  "", "freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm\t|Z|/Ohm\tPhase(Z)/deg"]
        rows = [f"{f:.10E}\t{zz.real:.10E}\t{-zz.imag:.10E}\t{abs(zz):.10E}\t{np.degrees(np.angle(zz)):.6f}"
                for f, zz in zip(frequency, z, strict=True)]
        path.write_text("\r\n".join(header + rows) + "\r\n", encoding="cp1252")
    elif file_format == "gamry_dta":
        lines = ["EXPLAIN", "TAG\tEISPOT", "TITLE\tLABEL\tPotentiostatic EIS\tTest &Identifier",
                 "ZCURVE\tTABLE", "\tPt\tTime\tFreq\tZreal\tZimag\tZsig\tZmod\tZphz",
                 "\t#\ts\tHz\tohm\tohm\tV\tohm\t°"]
        for i, (f, zz) in enumerate(zip(frequency, z, strict=True)):
            lines.append(f"\t{i}\t{i + 1}\t{f:.10E}\t{zz.real:.10E}\t{zz.imag:.10E}\t1\t{abs(zz):.10E}\t"
                         f"{np.degrees(np.angle(zz)):.6f}")
        path.write_text("\r\n".join(lines) + "\r\n", encoding="cp1252")
    elif file_format == "impedance_csv":
        path.write_text("frequency_hz,z_real_ohm,z_imag_ohm\n" + "".join(
            f"{f:.10E},{zz.real:.10E},{zz.imag:.10E}\n" for f, zz in zip(frequency, z, strict=True)), encoding="utf-8")
    else:
        raise ValueError(f"file_format: unknown {file_format!r}")
    return path


def write_sample_set(folder: str | Path, *, n_cycles: int = 10, active_mass_mg: float = 12.0) -> list[Path]:
    """The committed sample set: one cycling file per format (and a decimal-comma EC-Lab file) of
    the default :func:`fade_curve` for a cell with ``active_mass_mg`` of cathode, and the
    default :func:`impedance_spectrum` in each impedance format."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    charge, discharge = fade_curve(n_cycles)
    mah = active_mass_mg / 1000.0
    written = [
        write_cycling_file(folder / "biologic_gcpl.mpt", "biologic_mpt", charge * mah, discharge * mah),
        write_cycling_file(folder / "biologic_gcpl_decimal_comma.mpt", "biologic_mpt", charge * mah,
                           discharge * mah, decimal_comma=True),
        write_cycling_file(folder / "neware_cycles.csv", "neware_csv", charge * mah, discharge * mah),
        write_cycling_file(folder / "neware_record.csv", "neware_csv", charge * mah, discharge * mah,
                           neware_record_sheet=True),
        write_cycling_file(folder / "arbin_channel.csv", "arbin_csv", charge * mah, discharge * mah),
        write_cycling_file(folder / "maccor_export.txt", "maccor_txt", charge * mah, discharge * mah),
    ]
    frequency, z = impedance_spectrum()
    written += [write_impedance_file(folder / "biologic_peis.mpt", "biologic_peis_mpt", frequency, z),
                write_impedance_file(folder / "gamry_eis.DTA", "gamry_dta", frequency, z),
                write_impedance_file(folder / "spectrum.csv", "impedance_csv", frequency, z)]
    return written


if __name__ == "__main__":
    for written_path in write_sample_set(sys.argv[1] if len(sys.argv) > 1 else "datasets/instruments"):
        print(written_path)
