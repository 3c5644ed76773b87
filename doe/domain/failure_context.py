"""What a failed experiment keeps of the row that failed it as a whole: its ``note``,
``operator``, ``sample_id`` and ``measured_at`` (a failed replicate cell keeps the same on the
cell, :class:`doe.domain.records.CellFailure`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from doe.domain.values import is_missing

FIELDS = ("note", "operator", "sample_id", "measured_at")
"""The context a failure keeps, as :class:`~doe.domain.records.StatusChange` names it."""
HISTORY_COLUMNS = {f: f"failure_{f}" for f in FIELDS}
"""Each field's column in the history (:meth:`doe.Campaign.history`): set on a failed
experiment, empty on any other."""


def failure_context(note: str | None, context: Mapping[str, Any], *, whole: bool) -> dict[str, Any]:
    """The fields a row failing a whole experiment (``whole``) gives: its ``note`` and the
    ``operator``, ``sample_id`` and ``measured_at`` of ``context``; empty for any other row
    (a failed cell keeps them on the cell)."""
    if not whole:
        return {}
    given = {"note": note, **{f: context.get(f) for f in FIELDS[1:]}}
    return {f: v for f, v in given.items() if v is not None and not is_missing(v)}


def context_differs(context: Mapping[str, Any], stored: Mapping[Any, Any]) -> bool:
    """Whether a field of ``context`` differs from the stored one of the history row
    ``stored`` (a field not given keeps the stored one)."""
    for f, value in context.items():
        was = stored.get(HISTORY_COLUMNS[f])
        if was is None or is_missing(was):
            return True
        if f == "measured_at" and pd.Timestamp(value) != pd.Timestamp(was):
            return True
        if f != "measured_at" and str(value) != str(was):
            return True
    return False
