"""The points behind the per-cycle capacities: voltage against capacity, half-cycle by half-cycle.

:func:`read_cycling_points` reads the same files as :func:`doe.instruments.read_cycling`, by the
same rules (see :mod:`doe.instruments.cycling` and :mod:`doe.instruments.binary`), and keeps one
row per point, so the capacity at the end of each half-cycle is the capacity ``read_cycling``
reports for it. The voltage comes from the column each export has:

- EC-Lab ``.mpt``: ``Ewe/V`` (charge or discharge by the sign of ``I/mA`` or ``<I>/mA``, else by which
  counter is running);
- Neware's record sheet: ``Voltage(V)`` (its cycle sheet has one row per cycle and no curve);
- Arbin: ``Voltage(V)`` (charge or discharge by the sign of ``Current(A)``);
- MACCOR: ``Volts`` (``State`` C or D);
- ``.mpr``: ``Ewe/V``; ``.nda``/``.ndax``: ``Voltage``.

Rest points (no current, or the residual current of an open circuit: at most 0.5 % of the file's
largest current, :func:`doe.instruments.cycling.current_direction`) belong to no half-cycle and
are left out; in EC-Lab and Arbin files, a cycle that ``read_cycling`` counts by its charge
alone (a C/20 formation cycle beside 20C rate steps, all under that threshold) has its rows
classed by its own currents, so the curves keep it, numbered as ``read_cycling`` numbers it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from doe.instruments.counters import per_cycle_counters
from doe.instruments.cycling import (
    BINARY_FORMATS,
    CAPACITY_COLUMNS,
    FORMATS,
    REST_FRACTION,
    BinaryFormat,
    CyclingFormat,
    active_mass_g,
    csv_frame,
    current_direction,
    detect_format,
    maccor_frame,
    mpt_current_column,
    mpt_frame,
    neware_states,
    refuse_repeated_rows,
)
from doe.instruments.spellings import (
    ARBIN_CHARGE,
    ARBIN_CURRENT,
    ARBIN_DISCHARGE,
    ARBIN_VOLTAGE,
    NEWARE_CHARGE,
    NEWARE_DISCHARGE,
    spelled,
)
from doe.instruments.tables import (
    InstrumentFileError,
    check_size,
    numeric_columns,
    read_text,
    text_column,
)

POINT_COLUMNS = ("cycle", "half", "voltage_v", "capacity_mah")


def _states_by_current(current: np.ndarray, cycle: pd.Series, charge_mah: pd.Series) -> np.ndarray:
    """C, D or R per row by the current (:func:`current_direction`). A cycle that
    :func:`doe.instruments.read_cycling` counts as charged by its charge alone (at least
    :data:`REST_FRACTION` of the file's largest) while none of its rows' current passes the file's
    rest threshold (a C/20 formation cycle beside 20C rate steps) has the rows that threshold calls
    rest classed by its own currents, so that its curve is there and cycles are numbered alike."""
    direction = current_direction(current)
    rows = pd.DataFrame({"cycle": cycle.to_numpy(dtype=float), "charge": charge_mah.to_numpy(dtype=float),
                         "charging": direction > 0})
    by_cycle = rows.groupby("cycle", sort=False)
    largest = by_cycle["charge"].transform("max").to_numpy(dtype=float)
    slow = ((largest > 0) & (largest >= REST_FRACTION * np.nanmax(rows["charge"].to_numpy(), initial=0.0))
            & ~by_cycle["charging"].transform("any").to_numpy(dtype=bool))
    for number in np.unique(rows["cycle"].to_numpy()[slow]):
        at = rows["cycle"].to_numpy() == number
        direction[at] = np.where(direction[at] == 0, current_direction(current[at]), direction[at])
    return np.where(direction > 0, "C", np.where(direction < 0, "D", "R"))


def _running_counters(cycle: pd.Series, state: np.ndarray, charge: pd.Series, discharge: pd.Series,
                      voltage: pd.Series) -> pd.DataFrame:
    """Rows of exports whose charge and discharge counters accumulate within a cycle."""
    return pd.DataFrame({"cycle": cycle.to_numpy(dtype=float), "state": state,
                         "voltage_v": voltage.to_numpy(dtype=float),
                         "capacity_mah": np.where(state == "C", charge, discharge)})


def _mpt_points(path: Path, text: str) -> pd.DataFrame:
    frame = mpt_frame(path, text)
    numbers = numeric_columns(frame, path, {"cycle number": "cycle", "Q charge/mA.h": "charge",
                                            "Q discharge/mA.h": "discharge", "Ewe/V": "voltage"},
                              non_negative=CAPACITY_COLUMNS)
    if (current := mpt_current_column(frame)) in frame.columns:
        state = _states_by_current(numeric_columns(frame, path, {current: "i"})["i"].to_numpy(dtype=float),
                                   numbers["cycle"], numbers["charge"])
    else:  # the counter that runs says which half it is
        state = np.where(numbers["discharge"] > 0, "D", np.where(numbers["charge"] > 0, "C", "R"))
    return _running_counters(numbers["cycle"], state, numbers["charge"], numbers["discharge"], numbers["voltage"])


def _arbin_points(path: Path, text: str) -> pd.DataFrame:
    frame = csv_frame(path, text)
    (current, to_ma), (voltage, _), (charge, to_mah), (discharge, _) = (
        spelled(frame.columns, s) for s in (ARBIN_CURRENT, ARBIN_VOLTAGE, ARBIN_CHARGE, ARBIN_DISCHARGE))
    numbers = numeric_columns(frame, path, {"Cycle_Index": "cycle", current: "i", voltage: "voltage", charge: "charge",
                                            discharge: "discharge"}, non_negative=CAPACITY_COLUMNS)
    refuse_repeated_rows(path, frame, numbers)
    numbers = per_cycle_counters(numbers, ("charge", "discharge"))
    state = _states_by_current(numbers["i"].to_numpy(dtype=float) * to_ma, numbers["cycle"], numbers["charge"])
    return _running_counters(numbers["cycle"], state, numbers["charge"] * to_mah, numbers["discharge"] * to_mah,
                             numbers["voltage"])


def _step_counters(cycle: pd.Series, step: pd.Series, state: pd.Series, capacity_mah: pd.Series,
                   voltage: pd.Series) -> pd.DataFrame:
    """Rows of exports whose counter restarts at every step: a half-cycle's capacity at a point
    is the point's counter plus the totals of the half's earlier steps (CC then CV)."""
    new_step = cycle.ne(cycle.shift()) | step.ne(step.shift()) | state.ne(state.shift())
    rows = pd.DataFrame({"cycle": cycle.to_numpy(dtype=float), "state": state.to_numpy(dtype=str),
                         "step": new_step.cumsum().to_numpy(), "voltage_v": voltage.to_numpy(dtype=float),
                         "counter": capacity_mah.to_numpy(dtype=float)})
    totals = rows.groupby(["cycle", "state", "step"], sort=False)["counter"].max()
    before = totals.groupby(level=["cycle", "state"], sort=False).cumsum() - totals
    rows["capacity_mah"] = rows["counter"] + before.reindex(
        pd.MultiIndex.from_frame(rows[["cycle", "state", "step"]])).to_numpy(dtype=float)
    return rows[["cycle", "state", "voltage_v", "capacity_mah"]]


def _neware_points(path: Path, text: str) -> pd.DataFrame:
    frame = csv_frame(path, text)
    if "Step Type" not in frame.columns:
        raise InstrumentFileError(f"{path.name}: Neware's cycle sheet has one row per cycle and no voltage curve; "
                                  "export the record sheet (one row per point) to plot the curves")
    (charge, to_mah), (discharge, d_to_mah) = spelled(frame.columns, NEWARE_CHARGE), spelled(frame.columns, NEWARE_DISCHARGE)
    numbers = numeric_columns(frame, path, {"Cycle Index": "cycle", "Step Index": "step", "Voltage(V)": "voltage",
                                            charge: "charge", discharge: "discharge"}, non_negative=CAPACITY_COLUMNS)
    refuse_repeated_rows(path, frame, numbers)
    return _step_counters(numbers["cycle"], numbers["step"], neware_states(frame, path),
                          numbers["charge"] * to_mah + numbers["discharge"] * d_to_mah, numbers["voltage"])


def _maccor_points(path: Path, text: str) -> pd.DataFrame:
    frame = maccor_frame(path, text)
    numbers = numeric_columns(frame, path, {"Cyc#": "cycle", "Step": "step", "Amp-hr": "capacity_ah",
                                            "Volts": "voltage"}, non_negative=CAPACITY_COLUMNS)
    refuse_repeated_rows(path, frame, numbers)
    return _step_counters(numbers["cycle"], numbers["step"], text_column(frame, path, "State"),
                          numbers["capacity_ah"] * 1000.0, numbers["voltage"])


_READERS = {"biologic_mpt": _mpt_points, "neware_csv": _neware_points, "arbin_csv": _arbin_points,
            "maccor_txt": _maccor_points}


def _numbered_from_first_charge(rows: pd.DataFrame) -> pd.DataFrame:
    """Instrument cycles shifted so that the first cycle with a charge is cycle 1 (as
    :func:`doe.instruments.read_cycling` numbers them); C/D rows only, as ``half``."""
    rows = rows[rows["state"].isin(["C", "D"])]
    charged = rows.loc[(rows["state"] == "C") & (rows["capacity_mah"] > 0), "cycle"]
    if charged.empty:
        return pd.DataFrame(columns=list(POINT_COLUMNS))
    first = charged.min()
    rows = rows[rows["cycle"] >= first]
    return pd.DataFrame({"cycle": (rows["cycle"] - first + 1).astype(int).to_numpy(),
                         "half": np.where(rows["state"] == "C", "charge", "discharge"),
                         "voltage_v": rows["voltage_v"].to_numpy(dtype=float),
                         "capacity_mah": rows["capacity_mah"].to_numpy(dtype=float)})


def read_cycling_points(path: str | Path, *, active_mass_mg: float | None = None,
                        file_format: CyclingFormat | BinaryFormat | None = None) -> pd.DataFrame:
    """The voltage curve of a cycling file, point by point.

    Args:
        path: the exported file (any format :func:`doe.instruments.read_cycling` reads).
        active_mass_mg: active material mass of the cell; adds ``capacity_mah_per_g``.
        file_format: one of :data:`~doe.instruments.cycling.FORMATS` or ``BINARY_FORMATS``
            (default: detected).

    Returns:
        One row per point that passes current, in the file's order: ``cycle`` (from 1, as
        ``read_cycling`` numbers them), ``half`` (``"charge"`` or ``"discharge"``),
        ``voltage_v``, ``capacity_mah`` (charge passed since the half-cycle began) and, with a
        mass, ``capacity_mah_per_g``.

    Raises:
        InstrumentFileError: what ``read_cycling`` refuses, a file without a voltage column
            (Neware's cycle sheet), or one without any charge.
    """
    path = Path(path)
    mass_g = active_mass_g(active_mass_mg, path)
    kind = file_format or detect_format(path)
    if kind in BINARY_FORMATS:
        from doe.instruments.binary import binary_rows, points_from_rows

        check_size(path)
        rows = binary_rows(path, kind)  # type: ignore[arg-type]
        if "voltage_v" not in rows.columns:
            raise InstrumentFileError(f"{path.name}: the {kind} file has no voltage column")
        points = points_from_rows(rows)
    elif kind in FORMATS:
        points = _numbered_from_first_charge(_READERS[kind](path, read_text(path)))
    else:
        raise InstrumentFileError(f"{path.name}: file_format must be one of {[*FORMATS, *BINARY_FORMATS]}, "
                                  f"got {kind!r}")
    if points.empty:
        raise InstrumentFileError(f"{path.name}: no charge or discharge point")
    points = points.reset_index(drop=True)
    if mass_g is not None:
        points["capacity_mah_per_g"] = points["capacity_mah"] / mass_g
    return points


__all__ = ["POINT_COLUMNS", "read_cycling_points"]
