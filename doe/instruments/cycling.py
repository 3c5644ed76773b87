"""Galvanostatic cycling files: per-cycle capacities and the outcomes computed from them.

Formats (text exports, read with pandas; ``detect_format`` looks at the name and first lines):

- ``biologic_mpt``: EC-Lab "Export as text" (``.mpt``): the ``EC-Lab ASCII FILE`` header block
  with ``Nb header lines : N``, then tab-separated columns including ``cycle number``,
  ``Q charge/mA.h`` and ``Q discharge/mA.h``; a decimal comma (French or German Windows) is
  read as well.
- ``neware_csv``: Neware BTSDA "cycle" sheet exported as CSV (or tab- or ``;``-separated with
  decimal commas, as Excel saves it: :mod:`doe.instruments.tables`): ``Cycle Index``,
  ``Chg. Cap.(mAh)``, ``DChg. Cap.(mAh)`` (a sheet set to Ah: ``Chg. Cap.(Ah)``, read x 1000); or
  its "record" sheet (one row per point, with
  ``Step Index``, ``Step Type`` and ``Current(mA)``), whose capacities restart at every step.
- ``arbin_csv``: Arbin MITS Pro / MITS 8 channel export (comma-, tab- or ``;``-separated): ``Cycle_Index``,
  ``Charge_Capacity(Ah)``, ``Discharge_Capacity(Ah)`` (MITS Pro 8: ``Charge_Capacity (Ah)``; the
  spellings read: :mod:`doe.instruments.spellings`) (cumulative within the cycle; counters that
  run on through the test are read per cycle: :mod:`doe.instruments.counters`).
- ``maccor_txt``: MACCOR text export: a header line, then tab-separated ``Cyc#``, ``Step``,
  ``Amp-hr`` (per step) and ``State`` (``C`` charge, ``D`` discharge, ``R`` rest).

Binary files (read by kept libraries, rules in :mod:`doe.instruments.binary`):

- ``biologic_mpr``: EC-Lab's raw ``.mpr``, through ``galvani`` (``datalab-org-galvani``);
- ``neware_nda``: Neware ``.nda``/``.ndax``, through ``NewareNDA``.

Rules (the same for every format):

- a cycle's charge (discharge) capacity is the largest charge (discharge) capacity the file
  reports within that cycle: the counters of these instruments accumulate within a cycle and
  restart, so the largest value is the half-cycle's total. MACCOR's ``Amp-hr`` and the
  capacities of Neware's record sheet restart at every step, so there a half-cycle is the sum
  of its steps' largest values (a CC step then a CV step is one charge);
- cycles are numbered as the instrument numbers them, shifted so that the first cycle with
  a charge is cycle 1 (EC-Lab counts from 0); where the file has a current column, a cycle
  charges only where a row's current is a charge (:func:`current_direction`) or its charge is at
  least :data:`REST_FRACTION` of the file's largest, so a rest numbered as its own cycle, whose
  residual current added to the counters, is not cycle 1; a file whose first row is past cycle 1 (a part of a
  test: :data:`~doe.instruments.tables.FIRST_CYCLE_NUMBER`) is refused; a cycle number that goes down (two exports in
  one file, a resumed test that restarted its count) is refused, not renumbered;
- a charge is paired with the discharge that follows it: a numbered cycle that discharges before
  it charges (a cycler counting cycles from a discharge) is refused
  (:func:`refuse_discharge_before_charge`), where the file says which rows discharge;
- a negative capacity (:data:`CAPACITY_COLUMNS`: they count up from 0) is refused with its line
  and column: a sign convention or a broken file, not a cycle without a charge;
- rows repeated or out of order in a point-by-point export (a record number that does not
  rise, a step number that goes back within a cycle: :func:`refuse_repeated_rows`) are refused,
  not summed twice;
- the text itself (encoding, delimiter, decimal separator, empty rows, numbers refused with
  their line and column) is read by :mod:`doe.instruments.tables`;
- charge or discharge by the current where a format has no state column (EC-Lab, Arbin):
  ``|I|`` at most :data:`REST_FRACTION` of the file's largest ``|I|`` is rest
  (:func:`current_direction`), so a rest's residual current counts for neither;
- per gram: capacity in mAh divided by the active mass in g (``active_mass_mg / 1000``);
- first-cycle Coulombic efficiency = first discharge / first charge x 100 (cathode: charge
  first);
- capacity retention at cycle n = discharge capacity at n / discharge capacity at the
  reference cycle x 100 (at the retention cycle without a row there, but with rows on both
  sides of it: :func:`doe.domain.fade.value_at`, as for a curve outcome); a cycle with a charge and no
  discharge (anywhere in the file), or a last cycle whose discharge
  stopped more than :data:`DISCHARGE_END_TOLERANCE_V` above every earlier discharge's end
  voltage (a test exported while it runs; in a file without voltages, one whose CE is more than
  :data:`LAST_CE_DROP_PCT` below every earlier cycle's), has no retention (``discharge_finished``);
- rate capability: see :func:`rate_capability` (C-rates from the discharge currents).
"""

from __future__ import annotations

import math
import numbers
import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from doe.domain.fade import value_at
from doe.instruments.counters import per_cycle_counters
from doe.instruments.row_checks import (
    RECORD_COLUMNS,
    refuse_discharge_before_charge,
    refuse_repeated_rows,
)
from doe.instruments.spellings import (
    ARBIN_CHARGE,
    ARBIN_CURRENT,
    ARBIN_DISCHARGE,
    ARBIN_VOLTAGE,
    CAPACITY_SPELLINGS,
    NEWARE_CHARGE,
    NEWARE_CURRENT,
    NEWARE_DISCHARGE,
    has_any,
    spelled,
)
from doe.instruments.tables import (
    MAX_FILE_BYTES,
    InstrumentFileError,
    check_size,
    decimal_separator,
    delimited_table,
    instrument_table,
    numeric_columns,
    read_text,
    text_column,
)

CyclingFormat = Literal["biologic_mpt", "neware_csv", "arbin_csv", "maccor_txt"]
FORMATS: tuple[CyclingFormat, ...] = ("biologic_mpt", "neware_csv", "arbin_csv", "maccor_txt")
"""The text exports (the generator in :mod:`doe.instruments.synthetic` writes each of them)."""
BinaryFormat = Literal["biologic_mpr", "neware_nda"]
BINARY_FORMATS: tuple[BinaryFormat, ...] = ("biologic_mpr", "neware_nda")
BINARY_SUFFIXES: dict[str, BinaryFormat] = {".mpr": "biologic_mpr", ".nda": "neware_nda", ".ndax": "neware_nda"}
CAPACITY_COLUMNS = frozenset({"Q charge/mA.h", "Q discharge/mA.h", "Amp-hr", *CAPACITY_SPELLINGS})
"""The capacity columns of the text exports: counters from 0 up, so a negative value is refused."""
REST_CURRENT_MA = 1e-6
"""A current at or below this (mA, in magnitude) is rest, whatever the file's currents."""
REST_FRACTION = 0.005
"""A current at or below this fraction of the file's largest current (in magnitude) is rest: the
residual current a cycler logs at open circuit (nA to a few uA), not a charge or a discharge. A
rate test from C/20 to 5C (a factor of 100) keeps every discharge."""
DISCHARGE_END_TOLERANCE_V = 0.05
"""A last discharge that stopped more than this above every earlier discharge's end voltage is
unfinished (a test exported while it runs)."""
LAST_CE_DROP_PCT = 5.0
"""In a file without voltages (Neware's cycle sheet), a last cycle whose Coulombic efficiency is
more than this many percentage points below every earlier cycle's is unfinished (a test exported
while it discharges): a discharge stopped halfway halves the CE."""


def current_direction(current_ma: np.ndarray) -> np.ndarray:
    """+1 (charge), -1 (discharge) or 0 (rest) per row: rest where ``|I|`` is at most
    :data:`REST_FRACTION` of the largest ``|I|`` of the rows, or at most :data:`REST_CURRENT_MA`."""
    current_ma = np.asarray(current_ma, dtype=float)
    magnitude = np.abs(current_ma[np.isfinite(current_ma)])
    threshold = max(REST_CURRENT_MA, REST_FRACTION * float(magnitude.max()) if magnitude.size else 0.0)
    return np.where(current_ma > threshold, 1, np.where(current_ma < -threshold, -1, 0))


def detect_format(path: str | Path) -> CyclingFormat | BinaryFormat:
    """The cycling format of ``path`` from its name and first lines (see the module docstring)."""
    path = Path(path)
    if path.suffix.lower() in BINARY_SUFFIXES:
        check_size(path)
        return BINARY_SUFFIXES[path.suffix.lower()]
    head = read_text(path)[:4000]
    if head.startswith("EC-Lab ASCII FILE"):
        return "biologic_mpt"
    first = head.splitlines()[0] if head else ""
    if "Cycle Index" in first and has_any(first, NEWARE_CHARGE):
        return "neware_csv"
    if "Cycle_Index" in first and has_any(first, ARBIN_CHARGE):
        return "arbin_csv"
    if "Cyc#" in head and "Amp-hr" in head:
        return "maccor_txt"
    raise InstrumentFileError(
        f"{path.name}: not a cycling export doe reads (BioLogic .mpt or .mpr, Neware CSV, .nda or .ndax, "
        "Arbin CSV or MACCOR text); check the file or export it again")


def mpt_frame(path: Path, text: str) -> pd.DataFrame:
    """The data table of an EC-Lab text export (header skipped, decimal point or comma)."""
    match = re.search(r"Nb header lines\s*:\s*(\d+)", text[:4000])
    if match is None:
        raise InstrumentFileError(f"{path.name}: the EC-Lab header has no 'Nb header lines' line")
    skip = int(match.group(1)) - 1
    lines = text.splitlines()
    if len(lines) <= skip + 1:
        raise InstrumentFileError(f"{path.name}: no data after the {skip + 1}-line header (truncated file?)")
    return instrument_table(path, "\n".join(lines[skip:]), line_offset=skip, sep="\t",
                            decimal=decimal_separator("\n".join(lines[skip + 1:skip + 101])))


def _read_mpt(path: Path, text: str) -> pd.DataFrame:
    frame = mpt_frame(path, text)
    out = numeric_columns(frame, path, {"cycle number": "cycle", "Q charge/mA.h": "charge_mah",
                                        "Q discharge/mA.h": "discharge_mah"}, non_negative=CAPACITY_COLUMNS)
    return _with_discharge_rows(out, frame, path, mpt_current_column(frame), 1.0, "Ewe/V", "cycle number")


MPT_CURRENT_COLUMNS = ("I/mA", "<I>/mA")
"""EC-Lab's current columns, in the order doe takes them: ``I/mA``, or ``<I>/mA`` (the mean
current over each recorded interval, which GCPL writes in its place)."""


def mpt_current_column(frame: pd.DataFrame) -> str:
    """The current column of an EC-Lab table (:data:`MPT_CURRENT_COLUMNS`), ``I/mA`` where it has none."""
    return next((c for c in MPT_CURRENT_COLUMNS if c in frame.columns), MPT_CURRENT_COLUMNS[0])


def _with_discharge_rows(out: pd.DataFrame, frame: pd.DataFrame, path: Path, current: str, to_ma: float,
                         voltage: str, cycle_column: str) -> pd.DataFrame:
    """Adds ``charging`` (whether a row charges), ``discharge_current_ma`` and ``discharge_voltage_v``
    (|I| and the voltage on discharge rows, NaN elsewhere: :func:`current_direction`) where the file
    has the ``current`` column,
    refusing a cycle that discharges before it charges (:func:`refuse_discharge_before_charge`)."""
    if current in frame.columns:
        columns = {current: "i", voltage: "v"} if voltage in frame.columns else {current: "i"}
        numbers = numeric_columns(frame, path, columns)
        amps = numbers["i"].to_numpy(dtype=float) * to_ma
        direction = current_direction(amps)
        refuse_discharge_before_charge(path, out["cycle"], direction, cycle_column)
        discharge = direction < 0
        out["charging"] = direction > 0
        out["discharge_current_ma"] = np.where(discharge, -amps, np.nan)
        if "v" in numbers.columns:
            out["discharge_voltage_v"] = np.where(discharge, numbers["v"].to_numpy(dtype=float), np.nan)
    return out


def csv_frame(path: Path, text: str) -> pd.DataFrame:
    """A comma-, tab- or ``;``-separated export (Neware, Arbin), read by :func:`~doe.instruments.tables.delimited_table`."""
    return delimited_table(path, text)


def neware_states(frame: pd.DataFrame, path: Path) -> pd.Series:
    """C, D or R per row of Neware's record sheet, from ``Step Type`` ("CC Chg", "CV DChg", "Rest")."""
    step_type = text_column(frame, path, "Step Type").str.lower()
    return pd.Series(np.select([step_type.str.contains("dchg"), step_type.str.contains("chg")], ["D", "C"], "R"),
                     index=frame.index)


def _read_neware(path: Path, text: str) -> pd.DataFrame:
    frame = csv_frame(path, text)
    (charge, to_mah), (discharge, d_to_mah) = spelled(frame.columns, NEWARE_CHARGE), spelled(frame.columns, NEWARE_DISCHARGE)
    if "Step Type" not in frame.columns:  # the cycle sheet: one row per cycle
        cycles = numeric_columns(frame, path, {"Cycle Index": "cycle", charge: "charge_mah", discharge: "discharge_mah"},
                                 non_negative=CAPACITY_COLUMNS)
        cycles["charge_mah"] *= to_mah
        cycles["discharge_mah"] *= d_to_mah
        again = np.flatnonzero(cycles["cycle"].duplicated().to_numpy(dtype=bool))
        if len(again):  # the largest of each column would mix the two rows' charge and discharge
            line = cycles.index[int(again[0])]
            cycle = cycles["cycle"].loc[line]
            first = cycles.index[cycles["cycle"].eq(cycle).to_numpy(dtype=bool)][0]
            raise InstrumentFileError(f"{path.name}: cycle {cycle:g} is written twice (lines {first} and {line}); the "
                                      "cycle sheet has one row per cycle (two exports in one file, a resumed test?): "
                                      "doe does not guess which row is the cycle's; export the test again as one file")
        return cycles
    # the record sheet: one row per point, capacities restart at every step ("CC Chg", "CV Chg", ...)
    numbers = numeric_columns(frame, path, {"Cycle Index": "cycle", "Step Index": "step",
                                            charge: "charge_mah", discharge: "discharge_mah"},
                              non_negative=CAPACITY_COLUMNS)
    current_column, to_ma = spelled(frame.columns, NEWARE_CURRENT)
    current = _optional_column(frame, path, current_column)
    refuse_repeated_rows(path, frame, numbers)
    refuse_discharge_before_charge(path, numbers["cycle"], _state_direction(neware_states(frame, path)), "Cycle Index")
    return _sum_of_steps(numbers["cycle"], numbers["step"], neware_states(frame, path),
                         numbers["charge_mah"] * to_mah + numbers["discharge_mah"] * d_to_mah,
                         None if current is None else current.abs() * to_ma,
                         _optional_column(frame, path, "Voltage(V)"))


def _state_direction(state: pd.Series) -> np.ndarray:
    """+1, -1 or 0 per row of a state column (C charge, D discharge, else rest)."""
    return np.select([state.eq("C").to_numpy(dtype=bool), state.eq("D").to_numpy(dtype=bool)], [1, -1], 0)


def _optional_column(frame: pd.DataFrame, path: Path, column: str) -> pd.Series | None:
    """``column`` as numbers (:func:`numeric_columns`), or None where the file does not have it."""
    return numeric_columns(frame, path, {column: "x"})["x"] if column in frame.columns else None


def _sum_of_steps(cycle: pd.Series, step: pd.Series, state: pd.Series, capacity_mah: pd.Series,
                  current_ma: pd.Series | None, voltage_v: pd.Series | None = None) -> pd.DataFrame:
    """Per-cycle capacities from counters that restart at every step: a half-cycle is the sum
    of its steps' largest values (a CC step then a CV step is one charge). ``state`` is C, D or
    R; ``current_ma`` the current's magnitude, averaged over each cycle's D rows; ``voltage_v``
    gives each cycle's last D row's voltage (``discharge_voltage_v``)."""
    new_step = cycle.ne(cycle.shift()) | step.ne(step.shift()) | state.ne(state.shift())
    steps = pd.DataFrame({"cycle": cycle, "state": state, "step": new_step.cumsum(), "capacity_mah": capacity_mah})
    totals = steps.groupby(["cycle", "step", "state"], sort=False)["capacity_mah"].max().reset_index()
    charge = totals[totals["state"] == "C"].groupby("cycle")["capacity_mah"].sum()
    discharge = totals[totals["state"] == "D"].groupby("cycle")["capacity_mah"].sum()
    cycles = sorted(set(cycle))
    out = pd.DataFrame({"cycle": cycles, "charge_mah": charge.reindex(cycles, fill_value=0.0).to_numpy(),
                        "discharge_mah": discharge.reindex(cycles, fill_value=0.0).to_numpy()})
    if current_ma is not None:
        out["discharge_current_ma"] = current_ma.where(state == "D").groupby(cycle).mean().reindex(cycles).to_numpy()
    if voltage_v is not None:
        out["discharge_voltage_v"] = voltage_v.where(state == "D").groupby(cycle).last().reindex(cycles).to_numpy()
    return out


ARBIN_COUNTERS = {"Charge_Capacity(Ah)": "charge_mah", "Discharge_Capacity(Ah)": "discharge_mah"}
"""Arbin's capacity counters (accumulating within a cycle; restarting at the next, or running on) and their
columns (spelled ``Charge_Capacity (Ah)`` by MITS Pro 8: :mod:`doe.instruments.spellings`)."""


def _read_arbin(path: Path, text: str) -> pd.DataFrame:
    frame = csv_frame(path, text)
    (charge, to_mah), (discharge, _) = spelled(frame.columns, ARBIN_CHARGE), spelled(frame.columns, ARBIN_DISCHARGE)
    out = numeric_columns(frame, path, {"Cycle_Index": "cycle", charge: "charge_mah", discharge: "discharge_mah"},
                          non_negative=CAPACITY_COLUMNS)
    refuse_repeated_rows(path, frame, out)
    out = per_cycle_counters(out, ARBIN_COUNTERS.values())
    out[["charge_mah", "discharge_mah"]] *= to_mah
    (current, to_ma), (voltage, _) = spelled(frame.columns, ARBIN_CURRENT), spelled(frame.columns, ARBIN_VOLTAGE)
    return _with_discharge_rows(out, frame, path, current, to_ma, voltage, "Cycle_Index")


def maccor_frame(path: Path, text: str) -> pd.DataFrame:
    """The data table of a MACCOR text export (the lines above the column header skipped)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Rec#") or "Cyc#" in line.split("\t")), None)
    if start is None:
        raise InstrumentFileError(f"{path.name}: no MACCOR column header (Rec#, Cyc#, ...)")
    frame = instrument_table(path, "\n".join(lines[start:]), line_offset=start, sep="\t")
    if "State" not in frame.columns:
        raise InstrumentFileError(f"{path.name}: missing column 'State' (C charge, D discharge)")
    return frame


def _read_maccor(path: Path, text: str) -> pd.DataFrame:
    frame = maccor_frame(path, text)
    state = text_column(frame, path, "State")
    numbers = numeric_columns(frame, path, {"Cyc#": "cycle", "Step": "step", "Amp-hr": "capacity_ah"},
                              non_negative=CAPACITY_COLUMNS)
    # Amp-hr restarts at each step; Amps has no sign (State D is discharge)
    amps = _optional_column(frame, path, "Amps")
    refuse_repeated_rows(path, frame, numbers)
    refuse_discharge_before_charge(path, numbers["cycle"], _state_direction(state), "Cyc#")
    return _sum_of_steps(numbers["cycle"], numbers["step"], state, numbers["capacity_ah"] * 1000.0,
                         None if amps is None else amps.abs() * 1000.0, _optional_column(frame, path, "Volts"))


_READERS = {"biologic_mpt": _read_mpt, "neware_csv": _read_neware, "arbin_csv": _read_arbin,
            "maccor_txt": _read_maccor}


def read_cycling(path: str | Path, *, active_mass_mg: float | None = None,
                 file_format: CyclingFormat | BinaryFormat | None = None) -> pd.DataFrame:
    """Per-cycle charge and discharge capacity of a cycling file.

    Args:
        path: the exported file.
        active_mass_mg: active material mass of the cell; adds ``*_mah_per_g`` columns.
        file_format: one of :data:`FORMATS` or :data:`BINARY_FORMATS` (default: detected).

    Returns:
        One row per cycle: ``cycle`` (from 1), ``charge_capacity_mah``,
        ``discharge_capacity_mah``, ``discharge_current_ma`` (mean |I| of the discharge rows,
        charge-weighted for a binary file; NaN without a current column),
        ``discharge_end_voltage_v`` (the voltage of the discharge's last row; NaN without a
        voltage column), ``discharge_finished`` (False for
        a last cycle whose discharge has not begun or stopped above the cutoff the earlier
        discharges reached: see the module docstring) and, with a mass,
        ``charge_capacity_mah_per_g`` and ``discharge_capacity_mah_per_g``.

    Raises:
        InstrumentFileError: unknown format, missing columns, a truncated file, no cycle, or a
            mass that is not a positive number.
    """
    path = Path(path)
    mass_g = active_mass_g(active_mass_mg, path)
    kind = file_format or detect_format(path)
    if kind in BINARY_FORMATS:
        from doe.instruments.binary import read_binary

        check_size(path)
        points = read_binary(path, kind)  # type: ignore[arg-type]
    elif kind in _READERS:
        points = _READERS[kind](path, read_text(path))  # type: ignore[index]
    else:
        raise InstrumentFileError(f"{path.name}: file_format must be one of {[*FORMATS, *BINARY_FORMATS]}, "
                                  f"got {kind!r}")
    overflow = np.flatnonzero((~np.isfinite(points[["charge_mah", "discharge_mah"]].to_numpy(dtype=float))).any(axis=1))
    if len(overflow):  # a finite number in the file's unit (1e306 Ah), past a float's range in mAh
        raise InstrumentFileError(f"{path.name}: cycle {points['cycle'].iloc[overflow[0]]:g} has a capacity too large "
                                  "to be a number of mAh, not a measurement; check the file or export it again")
    points = points.assign(**{c: np.nan for c in ("discharge_current_ma", "discharge_voltage_v")
                              if c not in points.columns})
    if "charging" not in points.columns:  # a format whose charge capacity comes from charge rows alone
        points = points.assign(charging=True)
    grouped = points.groupby("cycle", sort=True).agg(
        charge_mah=("charge_mah", "max"), discharge_mah=("discharge_mah", "max"), charging=("charging", "any"),
        discharge_current_ma=("discharge_current_ma", "mean"), discharge_end_voltage_v=("discharge_voltage_v", "last"))
    grouped = grouped[(grouped["charge_mah"] > 0) | (grouped["discharge_mah"] > 0)]
    if grouped.empty:
        raise InstrumentFileError(f"{path.name}: no cycle with a charge or discharge capacity")
    # a rest numbered as its own cycle adds its residual current's nA h to the counters: no charge;
    # a slow formation charge, under the rest threshold of a file's fast rate steps, is one all the same
    charge_mah = grouped["charge_mah"]
    charged = grouped.index[(charge_mah > 0) & (grouped["charging"].to_numpy(dtype=bool)
                                                | (charge_mah >= REST_FRACTION * charge_mah.max()))]
    first = charged[0] if len(charged) else grouped.index[0]
    grouped = grouped.loc[grouped.index >= first]
    table = pd.DataFrame({"cycle": (grouped.index - first + 1).astype(int),
                          "charge_capacity_mah": grouped["charge_mah"].to_numpy(dtype=float),
                          "discharge_capacity_mah": grouped["discharge_mah"].to_numpy(dtype=float),
                          "discharge_current_ma": grouped["discharge_current_ma"].to_numpy(dtype=float),
                          "discharge_end_voltage_v": grouped["discharge_end_voltage_v"].to_numpy(dtype=float)})
    table["discharge_finished"] = _finished_discharges(table["discharge_capacity_mah"].to_numpy(dtype=float),
                                                       table["discharge_end_voltage_v"].to_numpy(dtype=float),
                                                       table["charge_capacity_mah"].to_numpy(dtype=float))
    if mass_g is not None:
        table["charge_capacity_mah_per_g"] = table["charge_capacity_mah"] / mass_g
        table["discharge_capacity_mah_per_g"] = table["discharge_capacity_mah"] / mass_g
    return table.reset_index(drop=True)


def _finished_discharges(capacity_mah: np.ndarray, end_voltage_v: np.ndarray, charge_mah: np.ndarray) -> np.ndarray:
    """Whether each cycle's discharge is finished: every cycle's but the last's, whose discharge
    is unfinished where it has none yet, or where it stopped more than
    :data:`DISCHARGE_END_TOLERANCE_V` above every earlier discharge's end voltage (a test exported
    in the middle of a discharge: a discharge ends at its cutoff). Without a voltage to compare
    (Neware's cycle sheet), the last discharge is unfinished where its CE falls more than
    :data:`LAST_CE_DROP_PCT` below every earlier cycle's (the first cycle's left out where later
    ones precede: its CE is lowered by the first charge's irreversible loss). Without an earlier
    discharge to compare with, a last discharge counts as finished."""
    finished = np.ones(len(capacity_mah), dtype=bool)
    if not len(capacity_mah):
        return finished
    discharged = capacity_mah[:-1] > 0
    earlier = end_voltage_v[:-1][discharged & np.isfinite(end_voltage_v[:-1])]
    if capacity_mah[-1] <= 0:
        finished[-1] = False
    elif earlier.size and np.isfinite(end_voltage_v[-1]):
        finished[-1] = bool(end_voltage_v[-1] <= earlier.max() + DISCHARGE_END_TOLERANCE_V)
    elif charge_mah[-1] > 0:
        both = np.flatnonzero(discharged & (charge_mah[:-1] > 0))
        compared = both[1:] if len(both) > 1 and both[0] == 0 else both
        if compared.size:
            earlier_ce = 100.0 * capacity_mah[compared] / charge_mah[compared]
            finished[-1] = bool(100.0 * capacity_mah[-1] / charge_mah[-1] >= earlier_ce.min() - LAST_CE_DROP_PCT)
    return finished


def is_positive_number(value: object) -> bool:
    """Whether ``value`` is a finite number above 0: an int or a float, or a NumPy one (a mass
    taken from a pandas column of whole numbers is an ``np.int64``); not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and float(value) > 0


def active_mass_g(active_mass_mg: float | None, path: Path) -> float | None:
    """The active mass in g, refusing one that is not a positive number of mg (None: no mass)."""
    if active_mass_mg is None:
        return None
    if not is_positive_number(active_mass_mg):
        raise InstrumentFileError(f"{path.name}: active_mass_mg must be a positive number of milligrams, "
                                  f"got {active_mass_mg!r}")
    return float(active_mass_mg) / 1000.0


def cycling_outcomes(path: str | Path, *, active_mass_mg: float, reference_cycle: int = 1,
                     retention_cycle: int = 200, one_c_mah_per_g: float | None = None,
                     file_format: CyclingFormat | BinaryFormat | None = None) -> pd.Series:
    """The outcomes a campaign records, computed from a cycling file by the module's rules.

    Returns:
        ``first_cycle_charge_capacity_mah_per_g``, ``first_cycle_discharge_capacity_mah_per_g``,
        ``first_cycle_ce_pct``, ``capacity_retention_pct`` (at ``retention_cycle``, relative to
        ``reference_cycle``, by the rule of a curve outcome measured there:
        :func:`doe.domain.fade.value_at` on :func:`retention_curve`, so a file logged past the
        cycle without a row there gives the interpolation between the rows on both sides; NaN
        while the file stops before it: a retention after 50 cycles is not a retention after
        200, nor while that cycle's discharge is unfinished),
        ``last_cycle`` and ``retention_at_last_cycle_pct`` (the last cycle with a retention);
        :func:`retention_curve` gives every cycle. Where the discharges ran at more than one
        C-rate (:func:`rate_capability`): ``discharge_capacity_mah_per_g_at_<rate>c`` and, with
        both 0.1C and 1C, ``rate_capability_pct``.
    """
    path = Path(path)
    table = read_cycling(path, active_mass_mg=active_mass_mg, file_format=file_format)
    first = table.iloc[0]
    if first["charge_capacity_mah"] <= 0:
        raise InstrumentFileError(f"{path.name}: the first cycle has no charge capacity")
    curve = retention_curve(table, reference_cycle=reference_cycle, name=path.name)
    rates = rate_capability(table, active_mass_mg=active_mass_mg, one_c_mah_per_g=one_c_mah_per_g, name=path.name)
    at_cycle = value_at(curve.index.to_numpy(dtype=float), curve.to_numpy(dtype=float), retention_cycle)
    return pd.Series({
        "first_cycle_charge_capacity_mah_per_g": float(first["charge_capacity_mah_per_g"]),
        "first_cycle_discharge_capacity_mah_per_g": float(first["discharge_capacity_mah_per_g"]),
        "first_cycle_ce_pct": float(100.0 * first["discharge_capacity_mah"] / first["charge_capacity_mah"]),
        "capacity_retention_pct": math.nan if at_cycle is None else float(at_cycle),
        "last_cycle": int(curve.index[-1]),
        "retention_at_last_cycle_pct": float(curve.iloc[-1]),
        **rates,
    })


def c_rate_label(rate: float) -> str:
    """``0.1`` -> ``"0p1"``, ``1.0`` -> ``"1"``: a C-rate as part of an outcome name."""
    return f"{rate:g}".replace(".", "p")


def rate_capability(table: pd.DataFrame, *, active_mass_mg: float, one_c_mah_per_g: float | None = None,
                    name: str = "file") -> dict[str, float]:
    """Discharge capacity at each C-rate of a :func:`read_cycling` table, and 1C over 0.1C.

    A cycle's C-rate is its mean discharge current over the 1C current, rounded to one
    significant figure (0.107 -> 0.1, C/3 -> 0.3); 1C is ``one_c_mah_per_g`` x the active
    mass per hour, by default the first cycle's discharge capacity per hour. An unfinished
    discharge (``discharge_finished`` False) counts for no rate. Returns nothing
    for a file without currents (Neware's cycle sheet) or whose discharges ran at one rate;
    else ``discharge_capacity_mah_per_g_at_<rate>c`` (the mean over the cycles at that rate,
    ``0p1`` for 0.1C) and, with both 0.1C and 1C, ``rate_capability_pct`` = capacity at 1C /
    capacity at 0.1C x 100 %.
    """
    if one_c_mah_per_g is None:
        one_c_ma = float(table["discharge_capacity_mah"].iloc[0])
    elif not is_positive_number(one_c_mah_per_g):
        raise InstrumentFileError(f"{name}: one_c_mah_per_g must be a positive number, got {one_c_mah_per_g!r}")
    else:
        one_c_ma = float(one_c_mah_per_g) * float(active_mass_mg) / 1000.0
    if "discharge_current_ma" not in table.columns or not one_c_ma > 0:
        return {}
    # an unfinished discharge (a test exported while it runs) has no capacity at its rate yet
    ratio = np.where(_finished(table), table["discharge_current_ma"].to_numpy(dtype=float) / one_c_ma, np.nan)
    rates = [float(f"{r:.0e}") if math.isfinite(r) and r > 0 else math.nan for r in ratio]
    capacity = table["discharge_capacity_mah_per_g"].to_numpy(dtype=float)
    by_rate = pd.Series(capacity).groupby(pd.Series(rates)).mean()
    if len(by_rate) < 2:
        return {}
    values = {f"discharge_capacity_mah_per_g_at_{c_rate_label(r)}c": float(v)
              for r, v in zip(by_rate.index.to_numpy(dtype=float), by_rate.to_numpy(dtype=float), strict=True)}
    if 0.1 in by_rate.index and 1.0 in by_rate.index:
        values["rate_capability_pct"] = float(by_rate.loc[1.0] / by_rate.loc[0.1] * 100.0)
    return values


def retention_curve(table: pd.DataFrame, *, reference_cycle: int = 1, name: str = "file") -> pd.Series:
    """Capacity retention (%) at each cycle of a :func:`read_cycling` table, indexed by cycle; a
    cycle without a discharge (the last one, charged and not discharged yet, or one the test
    went past without discharging), or a last cycle whose discharge is unfinished
    (``discharge_finished``; a test exported while it runs), is left out: its capacity is
    unknown, not 0."""
    by_cycle = table.set_index("cycle")["discharge_capacity_mah"]
    finished = _finished(table) & (by_cycle.to_numpy() > 0)
    if reference_cycle not in by_cycle.index or by_cycle[reference_cycle] <= 0:
        raise InstrumentFileError(f"{name}: reference_cycle {reference_cycle} has no discharge capacity "
                                  f"(cycles {int(by_cycle.index.min())} to {int(by_cycle.index.max())})")
    if not finished[by_cycle.index.get_loc(reference_cycle)]:
        raise InstrumentFileError(f"{name}: reference_cycle {reference_cycle} has no finished discharge (the file "
                                  "ends while it runs); choose an earlier reference_cycle, or export the test again "
                                  "once the cycle is done")
    by_cycle = by_cycle[finished]
    return (100.0 * by_cycle / by_cycle[reference_cycle]).rename("capacity_retention_pct")


def _finished(table: pd.DataFrame) -> np.ndarray:
    """``discharge_finished`` of a :func:`read_cycling` table (all True where it has none)."""
    if "discharge_finished" not in table.columns:
        return np.ones(len(table), dtype=bool)
    return table["discharge_finished"].to_numpy(dtype=bool).copy()


__all__ = [
    "ARBIN_COUNTERS",
    "BINARY_FORMATS",
    "CAPACITY_COLUMNS",
    "DISCHARGE_END_TOLERANCE_V",
    "FORMATS",
    "LAST_CE_DROP_PCT",
    "MAX_FILE_BYTES",
    "MPT_CURRENT_COLUMNS",
    "RECORD_COLUMNS",
    "REST_CURRENT_MA",
    "REST_FRACTION",
    "BinaryFormat",
    "CyclingFormat",
    "InstrumentFileError",
    "active_mass_g",
    "c_rate_label",
    "check_size",
    "csv_frame",
    "current_direction",
    "cycling_outcomes",
    "detect_format",
    "instrument_table",
    "is_positive_number",
    "maccor_frame",
    "mpt_current_column",
    "mpt_frame",
    "neware_states",
    "numeric_columns",
    "rate_capability",
    "read_cycling",
    "read_text",
    "refuse_discharge_before_charge",
    "refuse_repeated_rows",
    "retention_curve",
]
