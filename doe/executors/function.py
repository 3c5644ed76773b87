"""A plain Python function as an executor (see :mod:`doe.executors`)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Collection
from typing import Any

import pandas as pd

from doe.domain.table import ID_COLUMN, failed_flag
from doe.domain.values import is_blank
from doe.errors import DataError, DoeError, ExecutorError
from doe.executors.base import (
    BaseExecutor,
    check_timeout,
    describe_exception,
    empty_results,
    failure_rows,
)

logger = logging.getLogger("doe.executors")

OUTAGES = (OSError, ExecutorError)
"""Exceptions of a :class:`CallableExecutor`'s function that mean the lab was out of reach (an
API down, a share offline), not that the recipes failed."""


class CallableExecutor(BaseExecutor):
    """Runs each batch through a plain (synchronous) Python function.

    ``fn(experiments) -> results`` gets the batch (experiment_id, batch_id, parameters) and
    returns one row per experiment: ``experiment_id`` (or the rows in the batch's order),
    outcomes, optionally ``failed`` and ``failure_reason``. Each batch runs in its own
    background thread, so the runner goes on proposing and can time a batch out. An
    exception marks the whole batch failed with ``"<ExceptionType>: <message>"``, except an
    outage (:data:`OUTAGES`: an :class:`OSError`, as ``ConnectionError``, ``TimeoutError`` and the
    errors of ``requests`` and ``urllib`` are, or a :class:`~doe.errors.ExecutorError` the function
    raises itself): that fails nothing, ``collect`` raises it as the executor's trouble and the
    next ``collect`` runs the batch again, so a run stops after
    :data:`doe.runner.EXECUTOR_ATTEMPTS` outages in a row with its experiments pending. An
    experiment missing from the returned table, or whose rows leave every value empty (all
    outcomes NaN), is marked failed: no later result can come for it.

    Args:
        fn: the function.
        timeout_s: see :class:`BaseExecutor` (a timed-out thread cannot be stopped: it is
            left to finish in the background and its results are dropped).
    """

    def __init__(self, fn: Callable[[pd.DataFrame], pd.DataFrame], *, timeout_s: float | None = None) -> None:
        if not callable(fn):
            raise DoeError(f"CallableExecutor: fn must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.timeout_s = check_timeout(timeout_s)
        self._done: queue.Queue[pd.DataFrame | tuple[pd.DataFrame, list[str], Exception]] = queue.Queue()
        self._again: list[tuple[pd.DataFrame, list[str]]] = []
        self._lock = threading.Lock()
        self._running: set[str] = set()
        self._cancelled: set[str] = set()

    def __repr__(self) -> str:
        return f"CallableExecutor({getattr(self.fn, '__name__', self.fn)!r})"

    def submit(self, experiments: pd.DataFrame) -> None:
        if experiments.empty:
            return
        batch = experiments.reset_index(drop=True).copy()
        ids = [str(i) for i in batch[ID_COLUMN]]
        with self._lock:
            self._running.update(ids)
        self._start(batch, ids)

    def _start(self, batch: pd.DataFrame, ids: list[str]) -> None:
        threading.Thread(target=self._work, args=(batch, ids), daemon=True, name=f"doe-callable-{ids[0]}").start()

    def _work(self, batch: pd.DataFrame, ids: list[str]) -> None:
        try:
            results = _align_results(self.fn(batch.copy()), ids, batch.columns)
        except OUTAGES as error:  # the lab out of reach: nothing fails, the batch runs again
            logger.warning("executor function could not run %s: %s", ids, describe_exception(error))
            self._done.put((batch, ids, error))
            return
        except Exception as error:  # the function's failure is the experiments' failure
            logger.warning("executor function failed on %s: %s", ids, describe_exception(error))
            results = failure_rows(ids, describe_exception(error))
        self._done.put(results)

    def collect(self, timeout_s: float) -> pd.DataFrame:
        again, self._again = self._again, []
        for batch, batch_ids in again:  # the outages the last collect raised: tried again now
            with self._lock:
                if not set(batch_ids) <= self._cancelled:
                    self._start(batch, batch_ids)
        items: list[pd.DataFrame | tuple[pd.DataFrame, list[str], Exception]] = []
        try:
            items.append(self._done.get(timeout=max(float(timeout_s), 0.0)) if timeout_s > 0
                         else self._done.get_nowait())
            while True:
                items.append(self._done.get_nowait())
        except queue.Empty:
            pass
        frames = [item for item in items if isinstance(item, pd.DataFrame)]
        outages = [item for item in items if isinstance(item, tuple)]
        self._again += [(batch, batch_ids) for batch, batch_ids, _ in outages]
        if outages and not frames:
            _, batch_ids, error = outages[0]
            raise ExecutorError(f"the executor function could not run {', '.join(batch_ids)}: "
                                f"{describe_exception(error)}") from error
        if not frames:
            return empty_results()
        results = pd.concat(frames, ignore_index=True)
        with self._lock:
            ids = set(results[ID_COLUMN].astype(str))
            self._running -= ids
            results = results[~results[ID_COLUMN].astype(str).isin(self._cancelled)]
        return results.reset_index(drop=True)

    def in_flight(self) -> set[str]:
        with self._lock:
            return self._running - self._cancelled

    def cancel(self, experiment_ids: Collection[str]) -> None:
        with self._lock:
            self._cancelled.update(str(i) for i in experiment_ids)


CONTEXT_COLUMNS = ("note", "measured_at", "operator", "sample_id", "replicate", "cycle")
"""Columns of a result row that say how or where it was measured, not what: a row holding only
these (and the batch's own columns) gives no result."""


def _align_results(results: Any, ids: list[str], given: Collection[str] = ()) -> pd.DataFrame:
    """The function's answer as a results table covering exactly ``ids`` (``given``: the columns of
    the batch the function got, which give no result of their own). An experiment missing from
    it, or whose every row leaves every other value empty, is marked failed: the function is the
    experiment, and no later result comes for it."""
    if not isinstance(results, pd.DataFrame):
        raise DataError(f"the executor function must return a pandas DataFrame, got {type(results).__name__}")
    results = results.reset_index(drop=True).copy()
    if ID_COLUMN not in results.columns:
        if len(results) != len(ids):
            raise DataError(
                f"the executor function returned {len(results)} row(s) without an {ID_COLUMN!r} column "
                f"for {len(ids)} experiment(s): return one row per experiment, or the ids"
            )
        results.insert(0, ID_COLUMN, ids)
    results[ID_COLUMN] = results[ID_COLUMN].astype(str)
    extra = sorted(set(results[ID_COLUMN]) - set(ids))
    if extra:
        logger.warning("executor function returned results for experiments it was not given: %s", extra)
        results = results[results[ID_COLUMN].isin(ids)]
    values = [c for c in results.columns if c not in (ID_COLUMN, "failed", *CONTEXT_COLUMNS) and c not in given]
    gave = ~results[values].map(is_blank).all(axis=1) if values else pd.Series(False, index=results.index)
    if "failed" in results.columns:
        gave |= results["failed"].map(lambda v: failed_flag(v) is not False)
    if empty := sorted(set(results[ID_COLUMN]) - set(results.loc[gave, ID_COLUMN])):
        logger.warning("executor function returned no value for %s (every outcome empty): marked failed", empty)
        results = results[~results[ID_COLUMN].isin(empty)]
        results = pd.concat([results, failure_rows(empty, "the executor function returned no result (every outcome "
                                                   "empty)")], ignore_index=True)
    missing = [i for i in ids if i not in set(results[ID_COLUMN])]
    if missing:
        results = pd.concat([results, failure_rows(missing, "the executor function returned no result")],
                            ignore_index=True)
    return results.reset_index(drop=True)


__all__ = ["OUTAGES", "CallableExecutor"]
