"""Where a CSV file's quotes do not pair up as a spreadsheet writes them, so that a reader
would put text into other cells than the engineer typed it in: a quote never closed, a cell
that goes on after its closing quote, and a cell that holds only a quote (a ditto mark for
"same as above"), which pairs with another quote across cells and lines.

Each check gets the file's records as the csv module read them (numbered from 1), its
physical lines and the line each record starts on (from 0)."""

from __future__ import annotations

import csv
import io
import re

from doe.domain.file_rows import column_letter
from doe.domain.table import parse_number
from doe.errors import CellProblem

Records = list[tuple[int, list[str]]]
"""A file's records: (number from 1, cells)."""


def _strict_error(text: str, delimiter: str) -> csv.Error | None:
    """Why ``text`` does not read as CSV whose every quoted cell ends at a delimiter or a line
    end (``None`` when it does)."""
    try:
        list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True, strict=True))
    except csv.Error as err:
        return err
    return None


def _bad_cell(record: str, delimiter: str) -> int | None:
    """The column (from 0) of the first cell of ``record`` that opens a quote and does not end
    at its closing quote, or ``None``: the cells walked as the csv module reads them (a cell
    that starts with a quote after spaces is quoted; ``""`` inside it is one quote)."""
    end = rf"{re.escape(delimiter)}\r\n"
    cell = re.compile(rf' *(?:"(?:[^"]|"")*"(?P<after>[^{end}]*)|(?P<open>")|[^{end}]*)')
    position, column = 0, 0
    while (found := cell.match(record, position)) is not None:
        if found["open"] is not None or (found["after"] or "").strip(" \t"):
            return column
        position = found.end()
        if not record.startswith(delimiter, position):
            return None
        position, column = position + len(delimiter), column + 1
    return None


def quote_problems(records: Records, lines: list[str], starts: list[int], delimiter: str) -> list[CellProblem]:
    """Records whose quotes do not pair up (``starts``: each record's first line). Read
    leniently, a quote that is never closed takes every line below it into its cell, a missing
    quote joins rows into one cell that ends at the next quote, and a cell that goes on after
    its closing quote (``"12" disc, cracked"``) loses its quotes and may split in two; read
    strictly, the first ends inside the cell and the others have text after a closing quote.
    Spaces after a closing quote (``"x" ,``) are allowed."""
    spaces_after_quote = re.compile(rf'"[ \t]+(?={re.escape(delimiter)}|[\r\n]|$)')
    problems = []
    for number, first, end in zip(range(1, len(starts) + 1), starts, [*starts[1:], len(lines)], strict=True):
        chunk = "".join(lines[first:end])
        error = _strict_error(chunk, delimiter) if '"' in chunk else None
        if error is None:
            continue
        unclosed = "unexpected end of data" in str(error)
        if not unclosed and _strict_error(spaces_after_quote.sub('"', chunk), delimiter) is None:
            continue  # spaces only after a closing quote
        cells = records[number - 1][1]
        at = _bad_cell(chunk, delimiter)
        at = min(len(cells) - 1, at) if at is not None else len(cells) - 1
        problems.append(CellProblem(
            None, column_letter(at), cells[at][:40],
            "the cell opens a quote (\") that is never closed, so every row below would be read into it" if unclosed
            else f"the cell's quotes run over {end - first} lines and close with text after the closing quote, "
            "so the rows between would be read into it" if end - first > 1
            else "the cell starts with a quote (\") and goes on after its closing quote, so the quotes would be "
            "lost and a delimiter after them would split the cell; quote the whole cell, doubling each quote inside "
            "it (\"\"), or drop the first quote", file_row=number))
    return problems


def _cells_alone(line: str, delimiter: str) -> list[str]:
    """The cells of one physical line read as a row by itself, a quote that is alone in its
    cell (``E2,",85.1``) or that is not closed on the line taken as text, as a ditto mark means."""
    d = re.escape(delimiter)
    cell = re.compile(rf' *(?:"(?! *(?:{d}|$))(?:[^"]|"")*" *(?={d}|$)|[^{d}]*)')
    text, position, cells = line.rstrip("\r\n"), 0, []
    while (found := cell.match(text, position)) is not None:
        cells.append(found[0].strip())
        position = found.end() + len(delimiter)
        if position > len(text):
            break
    return cells


def _is_number(cell: str) -> bool:
    """Whether ``cell`` is a number, with a decimal point or a decimal comma."""
    return parse_number(cell.replace(",", ".") if cell.count(",") == 1 and "." not in cell else cell) is not None


def ditto_problems(records: Records, lines: list[str], starts: list[int], delimiter: str) -> list[CellProblem]:
    """Records whose quotes pair up through a cell that holds only a quote (a ditto mark for
    "same as above", or a stray quote: ``E2,",85.1`` above ``E3,",84.0``), joining separate
    rows into one cell or moving the cells after it left, where the csv module finds nothing
    wrong.

    A record is refused when one of its lines holds such a cell and each of its lines, read as
    a row by itself with that quote as text (:func:`_cells_alone`), looks like one of the
    file's rows: the header's number of cells, and in the columns where the file's other rows
    hold numbers only, numbers, empty cells or ditto marks, one of them not empty; a record of
    one line is refused only when it has not the header's number of cells. A legitimate
    quoted cell has no cell of a lone quote unless its text starts or ends with the delimiter
    or a line break, and then its lines, each read alone, do not look like rows: a quoted
    cell's lone quotes sit in its own column, so its lines hold nothing in the number columns
    unless its text holds numbers there (a ditto mark has a row above it, so the file has rows
    to compare with)."""
    d = re.escape(delimiter)
    lone = re.compile(rf'(?:^|(?<={d})) *" *(?:{d}|[\r\n]|$)')
    top = next((i for i, (_, cells) in enumerate(records) if any(c.strip() for c in cells)), None)
    if top is None:
        return []
    width = len(records[top][1])
    spans = list(zip(records[top + 1:], starts[top + 1:], [*starts[1:], len(lines)][top + 1:], strict=True))
    suspects = [((number, cells), first, end) for (number, cells), first, end in spans
                if not (end - first == 1 and len(cells) == width) and any(lone.search(li) for li in lines[first:end])]
    if not suspects:
        return []
    rows = [cells for (_, cells), first, end in spans if end - first == 1 and len(cells) == width]
    numeric = [i for i in range(width) if any(row[i].strip() for row in rows)
               and all(_is_number(row[i]) for row in rows if row[i].strip())]

    def row_like(cells: list[str]) -> bool:
        return (len(cells) == width and any(cells[i] == '"' or _is_number(cells[i]) for i in numeric)
                and all(cells[i] in ("", '"') or _is_number(cells[i]) for i in numeric))

    problems = []
    for (number, cells), first, end in suspects:
        alone = [_cells_alone(line, delimiter) for line in lines[first:end] if line.strip()]  # empty: a blank row
        if not all(row_like(row) for row in alone):
            continue
        line = first + next(n for n, text in enumerate(lines[first:end]) if lone.search(text))
        joined = [i for i, cell in enumerate(cells) if delimiter in cell or "\n" in cell or "\r" in cell]
        at = joined[0] if joined else len(cells) - 1
        effect = (f"lines {first + 1} to {end} of the file would be read as one row" if end - first > 1
                  else "no quote closes it and every row below would be read into it"
                  if cells[at].endswith(("\r", "\n"))
                  else "the cells up to the next quote would be read as one cell and the cells after it moved left")
        problems.append(CellProblem(
            None, column_letter(at), cells[at][:40],
            f'a cell on line {line + 1} of the file holds only a quote ("), e.g. a ditto mark for "same as above"; '
            f"a CSV reader takes it as the start or end of a quoted cell, so {effect}. Write the value itself "
            'instead of the ditto mark (or, if the quote is the cell\'s text, write the cell as """")',
            file_row=number))
    return problems
