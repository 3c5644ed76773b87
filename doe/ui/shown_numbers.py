"""Tables handed to ``st.dataframe`` and ``st.data_editor`` with their numbers shown as doe
prints them (:mod:`doe.domain.display`): each parameter with a resolution at its decimals (a
column format), every other number at 4 significant figures value by value (a
``pandas.Styler``'s display text, which Streamlit shows where the column sets no format), so
0.000109 beside 584.2 shows as 0.000109, not 0.0. Display only: the table's values are not
changed, and sorting stays numeric."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from doe.domain.config import CampaignConfig
from doe.domain.display import (
    column_decimals,
    format_number,
    significant_columns,
    significant_places,
)
from doe.domain.values import is_missing

MAX_STYLED_CELLS = 100_000
"""A larger table gets each 4-figure column one format with the decimals its smallest number
needs (pandas' Styler is slow on big tables and refuses above 262,144 cells)."""
MAX_DECIMALS = 12


def _shown(value: Any) -> str:
    return "" if is_missing(value) else format_number(value)


def _time(value: Any) -> str:
    """A time as Streamlit shows one (to the second), not as pandas' Styler (to the microsecond)."""
    return "" if value is None or value is pd.NaT else pd.Timestamp(value).isoformat(sep=" ", timespec="seconds")


def _column_places(values: Iterable[Any]) -> int:
    """Decimals that show the smallest number of ``values`` at 4 significant figures (at most 12)."""
    places = [significant_places(float(v)) for v in values if not is_missing(v) and float(v) != 0]
    return min(MAX_DECIMALS, max([p if p is not None else MAX_DECIMALS for p in places], default=0))


def number_table(table: pd.DataFrame, config: CampaignConfig, *, only: Iterable[str] | None = None,
                 labels: Mapping[str, str] | None = None) -> tuple[Any, dict[str, Any]]:
    """``table`` (a ``pandas.Styler`` of it, up to :data:`MAX_STYLED_CELLS` cells) and the
    ``column_config`` entries of its number columns.

    Args:
        table: the table shown.
        config: the campaign's configuration (which parameters have a resolution).
        only: format only these columns (default: every number column).
        labels: column -> header to show (a unit added, say).
    """
    wanted = None if only is None else set(only)
    labels = labels or {}
    decimals = {n: d for n, d in column_decimals(table, config).items() if wanted is None or n in wanted}
    significant = [n for n in significant_columns(table, config) if wanted is None or n in wanted]
    columns: dict[str, Any] = {n: st.column_config.NumberColumn(labels.get(n), format=f"%.{d}f")
                               for n, d in decimals.items()}
    if not significant:
        return table, columns
    if table.size <= MAX_STYLED_CELLS and table.index.is_unique and table.columns.is_unique:
        # no column format: Streamlit then shows the Styler's text for each cell
        columns |= {n: st.column_config.NumberColumn(labels.get(n)) for n in significant}
        numbers: list[Hashable] = list(significant)
        times: list[Hashable] = [c for c in table.columns if pd.api.types.is_datetime64_any_dtype(table[c].dtype)]
        # (the Styler gives every column its text: times keep Streamlit's own)
        return table.style.format(_shown, subset=numbers).format(_time, subset=times), columns
    columns |= {n: st.column_config.NumberColumn(labels.get(n), format=f"%.{_column_places(table[n])}f")
                for n in significant}
    return table, columns


__all__ = ["MAX_STYLED_CELLS", "number_table"]
