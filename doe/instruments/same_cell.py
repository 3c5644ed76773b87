"""Which cycling files are exports of one cell: the per-cycle capacities they share.

A cycler names each export anew (``A_2026-01-05.csv`` at 12 cycles, ``A_2026-03-20.csv`` at
200), and each export repeats the cycles of the one before it to the last digit. Two cells
never do: their first cycles' charge and discharge capacities differ in the digits a cycler
writes. So two files whose first :data:`SAME_CYCLES` cycles or more, every cycle both hold,
have the same charge and discharge capacities (to :data:`CAPACITY_REL_TOL`) are one cell's; the
shorter file's last cycle is left out of the comparison where the files differ in length (a
test exported while that cycle ran has a part of it).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

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
    (module docstring), else 0."""
    n = min(len(a), len(b)) - (len(a) != len(b))
    if n < SAME_CYCLES or not np.allclose(a[:n], b[:n], rtol=CAPACITY_REL_TOL, atol=0.0):
        return 0
    return n


__all__ = ["CAPACITY_REL_TOL", "SAME_CYCLES", "cycle_capacities", "same_cycles", "stored_capacities"]
