"""Units in table headers: ``anneal_temperature_c [C]`` split into name and unit, the
spellings of one unit mapped to one (``degC`` -> ``C``), and the few conversions that are
unambiguous (K <-> C, s/min/h, fraction <-> %), each exact on the decimal a value reads as and
rounded once (``0.07`` as a fraction is ``7.0`` %, not ``7.000000000000001``).

Pure Python: :func:`doe.io.read_table` uses it to match a file's columns to a campaign's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Literal

_UNIT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "C": ("c", "°c", "degc", "deg c", "deg. c", "celsius"),
    "K": ("k", "kelvin"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
    "min": ("min", "mins", "minute", "minutes"),
    "s": ("s", "sec", "secs", "second", "seconds"),
    "%": ("%", "pct", "percent"),
    "fraction": ("fraction", "frac", "fractional"),
    "wt%": ("wt%", "wt.%", "wt %", "wt. %", "wt_pct", "wt-%", "weight%", "weight %"),
    "mAh/g": ("mah/g", "mah g-1", "mah g^-1", "mah g⁻¹", "mah_per_g"),
    "ohm": ("ohm", "ohms", "ω"),
    "nm": ("nm",),
    "mg/mL": ("mg/ml", "mg ml-1", "mg ml^-1", "mg_per_ml"),
    "g/g": ("g/g", "g g-1"),
}
_CANONICAL = {alias: canon for canon, aliases in _UNIT_SYNONYMS.items() for alias in aliases}
_UNITLESS = {"", "-", "1", "none", "unitless"}
_Operation = Literal["add", "multiply", "divide"]


def _exact(operation: _Operation, operand: str) -> Callable[[float], float]:
    """A conversion by ``operation`` with ``operand`` (a decimal, as typed) applied exactly to the
    decimal a value reads as (its shortest ``repr``), then rounded once to the nearest float: 0.07
    x 100 is 7.0 and 600.45 - 273.15 is 327.3, not the 7.000000000000001 and 327.30000000000007
    of float arithmetic, which rounds the binary approximations of both numbers. A value that is
    not finite converts as a float does (NaN stays NaN), and a result beyond the largest float is
    infinite with its sign, as in float arithmetic (1e308 h in s: inf), which the table check
    then reports."""
    factor = Fraction(operand)

    def convert(x: float) -> float:
        if not math.isfinite(x):
            return {"add": x + float(factor), "multiply": x * float(factor), "divide": x / float(factor)}[operation]
        typed = Fraction(repr(float(x)))
        exact = typed + factor if operation == "add" else typed * factor if operation == "multiply" else typed / factor
        try:
            return float(exact)  # Fraction -> float rounds once, to the nearest float
        except OverflowError:  # past the largest float: Fraction raises where float arithmetic gives inf
            return math.inf if exact > 0 else -math.inf

    return convert


CONVERSIONS: dict[tuple[str, str], Callable[[float], float]] = {
    ("K", "C"): _exact("add", "-273.15"),
    ("C", "K"): _exact("add", "273.15"),
    ("min", "h"): _exact("divide", "60"),
    ("h", "min"): _exact("multiply", "60"),
    ("s", "min"): _exact("divide", "60"),
    ("min", "s"): _exact("multiply", "60"),
    ("s", "h"): _exact("divide", "3600"),
    ("h", "s"): _exact("multiply", "3600"),
    ("fraction", "%"): _exact("multiply", "100"),
    ("%", "fraction"): _exact("divide", "100"),
}
"""(from, to) canonical units -> the conversion of a value: exact on the decimal the value reads
as, rounded once to the nearest float (see :func:`_exact`)."""
_HEADER_UNIT = re.compile(
    r"^(?P<name>.*?\S)\s*(?:\[(?P<u1>[^\[\]]*)\]|\((?P<u2>[^()]*)\)|\s/\s*(?P<u3>.+?))\s*$"
)


def canonical_unit(unit: str | None) -> str | None:
    """The canonical spelling of ``unit`` (``'degC'`` -> ``'C'``), ``None`` for no unit."""
    if unit is None:
        return None
    text = unit.strip()
    if text.lower() in _UNITLESS:
        return None
    return _CANONICAL.get(text.lower(), _CANONICAL.get(text.lower().replace(" ", ""), text))


def split_header(header: str) -> tuple[str, str | None]:
    """``'anneal_temperature_c [C]'`` -> ``('anneal_temperature_c', 'C')``; no unit -> ``None``."""
    match = _HEADER_UNIT.match(header)
    if not match:
        return header.strip(), None
    unit = next(u for u in (match["u1"], match["u2"], match["u3"]) if u is not None)
    return match["name"].strip(), unit.strip()


def unit_slug(unit: str) -> str:
    """A unit as a name suffix: ``mAh/g`` -> ``mah_per_g``, ``%`` -> ``pct``."""
    text = unit.strip().lower().replace("%", "pct").replace("/", "_per_")
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")
