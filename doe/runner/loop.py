"""One run of the closed loop (:func:`doe.runner.run`): its bookkeeping of what is in flight,
handing batches out, taking results back, and its stopping rules. The store stays the truth."""

from __future__ import annotations

import logging
import time
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from doe.domain.file_rows import file_problems, in_file, keep_rows
from doe.domain.records import PENDING_STATUSES, RecordReport
from doe.domain.runs import Progress, ProgressCallback, RunResult, Stop, StopReason
from doe.domain.table import ID_COLUMN, id_key
from doe.errors import (
    ArchivedCampaignError,
    CampaignReplacedError,
    ConcurrentChangeError,
    ConflictError,
    DataError,
    DoeError,
    ExecutorError,
    ProposalError,
    StorageError,
    StoreUnavailableError,
)
from doe.executors import describe_exception
from doe.runner.rules import (
    EXECUTOR_ATTEMPTS,
    FINISHED_STATUSES,
    STORE_TROUBLE,
    TIMED_OUT,
    counted,
    counts,
    records_nothing,
    replaced,
    short_reason,
    timed_out_rows,
    unknown_ids_error,
)

if TYPE_CHECKING:
    from doe.campaign import Campaign
    from doe.executors import Executor

logger = logging.getLogger(__name__)


class RunLoop:
    """One run's bookkeeping; the store stays the truth, this only tracks what is in flight."""

    def __init__(
        self,
        campaign: Campaign,
        executor: Executor,
        budget: int,
        batch_size: int,
        max_pending: int,
        poll_interval_s: float,
        stop: Stop,
        fixed: dict[str, Any] | None,
        candidates: pd.DataFrame | None,
        on_progress: ProgressCallback | None,
    ) -> None:
        self.campaign = campaign
        self.executor = executor
        self.budget = budget
        self.batch_size = batch_size
        self.max_pending = max_pending
        self.poll_interval_s = poll_interval_s
        self.stop = stop
        self.fixed = fixed
        self.candidates = candidates
        self.on_progress = on_progress
        self.timeout_s: float | None = getattr(executor, "timeout_s", None)
        self.in_flight: dict[str, float] = {}  # experiment id -> when it was handed out (monotonic s)
        self.batch_of: dict[str, str] = {}
        self.open_batches: dict[str, set[str]] = {}
        self.proposed = 0
        self.finished = 0
        self.failed = 0
        self.rounds = 0
        self.since_improvement = 0
        self.reason: StopReason | None = None
        self.message = ""
        self.done_before = 0  # doe's experiments already finished when this run started
        self.done_elsewhere = 0  # of those this run handed out, the ones finished by hand
        self.executor_failures = 0  # failed calls of the executor in a row
        self.unrecorded: list[pd.DataFrame] = []  # results the store refused for its own trouble: recorded later
        self.store_failures = 0  # turns of the loop in a row that the database failed
        self.last_progress: Progress | None = None
        self.recorded_from: dict[str, str] = {}  # experiment id -> the results (file) this run recorded for it
        self.revision = 0  # the campaign's revision when this run last looked or wrote: a smaller one is another campaign

    # ------------------------------------------------------------------ main loop
    def run(self) -> RunResult:
        started = time.monotonic()
        start_hook = getattr(self.executor, "start", None)
        if callable(start_hook):
            start_hook(self.campaign)
        self.revision = self.campaign.revision()
        history = self.campaign.history()
        finished_before = history["status"].isin(FINISHED_STATUSES) & (history.get("source") == "doe")
        self.done_before = int(min(finished_before.sum(), self.budget))
        self._resume(history)
        self._report()
        self._check_target()
        while True:
            try:
                if not self._step():
                    break
                self.store_failures = 0
            except StoreUnavailableError as error:  # the database's trouble: wait and go on, up to a point
                self._store_failed(error)
            except ArchivedCampaignError as error:  # archived meanwhile: closed to changes, so the run ends
                self._collect_ready()
                held = "".join("\n" + r.to_csv(index=False) for r in self.unrecorded if isinstance(r, pd.DataFrame))
                raise ArchivedCampaignError(f"{error}. The run stopped; its experiments keep their state"
                                            + (f"; results it could not record (record them once unarchived):{held}"
                                               if held else "")) from None
        if self.unrecorded:
            logger.error("campaign %r: results the database did not take are lost with this run: %s",
                         self.campaign.name, [r[ID_COLUMN].astype(str).tolist() for r in self.unrecorded])
        history = self.campaign.history()
        pending = tuple(history.loc[history["status"].isin(PENDING_STATUSES), ID_COLUMN].astype(str))
        assert self.reason is not None
        result = RunResult(
            campaign=self.campaign.name,
            stop_reason=self.reason,
            message=self.message,
            experiments=counted(history),
            proposed=self.proposed,
            finished=self.finished,
            failed=self.failed,
            rounds=self.rounds,
            best=self.campaign.best(),
            pending=pending,
            elapsed_s=time.monotonic() - started,
        )
        logger.info("campaign %r: run stopped (%s): %d proposed, %d finished in %.1f s",
                    self.campaign.name, self.message, self.proposed, self.finished, result.elapsed_s)
        return result

    def _step(self) -> bool:
        """One turn of the loop: propose, or collect and expire; False once the run is over."""
        revision = self.campaign.revision()
        history = self.campaign.history()
        if why := replaced(self.campaign.name, self.batch_of, self.recorded_from, history, self.revision, revision):
            raise CampaignReplacedError(why)  # handing out or recording more would build on what is gone
        self.revision = revision
        self._sync(history)
        used = counted(history)
        if self.reason == "budget" and used < self.budget:  # abandoned meanwhile: they do not count
            logger.info("campaign %r: %d of the budget of %d experiments free again (abandoned meanwhile)",
                        self.campaign.name, self.budget - used, self.budget)
            self.reason, self.message = None, ""
        if self.reason is None and used >= self.budget:
            self._stop("budget", f"budget of {self.budget} experiments spent")
        n = min(self.batch_size, self.budget - used)
        if self.reason is None and n >= 1 and self.max_pending - len(self.in_flight) >= n:
            self._drain(0.0)  # results already there make the next batch better
            if self.reason is None:
                self._propose(n)
            return True
        if not self.in_flight and not self.unrecorded:
            if self.reason is None:  # nothing in flight and no slot: cannot happen, but never spin
                self._stop("budget", f"budget of {self.budget} experiments spent")
            self._drain(0.0, last=True)  # results that came after a timeout, before the run ends
            return False
        self._drain(self.poll_interval_s)
        self._expire()
        return True

    def _collect_ready(self) -> None:
        """Keep the results the executor has ready, unrecorded (the run ends without recording them)."""
        try:
            while (results := self.executor.collect(0.0)) is not None and len(results):
                self.unrecorded.append(results)
        except Exception as error:  # the executor's trouble: what it held stays with it
            logger.warning("campaign %r: the executor failed while its last results were collected: %s",
                           self.campaign.name, describe_exception(error))

    def _store_failed(self, error: StoreUnavailableError) -> None:
        """Wait after the database failed a read or write of the loop, or stop once it failed too often."""
        self.store_failures += 1
        if self.store_failures >= EXECUTOR_ATTEMPTS:
            raise error
        wait = max(self.poll_interval_s, 0.05) * 2 ** (self.store_failures - 1)
        logger.warning("campaign %r: %s; trying again in %g s", self.campaign.name, error, wait)
        time.sleep(wait)

    def _stop(self, reason: StopReason, message: str) -> None:
        if self.reason is None:
            self.reason = reason
            self.message = message
            logger.info("campaign %r: no more proposals: %s", self.campaign.name, message)

    # ------------------------------------------------------------------ handing out
    def _resume(self, history: pd.DataFrame) -> None:
        """Take over the experiments a previous run (or a person) left pending."""
        pending = history[history["status"].isin(PENDING_STATUSES)]
        if pending.empty:
            return
        in_flight_hook = getattr(self.executor, "in_flight", None)
        held = {str(i) for i in in_flight_hook()} if callable(in_flight_hook) else set()
        ids = pending[ID_COLUMN].astype(str)
        again = pending[~ids.isin(held)]
        logger.info("campaign %r: %d experiment(s) pending from before; %d handed to the executor again, "
                    "%d already under way", self.campaign.name, len(pending), len(again), len(pending) - len(again))
        now, wall = time.monotonic(), pd.Timestamp.now(tz="UTC")
        for exp_id, batch_id, proposed_at in zip(ids, pending["batch_id"], pending["proposed_at"], strict=True):
            # one the executor holds is timed from its proposal, not from this restart
            since = now - max((wall - proposed_at).total_seconds(), 0.0) if exp_id in held else now
            self._track(exp_id, str(batch_id) if isinstance(batch_id, str) else "resumed", since)
        if len(again):
            params = [p for p in self.campaign.config.parameter_names if p in again.columns]
            sheet = again[[ID_COLUMN, "batch_id", *params]].reset_index(drop=True)
            proposed = again.loc[again["status"] == "proposed", ID_COLUMN].astype(str).tolist()
            self._submit(sheet, proposed)

    def _propose(self, n: int) -> None:
        try:
            batch = self.campaign.suggest(n, fixed=self.fixed, candidates=self.candidates)
        except ProposalError as error:
            self._stop("no_proposal", f"the engine proposed nothing more: {error}")
            return
        except ConcurrentChangeError as error:  # another robot or person kept writing: not the end of the run
            logger.warning("campaign %r: no batch this round, the campaign kept changing while it was computed (%s); "
                           "trying again", self.campaign.name, error)
            self._drain(self.poll_interval_s)
            return
        batch = self._within_budget(batch)
        self._wrote()
        if batch.empty:
            return
        self.rounds += 1
        self.proposed += len(batch)
        ids = batch[ID_COLUMN].astype(str).tolist()
        now = time.monotonic()
        for exp_id, batch_id in zip(ids, batch["batch_id"], strict=True):
            self._track(exp_id, str(batch_id), now)
        logger.info("campaign %r: batch %s proposed: %s", self.campaign.name, batch["batch_id"].iloc[0], ids)
        self._submit(batch, ids)
        self._report()  # its experiments are pending now

    def _within_budget(self, batch: pd.DataFrame) -> pd.DataFrame:
        """The part of a stored batch within the budget. Another run on the campaign may have
        proposed between this run's count and its batch's write: the experiments beyond the
        budget, in the order they were stored, are abandoned by the run that proposed them (every
        run ranks them alike, so exactly the excess goes, whichever run looks first)."""
        ids = batch[ID_COLUMN].astype(str)
        try:
            history = self.campaign.history()
            beyond = set(history.loc[counts(history), ID_COLUMN].astype(str).iloc[self.budget:])
            if over := [i for i in ids if i in beyond]:
                self.campaign.abandon(over, f"beyond the budget of {self.budget} experiments: another run "
                                            "proposed meanwhile")
        except STORE_TROUBLE as error:  # the batch is stored: hand it out rather than lose track of it
            logger.warning("campaign %r: the budget could not be checked again after batch %s (%s)",
                           self.campaign.name, batch["batch_id"].iloc[0], error)
            return batch
        if over:
            logger.warning("campaign %r: %s abandoned, beyond the budget of %d experiments (another run on the "
                           "campaign proposed meanwhile)", self.campaign.name, over, self.budget)
        return batch[~ids.isin(over)]

    def _track(self, exp_id: str, batch_id: str, now: float) -> None:
        self.in_flight[exp_id] = now
        self.batch_of[exp_id] = batch_id
        self.open_batches.setdefault(batch_id, set()).add(exp_id)

    def _submit(self, experiments: pd.DataFrame, to_accept: list[str]) -> None:
        in_flight = getattr(self.executor, "in_flight", None)
        while len(experiments):
            try:
                self.executor.submit(experiments)
                break
            except Exception as error:  # the executor's trouble, not the recipes' result: nothing fails
                self._executor_failed(error, "starting " + ", ".join(experiments[ID_COLUMN].astype(str)))
            if callable(in_flight):  # a part it took before failing is not handed out twice
                experiments = experiments[~experiments[ID_COLUMN].astype(str).isin(in_flight())]
        self.executor_failures = 0
        if to_accept:
            try:
                self.campaign.accept(to_accept)
            except StorageError:  # a person failed or abandoned some meanwhile: accept the others
                history = self.campaign.history()
                proposed = history.loc[history["status"] == "proposed", ID_COLUMN].astype(str)
                if still := [i for i in to_accept if i in set(proposed)]:
                    self.campaign.accept(still)
            self._wrote()

    def _executor_failed(self, error: Exception, doing: str) -> None:
        """Wait after a failed call of the executor, or stop the run once it failed too often."""
        self.executor_failures += 1
        problem = f"the executor failed while {doing}: {describe_exception(error)}"
        if self.executor_failures >= EXECUTOR_ATTEMPTS:
            pending = ", ".join(self.in_flight) or "none"
            raise ExecutorError(f"{short_reason(problem)} ({self.executor_failures} times in a row); the run stopped. "
                                f"Nothing was marked failed: the experiments under way ({pending}) stay pending, "
                                "and the next run hands them over again once the executor works") from error
        wait = max(self.poll_interval_s, 0.05) * 2 ** (self.executor_failures - 1)
        logger.warning("campaign %r: %s; trying again in %g s", self.campaign.name, problem, wait)
        time.sleep(wait)

    # ------------------------------------------------------------------ taking back
    def _drain(self, timeout_s: float, *, last: bool = False) -> None:
        """Record every result the executor has ready (waiting up to ``timeout_s`` for the first);
        ``last``: the run ends after it, so a failing executor is noted, not waited for. Results
        the store could not take before are recorded first."""
        held, self.unrecorded = self.unrecorded, []
        for k, results in enumerate(held):
            try:
                self._record(results)
            except ArchivedCampaignError:
                self.unrecorded += held[k + 1:]
                raise
        wait = timeout_s
        while True:
            try:
                results = self.executor.collect(wait)
            except Exception as error:  # the executor's trouble, not the recipes' result: nothing fails
                if last:
                    logger.warning("campaign %r: the executor failed while collecting the last results: %s; "
                                   "the next run collects them", self.campaign.name, describe_exception(error))
                    return
                self._executor_failed(error, "collecting results")
                return
            self.executor_failures = 0
            if results is None or len(results) == 0:
                return
            self._record(results)
            wait = 0.0

    def _record(self, results: pd.DataFrame) -> None:
        """Record a collect's results; kept for the next poll when the database cannot take them
        (busy, down, or written by another meanwhile): nothing fails for that."""
        try:
            self._record_now(results)
        except (StoreUnavailableError, ConcurrentChangeError, ArchivedCampaignError) as error:
            self.unrecorded.append(results)
            if isinstance(error, ArchivedCampaignError):  # archived during the run: it ends (see run)
                raise
            self.unrecorded.pop()
            ids = results[ID_COLUMN].astype(str).tolist() if isinstance(results, pd.DataFrame) and ID_COLUMN in \
                results.columns else []
            logger.warning("campaign %r: results of %s not recorded yet (%s); trying again", self.campaign.name,
                           ", ".join(dict.fromkeys(ids)), error)
            self.unrecorded.append(results)
            time.sleep(max(self.poll_interval_s, 0.05))

    def _record_now(self, results: pd.DataFrame) -> None:
        if not isinstance(results, pd.DataFrame) or ID_COLUMN not in results.columns:
            ids = list(self.in_flight)
            reason = short_reason(f"the executor returned results without an {ID_COLUMN!r} column")
            logger.warning("campaign %r: %s", self.campaign.name, reason)
            self._fail_pending(ids, reason)
            return
        history = self.campaign.history()
        known = set(history[ID_COLUMN].astype(str))
        result_ids = results[ID_COLUMN].astype(str)
        unknown = sorted(set(result_ids) - known)
        table = keep_rows(results, result_ids.isin(known).tolist())
        if unknown and table.empty:  # e.g. a results file of another campaign's folder
            self._rejected(results, DataError(f"none of the results' experiment ids is in campaign "
                                              f"{self.campaign.name!r} ({', '.join(unknown[:10])}); nothing was recorded"))
            return
        # an id mistyped as a spreadsheet or a person changes one (e0002, E2, ' E0002'): the file would move on
        # as done with that row's values lost; another unknown id (a reference cell's row) is left out, logged
        keys = {id_key(k): k for k in known}
        if mistyped := {u: keys[id_key(u)] for u in unknown if id_key(u) in keys}:
            hook = getattr(self.executor, "rejected", None)
            if callable(hook) and hook(results, error := unknown_ids_error(results, mistyped, self.campaign.name)):
                logger.warning("campaign %r: results rejected, waiting for corrected ones: %s", self.campaign.name,
                               error)
                return
        if unknown:
            logger.warning("campaign %r: results for unknown experiments ignored: %s", self.campaign.name, unknown)
        table[ID_COLUMN] = table[ID_COLUMN].astype(str)
        waited_for = set(self.in_flight)  # before a bad row's experiment is failed and forgotten below
        late = timed_out_rows(table, history)
        rest = keep_rows(table, [not x for x in late])
        report = RecordReport(experiment_ids=[])
        if not rest.empty:  # first: a file refused for these rows has written nothing, its late rows included
            try:
                report = self.campaign.record(rest)
            except DoeError as error:
                if isinstance(error, STORE_TROUBLE):  # the store's, not the results': kept by _record
                    raise
                if isinstance(error, DataError):  # named by the rows of the results file, where there is one
                    error = in_file(error, rest)
                if self._rejected(results, error):
                    return
                report = self._record_valid_rows(rest, error) or report
        late_ids = self._record_after_timeout(keep_rows(table, late)) if any(late) else []
        if not late_ids and records_nothing(report) and report.not_measured:  # e.g. the wrong columns exported
            rows = "; ".join(str(p) for p in file_problems(report.not_measured, rest))
            self._rejected(results, DataError(f"no row gives a result (no outcome measured), so nothing was recorded; "
                                              f"its experiments stay pending: {rows}"))
            return
        if report.not_measured:
            logger.warning("campaign %r: rows that give no result yet (their experiments stay pending): %s",
                           self.campaign.name, "; ".join(str(p) for p in file_problems(report.not_measured, rest)))
        self._recorded(results)
        ids = list(dict.fromkeys(report.experiment_ids))  # an experiment's replicate cells are several rows
        done = [i for i in ids if i in self.in_flight]
        if elsewhere := [i for i in ids if i not in waited_for]:
            logger.info("campaign %r: results recorded for %s, which this run was not waiting for",
                        self.campaign.name, elsewhere)
        statuses = self.campaign.history().set_index(ID_COLUMN)["status"]
        source = Path(str(results.attrs.get("doe_source", "the executor's results"))).name
        self.recorded_from.update({i: source for i in [*ids, *late_ids] if statuses.get(i) in FINISHED_STATUSES})
        self._finished(done, failed=sum(statuses.get(i) == "failed" for i in done))
        self._after_results()

    def _wrote(self) -> None:
        """After a write of this run: the revision it made counts as seen, so the next step finds
        a restore by a smaller one (a restore before this read, by the experiments it took away)."""
        with suppress(StoreUnavailableError):  # the next step's read finds the database's trouble
            self.revision = max(self.revision, self.campaign.revision())

    def _recorded(self, results: pd.DataFrame) -> None:
        self._wrote()
        hook = getattr(self.executor, "recorded", None)
        if callable(hook):
            hook(results)

    def _rejected(self, results: pd.DataFrame, error: DoeError) -> bool:
        """Hand unusable results back to the executor; whether it keeps their experiments in flight."""
        hook = getattr(self.executor, "rejected", None)
        if callable(hook) and hook(results, error):
            logger.warning("campaign %r: results rejected, waiting for corrected ones: %s", self.campaign.name, error)
            return True
        logger.warning("campaign %r: results not recorded: %s", self.campaign.name, error)
        return False

    def _record_after_timeout(self, table: pd.DataFrame) -> list[str]:
        """Record results of experiments this runner failed as timed out (a result that came
        late replaces that failure: ``correct=True``); the ids recorded."""
        try:
            report = self.campaign.record(table, correct=True)
        except DoeError as error:
            if isinstance(error, STORE_TROUBLE):
                raise
            logger.warning("campaign %r: results of %s, which had timed out, not recorded: %s", self.campaign.name,
                           list(dict.fromkeys(table[ID_COLUMN])), error)
            return []
        ids = list(dict.fromkeys(report.experiment_ids))
        logger.info("campaign %r: late results recorded for %s, which had timed out", self.campaign.name, ids)
        return ids

    def _record_valid_rows(self, table: pd.DataFrame, error: DoeError) -> Any:
        """Record the valid rows of a bad table; mark the others' experiments failed."""
        ids = [i for i in dict.fromkeys(table[ID_COLUMN]) if i in self.in_flight]  # cells: several rows each
        if isinstance(error, ConflictError):  # a value recorded before, changed: record each experiment alone
            return self._record_each(table)
        try:
            report = self.campaign.record(table, valid_rows_only=True) if isinstance(error, DataError) else None
        except ConflictError:  # bad rows and a changed value together: each experiment alone
            return self._record_each(table)
        except DoeError as other:
            if isinstance(other, STORE_TROUBLE):
                raise
            report = None
        if report is None:
            reason = short_reason(f"the executor returned invalid results: {error}")
            logger.warning("campaign %r: %s", self.campaign.name, reason)
            self._fail_pending(ids, reason)
            return None
        bad_rows = sorted({p.row for p in report.rejected if p.row is not None})
        for row in bad_rows:
            exp_id = str(table[ID_COLUMN].iloc[row])
            problems = "; ".join(str(p) for p in file_problems(report.rejected, table) if p.row == row)
            # named even where another row completed the experiment (a second, different value)
            logger.warning("campaign %r: a result of %s not recorded: %s", self.campaign.name, exp_id, problems)
            if exp_id in self.in_flight:
                self._fail_pending([exp_id], short_reason(f"the executor returned an invalid result: {problems}"))
        return report

    def _record_each(self, table: pd.DataFrame) -> Any:
        """Record each experiment's rows on their own; an experiment in conflict with its stored
        values fails if in flight, and is named in the log either way."""
        recorded: list[str] = []
        for exp_id, rows in table.groupby(ID_COLUMN, sort=False):
            try:
                recorded += self.campaign.record(rows.reset_index(drop=True)).experiment_ids
            except DoeError as error:
                if isinstance(error, STORE_TROUBLE):
                    raise
                logger.warning("campaign %r: the results of %s not recorded: %s", self.campaign.name, exp_id, error)
                if exp_id in self.in_flight:
                    self._fail_pending([str(exp_id)], short_reason(f"the executor returned an invalid result: {error}"))
        return RecordReport(experiment_ids=recorded)

    def _fail_pending(self, ids: list[str], reason: str) -> None:
        """Mark experiments failed that are still pending in the store, and forget them."""
        if not ids:
            return
        history = self.campaign.history()
        status = history.set_index(ID_COLUMN)["status"]
        still = [i for i in ids if status.get(i) in PENDING_STATUSES]
        if still:
            self.campaign.fail(still, reason)
            self._wrote()
        cancel = getattr(self.executor, "cancel", None)
        if callable(cancel):
            cancel(ids)
        self._finished(ids, failed=len(still))
        self._after_results()

    def _expire(self) -> None:
        if self.timeout_s is None:
            return
        now = time.monotonic()
        late = [i for i, t in self.in_flight.items() if now - t > self.timeout_s]
        if late:
            reason = f"{TIMED_OUT} {self.timeout_s:g} s"
            logger.warning("campaign %r: %s %s", self.campaign.name, late, reason)
            self._fail_pending(late, reason)

    def _sync(self, history: pd.DataFrame) -> None:
        """Forget experiments that were finished or abandoned outside this run (e.g. by hand)."""
        status = history.set_index(ID_COLUMN)["status"]
        gone = [i for i in self.in_flight if status.get(i) not in PENDING_STATUSES]
        if gone:
            finished = [i for i in gone if status.get(i) in FINISHED_STATUSES]
            if finished:
                logger.info("campaign %r: %s finished outside this run", self.campaign.name, finished)
            if abandoned := [i for i in gone if i not in finished]:
                logger.info("campaign %r: %s abandoned outside this run (not counted against the budget)",
                            self.campaign.name, abandoned)
            self.done_elsewhere += sum(status.get(i) in FINISHED_STATUSES for i in gone)
            self._finished(gone, failed=0, by_this_run=False)
            self._after_results()

    def _finished(self, ids: list[str], failed: int, *, by_this_run: bool = True) -> None:
        ids = [i for i in ids if i in self.in_flight]
        for i in ids:
            del self.in_flight[i]
        if by_this_run:
            self.finished += len(ids)
            self.failed += int(failed)
        if ids:
            self._report()

    # ------------------------------------------------------------------ stopping rules
    def _after_results(self) -> None:
        front = self.campaign.pareto_front()
        front_ids = set(front[ID_COLUMN].astype(str)) if len(front) else set()
        for batch_id, members in list(self.open_batches.items()):
            if members & set(self.in_flight):
                continue
            del self.open_batches[batch_id]
            if members & front_ids:
                self.since_improvement = 0
            else:
                self.since_improvement += 1
            logger.debug("batch %s finished; %d batch(es) without improvement", batch_id, self.since_improvement)
        self._report()
        self._check_target(front)
        patience = self.stop.patience
        if patience is not None and self.since_improvement >= patience:
            self._stop("patience", f"no improvement in the last {self.since_improvement} batches")

    def _check_target(self, front: pd.DataFrame | None = None) -> None:
        target = self.stop.target
        if not target:
            return
        front = self.campaign.pareto_front() if front is None else front
        if front.empty:
            return
        objectives = {o.name: o for o in self.campaign.config.objectives}
        met = pd.Series(True, index=front.index)
        for name, value in target.items():
            o = objectives[name]
            if o.goal == "target":  # a stop value for a set point is the largest distance from it
                met &= o.score(front[name].astype(float).to_numpy()) >= -value
            else:
                met &= front[name].astype(float) * o.sign >= value * o.sign
        if met.any():
            exp_id = front.loc[met, ID_COLUMN].iloc[0]
            self._stop("target", f"target {dict(target)} reached by {exp_id}")

    # ------------------------------------------------------------------ progress
    def _report(self) -> None:
        """Hand the run's state to ``on_progress`` when it changed since the last call."""
        if self.on_progress is None:
            return
        best = self.campaign.best()
        values = ({o.name: float(best[o.name].iloc[0]) for o in self.campaign.config.objectives}
                  if len(best) else {})
        progress = Progress(campaign=self.campaign.name, done=self.done_before + self.finished + self.done_elsewhere,
                            budget=self.budget, pending=len(self.in_flight), best=values)
        if progress != self.last_progress:
            self.last_progress = progress
            self.on_progress(progress)
