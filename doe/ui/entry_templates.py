"""Empty tables the Record page offers for typing in: historical experiments, replicate cells and
curve points, one column per parameter or outcome the campaign's configuration names."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.curves import CYCLE_COLUMN
from doe.domain.replicates import REPLICATE_COLUMN
from doe.domain.table import ID_COLUMN


def history_template(config: CampaignConfig, rows: int = 3) -> pd.DataFrame:
    """An empty table for historical experiments: every parameter, every outcome, failed,
    failure_reason (``rows`` blank rows)."""
    data: dict[str, Any] = {}
    for p in config.parameters:
        data[p.name] = pd.Series([None] * rows, dtype=object if p.type == "categorical" else float)
    for o in config.outcome_names:
        data[o] = pd.Series([np.nan] * rows, dtype=float)
    data["failed"] = pd.Series([False] * rows, dtype=bool)
    data["failure_reason"] = pd.Series([None] * rows, dtype=object)
    return pd.DataFrame(data)


def replicate_template(config: CampaignConfig, rows: int = 3) -> pd.DataFrame:
    """An empty table of replicate cells: experiment_id, replicate (the cell's label), every
    outcome and ``failure_reason`` (a cell that gave no result, e.g. a cracked pellet), ``rows``
    blank rows; recorded rows add cells to their experiments."""
    data: dict[str, Any] = {
        ID_COLUMN: pd.Series([None] * rows, dtype=object),
        REPLICATE_COLUMN: pd.Series([None] * rows, dtype=object),
    }
    for o in config.outcome_names:
        data[o] = pd.Series([np.nan] * rows, dtype=float)
    data["failure_reason"] = pd.Series([None] * rows, dtype=object)
    return pd.DataFrame(data)


def cycle_template(config: CampaignConfig, rows: int = 3) -> pd.DataFrame:
    """An empty table of curve points: experiment_id, replicate, cycle and every curve outcome
    (``rows`` blank rows); see :mod:`doe.domain.curves`."""
    data: dict[str, Any] = {
        ID_COLUMN: pd.Series([None] * rows, dtype=object),
        REPLICATE_COLUMN: pd.Series([None] * rows, dtype=object),
        CYCLE_COLUMN: pd.Series([np.nan] * rows, dtype=float),
    }
    for o in config.curve_outcomes:
        data[o] = pd.Series([np.nan] * rows, dtype=float)
    return pd.DataFrame(data)
