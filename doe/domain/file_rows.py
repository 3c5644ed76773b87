"""A table file's rows numbered as a spreadsheet shows them, and problems named by them.

:func:`doe.io.read_table` keeps each row's number (``attrs["file_rows"]``: the header is row 1
of a CSV, blank rows count, a quoted cell over several lines is one row; a workbook's own row
numbers), so an error says "row 5 of the file" where the engineer's spreadsheet shows row 5.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from doe.domain.table import ID_COLUMN
from doe.domain.values import is_blank
from doe.errors import CellProblem, DataError

FILE_ROWS = "file_rows"
"""Key of ``read_table(...).attrs``: each row's number in the file, as a spreadsheet shows it."""
FILE_SHEET = "file_sheet"
"""Key of ``read_table(...).attrs`` for a workbook of several sheets: which one was read."""


@dataclasses.dataclass(frozen=True)
class RowNumbers:
    """A file's row numbers as a spreadsheet shows them (the header is row 1 of a CSV; blank
    rows count; a quoted cell over several lines is one row), below its header.

    ``parsed``: the numbers of the rows the reader returns, blank ones included (for a
    workbook, as far as its records tell what pandas returns); ``filled``: those of the rows
    with a filled cell. :func:`doe.io.read_table` uses the first when its count matches the
    rows read, else the second when its count matches the rows kept, else none.
    """

    parsed: list[int]
    filled: list[int]

    @classmethod
    def of(cls, rows: Sequence[tuple[int, Sequence[Any]]], parsed: Callable[[Sequence[Any]], bool]) -> RowNumbers:
        """``rows``: (number, cells) of every row; ``parsed``: whether the reader returns a row."""
        filled = [number for number, cells in rows if any(not is_blank(cell) for cell in cells)]
        if not filled:
            return cls([], [])
        below = [(number, cells) for number, cells in rows if number > filled[0]]
        return cls([number for number, cells in below if parsed(cells)], filled[1:])

    def kept(self, blank: Sequence[bool], n_kept: int) -> list[int] | None:
        """The numbers of the rows left once the ``blank`` ones (per pandas row) are dropped."""
        if len(self.parsed) == len(blank):
            return [number for number, drop in zip(self.parsed, blank, strict=True) if not drop]
        return self.filled if len(self.filled) == n_kept else None


def in_file(error: DataError, table: pd.DataFrame) -> DataError:
    """``error``, raised on ``table`` as :func:`doe.io.read_table` read it, with each problem naming
    its row in the file (``row 5 of the file``) instead of its position in the table, and the
    summary naming the sheet read where the workbook has several."""
    sheet = table.attrs.get(FILE_SHEET)
    if sheet is None and (FILE_ROWS not in table.attrs or not error.problems):
        return error
    summary = error.summary if sheet is None else f"{error.summary} (read {sheet}; name another sheet to read it)"
    return DataError(summary, file_problems(error.problems, table))


def file_problems(problems: Sequence[CellProblem], table: pd.DataFrame) -> list[CellProblem]:
    """``problems`` of a table :func:`doe.io.read_table` read, each with its row in the file."""
    rows = table.attrs.get(FILE_ROWS)
    if rows is None:
        return list(problems)
    ids = ([None if is_blank(v) else str(v) for v in table[ID_COLUMN]] if ID_COLUMN in table.columns
           else [None] * len(table))
    return [dataclasses.replace(p, file_row=rows[p.row], experiment_id=ids[p.row])
            if p.row is not None and 0 <= p.row < len(rows) else p for p in problems]


def keep_rows(table: pd.DataFrame, keep: Sequence[bool]) -> pd.DataFrame:
    """The rows of ``table`` where ``keep`` holds, numbered again from 0, each with its row in
    the file. (pandas carries ``attrs`` through a filter unchanged, so a filtered table would
    name the rows of the table before it.)"""
    kept = table[list(keep)].reset_index(drop=True)
    rows = table.attrs.get(FILE_ROWS)
    if rows is not None:
        kept.attrs[FILE_ROWS] = [row for row, kept_row in zip(rows, keep, strict=True) if kept_row]
    return kept


def column_letter(position: int) -> str:
    """A spreadsheet's name of the column at 0-based ``position``: 0 -> ``A``, 26 -> ``AA``."""
    letters = ""
    position += 1
    while position:
        position, digit = divmod(position - 1, 26)
        letters = chr(ord("A") + digit) + letters
    return letters


def layout_problems(rows: Sequence[tuple[int, Sequence[Any]]], name: Callable[[Any], str]) -> list[CellProblem]:
    """What makes a file's rows unreadable as one table under its header: a header that names
    a column twice, and a value in a column the header does not name (beyond the header's last
    column, or under an empty header cell), which no reader can place.

    Args:
        rows: (number, cells) of every row; the header is the first with a filled cell.
        name: a header cell's column name as the reader will use it ("" for none).
    """
    top_at = next((i for i, (_, cells) in enumerate(rows) if any(not is_blank(cell) for cell in cells)), None)
    if top_at is None:
        return []
    top, header = rows[top_at]
    names = [name(cell) for cell in header]
    problems = []
    for column in dict.fromkeys(n for n in names if n):
        where = [column_letter(i) for i, other in enumerate(names) if other == column]
        if len(where) > 1:
            problems.append(CellProblem(None, column, column, f"the header row names this column {len(where)} "
                                                              f"times (columns {', '.join(where)}); keep one",
                                        file_row=top))
    unnamed = [i for i, n in enumerate(names) if not n]
    for number, cells in rows[top_at + 1:]:
        beyond = range(len(names), len(cells))
        found = next((i for i in (*unnamed, *beyond) if i < len(cells) and not is_blank(cells[i])), None)
        if found is not None:
            hint = " (a table index written with the data? write it without the index)" if found == 0 else ""
            problems.append(CellProblem(
                None, column_letter(found), cells[found],
                f"a value in a column that the header row (row {top}) does not name{hint}; name the column "
                "in the header row, or delete the value", file_row=number))
    return problems
