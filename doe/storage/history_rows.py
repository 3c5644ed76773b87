"""The columns that close the history (:meth:`doe.storage.sql.SqlStore.experiments`): the
failure (reason, and the note, operator, sample id and date of the row that failed the whole
experiment) and the provenance of each experiment, read from its ``experiments`` row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from doe.domain.failure_context import FIELDS, HISTORY_COLUMNS
from doe.storage.values import stored_json


def closing_columns(exp_rows: Sequence[Any], name: str) -> dict[str, pd.Series]:
    """``failure_reason``, ``failure_note``, ``failure_operator``, ``failure_sample_id``,
    ``failure_measured_at`` (UTC), ``proposed_by``, ``proposed_at``, ``seed``, ``predictions``,
    ``model_settings`` and ``package_version`` of the rows of campaign ``name``, in order."""
    data: dict[str, pd.Series] = {"failure_reason": pd.Series([r.failure_reason for r in exp_rows], dtype=object)}
    for f in FIELDS:
        column = HISTORY_COLUMNS[f]
        values = pd.Series([r._mapping[column] for r in exp_rows], dtype=object)
        data[column] = pd.to_datetime(values, utc=True) if f == "measured_at" else values
    data["proposed_by"] = pd.Series([r.proposed_by for r in exp_rows], dtype=object)
    data["proposed_at"] = pd.to_datetime(pd.Series([r.proposed_at for r in exp_rows], dtype=object), utc=True)
    data["seed"] = pd.Series([r.seed for r in exp_rows], dtype="Int64")
    data["predictions"] = pd.Series([stored_json(r.predictions, name, r.experiment_id, "predictions")
                                     for r in exp_rows], dtype=object)
    data["model_settings"] = pd.Series([stored_json(r.model_settings, name, r.experiment_id, "model_settings")
                                        for r in exp_rows], dtype=object)
    data["package_version"] = pd.Series([r.package_version for r in exp_rows], dtype=object)
    return data
