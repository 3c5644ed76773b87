"""CSV text read as a table: the delimiter found by fit, every record read by the csv module
(a quoted cell over several lines is one row), each row numbered as a spreadsheet shows it."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from doe.domain.file_rows import RowNumbers, column_letter, layout_problems
from doe.errors import CellProblem, DataError
from doe.io.cells import header_name

_DELIMITERS = ",;\t"
csv.field_size_limit(2**31 - 1)  # no cell limit of its own (the default is 128 KiB): the file size limit applies


def _records(text: str, delimiter: str, *, strict: bool = False) -> list[list[str]]:
    """The CSV text's records (a quoted cell over several lines is one record)."""
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True, strict=strict))


def _delimiter(sample: str) -> str:
    """The delimiter (comma, semicolon or tab) that splits the header of ``sample`` into
    columns and the most rows into as many cells as the header; on a tie, the one giving more
    columns, then the comma.

    csv.Sniffer gives up on a table whose quoted cells hold another delimiter (a note
    ``"cracked; pellet"`` in a semicolon file), and the file was then read as one column.
    """
    whole = sample[: sample.rfind("\n") + 1] or sample  # no record cut off at the sample's end

    def fit(delimiter: str) -> tuple[bool, float, int]:
        try:
            rows = [(len(r), max(i + 1 for i, c in enumerate(r) if c.strip()))
                    for r in _records(whole, delimiter) if any(c.strip() for c in r)]
        except csv.Error:
            return False, 0.0, 0
        if not rows:
            return False, 0.0, 0
        (cells, filled), below = rows[0], rows[1:]
        same = sum(n == cells or f == filled for n, f in below) / len(below) if below else 1.0
        return filled > 1, same, filled

    return max(_DELIMITERS, key=fit)


def _kept(cells: Sequence[Any]) -> bool:
    """Whether a CSV record is a row of the table (blank rows are dropped later, and counted)."""
    return len(cells) > 1 or any(c.strip() for c in cells)


def _strict_error(text: str, delimiter: str) -> csv.Error | None:
    """Why ``text`` does not read as CSV whose every quoted cell ends at a delimiter or a line
    end (``None`` when it does)."""
    try:
        _records(text, delimiter, strict=True)
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


def _quote_problems(records: list[tuple[int, list[str]]], lines: list[str], starts: list[int],
                    delimiter: str) -> list[CellProblem]:
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


def _numbered_records(lines: list[str], delimiter: str, *, strict: bool
                      ) -> tuple[list[tuple[int, list[str]]], list[int]]:
    """The records of ``lines``, numbered from 1, and the line each starts on (from 0)."""
    reader = csv.reader(iter(lines), delimiter=delimiter, skipinitialspace=True, strict=strict)
    records: list[tuple[int, list[str]]] = []
    starts: list[int] = []
    while True:
        start = reader.line_num  # lines read before this record: where it starts
        cells = next(reader, None)
        if cells is None:
            return records, starts
        records.append((len(records) + 1, cells))
        starts.append(start)


def read_csv(text: str) -> tuple[pd.DataFrame, bool, RowNumbers]:
    """The file's table (every cell as text), whether it uses a decimal comma, and its rows'
    numbers as a spreadsheet shows them (:class:`RowNumbers`).

    The header is the first row with a filled cell: rows above it that hold only delimiters
    (``;;;;``, as a spreadsheet writes an empty row) are skipped. The csv module reads every
    record, so a quoted cell over several lines is one row. The records are read strictly
    first; when that fails they are read leniently and refused where quotes do not pair up
    (:func:`_quote_problems`: rows would run into one cell, or a cell lose its quotes and
    split), which leaves spaces after a closing quote (``"x" ,``). Refused too: what
    :func:`doe.domain.file_rows.layout_problems` finds (pandas' reader took a row with one cell
    more than the header as a row label and shifted every value one column left).
    """
    delimiter = _delimiter(text[:20_000])
    lines = io.StringIO(text, newline="").readlines()
    try:
        records, starts = _numbered_records(lines, delimiter, strict=True)
    except csv.Error:  # a quote that does not pair up, or spaces after a closing quote (allowed)
        try:
            records, starts = _numbered_records(lines, delimiter, strict=False)
        except csv.Error as err:
            raise DataError(f"the CSV file cannot be read: {err}") from err
        if problems := _quote_problems(records, lines, starts, delimiter):
            raise DataError("a quote is missing or one too many, so cells would not be read as written", problems) from None
    top = next((number for number, cells in records if any(c.strip() for c in cells)), None)
    if top is None:
        raise DataError("the file has no columns; the first row must name the columns")
    if problems := layout_problems(records, header_name):
        raise DataError("the file's rows do not fit its header row", problems)
    header = records[top - 1][1]
    named = [i for i, cell in enumerate(header) if header_name(cell)]  # the others hold no value (checked above)
    rows = [cells for _, cells in records[top:] if _kept(cells)]
    width = len(header)
    table = ([cells[:width] + [""] * (width - len(cells)) for cells in rows] if len(named) == width
             else [[cells[i] if i < len(cells) else "" for i in named] for cells in rows])
    names = [header[i] for i in named]
    frame = pd.DataFrame(table, columns=names, dtype=object) if table else pd.DataFrame(columns=names, dtype=object)
    return frame, delimiter == ";", RowNumbers.of(records, _kept)
