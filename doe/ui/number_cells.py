"""Numbers typed into the pages' grids, edited as text and read with doe's rules (no Streamlit here).

Streamlit's number editor rewrites what it does not take, and the page then saved the result:
it clamps a value to the column's min and max (5 wt% became 3), blocks the minus sign above a
min of 0 (-5 became 5) and drops the characters it does not know ('1.2e3' became 1.23, '12,5'
125, and in a German browser '12.5' 125). So the grids edit their number columns as text:
:func:`number_text` writes a stored number for the grid, :func:`doe.domain.typed_number.read_number` reads what was
typed as doe reads a file's cell (a decimal point, an unambiguous decimal comma, an exponent)
or says why not, and validation then refuses a value out of range, naming the cell. Nothing is
rewritten on the way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from doe.domain.typed_number import is_empty_entry, read_number
from doe.errors import CellProblem, DataError

SHOWN_SIGNIFICANT = 6
"""Significant figures a grid shows of a stored number that has more (87.91234567 -> 87.9123);
the cell keeps the exact value until it is edited (:func:`typed_values`)."""
def exact_text(value: float) -> str:
    """The shortest text that reads back as exactly ``value`` (``0.8333333``, ``1200``, ``1e-05``)."""
    text = repr(float(value) + 0.0)  # (+ 0.0: no '-0')
    return text[:-2] if text.endswith(".0") else text


def _significant(text: str) -> int:
    digits = text.lstrip("+-").split("e")[0].replace(".", "").lstrip("0").rstrip("0")
    return len(digits)


def number_text(value: Any) -> str | None:
    """A cell's value as a grid shows it: a number as the shortest text that reads back as it
    (``85.5``, ``1200``) when that has at most :data:`SHOWN_SIGNIFICANT` significant figures,
    else rounded to them; None for an empty cell; text (a typed value not read as a number)
    as it is, for the person to correct."""
    if is_empty_entry(value):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer | np.floating):
        return str(value)
    x = float(value)
    if not math.isfinite(x):
        return str(x)
    text = exact_text(x)
    if _significant(text) <= SHOWN_SIGNIFICANT or (x.is_integer() and abs(x) < 1e15):  # (whole numbers whole)
        return text
    if abs(x) < 1e-4 or abs(x) >= 1e15:
        return f"{x:.{SHOWN_SIGNIFICANT}g}"
    decimals = SHOWN_SIGNIFICANT - 1 - math.floor(math.log10(abs(x)))
    if decimals <= 0:
        return exact_text(round(x, decimals))
    return f"{x:.{decimals}f}".rstrip("0").rstrip(".")


def text_columns(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``table`` with each of ``columns`` as text (:func:`number_text`), for an editor's text column."""
    out = table.copy()
    for column in columns:
        if column in out.columns:
            out[column] = pd.Series([number_text(v) for v in out[column].tolist()], index=out.index, dtype=object)
    return out


def _same_text(typed: Any, shown: Any) -> bool:
    if is_empty_entry(typed) and is_empty_entry(shown):
        return True
    return not is_empty_entry(typed) and not is_empty_entry(shown) and str(typed).strip() == str(shown).strip()


def typed_values(edited: pd.DataFrame, columns: Sequence[str], shown: pd.DataFrame | None = None,
                 values: pd.DataFrame | None = None) -> pd.DataFrame:
    """The values of an editor's number columns (``columns``, edited as text).

    Args:
        edited: the table the editor returned.
        columns: its number columns.
        shown: the text the editor was given (:func:`text_columns`), and ``values``: the values
            behind it (same rows): a cell whose text is still the text shown keeps its value (a
            number shown rounded stays exact). Rows past them (added rows) are read as typed.

    Returns:
        ``edited`` with each cell of ``columns`` a float (NaN: empty), or, where the text typed
        is not a number, that text as it is (:func:`number_problems` says why).
    """
    out = edited.copy()
    for column in columns:
        if column not in out.columns:
            continue
        texts: list[Any] = []
        behind: list[Any] = []
        if shown is not None and values is not None and column in shown.columns and column in values.columns:
            texts, behind = shown[column].tolist(), values[column].tolist()
        cells: list[Any] = []
        for position, typed in enumerate(edited[column].tolist()):
            if position < min(len(texts), len(behind)) and _same_text(typed, texts[position]):
                cells.append(behind[position])
                continue
            number, problem = read_number(typed)
            cells.append(typed if problem else number)
        as_text = any(isinstance(c, str) for c in cells)
        out[column] = pd.Series(cells, index=out.index, dtype=object if as_text else float)
    return out


def number_problems(table: pd.DataFrame, columns: Sequence[str]) -> list[CellProblem]:
    """Every cell of ``columns`` holding text that is not a number, and why (``row``: the position)."""
    problems = []
    for column in columns:
        if column not in table.columns:
            continue
        for position, value in enumerate(table[column].tolist()):
            _, problem = read_number(value)
            if problem is not None:
                problems.append(CellProblem(position, column, value, problem))
    return problems


def entry_numbers(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The rows of an entry table (every number column typed as text) with its numbers read.

    Raises:
        DataError: a cell that is not a number, each named (``row``: its position in ``table``).
    """
    read = typed_values(table, columns)
    problems = number_problems(read, columns)
    if problems:
        raise DataError(f"the table has {len(problems)} cell(s) that are not numbers; nothing was recorded", problems)
    return read


__all__ = ["entry_numbers", "exact_text", "number_problems", "number_text", "text_columns",
           "typed_values"]
