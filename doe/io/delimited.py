"""CSV text read as a table: the delimiter found by fit, every record read by the csv module
(a quoted cell over several lines is one row), each row numbered as a spreadsheet shows it."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from doe.domain.file_rows import RowNumbers, layout_problems
from doe.errors import CellProblem, DataError
from doe.io.cells import header_name
from doe.io.quotes import ditto_problems, quote_problems

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


_SEP_LINE = re.compile(r'"?sep=([,;\t])"?[,;\t]*')
"""The first line a spreadsheet writes to name a CSV file's delimiter (``sep=;``)."""


def read_csv(text: str) -> tuple[pd.DataFrame, str, RowNumbers]:
    """The file's table (every cell as text), its delimiter (``,``, ``;`` or a tab) and its
    rows' numbers as a spreadsheet shows them (:class:`RowNumbers`).

    A first line ``sep=;`` (Excel's way of naming the delimiter) names it and is not a row.
    The header is the first row with a filled cell: rows above it that hold only delimiters
    (``;;;;``, as a spreadsheet writes an empty row) are skipped. The csv module reads every
    record, so a quoted cell over several lines is one row. The records are read strictly
    first; when that fails they are read leniently and refused where quotes do not pair up
    (:func:`doe.io.quotes.quote_problems`: rows would run into one cell, or a cell lose its
    quotes and split), which leaves spaces after a closing quote (``"x" ,``). Either way, a
    cell that holds only a quote (a ditto mark) whose quotes pair up across cells or lines is
    refused (:func:`doe.io.quotes.ditto_problems`). Refused too: what
    :func:`doe.domain.file_rows.layout_problems` finds (pandas' reader took a row with one cell
    more than the header as a row label and shifted every value one column left).
    """
    lines = io.StringIO(text, newline="").readlines()
    sep_line = _SEP_LINE.fullmatch(lines[0].strip("\r\n ")) if lines else None
    if sep_line is not None:  # Excel's 'sep=;' names the delimiter and is no row (Excel numbers the header row 1)
        lines, text = lines[1:], "".join(lines[1:])
    delimiter = sep_line.group(1) if sep_line is not None else _delimiter(text[:20_000])
    problems: list[CellProblem] = []
    try:
        records, starts = _numbered_records(lines, delimiter, strict=True)
    except csv.Error:  # a quote that does not pair up, or spaces after a closing quote (allowed)
        try:
            records, starts = _numbered_records(lines, delimiter, strict=False)
        except csv.Error as err:
            raise DataError(f"the CSV file cannot be read: {err}") from err
        problems = quote_problems(records, lines, starts, delimiter)
    if '"' in text:  # a ditto mark's quotes may pair up as valid CSV: checked either way, and said first
        dittos = ditto_problems(records, lines, starts, delimiter)
        said = {p.file_row for p in dittos}
        problems = sorted([*dittos, *(p for p in problems if p.file_row not in said)], key=lambda p: p.file_row or 0)
    if problems:
        raise DataError("a quote is missing or one too many, so cells would not be read as written", problems)
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
    return frame, delimiter, RowNumbers.of(records, _kept)
