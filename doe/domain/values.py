"""Small judgements about single values shared across doe: missing, same, numeric kinds."""

from __future__ import annotations

import math
import unicodedata
from typing import Any

import numpy as np

from doe.errors import shorten

REL_TOL = 1e-9
"""Two numbers closer than this (relative) are the same value (a parameter read back from a
spreadsheet, a measurement recorded again)."""
ABS_TOL = 1e-12
"""Two numbers closer than this (absolute) are the same value (values near zero)."""


def is_missing(value: Any) -> bool:
    """``None`` or a float NaN: a cell left empty."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def composed(text: str) -> str:
    """``text`` in Unicode's composed form (NFC): 'café' typed on two keyboards is one text."""
    return unicodedata.normalize("NFC", text)


def same_text(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are one text once composed (:func:`composed`): a label an older
    doe stored decomposed ('cafe' + U+0301) is the composed 'café' a later version lists."""
    return composed(str(a)) == composed(str(b))


def same_value(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are the same value: text compared as text once composed
    (:func:`same_text`), numbers within :data:`REL_TOL` / :data:`ABS_TOL`."""
    if isinstance(a, str) or isinstance(b, str):
        return same_text(a, b)
    x, y = float(a), float(b)
    return x == y or math.isclose(x, y, rel_tol=REL_TOL, abs_tol=ABS_TOL)


MEASUREMENT_REL_TOL = 1e-12
"""Two measured values closer than this (relative, whatever their size) are the same value."""


def same_measurement(a: float, b: float) -> bool:
    """Whether a measured value recorded again is the stored one: equal to within
    :data:`MEASUREMENT_REL_TOL` (a workbook keeps 16 significant digits), with no absolute
    tolerance, so that a correction of a small quantity (1.0e-9 S/cm to 1.0005e-9, or 8e-13 to
    0) is a correction and not ignored as :func:`same_value` would."""
    return a == b or math.isclose(a, b, rel_tol=MEASUREMENT_REL_TOL, abs_tol=0.0)


def to_python(value: Any) -> Any:
    """``value`` with a numpy scalar unwrapped to the plain Python number or bool (JSON-ready)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def is_blank(value: Any) -> bool:
    """A cell with nothing in it: ``None``, a float NaN or text of spaces only."""
    if is_missing(value):
        return True
    return isinstance(value, str) and value.strip() == ""


NOT_UNICODE = "holds a character that is not Unicode text (a lone surrogate such as \\ud800)"
"""What every error about text that :func:`is_unicode_text` refuses says of it."""


def is_unicode_text(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8: no lone surrogate (U+D800 to U+DFFF), which
    JSON's ``"\\ud800"`` escape can make but no file, database or web page can hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


LINE_BREAKS = frozenset("\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029")
"""The characters that break a line (those :meth:`str.splitlines` splits at): YAML reads U+0085,
U+2028 and U+2029 in a value as line breaks too."""

_NOT_ONE_LINE = frozenset({"Cc", "Zl", "Zp"})  # controls (C0 and C1), line and paragraph separators


def is_printable(text: str) -> bool:
    """Whether ``text`` is one line of Unicode text: no control character (Unicode category
    Cc: U+0000 to U+001F and U+007F to U+009F, such as U+0085 and the terminal escape U+009B),
    no line or paragraph separator (U+2028, U+2029) and no lone surrogate
    (:func:`is_unicode_text`). Spaces of any kind (a no-break space) are printable."""
    return is_unicode_text(text) and not any(unicodedata.category(ch) in _NOT_ONE_LINE for ch in text)


def is_stored_printable(text: str) -> bool:
    """Whether ``text`` is Unicode text without a control character below U+0020 or U+007F: the
    rule labels met before :func:`is_printable` also refused U+0080 to U+009F, U+2028 and
    U+2029. A campaign name, experiment id or replicate label that a store already holds is read
    and referred to when it meets this rule; a new one must meet :func:`is_printable`."""
    return is_unicode_text(text) and not any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def refused_character(text: str, *, invisible: bool = True, stored: bool = False) -> str | None:
    """The first character of ``text`` that :func:`is_plain_label` refuses (with
    ``invisible=False``, that :func:`is_printable` refuses; with ``stored``, that
    :func:`is_stored_printable` refuses), in words for an error message (``"U+0085, a line
    break"``), or None when there is none."""
    for ch in text:
        if stored and is_stored_printable(ch):
            continue
        category = unicodedata.category(ch)
        code = f"U+{ord(ch):04X}"
        if ch in LINE_BREAKS:
            return f"{code}, a line break"
        if category == "Cc":
            return f"{code}, a control character"
        if category == "Cs":
            return f"{code}, not Unicode text (a lone surrogate)"
        if invisible and category == "Cf":
            return f"{code}, an invisible character ({unicodedata.name(ch, 'format character').lower()})"
    return None


def unicode_problems(data: Any, where: str) -> list[str]:
    """The places (``where`` and the keys or positions below it, as ``a.b[0].c``) of the
    mapping, list or text ``data`` that hold text :func:`is_unicode_text` refuses, keys
    included; ``where=""`` for a top-level mapping."""
    if isinstance(data, str):
        return [] if is_unicode_text(data) else [where]
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            label = key if isinstance(key, str) and is_unicode_text(key) else "<key>"
            here = f"{where}.{label}" if where else label
            if isinstance(key, str) and not is_unicode_text(key):
                found.append(here)
            found.extend(unicode_problems(value, here))
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            found.extend(unicode_problems(value, f"{where}[{i}]"))
    return found


def is_integer(value: Any) -> bool:
    """A whole number (Python or numpy integer), not a bool."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def count_text(value: Any) -> str:
    """``value``, refused by :func:`is_integer`, as a message shows it: a bool or a float that is
    whole (``2.0``) says so, since a count must be an int."""
    if isinstance(value, bool | np.bool_):
        return f"{value!r} (a bool, not an int)"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return f"{value!r} (a float: give the int {int(value)})"
    return shorten(value)


def is_real_number(value: Any) -> bool:
    """A real number (Python or numpy integer or float, NaN included), not a bool."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_)


MAX_UNIT = 32
"""Characters of a unit (``mAh/g``), as the store keeps one with each value."""
MAX_CATEGORY_LABEL = 256
"""Characters of a categorical parameter's label, as the store keeps one in a recipe."""


def is_plain_label(text: str) -> bool:
    """Printable text (:func:`is_printable`) without invisible format characters (Unicode
    category Cf: zero-width spaces, joiners, the byte order mark, direction marks), which would
    make two names that look the same different."""
    return is_printable(text) and not any(unicodedata.category(ch) == "Cf" for ch in text)


def without_invisible(text: str) -> str:
    """``text`` without the invisible format characters :func:`is_plain_label` refuses."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def label_key(text: str) -> str:
    """What two ids or names must not share unless they are the same: the text in
    compatibility form (NFKC: a full-width 'Ｅ' is 'E') and case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()
