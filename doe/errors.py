"""One exception tree for doe.

Every error a user can cause is a :class:`DoeError`; the web page and the command line
show its message and nothing else. Anything that is not a ``DoeError`` is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_ECHO = 80
"""At most this many characters of a user's value are repeated in an error message."""


def shorten(value: Any, limit: int = MAX_ECHO) -> str:
    """``repr(value)`` cut to about ``limit`` characters, for echoing untrusted input in errors.

    A hostile input (a 7 MB string, a YAML alias bomb) must never make an error message
    larger than the input's first few words; the cut says how much was left out.
    """
    try:
        text = _short_repr(value, limit)
    except Exception:  # a hostile object whose __repr__ fails
        text = f"<{type(value).__name__}>"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def shorten_text(text: str, limit: int = 400) -> str:
    """Plain ``text`` (no quotes added) cut to at most ``limit`` characters."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short_repr(value: Any, limit: int) -> str:
    """A repr that slices strings before quoting and walks only a few items of a container."""
    import reprlib

    r = reprlib.Repr()
    r.maxstring = limit
    r.maxother = limit
    r.maxlist = r.maxtuple = r.maxdict = r.maxset = r.maxfrozenset = r.maxdeque = r.maxarray = 6
    r.maxlevel = 3
    r.maxlong = limit
    return r.repr(value)


class DoeError(Exception):
    """Base class of every error doe raises on purpose."""


class ConfigError(DoeError):
    """A campaign configuration (parameters, objectives, constraints) is invalid."""


@dataclass(frozen=True)
class CellProblem:
    """One bad cell of a table: where it is, what it holds and what is allowed.

    ``row`` is the 0-based position in the table as given (``None`` for a problem with a
    whole column, such as a missing or unknown column). ``file_row``: the row's number in
    the file the table was read from, as a spreadsheet shows it (the header is row 1, blank
    rows count); ``None`` for a table given in Python. ``experiment_id``: the id that row of
    the file names, if any (set with ``file_row``).
    """

    row: int | None
    column: str
    value: Any
    problem: str
    file_row: int | None = None
    experiment_id: str | None = None

    def __str__(self) -> str:
        column = shorten(self.column)
        if self.file_row is not None:
            where = f"row {self.file_row} of the file, column {column}"
        else:
            where = f"row {self.row}, column {column}" if self.row is not None else f"column {column}"
        return f"{where}: {self.problem} (got {shorten(self.value)})"


class DataError(DoeError):
    """A table of experiments or measurements is invalid; ``problems`` lists every bad cell."""

    def __init__(self, message: str, problems: list[CellProblem] | None = None) -> None:
        self.summary = message
        """The message without the list of problems."""
        self.problems: list[CellProblem] = list(problems or [])
        if self.problems:
            shown = "\n".join(f"  - {p}" for p in self.problems[:50])
            more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
            message = f"{message}\n{shown}{more}"
        super().__init__(message)


class ProposalError(DoeError):
    """The engine cannot propose experiments (e.g. no candidate left, infeasible request)."""


class StorageError(DoeError):
    """The campaign store cannot read or write (missing campaign, conflict, bad URL)."""


class ExecutorError(DoeError):
    """The executor of a closed-loop run kept failing (a share offline, a cycler API down); the
    run stopped and its experiments stay pending for the next run."""


class ConflictError(StorageError):
    """A measurement conflicts with one already recorded; nothing was overwritten."""

    def __init__(self, message: str, advice: str = "") -> None:
        super().__init__(message)
        self.advice = advice
        """The sentence that closes the message, in the Python API's words ('' where none)."""


class ConcurrentChangeError(StorageError):
    """The campaign changed after the data a write was computed from was read (someone else
    wrote meanwhile); nothing was written."""

    def __init__(self, message: str, *, revisions: tuple[int, int] | None = None,
                 writes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.revisions = revisions
        """The revision the write expected and the one it found, where the store compared them."""
        self.writes = writes
        """The writes in between, newest first, as ``actor (action)`` (from the audit trail)."""


class ArchivedCampaignError(StorageError):
    """A change to an archived campaign (closed to changes) was refused; nothing was written."""


class StoreUnavailableError(StorageError):
    """The database could not be reached, or stayed locked or busy through every retry; nothing
    was written, and the same call later may work."""


class CampaignReplacedError(StorageError):
    """The campaign a closed-loop run works on was replaced under it (a restored backup, a campaign
    deleted and made again): what the run proposed or recorded is no longer stored; the run stopped."""
