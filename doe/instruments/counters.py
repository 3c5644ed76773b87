"""Capacity counters that run on through a test, read per cycle.

The readers of :mod:`doe.instruments.cycling` take a cycle's capacity as the largest value its
counter reaches within the cycle: Arbin's ``Charge_Capacity(Ah)`` and ``Discharge_Capacity(Ah)``
accumulate within a cycle and, depending on the channel's schedule, either restart at the next
cycle or run on through the whole test. Read as they are, counters that run on would give each
cycle the capacity of every cycle up to it (the first cycle's values right, a retention of
1145 % at cycle 12). :func:`per_cycle_counters` finds the cycles where a counter carried on and
takes the value it ended the previous cycle with off that cycle's rows, so every reader sees
counters that restart.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def per_cycle_counters(numbers: pd.DataFrame, counters: Iterable[str]) -> pd.DataFrame:
    """``numbers`` with each capacity counter restarting at every cycle.

    A counter carried on into a cycle when, on the cycle's first row, it holds at least the
    value (above 0) it held on the last row of the cycle before: a counter that restarts starts
    the cycle near 0, not at the whole previous cycle's capacity. Each such cycle's rows lose
    that previous value; cycles where the counter restarted are kept as they are, so a file may
    mix the two (a schedule that resets only some cycles).

    Args:
        numbers: the file's numeric columns in file order, with ``cycle`` and the counters.
        counters: the counter columns of ``numbers``.
    """
    out = numbers.copy()
    cycle = numbers["cycle"].to_numpy(dtype=float)
    new_cycle = np.r_[False, np.diff(cycle) != 0]
    run = np.cumsum(new_cycle)  # 0, 1, 2, ... per stretch of rows of one cycle
    starts = np.flatnonzero(new_cycle)
    for name in counters:
        value = numbers[name].to_numpy(dtype=float)
        offset = np.zeros(run[-1] + 1 if len(run) else 0)
        carried = (value[starts - 1] > 0) & (value[starts] >= value[starts - 1])
        offset[run[starts[carried]]] = value[starts[carried] - 1]
        out[name] = value - offset[run]
    return out


__all__ = ["per_cycle_counters"]
