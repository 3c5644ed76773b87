"""The executor protocol, the defaults of its optional hooks, and the results tables every
executor returns (see :mod:`doe.executors`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import pandas as pd

from doe.domain.table import ID_COLUMN
from doe.domain.values import is_real_number
from doe.errors import DoeError

if TYPE_CHECKING:
    from doe.campaign import Campaign

RESULT_COLUMNS = (ID_COLUMN, "failed", "failure_reason")


@runtime_checkable
class Executor(Protocol):
    """What :func:`doe.run` needs from whoever runs the experiments (see the module docstring)."""

    def submit(self, experiments: pd.DataFrame) -> None:
        """Start ``experiments`` (experiment_id, batch_id, parameters); return at once."""

    def collect(self, timeout_s: float) -> pd.DataFrame:
        """Results ready now (waiting at most ``timeout_s`` s for the first): experiment_id,
        outcomes, optionally failed and failure_reason; empty when none is ready."""


class BaseExecutor:
    """Defaults for the optional hooks of an executor; subclasses implement
    ``submit`` and ``collect``."""

    timeout_s: float | None = None

    def start(self, campaign: Campaign) -> None:
        """Called once when a run starts."""

    def in_flight(self) -> set[str]:
        """Ids of the experiments under way with this executor."""
        return set()

    def cancel(self, experiment_ids: Collection[str]) -> None:
        """The runner gave up on these experiments; drop their results if they come."""

    def recorded(self, results: pd.DataFrame) -> None:
        """The runner recorded ``results`` (or found nothing new in them)."""

    def rejected(self, results: pd.DataFrame, error: DoeError) -> bool:
        """The runner could not record ``results``; ``True`` keeps the experiments in flight."""
        return False

    def close(self) -> None:
        """Release what the executor holds (threads, files)."""

    def __enter__(self) -> BaseExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_timeout(timeout_s: float | None) -> float | None:
    if timeout_s is None:
        return None
    if not is_real_number(timeout_s) or not timeout_s > 0:
        raise DoeError(f"timeout_s: give a positive number of seconds or None, got {timeout_s!r}")
    return float(timeout_s)


def empty_results() -> pd.DataFrame:
    return pd.DataFrame({ID_COLUMN: pd.Series([], dtype=object)})


def failure_rows(experiment_ids: Iterable[str], reason: str) -> pd.DataFrame:
    """A results table marking ``experiment_ids`` failed with ``reason``."""
    ids = [str(i) for i in experiment_ids]
    return pd.DataFrame({ID_COLUMN: pd.Series(ids, dtype=object), "failed": [True] * len(ids),
                         "failure_reason": pd.Series([reason] * len(ids), dtype=object)})


def describe_exception(error: BaseException) -> str:
    """``"<ExceptionType>: <message>"``, the failure reason the runner stores."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


__all__ = ["RESULT_COLUMNS", "BaseExecutor", "Executor", "check_timeout", "describe_exception", "empty_results",
           "failure_rows"]
