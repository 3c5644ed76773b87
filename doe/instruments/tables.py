"""The text of instrument exports as tables: encoding, delimiter, decimal separator, empty rows,
and numbers refused with their line and column.

- text is UTF-8, Windows-1252, or UTF-16 where the file starts with its byte-order mark
  (Excel's "Unicode text"); its lines end with LF, CRLF or CR alone (Excel for Mac's CSV);
- a comma-separated export (Neware, Arbin, an impedance CSV) is read as tab-separated where its
  column header holds a tab (Excel's "Unicode text" and "Text (tab delimited)"), and as
  ``;``-separated where its header holds more ``;`` than commas (a CSV saved by Excel in a
  locale whose decimal separator is a comma: German, French, ...);
- a tab- or ``;``-separated table (EC-Lab, Gamry, and such a save of a Neware, Arbin or
  impedance CSV) is read with a decimal comma where its first number with a fractional part is
  written with one (``0,2400``: on a French or German Windows); a number written with the
  other separator in the same table is refused with its line and column, not guessed at;
- a row whose fields are all empty (``,,,,``, as Excel leaves below the data) is skipped; an
  empty field after the last named column (a trailing delimiter) is ignored; a row with more
  fields than the column header, or an empty, unreadable or infinite value (``inf``, ``1e400``)
  among other values, is refused with its line in the file;
- a column that the header names twice (two cells' columns side by side) is refused where a
  reader reads it, as numbers (:func:`numeric_columns`) or as text (:func:`text_column`: a
  state or step type) or as the rows' order (a record number), naming both positions.
"""

from __future__ import annotations

import io
import itertools
import re
import warnings
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from doe.domain.records import MAX_EVIDENCE_BYTES
from doe.errors import DataError

MAX_FILE_BYTES = MAX_EVIDENCE_BYTES
Decimal = Literal[".", ","]
MAX_CYCLE = 1_000_000_000
"""The largest cycle number read: no test runs more; past it a number is a broken field (and
would overflow a whole number)."""
FIRST_CYCLE_NUMBER = 1
"""The largest cycle number a file may start at: a cycler counts a test's cycles from 0 (EC-Lab,
MACCOR) or 1 (Neware, Arbin), so a file that starts later is a part of a test, whose first cycle
is not the cell's (first-cycle values and retention are the cell's first cycle's)."""
_NUMBER = r"[-+]?(?:\d+{0}\d*|{0}\d+)(?:[eE][-+]?\d+)?"
POINT_NUMBER = re.compile(_NUMBER.format(r"\."))
COMMA_NUMBER = re.compile(_NUMBER.format(","))


class InstrumentFileError(DataError):
    """An instrument file that cannot be read; the message names the file and the problem."""


def check_size(path: Path) -> int:
    """The size of ``path`` in bytes, refusing a missing, empty or huge file."""
    if not path.is_file():
        raise InstrumentFileError(f"{path.name}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise InstrumentFileError(f"{path.name}: the file is empty")
    if size > MAX_FILE_BYTES:
        raise InstrumentFileError(f"{path.name}: {size / 1e6:.0f} MB is over the {MAX_FILE_BYTES / 1e6:.0f} MB limit")
    return size


def read_text(path: Path) -> str:
    """The text of an instrument file (UTF-8, Windows-1252, or UTF-16 with its byte-order mark),
    refusing empty, huge and binary files."""
    check_size(path)
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode Text", Notepad's "Unicode"
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as err:
            raise InstrumentFileError(f"{path.name}: starts as UTF-16 text but is not ({err.reason}); "
                                      "export it again") from None
        refuse_cut_end(path, text)
        return text
    if b"\x00" in raw[:4096]:
        raise InstrumentFileError(f"{path.name}: a binary file that is not .mpr, .nda or .ndax; export it as text "
                                  "from the instrument's software")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        refuse_cut_end(path, text)
        return text
    raise InstrumentFileError(f"{path.name}: not readable as text")  # pragma: no cover - cp1252 decodes all bytes


# a number's shape: its fraction digits and its exponent's digits ("2.2646" -> 4, "1,0E+06" -> 1 and 2)
_NUMBER_SHAPE = re.compile(r"\s*[-+]?\d*[.,](\d+)(?:[eE][-+]?(\d+))?\s*")
_ROWS_COMPARED = 20  # the rows above the last one whose fields show how the file writes each column


def refuse_cut_end(path: Path, text: str) -> None:
    """Refuse a text export cut off inside its last line: the file does not end with a line end
    and its last line holds fewer fields than the rows above, or its last field (the only one a
    cut can shorten) is empty or a number written with fewer decimals or exponent digits than
    that column holds in every one of the (up to 20) rows above (``2.2`` where they write
    ``2.2646``). Read as it is, the cut number is another number: a capacity of 2.2 mAh for 2.2646."""
    if not text or text.endswith(("\n", "\r")):
        return
    lines = text.splitlines()
    last, above = lines[-1], [line for line in lines[:-1] if line.strip()][-_ROWS_COMPARED:]
    if not last.strip() or len(above) < 3:
        return
    sep = delimiter(above[-1])
    width = above[-1].count(sep) + 1
    rows = [line.split(sep) for line in above if line.count(sep) + 1 == width]
    if len(rows) < 3 or width < 2:
        return
    fields = last.split(sep)
    k = len(fields) - 1
    why = None
    if len(fields) < width:
        why = f"{len(fields)} field(s) where the rows above have {width}"
    elif len(fields) == width:
        column = [row[k] for row in rows]
        numbers = list(itertools.takewhile(lambda value: _shape(value) is not None, reversed(column)))  # not the header
        shapes = {_shape(value) for value in numbers}
        if not fields[k].strip() and all(value.strip() for value in column[-3:]):
            why = "its last field empty where the rows above hold a value"
        elif len(numbers) >= 3 and len(shapes) == 1 and (shape := shapes.pop()) is not None and (
                (cut := _shape(fields[k])) is None or cut[0] < shape[0] or cut[1] < shape[1]):
            why = f"{fields[k].strip()[:40]!r} where the rows above write numbers like {column[-1].strip()[:40]!r}"
    if why is not None:
        raise InstrumentFileError(f"{path.name}: the file ends inside its last line (line {len(lines)}: {why}); "
                                  "the export or the copy was cut off, so a number in it may be read short: "
                                  "export or copy the file again (a whole file whose writer drops trailing zeros "
                                  "reads once it ends with a line break)")


def _shape(value: str) -> tuple[int, int] | None:
    """The fraction digits and exponent digits of a number written with a fractional part, else None."""
    match = _NUMBER_SHAPE.fullmatch(value)
    return None if match is None else (len(match.group(1)), len(match.group(2) or ""))


def decimal_separator(data_lines: str, sep: str = "\t") -> Decimal:
    """The decimal separator of the rows of a table separated by ``sep`` (a tab or ``;``): that
    of its first field holding a number with a fractional part (``0,2400``, ``1,0E+06``; where
    fields are separated by a tab or ``;``, a comma in a number can only be a decimal comma). A
    number written with the other separator is refused later, naming its line and column
    (:func:`instrument_table`, :func:`numeric_columns`)."""
    s = re.escape(sep)
    # a line ends with LF, CRLF or CR alone (Excel for Mac)
    first = re.search(rf"(?:^|{s}|\r)[^\S\r\n]*[-+]?(?:\d+([.,])\d*|([.,])\d+)(?:[eE][-+]?\d+)?[^\S\r\n]*"
                      rf"(?={s}|\r|$)", data_lines, re.MULTILINE)
    return "," if first is not None and "," in (first.group(1) or first.group(2)) else "."


def instrument_table(path: Path, text: str, *, line_offset: int = 0, **options: Any) -> pd.DataFrame:
    """``text`` read by ``pd.read_csv`` (``options``: ``sep``, ``decimal``), its first line the
    column names (stripped), indexed by each row's line in the file (from 1; ``line_offset``
    lines of the file above ``text``'s first data row, less one for the header line).

    A row whose fields are all empty is skipped, an empty field after the last column (a
    trailing delimiter) dropped; a row with more fields, and (with ``decimal=","``) a number
    written with a decimal point, raise :class:`InstrumentFileError` naming the file and the
    line (the data row where pandas does not say the line).
    """
    try:
        header = [str(c).strip() for c in pd.read_csv(io.StringIO(text), nrows=0, **options).columns]
        with warnings.catch_warnings():
            # pandas drops a first row's fields past the names with only this warning: refuse them instead
            warnings.filterwarnings("error", "Length of header or names does not match", pd.errors.ParserWarning)
            # one name more than the header holds a trailing delimiter's empty field; index_col=False:
            # else pandas takes a row's field past the names for a row index and shifts every column.
            # Blank lines are kept (as empty rows, skipped below) so that row k is line k of the text
            # Only an empty field is missing: "n/a" or "NaN" in a column of numbers is refused as written
            frame = pd.read_csv(io.StringIO(text), header=None, skiprows=1, names=range(len(header) + 1),
                                index_col=False, skip_blank_lines=False, keep_default_na=False, na_values=[""],
                                **options)
    except pd.errors.ParserWarning:
        raise InstrumentFileError(f"{path.name}: data row 1 has more fields than the column header; "
                                  "check the file or export it again") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        match = re.search(r"Expected \d+ fields in line (\d+)", str(err))
        if match is None:
            raise InstrumentFileError(f"{path.name}: not readable as a table ({str(err).strip()[:200]}); "
                                      "check the file or export it again") from None
        raise InstrumentFileError(f"{path.name}: line {int(match.group(1)) + line_offset} has more fields than "
                                  "the column header; check the file or export it again") from None
    frame.index = pd.RangeIndex(line_offset + 2, line_offset + 2 + len(frame))
    frame = frame[~_empty_fields(frame).all(axis=1)]
    past_header = np.flatnonzero(frame.pop(len(header)).notna().to_numpy())
    if len(past_header):
        k = int(past_header[0])
        raise InstrumentFileError(f"{path.name}: data row {k + 1} has a value after the last column of the header "
                                  f"(line {frame.index[k]}); check the file or export it again")
    frame.columns = _unique(header)
    frame.attrs[REPEATED_COLUMNS] = _repeated_names(text, options)
    if options.get("decimal") == ",":
        _refuse_decimal_points(path, frame)
    return frame


REPEATED_COLUMNS = "repeated_columns"
"""The key of a table's ``attrs`` (from :func:`instrument_table`) holding each column name its
header gives more than once, with the positions (from 1) where it does: :func:`numeric_columns`
refuses to read such a column."""


def _repeated_names(text: str, options: dict[str, Any]) -> dict[str, list[int]]:
    """Each column name the header line of ``text`` gives more than once (stripped), with its
    positions from 1. pandas renames a second copy (``Cycle Index.1``), so without this a file of
    two cells' columns side by side reads as its first cell alone."""
    names = pd.read_csv(io.StringIO(text), header=None, nrows=1, dtype=str, keep_default_na=False,
                        **{k: v for k, v in options.items() if k == "sep"}).iloc[0]
    positions: dict[str, list[int]] = {}
    for k, name in enumerate(names, start=1):
        if str(name).strip():
            positions.setdefault(str(name).strip(), []).append(k)
    return {name: at for name, at in positions.items() if len(at) > 1}


def _unique(names: list[str]) -> list[str]:
    """``names`` with a name that stripping made equal to an earlier one renamed as pandas renames
    a repeated name (``Voltage(V).1``), so that each column is one column."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        seen.setdefault(name, 0)
        out.append(name)
    return out


def _empty_fields(frame: pd.DataFrame) -> pd.DataFrame:
    """True where a field is empty or blank."""
    empty = frame.isna()
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            empty[column] |= frame[column].astype(str).str.strip().eq("")
    return empty


def _refuse_decimal_points(path: Path, frame: pd.DataFrame) -> None:
    """Refuse a number written with a decimal point in a table read with decimal commas: in these
    locales ``1.500`` is one thousand five hundred, and pandas would read it as 1.5."""
    for column in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[column]):
            continue  # every field a number written with a comma (or none)
        text = frame[column].astype(str).str.strip()
        points = np.flatnonzero(text.str.fullmatch(POINT_NUMBER.pattern).to_numpy(dtype=bool))
        if len(points):
            k = int(points[0])
            raise InstrumentFileError(
                f"{path.name}: line {frame.index[k]}, column {column!r}: {text.iloc[k][:40]!r} is written with a "
                "decimal point, but the file writes decimal commas; doe does not guess which is meant: export "
                "the file again with one decimal separator")


def delimiter(header: str) -> str:
    """The delimiter of a comma-separated export from its column header line: a tab where the
    header holds one (Excel's "Unicode text" and "Text (tab delimited)"), ``;`` where it holds
    more ``;`` than commas (Excel's "CSV" in a locale with a decimal comma), else a comma."""
    if "\t" in header:
        return "\t"
    return ";" if header.count(";") > header.count(",") else ","


def delimited_table(path: Path, text: str) -> pd.DataFrame:
    """A comma-separated export (Neware, Arbin, an impedance CSV), or its tab- or ``;``-separated
    version (:func:`delimiter`), read by :func:`instrument_table`; a tab- or ``;``-separated one
    with a decimal comma where its first number with a fractional part has one
    (:func:`decimal_separator`: a German or French Excel's save)."""
    # the first line end, LF, CRLF or CR alone (Excel for Mac's CSV): split on LF alone, a CR-only
    # file was all header, no row showed its decimal comma, and its first number was refused
    end = re.search(r"\r\n?|\n", text)
    header, rows = (text, "") if end is None else (text[:end.start()], text[end.end():])
    sep = delimiter(header)
    decimal = "." if sep == "," else decimal_separator(rows, sep)  # its first fractional number, however far down
    return instrument_table(path, text, sep=sep, decimal=decimal)


def refuse_repeated_columns(frame: pd.DataFrame, name: Path, columns: Collection[str]) -> None:
    """Refuse a column of ``columns`` (that a reader reads, as numbers or as text) that the header
    of ``frame`` (from :func:`instrument_table`) names more than once, naming its positions:
    pandas renames a second copy (``Step Type.1``), so the first copy alone would be read."""
    repeated = {c: at for c, at in frame.attrs.get(REPEATED_COLUMNS, {}).items() if c in columns}
    if repeated:
        column, at = next(iter(repeated.items()))
        times = "twice" if len(at) == 2 else f"{len(at)} times"
        raise InstrumentFileError(
            f"{name.name}: the column header names {column!r} {times} (columns {', '.join(map(str, at[:-1]))} and "
            f"{at[-1]}): two cells' or two exports' columns side by side, or a column pasted twice? doe does not "
            "guess which copy to read: export each cell as its own file with each column once")


def text_column(frame: pd.DataFrame, name: Path, column: str) -> pd.Series:
    """``frame``'s ``column`` as stripped text (a state or step type: ``C``, ``CC DChg``), refusing
    a column the header names twice (:func:`refuse_repeated_columns`) or one it lacks."""
    refuse_repeated_columns(frame, name, [column])
    if column not in frame.columns:
        raise InstrumentFileError(f"{name.name}: missing column(s) {[column]}; found {list(frame.columns)[:12]}")
    return frame[column].astype(str).str.strip()


def numeric_columns(frame: pd.DataFrame, name: Path, columns: dict[str, str], *,
                    non_negative: Collection[str] = ()) -> pd.DataFrame:
    """``frame``'s ``columns`` (old name -> new name) as numbers; a missing column, an empty
    field or one that is not a finite number, a negative number in a column of ``non_negative``
    (old names: a capacity), each naming its line and column, or a column renamed ``cycle`` with
    a number that is not a whole number from 0 to :data:`MAX_CYCLE`, a first one past
    :data:`FIRST_CYCLE_NUMBER` (a part of a test) or one that goes down, raises
    :class:`InstrumentFileError` naming the file. ``frame`` comes from :func:`instrument_table`
    (indexed by line)."""
    refuse_repeated_columns(frame, name, columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InstrumentFileError(f"{name.name}: missing column(s) {missing}; found {list(frame.columns)[:12]}")
    out = pd.DataFrame({new: pd.to_numeric(frame[old], errors="coerce") for old, new in columns.items()})
    # 'inf', 'Infinity' and 1e400 (past a float's range) read as infinity: no measurement is infinite
    bad = np.flatnonzero((~np.isfinite(out.to_numpy(dtype=float))).any(axis=1))
    if len(bad):
        k = int(bad[0])
        column = next(old for old, new in columns.items() if not np.isfinite(out[new].iloc[k]))
        raise InstrumentFileError(f"{name.name}: line {frame.index[k]}, column {column!r}"
                                  f"{_what_is_wrong(frame[column].iloc[k])}")
    for column in (c for c in columns if c in non_negative):
        negative = np.flatnonzero(out[columns[column]].to_numpy(dtype=float) < 0)
        if len(negative):
            k = int(negative[0])
            in_cycle = f" (cycle {out['cycle'].iloc[k]:g})" if "cycle" in out.columns else ""
            raise InstrumentFileError(
                f"{name.name}: line {frame.index[k]}{in_cycle}, column {column!r}: {out[columns[column]].iloc[k]:g} "
                "is negative; a charge or discharge capacity counts up from 0 in the exports doe reads, so this is a sign "
                "convention (a discharge written as negative) or a broken file; doe does not guess which: export the "
                "test again with the instrument's own capacity columns")
    if "cycle" in out.columns:
        cycle = out["cycle"].to_numpy(dtype=float)
        odd = np.flatnonzero((cycle != np.round(cycle)) | (cycle < 0) | (cycle > MAX_CYCLE))
        if len(odd):
            k = int(odd[0])
            column = next(old for old, new in columns.items() if new == "cycle")
            raise InstrumentFileError(f"{name.name}: line {frame.index[k]}, column {column!r}: {cycle[k]:g} is not a "
                                      f"cycle number (a whole number from 0 to {MAX_CYCLE:,}); check the file or "
                                      "export it again")
        if len(cycle) and cycle[0] > FIRST_CYCLE_NUMBER:
            column = next(old for old, new in columns.items() if new == "cycle")
            raise InstrumentFileError(
                f"{name.name}: line {frame.index[0]}, column {column!r}: the file starts at cycle {cycle[0]:g}, but a "
                f"cycler counts a test's cycles from 0 or 1: this is a part of a test (a resumed test's later file, "
                "an export of a range of cycles?), and its first cycle is not the cell's first cycle; doe does not "
                "guess which cycle of the cell it starts at: export the test from its start as one file")
        back = np.flatnonzero(np.diff(cycle) < 0)
        if len(back):
            k = int(back[0]) + 1
            raise InstrumentFileError(
                f"{name.name}: the cycle number goes back from {cycle[k - 1]:g} to {cycle[k]:g} in data row {k + 1} "
                f"(line {out.index[k]}; two exports in one file, or a resumed test that restarted its count?); doe "
                "does not guess how to renumber it: export the test as one file with rising cycle numbers")
    return out


def _what_is_wrong(value: object) -> str:
    """The end of the message for a field that is not a finite number."""
    # a value pandas read as a number here is NaN (an empty field) or infinite
    text = value.strip() if isinstance(value, str) else "" if pd.isna(value) else str(value)  # type: ignore[call-overload]
    if not text:
        return (" is empty (a truncated file?); a row is skipped only where all its fields are empty: "
                "fill in the value or delete the row, or export the file again")
    if pd.notna(pd.to_numeric(text, errors="coerce")):  # 'inf', 'Infinity', '1e400'
        return (f": {text[:40]!r} is infinite or too large to be a number, not a measurement; check the file or "
                "export it again")
    if COMMA_NUMBER.fullmatch(text):
        return (f": {text[:40]!r} is written with a decimal comma, but the file writes decimal points; doe "
                "does not guess which is meant: export the file again with one decimal separator")
    return f": {text[:40]!r} is not a number; check the file or export it again"


__all__ = [
    "COMMA_NUMBER",
    "FIRST_CYCLE_NUMBER",
    "MAX_CYCLE",
    "MAX_FILE_BYTES",
    "POINT_NUMBER",
    "REPEATED_COLUMNS",
    "Decimal",
    "InstrumentFileError",
    "check_size",
    "decimal_separator",
    "delimited_table",
    "delimiter",
    "instrument_table",
    "numeric_columns",
    "read_text",
    "refuse_repeated_columns",
    "text_column",
]
