"""Executors: who makes and tests the experiments of a closed loop run by :func:`doe.run`.

An executor takes batches of experiments and, some time later, hands back their results. The
runner never waits on one batch: it submits, keeps proposing while earlier experiments are
still under way (up to ``max_pending``) and records results as they come, in any order.

The protocol (:class:`Executor`) has two methods:

``submit(experiments)``
    Start these experiments. ``experiments`` has ``experiment_id``, ``batch_id`` and one
    column per parameter (a fresh batch also carries the predictions). Return at once.
``collect(timeout_s)``
    Results that are ready, waiting at most ``timeout_s`` seconds for the first one:
    ``experiment_id``, any measured outcomes (NaN: not measured) and optionally ``failed``
    (bool) and ``failure_reason``. An empty frame when nothing is ready. Results may come
    in any order, some now and some later; each experiment once.

Optional hooks (:class:`BaseExecutor` provides defaults; the runner looks them up with
``getattr`` so a plain object with ``submit`` and ``collect`` is an executor too):

``timeout_s`` (attribute)
    Seconds an experiment may stay with the executor; later, the runner marks it failed
    ("timed out after N s") and calls ``cancel``. ``None``: wait for ever. After a restart,
    an experiment the executor lists in ``in_flight()`` counts from its proposal, one handed
    over again from then.
``start(campaign)``
    Called once when a run starts (e.g. to learn the campaign's configuration).
``in_flight()``
    Ids of experiments the executor already has under way. After a crash the runner hands
    the campaign's pending experiments to the executor again, except these.
``cancel(experiment_ids)``
    The runner gave up on these (timed out); drop them if possible.
``recorded(results)``
    The runner recorded ``results`` (a table ``collect`` returned), or found nothing new in
    them: e.g. the :class:`FileExecutor` moves their file to ``processed/`` only now, so a
    run killed between reading and recording reads the file again.
``rejected(results, error)``
    The runner could not record ``results`` (``error`` names the bad cells, or says that none
    of the ids is the campaign's). Return ``True`` to keep the experiments in flight (e.g. the
    :class:`FileExecutor` waits for a corrected file), ``False`` to let the runner mark them
    failed.

An exception raised by ``submit`` or ``collect`` is the executor's own trouble (a share
offline, an instrument API down), not an experiment's result: the runner waits and calls
again (``submit`` with the experiments that ``in_flight()`` does not list), and after :data:`doe.runner.EXECUTOR_ATTEMPTS` failures in a row stops with an
:class:`~doe.errors.ExecutorError`, failing nothing. A recipe that could not be made is a
result row with ``failed`` and ``failure_reason`` (:class:`CallableExecutor` turns an
exception of its function into such rows).

Built-in executors: :class:`VirtualLabExecutor` (the simulated coating lab, with a queue
that returns results late and out of order), :class:`FileExecutor` (run sheets out, result
files in, through a folder) and :class:`CallableExecutor` (any Python function).
"""

from __future__ import annotations

import logging
import queue
import re
import shlex
import shutil
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from doe.domain.file_rows import keep_rows
from doe.domain.table import ID_COLUMN
from doe.domain.values import is_integer, is_real_number
from doe.errors import ConflictError, DataError, DoeError
from doe.io import exchange_folder as exchange

if TYPE_CHECKING:
    from doe.campaign import Campaign
    from doe.domain.config import CampaignConfig
    from doe.simulate import VirtualLab

logger = logging.getLogger(__name__)

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


def _check_timeout(timeout_s: float | None) -> float | None:
    if timeout_s is None:
        return None
    if not is_real_number(timeout_s) or not timeout_s > 0:
        raise DoeError(f"timeout_s: give a positive number of seconds or None, got {timeout_s!r}")
    return float(timeout_s)


def _empty_results() -> pd.DataFrame:
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


# ---------------------------------------------------------------------- virtual lab
class VirtualLabExecutor(BaseExecutor):
    """Runs experiments in the simulated coating lab (:class:`doe.simulate.VirtualLab`).

    The lab makes and tests each recipe when it is submitted; its result is then held in a
    queue for a random number of collection rounds, as a cell cycler would hold it, so
    results come back late and out of order. Time is counted in calls of :meth:`collect`,
    not in seconds: the simulation never sleeps.

    Args:
        lab: the virtual lab (default ``VirtualLab(seed)``).
        seed: seed of the lab (when ``lab`` is None) and of the queue delays.
        delay_rounds: each result is held for a number of :meth:`collect` calls drawn
            uniformly from ``0..delay_rounds`` (``0``: every result at the next call), or
            from ``lo..hi`` for a pair ``(lo, hi)``.
        timeout_s: see :class:`BaseExecutor`.
        outcomes: the outcomes to report (a campaign's ``config.outcome_names``: a campaign
            that measures fewer outcomes than the lab simulates gets only its own); default
            every outcome the lab simulates.
        replicates: cells per coated powder (``VirtualLab.run(..., replicates=k)``): each
            experiment's result is ``k`` rows with a ``replicate`` label; default one cell.
    """

    def __init__(
        self,
        lab: VirtualLab | None = None,
        *,
        seed: int | None = 0,
        delay_rounds: int | tuple[int, int] = 0,
        timeout_s: float | None = None,
        outcomes: Sequence[str] | None = None,
        replicates: int | None = None,
    ) -> None:
        if lab is None:
            from doe.simulate import VirtualLab

            lab = VirtualLab(seed)
        self.lab = lab
        self.replicates = replicates
        self.outcomes = tuple(lab.OUTCOMES if outcomes is None else (o for o in lab.OUTCOMES if o in set(outcomes)))
        if is_integer(delay_rounds):
            low, high = 0, delay_rounds
        elif isinstance(delay_rounds, tuple) and len(delay_rounds) == 2:
            low, high = delay_rounds
        else:
            raise DoeError(f"delay_rounds: give a whole number or a pair (lo, hi), got {delay_rounds!r}")
        if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high):
            raise DoeError(f"delay_rounds: need whole numbers 0 <= lo <= hi, got {delay_rounds!r}")
        self.delay_rounds = (low, high)
        self.timeout_s = _check_timeout(timeout_s)
        self._rng = np.random.default_rng(seed)
        self._tick = 0
        self._queue: list[tuple[int, int, dict[str, Any]]] = []  # (due tick, order, result row)
        self._order = 0
        self._cancelled: set[str] = set()

    def __repr__(self) -> str:
        return f"VirtualLabExecutor(lab={self.lab!r}, delay_rounds={self.delay_rounds})"

    def submit(self, experiments: pd.DataFrame) -> None:
        if experiments.empty:
            return
        names = self.lab.config.parameter_names
        recipes = experiments[[ID_COLUMN, *names]].reset_index(drop=True)
        results = self.lab.run(recipes, replicates=self.replicates)
        keep = [c for c in (ID_COLUMN, "replicate", *self.outcomes, "failed", "failure_reason") if c in results.columns]
        low, high = self.delay_rounds
        due_of: dict[str, int] = {}  # the cells of one powder come back together
        for row in results[keep].to_dict("records"):
            due = due_of.setdefault(str(row[ID_COLUMN]), self._tick + 1 + int(self._rng.integers(low, high + 1)))
            self._queue.append((due, self._order, {str(k): v for k, v in row.items()}))
            self._order += 1
        logger.debug("virtual lab: %d experiment(s) submitted", len(recipes))

    def collect(self, timeout_s: float) -> pd.DataFrame:
        self._tick += 1
        ready = [item for item in self._queue if item[0] <= self._tick]
        self._queue = [item for item in self._queue if item[0] > self._tick]
        rows = [row for _, _, row in sorted(ready, key=lambda item: (item[0], -item[1]))
                if str(row[ID_COLUMN]) not in self._cancelled]
        if not rows:
            return _empty_results()
        return pd.DataFrame(rows)

    def in_flight(self) -> set[str]:
        return {str(row[ID_COLUMN]) for _, _, row in self._queue} - self._cancelled

    def cancel(self, experiment_ids: Collection[str]) -> None:
        self._cancelled.update(str(i) for i in experiment_ids)


# ---------------------------------------------------------------------- plain function
class CallableExecutor(BaseExecutor):
    """Runs each batch through a plain (synchronous) Python function.

    ``fn(experiments) -> results`` gets the batch (experiment_id, batch_id, parameters) and
    returns one row per experiment: ``experiment_id`` (or the rows in the batch's order),
    outcomes, optionally ``failed`` and ``failure_reason``. Each batch runs in its own
    background thread, so the runner goes on proposing and can time a batch out. An
    exception marks the whole batch failed with ``"<ExceptionType>: <message>"``; an
    experiment missing from the returned table is marked failed too.

    Args:
        fn: the function.
        timeout_s: see :class:`BaseExecutor` (a timed-out thread cannot be stopped: it is
            left to finish in the background and its results are dropped).
    """

    def __init__(self, fn: Callable[[pd.DataFrame], pd.DataFrame], *, timeout_s: float | None = None) -> None:
        if not callable(fn):
            raise DoeError(f"CallableExecutor: fn must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.timeout_s = _check_timeout(timeout_s)
        self._done: queue.Queue[pd.DataFrame] = queue.Queue()
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
        thread = threading.Thread(target=self._work, args=(batch, ids), daemon=True,
                                  name=f"doe-callable-{ids[0]}")
        thread.start()

    def _work(self, batch: pd.DataFrame, ids: list[str]) -> None:
        try:
            results = self.fn(batch.copy())
            results = _align_results(results, ids)
        except Exception as error:  # the function's failure is the experiments' failure
            logger.warning("executor function failed on %s: %s", ids, describe_exception(error))
            results = failure_rows(ids, describe_exception(error))
        self._done.put(results)

    def collect(self, timeout_s: float) -> pd.DataFrame:
        frames: list[pd.DataFrame] = []
        try:
            frames.append(self._done.get(timeout=max(float(timeout_s), 0.0)) if timeout_s > 0
                          else self._done.get_nowait())
            while True:
                frames.append(self._done.get_nowait())
        except queue.Empty:
            pass
        if not frames:
            return _empty_results()
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


def _align_results(results: Any, ids: list[str]) -> pd.DataFrame:
    """The function's answer as a results table covering exactly ``ids``."""
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
    missing = [i for i in ids if i not in set(results[ID_COLUMN])]
    if missing:
        results = pd.concat([results, failure_rows(missing, "the executor function returned no result")],
                            ignore_index=True)
    return results.reset_index(drop=True)


# ---------------------------------------------------------------------- run sheets in a folder
class FileExecutor(BaseExecutor):
    """Hands experiments to people through a folder: run sheets out, result files in.

    For each batch it writes ``runsheet_<batch_id>.csv`` (or ``.xlsx``) into ``folder``.
    Whoever runs the experiments drops a results file beside it, named
    ``results_<anything>.csv`` or ``<anything>.results.csv`` (``.xlsx`` works too), with
    ``experiment_id`` and the measured outcomes (the run sheet with outcome columns filled
    in is fine; a ``failed``/``failure_reason`` column marks runs that gave nothing). Write
    the file under another name (``.results_B0001.csv.tmp``: hidden names and Excel's
    ``~$`` owner files are ignored) and rename it when complete: a file is read once its size
    and modification time have not changed for ``settle_s`` seconds, a CSV only once it ends
    with a line end, but a robot that pauses while writing in place can still be read early.

    The folder is one campaign's: the first run writes ``.doe-campaign`` there and a run of
    another campaign refuses the folder (:mod:`doe.io.exchange_folder`). A results file is
    claimed (renamed into ``.doe-claimed/``) before it is read, so two runs never record one
    file; it moves to ``processed/`` once its results are recorded (a run killed in between
    gives it back to the folder at the next start; results recorded before change nothing).
    A file that was read and found bad, or whose ids are none of the campaign's, is moved to
    ``rejected/`` with ``<file>.error.txt`` beside it naming every bad cell; its experiments
    stay in flight until a corrected file comes (or the timeout). A file that cannot be read
    or moved now (held open by the robot or a virus scanner, the share offline) stays, and
    is read again. The run sheets must stay in the folder while their experiments are under
    way: a restarted run hands out again the pending experiments of no run sheet there.

    Args:
        folder: the exchange folder (created if missing).
        file_format: format of the run sheets.
        timeout_s: see :class:`BaseExecutor`.
        settle_s: seconds a results file must stay unchanged before it is read.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        file_format: Literal["csv", "xlsx"] = "csv",
        timeout_s: float | None = None,
        settle_s: float = 1.0,
    ) -> None:
        if file_format not in ("csv", "xlsx"):
            raise DoeError(f"file_format: 'csv' or 'xlsx', got {file_format!r}")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.file_format = file_format
        self.timeout_s = _check_timeout(timeout_s)
        self.settle_s = float(settle_s)
        self._campaign: Campaign | None = None
        self._watcher = exchange.Watcher(self.folder, self.settle_s)
        self._token = exchange.new_token()
        self._claims: dict[Path, Path] = {}  # file returned by collect -> its claimed path, until recorded or rejected
        self._stuck: set[Path] = set()  # files this run could not move out of the folder: not read again
        self._unreadable: dict[Path, str] = {}  # files that could not be read or claimed now -> the error told

    def __repr__(self) -> str:
        return f"FileExecutor({str(self.folder)!r})"

    @property
    def processed_dir(self) -> Path:
        return self.folder / "processed"

    @property
    def rejected_dir(self) -> Path:
        return self.folder / "rejected"

    def start(self, campaign: Campaign) -> None:
        """Make the folder the campaign's (refused when it is another's), and give back the files
        that a run killed before recording them had claimed."""
        from doe.storage.engine import mask_url

        exchange.own_folder(self.folder, campaign.name, mask_url(campaign.storage_url))
        self._campaign = campaign
        exchange.recover_claims(self.folder)

    def _config(self) -> CampaignConfig:
        if self._campaign is None:
            raise DoeError("FileExecutor: not started; doe.run() calls start(campaign) first")
        return self._campaign.config

    def submit(self, experiments: pd.DataFrame) -> None:
        from doe.domain.exports import run_sheet
        from doe.io import write_table

        if experiments.empty:
            return
        config = self._config()
        batches = experiments["batch_id"].fillna("manual") if "batch_id" in experiments.columns else pd.Series(
            ["manual"] * len(experiments), index=experiments.index)
        for batch_id, part in experiments.groupby(batches, sort=False):
            stem = f"runsheet_{_safe(str(batch_id))}"
            path = self.folder / f"{stem}.{self.file_format}"
            k = 2
            while path.exists():
                path = self.folder / f"{stem}_{k}.{self.file_format}"
                k += 1
            sheet = run_sheet(part.reset_index(drop=True), config)  # the Plan page's: outcomes to fill in
            tmp = path.with_name(f".{path.name}.tmp")
            write_table(sheet, tmp, file_format=self.file_format, units=config.units)
            tmp.replace(path)
            logger.info("run sheet written: %s (%d experiment(s))", path, len(sheet))

    def _ready_files(self) -> list[tuple[Path, tuple[int, int]]]:
        return self._watcher.ready(self._stuck | set(self._claims))

    def collect(self, timeout_s: float) -> pd.DataFrame:
        """The next results file that is ready (one file per call), or an empty frame."""
        config = self._config()
        deadline = time.monotonic() + max(float(timeout_s), 0.0)
        while True:
            for path, signature in self._ready_files():
                table = self._take(path, signature, config)
                if table is not None:
                    return table
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return _empty_results()
            time.sleep(min(0.2, remaining))

    def _take(self, path: Path, signature: tuple[int, int], config: CampaignConfig) -> pd.DataFrame | None:
        """Claim and read one results file: its table, or None (taken by another run, not
        readable now, changed while read, or rejected)."""
        from doe.io import read_table

        try:
            claimed = exchange.claim(path, self._token)
        except OSError as error:  # held open (Windows, a virus scanner), a share gone read-only: later
            self._cannot_read_now(path, f"it cannot be moved now: {error}")
            return None
        if claimed is None:
            return None
        try:
            table = read_table(claimed, config)
        except OSError as error:  # held open, or the share went away: not the file's fault
            self._give_back(claimed)
            self._cannot_read_now(path, f"it cannot be read now: {error}")
            return None
        except Exception as error:  # a bad table, or a file that is none (encoding, broken workbook)
            self._reject_file(claimed, path, error)
            return None
        if exchange.signature(claimed) != signature:  # the robot still writes it (a rename keeps the file open)
            logger.warning("results file %s changed while it was read: read again once it stays unchanged (write it "
                           "under another name and rename it when complete)", path.name)
            self._give_back(claimed)
            self._watcher.changed(path)
            return None
        self._unreadable.pop(path, None)
        if ID_COLUMN not in table.columns:
            self._reject_file(claimed, path, DataError(
                f"{path.name}: the results need an {ID_COLUMN!r} column (copy it from the run sheet)"))
            return None
        table = keep_rows(table, table[ID_COLUMN].notna().tolist())
        if table.empty:
            self._reject_file(claimed, path, DataError(
                f"{path.name}: no row has an {ID_COLUMN} (copy them from the run sheet)"))
            return None
        table.attrs["doe_source"] = str(path)
        self._claims[path] = claimed
        logger.info("results file read: %s (%d row(s))", path.name, len(table))
        return table

    def _cannot_read_now(self, path: Path, problem: str) -> None:
        if self._unreadable.get(path) != problem:  # once per problem, not at every look
            self._unreadable[path] = problem
            logger.warning("results file %s not read yet, %s; trying again", path.name, problem)

    def _give_back(self, claimed: Path, *, stuck: bool = False) -> None:
        """Put a claimed file back into the folder (under a free name where a new file took its
        own), to be read again; ``stuck``: not by this run (it could not be moved on)."""
        back = exchange.put_back(claimed, self.folder)
        if back is not None and stuck:
            self._stuck.add(back)

    def recorded(self, results: pd.DataFrame) -> None:
        source = results.attrs.get("doe_source")
        if source is None or (claimed := self._claims.pop(Path(source), None)) is None:
            return
        target = exchange.free_name(self.processed_dir / Path(source).name)
        if not _move(claimed, target):
            self._give_back(claimed, stuck=True)  # recorded: read again by the next run, it changes nothing

    def rejected(self, results: pd.DataFrame, error: DoeError) -> bool:
        source = results.attrs.get("doe_source")
        if source is None or (claimed := self._claims.pop(Path(source), None)) is None or not claimed.exists():
            return False
        self._reject_file(claimed, Path(source), error)
        return True

    def _reject_file(self, claimed: Path, path: Path, error: BaseException) -> None:
        target = exchange.free_name(self.rejected_dir / path.name)
        if not _move(claimed, target):
            self._give_back(claimed, stuck=True)
            logger.warning("results file %s not recorded: %s", path.name, error)
            return
        advice = (f"The runner records no correction. To replace the recorded values with this file's, record it "
                  f"by hand: doe record {shlex.quote(str(target))} --correct (the old values stay in the history)\n\n"
                  if isinstance(error, ConflictError) else "")  # first: the error's own advice is for Python
        try:
            target.with_name(target.name + ".error.txt").write_text(
                f"{advice}{type(error).__name__}: {str(error).strip()}\n", encoding="utf-8")
        except OSError as failure:
            logger.warning("the reason for rejecting %s could not be written: %s", path.name, failure)
        logger.warning("results file %s rejected (moved to %s): %s", path.name, target, error)

    def in_flight(self) -> set[str]:
        """Ids in the run sheets of the folder (the runner keeps those still pending)."""
        from doe.io import read_table

        ids: set[str] = set()
        for path in sorted(self.folder.glob("runsheet_*")):
            if path.suffix.lower() not in (".csv", ".xlsx"):
                continue
            try:
                sheet = read_table(path, self._config())
            except Exception as error:
                logger.warning("cannot read run sheet %s: %s", path, error)
                continue
            if ID_COLUMN in sheet.columns:
                ids.update(str(i) for i in sheet[ID_COLUMN].dropna())
        return ids


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:64] or "batch"


def _move(path: Path, target: Path) -> bool:
    """Move a claimed file to ``target``; False when it cannot be moved now (the share offline)."""
    try:
        target.parent.mkdir(exist_ok=True)
        shutil.move(str(path), target)
    except OSError as error:
        logger.warning("results file %s could not be moved to %s: %s", exchange.original_name(path), target.parent,
                       error)
        return False
    return True


__all__ = [
    "BaseExecutor",
    "CallableExecutor",
    "Executor",
    "FileExecutor",
    "VirtualLabExecutor",
    "describe_exception",
    "failure_rows",
]
