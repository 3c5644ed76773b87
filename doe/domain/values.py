"""Small judgements about single values shared across doe: missing, same, numeric kinds."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

REL_TOL = 1e-9
"""Two numbers closer than this (relative) are the same value (a parameter read back from a
spreadsheet, a measurement recorded again)."""
ABS_TOL = 1e-12
"""Two numbers closer than this (absolute) are the same value (values near zero)."""


def is_missing(value: Any) -> bool:
    """``None`` or a float NaN: a cell left empty."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def same_value(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are the same value: text compared as text, numbers within
    :data:`REL_TOL` / :data:`ABS_TOL`."""
    if isinstance(a, str) or isinstance(b, str):
        return str(a) == str(b)
    x, y = float(a), float(b)
    return x == y or math.isclose(x, y, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def to_python(value: Any) -> Any:
    """``value`` with a numpy scalar unwrapped to the plain Python number or bool (JSON-ready)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def is_integer(value: Any) -> bool:
    """A whole number (Python or numpy integer), not a bool."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def is_real_number(value: Any) -> bool:
    """A real number (Python or numpy integer or float, NaN included), not a bool."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_)
