"""Experiments failed after they were measured, as a cells file gives them back to ``record()``.

:meth:`doe.Campaign.fail` fails a measured experiment and keeps its values (the furnace
overshot, found out after the cells were cycled). The cells file (``doe export --cells``)
writes such an experiment's values on rows marked failed, each with the experiment's reason
(:func:`doe.domain.replicates.cells_table`), since a cell is measured or failed, never both
(the failure's own note, operator, sample id and date on one more row, without values: a row
failing the whole experiment, which :func:`doe.domain.planning.plan_record` reads so). A
table recorded into a campaign, where every row of an experiment that gives a value is marked
failed with one reason, is read so: its values are recorded, and the experiment is failed with
that reason, when the experiment is new to the campaign (the file moved to another campaign)
or stored measured and failed for that reason already (the file recorded back: nothing changes).
Any other row marked failed with values stays refused by validation, naming it (a value typed
into the row of an experiment that failed without one is no measurement of it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.planning import RecordPlan
from doe.domain.table import ID_COLUMN, clean_label, failed_flag
from doe.domain.values import is_blank

NO_REASON = "failed (no reason given)"
"""The reason of an experiment failed without one (as :meth:`doe.Campaign.clone` states it)."""


def _empty(value: Any) -> bool:
    try:
        return is_blank(value) or bool(pd.isna(value))
    except (TypeError, ValueError):  # not a scalar: a value, refused by validation
        return False


def measured_then_failed(table: pd.DataFrame, history: pd.DataFrame,
                         config: CampaignConfig) -> tuple[pd.DataFrame, dict[str, str]]:
    """``table`` with the failure marks (``failed``, ``failure_reason``) cleared on the rows of
    experiments measured, then failed (module docstring), and each such experiment's id (as
    stored: :func:`~doe.domain.table.clean_label`) with its reason, for :func:`keep_failed`.

    Args:
        table: the results table as given to ``record()`` (before validation).
        history: the campaign's history (:meth:`doe.Campaign.history`).
        config: the campaign's configuration (its outcomes are the values looked for).
    """
    columns = set(map(str, table.columns))
    if ID_COLUMN not in columns or not {"failed", "failure_reason"} & columns or table.columns.has_duplicates:
        return table, {}
    outcomes = [o for o in config.outcome_names if o in columns]
    flags = [failed_flag(v) is True for v in table["failed"].tolist()] if "failed" in columns else [False] * len(table)
    reasons = [None if _empty(r) else clean_label(r) for r in
               (table["failure_reason"].tolist() if "failure_reason" in columns else [None] * len(table))]
    measured = [any(not _empty(v) for v in values) for values in table[outcomes].itertuples(index=False)]
    rows_of: dict[str, list[int]] = {}
    for row, exp_id in enumerate(table[ID_COLUMN].tolist()):
        if not _empty(exp_id) and measured[row]:
            rows_of.setdefault(clean_label(exp_id), []).append(row)
    known = {clean_label(i) for i in history[ID_COLUMN]} if len(history) else set()
    was_failed: dict[str, str] = {}  # stored experiments measured, then failed: their reasons
    if len(history):
        valued = history[[o for o in config.outcome_names if o in history.columns]].notna().any(axis=1)
        measured_then = history[history["status"].eq("failed") & valued]
        was_failed = {clean_label(i): NO_REASON if _empty(r) else clean_label(r)
                      for i, r in zip(measured_then[ID_COLUMN], measured_then["failure_reason"], strict=True)}
    found: dict[str, str] = {}
    for exp_id, rows in rows_of.items():
        given = {reasons[row] for row in rows}
        if len(given) != 1 or not all(flags[row] or reasons[row] is not None for row in rows):
            continue  # a value beside no failure, or two reasons: validation names the rows
        reason = next(iter(given)) or NO_REASON
        if exp_id not in known or was_failed.get(exp_id) == reason:
            found[exp_id] = reason
    if not found:
        return table, {}
    out = table.copy()
    cleared = [row for exp_id in found for row in rows_of[exp_id]]
    for column in ("failed", "failure_reason"):
        if column in columns:
            out[column] = out[column].astype(object)
            out.loc[out.index[cleared], column] = None
    return out, found


def keep_failed(plan: RecordPlan, failed: Mapping[str, str]) -> RecordPlan:
    """``plan`` (:func:`doe.domain.planning.plan_record` of the table :func:`measured_then_failed`
    cleared) with each experiment of ``failed`` failed for its reason: a new one created failed,
    a stored one (failed already) left so rather than made completed by its values."""
    if not failed:
        return plan
    new = [replace(e, status="failed", failure_reason=failed[key])
           if e.experiment_id is not None and (key := clean_label(e.experiment_id)) in failed else e
           for e in plan.new_experiments]
    changes = [c for c in plan.status_changes
               if not (isinstance(c.experiment_id, str) and clean_label(c.experiment_id) in failed)]
    return replace(plan, new_experiments=new, status_changes=changes)


__all__ = ["keep_failed", "measured_then_failed"]
