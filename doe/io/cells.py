"""What a table file's cell holds, both ways: spreadsheet formula injection neutralised on
export and undone on import, and a header cell's column name."""

from __future__ import annotations

from typing import Any

from doe.domain.values import is_blank

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Text starting with one of these runs as a formula in Excel or LibreOffice."""


def neutralise(value: Any) -> Any:
    """``value`` safe for a spreadsheet cell: risky text gets a leading apostrophe.

    Text that already starts with an apostrophe followed by a risky character (or by another
    apostrophe) gets one more, so that :func:`unneutralise` gives back exactly what was written.
    """
    if isinstance(value, str) and (value.startswith(FORMULA_START) or _was_neutralised(value)):
        return "'" + value
    return value


def _was_neutralised(text: str) -> bool:
    return len(text) > 1 and text[0] == "'" and text[1:].startswith((*FORMULA_START, "'"))


def unneutralise(text: str) -> str:
    """The text :func:`neutralise` was given: ``"'=1+1"`` -> ``"=1+1"``; other text unchanged.

    Used on import, so that an exported table reads back as it was. The value read is data
    (validated, stored as text) and is neutralised again on the next export.
    """
    return text[1:] if _was_neutralised(text) else text


def header_name(cell: Any) -> str:
    """A header cell's column name: spaces, a byte-order mark and the apostrophe of
    :func:`neutralise` removed ("" for an empty cell)."""
    return "" if is_blank(cell) else unneutralise(str(cell).lstrip("\ufeff").strip())
