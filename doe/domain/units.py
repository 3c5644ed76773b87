"""Units in table headers: ``anneal_temperature_c [C]`` split into name and unit, the
spellings of one unit mapped to one (``degC`` -> ``C``), and the few conversions that are
unambiguous (K <-> C, s/min/h, fraction <-> %).

Pure Python: :func:`doe.io.read_table` uses it to match a file's columns to a campaign's.
"""

from __future__ import annotations

import re
from collections.abc import Callable

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
CONVERSIONS: dict[tuple[str, str], Callable[[float], float]] = {
    ("K", "C"): lambda x: x - 273.15,
    ("C", "K"): lambda x: x + 273.15,
    ("min", "h"): lambda x: x / 60.0,
    ("h", "min"): lambda x: x * 60.0,
    ("s", "min"): lambda x: x / 60.0,
    ("min", "s"): lambda x: x * 60.0,
    ("s", "h"): lambda x: x / 3600.0,
    ("h", "s"): lambda x: x * 3600.0,
    ("fraction", "%"): lambda x: x * 100.0,
    ("%", "fraction"): lambda x: x / 100.0,
}
"""(from, to) canonical units -> the conversion of a value."""
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
