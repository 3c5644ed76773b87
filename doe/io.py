"""Tables in and out of files: CSV and Excel (``.xlsx``), and campaign exports as JSON.

Reading (:func:`read_table`) maps the file's columns onto the campaign's names, strips units
from headers such as ``anneal_temperature_c [C]``, ``anneal_temperature (C)`` or
``anneal_time / min``, checks them against the campaign's units and converts the few that
convert unambiguously (K -> C, s/min/h, fraction <-> %). It returns the raw mapped table;
:func:`doe.domain.validate_experiments` checks every cell afterwards.

Writing (:func:`write_table`, :func:`table_bytes`) neutralises spreadsheet formula injection:
a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written
with a leading apostrophe, so Excel or LibreOffice shows it as text instead of running it.
Numbers stay numbers.

No database code here: pandas and openpyxl only.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.file_rows import FILE_ROWS, RowNumbers, column_letter, layout_problems
from doe.domain.replicates import REPLICATE_COLUMN
from doe.domain.table import ID_COLUMN, META_COLUMNS, parse_number
from doe.domain.units import CONVERSIONS, canonical_unit, split_header, unit_slug
from doe.domain.values import NOT_UNICODE, is_blank, is_integer, is_unicode_text, unicode_problems
from doe.errors import CellProblem, DataError, shorten

log = logging.getLogger(__name__)

FileFormat = Literal["csv", "xlsx"]
MAX_BYTES = 20_000_000
MAX_JSON_BYTES = 200_000_000
_XLSX_EXPANSION = 20
"""An .xlsx (a zip file) may unpack to at most this many times ``max_bytes``."""
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# --------------------------------------------------------------------------- reading
def _read_source(source: str | Path | bytes | BinaryIO, max_bytes: int) -> tuple[bytes, str | None]:
    """The file's bytes and its suffix (``None`` when unknown)."""
    limit_msg = (f"is larger than {max_bytes / 1e6:g} MB; split it, or pass a larger max_bytes "
                 "if this really is one results table")
    if isinstance(source, bytes | bytearray):
        if len(source) > max_bytes:
            raise DataError(f"the uploaded file {limit_msg}")
        return bytes(source), None
    if isinstance(source, str | Path):
        path = Path(source).expanduser()
        if not path.is_file():
            raise DataError(f"file {str(path)!r} does not exist (or is not a file)")
        if path.stat().st_size > max_bytes:
            raise DataError(f"file {str(path)!r} {limit_msg}")
        return path.read_bytes(), path.suffix.lower()
    if hasattr(source, "read"):
        data = source.read(max_bytes + 1)
        if isinstance(data, str):
            if not is_unicode_text(data):
                raise DataError(f"the file's text {NOT_UNICODE}")
            data = data.encode("utf-8")
        if len(data) > max_bytes:
            raise DataError(f"the file {limit_msg}")
        name = getattr(source, "name", None)
        return data, Path(name).suffix.lower() if isinstance(name, str) else None
    raise DataError(f"cannot read a table from a {type(source).__name__}; give a file path, bytes or a file object")


def _detect_format(data: bytes, suffix: str | None, file_format: FileFormat | None) -> FileFormat:
    if file_format is not None:
        if file_format not in ("csv", "xlsx"):
            raise DataError(f"file_format must be 'csv' or 'xlsx', got {file_format!r}")
        return file_format
    if suffix in (".xls",):
        raise DataError("old Excel files (.xls) are not read; save the sheet as .xlsx or as CSV UTF-8")
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    return "xlsx" if data[:4] == b"PK\x03\x04" else "csv"


def _decode(data: bytes, encoding: str | None) -> str:
    if encoding is not None:
        try:
            return data.decode(encoding)
        except LookupError as err:
            raise DataError(f"unknown text encoding {encoding!r}; try 'utf-8' or 'cp1252'") from err
        except UnicodeDecodeError as err:
            raise DataError(f"the file is not valid {encoding} text (byte {data[err.start]:#04x} at "
                            f"position {err.start})") from err
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(
            f"the file is not UTF-8 text (byte {data[err.start]:#04x} at position {err.start}, "
            "e.g. a degree sign or umlaut saved by Excel as 'CSV (Windows)'). Save it again as "
            "'CSV UTF-8 (comma delimited)', or read it with encoding='cp1252' (Windows Western "
            "Europe) or the encoding it was saved in"
        ) from err


def _text_cell(value: Any) -> Any:
    """A text column's cell: blank -> NaN, whole numbers from Excel as '7', not '7.0',
    the apostrophe that :func:`neutralise` added on export removed."""
    if is_blank(value):
        return math.nan
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if is_integer(value):
        return str(value)
    return unneutralise(value.strip()) if isinstance(value, str) else value


def _number_or_text(value: Any, decimal_comma: bool) -> Any:
    """Numbers as float; numeric-looking text parsed; anything else unchanged."""
    if is_blank(value):
        return math.nan
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return math.nan
        candidate = text.replace(",", ".") if decimal_comma and text.count(",") == 1 and "." not in text else text
        number = parse_number(candidate)  # "3_50" stays text, and validation names the cell
        return value if number is None else number
    return value


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


def _header_name(cell: Any) -> str:
    """A header cell's column name: spaces, a byte-order mark and the apostrophe of
    :func:`neutralise` removed ("" for an empty cell)."""
    return "" if is_blank(cell) else unneutralise(str(cell).lstrip("\ufeff").strip())


def _kept(cells: Sequence[Any]) -> bool:
    """Whether a CSV record is a row of the table (blank rows are dropped later, and counted)."""
    return len(cells) > 1 or any(c.strip() for c in cells)


def _read_csv(text: str) -> tuple[pd.DataFrame, bool, RowNumbers]:
    """The file's table (every cell as text), whether it uses a decimal comma, and its rows'
    numbers as a spreadsheet shows them (:class:`RowNumbers`).

    The header is the first row with a filled cell: rows above it that hold only delimiters
    (``;;;;``, as a spreadsheet writes an empty row) are skipped. The csv module reads every
    record, so a quoted cell over several lines is one row. Refused: a quoted cell that is
    never closed (it would swallow every row below it), and what
    :func:`doe.domain.file_rows.layout_problems` finds (pandas' reader took a row with one cell
    more than the header as a row label and shifted every value one column left).
    """
    delimiter = _delimiter(text[:20_000])
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(iter(lines), delimiter=delimiter, skipinitialspace=True)
    records: list[tuple[int, list[str]]] = []
    last_start = 0
    try:
        while True:
            start = reader.line_num  # lines read before this record: where it starts
            cells = next(reader, None)
            if cells is None:
                break
            records.append((len(records) + 1, cells))
            last_start = start
    except csv.Error as err:
        raise DataError(f"the CSV file cannot be read: {err}") from err
    if records and '"' in "".join(lines[last_start:]):
        try:  # non-strict, the reader ends a quoted cell at the end of the file without a word
            _records("".join(lines[last_start:]), delimiter, strict=True)
        except csv.Error as err:
            if "unexpected end of data" in str(err):
                number, cells = records[-1]
                raise DataError("a quoted cell is never closed", [CellProblem(
                    None, column_letter(len(cells) - 1), cells[-1][:40],
                    "the cell opens a quote (\") that is never closed, so every row below would be read "
                    "into it; close the quote, or remove it", file_row=number)]) from None
    top = next((number for number, cells in records if any(c.strip() for c in cells)), None)
    if top is None:
        raise DataError("the file has no columns; the first row must name the columns")
    if problems := layout_problems(records, _header_name):
        raise DataError("the file's rows do not fit its header row", problems)
    header = records[top - 1][1]
    names = [cell if cell.strip() else f"Unnamed: {i}" for i, cell in enumerate(header)]
    table = [cells[: len(header)] + [""] * (len(header) - len(cells)) for _, cells in records[top:] if _kept(cells)]
    frame = pd.DataFrame(table, columns=names, dtype=object) if table else pd.DataFrame(columns=names, dtype=object)
    return frame, delimiter == ";", RowNumbers.of(records, _kept)


def _read_xlsx(data: bytes, sheet: str | int, max_bytes: int) -> tuple[pd.DataFrame, RowNumbers]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as err:
        raise DataError("the file is not a valid .xlsx workbook (damaged, or another format renamed)") from err
    if unpacked > _XLSX_EXPANSION * max_bytes:
        raise DataError(f"the workbook unpacks to {unpacked / 1e6:.0f} MB; at most "
                        f"{_XLSX_EXPANSION * max_bytes / 1e6:.0f} MB are read")
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
        return found, filled[0] if filled else 1, rows, layout_problems(numbered, _header_name)
    finally:
        formulas.close()
        values.close()


def _resolve_column(header: str, config: CampaignConfig, mapping: dict[str, str]) -> tuple[str, str | None]:
    """The campaign name a file column stands for, and the unit found in its header."""
    base, unit = split_header(header)
    if header in mapping:
        return mapping[header], unit
    if base in mapping:
        return mapping[base], unit
    known = [ID_COLUMN, REPLICATE_COLUMN, *config.parameter_names, *config.outcome_names, *META_COLUMNS]
    if base in known:
        return base, unit
    lower = {k.lower(): k for k in known}
    if base.lower() in lower:
        return lower[base.lower()], unit
    if unit is not None:
        slugged = f"{base}_{unit_slug(unit)}".lower()
        if slugged in lower:
            return lower[slugged], unit
        found = canonical_unit(unit)
        candidates = [k for k in known if k.lower().startswith(base.lower() + "_")
                      and (canonical_unit(config.unit_of(k)) == found
                           or (found, canonical_unit(config.unit_of(k))) in CONVERSIONS)]
        if len(candidates) == 1:
            return candidates[0], unit
    return header.strip(), None


def read_table(
    source: str | Path | bytes | BinaryIO,
    config: CampaignConfig,
    *,
    column_mapping: dict[str, str] | None = None,
    file_format: FileFormat | None = None,
    sheet: str | int = 0,
    max_bytes: int = MAX_BYTES,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Read a results or history table from a CSV or Excel file.

    Args:
        source: a file path, the file's bytes (e.g. a Streamlit upload) or a binary file object.
        config: the campaign; its names and units are what the columns are matched against.
        column_mapping: file column -> campaign name, for columns named differently in the
            file (``{"Temp": "anneal_temperature_c"}``); a key may include or omit the unit.
        file_format: ``"csv"`` or ``"xlsx"``; by default from the file name, else the content.
        sheet: sheet name or 0-based position (Excel only).
        max_bytes: larger files are refused.
        encoding: text encoding of a CSV file; by default UTF-8 (with or without BOM).

    Returns:
        One row per file row (blank rows dropped), columns renamed to campaign names, units
        converted to the campaign's units; numeric cells as float, other cells as found.
        ``frame.attrs["unit_conversions"]`` lists the conversions made, and
        ``frame.attrs["file_rows"]`` each row's number in the file as a spreadsheet shows it
        (the header is row 1; blank rows count), for :func:`doe.domain.file_rows.in_file`.

    Raises:
        DataError: empty, too large or unreadable file; a mapped column that is missing; a unit
            that differs from the campaign's and cannot be converted.
    """
    column_mapping = dict(column_mapping or {})
    if not_text := unicode_problems(column_mapping, "column_mapping"):
        raise DataError(f"{', '.join(not_text)}: {NOT_UNICODE}")
    data, suffix = _read_source(source, max_bytes)
    fmt = _detect_format(data, suffix, file_format)
    if not data.strip().lstrip(b"\xef\xbb\xbf").strip():
        raise DataError("the file is empty; export the table with a header row and one row per experiment")
    file_rows: RowNumbers
    if fmt == "csv":
        raw, decimal_comma, file_rows = _read_csv(_decode(data, encoding))
    else:
        (raw, file_rows), decimal_comma = _read_xlsx(data, sheet, max_bytes), False
    headers = [_header_name(c) or str(c) for c in raw.columns]
    raw.columns = headers
    unnamed = [h for h in headers if h.startswith("Unnamed:") and raw[h].map(is_blank).all()]
    raw = raw.drop(columns=unnamed)
    headers = [h for h in headers if h not in unnamed]
    if not headers:
        raise DataError("the file has no columns; the first row must name the columns")

    missing = sorted(k for k in column_mapping
                     if k not in headers and k not in {split_header(h)[0] for h in headers})
    if missing:
        raise DataError(f"column_mapping names column(s) {missing} that the file does not have; "
                        f"its columns: {headers}")

    problems: list[CellProblem] = []
    notes: list[str] = []
    out: dict[str, pd.Series] = {}
    numeric = {p.name for p in config.parameters if p.type != "categorical"} | set(config.outcome_names)
    for header in headers:
        name, unit = _resolve_column(header, config, column_mapping)
        if name in numeric:
            cells = [_number_or_text(v, decimal_comma) for v in raw[header].tolist()]
        else:
            cells = [_text_cell(v) for v in raw[header].tolist()]
        values = pd.Series(cells, dtype=object)
        if name in out:
            problems.append(CellProblem(None, name, header, "two file columns map to this name; keep one"))
            continue
        if unit is not None:
            found = canonical_unit(unit)
            expected = canonical_unit(config.unit_of(name))
            if name in (ID_COLUMN, *META_COLUMNS) or name not in [*config.parameter_names, *config.outcome_names]:
                if found is not None:
                    problems.append(CellProblem(None, header, unit, f"column {name!r} takes no unit"))
            elif found != expected:
                convert = CONVERSIONS.get((found, expected)) if found and expected else None
                if convert is None:
                    expected_text = repr(config.unit_of(name)) if expected else "no unit"
                    problems.append(CellProblem(
                        None, header, unit,
                        f"unit {unit!r} of column {name!r} does not match the campaign's unit "
                        f"{expected_text}; convert the values to {expected_text} and rename the column "
                        f"to '{name} [{config.unit_of(name) or ''}]'"))
                else:
                    values = pd.Series([convert(v) if isinstance(v, float) else v for v in values], dtype=object)
                    note = f"column {header!r}: converted {unit} to {config.unit_of(name)}"
                    notes.append(note)
                    log.info(note)
        out[name] = values
    if problems:
        raise DataError("the table's columns cannot be used as they are", problems)
    frame = pd.DataFrame(out)
    blank = frame.apply(lambda col: col.map(lambda v: isinstance(v, float) and math.isnan(v))).all(axis=1)
    frame = frame[~blank].reset_index(drop=True)
    if frame.empty:
        raise DataError("the file has a header row but no data rows")
    frame.attrs["unit_conversions"] = notes
    numbers = file_rows.kept(blank.tolist(), len(frame))
    if numbers is not None:  # else problems name positions only
        frame.attrs[FILE_ROWS] = numbers
    return frame


# --------------------------------------------------------------------------- writing
def neutralise(value: Any) -> Any:
    """``value`` safe for a spreadsheet cell: risky text gets a leading apostrophe.

    Text that already starts with an apostrophe followed by a risky character (or by another
    apostrophe) gets one more, so that :func:`unneutralise` gives back exactly what was written.
    """
    if isinstance(value, str) and (value.startswith(_FORMULA_START) or _was_neutralised(value)):
        return "'" + value
    return value


def _was_neutralised(text: str) -> bool:
    return len(text) > 1 and text[0] == "'" and text[1:].startswith((*_FORMULA_START, "'"))


def unneutralise(text: str) -> str:
    """The text :func:`neutralise` was given: ``"'=1+1"`` -> ``"=1+1"``; other text unchanged.

    Used on import, so that an exported table reads back as it was. The value read is data
    (validated, stored as text) and is neutralised again on the next export.
    """
    return text[1:] if _was_neutralised(text) else text


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
) -> None:
    """Write ``table`` as CSV (UTF-8 with BOM, so Excel shows units and umlauts) or ``.xlsx``.

    Args:
        table: the table; its index is not written.
        target: a file path or a binary file object.
        file_format: ``"csv"`` or ``"xlsx"``; by default from the file name (CSV for objects).
        units: column -> unit; such columns get headers like ``anneal_temperature_c [C]``,
            which :func:`read_table` reads back.
        decimals: column -> decimal places. CSV: the numbers are written at that many places
            (pass only columns that lose nothing, e.g. values on a resolution grid);
            XLSX: a cell number format, the stored cell value stays exact.

    Text cells that a spreadsheet would run as a formula get a leading apostrophe.
    """
    fmt = _target_format(target, file_format)
    if isinstance(target, str | Path):
        try:
            os.fsencode(target)
        except UnicodeEncodeError as err:
            raise DataError(f"the file name {shorten(str(target))} {NOT_UNICODE}") from err
    decimals = {c: d for c, d in (decimals or {}).items() if c in table.columns}
    if fmt == "csv" and decimals:
        table = table.copy()
        for column, places in decimals.items():
            table[column] = [v if is_blank(v) or isinstance(v, str)
                             else round(float(v), places) if places else round(float(v))
                             for v in table[column]]
    prepared = _prepare(table, units, for_excel=fmt == "xlsx")
    if fmt == "csv":
        text = prepared.to_csv(index=False, lineterminator="\r\n")
        payload = text.encode("utf-8-sig")
        if isinstance(target, str | Path):
            Path(target).write_bytes(payload)
        else:
            target.write(payload)
        return
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        prepared.to_excel(writer, index=False, sheet_name="experiments")
        sheet = writer.sheets["experiments"]
        sheet.freeze_panes = "A2"  # the header row stays in view while scrolling
        for j, column in enumerate(table.columns, start=1):
            if str(column) in decimals:
                places = decimals[str(column)]
                number_format = "0" + ("." + "0" * places if places else "")
                for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                    cell.number_format = number_format
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text
    if isinstance(target, str | Path):
        Path(target).write_bytes(buffer.getvalue())
    else:
        target.write(buffer.getvalue())


def table_bytes(table: pd.DataFrame, file_format: FileFormat, *, units: dict[str, str] | None = None,
                decimals: dict[str, int] | None = None) -> bytes:
    """The file content of :func:`write_table` as bytes (for download buttons)."""
    buffer = io.BytesIO()
    write_table(table, buffer, file_format=file_format, units=units, decimals=decimals)
    return buffer.getvalue()


# --------------------------------------------------------------------------- campaign JSON
def campaign_to_json(data: dict[str, Any]) -> str:
    """An exported campaign (see ``CampaignStore.export_campaign``) as JSON text."""
    if not isinstance(data, dict):
        raise DataError(f"a campaign export is a mapping, got {type(data).__name__}")
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False, indent=1)
    except (TypeError, ValueError) as err:
        raise DataError(f"the campaign cannot be written as JSON: {err}") from err
    if len(text) > MAX_JSON_BYTES:
        raise DataError(f"the campaign is {len(text) / 1e6:.0f} MB as JSON; at most {MAX_JSON_BYTES / 1e6:.0f} MB")
    return text


def campaign_from_json(text: str | bytes, *, max_bytes: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """Parse an exported campaign; raises DataError for text that is not one."""
    if len(text) > max_bytes:
        raise DataError(f"the campaign file is larger than {max_bytes / 1e6:.0f} MB")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise DataError("the campaign file is not UTF-8 text; is it a doe campaign export (.json)?") from err
    if not text.strip():
        raise DataError("the campaign file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"the campaign file is not valid JSON (line {err.lineno}, column {err.colno}: "
                        f"{err.msg}); is it a doe campaign export?") from err
    if not isinstance(data, dict) or data.get("format") != "doe-campaign":
        raise DataError("the file is JSON but not a doe campaign export (no \"format\": \"doe-campaign\")")
    return data


__all__ = [
    "campaign_from_json",
    "campaign_to_json",
    "neutralise",
    "read_table",
    "table_bytes",
    "unneutralise",
    "write_table",
]
