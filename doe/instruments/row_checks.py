"""Rows of a cycling export that doe refuses rather than pair or sum: rows repeated or out of
order, and a cycle that discharges before it charges (the rules of
:mod:`doe.instruments.cycling`, shared by its readers and :mod:`doe.instruments.points`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from doe.instruments.tables import InstrumentFileError, refuse_repeated_columns

RECORD_COLUMNS = ("DataPoint", "Data_Point", "Rec#", "Record ID")
"""The record-number columns of the exports with one row per point (Neware's record sheet, Arbin, MACCOR)."""


def refuse_repeated_rows(path: Path, frame: pd.DataFrame, numbers: pd.DataFrame) -> None:
    """Refuse rows of a point-by-point export (``frame`` from :func:`instrument_table`, indexed by
    line; ``numbers`` its :func:`numeric_columns`, the cycle number checked) repeated or out of
    order: a record number (the first of :data:`RECORD_COLUMNS` ``frame`` has, where each field is
    a number) that does not rise, or a ``step`` of ``numbers`` that goes back within a cycle. An
    export appended to itself or a copy-paste would count its capacity twice where a counter
    restarts at every step (Neware's record sheet, MACCOR)."""
    again = ("(two exports in one file, a copy-paste?) would count their capacity twice: doe does not guess which "
             "rows to keep; export the test again as one file")
    column = next((c for c in RECORD_COLUMNS if c in frame.columns), None)
    if column is not None:  # the rows' order is read from it: a second copy may be in another order
        refuse_repeated_columns(frame, path, [column])
    record = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float) if column else np.zeros(0)
    back = np.flatnonzero(np.diff(record) <= 0) if np.isfinite(record).all() else np.zeros(0, dtype=int)
    if len(back):
        k = int(back[0]) + 1
        raise InstrumentFileError(f"{path.name}: line {frame.index[k]}, column {column!r}: record {record[k]:g} "
                                  f"follows record {record[k - 1]:g} (line {frame.index[k - 1]}); rows repeated or "
                                  f"out of order {again}")
    if "step" in numbers.columns:
        cycle, step = numbers["cycle"], numbers["step"]
        back = np.flatnonzero(cycle.eq(cycle.shift()).to_numpy(dtype=bool) & (step.diff().to_numpy(dtype=float) < 0))
        if len(back):
            k = int(back[0])
            raise InstrumentFileError(f"{path.name}: line {step.index[k]}: the step number goes back from "
                                      f"{step.iloc[k - 1]:g} to {step.iloc[k]:g} within cycle {cycle.iloc[k]:g}; "
                                      f"rows repeated {again}")


def refuse_discharge_before_charge(path: Path, cycle: pd.Series, direction: np.ndarray, column: str) -> None:
    """Refuse a file where a numbered cycle discharges before it charges. ``cycle`` is the
    instrument's cycle number per row (indexed by line, from :func:`numeric_columns`), ``direction``
    +1 (charge), -1 (discharge) or 0 (rest) per row, ``column`` the file's cycle column.

    doe pairs each charge with the discharge after it (a cathode charges first), taking a cycle's
    largest (or, where counters restart at every step, summed) counters; a cycler that counts a
    cycle from a discharge (a test that starts with one) puts a discharge and the next cycle's
    charge under one number, and a discharge before the first charge inside cycle 1 adds to that
    cycle's discharge where the counter runs on (Arbin) or steps are summed (MACCOR, Neware's
    record sheet). Either way the cycle's CE would be of two cycles' halves."""
    rows = pd.DataFrame({"cycle": cycle.to_numpy(dtype=float), "charge": np.asarray(direction) > 0,
                         "discharge": np.asarray(direction) < 0})
    charged = rows.groupby("cycle", sort=False)["charge"]
    early = rows["discharge"] & ~charged.cummax() & charged.transform("any")
    if early.any():
        k = int(np.flatnonzero(early.to_numpy(dtype=bool))[0])
        raise InstrumentFileError(
            f"{path.name}: line {cycle.index[k]}: cycle {cycle.iloc[k]:g} (column {column!r}) discharges before it "
            "charges; doe pairs each charge with the discharge that follows it, so this cycle's charge and discharge "
            "would be halves of different cycles (a cycler that counts a cycle from a discharge, or a test that starts "
            "with a discharge inside its first cycle?); doe does not guess how to renumber them: number the cycles from "
            "their charge in the test's protocol, or export the test from its first charge")


__all__ = ["RECORD_COLUMNS", "refuse_discharge_before_charge", "refuse_repeated_rows"]
