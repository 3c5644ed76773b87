"""Tables in and out of files: CSV and Excel (``.xlsx``), and campaign exports as JSON.

Reading (:func:`read_table`) maps the file's columns onto the campaign's names, strips units
from headers such as ``anneal_temperature_c [C]``, ``anneal_temperature (C)`` or
``anneal_time / min``, checks them against the campaign's units and converts the few that
convert unambiguously (K -> C, s/min/h, fraction <-> %). It returns the raw mapped table;
:func:`doe.domain.validate_experiments` checks every cell afterwards.
"""

from __future__ import annotations

import logging
import math
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal

import pandas as pd

from doe.domain.active_mass import MASS_COLUMN, mass_column_free
from doe.domain.config import CampaignConfig
from doe.domain.file_rows import FILE_ROWS, FILE_SHEET, RowNumbers
from doe.domain.replicates import REPLICATE_COLUMN
from doe.domain.table import CONTEXT_LENGTHS, ID_COLUMN, META_COLUMNS, allowed_columns, parse_number
from doe.domain.units import CONVERSIONS, canonical_unit, split_header, unit_slug
from doe.domain.values import NOT_UNICODE, is_blank, is_integer, is_unicode_text, unicode_problems
from doe.errors import CellProblem, DataError
from doe.io.cells import header_name, unneutralise
from doe.io.delimited import read_csv
from doe.io.workbook import SHEET, ColumnKind, read_xlsx

log = logging.getLogger(__name__)

FileFormat = Literal["csv", "xlsx"]
MAX_BYTES = 100_000_000
"""The largest file read as one results table: the cells file that ``doe export --cells`` writes of
a campaign of about 4,000 experiments with three replicate cells and 21 curve points each (read
into about 1.2 GB of memory)."""
MAX_XLSX_BYTES = 20_000_000
"""The largest Excel workbook read (it unpacks to many times its size, and is read cell by cell)."""


_HEAD_BYTES = 4096
_CAMPAIGN_EXPORT = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\{.*?"format"\s*:\s*"doe-campaign"', re.DOTALL)
"""The start of a whole-campaign export (``doe export --out x.json``; "format" is its first key)."""
_JSON_OBJECT = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*(?:\{|\[\s*[{\[])')
"""The start of any JSON object, or array of objects or arrays: no results table starts so."""


def _refuse_campaign_export(head: bytes, name: str | None) -> None:
    """Refuse a whole-campaign JSON export, or any JSON object, whatever its file is called: read
    as CSV it gives thousands of cell problems, and it is a campaign to import, not a table of results."""
    if _CAMPAIGN_EXPORT.match(head):
        raise DataError(
            f"{repr(name) if name else 'the file'} is a whole-campaign JSON export (`doe export --out x.json`), "
            f"not a table of results; nothing was read from it. To create a campaign from it, run `doe import "
            f"{shlex.quote(name) if name else 'FILE'}` (add `--name NEW` to store it under another name; in Python: "
            "Campaign.import_json); to record its results into a campaign, export its history as CSV instead "
            "(`doe export --out history.csv`)")
    if _JSON_OBJECT.match(head):
        raise DataError(
            f"{repr(name) if name else 'the file'} holds JSON, not a table of results (CSV or Excel .xlsx); nothing "
            "was read from it. A whole-campaign export (`doe export --out x.json`) is imported with `doe import "
            f"{shlex.quote(name) if name else 'FILE'}` (in Python: Campaign.import_json)")


def _read_source(source: str | Path | bytes | BinaryIO, max_bytes: int) -> tuple[bytes, str | None]:
    """The file's bytes and its suffix (``None`` when unknown)."""
    limit_msg = (f"is larger than {max_bytes / 1e6:g} MB, the most read as one table; nothing was read: split "
                 "it into several files (whole experiments in each, the header row in every one) and record each")
    if isinstance(source, bytes | bytearray):
        _refuse_campaign_export(bytes(source[:_HEAD_BYTES]), None)
        if len(source) > max_bytes:
            raise DataError(f"the uploaded file {limit_msg}")
        return bytes(source), None
    if isinstance(source, str | Path):
        path = Path(source).expanduser()
        if not path.is_file():
            raise DataError(f"file {str(path)!r} does not exist (or is not a file)")
        with path.open("rb") as file:  # before the size: a campaign export may well be larger
            _refuse_campaign_export(file.read(_HEAD_BYTES), str(path))
        if path.stat().st_size > max_bytes:
            raise DataError(f"file {str(path)!r} {limit_msg}")
        return path.read_bytes(), path.suffix.lower()
    if hasattr(source, "read"):
        data = source.read(max_bytes + 1)
        if isinstance(data, str):
            if not is_unicode_text(data):
                raise DataError(f"the file's text {NOT_UNICODE}")
            data = data.encode("utf-8")
        name = getattr(source, "name", None)
        _refuse_campaign_export(data[:_HEAD_BYTES], name if isinstance(name, str) else None)
        if len(data) > max_bytes:
            raise DataError(f"the file {limit_msg}")
        return data, Path(name).suffix.lower() if isinstance(name, str) else None
    raise DataError(f"cannot read a table from a {type(source).__name__}; give a file path, bytes or a file object")


def _detect_format(data: bytes, suffix: str | None, file_format: FileFormat | None) -> FileFormat:
    if file_format is not None:
        if file_format not in ("csv", "xlsx"):
            raise DataError(f"file_format must be 'csv' or 'xlsx', got {file_format!r}")
        return file_format
    if suffix in (".xls",):
        raise DataError("old Excel files (.xls) are not read; save the sheet as .xlsx or as CSV UTF-8")
    if suffix == ".json":
        raise DataError("a JSON file is not read as a table of results; save the table as CSV or Excel (.xlsx)")
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    return "xlsx" if data[:4] == b"PK\x03\x04" else "csv"


def _decode(data: bytes, encoding: str | None) -> str:
    if encoding is None and data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's 'Unicode Text': UTF-16 with its mark
        encoding = "utf-16"
    if encoding is None and data[:4] == b"PK\x03\x04":
        raise DataError("the file is an Excel workbook (.xlsx), not CSV text: give it the .xlsx suffix, or save it "
                        "from Excel as 'CSV UTF-8 (comma delimited)'")
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


_PERCENT = re.compile(r"(?<=\d)[\s\u00a0\u202f]*%\s*$")
"""A percent sign after a number (``87.3 %``, ``87,3\u00a0%``): the column's unit, said again."""


def _text_cell(value: Any) -> Any:
    """A text column's cell: blank -> NaN, whole numbers from Excel as '7', not '7.0',
    the apostrophe that :func:`doe.io.cells.neutralise` added on export removed."""
    if is_blank(value):
        return math.nan
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if is_integer(value):
        return str(value)
    return unneutralise(value.strip()) if isinstance(value, str) else value


def _comma_decimal(value: Any) -> bool:
    """Whether ``value`` is a number written with a decimal comma (``85,5``)."""
    text = value.strip() if isinstance(value, str) else ""
    return text.count(",") == 1 and "." not in text and parse_number(text.replace(",", ".")) is not None


def _thousands_form(value: Any) -> bool:
    """Whether ``value`` is a number with a comma that may be a thousands separator (``1,250``)."""
    return isinstance(value, str) and re.fullmatch(r"[+-]?[1-9]\d{0,2},\d{3}", value.strip()) is not None


def _thousands_dot_form(value: Any) -> bool:
    """Whether ``value`` is a number with dots that may be thousands separators (``1.250``)."""
    return isinstance(value, str) and re.fullmatch(r"[+-]?[1-9]\d{0,2}(\.\d{3})+", value.strip()) is not None


def _decimal_mark(delimiter: str | None, raw: pd.DataFrame, number_columns: list[str],
                  file_rows: RowNumbers) -> tuple[bool, list[CellProblem]]:
    """Whether the numbers of a CSV file use a decimal comma, and the number cells that cannot
    be read unambiguously.

    A semicolon file does (it is what Excel writes where the comma is the decimal mark); a
    tab-separated one does when a number cell shows it (``85,5``, ``0,830``: not a thousands
    separator), and its cells such as ``1,250`` are refused when none does. Where decimal
    commas are used, a number with a dot (``1.250``) is refused: a spreadsheet writes 1250 so
    when the cell shows thousands; in a semicolon file whose numbers show no decimal mark but
    such dots (no ``85,3``, no ``85.3`` or ``0.830``), ``1.250`` is refused likewise.
    """
    if delimiter not in (";", "\t"):
        return False, []
    rows = file_rows.parsed if len(file_rows.parsed) == len(raw) else None

    def cells() -> Iterator[tuple[str, int, Any]]:
        return ((h, i, v) for h in number_columns for i, v in enumerate(raw[h].tolist()))

    def problem(i: int, header: str, value: Any, said: str) -> CellProblem:
        return CellProblem(None if rows else i, header, value, said, file_row=rows[i] if rows else None)

    if delimiter == "\t" and not any(_comma_decimal(v) and not _thousands_form(v) for _, _, v in cells()):
        return False, [problem(i, h, v, "a number with a comma in a tab-separated file whose numbers show no "
                               "decimal comma otherwise: it may mean 1250 (1,250 with a thousands separator) or "
                               "1.25 (a decimal comma); write it without the thousands separator (1250), or with "
                               "no trailing zeros if the comma is a decimal comma (1,25)")
                       for h, i, v in cells() if _thousands_form(v)]
    if not any(_comma_decimal(v) for _, _, v in cells()):  # dots throughout, or no decimals: decimal points
        if any(_dotted_number(v) and not _thousands_dot_form(v) for _, _, v in cells()):
            return True, []  # a cell such as 85.3 shows the dot is the decimal mark
        return True, [problem(i, h, v, "a number with a dot in a semicolon file whose numbers show no decimal "
                              "comma: it may mean 1250 (1.250 with a thousands separator, as a spreadsheet writes "
                              "it where the comma is the decimal mark) or 1.25; write it without the thousands "
                              "separator (1250), or with no trailing zeros if the dot is a decimal point (1.25)")
                      for h, i, v in cells() if _thousands_dot_form(v)]
    return True, [problem(i, h, v, "a number with a dot in a file whose numbers use decimal commas: it may mean "
                          "1250 (1.250) or 1.25; write it without the dot, or with a decimal comma as the file's "
                          "other numbers") for h, i, v in cells() if _dotted_number(v)]


def _dotted_number(value: Any) -> bool:
    """Whether ``value`` is text of a number written with a dot and no comma (``1.250``)."""
    text = value.strip() if isinstance(value, str) else ""
    return "." in text and "," not in text and parse_number(text) is not None


NO_VALUE_TEXTS = frozenset({"na", "n/a", "nan"})
"""Text (any case) that a number column of a file holds for 'no value': read as an empty cell,
not measured. ``NaN`` was read so (as a number) while ``NA`` was refused; a spreadsheet's error
value ``#N/A`` is not among them (a formula that failed is refused, naming the cell)."""


def _number_or_text(value: Any, decimal_comma: bool) -> Any:
    """Numbers as float; numeric-looking text parsed; the text that data tools write for no value
    (:data:`NO_VALUE_TEXTS`: R's ``NA``, numpy's ``nan``) as an empty cell; anything else unchanged."""
    if is_blank(value):
        return math.nan
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "" or text.lower() in NO_VALUE_TEXTS:
            return math.nan
        candidate = text.replace(",", ".") if decimal_comma and text.count(",") == 1 and "." not in text else text
        number = parse_number(candidate)  # "3_50" stays text, and validation names the cell
        return value if number is None else number
    return value


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
        sheet: sheet name, or 0-based position among the visible sheets (Excel only).
        max_bytes: larger files are refused (workbooks: over :data:`MAX_XLSX_BYTES` too).
        encoding: text encoding of a CSV file; by default UTF-8 (with or without BOM).

    Returns:
        One row per file row (blank rows dropped), columns renamed to campaign names, units
        converted to the campaign's units; numeric cells as float, other cells as found.
        ``frame.attrs["unit_conversions"]`` lists the conversions made, and
        ``frame.attrs["file_rows"]`` each row's number in the file as a spreadsheet shows it
        (the header is row 1; blank rows count), for :func:`doe.domain.file_rows.in_file`.

    Raises:
        DataError: empty, too large or unreadable file; a mapped column that is missing; a unit
            that differs from the campaign's and cannot be converted; cells that would be read
            other than the file shows them (quotes that do not pair up, a ditto mark, a number
            whose decimal mark is ambiguous, a workbook's error values, merged cells, hidden rows
            and read columns that are hidden, and ids whose shown text the workbook does not hold), each named by its row and column.
    """
    column_mapping = dict(column_mapping or {})
    if not_text := unicode_problems(column_mapping, "column_mapping"):
        raise DataError(f"{', '.join(not_text)}: {NOT_UNICODE}")
    allowed = allowed_columns(config)
    if unknown := [f"{k!r} -> {v!r}" for k, v in column_mapping.items() if v not in allowed]:
        raise DataError(f"column_mapping: {', '.join(unknown)} names no column of the campaign; the columns are "
                        f"{', '.join(allowed)}")
    data, suffix = _read_source(source, max_bytes)
    fmt = _detect_format(data, suffix, file_format)
    if not data.strip().lstrip(b"\xef\xbb\xbf").strip():
        raise DataError("the file is empty; export the table with a header row and one row per experiment")
    numeric = {p.name for p in config.parameters if p.type != "categorical"} | set(config.outcome_names)
    if mass_column_free(config.parameter_names):  # a cells file's masses, read as the outcomes are (11,2 or 11.2)
        numeric.add(MASS_COLUMN)
    labels = {ID_COLUMN, REPLICATE_COLUMN, *CONTEXT_LENGTHS,
              *(p.name for p in config.parameters if p.type == "categorical")}  # kept as the text they show

    def kind_of(header: str) -> ColumnKind:
        name = _resolve_column(header, config, column_mapping)[0]
        return "number" if name in numeric else "label" if name in labels else "text"

    file_rows: RowNumbers
    delimiter: str | None = None
    if fmt == "csv" and sheet != 0:
        raise DataError(f"sheet {sheet!r}: a CSV file has no sheets; a sheet is named only for an Excel workbook")
    if fmt == "csv":
        raw, delimiter, file_rows = read_csv(_decode(data, encoding))
    elif len(data) > (xlsx_limit := min(max_bytes, MAX_XLSX_BYTES)):
        raise DataError(f"the Excel workbook is larger than {xlsx_limit / 1e6:g} MB, the most read of a workbook; "
                        f"nothing was read: save it as CSV (read up to {max_bytes / 1e6:g} MB) or split it")
    else:
        raw, file_rows = read_xlsx(data, sheet, xlsx_limit, kind_of)
    sheet_read: tuple[str | None, list[str]] = raw.attrs.get(SHEET, (None, []))
    headers = [header_name(c) or str(c) for c in raw.columns]
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

    notes: list[str] = []
    out: dict[str, pd.Series] = {}
    names = {header: _resolve_column(header, config, column_mapping) for header in headers}
    number_columns = [header for header in headers if names[header][0] in numeric]
    for header in number_columns:  # '87,3 %' in a column of percent (as Excel writes a percent cell to CSV)
        name, unit = names[header]
        if canonical_unit(config.unit_of(name)) == "%" and (unit is None or canonical_unit(unit) == "%"):
            raw[header] = [_PERCENT.sub("", v) if isinstance(v, str) else v for v in raw[header].tolist()]
    decimal_comma, problems = _decimal_mark(delimiter, raw, number_columns, file_rows)
    for header in headers:
        name, unit = names[header]
        if name in numeric:
            # a workbook's text cell '87,3' (typed where Excel takes a comma for text) reads as the grid
            # reads it; '1,250' (1250 or 1.25?) stays text, refused by validation
            cells = [_number_or_text(v, decimal_comma or (fmt == "xlsx" and _comma_decimal(v) and not _thousands_form(v)))
                     for v in raw[header].tolist()]
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
        title, sheets = sheet_read
        if len(sheets) > 1 and sheet == 0:  # the first sheet read; the results may be on another
            raise DataError(f"sheet {title!r} of the workbook's sheets {sheets} has a header row but no data rows; "
                            "doe reads the first sheet unless told another: name the results sheet (the upload "
                            "form's 'Sheet', doe record --sheet NAME)")
        raise DataError("the file has a header row but no data rows")
    frame.attrs["unit_conversions"] = notes
    if len(sheet_read[1]) > 1:
        frame.attrs[FILE_SHEET] = f"sheet {sheet_read[0]!r} of the workbook's sheets {sheet_read[1]}"
    numbers = file_rows.kept(blank.tolist(), len(frame))
    if numbers is not None:  # else problems name positions only
        frame.attrs[FILE_ROWS] = numbers
    return frame
