"""Rows of a results table that are already recorded (the same file imported twice).

A history without ``experiment_id`` carries nothing that ties its rows to the stored
experiments, so importing it twice would double every experiment. :func:`find_repeats`
finds the rows that match a stored experiment exactly: same parameters and the same
measured values (or, for a row without values, the same failed/not-failed state).
A row with an id is never a repeat here: the id itself says which experiment it is.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.table import ID_COLUMN
from doe.errors import CellProblem


def _key(value: Any) -> str:
    """Equal for values that are equal after a round trip through a database or a file."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{float(value):.10g}"
    return str(value)


def find_repeats(clean: pd.DataFrame, history: pd.DataFrame, config: CampaignConfig) -> list[CellProblem]:
    """One problem per row of ``clean`` (a validated table) that repeats a stored experiment.

    Args:
        clean: the output of :func:`doe.domain.validate_experiments`.
        history: the stored experiments (``Campaign.history()``: id, status, parameters, outcomes).
        config: the campaign.
    """
    params = config.parameter_names
    if clean.empty or history.empty or not set(params) <= set(clean.columns):
        return []
    outcomes = [o for o in config.outcome_names if o in clean.columns]
    stored: dict[tuple[str, ...], list[tuple[str, dict[str, str], bool]]] = {}
    for record in history.to_dict("records"):
        if record.get("status") == "abandoned":
            continue
        values = {o: _key(record.get(o)) for o in config.outcome_names}
        stored.setdefault(tuple(_key(record[p]) for p in params), []).append(
            (str(record[ID_COLUMN]), values, record.get("status") == "failed"))
    problems = []
    for position, (_, row) in enumerate(clean.iterrows()):
        label = int(clean.index[position])
        if ID_COLUMN in clean.columns and isinstance(row[ID_COLUMN], str):
            continue
        candidates = stored.get(tuple(_key(row[p]) for p in params), [])
        measured = {o: _key(row[o]) for o in outcomes if _key(row[o])}
        failed = bool(row.get("failed", False)) or isinstance(row.get("failure_reason"), str)
        for exp_id, values, was_failed in candidates:
            if measured:
                same = all(values[o] == v for o, v in measured.items())
            else:
                same = not any(values.values()) and failed == was_failed
            if same:
                problems.append(CellProblem(
                    label, ID_COLUMN, None,
                    f"already recorded as {exp_id} (same parameters and measured values); "
                    "importing it again would double it: remove the row, add its experiment_id, "
                    "or allow duplicates if it really is a repeat run"))
                break
    return problems


__all__ = ["find_repeats"]
