"""How numbers are shown: each parameter at the lab's resolution, others at 4 significant figures.

Display only: the values doe stores and returns are never rounded here (a gridded value is
already an exact multiple of its resolution; see :mod:`doe.engine.lattice`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.parameters import (
    CategoricalParameter,
    ContinuousParameter,
    DiscreteParameter,
    resolution_decimals,
)
from doe.domain.values import is_missing, same_value

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
    """The furnace programme: per ``batch_id`` whose rows share them the values of
    ``config.batch_shared`` (one row each).

    A batch whose rows differ in a shared parameter (proposed before ``batch_shared`` was set)
    has no one programme and is left out: :func:`furnace_programme` shows its rows' values.
    """
    shared = [n for n in config.batch_shared if n in recipes.columns]
    if not shared or recipes.empty:
        return pd.DataFrame(columns=["batch_id", *shared])
    if "batch_id" not in recipes.columns:
        return pd.DataFrame(columns=shared) if _differ(recipes, shared) else recipes[shared].iloc[[0]].reset_index(
            drop=True)
    mixed = set(mixed_batches(recipes, config))
    kept = recipes[~recipes["batch_id"].astype(str).isin(mixed)]
    return kept.groupby("batch_id", sort=True)[shared].first().reset_index()


def _differ(rows: pd.DataFrame, shared: list[str]) -> bool:
    for name in shared:
        values = rows[name].tolist()
        if any(is_missing(v) != is_missing(values[0]) or (not is_missing(v) and not same_value(v, values[0]))
               for v in values[1:]):
            return True
    return False


def mixed_batches(recipes: pd.DataFrame, config: CampaignConfig) -> list[str]:
    """The ``batch_id`` of each batch whose rows differ in a parameter of ``config.batch_shared``
    (a batch proposed before the parameter was shared keeps its rows' own values)."""
    shared = [n for n in config.batch_shared if n in recipes.columns]
    if not shared or recipes.empty or "batch_id" not in recipes.columns:
        return []
    return sorted(str(b) for b, rows in recipes.groupby("batch_id", sort=True) if _differ(rows, shared))


@dataclass(frozen=True)
class FurnaceProgramme:
    """How a table of pending recipes shows its batches' shared values.

    Attributes:
        programme: one row per batch whose rows share the values (``batch_id`` and the shared
            columns).
        rows: the recipes; without the shared columns when every batch is in ``programme``,
            else with them, so each row of a batch in ``mixed`` shows its own value.
        mixed: batches whose rows differ in a shared parameter.
        note: says which batches predate the shared setting, or None.
    """

    programme: pd.DataFrame
    rows: pd.DataFrame
    mixed: tuple[str, ...]
    note: str | None


def furnace_programme(recipes: pd.DataFrame, config: CampaignConfig) -> FurnaceProgramme:
    """The furnace programme of ``recipes`` (pending rows with ``batch_id``) and the rows shown
    beside it: see :class:`FurnaceProgramme`."""
    shared = [n for n in config.batch_shared if n in recipes.columns]
    mixed = tuple(mixed_batches(recipes, config))
    programme = batch_programme(recipes, config)
    if not mixed:
        return FurnaceProgramme(programme, recipes.drop(columns=shared), (), None)
    note = (f"Batch(es) {', '.join(mixed)} were proposed before {', '.join(shared)} "
            f"{'was' if len(shared) == 1 else 'were'} shared per batch: their rows differ and keep their own "
            "values, shown per row.")
    return FurnaceProgramme(programme, recipes, mixed, note)


__all__ = ["SIGNIFICANT", "FurnaceProgramme", "batch_programme", "column_decimals", "format_number",
           "furnace_programme", "mixed_batches", "parameter_decimals", "significant_decimals"]
