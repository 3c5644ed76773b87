"""An ``.xlsx`` sheet read as a table: its header (the first filled row), its rows' numbers,
and formulas that were never calculated refused."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pandas as pd

from doe.domain.file_rows import RowNumbers, layout_problems
from doe.domain.values import is_blank
from doe.errors import CellProblem, DataError, shorten
from doe.io.cells import header_name

XLSX_EXPANSION = 20
"""An .xlsx (a zip file) may unpack to at most this many times ``max_bytes``."""


def read_xlsx(data: bytes, sheet: str | int, max_bytes: int) -> tuple[pd.DataFrame, RowNumbers]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as err:
        raise DataError("the file is not a valid .xlsx workbook (damaged, or another format renamed)") from err
    if unpacked > XLSX_EXPANSION * max_bytes:
        raise DataError(f"the workbook unpacks to {unpacked / 1e6:.0f} MB; at most "
                        f"{XLSX_EXPANSION * max_bytes / 1e6:.0f} MB are read")
    try:
        workbook = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
    except Exception as err:  # openpyxl raises many types for damaged files
        raise DataError(f"the .xlsx workbook cannot be read: {shorten(str(err), 200)}") from err
    with workbook:
        names = workbook.sheet_names
        if isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise DataError(f"the workbook has {len(names)} sheet(s) {names}; sheet {sheet} does not exist")
        if isinstance(sheet, str) and sheet not in names:
            raise DataError(f"the workbook has no sheet {sheet!r}; sheets: {names}")
        sheet_name = str(names[sheet]) if isinstance(sheet, int) else sheet
        uncached, header, rows, problems = _scan_sheet(data, sheet_name)
        if problems:
            raise DataError(f"sheet {shorten(sheet_name)}: the rows do not fit its header row", problems)
        try:  # the header is the first filled row (blank rows above it, as in a CSV, are skipped)
            frame = workbook.parse(sheet, dtype=object, header=header - 1)
        except Exception as err:
            raise DataError(f"sheet {shorten(sheet)} cannot be read: {shorten(str(err), 200)}") from err
    if uncached:
        shown = ", ".join(uncached[:10]) + (f" and {len(uncached) - 10} more" if len(uncached) > 10 else "")
        raise DataError(
            f"sheet {shorten(sheet_name)}: cell(s) {shown} hold formulas whose values were never "
            "calculated (the file was written by a program, not saved by a spreadsheet), so doe "
            "cannot tell what they measure. Open the file in Excel or LibreOffice and save it, "
            "or replace the formulas by their values")
    return frame, rows


def _scan_sheet(data: bytes, sheet_name: str) -> tuple[list[str], int, RowNumbers, list[CellProblem]]:
    """Coordinates of formula cells without a stored result (openpyxl reads those as empty),
    the number of the header row (the first filled one), the rows' numbers below it, and
    what :func:`doe.domain.file_rows.layout_problems` finds."""
    import openpyxl

    try:
        formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        values = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # read by pandas a moment ago; damaged in a way only this shows
        raise DataError(f"the .xlsx workbook cannot be read: {shorten(str(err), 200)}") from err
    try:
        found = []
        numbered: list[tuple[int, list[Any]]] = []
        for row_f, row_v in zip(formulas[sheet_name].iter_rows(), values[sheet_name].iter_rows(), strict=False):
            for cell_f, cell_v in zip(row_f, row_v, strict=False):
                if getattr(cell_f, "data_type", None) == "f" and cell_v.value is None:
                    found.append(str(cell_f.coordinate))
            numbers = [cell.row for cell in row_v if getattr(cell, "row", None) is not None]
            if numbers:
                numbered.append((numbers[0], [getattr(cell, "value", None) for cell in row_v]))
        filled = [number for number, cells in numbered if any(not is_blank(cell) for cell in cells)]
        rows = RowNumbers.of(numbered, lambda cells: any(cell is not None for cell in cells))
        return found, filled[0] if filled else 1, rows, layout_problems(numbered, header_name)
    finally:
        formulas.close()
        values.close()
