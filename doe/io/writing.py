"""Tables written as CSV (UTF-8 with BOM) or ``.xlsx``, safe from spreadsheet formula
injection: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is written with a leading apostrophe, so Excel or LibreOffice shows it as text instead of
running it. Numbers stay numbers. A file is written whole or not at all (:func:`write_file`)."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import math
import os
import secrets
import stat
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from doe.domain.display import SIGNIFICANT, rounded, significant_places
from doe.domain.values import NOT_UNICODE, is_blank
from doe.errors import CellProblem, DataError, shorten
from doe.io.cells import neutralise
from doe.io.reading import FileFormat


def _prepare(table: pd.DataFrame, units: dict[str, str] | None, *, for_excel: bool) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(table).__name__}")
    units = units or {}
    out = pd.DataFrame(index=range(len(table)))
    for column in table.columns:
        series = table[column].reset_index(drop=True)
        header = str(column)
        if units.get(header):
            header = f"{header} [{units[header]}]"
        header = neutralise(header)
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_convert("UTC").dt.tz_localize(None) if for_excel else series
        elif series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            series = series.map(_cell_for_file)
        out[header] = series
    return out


def _cell_for_file(value: Any) -> Any:
    if isinstance(value, dict | list | tuple):
        value = json.dumps(value, ensure_ascii=False, default=str)
    elif isinstance(value, datetime) and value.tzinfo is not None:
        value = value.isoformat()
    return neutralise(value)


def _target_format(target: str | Path | BinaryIO, file_format: FileFormat | None) -> FileFormat:
    if file_format is not None:
        if file_format not in ("csv", "xlsx"):
            raise DataError(f"file_format must be 'csv' or 'xlsx', got {file_format!r}")
        return file_format
    if isinstance(target, str | Path):
        suffix = Path(target).suffix.lower()
        if suffix in (".xlsx", ".xlsm"):
            return "xlsx"
        if suffix in (".csv", ".txt"):
            return "csv"
        raise DataError(f"cannot tell the format of {str(target)!r}: name it .csv or .xlsx, or pass file_format")
    return "csv"


def write_table(
    table: pd.DataFrame,
    target: str | Path | BinaryIO,
    *,
    file_format: FileFormat | None = None,
    units: dict[str, str] | None = None,
    decimals: dict[str, int] | None = None,
    significant: Sequence[str] = (),
) -> None:
    """Write ``table`` as CSV (UTF-8 with BOM, so Excel shows units and umlauts) or ``.xlsx``.

    Args:
        table: the table; its index is not written.
        target: a file path or a binary file object.
        file_format: ``"csv"`` or ``"xlsx"``; by default from the file name (CSV for objects).
        units: column -> unit; such columns get headers like ``anneal_temperature_c [C]``,
            which :func:`doe.io.read_table` reads back.
        decimals: column -> decimal places. CSV: the numbers are written at exactly that many
            places (4.0 at 2 as ``4.00``), rounded as doe shows them
            (:func:`~doe.domain.display.rounded`: a tie away from zero); pass only columns that
            lose nothing, e.g. values on a resolution grid;
            XLSX: a cell number format; the stored cell value keeps 16 significant digits
            (openpyxl writes no more; a CSV keeps every digit) and a time its milliseconds.
        significant: XLSX: columns whose numbers each get a number format that shows them at
            :data:`~doe.domain.display.SIGNIFICANT` significant figures (0.0001090 and 584.2
            in one column; an exponent outside 1e-5 to 1e6); the cell keeps the whole value.
            CSV: ignored (every digit is written).

    A time with a zone is written with it in a CSV (``+00:00``); an ``.xlsx`` cell holds no
    zone, so there it is a date cell in UTC whose number format shows ``UTC`` after the time
    (:data:`UTC_FORMAT`).
    Text cells that a spreadsheet would run as a formula get a leading apostrophe. An ``.xlsx``
    with a text longer than an Excel cell holds (:data:`EXCEL_MAX_TEXT`) is refused
    (:class:`~doe.errors.DataError` naming its row and column), not written cut short. A path is
    written with :func:`write_file`: a file already there is replaced whole, never left cut short.
    """
    fmt = _target_format(target, file_format)
    if isinstance(target, str | Path):
        _check_file_name(Path(target))
    decimals = {c: d for c, d in (decimals or {}).items() if c in table.columns}
    prepared = _prepare(table, units, for_excel=fmt == "xlsx")
    if fmt == "csv":
        for j, column in enumerate(table.columns):
            if column in decimals:  # by position: the header may carry a unit; a number's text is not neutralised
                prepared.isetitem(j, [_fixed(v, decimals[column]) if _number(v) else cell
                                      for v, cell in zip(table[column], prepared.iloc[:, j], strict=True)])
        text = prepared.to_csv(index=False, lineterminator="\r\n")
        payload = text.encode("utf-8-sig")
        if isinstance(target, str | Path):
            write_file(target, payload)
        else:
            target.write(payload)
        return
    _check_excel_text(table, prepared)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        prepared.to_excel(writer, index=False, sheet_name="experiments")
        sheet = writer.sheets["experiments"]
        sheet.freeze_panes = "A2"  # the header row stays in view while scrolling
        for j, column in enumerate(table.columns, start=1):
            if isinstance(table[column].dtype, pd.DatetimeTZDtype):  # written in UTC (_prepare): the cell says so
                for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                    if isinstance(cell.value, datetime):
                        cell.number_format = UTC_FORMAT if cell.value.microsecond == 0 else UTC_FORMAT_MS
            elif str(column) in decimals:
                places = decimals[str(column)]
                number_format = "0" + ("." + "0" * places if places else "")
                for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                    if cell.value not in (None, ""):  # an empty cell is for a person's entry: shown as typed
                        cell.number_format = number_format
            elif str(column) in significant:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                    if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                        cell.number_format = _significant_format(cell.value)
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text
    if isinstance(target, str | Path):
        write_file(target, buffer.getvalue())
    else:
        target.write(buffer.getvalue())


def _number(value: Any) -> bool:
    """A finite number (not text, not empty): what a ``decimals`` column writes at its places."""
    if is_blank(value) or isinstance(value, str | bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _fixed(value: Any, places: int) -> str:
    """A finite number of a ``decimals`` column as CSV text at exactly ``places`` decimals,
    rounded as doe shows it (:func:`~doe.domain.display.rounded`; -0.001 at 2 is 0.00)."""
    return f"{rounded(float(value), places) + 0.0:.{places}f}"


UTC_FORMAT = 'yyyy-mm-dd hh:mm:ss "UTC"'
"""The Excel number format of a time (written in UTC: a cell holds no zone): the cell shows
``2026-12-02 13:30:15 UTC`` and is still a date and time to Excel and to doe's import, which
reads a time without a zone as UTC."""
UTC_FORMAT_MS = 'yyyy-mm-dd hh:mm:ss.000 "UTC"'
""":data:`UTC_FORMAT` for a time with a fraction of a second (Excel keeps milliseconds)."""

EXCEL_MAX_TEXT = 32_767
"""The most characters an Excel cell holds (openpyxl cuts a longer text)."""


def _check_excel_text(table: pd.DataFrame, prepared: pd.DataFrame) -> None:
    """Refuse a text longer than an Excel cell holds, rather than write it cut short."""
    problems = []
    for j, column in enumerate(table.columns):
        for row, value in enumerate(prepared.iloc[:, j].tolist()):
            if isinstance(value, str) and len(value) > EXCEL_MAX_TEXT:
                experiment = (f" of {table['experiment_id'].iloc[row]}" if "experiment_id" in table.columns else "")
                problems.append(CellProblem(row, str(column), value[:40] + "...", (
                    f"the text{experiment} has {len(value):,} characters; an Excel cell holds at most "
                    f"{EXCEL_MAX_TEXT:,}")))
    if problems:
        raise DataError(f"{len(problems)} text(s) are too long for an Excel cell, which would cut them short; nothing "
                        "was written: export as CSV (a .csv file), which keeps every character", problems)


def _significant_format(value: float) -> str:
    """An Excel number format that shows ``value`` at SIGNIFICANT significant figures."""
    places = significant_places(value)
    if places is None:
        return "0." + "0" * (SIGNIFICANT - 1) + "E+00"
    return "0" + ("." + "0" * places if places else "")


def table_bytes(table: pd.DataFrame, file_format: FileFormat, *, units: dict[str, str] | None = None,
                decimals: dict[str, int] | None = None, significant: Sequence[str] = ()) -> bytes:
    """The file content of :func:`write_table` as bytes (for download buttons)."""
    buffer = io.BytesIO()
    write_table(table, buffer, file_format=file_format, units=units, decimals=decimals, significant=significant)
    return buffer.getvalue()


def write_file(path: str | Path, payload: bytes, *, replace: bool = True) -> Path:
    """Write ``payload`` to ``path`` whole or not at all.

    The bytes go to a hidden file in the same folder (``.NAME.XXXXXXXX.partial``), are flushed
    to the disk, and that file is then renamed to ``path`` in one step: a failure part-way (a
    full disk, an interrupted command) leaves what was at ``path`` as it was, never a file cut
    short. A new file gets the permissions a plain write would give it (the umask's), a
    replaced one keeps its read and write bits (not its owner or group). A
    symbolic link at ``path`` is written through: the file it points to is replaced.

    Args:
        path: the target file; its folder must exist.
        payload: the file's content.
        replace: replace a file at ``path``. When False, a file there is kept byte for byte,
            also one that appeared while ``payload`` was being written.

    Returns:
        ``path``.

    Raises:
        DataError: the file name is not Unicode text.
        FileExistsError: ``replace`` is False and ``path`` exists.
        OSError: the folder cannot be written (the hidden file is removed).
    """
    path = Path(os.path.realpath(path))  # through a link (latest.csv -> shared/history.csv), not over it
    _check_file_name(path)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    # O_EXCL: a new file of our own; mode 0o666 less the umask, as open(path, "wb") would give
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        if replace:
            with contextlib.suppress(FileNotFoundError):  # a replaced file keeps its mode (a group's write)
                os.chmod(partial, stat.S_IMODE(os.stat(path).st_mode) & 0o777)
            os.replace(partial, path)
        else:
            _rename_to_new(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _rename_to_new(partial: Path, path: Path) -> None:
    """Give ``partial`` the name ``path`` unless a file has it (then FileExistsError)."""
    try:
        os.link(partial, path)  # refuses, in one step, a name that exists; os.replace would not
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links (FAT on a USB stick, some network shares)
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path)) from None
        os.replace(partial, path)


def _check_file_name(path: Path) -> None:
    try:
        os.fsencode(path)
    except UnicodeEncodeError as err:
        raise DataError(f"the file name {shorten(str(path))} {NOT_UNICODE}") from err
