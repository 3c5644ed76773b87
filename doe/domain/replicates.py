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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

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


def labelled_cells(measurements: pd.DataFrame) -> frozenset[tuple[str, str]]:
    """``(experiment_id, outcome)`` of every current cell with a ``replicate`` label (curve
    points left out), from :meth:`doe.Campaign.measurements`."""
    cells = measurements[measurements[REPLICATE_COLUMN].notna() & (measurements[REPLICATE_COLUMN] != "")]
    if "cycle" in cells.columns:
        cells = cells[cells["cycle"].isna()]
    return frozenset(zip(cells["experiment_id"].astype(str), cells["outcome"].astype(str), strict=True))


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


def cells_table(history: pd.DataFrame, measurements: pd.DataFrame, outcomes: Sequence[str],
                parameters: Sequence[str], failures: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per measured cell: ``experiment_id``, ``replicate``, the parameters and every
    outcome (NaN where that cell has no value of it), experiments in history order.

    Experiments without any measurement or failed cell keep one row (empty ``replicate`` and
    outcomes), so the table lists the whole history; its measured rows can be recorded as they
    are. With ``failures`` (:meth:`doe.Campaign.cell_failures`), each failed cell of these
    experiments is a row too. Once any row is a failed cell or the row of an experiment that
    failed as a whole (``status`` failed in ``history``, no cell measured or failed), the table
    has ``failed`` and ``failure_reason`` (False and empty on the other rows), so it records
    back the same.

    Args:
        history: :meth:`doe.Campaign.history` (``experiment_id``, the parameter columns and,
            where given, ``status`` and ``failure_reason``).
        measurements: :meth:`doe.Campaign.measurements` (current values, one row per cell).
        outcomes: the outcome columns, in order.
        parameters: the parameter columns, in order.
        failures: the failed cells (``experiment_id``, ``replicate``, ``failure_reason``).
    """
    import pandas as pd

    id_col = "experiment_id"
    labels = measurements[REPLICATE_COLUMN].astype(object).where(measurements[REPLICATE_COLUMN].notna(), "")
    long = measurements.assign(**{REPLICATE_COLUMN: labels})
    wide = long.pivot_table(index=[id_col, REPLICATE_COLUMN], columns="outcome", values="value",
                            aggfunc="first", sort=False).reset_index()
    wide.columns.name = None
    failed = None
    if failures is not None:
        failed = failures[failures[id_col].isin(history[id_col])]
        if len(failed):
            failed = failed[[id_col, REPLICATE_COLUMN, "failure_reason"]].assign(failed=True)
            wide = pd.concat([wide.assign(failed=False, failure_reason=None), failed], ignore_index=True)
    recipes = history[[id_col, *parameters]]
    table = recipes.merge(wide, on=id_col, how="left", sort=False)  # keeps the history's order
    table[REPLICATE_COLUMN] = table[REPLICATE_COLUMN].where(
        table[REPLICATE_COLUMN].notna() & (table[REPLICATE_COLUMN] != ""), None).astype(object)
    for outcome in outcomes:
        if outcome not in table.columns:
            table[outcome] = float("nan")
    none = pd.Series(False, index=table.index)
    cell_failed = table["failed"].astype("boolean").fillna(False).astype(bool) if "failed" in table.columns else none
    whole = none
    if {"status", "failure_reason"} <= set(history.columns):  # failed as a whole: its status and reason
        known = history.set_index(id_col)
        whole = (table[REPLICATE_COLUMN].isna() & table[list(outcomes)].isna().all(axis=1) & ~cell_failed
                 & table[id_col].map(known["status"]).eq("failed"))
        reasons = table[id_col].map(known["failure_reason"]).where(whole, table.get("failure_reason"))
    else:
        reasons = table.get("failure_reason", pd.Series(None, index=table.index, dtype=object))
    extra = []
    if (cell_failed | whole).any():
        table["failed"] = cell_failed | whole
        table["failure_reason"] = reasons.astype(object).where(table["failed"], None)
        extra = ["failed", "failure_reason"]
    return pd.DataFrame(table[[id_col, REPLICATE_COLUMN, *parameters, *outcomes, *extra]]).reset_index(drop=True)
