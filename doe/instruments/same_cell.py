"""Which cycling files are exports of one cell: the per-cycle capacities they share.

A cycler names each export anew (``A_2026-01-05.csv`` at 12 cycles, ``A_2026-03-20.csv`` at
200), and each export repeats the cycles of the one before it to the last digit. Two cells
never do: their first cycles' charge and discharge capacities differ in the digits a cycler
writes. So two files whose first :data:`SAME_CYCLES` cycles or more, every cycle both hold,
have the same charge and discharge capacities (to :data:`CAPACITY_REL_TOL`) are one cell's; the
last cycle both hold may differ (a test exported while that cycle ran has a part of it: the
earlier export ended while cycle 13 charged, the later one, of 13 cycles too, after it ended).

Reading every stored file again would make each new file cost as much as the campaign's whole
evidence, so :func:`possible_exports` first keeps the stored files whose recorded first-cycle
values are the new file's (at the stored file's active mass); only those are read.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from doe.errors import DataError
from doe.instruments.cycling import read_cycling

SAME_CYCLES = 3
"""The fewest cycles in common whose capacities make two files one cell's."""
CAPACITY_REL_TOL = 1e-6
"""Capacities within this relative difference are the same number (a cycler writes 5 to 9
significant digits; two cells differ in the third or fourth)."""


def cycle_capacities(path: Path) -> np.ndarray:
    """Per-cycle charge and discharge capacity (mAh) of a cycling file, shape (cycles, 2), by
    :func:`doe.instruments.read_cycling` (which refuses a file it cannot read)."""
    table = read_cycling(path)
    return table[["charge_capacity_mah", "discharge_capacity_mah"]].to_numpy(dtype=float)


def stored_capacities(file_name: str, content: bytes) -> np.ndarray | None:
    """:func:`cycle_capacities` of a stored file's bytes, or None where they are not a cycling file
    doe reads (a spectrum, or a file an older doe took that this one refuses: such a cell is
    compared by its stored values only)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (Path(file_name).name or "file")  # the name says the format (.mpr, .nda)
        path.write_bytes(content)
        try:
            return cycle_capacities(path)
        except DataError:
            return None


def same_cycles(a: np.ndarray, b: np.ndarray) -> int:
    """How many first cycles two files' :func:`cycle_capacities` share where they are one cell's
    (module docstring), else 0: every cycle of the shorter file but its last, or, where the files
    hold as many cycles, every cycle or every one but the last (the earlier export's last cycle
    may have been running, whether or not the later one holds more cycles)."""
    both = min(len(a), len(b))
    for n in ([both] if len(a) == len(b) else []) + [both - 1]:
        if n >= SAME_CYCLES and np.allclose(a[:n], b[:n], rtol=CAPACITY_REL_TOL, atol=0.0):
            return n
    return 0


FIRST_CYCLE_OUTCOMES = ("first_cycle_charge_capacity_mah_per_g", "first_cycle_discharge_capacity_mah_per_g",
                        "first_cycle_ce_pct")
"""The values a cycling file gives from its first cycle alone: the same in every export of a cell."""


def possible_exports(capacities: np.ndarray, linked: pd.DataFrame, masses: dict[str, float | None]) -> list[str]:
    """The stored cycling files (SHA-256) that may be exports of the cell whose
    :func:`cycle_capacities` are ``capacities``, to compare by :func:`same_cycles`: each file
    whose first-cycle values recorded from it (:data:`FIRST_CYCLE_OUTCOMES`) are the ones
    ``capacities`` give at the file's active mass (to 4 x :data:`CAPACITY_REL_TOL`), and each file
    with no such value recorded (a campaign without these outcomes).

    Args:
        capacities: the new file's charge and discharge capacity (mAh) per cycle, shape (cycles, 2).
        linked: the current values recorded from stored files: ``file_sha256``, ``outcome``,
            ``value`` (:meth:`doe.Campaign.measurements`).
        masses: the stored cycling files to consider, by SHA-256, each with its active mass (mg;
            its rule's ``active_mass_mg``), None where not stored (then only its CE is compared).
    """
    if not len(capacities) or not masses:
        return []
    charge_mah, discharge_mah = (float(v) for v in capacities[0])
    first = linked[linked["outcome"].isin(FIRST_CYCLE_OUTCOMES) & linked["file_sha256"].isin(list(masses))]
    mass_g = first["file_sha256"].map(masses).astype(float) / 1000.0
    comparable = first["outcome"].eq("first_cycle_ce_pct") | mass_g.notna()  # CE needs no mass
    first, mass_g = first[comparable], mass_g[comparable]
    expected = np.select([first["outcome"].eq(FIRST_CYCLE_OUTCOMES[0]), first["outcome"].eq(FIRST_CYCLE_OUTCOMES[1])],
                         [charge_mah / mass_g, discharge_mah / mass_g],
                         100.0 * discharge_mah / charge_mah if charge_mah else np.nan)
    # a looser tolerance than same_cycles': a CE is a ratio of two capacities, each within CAPACITY_REL_TOL
    same = np.isclose(first["value"].to_numpy(dtype=float), expected, rtol=4 * CAPACITY_REL_TOL, atol=0.0)
    agrees = pd.Series(same, index=first.index).groupby(first["file_sha256"].astype(str)).all()
    return [sha for sha in masses if agrees.get(sha, True)]


__all__ = ["CAPACITY_REL_TOL", "FIRST_CYCLE_OUTCOMES", "SAME_CYCLES", "cycle_capacities", "possible_exports",
           "same_cycles", "stored_capacities"]
