"""Binary cycler files, read by kept libraries: BioLogic ``.mpr`` and Neware ``.nda``/``.ndax``.

- ``biologic_mpr``: EC-Lab's raw file, read by ``galvani.BioLogic.MPRfile`` (package
  ``datalab-org-galvani``): the measured current ``I/mA`` (or, where the file has none,
  ``<I>/mA``, the mean current GCPL writes, as in the text export) and the running charge counter
  ``(Q-Qo)/mA.h`` (or ``(Q-Qo)/C``). The ``.mpr`` has no per-half-cycle capacity columns
  (EC-Lab computes ``Q charge/mA.h`` only when it exports text).
- ``neware_nda``: Neware's ``.nda``/``.ndax``, read by ``NewareNDA.read``: ``Current(mA)``,
  ``Charge_Capacity(mAh)`` and ``Discharge_Capacity(mAh)``, which restart at every step.

Neither file has a capacity per half-cycle that the text rules of
:mod:`doe.instruments.cycling` could take, so capacities are built from the rows, by rules
that do not depend on the instrument:

1. the charge passed between two rows is the change of the instrument's counter (its value on
   a row where the instrument restarted it: a new Neware step);
2. positive current is charge, negative is discharge; ``|I|`` at most
   :data:`~doe.instruments.cycling.REST_FRACTION` (0.5 %) of the file's largest ``|I|`` is rest
   (the residual current logged at open circuit) and counts for neither, nor does it start or
   end a half-cycle (:func:`~doe.instruments.cycling.current_direction`), except in a slow step
   that passes at least :data:`SLOW_STEP_FRACTION` of the largest half-cycle's charge (a C/20
   formation cycle beside 20C rate steps), whose rows are classed by its own currents;
   a file whose current is negative on charge is refused (:func:`refuse_charge_negative`);
3. consecutive charge rows form one charge half-cycle, across rests and steps (CC then CV);
   it ends where the current turns to discharge; likewise for discharge;
4. cycle *n* is the *n*-th charge half-cycle and the discharge that follows it (cycles are
   counted by doe, not by the instrument); a discharge before the first charge belongs to no
   cycle; a last charge without a discharge has a discharge capacity of 0 (and no retention:
   :func:`doe.instruments.cycling.retention_curve` leaves it out); a last discharge that stopped
   above the earlier discharges' end voltage is unfinished (see :func:`~doe.instruments.read_cycling`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from doe.instruments.cycling import (
    BINARY_SUFFIXES,
    MPT_CURRENT_COLUMNS,
    BinaryFormat,
    InstrumentFileError,
    current_direction,
)

STATED_DIRECTION = "stated_direction"
"""The column of :func:`binary_rows` holding what the file says of a row apart from its current's
sign: +1 charge, -1 discharge, 0 unknown (the change of ``.mpr``'s signed ``(Q-Qo)``, the step's
``Status`` in ``.nda``/``.ndax``)."""


def binary_format(path: Path) -> BinaryFormat | None:
    """The binary format ``path``'s extension names, or None."""
    return BINARY_SUFFIXES.get(path.suffix.lower())


def _restarts(key: pd.Series) -> np.ndarray:
    return key.ne(key.shift()).to_numpy(dtype=bool)


def _mpr_rows(path: Path) -> pd.DataFrame:
    from galvani import BioLogic

    data = BioLogic.MPRfile(str(path)).data
    names = set(data.dtype.names or ())
    if "(Q-Qo)/mA.h" in names:
        counter = np.asarray(data["(Q-Qo)/mA.h"], dtype=float)
    elif "(Q-Qo)/C" in names:
        counter = np.asarray(data["(Q-Qo)/C"], dtype=float) / 3.6
    else:
        raise KeyError("(Q-Qo)/mA.h")
    restart = np.zeros(len(counter), dtype=bool)
    restart[:1] = True
    # (Q-Qo) runs on through the file: measured from its first row
    # I/mA, or <I>/mA (the mean current GCPL writes; galvani's column ids 11 and 76), as for the text export
    current = next((c for c in MPT_CURRENT_COLUMNS if c in names), MPT_CURRENT_COLUMNS[0])
    if current not in names:
        raise KeyError(" or ".join(MPT_CURRENT_COLUMNS))
    rows = pd.DataFrame({"current_ma": np.asarray(data[current], dtype=float),
                         "counter_mah": counter - (counter[0] if len(counter) else 0.0), "restart": restart})
    # (Q-Qo) is the charge passed with its sign: it rises on charge, whatever the current column says
    rows[STATED_DIRECTION] = np.sign(np.diff(counter, prepend=counter[:1])).astype(int)
    if "Ewe/V" in names:
        rows["voltage_v"] = np.asarray(data["Ewe/V"], dtype=float)
    return rows


def _nda_rows(path: Path) -> pd.DataFrame:
    import NewareNDA

    table = NewareNDA.read(str(path), log_level="WARNING")
    counter = table["Charge_Capacity(mAh)"].astype(float) + table["Discharge_Capacity(mAh)"].astype(float)
    rows = pd.DataFrame({"current_ma": table["Current(mA)"].astype(float), "counter_mah": counter,
                         "restart": _restarts(table["Step"])})
    if "Status" in table.columns:  # the step's kind in the test's program: CC_Chg, CCCV_Chg, CC_DChg, Rest
        status = table["Status"].astype(str).str.lower()
        rows[STATED_DIRECTION] = np.select([status.str.contains("dchg").to_numpy(dtype=bool),
                                            status.str.contains("chg").to_numpy(dtype=bool)], [-1, 1], 0)
    if "Voltage" in table.columns:
        rows["voltage_v"] = table["Voltage"].astype(float)
    return rows


SLOW_STEP_FRACTION = 0.05
"""A run of rows under the rest threshold (:data:`~doe.instruments.cycling.REST_FRACTION` of the
file's largest current), of one sign of current, that passes at least this fraction of the
largest half-cycle's charge is a slow step, not a rest: a C/20 formation cycle beside 20C rate
steps (a factor of 400). A residual current at rest passes nA h to a few uA h."""


def _slow_steps(direction: np.ndarray, current: np.ndarray, passed: np.ndarray) -> np.ndarray:
    """``direction`` (+1, -1, 0 per row) with the rows of each slow step (:data:`SLOW_STEP_FRACTION`)
    classed by that step's own currents (:func:`current_direction` over its rows)."""
    active = direction != 0
    if not active.any():
        return direction
    changes = np.concatenate([[0], np.cumsum(direction[active][1:] != direction[active][:-1])])
    largest = float(np.bincount(changes, weights=passed[active]).max())
    key = np.where(direction == 0, np.sign(current), 0)
    run = np.concatenate([[0], np.cumsum(key[1:] != key[:-1])])
    slow = (key != 0) & (np.bincount(run, weights=passed)[run] >= SLOW_STEP_FRACTION * largest) & (largest > 0)
    direction = direction.copy()
    for number in np.unique(run[slow]):
        at = run == number
        direction[at] = current_direction(current[at])
    return direction


def _halves(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rules 1 to 3: the rows that pass current (a mask), the half-cycle (0, 1, ...) of each of
    them, the sign of each half-cycle (+1 charge, -1 discharge) and the charge (mAh) each row passed."""
    counter = rows["counter_mah"].to_numpy(dtype=float)
    previous = np.concatenate([[0.0], counter[:-1]])
    previous[rows["restart"].to_numpy(dtype=bool)] = 0.0
    passed = np.abs(counter - previous)
    current = rows["current_ma"].to_numpy(dtype=float)
    direction = current_direction(current)
    # a row below the rest threshold that goes on in the direction of the half-cycle before it (the
    # tail of a CV step) passes that half's charge; a residual current of the other sign stays rest
    before = pd.Series(np.where(direction != 0, direction, np.nan)).ffill().to_numpy()
    direction = np.where((direction == 0) & (np.sign(current) == before), before, direction).astype(int)
    direction = _slow_steps(direction, current, passed)
    active = direction != 0
    directions = direction[active]
    if not directions.size:
        return active, np.zeros(0, dtype=int), np.zeros(0, dtype=int), passed[active]
    half = np.concatenate([[0], np.cumsum(directions[1:] != directions[:-1])])
    signs = directions[np.concatenate([[0], np.flatnonzero(np.diff(half)) + 1])]
    return active, half, signs, passed[active]


def _cycle_of_halves(signs: np.ndarray) -> np.ndarray:
    """Rule 4: the cycle (from 1) of each half-cycle; 0 for a discharge before the first charge."""
    return np.cumsum(signs > 0)


def cycles_from_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Per-cycle ``cycle``, ``charge_mah``, ``discharge_mah``, ``discharge_current_ma`` and
    ``discharge_voltage_v`` (the voltage on the discharge's last row above the rest threshold, not on
    a following rest's; NaN without a ``voltage_v`` column) from rows of ``current_ma`` (positive charge), ``counter_mah`` and
    ``restart`` (the module's rules)."""
    active, half, signs, charges_passed = _halves(rows)
    cycles: list[list[float]] = []
    if half.size:
        totals = np.bincount(half, weights=charges_passed)
        # the charge-weighted mean current: exact for a constant-current step, whatever the sampling
        current = np.abs(rows["current_ma"].to_numpy(dtype=float)[active])
        current_x_q = np.bincount(half, weights=current * charges_passed)
        voltage = (rows["voltage_v"].to_numpy(dtype=float)[active] if "voltage_v" in rows.columns
                   else np.full(len(half), np.nan))
        # a half's end voltage is that of its last row above the rest threshold: a rest whose residual
        # current has the half's sign goes on in it (rule 2's CV tail) as the voltage relaxes
        passing = np.flatnonzero(current_direction(rows["current_ma"].to_numpy(dtype=float))[active] != 0)
        above = pd.Series(passing).groupby(half[passing]).last().reindex(range(len(signs)))
        # a slow step (SLOW_STEP_FRACTION) has no row above the file's rest threshold: its own last row
        last_row = above.fillna(pd.Series(np.arange(len(half))).groupby(half).last()).to_numpy(dtype=int)
        for sign, total, weighted, end_v in zip(signs, totals, current_x_q, voltage[last_row], strict=True):
            if sign > 0:
                cycles.append([float(len(cycles) + 1), float(total), 0.0, np.nan, np.nan])
            elif cycles:  # a discharge before the first charge belongs to no cycle
                cycles[-1][2:] = [float(total), float(weighted / total) if total > 0 else np.nan, float(end_v)]
    return pd.DataFrame(cycles, columns=["cycle", "charge_mah", "discharge_mah", "discharge_current_ma",
                                         "discharge_voltage_v"])


def points_from_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The curve behind :func:`cycles_from_rows`: one row per point that passes current, with
    ``cycle``, ``half`` ("charge"/"discharge"), ``voltage_v`` and ``capacity_mah`` (the charge
    passed since the half-cycle began, so a half's last point is its capacity)."""
    if "voltage_v" not in rows.columns:
        raise KeyError("voltage")
    active, half, signs, charges_passed = _halves(rows)
    cycle_of_half = _cycle_of_halves(signs)
    capacity = pd.Series(charges_passed).groupby(half).cumsum().to_numpy(dtype=float) if half.size else charges_passed
    points = pd.DataFrame({"cycle": cycle_of_half[half] if half.size else half,
                           "half": np.where(signs[half] > 0, "charge", "discharge") if half.size else [],
                           "voltage_v": rows["voltage_v"].to_numpy(dtype=float)[active],
                           "capacity_mah": capacity})
    return points[points["cycle"] > 0].reset_index(drop=True)


def binary_rows(path: Path, file_format: BinaryFormat) -> pd.DataFrame:
    """The rows of a binary file: ``current_ma``, ``counter_mah``, ``restart`` and, where the
    file has it, ``voltage_v``.

    Raises:
        InstrumentFileError: the reader is not installed, or the file cannot be read.
    """
    reader = _mpr_rows if file_format == "biologic_mpr" else _nda_rows
    try:
        rows = reader(path)
    except ImportError as err:
        raise InstrumentFileError(f"{path.name}: reading a {file_format} file needs the package {err.name!r}: "
                        "pip install 'doe[instruments]'") from err
    except KeyError as err:
        raise InstrumentFileError(f"{path.name}: the {file_format} file has no column {err}") from err
    except Exception as err:
        # a third-party binary reader fails on a damaged file in ways of its own (zip, struct, ...)
        raise InstrumentFileError(f"{path.name}: cannot be read as {file_format} ({type(err).__name__}: "
                        f"{str(err)[:200]}); check the file or export it as text") from err
    if rows[["current_ma", "counter_mah"]].isna().any().any():
        raise InstrumentFileError(f"{path.name}: a missing current or capacity in the {file_format} data (damaged file?)")
    refuse_charge_negative(path, rows, file_format)
    return rows


def refuse_charge_negative(path: Path, rows: pd.DataFrame, file_format: BinaryFormat) -> None:
    """Refuse rows (of :func:`binary_rows`) whose current is negative on charge: most rows that
    pass current and that the file itself says charge or discharge (:data:`STATED_DIRECTION`)
    say the other of the current's sign, or most half-cycles (rules 2 and 3) that hold a voltage
    move against their current (a charge's voltage falling, a discharge's rising).

    Read by rule 2, such a file discharges before it charges: its first charge was dropped as a
    discharge before the first charge and each cycle paired a discharge with the next charge (a
    first charge of 203 mAh/g for 225.6 and a CE of 98 % for 90 %). The text exports of such a
    test are refused as discharging before they charge (:func:`~doe.instruments.cycling.refuse_discharge_before_charge`)."""
    direction = current_direction(rows["current_ma"].to_numpy(dtype=float))
    evidence = []
    if STATED_DIRECTION in rows.columns:
        stated = rows[STATED_DIRECTION].to_numpy(dtype=int)
        both = (direction != 0) & (stated != 0)
        if both.any() and np.mean(stated[both] != direction[both]) > 0.5:
            evidence.append("its charge counter (Q-Qo) rises where the current is negative" if file_format == "biologic_mpr"
                            else "its steps' Status says charge where the current is negative")
    if "voltage_v" in rows.columns:
        active, half, signs, _ = _halves(rows)
        voltage = pd.Series(rows["voltage_v"].to_numpy(dtype=float)[active])
        if half.size:
            by_half = voltage.groupby(half)
            change = (by_half.last() - by_half.first()).to_numpy(dtype=float)
            moving = (by_half.count().to_numpy() >= 2) & np.isfinite(change) & (change != 0)
            if moving.any() and np.mean(np.sign(change[moving]) != signs[moving]) > 0.5:
                evidence.append("the voltage rises while the current is negative and falls while it is positive")
    if evidence:
        raise InstrumentFileError(
            f"{path.name}: the file discharges before it charges as doe reads it: {' and '.join(evidence)}, so its "
            "sign convention writes charge as a negative current; doe reads a positive current as charge and pairs "
            "each charge with the discharge that follows it (a cathode charges first), so each cycle's charge and "
            "discharge would be halves of different cycles; doe does not guess the sign convention: export the test "
            "with the charge current positive")


def read_binary(path: Path, file_format: BinaryFormat) -> pd.DataFrame:
    """Per-cycle capacities (``cycle``, ``charge_mah``, ``discharge_mah``) of a binary file.

    Raises:
        InstrumentFileError: the reader is not installed, or the file cannot be read.
    """
    return cycles_from_rows(binary_rows(path, file_format))


__all__ = ["SLOW_STEP_FRACTION", "STATED_DIRECTION", "binary_format", "binary_rows", "cycles_from_rows", "points_from_rows", "read_binary",
           "refuse_charge_negative"]
