"""Replicate cells: one experiment (one coated powder) measured in several cells.

A results table may carry a ``replicate`` column with the cell's label ("A", "B", "1", ...).
Rows with the same ``experiment_id`` and different labels are separate measurements of one
experiment; the same label twice is the same cell (a different value is a conflict unless
corrected). A table without the column records one unlabelled value per experiment and
outcome, as before replicates existed.

The history shows one row per experiment: the mean of its cells per outcome and, once a
campaign holds any replicated measurement, ``<outcome>_sd`` (sample standard deviation,
NaN for one cell) and ``<outcome>_n`` (number of cells, 0 if not measured) for every
outcome. Campaigns without replicates keep exactly the columns they had.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

REPLICATE_COLUMN = "replicate"
SD_SUFFIX = "_sd"
N_SUFFIX = "_n"


def sd_column(outcome: str) -> str:
    """The history column with the standard deviation of ``outcome`` over an experiment's cells."""
    return outcome + SD_SUFFIX


def n_column(outcome: str) -> str:
    """The history column with the number of cells of ``outcome`` measured for an experiment."""
    return outcome + N_SUFFIX


def summary_columns(outcomes: Iterable[str]) -> list[str]:
    """``<outcome>_sd`` and ``<outcome>_n`` of every outcome, in order."""
    return [c for o in outcomes for c in (sd_column(o), n_column(o))]


def summarise(values: Sequence[float]) -> tuple[float, float, int]:
    """Mean, sample standard deviation (ddof 1; NaN below two cells) and count of ``values``.

    Returns ``(nan, nan, 0)`` for no values.
    """
    n = len(values)
    if n == 0:
        return math.nan, math.nan, 0
    mean = math.fsum(values) / n
    if n < 2:
        return mean, math.nan, n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, sd, n
