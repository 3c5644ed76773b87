"""How numbers are shown: each parameter at the lab's resolution, others at 4 significant figures.

Display only: the values doe stores and returns are never rounded here (a gridded value is
already an exact multiple of its resolution; see :mod:`doe.engine.lattice`).
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
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


def column_decimals(table: pd.DataFrame, config: CampaignConfig) -> dict[str, int]:
    """Decimal places to show the parameter columns of ``table`` that have a resolution (or
    discrete values) with: its decimals, or more where a value lies off the grid (a fixed value,
    a control recipe or an imported experiment: 1.234 on a 0.01 grid shows as 1.234, so a run
    sheet never differs from what is stored). Writing them at that precision loses nothing.

    Every other numeric column (:func:`significant_columns`) is shown value by value at
    :data:`SIGNIFICANT` significant figures (:func:`format_number`), not at one column-wide
    count of decimals.
    """
    grid = parameter_decimals(config)
    return {str(column): max([grid[str(column)], *value_decimals(table[column])])
            for column in table.columns if str(column) in grid}


def significant_columns(table: pd.DataFrame, config: CampaignConfig) -> list[str]:
    """The float columns of ``table`` shown at :data:`SIGNIFICANT` significant figures value by
    value: every one but the parameters of :func:`column_decimals` and categorical ones."""
    grid = parameter_decimals(config)
    categorical = {p.name for p in config.parameters if isinstance(p, CategoricalParameter)}
    return [str(c) for c in table.columns if str(c) not in grid and str(c) not in categorical
            and pd.api.types.is_float_dtype(table[c].dtype)]


FIXED_FROM, FIXED_BELOW = 1e-5, 1e6
"""Numbers from ``FIXED_FROM`` to below ``FIXED_BELOW`` (by size) are shown without an exponent
(12080, not 1.208e+04; 0.000109, not 1.09e-04); others as ``1.235e+07``."""


def significant_places(value: float, significant: int = SIGNIFICANT) -> int | None:
    """Decimal places that show ``value`` with ``significant`` figures (0 for zero and for a
    number with more whole digits: 19463.1 as 19463); None where it is shown with an exponent
    (outside :data:`FIXED_FROM` to :data:`FIXED_BELOW` by size) or is not finite."""
    x = abs(float(value))
    if x == 0:
        return 0
    if not math.isfinite(x) or not FIXED_FROM <= x < FIXED_BELOW:
        return None
    return max(0, significant - 1 - math.floor(math.log10(x)))


def rounded(value: float, places: int) -> float:
    """``value`` rounded to ``places`` decimals (a negative count: to tens, hundreds ...), a tie
    (87.625, exactly halfway) away from zero (87.63), not to even as Python's ``format`` does
    (87.62). Computed on the exact binary value, so 1.005 (stored as 1.00499...) rounds to 1.0,
    as JavaScript's ``toFixed`` does (behind Streamlit's ``%.2f`` column formats). Excel can differ
    there: it rounds to 15 significant digits first, so it shows 1.005 at 2 decimals as 1.01.
    CSV files written with ``decimals`` (:func:`doe.io.write_table`) use this rounding too."""
    with localcontext() as context:
        context.prec = 800  # enough digits for any float at any places
        return float(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _significant_text(x: float, significant: int) -> str:
    """``x`` at ``significant`` significant figures, trailing decimal zeros dropped."""
    if not math.isfinite(x) or x == 0:
        return "0" if x == 0 else str(x)
    near = rounded(x, significant - 1 - Decimal(x).adjusted())  # 99999.9 -> 1e5, 19463.1 -> 19460
    places = significant_places(near, significant)
    if places is None:
        return f"{near:.{significant}g}"  # 1.235e+07, 3.2e+08
    text = f"{near:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def digits_to_tell_apart(value: float, other: float, least: int = 6) -> int:
    """The fewest significant figures, from ``least`` up, at which ``value`` and ``other`` read
    differently through :func:`format_number` (79.99999 and 80: 7, not the six at which both read
    80); ``least`` where they are the same float. Rounding keeps order, so the texts compare as
    the values do."""
    for digits in range(least, MAX_SIGNIFICANT + 1):
        if format_number(value, significant=digits) != format_number(other, significant=digits):
            return digits
    return least


def texts_apart(value: Any, other: Any) -> tuple[str, str]:
    """``value`` and ``other`` as text for a message that says they differ: two numbers at the
    fewest significant figures, from :data:`SIGNIFICANT` up, at which they read differently
    (86.69999999999999 against 86.8 as 86.7 and 86.8; 79.99999 against 80 as 79.99999 and 80);
    anything else as its text."""
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in (value, other)):
        return str(value), str(other)
    a, b = float(value), float(other)
    figures = digits_to_tell_apart(a, b, least=SIGNIFICANT)
    return format_number(a, significant=figures), format_number(b, significant=figures)


def format_number(value: Any, decimals: int | None = None, significant: int = SIGNIFICANT) -> str:
    """``value`` as text: at ``decimals`` places, else at ``significant`` significant figures
    (trailing zeros dropped: 584.2, 0.00215, 12080, 85; an exponent only outside
    :data:`FIXED_FROM` to :data:`FIXED_BELOW`: 1.235e+07); a tie rounded away from zero
    (:func:`rounded`: 87.625 at 2 decimals is 87.63)."""
    if is_missing(value):
        return "-"
    if isinstance(value, str | bool):
        return str(value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if decimals is not None:
        return f"{rounded(x, decimals):.{decimals}f}" if math.isfinite(x) else str(x)
    return _significant_text(x, significant)


def shown_table(table: pd.DataFrame, config: CampaignConfig | None = None) -> pd.DataFrame:
    """``table`` as the text doe shows (a report's or a terminal's table): each parameter of
    ``config`` with a resolution or listed values at :func:`column_decimals`, every other float
    at :data:`SIGNIFICANT` significant figures (:func:`format_number`), whole numbers and text as
    they are, an empty cell as ``""``. Without ``config`` no column is taken for a parameter."""
    decimals = column_decimals(table, config) if config is not None else {}
    out = pd.DataFrame(index=table.index)
    for k, column in enumerate(table.columns):
        values = table.iloc[:, k]
        places = decimals.get(str(column))
        numbers = pd.api.types.is_float_dtype(values.dtype) or places is not None
        out[k] = ["" if _empty(v) else format_number(v, places) if numbers or isinstance(v, float)
                  else str(v) for v in values.tolist()]
    out.columns = table.columns
    return out


def _empty(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or is_missing(value)


MAX_SIGNIFICANT = 17
"""Significant figures that tell any two different floats apart."""


def audit_detail_text(detail: Any) -> str:
    """A stored audit detail (JSON text) as ``key: value · key: value``, keys without
    underscores and empty values left out; other text as it is.

    Display only (the stored detail keeps the exact values): a number is shown as doe shows a
    measurement (:func:`format_number`: 409.7279652953148 as 409.7), and a correction's
    ``old_value`` and ``new_value`` with as many more figures as tell them apart (85.4633 to
    85.4634, not 85.46 to 85.46)."""
    if _empty(detail):
        return ""
    try:
        data = json.loads(str(detail))
    except ValueError:
        return str(detail)
    if not isinstance(data, dict):
        return str(data)
    figures = SIGNIFICANT
    old, new = data.get("old_value"), data.get("new_value")
    if isinstance(old, float | int) and isinstance(new, float | int) and not isinstance(old, bool) \
            and not isinstance(new, bool):
        figures = digits_to_tell_apart(float(old), float(new), least=SIGNIFICANT)
    return " · ".join(f"{str(k).replace('_', ' ')}: {_detail_value(v, figures)}"
                      for k, v in data.items() if v is not None)


def _detail_value(value: Any, figures: int) -> str:
    return format_number(value, significant=figures) if isinstance(value, float) else str(value)


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


__all__ = ["FIXED_BELOW", "FIXED_FROM", "MAX_SIGNIFICANT", "SIGNIFICANT", "FurnaceProgramme", "audit_detail_text",
           "batch_programme", "column_decimals",
           "format_number", "furnace_programme", "mixed_batches", "parameter_decimals", "rounded", "shown_table",
           "significant_columns", "significant_decimals", "significant_places"]
