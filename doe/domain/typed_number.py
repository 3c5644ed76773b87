"""A number a person typed (a grid's cell, a command's option), read as doe reads a file's
cell, or why it is not one: a decimal point and an exponent, or a decimal comma where it
cannot be a thousands separator; nothing guessed."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from doe.domain.table import parse_number

NOT_A_NUMBER = ("not a number: write it like 85.5, 85,5 or 1.2e3 (no thousands separator); leave the cell empty "
                "if there is no value")
THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2},\d{3}")
"""A number with one comma that may be a thousands separator (``1,250``: 1250 or 1.25?)."""


def is_empty_entry(value: Any) -> bool:
    """Nothing typed: ``None``, ``pd.NA``, ``pd.NaT``, a NaN or text of spaces only."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def read_number(value: Any) -> tuple[float, str | None]:
    """The number a person typed into a grid cell, or why it is not one.

    Read as doe reads a file's cell (:func:`doe.domain.table.parse_number`): a decimal point
    and an exponent (``1.2e3``), or a decimal comma where it cannot be a thousands separator
    (``12,5``, ``0,830``); ``1,250`` (1250 or 1.25?), several commas, a comma with a dot, and
    anything that is not a finite number are refused, never guessed.

    Returns:
        ``(number, None)``; ``(nan, None)`` for an empty cell; ``(nan, why)`` for text that
        is not read as a number (``why`` says how to write it).
    """
    if is_empty_entry(value):
        return math.nan, None
    if isinstance(value, bool | np.bool_):
        return math.nan, NOT_A_NUMBER
    if isinstance(value, int | float | np.integer | np.floating):
        given = float(value)
        return (given, None) if math.isfinite(given) else (math.nan, "not a finite number; leave the cell empty if "
                                                                     "there is no value")
    text = str(value).strip()
    if "," in text:
        if "." in text or text.count(",") > 1:
            return math.nan, ("a number with thousands separators, or with both a comma and a dot: write it without "
                              "thousands separators, with one decimal point or comma (1250.5 or 1250,5)")
        if THOUSANDS.fullmatch(text):
            return math.nan, (f"may mean {text.replace(',', '')} (a thousands separator) or "
                              f"{text.replace(',', '.')} (a decimal comma); write it without the thousands separator "
                              f"({text.replace(',', '')}), or with a decimal point ({text.replace(',', '.')})")
        text = text.replace(",", ".")
    number = parse_number(text)
    if number is None:
        return math.nan, NOT_A_NUMBER
    if not math.isfinite(number):
        return math.nan, "not a finite number; leave the cell empty if there is no value"
    return number, None


__all__ = ["NOT_A_NUMBER", "THOUSANDS", "is_empty_entry", "read_number"]
