"""How numbers are shown: each parameter at the lab's resolution, others at 4 significant figures.

Display only: the values doe stores and returns are never rounded here (a gridded value is
already an exact multiple of its resolution; see :mod:`doe.engine.lattice`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.parameters import (
    CategoricalParameter,
    ContinuousParameter,
    DiscreteParameter,
    resolution_decimals,
)
from doe.domain.values import is_missing

SIGNIFICANT = 4
"""Significant figures of a number without a declared resolution (409.7279652953148 -> 409.7)."""


def parameter_decimals(config: CampaignConfig) -> dict[str, int]:
    """Decimal places of each parameter with a resolution (continuous) or a listed grid (discrete)."""
    out: dict[str, int] = {}
    for p in config.parameters:
        if isinstance(p, ContinuousParameter) and p.resolution is not None:
            out[p.name] = p.grid_decimals
        elif isinstance(p, DiscreteParameter):
            out[p.name] = max(resolution_decimals(v) for v in p.values)
    return out


def significant_decimals(values: Iterable[Any], significant: int = SIGNIFICANT) -> int:
    """Decimal places that show the largest of ``values`` with ``significant`` figures (at most 12)."""
    finite = [abs(float(v)) for v in values if not is_missing(v) and math.isfinite(float(v)) and float(v) != 0]
    if not finite:
        return 0
    return min(12, max(0, significant - 1 - math.floor(math.log10(max(finite)))))


def value_decimals(values: Iterable[Any]) -> list[int]:
    """Decimal places that write each finite number of ``values`` exactly (at most 12)."""
    out = []
    for v in values:
        if isinstance(v, str | bool) or is_missing(v):
            continue
        try:
            x = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(x) and x != 0:
            out.append(resolution_decimals(abs(x)))
    return out


def column_decimals(table: pd.DataFrame, config: CampaignConfig, *, exact_only: bool = False) -> dict[str, int]:
    """Decimal places to show each numeric column of ``table`` with.

    Parameters with a resolution (or discrete values) at its decimals, or more where a value
    lies off the grid (a fixed value, a control recipe or an imported experiment: 1.234 on a
    0.01 grid shows as 1.234, so a run sheet never differs from what is stored); with
    ``exact_only`` only those (writing them at that precision loses nothing), else also every
    other numeric column at :data:`SIGNIFICANT` significant figures of its largest value.
    """
    grid = parameter_decimals(config)
    out: dict[str, int] = {}
    categorical = {p.name for p in config.parameters if isinstance(p, CategoricalParameter)}
    for column in table.columns:
        name = str(column)
        if name in grid:
            out[name] = max([grid[name], *value_decimals(table[column])])
        elif not exact_only and name not in categorical and pd.api.types.is_float_dtype(table[column].dtype):
            out[name] = significant_decimals(table[column])
    return out


def format_number(value: Any, decimals: int | None = None) -> str:
    """``value`` as text: at ``decimals`` places, else at :data:`SIGNIFICANT` significant figures."""
    if is_missing(value):
        return "-"
    if isinstance(value, str | bool):
        return str(value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if decimals is not None:
        return f"{x:.{decimals}f}"
    return f"{x:.{SIGNIFICANT}g}"


def batch_programme(recipes: pd.DataFrame, config: CampaignConfig) -> pd.DataFrame:
    """The furnace programme: per ``batch_id`` the values of ``config.batch_shared`` (one row each).

    Rows of a batch carry the same shared values (a batch proposed before ``batch_shared``
    was set may not: its first row is shown).
    """
    shared = [n for n in config.batch_shared if n in recipes.columns]
    if not shared or recipes.empty:
        return pd.DataFrame(columns=["batch_id", *shared])
    key = "batch_id" if "batch_id" in recipes.columns else None
    if key is None:
        return recipes[shared].iloc[[0]].reset_index(drop=True)
    return recipes.groupby(key, sort=True)[shared].first().reset_index()


__all__ = ["SIGNIFICANT", "batch_programme", "column_decimals", "format_number", "parameter_decimals",
           "significant_decimals"]
