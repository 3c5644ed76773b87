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
CELLS_NOTE = ("Outcomes are the mean of each experiment's replicate cells; <outcome>_sd is their standard "
              "deviation and <outcome>_n the number of cells.")
"""Said beside a table of experiments that holds ``<outcome>_n`` columns."""


def sd_column(outcome: str) -> str:
    """The history column with the standard deviation of ``outcome`` over an experiment's cells."""
    return outcome + SD_SUFFIX


def n_column(outcome: str) -> str:
    """The history column with the number of cells of ``outcome`` measured for an experiment."""
    return outcome + N_SUFFIX


def summary_columns(outcomes: Iterable[str]) -> list[str]:
    """``<outcome>_sd`` and ``<outcome>_n`` of every outcome, in order."""
    return [c for o in outcomes for c in (sd_column(o), n_column(o))]


def with_summaries(outcomes: Iterable[str], columns: Iterable[str]) -> list[str]:
    """Each of ``outcomes`` followed by its ``<outcome>_sd`` and ``<outcome>_n`` where ``columns``
    hold them (a campaign with replicate cells): a table that shows an experiment's mean of
    several cells shows how many cells and their spread beside it, never the mean alone."""
    present = set(columns)
    return [c for o in outcomes for c in (o, sd_column(o), n_column(o)) if c in present]


def labelled_cells(measurements: pd.DataFrame) -> frozenset[tuple[str, str]]:
    """``(experiment_id, outcome)`` of every current cell with a ``replicate`` label (a curve's
    labelled points too), from :meth:`doe.Campaign.measurements`."""
    cells = measurements[measurements[REPLICATE_COLUMN].notna() & (measurements[REPLICATE_COLUMN] != "")]
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


CONTEXT_COLUMNS = ("note", "operator", "sample_id", "measured_at")
"""What a cell's measurements carry besides their values (:meth:`doe.Campaign.measurements`)."""


def _failure_context(known: pd.DataFrame, exp_id: str) -> dict[str, object]:
    """The note, operator, sample id and date stored with the failure of experiment ``exp_id``
    (the history's ``failure_*`` columns, where it has them), under the cells' column names."""
    return {c: None if f"failure_{c}" not in known.columns or _missing(known.at[exp_id, f"failure_{c}"])
            else known.at[exp_id, f"failure_{c}"] for c in CONTEXT_COLUMNS}


def cells_table(history: pd.DataFrame, measurements: pd.DataFrame, outcomes: Sequence[str],
                parameters: Sequence[str], failures: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per measured cell: ``experiment_id``, ``replicate``, the parameters and every
    outcome (NaN where that cell has no value of it), experiments in history order, so a cell
    recorded with :meth:`doe.Campaign.record` reads back as the row it came from.

    A cell's curve points (outcomes measured ``over: cycle``) are rows of their own with a
    ``cycle`` column, as they are recorded. Once any measurement has a ``note``,
    ``operator``, ``sample_id`` or ``measured_at``, the table has that column; a cell whose
    values were recorded with different ones (its first-cycle values a week before its
    retention) is one row per such set, each with its own values. Once ``measurements`` carry
    the active mass of the cycling file each value came from (``active_mass_mg``,
    :func:`doe.domain.active_mass.with_masses`) and one value has one, the table has that column
    after the outcomes: each row of such a cell its mass, empty for the other cells (a cell
    whose values came from files of different masses: a row per mass).

    Experiments without any measurement or failed cell keep one row (empty ``replicate`` and
    outcomes), so the table lists the whole history; once one of them is proposed, running or
    abandoned, the table has the ``status`` column (of every row), so the file records back
    the same and into another campaign without the experiments never made
    (:func:`doe.domain.planning.plan_record`). With ``failures`` (:meth:`doe.Campaign.cell_failures`), each failed cell of these
    experiments is a row too, with its note, operator, sample id and date. Once any row is a failed cell or the row of an
    experiment that failed as a whole (``status`` failed in ``history``, no cell measured or
    failed), the table has ``failed`` and ``failure_reason`` (False and empty on the other
    rows), so it records back the same; such an experiment's row carries the note, operator,
    sample id and date stored with its failure (the history's ``failure_*`` columns). An experiment failed after it was measured
    (:meth:`doe.Campaign.fail`) keeps its values on rows marked failed with its reason: record()
    reads them back as that experiment, measured, then failed (:mod:`doe.domain.failed_after`);
    where its failure has a note, operator, sample id or date, they are on one more row of it,
    without a replicate label or values, marked failed with the reason (a row failing the whole
    experiment, which record() keeps with the failure).

    Args:
        history: :meth:`doe.Campaign.history` (``experiment_id``, the parameter columns and,
            where given, ``status`` and ``failure_reason``).
        measurements: :meth:`doe.Campaign.measurements` (current values: one row per cell,
            outcome and, for a curve point, cycle).
        outcomes: the outcome columns, in order; an outcome with values that is not among them
            (dropped from the configuration since) is a column after them, so no value is
            left out (recorded back, its cells record nothing: :mod:`doe.domain.read_back`).
        parameters: the parameter columns, in order.
        failures: the failed cells (``experiment_id``, ``replicate``, ``failure_reason`` and,
            where given, ``note``, ``operator``, ``sample_id`` and ``measured_at``).
    """
    import pandas as pd

    from doe.domain.active_mass import MASS_COLUMN, mass_column_free

    id_col = "experiment_id"
    named = {*outcomes, *parameters}  # (an outcome dropped, then made a parameter of that name: the parameter's)
    outcomes = [*outcomes, *(str(o) for o in dict.fromkeys(measurements["outcome"]) if o not in named)]
    context = [c for c in CONTEXT_COLUMNS if c in measurements.columns]
    cycles = "cycle" in measurements.columns and bool(measurements["cycle"].notna().any())
    masses = _cell_masses(measurements, MASS_COLUMN) if MASS_COLUMN in measurements.columns and mass_column_free(
        [*outcomes, *parameters]) else None
    rows: dict[str, dict[tuple[object, ...], dict[str, object]]] = {}
    for m in measurements.to_dict("records"):
        label = m.get(REPLICATE_COLUMN)
        label = None if _missing(label) or label == "" else str(label)
        cycle = None if not cycles or _missing(m.get("cycle")) else int(m["cycle"])
        kept = {c: None if _missing(m[c]) else m[c] for c in context}
        if masses is not None:  # the cell's one mass on each of its rows; of several, each value's own
            own = masses.get((str(m[id_col]), label), set())
            kept[MASS_COLUMN] = (None if _missing(m[MASS_COLUMN]) else float(m[MASS_COLUMN])) if len(own) > 1 \
                else next(iter(own), None)
        key = (label, cycle, *kept.values())
        row = rows.setdefault(str(m[id_col]), {}).setdefault(
            key, {REPLICATE_COLUMN: label, "cycle": cycle, **kept, "failed": False, "failure_reason": None})
        row[str(m["outcome"])] = float(m["value"])
    wanted = set(map(str, history[id_col]))
    for f in [] if failures is None else failures.to_dict("records"):
        if str(f[id_col]) in wanted:
            kept = {c: None if _missing(f.get(c)) else f[c] for c in CONTEXT_COLUMNS}
            rows.setdefault(str(f[id_col]), {})[(str(f[REPLICATE_COLUMN]), None, "failed")] = {
                REPLICATE_COLUMN: str(f[REPLICATE_COLUMN]), "cycle": None, **kept,
                "failed": True, "failure_reason": f["failure_reason"]}
    known = history.set_index(id_col)
    whole_failed = ({str(i) for i, s in known["status"].items() if s == "failed"}
                    if {"status", "failure_reason"} <= set(history.columns) else set())
    records: list[dict[str, object]] = []
    for exp_id, recipe in zip(history[id_col].astype(str), history[list(parameters)].to_dict("records"), strict=True):
        cells = sorted(rows.get(exp_id, {}).values(), key=lambda r: (
            r[REPLICATE_COLUMN] or "", r["failed"], r["cycle"] is not None, r["cycle"] or 0))
        if not cells:  # not measured: one row, failed as a whole with its reason where it failed
            failed = exp_id in whole_failed
            cells = [{REPLICATE_COLUMN: None, "cycle": None, "failed": failed,
                      "failure_reason": known.at[exp_id, "failure_reason"] if failed else None,
                      **(_failure_context(known, exp_id) if failed else {})}]
        elif exp_id in whole_failed:  # measured, then failed: its values stay on rows marked failed
            cells = [{**c, "failed": True, "failure_reason": c["failure_reason"] or known.at[exp_id, "failure_reason"]}
                     for c in cells]
            failure = _failure_context(known, exp_id)
            if any(v is not None for v in failure.values()):
                # the failure's own note, operator, sample id and date: a row of their own (a value's are its cell's)
                cells.append({REPLICATE_COLUMN: None, "cycle": None, "failed": True,
                              "failure_reason": known.at[exp_id, "failure_reason"], **failure})
        status = known.at[exp_id, "status"] if "status" in known.columns else None
        records.extend({id_col: exp_id, "status": status, **{str(k): v for k, v in recipe.items()}, **cell}
                       for cell in cells)
    table = pd.DataFrame(records, columns=[id_col, "status", REPLICATE_COLUMN, "cycle", *parameters, *outcomes,
                                           *([MASS_COLUMN] if masses is not None else []), *CONTEXT_COLUMNS,
                                           "failed", "failure_reason"])
    for outcome in outcomes:
        table[outcome] = table[outcome].astype(float)
    unmade = table["status"].isin(["proposed", "running", "abandoned"]).any()  # said, so they record as they were
    keep = [id_col, *(["status"] if unmade else []), REPLICATE_COLUMN, *(["cycle"] if cycles else []), *parameters,
            *outcomes]
    if masses:  # a number of mg, empty where the cell's values came from no cycling file
        table[MASS_COLUMN] = table[MASS_COLUMN].astype(float)
        keep.append(MASS_COLUMN)
    keep += [c for c in CONTEXT_COLUMNS if table[c].notna().any()]
    if table["failed"].astype(bool).any():
        keep += ["failed", "failure_reason"]
    table = table[keep].reset_index(drop=True)
    if "cycle" in table.columns:  # whole numbers, as recorded
        table["cycle"] = pd.Series([None if _missing(v) else int(v) for v in table["cycle"]], dtype=object)
    for column in (REPLICATE_COLUMN, "note", "operator", "sample_id", "failure_reason"):
        if column in table.columns:  # None, not NaN, where empty (an object column as recorded)
            table[column] = table[column].astype(object).where(table[column].notna(), None)
    if "failed" in table.columns:
        table["failed"] = table["failed"].astype(bool)
    return table


def _cell_masses(measurements: pd.DataFrame, column: str) -> dict[tuple[str, str | None], set[float]]:
    """Each cell's (experiment id, label or None) active masses (mg, ``column``) over its values that have one."""
    masses: dict[tuple[str, str | None], set[float]] = {}
    for exp_id, label, mass in zip(measurements["experiment_id"], measurements[REPLICATE_COLUMN],
                                   measurements[column], strict=True):
        if not _missing(mass):
            masses.setdefault((str(exp_id), None if _missing(label) or label == "" else str(label)),
                              set()).add(float(mass))
    return masses


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT
    except (TypeError, ValueError):
        return False
