"""An ``.xlsx`` sheet read as a table with openpyxl: its header (the first filled row), its rows'
numbers, and each cell as the workbook holds it, never changed on the quiet.

Refused, naming the cell: formulas that were never calculated, error values (``#DIV/0!``;
a row that holds nothing else reads as empty), merged cells that show one value across
cells holding none, a percentage format on a number (it shows 85.5% and holds 0.855), and
in id and label columns a value whose shown text the workbook does not hold: a date (which
Excel makes of text such as ``1-2``), a number of more than 15 digits (Excel keeps no more)
or a number shown through a format other than General or leading zeros (``007``). So are
hidden rows that hold a value (a filter hides rows so too) and hidden columns with a header. A
sheet given by position counts the visible sheets only.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import logging
import posixpath
import re
import zipfile
from collections.abc import Callable
from typing import Any, Literal
from xml.etree import ElementTree

import pandas as pd

from doe.domain.file_rows import RowNumbers, column_letter, layout_problems
from doe.domain.values import is_blank
from doe.errors import CellProblem, DataError, shorten
from doe.io.cells import header_name

log = logging.getLogger(__name__)

XLSX_EXPANSION = 20
"""An .xlsx (a zip file) may unpack to at most this many times ``max_bytes``."""

ColumnKind = Literal["number", "label", "text"]
"""What a column holds: numbers, ids and labels (kept as the text they show), or other text."""

Cell = tuple[Any, str, str]
"""A cell as the workbook holds it: its value, openpyxl's data type and its number format."""

_EMPTY: Cell = (None, "n", "General")
_LONGEST_EXACT = 1e15  # Excel keeps 15 significant digits of a number
_TEXT_FORMATS = ("general", "@")
_ZERO_PADDED = re.compile(r"0+")
_LITERAL = re.compile(r'"[^"]*"|\\.')  # text in a number format: quoted, or one escaped character
_DATES = (datetime.datetime, datetime.date, datetime.time, datetime.timedelta)


def read_xlsx(data: bytes, sheet: str | int, max_bytes: int,
              kind_of: Callable[[str], ColumnKind]) -> tuple[pd.DataFrame, RowNumbers]:
    """The sheet's table and its rows' numbers (the workbook's own).

    Args:
        data: the workbook's bytes.
        sheet: the sheet's name, or its position among the visible sheets (from 0).
        max_bytes: the largest file read; the workbook may unpack to :data:`XLSX_EXPANSION` times that.
        kind_of: what a column holds, from its header as :func:`doe.io.cells.header_name` gives it.

    Returns:
        One column per named header cell, one row per sheet row below the header up to the
        last filled one; a cell is ``None`` (empty), text, a bool, a number, or a date or
        time in columns other than ids and labels, whose cells are their shown text.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as err:
        raise DataError("the file is not a valid .xlsx workbook (damaged, or another format renamed)") from err
    if unpacked > XLSX_EXPANSION * max_bytes:
        raise DataError(f"the workbook unpacks to {unpacked / 1e6:.0f} MB; at most "
                        f"{XLSX_EXPANSION * max_bytes / 1e6:.0f} MB are read")
    title, grid, uncalculated, visible = _read_sheet(data, sheet)
    name = shorten(title)
    rows = [(number, _values(cells)) for number, cells in enumerate(grid, start=1)]
    if problems := layout_problems(rows, header_name):
        raise DataError(f"sheet {name}: the rows do not fit its header row", problems)
    if uncalculated:
        shown = ", ".join(uncalculated[:10]) + (f" and {len(uncalculated) - 10} more" if len(uncalculated) > 10 else "")
        raise DataError(
            f"sheet {name}: cell(s) {shown} hold formulas whose values were never "
            "calculated (the file was written by a program, not saved by a spreadsheet), so doe "
            "cannot tell what they measure. Open the file in Excel or LibreOffice and save it, "
            "or replace the formulas by their values")
    top = next((number for number, values in rows if any(not is_blank(v) for v in values)), 1)
    header = rows[top - 1][1] if rows else []
    named = {i: header_name(cell) or str(cell) for i, cell in enumerate(header) if header_name(cell)}
    kinds = {i: kind_of(column) for i, column in named.items()}
    layout = _sheet_layout(data, title)
    problems = _hidden_problems(layout, rows, named, top) + _merge_problems(layout.merged, rows, named, top)
    table: list[list[Any]] = []
    for number, cells in enumerate(grid[top:], start=top + 1):
        row = []
        for i, column in named.items():
            cell = cells[i] if i < len(cells) else _EMPTY
            value, problem = _value(cell, kinds[i], cell[1] == "e" and _only(cells, i))
            if problem is not None:
                problems.append(CellProblem(None, column, value, f"cell {column_letter(i)}{number} {problem}",
                                            file_row=number))
            row.append(None if problem else value)
        table.append(row)
    if problems:
        raise DataError(f"sheet {name}: cells that would not be read as the sheet shows them", problems)
    columns = [header[i] for i in named]
    frame = pd.DataFrame(table, columns=columns, dtype=object) if table else pd.DataFrame(columns=columns, dtype=object)
    frame.attrs[SHEET] = (title, visible)  # said where the sheet has no data rows (the results on another?)
    return frame, RowNumbers.of(rows, lambda cells: True)


def _read_sheet(data: bytes, sheet: str | int) -> tuple[str, list[list[Cell]], list[str], list[str]]:
    """The chosen sheet's title, its rows of cells from row 1 to the last with a cell, the
    coordinates of formula cells without a stored result (openpyxl reads those as empty) and
    the titles of the workbook's visible sheets."""
    import openpyxl

    try:
        values = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception as err:  # openpyxl raises many types for damaged files
        raise DataError(f"the .xlsx workbook cannot be read: {shorten(str(err), 200)}") from err
    try:
        title = _sheet_title(values, sheet)
        grid: list[list[Cell]] = []
        uncalculated = []
        sheet_v, sheet_f = values[title], formulas[title]
        sheet_v.reset_dimensions()  # a sheet's declared size may be wrong: read every cell it has
        sheet_f.reset_dimensions()
        for number, (row_v, row_f) in enumerate(zip(sheet_v.iter_rows(), sheet_f.iter_rows(), strict=False), start=1):
            cells = [(cell.value, cell.data_type, cell.number_format or "General") if cell.value is not None else _EMPTY
                     for cell in row_v]
            uncalculated += [f"{column_letter(i)}{number}" for i, cell in enumerate(row_f)
                             if cell.data_type == "f" and (i >= len(cells) or cells[i][0] is None)]
            grid.append(cells)
        while grid and all(value is None for value, _, _ in grid[-1]):
            grid.pop()
        return title, grid, uncalculated, [str(w.title) for w in values.worksheets if w.sheet_state == "visible"]
    except DataError:
        raise
    except Exception as err:
        raise DataError(f"the .xlsx workbook cannot be read: {shorten(str(err), 200)}") from err
    finally:
        values.close()
        formulas.close()


SHEET = "sheet"
"""The ``attrs`` key of the sheet a table was read from: its name and the workbook's visible sheets."""


def _sheet_title(book: Any, sheet: str | int) -> str:
    titles = [str(each.title) for each in book.worksheets]
    visible = [str(each.title) for each in book.worksheets if each.sheet_state == "visible"]
    hidden = f" (hidden: {[t for t in titles if t not in visible]})" if len(visible) < len(titles) else ""
    if isinstance(sheet, int):
        if not 0 <= sheet < len(visible):
            raise DataError(f"the workbook has {len(visible)} visible sheet(s) {visible}{hidden}; "
                            f"sheet {sheet} does not exist")
        if len(visible) > 1:
            log.info("reading sheet %r of the workbook's sheets %s", visible[sheet], visible)
        return visible[sheet]
    if sheet not in titles:
        raise DataError(f"the workbook has no sheet {sheet!r}; sheets: {visible}{hidden}")
    return sheet


def _values(cells: list[Cell]) -> list[Any]:
    """A row's values, an error value alone in its row as empty (a formula copied below the table)."""
    return [None if data_type == "e" and _only(cells, i) else value for i, (value, data_type, _) in enumerate(cells)]


def _only(cells: list[Cell], i: int) -> bool:
    """Whether cell ``i`` is the only one of its row with a value (an error value there is a
    formula copied below the table, and the row is empty)."""
    return all(value is None or j == i or (isinstance(value, str) and not value.strip())
               for j, (value, _, _) in enumerate(cells))


def _value(cell: Cell, kind: ColumnKind, alone: bool) -> tuple[Any, str | None]:
    """The value read from ``cell`` in a column of ``kind``, or the value and why it is refused."""
    value, data_type, number_format = cell
    if data_type == "e":
        return (None, None) if alone else (value, f"holds the error value {value} (a formula that failed); "
                                                  "correct the formula or its inputs, or clear the cell")
    if value is None or isinstance(value, str):
        return value, None
    if kind == "label":
        return _label(value, number_format)
    if kind == "text" and isinstance(value, datetime.datetime | datetime.date):
        return _date_text(value), None
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool) and (
            "%" in _LITERAL.sub("", number_format)):
        return value, (f"is formatted as a percentage: it shows {value * 100:.15g}% and holds {value:.15g}, and "
                       "doe cannot tell which the column means; format the column as a plain number that shows "
                       "the value in the column's unit")
    return value, None


def _date_text(value: datetime.datetime | datetime.date) -> str:
    """A date cell of a text column (a note, a date written in it that Excel made a date) as
    ISO text with what it holds: ``2026-12-03``, ``2026-12-03 14:30``; a ``measured_at``
    reads it as that date and time (UTC if no zone is given)."""
    if not isinstance(value, datetime.datetime):
        return value.isoformat()
    if value.time() == datetime.time(0) and value.tzinfo is None:
        return value.date().isoformat()
    spec = "minutes" if value.second == 0 and value.microsecond == 0 else "auto"
    return value.isoformat(sep=" ", timespec=spec)


def _label(value: Any, number_format: str) -> tuple[Any, str | None]:
    """An id or label cell that holds no text: the text it shows, or why that is not known."""
    fix = "format the column as Text and type the values again"
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), None
    if isinstance(value, _DATES):
        return value, (f"holds a date or time, which Excel makes of text such as 1-2 or 3/4; ids and labels "
                       f"are read as the text typed: {fix}")
    if not isinstance(value, int | float):
        return value, f"holds a {type(value).__name__}, not text; {fix}"
    whole = isinstance(value, int) or value.is_integer()
    if abs(value) >= _LONGEST_EXACT:
        return value, (f"holds the number {value:.15g}: Excel keeps 15 digits of a number, so a longer id or "
                       f"serial number has lost its last digits; {fix}")
    if number_format.lower() in _TEXT_FORMATS:
        return (str(int(value)) if whole else f"{value:.15g}"), None
    if _ZERO_PADDED.fullmatch(number_format) and whole:
        return ("-" if value < 0 else "") + str(abs(int(value))).zfill(len(number_format)), None
    return value, (f"holds the number {value:.15g} shown through the number format {number_format!r}, so the "
                   f"text it shows is not what it holds; {fix}")


@dataclasses.dataclass(frozen=True)
class _Layout:
    """What the sheet's XML says of how it shows its cells (openpyxl's read-only mode, which
    streams the cells, does not give it): merged ranges (``A3:A5``), hidden rows (their
    numbers, from 1; a filter hides rows so too) and hidden columns (from 0)."""

    merged: list[str]
    hidden_rows: set[int]
    hidden_columns: set[int]


def _sheet_layout(data: bytes, title: str) -> _Layout:
    """The :class:`_Layout` of the sheet ``title``, read from the workbook's XML."""
    def target(base: str, rels: bytes, wanted: Callable[[ElementTree.Element], bool]) -> str | None:
        for rel in ElementTree.fromstring(rels):
            if wanted(rel):
                path = rel.get("Target", "")
                return path.lstrip("/") if path.startswith("/") else posixpath.normpath(posixpath.join(base, path))
        return None

    def local(tag: str) -> str:
        return tag.rpartition("}")[2]

    def hidden(element: ElementTree.Element) -> bool:
        return element.get("hidden", "0").lower() in ("1", "true")

    layout = _Layout([], set(), set())
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            book = target("", archive.read("_rels/.rels"), lambda rel: rel.get("Type", "").endswith("/officeDocument"))
            if book is None:
                return layout
            sheets = ElementTree.fromstring(archive.read(book))
            rid = next((s.get(next((k for k in s.attrib if local(k) == "id"), "")) for s in sheets.iter()
                        if local(s.tag) == "sheet" and s.get("name") == title), None)
            folder, name = posixpath.split(book)
            part = target(folder, archive.read(posixpath.join(folder, "_rels", name + ".rels")),
                          lambda rel: rel.get("Id") == rid)
            if part is None:
                return layout
            rows, number = None, 0
            with archive.open(part) as source:
                for event, element in ElementTree.iterparse(source, events=("start", "end")):
                    tag = local(element.tag)
                    if event == "start" and tag == "sheetData":
                        rows = element
                    elif event == "start" and tag == "row":
                        number = int(element.get("r", number + 1))
                        if hidden(element):
                            layout.hidden_rows.add(number)
                    elif event == "end" and tag == "row" and rows is not None:
                        rows.clear()  # the cells were read by openpyxl: keep memory flat
                    elif event == "end" and tag == "col" and hidden(element):
                        first, last = int(element.get("min", 1)), int(element.get("max", element.get("min", 1)))
                        layout.hidden_columns.update(range(first - 1, min(last, 16384)))
                    elif event == "end" and tag == "mergeCell" and ":" in element.get("ref", ""):
                        layout.merged.append(element.get("ref", ""))
            return layout
    except (KeyError, ValueError, zipfile.BadZipFile, ElementTree.ParseError) as err:
        raise DataError(f"the .xlsx workbook cannot be read: {shorten(str(err), 200)}") from err


def _hidden_problems(layout: _Layout, rows: list[tuple[int, list[Any]]], named: dict[int, str],
                     top: int) -> list[CellProblem]:
    """Hidden columns with a header doe reads, and hidden rows below the header that hold a
    value: the sheet does not show them, so reading them would record what the engineer
    cannot see (rows left out by a filter, a column of old values put away)."""
    problems = [CellProblem(None, column, column, f"column {column_letter(i)} is hidden: the sheet does not show it, "
                            "so doe does not read it; show the column, or delete it", file_row=top)
                for i, column in named.items() if i in layout.hidden_columns]
    for number, values in rows[top:]:
        filled = [(named[i], value) for i, value in enumerate(values) if i in named and not is_blank(value)]
        if number in layout.hidden_rows and filled:
            problems.append(CellProblem(
                None, filled[0][0], filled[0][1], f"row {number} is hidden (by a filter, or hidden by hand): the "
                "sheet does not show it, so doe does not read it; show the row (clear the filter), or delete it",
                file_row=number))
    return problems


def _merge_problems(ranges: list[str], rows: list[tuple[int, list[Any]]], named: dict[int, str],
                    top: int) -> list[CellProblem]:
    """Merged ranges from the header down whose first cell holds a value: the sheet shows it
    across the range, and the range's other cells hold nothing."""
    from openpyxl.utils.cell import range_boundaries

    problems = []
    for ref in ranges:
        first_col, first_row, _, last_row = range_boundaries(ref)
        if last_row < top or first_row > len(rows):
            continue
        cells = rows[first_row - 1][1]
        value = cells[first_col - 1] if first_col - 1 < len(cells) else None
        if is_blank(value):
            continue
        first = f"{column_letter(first_col - 1)}{first_row}"
        problems.append(CellProblem(
            None, named.get(first_col - 1, column_letter(first_col - 1)), value,
            f"cells {ref} are merged: the sheet shows the value of {first} across them, but the other cells hold "
            "nothing and would be read as empty; unmerge the cells and fill in each one", file_row=first_row))
    return problems
