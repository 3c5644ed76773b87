"""Capacity counters that must restart: a text export whose counters run on is refused.

The readers of :mod:`doe.instruments.cycling` take a cycle's capacity as the largest value its
counter reaches within the cycle (Arbin's ``Charge_Capacity(Ah)`` and ``Discharge_Capacity(Ah)``
accumulate within a cycle and restart at the next one). A channel whose counters run on through
the whole test (they do not restart where the cycle number rises) would give each cycle the
capacity of every cycle up to it: the first cycle's values would still be right, and the
retention and rate values wrong by a factor of the cycle number. doe refuses such a file rather
than guess how the counts were kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from doe.instruments.tables import InstrumentFileError


def refuse_counters_running_on(path: Path, numbers: pd.DataFrame, counters: Mapping[str, str], *,
                               unit: str) -> None:
    """Refuse a file whose capacity counter does not restart where the cycle number rises: on the
    first row of a cycle it holds at least the value, above 0, it had on the last row of the cycle
    before (a cycle without a charge, such as a discharge before the first charge, ends its
    charge counter at 0, and the next cycle's charge starts it anew).

    Args:
        path: the file (for the message).
        numbers: :func:`doe.instruments.tables.numeric_columns` of the file, indexed by line, with
            ``cycle`` and the counters, in the file's unit.
        counters: the file's counter column -> its column in ``numbers``.
        unit: the counters' unit, as the message shows it.
    """
    cycle = numbers["cycle"].to_numpy(dtype=float)
    starts = np.flatnonzero(np.diff(cycle) > 0) + 1  # the first row of each cycle after the file's first
    for column, name in counters.items():
        value = numbers[name].to_numpy(dtype=float)
        carried = starts[(value[starts - 1] > 0) & (value[starts] >= value[starts - 1])]
        if len(carried):
            k = int(carried[0])
            raise InstrumentFileError(
                f"{path.name}: line {numbers.index[k]}, column {column!r}: {value[k]:g} {unit} on the first row of "
                f"cycle {cycle[k]:g}, not less than the {value[k - 1]:g} {unit} cycle {cycle[k - 1]:g} ended with: the "
                "counter runs on through the test instead of restarting at each cycle, so a cycle's largest value "
                "would be the capacity of every cycle up to it; doe does not guess each cycle's share: export the "
                "test with capacities that restart at each cycle")


__all__ = ["refuse_counters_running_on"]
