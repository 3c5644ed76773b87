"""Galvanostatic cycling files: per-cycle capacities and the outcomes computed from them.

Formats (text exports, read with pandas; ``detect_format`` looks at the name and first lines):

- ``biologic_mpt``: EC-Lab "Export as text" (``.mpt``): the ``EC-Lab ASCII FILE`` header block
  with ``Nb header lines : N``, then tab-separated columns including ``cycle number``,
  ``Q charge/mA.h`` and ``Q discharge/mA.h``; a decimal comma (French or German Windows) is
  read as well.
- ``neware_csv``: Neware BTSDA "cycle" sheet exported as CSV: ``Cycle Index``,
  ``Chg. Cap.(mAh)``, ``DChg. Cap.(mAh)``; or its "record" sheet (one row per point, with
  ``Step Index``, ``Step Type`` and ``Current(mA)``), whose capacities restart at every step.
- ``arbin_csv``: Arbin MITS Pro / MITS 8 channel export: ``Cycle_Index``,
  ``Charge_Capacity(Ah)``, ``Discharge_Capacity(Ah)`` (cumulative within the cycle).
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
  a charge is cycle 1 (EC-Lab counts from 0); a cycle number that goes down (two exports in
  one file, a resumed test that restarted its count) is refused, not renumbered;
- an empty field after the last named column (a trailing delimiter) is ignored; a row with
  more fields than the column header is refused;
- per gram: capacity in mAh divided by the active mass in g (``active_mass_mg / 1000``);
- first-cycle Coulombic efficiency = first discharge / first charge x 100 (cathode: charge
  first);
- capacity retention at cycle n = discharge capacity at n / discharge capacity at the
  reference cycle x 100; a last cycle with a charge and no discharge (a test exported while
  it runs) has no retention;
- rate capability: see :func:`rate_capability` (C-rates from the discharge currents).
"""

from __future__ import annotations

import io
import math
import re
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from doe.domain.records import MAX_EVIDENCE_BYTES
from doe.errors import DataError

CyclingFormat = Literal["biologic_mpt", "neware_csv", "arbin_csv", "maccor_txt"]
FORMATS: tuple[CyclingFormat, ...] = ("biologic_mpt", "neware_csv", "arbin_csv", "maccor_txt")
"""The text exports (the generator in :mod:`doe.instruments.synthetic` writes each of them)."""
BinaryFormat = Literal["biologic_mpr", "neware_nda"]
BINARY_FORMATS: tuple[BinaryFormat, ...] = ("biologic_mpr", "neware_nda")
BINARY_SUFFIXES: dict[str, BinaryFormat] = {".mpr": "biologic_mpr", ".nda": "neware_nda", ".ndax": "neware_nda"}
MAX_FILE_BYTES = MAX_EVIDENCE_BYTES
REST_CURRENT_MA = 1e-6
"""A current below this (mA, in magnitude) is rest."""


class InstrumentFileError(DataError):
    """An instrument file that cannot be read; the message names the file and the problem."""


def read_text(path: Path) -> str:
    """The text of an instrument file (UTF-8, Windows-1252, or UTF-16 with its byte-order mark),
    refusing empty, huge and binary files."""
    check_size(path)
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode Text", Notepad's "Unicode"
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as err:
            raise InstrumentFileError(f"{path.name}: starts as UTF-16 text but is not ({err.reason}); "
                                      "export it again") from None
    if b"\x00" in raw[:4096]:
        raise InstrumentFileError(f"{path.name}: a binary file that is not .mpr, .nda or .ndax; export it as text "
                                  "from the instrument's software")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InstrumentFileError(f"{path.name}: not readable as text")  # pragma: no cover - cp1252 decodes all bytes


def check_size(path: Path) -> int:
    """The size of ``path`` in bytes, refusing a missing, empty or huge file."""
    if not path.is_file():
        raise InstrumentFileError(f"{path.name}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise InstrumentFileError(f"{path.name}: the file is empty")
    if size > MAX_FILE_BYTES:
        raise InstrumentFileError(f"{path.name}: {size / 1e6:.0f} MB is over the {MAX_FILE_BYTES / 1e6:.0f} MB limit")
    return size


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
    if "Cycle Index" in first and "Chg. Cap.(mAh)" in first:
        return "neware_csv"
    if "Cycle_Index" in first and "Charge_Capacity(Ah)" in first:
        return "arbin_csv"
    if "Cyc#" in head and "Amp-hr" in head:
        return "maccor_txt"
    raise InstrumentFileError(
        f"{path.name}: not a cycling export doe reads (BioLogic .mpt or .mpr, Neware CSV, .nda or .ndax, "
        "Arbin CSV or MACCOR text); check the file or export it again")


def instrument_table(path: Path, text: str, *, line_offset: int = 0, **options: Any) -> pd.DataFrame:
    """``text`` read by ``pd.read_csv`` (``options``: ``sep``, ``decimal``), its first line the
    column names (stripped). An empty field after the last column (a trailing delimiter) is
    dropped; a row with more fields raises :class:`InstrumentFileError` naming the file and the
    row: its line in the file (``line_offset`` lines above ``text``) where pandas reports it,
    else its data row."""
    try:
        header = [str(c).strip() for c in pd.read_csv(io.StringIO(text), nrows=0, **options).columns]
        with warnings.catch_warnings():
            # pandas drops a first row's fields past the names with only this warning: refuse them instead
            warnings.filterwarnings("error", "Length of header or names does not match", pd.errors.ParserWarning)
            # one name more than the header holds a trailing delimiter's empty field; index_col=False:
            # else pandas takes a row's field past the names for a row index and shifts every column
            frame = pd.read_csv(io.StringIO(text), header=None, skiprows=1, names=range(len(header) + 1),
                                index_col=False, **options)
    except pd.errors.ParserWarning:
        raise InstrumentFileError(f"{path.name}: data row 1 has more fields than the column header; "
                                  "check the file or export it again") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        match = re.search(r"Expected \d+ fields in line (\d+)", str(err))
        if match is None:
            raise InstrumentFileError(f"{path.name}: not readable as a table ({str(err).strip()[:200]}); "
                                      "check the file or export it again") from None
        raise InstrumentFileError(f"{path.name}: line {int(match.group(1)) + line_offset} has more fields than "
                                  "the column header; check the file or export it again") from None
    past_header = np.flatnonzero(frame.pop(len(header)).notna().to_numpy())
    if len(past_header):
        raise InstrumentFileError(f"{path.name}: data row {int(past_header[0]) + 1} has a value after the last "
                                  "column of the header; check the file or export it again")
    frame.columns = header
    return frame


def numeric_columns(frame: pd.DataFrame, name: Path, columns: dict[str, str]) -> pd.DataFrame:
    """``frame``'s ``columns`` (old name -> new name) as numbers; a missing column, a cell that
    is not a number, or a column renamed ``cycle`` whose number goes down raises
    :class:`InstrumentFileError` naming the file."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InstrumentFileError(f"{name.name}: missing column(s) {missing}; found {list(frame.columns)[:12]}")
    out = pd.DataFrame({new: pd.to_numeric(frame[old], errors="coerce") for old, new in columns.items()})
    missing_rows = np.flatnonzero(out.isna().any(axis=1).to_numpy())
    if len(missing_rows):
        raise InstrumentFileError(
            f"{name.name}: a value that is not a number in data row {int(missing_rows[0]) + 1} (truncated file?)")
    if "cycle" in out.columns:
        cycle = out["cycle"].to_numpy(dtype=float)
        back = np.flatnonzero(np.diff(cycle) < 0)
        if len(back):
            k = int(back[0]) + 1
            raise InstrumentFileError(
                f"{name.name}: the cycle number goes back from {cycle[k - 1]:g} to {cycle[k]:g} in data row {k + 1} "
                "(two exports in one file, or a resumed test that restarted its count?); doe does not guess how "
                "to renumber it: export the test as one file with rising cycle numbers")
    return out


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
                      decimal="," if _decimal_comma(lines[skip + 1]) else ".")


def _read_mpt(path: Path, text: str) -> pd.DataFrame:
    frame = mpt_frame(path, text)
    out = numeric_columns(frame, path, {"cycle number": "cycle", "Q charge/mA.h": "charge_mah",
                                        "Q discharge/mA.h": "discharge_mah"})
    return _with_discharge_current(out, frame, "I/mA", 1.0)


def _with_discharge_current(out: pd.DataFrame, frame: pd.DataFrame, column: str, to_ma: float) -> pd.DataFrame:
    """Adds ``discharge_current_ma`` (|I| on discharge rows, NaN elsewhere) where the file has ``column``."""
    if column in frame.columns:
        current = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float) * to_ma
        out["discharge_current_ma"] = np.where(current < -REST_CURRENT_MA, -current, np.nan)
    return out


def _decimal_comma(line: str) -> bool:
    fields = line.split("\t")
    return any(re.fullmatch(r"-?\d+,\d+(E[-+]?\d+)?", f.strip()) for f in fields)


def csv_frame(path: Path, text: str) -> pd.DataFrame:
    """A comma-separated export (Neware, Arbin), read by :func:`instrument_table`."""
    return instrument_table(path, text)


def neware_states(frame: pd.DataFrame) -> pd.Series:
    """C, D or R per row of Neware's record sheet, from ``Step Type`` ("CC Chg", "CV DChg", "Rest")."""
    step_type = frame["Step Type"].astype(str).str.strip().str.lower()
    return pd.Series(np.select([step_type.str.contains("dchg"), step_type.str.contains("chg")], ["D", "C"], "R"),
                     index=frame.index)


def _read_neware(path: Path, text: str) -> pd.DataFrame:
    frame = csv_frame(path, text)
    if "Step Type" not in frame.columns:  # the cycle sheet: one row per cycle
        return numeric_columns(frame, path, {"Cycle Index": "cycle", "Chg. Cap.(mAh)": "charge_mah",
                                      "DChg. Cap.(mAh)": "discharge_mah"})
    # the record sheet: one row per point, capacities restart at every step ("CC Chg", "CV Chg", ...)
    numbers = numeric_columns(frame, path, {"Cycle Index": "cycle", "Step Index": "step", "Chg. Cap.(mAh)": "charge_mah",
                                     "DChg. Cap.(mAh)": "discharge_mah"})
    state = neware_states(frame)
    current = pd.to_numeric(frame["Current(mA)"], errors="coerce").abs() if "Current(mA)" in frame.columns else None
    return _sum_of_steps(numbers["cycle"], numbers["step"], state,
                         numbers["charge_mah"] + numbers["discharge_mah"], current)


def _sum_of_steps(cycle: pd.Series, step: pd.Series, state: pd.Series, capacity_mah: pd.Series,
                  current_ma: pd.Series | None) -> pd.DataFrame:
    """Per-cycle capacities from counters that restart at every step: a half-cycle is the sum
    of its steps' largest values (a CC step then a CV step is one charge). ``state`` is C, D or
    R; ``current_ma`` the current's magnitude, averaged over each cycle's D rows."""
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
    return out


def _read_arbin(path: Path, text: str) -> pd.DataFrame:
    frame = csv_frame(path, text)
    out = numeric_columns(frame, path, {"Cycle_Index": "cycle", "Charge_Capacity(Ah)": "charge_mah",
                                 "Discharge_Capacity(Ah)": "discharge_mah"})
    out[["charge_mah", "discharge_mah"]] *= 1000.0
    return _with_discharge_current(out, frame, "Current(A)", 1000.0)


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
    state = frame["State"].astype(str).str.strip()
    numbers = numeric_columns(frame, path, {"Cyc#": "cycle", "Step": "step", "Amp-hr": "capacity_ah"})
    # Amp-hr restarts at each step; Amps has no sign (State D is discharge)
    amps = pd.to_numeric(frame["Amps"], errors="coerce").abs() * 1000.0 if "Amps" in frame.columns else None
    return _sum_of_steps(numbers["cycle"], numbers["step"], state, numbers["capacity_ah"] * 1000.0, amps)


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
        ``discharge_capacity_mah`` and, with a mass, ``charge_capacity_mah_per_g`` and
        ``discharge_capacity_mah_per_g``.

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
    if "discharge_current_ma" not in points.columns:
        points = points.assign(discharge_current_ma=np.nan)
    grouped = points.groupby("cycle", sort=True).agg(
        charge_mah=("charge_mah", "max"), discharge_mah=("discharge_mah", "max"),
        discharge_current_ma=("discharge_current_ma", "mean"))
    grouped = grouped[(grouped["charge_mah"] > 0) | (grouped["discharge_mah"] > 0)]
    if grouped.empty:
        raise InstrumentFileError(f"{path.name}: no cycle with a charge or discharge capacity")
    charged = grouped.index[grouped["charge_mah"] > 0]
    first = charged[0] if len(charged) else grouped.index[0]
    grouped = grouped.loc[grouped.index >= first]
    table = pd.DataFrame({"cycle": (grouped.index - first + 1).astype(int),
                          "charge_capacity_mah": grouped["charge_mah"].to_numpy(dtype=float),
                          "discharge_capacity_mah": grouped["discharge_mah"].to_numpy(dtype=float),
                          "discharge_current_ma": grouped["discharge_current_ma"].to_numpy(dtype=float)})
    if mass_g is not None:
        table["charge_capacity_mah_per_g"] = table["charge_capacity_mah"] / mass_g
        table["discharge_capacity_mah_per_g"] = table["discharge_capacity_mah"] / mass_g
    return table.reset_index(drop=True)


def active_mass_g(active_mass_mg: float | None, path: Path) -> float | None:
    """The active mass in g, refusing one that is not a positive number of mg (None: no mass)."""
    if active_mass_mg is None:
        return None
    if isinstance(active_mass_mg, bool) or not isinstance(active_mass_mg, int | float) \
            or not math.isfinite(active_mass_mg) or active_mass_mg <= 0:
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
        ``reference_cycle``; NaN while the file stops before it: a retention after 50 cycles is
        not a retention after 200, nor while that cycle has a charge and no discharge yet),
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
    return pd.Series({
        "first_cycle_charge_capacity_mah_per_g": float(first["charge_capacity_mah_per_g"]),
        "first_cycle_discharge_capacity_mah_per_g": float(first["discharge_capacity_mah_per_g"]),
        "first_cycle_ce_pct": float(100.0 * first["discharge_capacity_mah"] / first["charge_capacity_mah"]),
        "capacity_retention_pct": float(curve[retention_cycle]) if retention_cycle in curve.index else math.nan,
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
    mass per hour, by default the first cycle's discharge capacity per hour. Returns nothing
    for a file without currents (Neware's cycle sheet) or whose discharges ran at one rate;
    else ``discharge_capacity_mah_per_g_at_<rate>c`` (the mean over the cycles at that rate,
    ``0p1`` for 0.1C) and, with both 0.1C and 1C, ``rate_capability_pct`` = capacity at 1C /
    capacity at 0.1C x 100 %.
    """
    if one_c_mah_per_g is None:
        one_c_ma = float(table["discharge_capacity_mah"].iloc[0])
    elif isinstance(one_c_mah_per_g, bool) or not isinstance(one_c_mah_per_g, int | float) \
            or not math.isfinite(one_c_mah_per_g) or one_c_mah_per_g <= 0:
        raise InstrumentFileError(f"{name}: one_c_mah_per_g must be a positive number, got {one_c_mah_per_g!r}")
    else:
        one_c_ma = float(one_c_mah_per_g) * float(active_mass_mg) / 1000.0
    if "discharge_current_ma" not in table.columns or not one_c_ma > 0:
        return {}
    ratio = table["discharge_current_ma"].to_numpy(dtype=float) / one_c_ma
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
    last cycle without a discharge (a test exported while it runs) is left out."""
    by_cycle = table.set_index("cycle")["discharge_capacity_mah"]
    if reference_cycle not in by_cycle.index or by_cycle[reference_cycle] <= 0:
        raise InstrumentFileError(f"{name}: reference_cycle {reference_cycle} has no discharge capacity "
                                  f"(cycles {int(by_cycle.index.min())} to {int(by_cycle.index.max())})")
    if by_cycle.iloc[-1] <= 0:  # charged, not discharged yet: its retention is unknown, not 0
        by_cycle = by_cycle.iloc[:-1]
    return (100.0 * by_cycle / by_cycle[reference_cycle]).rename("capacity_retention_pct")


__all__ = [
    "BINARY_FORMATS",
    "FORMATS",
    "BinaryFormat",
    "CyclingFormat",
    "InstrumentFileError",
    "active_mass_g",
    "c_rate_label",
    "csv_frame",
    "cycling_outcomes",
    "detect_format",
    "instrument_table",
    "maccor_frame",
    "mpt_frame",
    "neware_states",
    "numeric_columns",
    "rate_capability",
    "read_cycling",
    "retention_curve",
]
