"""Validation of experiment tables at the boundary.

A table has an optional ``experiment_id`` column, parameter columns, outcome columns (NaN
means "not measured"), and optionally ``replicate`` (the cell's label, see
:mod:`doe.domain.replicates`), ``failed`` (true/false), ``failure_reason`` and ``note``. :func:`validate_experiments` checks every cell and raises one
:class:`~doe.errors.DataError` that lists every bad cell; nothing is accepted until the
whole table is valid. It returns a clean copy with proper types.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.curves import CYCLE_COLUMN, clean_cycles, cycle_row_problems
from doe.domain.objectives import valid_range_text
from doe.domain.parameters import CategoricalParameter, ContinuousParameter, DiscreteParameter
from doe.domain.records import MAX_REPLICATE
from doe.domain.replicates import REPLICATE_COLUMN
from doe.domain.values import (
    NOT_UNICODE,
    is_plain_label,
    is_real_number,
    is_stored_printable,
    is_unicode_text,
    label_key,
    refused_character,
)
from doe.errors import CellProblem, DataError, shorten

ID_COLUMN = "experiment_id"
META_COLUMNS = ("failed", "failure_reason", "note", "measured_at", "operator", "sample_id")
"""Columns about a row's measurements: a failed run and why, a note, when it was measured
(a date or date and time; UTC if no zone is given), who measured it and the sample or cell id."""
CONTEXT_LENGTHS = {"operator": 200, "sample_id": 64}
EVIDENCE_COLUMN = "evidence_files"
"""History column: the raw files (name and SHA-256 prefix) behind an experiment's current values."""
EXPORT_ONLY_COLUMNS = ("status", "batch_id", "config_version", "source", "proposed_by", "proposed_at",
                       EVIDENCE_COLUMN, "ranking_note", "failure_note", "failure_operator", "failure_sample_id",
                       "failure_measured_at")
"""Bookkeeping columns of an exported history: ignored when the file is imported again."""
_TRUE = {"true", "yes", "y", "1", "failed", "x"}
_FALSE = {"false", "no", "n", "0", ""}
MAX_ROWS = 100_000
MAX_TEXT = 2_000
_BOUND_TOL = 1e-9
_WHOLE_NUMBER = re.compile(r"([0-9]+)\.0+")
_DECIMAL_TEXT = re.compile(r"[0-9]+\.?[0-9]*|\.[0-9]+")
"""A label a spreadsheet reads as a number and writes back in its own way (``1.10`` as ``1.1``)."""
_DAY_FIRST = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
"""A date written day first with dots (``04.03.2026 14:30``, as a German Excel writes it)."""
_YEAR_FIRST = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})((?:[ T].*)?)")
_CONTROL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {chr(127)}


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and value.strip() == "":
        return True
    return bool(value is pd.NA or value is pd.NaT)


def parse_number(text: str) -> float | None:
    """The number written in ``text``, or ``None``.

    Like ``float()`` but without its Python-source extras: ``"3_50"`` is not 350 (a typo
    in a lab sheet must not become a plausible value).
    """
    text = text.strip()
    if "_" in text or not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _cells(column: pd.Series) -> list[Any]:
    """A column's cells; single-precision numbers as the number they show (85.3, not 85.30000305)."""
    if column.dtype in (np.float32, np.float16):
        return [float(str(v)) for v in column.to_numpy()]  # (str(nan) is 'nan': NaN again)
    return column.tolist()


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, np.float32 | np.float16):  # the number it shows (85.3), not its binary 85.30000305
        return float(str(value))
    if isinstance(value, int | float | np.integer | np.floating):
        try:
            return float(value)
        except OverflowError:  # an integer beyond any float: not a finite number
            return math.inf
    if isinstance(value, str):
        return parse_number(value)
    if isinstance(value, Decimal | Fraction):  # a database driver's NUMERIC column, exact: the number it is
        try:
            return float(value)
        except (ValueError, OverflowError):  # a signalling NaN; a fraction beyond any float
            return math.nan if isinstance(value, Decimal) else math.copysign(math.inf, value)
    return None


def clean_label(value: Any) -> str:
    """An id or label as stored: the text stripped and in Unicode's composed form (NFC), so
    'Müller' typed on two keyboards is one name; a whole float (a spreadsheet's ``3.0``) is
    ``"3"``. Whether it is allowed is :func:`is_plain_label`'s to say."""
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()
    return unicodedata.normalize("NFC", text)


def replicate_label(value: Any) -> str:
    """A replicate label as stored: :func:`clean_label`, and a whole number written with a
    decimal point (the text ``"1.0"`` of a CSV that pandas wrote from a float column) without
    it, so it is the cell ``"1"`` a spreadsheet's ``1.0`` gives (text only: a long serial
    number stays exact)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    text = clean_label(value)
    return found.group(1) if (found := _WHOLE_NUMBER.fullmatch(text)) else text


def replicate_key(label: str) -> str:
    """What two replicate labels of one experiment must not share unless they are the same:
    :func:`~doe.domain.values.label_key`, and a label written as a decimal number (digits with
    at most one decimal point) as a spreadsheet writes that number back: without leading zeros
    or trailing decimal zeros (``'01'`` is ``'1'``, ``'1.10'`` is ``'1.1'``, ``'.5'`` is
    ``'0.5'``: a spreadsheet rewrites them so when it opens and saves a cells file). The
    digits are kept as text, so a long serial number is never rounded."""
    key = label_key(label)
    if not (key.isascii() and _DECIMAL_TEXT.fullmatch(key)):
        return key
    whole, _, fraction = key.partition(".")
    whole, fraction = whole.lstrip("0") or "0", fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def id_key(experiment_id: str) -> str:
    """What two experiment ids must not share unless they are the same: :func:`replicate_key`
    of :func:`replicate_label` (``'001'``, ``'1'`` and the text ``'1.0'`` are one key, and so
    are ``'1.10'`` and ``'1.1'``: a spreadsheet drops leading and trailing decimal zeros and a
    float column adds the decimal point)."""
    return replicate_key(replicate_label(experiment_id))


def allowed_columns(config: CampaignConfig) -> list[str]:
    cycle = [CYCLE_COLUMN] if config.curve_outcomes else []
    return [ID_COLUMN, REPLICATE_COLUMN, *cycle, *config.parameter_names, *config.outcome_names, *META_COLUMNS]


def _replicate_labels(values: list[Any], problems: list[CellProblem]) -> list[str | None]:
    """The cleaned replicate labels (None = unlabelled); bad ones become problems."""
    labels: list[str | None] = []
    for row, value in enumerate(values):
        if _is_missing(value):
            labels.append(None)
            continue
        text = "" if isinstance(value, bool | np.bool_) else replicate_label(value)
        # a stored cell's label as it was stored; a new one must also be plain (match_stored_labels)
        if not text or len(text) > MAX_REPLICATE or not is_stored_printable(text):
            bad = refused_character(text, stored=True) if text and len(text) <= MAX_REPLICATE else None
            problems.append(CellProblem(row, REPLICATE_COLUMN, value,
                                        f"a replicate label is 1 to {MAX_REPLICATE} printable characters "
                                        "(e.g. A, B or 1, 2); leave it empty for an experiment measured once"
                                        + (f"; it holds {bad}" if bad else "")))
        labels.append(text)
    return labels


def validate_experiments(
    table: pd.DataFrame,
    config: CampaignConfig,
    *,
    parameters: Literal["required", "optional"] = "required",
    outcomes_allowed: bool = True,
    ignore_columns: tuple[str, ...] = (),
    outcome: str = "nothing was recorded",
) -> pd.DataFrame:
    """Check every cell of ``table`` against ``config``; return a clean, typed copy.

    Args:
        table: the experiments, one row each.
        config: the campaign they belong to.
        parameters: ``"required"``: every parameter column present and filled in every row;
            ``"optional"``: parameter columns and cells may be missing (rows that refer to an
            existing ``experiment_id``), but a value given must be valid.
        outcomes_allowed: ``False`` for a table of recipes only (candidates, fixed values).
        ignore_columns: extra columns to drop silently (e.g. predictions in a run sheet).
        outcome: what the caller did instead, said after the count of problems (a prediction
            records nothing: ``"nothing was predicted"``).

    Raises:
        DataError: listing every bad cell (row, column, value, what is allowed).
    """
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame of experiments, got {type(table).__name__}")
    problems: list[CellProblem] = []
    if len(table) > MAX_ROWS:
        raise DataError(f"the table has {len(table)} rows; at most {MAX_ROWS} can be taken at once")
    columns = [str(c) for c in table.columns]
    if len(set(columns)) != len(columns):
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        raise DataError("the table has repeated column names; keep one column of each name",
                        [CellProblem(None, c, c, "the column appears more than once") for c in dupes])
    table = table.copy()
    table.columns = columns
    table = table.drop(columns=[c for c in ignore_columns if c in table.columns])
    table = table.reset_index(drop=True)
    allowed = allowed_columns(config) if outcomes_allowed else [ID_COLUMN, *config.parameter_names]
    for c in table.columns:
        if c not in allowed:
            hint = ""
            lower = {a.lower(): a for a in allowed}
            if c.strip().lower() in lower:
                hint = f"; did you mean {lower[c.strip().lower()]!r}?"
            problems.append(CellProblem(None, c, c, f"unknown column{hint}; allowed columns: {shorten(', '.join(allowed), 2000)}"))
    if parameters == "required":
        for name in config.parameter_names:
            if name not in table.columns:
                problems.append(CellProblem(None, name, None, "the parameter column is missing"))

    out = pd.DataFrame(index=table.index)
    replicates: list[str | None] = [None] * len(table)
    if REPLICATE_COLUMN in table.columns and outcomes_allowed:
        replicates = _replicate_labels(table[REPLICATE_COLUMN].tolist(), problems)
        if ID_COLUMN not in table.columns:
            problems.append(CellProblem(None, ID_COLUMN, None,
                                        "a table with a replicate column needs experiment_id to group the cells "
                                        "of one experiment"))
    cycles: list[int | None] = [None] * len(table)
    if CYCLE_COLUMN in table.columns and outcomes_allowed and config.curve_outcomes:
        cycles = clean_cycles(table[CYCLE_COLUMN].tolist(), problems)
    repeats: list[tuple[int, list[int]]] = []  # (row, the earlier rows of the same cell)
    if ID_COLUMN in table.columns:
        ids: list[str | None] = []
        for row, value in enumerate(table[ID_COLUMN].tolist()):
            if _is_missing(value):
                ids.append(None)
                continue
            text = clean_label(value)  # a stored id as it was stored; a new one must be plain (plan_record)
            if len(text) > 64 or not is_stored_printable(text):
                problems.append(CellProblem(row, ID_COLUMN, value, f"an experiment id is at most 64 characters (got "
                                            f"{len(text)})" if len(text) > 64 else "an experiment id is one line: it "
                                            f"holds {refused_character(text, stored=True)}"))
            ids.append(text)
        seen: dict[tuple[str, str | None, int | None], list[int]] = {}
        for row, maybe_id in enumerate(ids):
            if maybe_id is None:
                if replicates[row] is not None:
                    problems.append(CellProblem(row, ID_COLUMN, None,
                                                "a replicate cell needs the experiment_id of its experiment"))
                continue
            key = (maybe_id, replicates[row], cycles[row])
            if key in seen:
                repeats.append((row, list(seen[key])))
            seen.setdefault(key, []).append(row)
        out[ID_COLUMN] = pd.Series(ids, index=table.index, dtype=object)
    if REPLICATE_COLUMN in table.columns and outcomes_allowed:
        out[REPLICATE_COLUMN] = pd.Series(replicates, index=table.index, dtype=object)
    if CYCLE_COLUMN in table.columns and outcomes_allowed and config.curve_outcomes:
        out[CYCLE_COLUMN] = pd.Series(cycles, index=table.index, dtype=object)

    for param in config.parameters:
        if param.name not in table.columns:
            continue
        cleaned: list[Any] = []
        for row, value in enumerate(_cells(table[param.name])):
            if _is_missing(value):
                if parameters == "required":
                    problems.append(CellProblem(row, param.name, value, f"missing; expected {param.describe_allowed()}"))
                cleaned.append(None)
                continue
            if isinstance(param, CategoricalParameter):
                label = value.strip() if isinstance(value, str) else value
                if label not in param.values and isinstance(label, str):
                    # a label with spaces around it ('O2 ') is its stripped cell, and one typed with
                    # decomposed accents is its composed form (as a stored campaign's label may be)
                    label = next((v for v in param.values if v.strip() == label), None) or next(
                        (v for v in param.values if unicodedata.normalize("NFC", v.strip())
                         == unicodedata.normalize("NFC", label)), label)
                if label not in param.values:
                    problems.append(CellProblem(row, param.name, value, f"unknown category; expected {param.describe_allowed()}"))
                cleaned.append(label)
                continue
            number = _as_number(value)
            if number is None:
                problems.append(CellProblem(row, param.name, value, f"not a number; expected {param.describe_allowed()}"))
                cleaned.append(None)
                continue
            if not math.isfinite(number):
                problems.append(CellProblem(row, param.name, value, f"not a finite number; expected {param.describe_allowed()}"))
                cleaned.append(None)
                continue
            if isinstance(param, ContinuousParameter):
                span = param.upper - param.lower
                if number < param.lower - _BOUND_TOL * span or number > param.upper + _BOUND_TOL * span:
                    problems.append(CellProblem(row, param.name, value, f"out of bounds; expected {param.describe_allowed()}"))
                cleaned.append(min(max(number, param.lower), param.upper) + 0.0)  # -0.0 is 0: shown '0', not '-0.0'
            elif isinstance(param, DiscreteParameter):
                match = param.matching_value(number)
                if match is None:
                    problems.append(CellProblem(row, param.name, value, f"not an allowed value; expected {param.describe_allowed()}"))
                cleaned.append(match)
        dtype = object if isinstance(param, CategoricalParameter) else float
        out[param.name] = pd.Series(cleaned, index=table.index, dtype=dtype)

    if outcomes_allowed:
        for name in config.outcome_names:
            if name not in table.columns:
                continue
            numbers: list[float] = []
            valid = config.valid_range_of(name)
            for row, value in enumerate(_cells(table[name])):
                if _is_missing(value):
                    numbers.append(math.nan)
                    continue
                number = _as_number(value)
                if number is None:
                    problems.append(CellProblem(row, name, value, "not a number; leave the cell empty if not measured"))
                    numbers.append(math.nan)
                elif not math.isfinite(number):
                    problems.append(CellProblem(row, name, value, "not a finite number; leave the cell empty if not measured"))
                    numbers.append(math.nan)
                elif valid is not None and not ((valid[0] is None or number >= valid[0])
                                                and (valid[1] is None or number <= valid[1])):
                    unit = f" {config.unit_of(name)}" if config.unit_of(name) else ""
                    problems.append(CellProblem(row, name, value, f"outside the values {name} can take "
                                                f"({valid_range_text(valid)}{unit}: the campaign's valid_range); "
                                                "check the value, e.g. for a slipped decimal point"))
                    numbers.append(math.nan)
                else:
                    numbers.append(number)
            out[name] = pd.Series(numbers, index=table.index, dtype=float)
        if "failed" in table.columns:
            flags = []
            for row, value in enumerate(table["failed"].tolist()):
                if (flag := failed_flag(value)) is None:
                    problems.append(CellProblem(row, "failed", value, "expected true or false (yes/no, 1/0)"))
                flags.append(bool(flag))
            out["failed"] = pd.Series(flags, index=table.index, dtype=bool)
        for text_col in ("failure_reason", "note"):
            if text_col in table.columns:
                texts: list[str | None] = []
                for row, value in enumerate(table[text_col].tolist()):
                    if _is_missing(value):
                        texts.append(None)
                        continue
                    text = note_text(value)
                    if len(text) > MAX_TEXT:
                        problems.append(CellProblem(row, text_col, text[:40] + "...", f"longer than {MAX_TEXT} characters"))
                    elif not is_unicode_text(text):
                        problems.append(CellProblem(row, text_col, text[:40], NOT_UNICODE))
                    elif not _CONTROL.isdisjoint(text):
                        problems.append(CellProblem(row, text_col, text[:40].encode("unicode_escape").decode("ascii"),
                                                    "holds a control character (such as NUL); only tabs and line "
                                                    "breaks may be in a text"))
                    texts.append(text)
                out[text_col] = pd.Series(texts, index=table.index, dtype=object)
        _context_columns(table, out, problems)
        problems.extend(_failed_with_values(out, config))
        if not problems:
            problems.extend(cycle_row_problems(out, config))
    if ID_COLUMN in out.columns:
        problems.extend(_repeated_cells(out, repeats, config))

    if problems:
        raise DataError(f"the table has {len(problems)} problem(s); {outcome}", problems)
    return out


def failed_flag(value: Any) -> bool | None:
    """A ``failed`` cell read as validation reads it: empty is False; true/false, yes/no, 1/0
    (any case) are themselves; None for anything else (refused by validation)."""
    if _is_missing(value):
        return False
    if isinstance(value, bool | np.bool_) or (is_real_number(value) and value in (0, 1)):
        return bool(value)
    text = str(value).strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


EARLIEST_MEASUREMENT = datetime(1970, 1, 1, tzinfo=UTC)
"""Measurement times before this (a year typed 0001) are refused, as are times more than a day ahead."""


def _context_columns(table: pd.DataFrame, out: pd.DataFrame, problems: list[CellProblem]) -> None:
    """``measured_at`` as UTC times, ``operator`` and ``sample_id`` as short printable text."""
    if "measured_at" in table.columns:
        times: list[Any] = []
        for row, value in enumerate(table["measured_at"].tolist()):
            stamp = None if _is_missing(value) else measured_time(value)
            if stamp is None and not _is_missing(value):
                problems.append(CellProblem(row, "measured_at", value,
                                            "not a date: write it as 2026-12-04 or 2026-12-04 14:30 (ISO 8601, "
                                            "optionally with a zone such as +01:00) or day first with dots, "
                                            "04.12.2026 14:30"))
            elif stamp is not None and not EARLIEST_MEASUREMENT <= stamp <= datetime.now(UTC) + timedelta(days=1):
                problems.append(CellProblem(row, "measured_at", value, (
                    "a date in the future: a measurement has been made" if stamp > EARLIEST_MEASUREMENT else
                    f"before {EARLIEST_MEASUREMENT.year}: no cycler file is that old") + "; check the year"))
                stamp = None
            times.append(stamp)
        out["measured_at"] = pd.Series(times, index=table.index, dtype=object)
    for column, limit in CONTEXT_LENGTHS.items():
        if column not in table.columns:
            continue
        texts: list[str | None] = []
        for row, value in enumerate(table[column].tolist()):
            text = None if _is_missing(value) else clean_label(value) or None
            if text is not None and (len(text) > limit or not is_plain_label(text)):
                problems.append(CellProblem(row, column, text[:40], f"at most {limit} characters (got {len(text)})"
                                            if len(text) > limit else "printable text on one line, without control or "
                                            f"invisible characters: it holds {refused_character(text)}"))
                text = None
            texts.append(text)
        out[column] = pd.Series(texts, index=table.index, dtype=object)


def note_text(value: Any) -> str:
    """A note or failure reason as stored: line breaks as ``\n`` (a workbook keeps no ``\r``)
    and no spaces or line breaks around it (a file's reader strips a cell), so the text reads
    back the same from the API, a CSV and a workbook."""
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def checked_reason(value: Any, field: str, *, required: bool = True) -> str | None:
    """A failure reason given on its own (:meth:`doe.Campaign.fail`) as a table's is stored
    (:func:`note_text`), or a :class:`DataError` naming ``field``: missing when ``required``,
    longer than :data:`MAX_TEXT`, or holding a control character."""
    if _is_missing(value) or not isinstance(value, str):
        if required or not _is_missing(value):
            raise DataError(f"{field}: say why the run failed (e.g. 'dispersion gelled')")
        return None
    text = note_text(value)
    if len(text) > MAX_TEXT or not is_unicode_text(text) or not _CONTROL.isdisjoint(text):
        raise DataError(f"{field}: at most {MAX_TEXT} characters of text, without control characters (such as NUL)")
    return text


def measured_time(value: Any) -> datetime | None:
    """``value`` as an aware UTC time (UTC where it names no zone), or ``None`` when it is not
    one written plainly: a date or time object, ISO 8601 text (``2026-12-04``,
    ``2026-12-04 14:30``, ``2026-12-04T14:30:00+01:00``, ``20261204``; ``UTC`` after it), a date
    year first with ``-`` or ``/`` (``2026/12/4``), or day first with dots
    (``04.12.2026 14:30``). Other text is refused rather than guessed: pandas read
    ``04.03.2026`` as 3 April but ``13.03.2026`` as 13 March, ``03/04/2026`` as 4 March, and
    ``now``, ``12:00`` or ``2026`` as times."""
    if isinstance(value, datetime):  # pandas' Timestamp too
        stamp = value
    elif isinstance(value, date):
        stamp = datetime(value.year, value.month, value.day)
    elif isinstance(value, np.datetime64):
        stamp = pd.Timestamp(value).to_pydatetime()
    elif isinstance(value, str):
        text = value.strip()
        try:
            text = text[:-4] + "+00:00" if text.endswith(" UTC") else text
            if found := _DAY_FIRST.fullmatch(text):
                day, month, year, hour, minute, second = (int(g) if g else 0 for g in found.groups())
                stamp = datetime(year, month, day, hour, minute, second)
            elif found := _YEAR_FIRST.fullmatch(text):  # 2026-3-4, 2026/03/04 (a Japanese Excel's): ISO once padded
                stamp = datetime.fromisoformat(f"{found[1]}-{int(found[3]):02d}-{int(found[4]):02d}{found[5]}")
            elif re.fullmatch(r"\d{8}(T\d{4}(\d{2})?)?", text):  # ISO 8601's basic form, 20260304
                stamp = datetime.fromisoformat(text)
            else:
                return None
        except ValueError:
            return None
    else:
        return None
    if isinstance(stamp, pd.Timestamp):
        stamp = stamp.to_pydatetime()
    try:
        return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
    except OverflowError:  # 9999-12-31 23:59-01:00 is past the last UTC time: its clock time, refused as too late
        return stamp.replace(tzinfo=UTC)


def _repeated_cells(clean: pd.DataFrame, repeats: list[tuple[int, list[int]]],
                    config: CampaignConfig) -> list[CellProblem]:
    """Rows that name a cell (experiment id, replicate label and cycle) earlier rows name.

    Rows may add different outcomes to one cell (its first-cycle values and, recorded later
    with another note or date, its retention): each gives values, none that any earlier row
    of the cell gives, and none is marked failed; beside them, one row without a replicate
    label, cycle or value marked failed fails the whole experiment (it keeps those values, as
    it keeps labelled cells: :func:`doe.domain.planning.plan_record`). Any other repeat is a
    problem of the later row. (Its message names no position of the earlier row: a table read from a file names its
    rows by the file's numbers, which the message text cannot follow.)
    """
    outcomes = [o for o in config.outcome_names if o in clean.columns]
    flags = clean["failed"] if "failed" in clean.columns else pd.Series(False, index=clean.index)
    if "failure_reason" in clean.columns:
        flags = flags | clean["failure_reason"].notna()

    def given(row: int) -> set[str]:
        return {o for o in outcomes if not math.isnan(clean[o].iloc[row])}

    problems = []
    for row, earlier in repeats:
        exp_id, label = clean[ID_COLUMN].iloc[row], clean[REPLICATE_COLUMN].iloc[row] if REPLICATE_COLUMN in clean else None
        cycle = clean[CYCLE_COLUMN].iloc[row] if CYCLE_COLUMN in clean else None
        whole = [r for r in (row, *earlier) if label is None and cycle is None and flags.iloc[r] and not given(r)]
        cells = [r for r in earlier if r not in whole]
        if len(whole) == 1 and not flags.iloc[[r for r in (row, *earlier) if r not in whole]].any() and (
                row in whole or not cells or not given(row) & set().union(*(given(e) for e in cells))):
            continue  # a row failing the whole experiment beside the values of its one cell
        mine, theirs = given(row), set().union(*(given(e) for e in earlier))
        if mine and theirs and not mine & theirs and not flags.iloc[[row, *earlier]].any():
            continue
        cell = f" and replicate {label!r}" if label is not None else ""
        cell += f" and cycle {cycle}" if cycle is not None else ""
        problems.append(CellProblem(row, ID_COLUMN, exp_id,
                                    f"experiment id{cell} is in an earlier row too; give each cell of an experiment "
                                    "its own replicate label (two rows of one cell may only give different outcomes)"))
    return problems


def _failed_with_values(clean: pd.DataFrame, config: CampaignConfig) -> list[CellProblem]:
    """A run marked failed (``failed`` true or a ``failure_reason``) must not carry measured values."""
    flags = clean["failed"] if "failed" in clean.columns else pd.Series(False, index=clean.index)
    if "failure_reason" in clean.columns:
        flags = flags | clean["failure_reason"].notna()
    outcomes = [o for o in config.outcome_names if o in clean.columns]
    problems = []
    for row in np.flatnonzero(flags.to_numpy(dtype=bool)):
        given = [o for o in outcomes if not math.isnan(clean[o].iloc[row])]
        if given:
            problems.append(CellProblem(
                int(row), ",".join(given), {o: float(clean[o].iloc[row]) for o in given},
                "the run is marked failed (failed or failure_reason) but has measured values; "
                "clear the values or unmark the failure"))
    return problems


def check_in_space(recipes: pd.DataFrame, config: CampaignConfig, tol: float = 1e-6) -> list[CellProblem]:
    """Problems of recipes against the linear constraints (bounds and labels are checked by validation)."""
    problems = []
    for con in config.linear_constraints:
        records: list[dict[str, float]] = recipes[list(con.coefficients)].to_dict("records")  # type: ignore[assignment]
        for row, values in enumerate(records):
            if not con.satisfied(values, tol):
                problems.append(CellProblem(row, ",".join(con.coefficients), values, f"violates constraint {con.text()}"))
    return problems
