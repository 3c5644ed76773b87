"""One exception tree for doe.

Every error a user can cause is a :class:`DoeError`; the web page and the command line
show its message and nothing else. Anything that is not a ``DoeError`` is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class DoeError(Exception):
    """Base class of every error doe raises on purpose."""


class ConfigError(DoeError):
    """A campaign configuration (parameters, objectives, constraints) is invalid."""


@dataclass(frozen=True)
class CellProblem:
    """One bad cell of a table: where it is, what it holds and what is allowed.

    ``row`` is the 0-based position in the table as given (``None`` for a problem with a
    whole column, such as a missing or unknown column).
    """

    row: int | None
    column: str
    value: Any
    problem: str

    def __str__(self) -> str:
        where = f"row {self.row}, column {self.column!r}" if self.row is not None else f"column {self.column!r}"
        return f"{where}: {self.problem} (got {self.value!r})"


class DataError(DoeError):
    """A table of experiments or measurements is invalid; ``problems`` lists every bad cell."""

    def __init__(self, message: str, problems: list[CellProblem] | None = None) -> None:
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


class ConflictError(StorageError):
    """A measurement conflicts with one already recorded; nothing was overwritten."""
