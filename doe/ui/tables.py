"""Tables the web pages show and read back (no Streamlit here).

Each function turns what :class:`doe.Campaign` returns into what a page shows (a run sheet,
the grid of running experiments, a table of bad cells), or what a person edited into what
``Campaign.record`` takes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from doe.domain.active_mass import rule_mass
from doe.domain.config import CampaignConfig
from doe.domain.curves import PRED_SD_SUFFIX
from doe.domain.display import (
    audit_detail_text,
    column_decimals,
    format_number,
    significant_columns,
)
from doe.domain.explain import prediction_text, purpose
from doe.domain.failure_context import FIELDS, HISTORY_COLUMNS
from doe.domain.parameters import CategoricalParameter
from doe.domain.replicates import REPLICATE_COLUMN, SD_SUFFIX, n_column
from doe.domain.typed_number import read_number
from doe.domain.values import composed, same_text, same_value
from doe.errors import CellProblem, DataError

ID_COLUMN = "experiment_id"
PROBLEM_COLUMNS = ("row", ID_COLUMN, "column", "value", "problem")
CONTEXT = FIELDS
GRID_META = ("failed", "failure_reason", *CONTEXT)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def problems_frame(problems: Sequence[CellProblem], table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every bad cell as a table: row, experiment_id (when the table has one), column,
    value, problem.

    Args:
        problems: ``DataError.problems``; ``row`` is the 0-based position in the table checked.
        table: that table, if the page has it: its index label is the row shown (the pages
            number their grids from 1, and a row of a filtered grid keeps its number) and its
            ids fill ``experiment_id``. Without it the row is the position + 1. A problem
            of a file's row (``file_row``) shows that row, as the engineer's spreadsheet
            numbers it (the header is row 1).
    """
    rows = []
    for p in problems:
        label: Any = None
        exp_id: Any = None
        if p.row is not None:
            label = p.row + 1
            if table is not None and 0 <= p.row < len(table):
                index_label = table.index[p.row]
                label = int(index_label) if isinstance(index_label, int | np.integer) else index_label
                if ID_COLUMN in table.columns:
                    exp_id = table[ID_COLUMN].iloc[p.row]
                    exp_id = None if _missing(exp_id) else str(exp_id)
        if p.file_row is not None:  # the row as the engineer's spreadsheet numbers it; the id still from the table
            label = p.file_row
            exp_id = exp_id if exp_id is not None else p.experiment_id
        value: Any = p.value
        if isinstance(value, Mapping):  # e.g. the stored values a row conflicts with
            value = "; ".join(f"{k} = {v}" for k, v in value.items())
        elif isinstance(value, list | tuple | set):
            value = ", ".join(str(v) for v in value)
        elif not (value is None or isinstance(value, str | int | float)):
            value = repr(value)
        if isinstance(value, float) and math.isnan(value):
            value = None
        rows.append({"row": label, ID_COLUMN: exp_id, "column": p.column,
                     "value": None if value is None else str(value), "problem": p.problem})
    return pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS), dtype=object)


def suggestion_view(suggestions: pd.DataFrame, config: CampaignConfig, measured: pd.DataFrame | None = None,
                    best_id: str | None = None) -> pd.DataFrame:
    """Suggestions as a person reads them: id, batch, the recipe's purpose in words
    (:func:`doe.domain.explain.purpose`), probability of success (0-1), each outcome's
    prediction as ``"90.1 % ± 1.2"``, then the recipe; no algorithm names.

    Args:
        suggestions: ``Campaign.suggest()`` output, or proposed experiments joined with the
            predictions stored with them (same columns).
        measured: the completed experiments (history rows), for the purposes.
        best_id: the best measured recipe's id, for "near the best recipe".
    """
    measured = measured if measured is not None else pd.DataFrame(columns=[ID_COLUMN, *config.parameter_names])
    out = pd.DataFrame(index=suggestions.index)
    out[ID_COLUMN] = suggestions[ID_COLUMN].astype(str)
    if "batch_id" in suggestions.columns:
        out["batch_id"] = suggestions["batch_id"]
    out["purpose"] = [purpose(row, measured, best_id, config) if all(p in row for p in config.parameter_names)
                      else "" for _, row in suggestions.iterrows()]
    predicted = [suggestions[c] for o in config.outcome_names if (c := f"{o}_mean") in suggestions.columns]
    modelled = (pd.concat(predicted, axis=1).notna().any(axis=1) if predicted
                else pd.Series(False, index=suggestions.index))
    # with no outcome modelled and no failed run yet the model has no chance to give: empty, not 100 %
    chance = pd.to_numeric(suggestions.get("probability_feasible", pd.Series(np.nan, index=suggestions.index)),
                           errors="coerce")
    out["probability_feasible"] = chance.where(modelled | (chance < 1.0))
    for o in config.outcome_names:
        means = suggestions.get(f"{o}_mean", pd.Series(np.nan, index=suggestions.index))
        sds = suggestions.get(f"{o}_sd", pd.Series(np.nan, index=suggestions.index))
        unit = config.unit_of(o)
        out[f"{o} (predicted)"] = [prediction_text(m, s, unit) for m, s in zip(means, sds, strict=True)]
    for p in config.parameter_names:  # the recipe after why it was chosen and what it should give
        out[p] = suggestions[p] if p in suggestions.columns else None
    return out.reset_index(drop=True)


def proposed_with_predictions(history: pd.DataFrame, proposals: pd.DataFrame) -> pd.DataFrame:
    """History rows joined with the predictions stored at proposal time (flattened into
    ``<outcome>_mean``, ``<outcome>_sd``, ``probability_feasible``, ... columns)."""
    if history.empty:
        return history.copy()
    predictions: dict[str, dict[str, Any]] = {}
    if "predictions" in proposals.columns:
        for exp_id, stored in zip(proposals[ID_COLUMN].astype(str), proposals["predictions"], strict=True):
            if isinstance(stored, dict):
                predictions[exp_id] = stored
    flat = pd.DataFrame([predictions.get(str(i), {}) for i in history[ID_COLUMN]], index=history.index)
    # a predicted <outcome>_sd takes the place of the history's replicate sd of that name (NaN before any cell)
    predicted_sd = [c for c in flat.columns if c in history.columns and c.endswith(SD_SUFFIX)]
    history = history.drop(columns=predicted_sd)
    flat = flat[[c for c in flat.columns if c not in history.columns]]
    return pd.concat([history, flat], axis=1)


GridSelection = Literal["awaiting", "all"]


def record_grid(history: pd.DataFrame, config: CampaignConfig, show: GridSelection = "awaiting") -> pd.DataFrame:
    """The grid of the Record page.

    Args:
        history: ``Campaign.history()``.
        config: the campaign configuration.
        show: ``"awaiting"``: proposed and running experiments and completed ones still
            missing an objective (retention comes weeks after efficiency); ``"all"``: every
            experiment that is not abandoned.

    Returns:
        Data entry first: experiment_id, every outcome (NaN = not measured), ``failed``,
        ``failure_reason``, ``note``, ``measured_at``, ``operator`` and ``sample_id`` (a failed
        experiment's as stored with its failure, so a reason changed alone keeps them; empty on
        other rows), then what the engineer reads: status, batch_id and the parameters; index
        0..n-1.
    """
    if history.empty:
        columns = [ID_COLUMN, *config.outcome_names, *GRID_META, "status", "batch_id", *config.parameter_names]
        empty = pd.DataFrame(columns=columns)
        for o in config.outcome_names:
            empty[o] = empty[o].astype(float)
        empty["failed"] = empty["failed"].astype(bool)
        return empty
    table = history[history["status"] != "abandoned"]
    measured = pd.DataFrame({o: table[o].astype(float) for o in config.outcome_names}, index=table.index)
    for o in config.curve_outcomes:  # a curve outcome's prediction (still cycling) is not a measured value
        if (predicted := f"{o}{PRED_SD_SUFFIX}") in table.columns:
            measured[o] = measured[o].where(~(table[predicted].astype(float) > 0))
    if show == "awaiting":
        missing_objective = measured[config.objective_names].isna().any(axis=1)
        keep = table["status"].isin(["proposed", "running"]) | (table["status"].eq("completed") & missing_objective)
        table, measured = table[keep], measured[keep]
    out = pd.DataFrame({ID_COLUMN: table[ID_COLUMN].astype(str)})
    for o in config.outcome_names:
        out[o] = measured[o]
    out["failed"] = table["status"].eq("failed")
    reasons = table["failure_reason"] if "failure_reason" in table.columns else pd.Series(None, index=table.index)
    out["failure_reason"] = reasons.astype(object).where(reasons.notna(), None)
    failed = out["failed"].to_numpy()
    for column in CONTEXT:  # a failure's own, as stored; else empty, for the values saved next
        stored = table[HISTORY_COLUMNS[column]] if HISTORY_COLUMNS[column] in table.columns else None
        out[column] = None if stored is None else stored.astype(object).where(failed & stored.notna(), None)
    out["status"] = table["status"]
    out["batch_id"] = table["batch_id"] if "batch_id" in table.columns else None
    for p in config.parameters:
        values = table[p.name]
        if isinstance(p, CategoricalParameter):  # a label stored decomposed as listed: one of the column's options
            values = values.map(lambda v, listed=p.listed: listed(v) or v)
        out[p.name] = values
    return out.reset_index(drop=True)


def _number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def _same(a: Any, b: Any) -> bool:
    if _missing(a) and _missing(b):
        return True
    if _missing(a) or _missing(b):
        return False
    if _number(a) and _number(b):
        return same_value(float(a), float(b))
    if _number(a) != _number(b) and isinstance(a if _number(b) else b, str):  # a number and its text ('1.2e3')
        typed, problem = read_number(a if _number(b) else b)
        if problem is None:
            return same_value(typed, float(a if _number(a) else b))
    return same_text(str(a).strip(), str(b).strip())  # a label stored decomposed is its composed one


def grid_changes(original: pd.DataFrame, edited: pd.DataFrame, config: CampaignConfig,
                 history: pd.DataFrame | None = None, measurements: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows of the Record grid a person changed, as a table for ``Campaign.record``.

    Args:
        original: the grid as shown (:func:`record_grid`).
        edited: the grid as returned by the editor (same rows, same order); an outcome cell
            holds a number, or the text typed (read by :func:`~doe.ui.number_cells.read_number`:
            ``12,5`` is 12.5, ``1.2e3`` 1200).
        config: the campaign configuration.
        history: ``Campaign.history()``: its cell counts (``<outcome>_n``, once the campaign
            holds replicates) go with the rows, so a value typed over the shown mean of
            several or labelled cells is refused by ``record`` rather than added as a cell.
        measurements: ``Campaign.measurements()``: a row where only a note, date, operator or
            sample id was typed, of an experiment whose values come from one cell, carries
            that cell's stored values and label, so ``record`` stores them with its values
            (a correction of the cell's context: ``correct=True``).

    Returns:
        experiment_id, each outcome (the value typed into it; NaN where the cell was not
        edited, so a value shown, such as the mean of replicate cells, is never recorded
        again as another cell), ``failed``, ``failure_reason``, ``note``, ``measured_at``,
        ``operator`` and ``sample_id`` for every row with an edited cell; the index keeps the
        grid's row numbers so bad cells can be shown where they are.

    Raises:
        DataError: an outcome cell holds text that is not a number (``1,250``: 1250 or 1.25?),
            a row is marked failed without a reason, or only a note, date, operator or
            sample id was typed where no value, or the values of several cells, are stored
            (they are saved with a value of one cell; ``row``: its position in ``edited``). On
            a failed experiment's row they are its failure's (:func:`record_grid` shows them):
            saved with it, and dropped where 'failed' is unticked without typing them again;
            one emptied on a row still failed is refused (``record`` keeps a stored field that
            is not given, so the emptied cell would be saved as unchanged).
    """
    if len(original) != len(edited):
        raise DataError("the grid changed while it was edited; reload the page and enter the values again")
    editable = [*config.outcome_names, *GRID_META]
    changed_rows, edited_cells = [], []
    for i in range(len(edited)):
        cells = {c for c in editable if c in edited.columns and not _same(original[c].iloc[i], edited[c].iloc[i])}
        if cells:
            changed_rows.append(i)
            edited_cells.append(cells)
    table = edited.iloc[changed_rows]
    out = pd.DataFrame(index=table.index)
    out[ID_COLUMN] = table[ID_COLUMN].astype(str)
    problems = []
    for o in config.outcome_names:
        typed = [o in cells for cells in edited_cells]
        given = table[o].tolist() if o in table.columns else [None] * len(table)
        numbers = []
        for pos, is_typed, value in zip(changed_rows, typed, given, strict=True):
            number, problem = read_number(value) if is_typed else (math.nan, None)
            if problem is not None:  # text typed that is not a number: named, never guessed
                problems.append(CellProblem(pos, o, value, problem))
            numbers.append(number)
        out[o] = pd.Series(numbers, index=table.index, dtype=float)
    if history is not None and len(out):
        counts = history.set_index(ID_COLUMN)
        for o in config.outcome_names:
            if n_column(o) in counts.columns:
                out[n_column(o)] = out[ID_COLUMN].map(counts[n_column(o)].to_dict())
    flags = table["failed"].fillna(False).astype(bool) if "failed" in table.columns else False
    out["failed"] = flags
    reasons = table["failure_reason"] if "failure_reason" in table.columns else pd.Series(None, index=table.index)
    out["failure_reason"] = [None if _missing(r) else str(r).strip() for r in reasons]
    shown_failed = original["failed"].iloc[changed_rows].fillna(False).astype(bool).to_numpy() if (
        "failed" in original.columns) else [False] * len(table)
    for column in CONTEXT:  # a failure's, shown and left as it was, is no context of values typed after all
        values = table[column] if column in table.columns else pd.Series(None, index=table.index)
        out[column] = [None if _missing(v) or (was and not flag and column not in cells) else str(v)
                       for v, was, flag, cells in zip(values, shown_failed, out["failed"], edited_cells, strict=True)]
    for pos, cells, was, flag in zip(changed_rows, edited_cells, shown_failed, out["failed"], strict=True):
        # record() keeps a stored field not given: an emptied one would be saved as unchanged
        problems += [CellProblem(pos, column, original[column].iloc[pos], (
            f"the failure's stored {column.replace('_', ' ')} cannot be removed here; type the corrected text over "
            "it, or leave it as it was")) for column in CONTEXT if was and flag and column in cells
            and _missing(edited[column].iloc[pos]) and not _missing(original[column].iloc[pos])]
    for k, (pos, cells, (flag, reason)) in enumerate(zip(changed_rows, edited_cells, zip(
            out["failed"], out["failure_reason"], strict=True), strict=True)):
        if flag and reason is None:
            problems.append(CellProblem(pos, "failure_reason", None,
                                        "say why the run failed (e.g. 'dispersion gelled')"))
        elif cells <= set(CONTEXT):
            if flag:  # a failed experiment's row: its failure's own note, operator, sample id or date
                continue
            stored = _one_cell(measurements, out[ID_COLUMN].iloc[k], config) if measurements is not None else None
            if isinstance(stored, dict):
                for column, value in stored.items():
                    out.loc[out.index[k], column] = value
                continue
            first = sorted(cells)[0]
            problems.append(CellProblem(pos, first, edited[first].iloc[pos], stored or (
                "is saved with a value typed in the same row; type the value too")))
    if problems:
        raise DataError(f"the grid has {len(problems)} problem(s); nothing was recorded", problems)
    return out


def _one_cell(measurements: pd.DataFrame, experiment_id: str, config: CampaignConfig) -> dict[str, Any] | str | None:
    """The stored values and replicate label of ``experiment_id``'s one cell (curve points left
    out), why a note cannot go with them (several cells), or None (no value stored)."""
    mine = measurements[(measurements[ID_COLUMN].astype(str) == experiment_id) & measurements["cycle"].isna()]
    mine = mine[mine["outcome"].isin(config.outcome_names)]
    if mine.empty:
        return None
    labels = {None if _missing(r) or r == "" else str(r) for r in mine[REPLICATE_COLUMN]}
    if len(labels) > 1:
        return (f"goes with one cell, and {experiment_id} has {len(labels)}; add it to that cell's row of the "
                "cells file (History page, or doe export --cells) and upload the file")
    label = labels.pop()
    return {**dict(zip(mine["outcome"].astype(str), mine["value"].astype(float), strict=True)),
            **({} if label is None else {REPLICATE_COLUMN: label})}


def filled_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of an editor with at least one filled cell (``failed`` False counts as empty)."""
    if table.empty:
        return table
    cells = table.drop(columns=[c for c in ("failed",) if c in table.columns])
    filled = cells.apply(lambda col: col.map(lambda v: not _missing(v))).any(axis=1)
    if "failed" in table.columns:
        filled |= table["failed"].fillna(False).astype(bool)
    return table[filled]


def filter_history(
    history: pd.DataFrame,
    *,
    statuses: Iterable[str] = (),
    batches: Iterable[str] = (),
    text: str = "",
    config: CampaignConfig | None = None,
) -> pd.DataFrame:
    """Rows whose status and batch are among those chosen (all when none chosen) and where
    some cell contains ``text`` (case-insensitive; a number as stored or as shown with
    ``config``: :func:`search`)."""
    table = history
    statuses, batches = list(statuses), list(batches)
    if statuses and "status" in table.columns:
        table = table[table["status"].isin(statuses)]
    if batches and "batch_id" in table.columns:
        table = table[table["batch_id"].isin(batches)]
    return search(table, text, config)


def search(table: pd.DataFrame, text: str, config: CampaignConfig | None = None) -> pd.DataFrame:
    """Rows where some cell, as text, contains ``text`` (case-insensitive; both composed, so
    'é' typed finds a label an older doe stored decomposed, and the reverse). With ``config``,
    a number is found as stored (84.125) and as the table shows it (:func:`number_table
    <doe.ui.shown_numbers.number_table>`: 84.13; 2.00 for 2.0 on a 0.25 grid)."""
    text = composed((text or "").strip()).lower()
    if not text or table.empty:
        return table

    def found(cells: pd.DataFrame) -> pd.Series:
        return cells.astype(str).apply(
            lambda col: col.str.normalize("NFC").str.lower().str.contains(text, regex=False)).any(axis=1)

    hits = found(table)
    if config is not None:
        shown = pd.DataFrame(index=table.index)
        for column, places in column_decimals(table, config).items():
            shown[column] = [format_number(v, decimals=places) for v in table[column]]
        for column in significant_columns(table, config):
            shown[column] = [format_number(v) for v in table[column]]
        if len(shown.columns):
            hits = hits | found(shown)
    return table[hits]


def parse_column_mapping(text: str) -> dict[str, str]:
    """``file column = doe column`` lines (or ``->``, ``:``) into a mapping, each split at its last
    separator (a file column may hold one: ``CE=final = first_cycle_ce_pct``).

    Raises:
        DataError: a line that is not of that form (each named).
    """
    mapping: dict[str, str] = {}
    problems = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        # at the last separator: a doe column name has none (an identifier), a file's column name may
        # ('CE=final = first_cycle_ce_pct'), as `doe record --map` splits it
        split = re.fullmatch(r"(.*)(?:->|=|:)(.*)", line)
        source, target = ("", "") if split is None else (split.group(1).strip(), split.group(2).strip())
        if not source or not target:
            problems.append(CellProblem(number - 1, "column mapping", line,
                                        "write one mapping per line as 'file column = doe column'"))
            continue
        mapping[source] = target
    if problems:
        raise DataError("column mapping: some lines are not understood", problems)
    return mapping


# ------------------------------------------------------------------ unsaved edits of the Record grid
@dataclass(frozen=True)
class CellEdit:
    """A value a person typed in the Record grid and has not saved: the grid showed ``before``."""

    before: Any
    after: Any


UnsavedEdits = dict[str, dict[str, CellEdit]]
"""experiment_id -> grid column -> the edit (keyed by experiment, never by row position)."""


def apply_editor_state(shown: pd.DataFrame, editor_state: Any) -> pd.DataFrame:
    """The grid a ``st.data_editor`` shows: ``shown`` (what it was given) with its widget
    state's ``edited_rows`` (row position -> column -> value) applied; other keys are ignored
    (the Record grid has fixed rows)."""
    out = shown.copy().astype(object)
    rows = editor_state.get("edited_rows", {}) if isinstance(editor_state, dict) else {}
    for position, cells in rows.items():
        row = int(position)
        if not 0 <= row < len(out) or not isinstance(cells, dict):
            continue
        for column, value in cells.items():
            if column in out.columns:
                out.at[out.index[row], column] = value
    return out


def unsaved_edits(original: pd.DataFrame, edited: pd.DataFrame, config: CampaignConfig) -> UnsavedEdits:
    """The cells of the Record grid that differ from what was stored when it was shown.

    Args:
        original: the grid as stored (:func:`record_grid`).
        edited: the grid with the person's values (same rows, same order).
        config: the campaign configuration (the editable columns: outcomes, failed, reason, note).
    """
    edits: UnsavedEdits = {}
    columns = [c for c in (*config.outcome_names, *GRID_META) if c in original.columns and c in edited.columns]
    for i in range(min(len(original), len(edited))):
        for column in columns:
            before, after = original[column].iloc[i], edited[column].iloc[i]
            if not _same(before, after):
                edits.setdefault(str(original[ID_COLUMN].iloc[i]), {})[column] = CellEdit(before, after)
    return edits


@dataclass(frozen=True)
class MergedGrid:
    """The fresh Record grid with a person's unsaved values on top."""

    grid: pd.DataFrame
    kept: UnsavedEdits
    """The edits still unsaved (those now stored as typed are dropped)."""
    conflicts: tuple[tuple[str, str], ...]
    """(experiment_id, column) where someone else stored a different value meanwhile; the
    person's value is kept in the grid (saving it is a correction)."""


def merge_unsaved(fresh: pd.DataFrame, edits: UnsavedEdits) -> MergedGrid:
    """Put a person's unsaved values onto the grid read after someone (maybe they) saved.

    An edit whose value is now stored is saved and dropped; every other edit is kept in its
    experiment's row, wherever that row now is; where the stored value changed under it, the
    cell is a conflict (the person's value stays; nothing is lost silently).
    """
    grid = fresh.copy()
    positions = {str(e): i for i, e in enumerate(grid[ID_COLUMN].astype(str))}
    kept: UnsavedEdits = {}
    conflicts: list[tuple[str, str]] = []
    for exp_id, cells in edits.items():
        row = positions.get(exp_id)
        if row is None:
            continue
        for column, edit in cells.items():
            if column not in grid.columns:
                continue
            stored = grid[column].iloc[row]
            if _same(stored, edit.after):
                continue
            if not _same(stored, edit.before):
                conflicts.append((exp_id, column))
            if (grid[column].dtype == bool and not isinstance(edit.after, bool | np.bool_)) or (
                    isinstance(edit.after, str) and grid[column].dtype != object):  # text typed into a number cell
                grid[column] = grid[column].astype(object)
            grid.at[grid.index[row], column] = edit.after
            kept.setdefault(exp_id, {})[column] = edit
    return MergedGrid(grid, kept, tuple(conflicts))


def replacing_cells(table: pd.DataFrame, history: pd.DataFrame, config: CampaignConfig) -> pd.DataFrame:
    """``table`` (the grid's changes kept for a correction) with only its cells that replace
    something stored, the others emptied: an outcome with a stored value, and a failure or a
    note, date, operator or sample id of an experiment with a result. Discarding the
    correction drops these from the grid and keeps the others (a value typed where none was
    stored replaces nothing: :func:`drop_saved`)."""
    stored = history.drop_duplicates(ID_COLUMN).set_index(history.drop_duplicates(ID_COLUMN)[ID_COLUMN].astype(str))
    out = table.astype(object).copy()
    for label, exp_id in zip(table.index, table[ID_COLUMN].astype(str), strict=True):
        known = stored.loc[exp_id] if exp_id in stored.index else None
        for column in [c for c in table.columns if c != ID_COLUMN]:
            if column in config.outcome_names:
                replaces = known is not None and column in stored.columns and not _missing(known[column])
            else:  # failed, failure_reason, note, measured_at, operator, sample_id, replicate
                replaces = known is not None and known.get("status") in ("completed", "failed")
            if not replaces:
                out.at[label, column] = None
    return out


def drop_saved(edits: UnsavedEdits, saved: pd.DataFrame) -> UnsavedEdits:
    """``edits`` less those just recorded in ``saved`` (the table ``Campaign.record`` took): a
    cell whose experiment has a row of ``saved`` holding the value typed. (The grid shows the
    note, date, operator and sample id empty, for the values saved next, so
    :func:`merge_unsaved` cannot tell that they were saved.)"""
    rows: dict[str, list[dict[Any, Any]]] = {}
    for row in saved.to_dict("records"):
        rows.setdefault(str(row.get(ID_COLUMN)), []).append(row)
    kept: UnsavedEdits = {}
    for exp_id, cells in edits.items():
        for column, edit in cells.items():
            if not any(column in row and _same(row[column], edit.after) for row in rows.get(exp_id, [])):
                kept.setdefault(exp_id, {})[column] = edit
    return kept


def evidence_table(files: pd.DataFrame) -> pd.DataFrame:
    """The stored instrument files as shown: a cycling file's active mass (its cell's), rule as text, newest first."""
    shown = files.assign(rule=files["rule"].map(lambda rule: json.dumps(rule, sort_keys=True)),
                         active_mass_mg=files["rule"].map(rule_mass))
    return shown[["file_name", "kind", "file_format", "active_mass_mg", "experiment_ids", "size_bytes", "sha256",
                  "parser", "rule", "uploaded_by", "uploaded_at"]].iloc[::-1].reset_index(drop=True)


def evidence_label(files: pd.DataFrame, sha256: str) -> str:
    """How a stored file is named in a list: its name, experiments and SHA-256 prefix."""
    row = files.set_index("sha256").loc[sha256]
    return f"{row['file_name']} ({row['experiment_ids'] or 'no value'}, sha256 {sha256[:12]})"


AUDIT_COLUMNS = ("when", "who", "what", ID_COLUMN, "details")


def audit_view(audit: pd.DataFrame, timezone: str | None = None) -> pd.DataFrame:
    """The audit trail as a person reads it: newest first, the time in ``timezone`` (an IANA
    name such as the browser's; the server's local time when None or unknown) to the second,
    the action in words and the details as ``key: value`` pairs, numbers as the app shows them
    (:func:`doe.domain.display.audit_detail_text`)."""
    when = pd.to_datetime(audit["at"], utc=True)
    try:
        local = when.dt.tz_convert(timezone) if timezone else when.dt.tz_convert(
            datetime.now().astimezone().tzinfo)
    except (KeyError, ValueError, TypeError):  # an unknown zone name: the server's local time
        local = when.dt.tz_convert(datetime.now().astimezone().tzinfo)
    out = pd.DataFrame({
        "when": local.dt.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "who": audit["actor"].astype(str),
        "what": audit["action"].astype(str).str.replace("_", " "),
        ID_COLUMN: audit[ID_COLUMN].where(audit[ID_COLUMN].notna(), ""),
        "details": [audit_detail_text(d) for d in audit["detail"]],
    }, columns=list(AUDIT_COLUMNS))
    order = np.argsort(-when.to_numpy(dtype="datetime64[us]").astype(np.int64), kind="stable")
    return out.iloc[order].reset_index(drop=True)


def proposals_with_predictions(history: pd.DataFrame, proposals: pd.DataFrame) -> pd.DataFrame:
    """The experiments proposed or running (``history`` rows) with the predictions stored when
    they were proposed (``proposals``: :meth:`doe.Campaign.proposals`), as ``<outcome>_mean``
    and ``_sd`` columns, for drawing them on the Insights plots."""
    pending = history[history["status"].isin(["proposed", "running"])].reset_index(drop=True)
    out = proposed_with_predictions(pending, proposals)  # a predicted _sd replaces the replicate sd of that name
    numbers = [c for c in out.columns if c.endswith(("_mean", SD_SUFFIX))]
    out[numbers] = out[numbers].apply(pd.to_numeric, errors="coerce")
    return out
