"""The closed-loop runner on real SQLite campaigns, real BoTorch fits and the virtual lab:
budgets, asynchronous out-of-order results, failing and hanging executors, stopping rules,
and a run killed with SIGKILL then restarted."""

from __future__ import annotations

import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from doe import Campaign, VirtualLab, run
from doe.engine import EngineSettings
from doe.errors import ArchivedCampaignError, DoeError, ExecutorError
from doe.executors import CallableExecutor, FileExecutor, VirtualLabExecutor
from doe.io import table_bytes, write_table
from doe.runner import Progress, Stop

# short fits: the runner is under test here, not the model (still real BoTorch fits)
FAST = EngineSettings(num_restarts=2, raw_samples=32, mc_samples=32, fit_maxiter=10, maxiter_alternating=2)
PARAMS = VirtualLab(0).config.parameter_names


@pytest.fixture()
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'runs.sqlite3'}"


@pytest.fixture()
def campaign(db: str) -> Campaign:
    return Campaign.from_config("hfo2-ncm85", storage=db, actor="robot", settings=FAST)


class SpyLab(VirtualLabExecutor):
    """The virtual lab, noting how many experiments it held whenever a batch came in."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.held_at_submit: list[int] = []
        self.submitted: list[str] = []

    def submit(self, experiments: pd.DataFrame) -> None:
        self.held_at_submit.append(len(self.in_flight()))
        self.submitted += list(experiments["experiment_id"])
        super().submit(experiments)


def _assert_no_duplicate_recipes(campaign: Campaign) -> None:
    recipes = campaign.history()[PARAMS].astype(str)
    assert not recipes.duplicated().any(), recipes[recipes.duplicated(keep=False)]


def test_synchronous_loop_spends_the_budget(campaign: Campaign) -> None:
    result = run(campaign, VirtualLabExecutor(seed=0), budget=6, batch_size=3)
    assert (result.campaign, result.stop_reason) == (campaign.name, "budget")
    assert (result.experiments, result.proposed, result.finished, result.rounds) == (6, 6, 6, 2)
    history = campaign.history()
    assert len(history) == 6 and set(history["status"]) <= {"completed", "failed"}
    assert list(history["batch_id"].unique()) == ["B0001", "B0002"]
    assert result.pending == ()
    pd.testing.assert_frame_equal(result.best, campaign.best())
    _assert_no_duplicate_recipes(campaign)
    # the budget is the campaign's total: running again proposes nothing more
    again = run(campaign, VirtualLabExecutor(seed=1), budget=6)
    assert (again.stop_reason, again.proposed, again.experiments) == ("budget", 0, 6)


def test_asynchronous_executor_returning_results_late_and_out_of_order(campaign: Campaign) -> None:
    executor = SpyLab(seed=3, delay_rounds=(0, 3))
    result = run(campaign, executor, budget=9, batch_size=3, max_pending=6, poll_interval_s=0)
    assert result.stop_reason == "budget"
    assert (result.experiments, result.finished, result.rounds) == (9, 9, 3)
    # a batch was proposed while an earlier one was still under way
    assert max(executor.held_at_submit) >= 1
    assert sorted(executor.submitted) == sorted(campaign.history()["experiment_id"])
    assert set(campaign.history()["status"]) <= {"completed", "failed"}
    _assert_no_duplicate_recipes(campaign)


def test_last_batch_is_cut_to_the_budget(campaign: Campaign) -> None:
    result = run(campaign, VirtualLabExecutor(seed=0), budget=4, batch_size=3)
    assert (result.experiments, result.rounds) == (4, 2)
    assert campaign.history()["batch_id"].value_counts().to_dict() == {"B0001": 3, "B0002": 1}


def test_an_executor_function_that_raises_fails_its_experiments_and_the_loop_goes_on(campaign: Campaign) -> None:
    lab = VirtualLab(5, failures=False)
    calls = {"n": 0}

    def robot(experiments: pd.DataFrame) -> pd.DataFrame:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ValueError("dispersion gelled in vial 4")
        return lab.run(experiments)

    result = run(campaign, CallableExecutor(robot), budget=6, batch_size=3, poll_interval_s=0.05)
    assert result.stop_reason == "budget" and result.failed == 3
    history = campaign.history().set_index("experiment_id")
    first = history[history["batch_id"] == "B0001"]
    assert (first["status"] == "failed").all()
    assert set(first["failure_reason"]) == {"ValueError: dispersion gelled in vial 4"}
    assert (history[history["batch_id"] == "B0002"]["status"] == "completed").all()


def test_an_executor_function_that_measures_nothing_fails_those_experiments_and_the_run_ends(
        campaign: Campaign) -> None:
    """A function returning rows of empty values (an instrument glitch: NaN everywhere) left its
    experiments pending for ever: the function had returned, so nothing more could come, and a
    run without a timeout never ended (here the timeout failed them, 'timed out after 5 s')."""
    lab = VirtualLab(0, failures=False)
    outcomes = campaign.config.outcome_names

    def glitchy(experiments: pd.DataFrame) -> pd.DataFrame:
        results = lab.run(experiments[["experiment_id", *PARAMS]])
        if experiments["batch_id"].iloc[0] == "B0001":  # the first batch: nothing measured
            results[outcomes] = float("nan")
            results[["note", "operator"]] = None
        return results

    result = run(campaign, CallableExecutor(glitchy, timeout_s=5), budget=4, batch_size=2, poll_interval_s=0.02)
    history = campaign.history().set_index("experiment_id")
    assert (result.stop_reason, result.finished, result.failed, result.pending) == ("budget", 4, 2, ())
    assert history.loc[["E0001", "E0002"], "failure_reason"].tolist() == [
        "the executor function returned no result (every outcome empty)"] * 2
    assert (history.loc[["E0003", "E0004"], "status"] == "completed").all()


def test_an_outage_of_an_executor_function_fails_nothing_and_the_batch_runs_again(campaign: Campaign) -> None:
    """A robot API down for a moment (ConnectionError from the function) failed the whole batch:
    the budget was spent on failures and the feasibility model learnt the recipes as infeasible,
    though the README says an executor's outage fails nothing (found by a probe)."""
    lab = VirtualLab(5, failures=False)
    calls = {"n": 0}

    def robot(experiments: pd.DataFrame) -> pd.DataFrame:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise ConnectionError("robot API down (HTTP 503)")
        return lab.run(experiments)

    result = run(campaign, CallableExecutor(robot), budget=6, batch_size=3, poll_interval_s=0.05)
    history = campaign.history()
    assert (result.stop_reason, result.failed) == ("budget", 0)
    assert len(history) == 6 and (history["status"] == "completed").all()


def test_an_executor_function_that_stays_out_of_reach_stops_the_run_with_its_batch_pending(
        campaign: Campaign) -> None:
    calls = {"n": 0}

    def robot(experiments: pd.DataFrame) -> pd.DataFrame:
        calls["n"] += 1
        raise TimeoutError("robot API did not answer in 30 s")

    with pytest.raises(ExecutorError, match=r"TimeoutError: robot API did not answer in 30 s.*\(5 times in a row\); "
                                            r"the run stopped\. Nothing was marked failed"):
        run(campaign, CallableExecutor(robot), budget=6, batch_size=3, poll_interval_s=0.01)
    history = campaign.history()
    assert len(history) == 3 and history["status"].isin(["proposed", "running"]).all()
    time.sleep(0.5)
    assert calls["n"] == 5  # tried once and again four times; nothing runs after the run stopped


def test_an_executor_whose_submit_keeps_raising_stops_the_run_and_fails_nothing(campaign: Campaign) -> None:
    """A read-only share failed the batch (the feasibility model then learnt those recipes as
    infeasible) and the loop proposed the next one, spending the budget in seconds."""
    class Broken(VirtualLabExecutor):
        def submit(self, experiments: pd.DataFrame) -> None:
            raise OSError("run sheet share is read-only")

    with pytest.raises(ExecutorError, match=r"OSError: run sheet share is read-only \(5 times in a row\); the run "
                                            r"stopped\. Nothing was marked failed"):
        run(campaign, Broken(seed=0), budget=9, poll_interval_s=0)
    history = campaign.history()
    assert len(history) == 3 and (history["status"] == "proposed").all()  # one batch, still to hand over
    result = run(campaign, VirtualLabExecutor(VirtualLab(0, failures=False)), budget=6, poll_interval_s=0)
    assert (result.proposed, result.failed) == (3, 0)  # the next run handed the first batch over again
    assert (campaign.history()["status"] == "completed").all()


def test_an_executor_whose_collect_fails_for_a_while_fails_nothing(campaign: Campaign) -> None:
    """A network share offline for two seconds failed every experiment under way (probe: 9 of 9
    failed in 4 s, and their real results were then refused as changes)."""
    class Offline(VirtualLabExecutor):
        calls = 0

        def collect(self, timeout_s: float) -> pd.DataFrame:
            self.calls += 1
            if 2 <= self.calls <= 4:  # three failures in a row, then the share is back
                raise FileNotFoundError("[Errno 2] No such file or directory: '/mnt/share/exchange'")
            return super().collect(timeout_s)

    result = run(campaign, Offline(VirtualLab(0, failures=False)), budget=6, poll_interval_s=0)
    history = campaign.history()
    assert (result.stop_reason, result.failed) == ("budget", 0)
    assert len(history) == 6 and (history["status"] == "completed").all()


def test_an_executor_that_fails_when_the_run_ends_on_timeouts_still_gives_the_result(
        campaign: Campaign, caplog: pytest.LogCaptureFixture) -> None:
    """The last collect, after the experiments under way had timed out, raised ExecutorError when
    the executor had failed four times before it: the run's result was lost for a read it no
    longer needed."""
    class OfflineShare:
        timeout_s = 0.6

        def submit(self, experiments: pd.DataFrame) -> None:
            pass

        def collect(self, timeout_s: float) -> pd.DataFrame:
            raise FileNotFoundError("[Errno 2] No such file or directory: '/mnt/share/exchange'")

    result = run(campaign, OfflineShare(), budget=1, batch_size=1, poll_interval_s=0.05)
    assert (result.stop_reason, result.failed, result.pending) == ("budget", 1, ())
    assert campaign.history()["failure_reason"].tolist() == ["timed out after 0.6 s"]
    assert "failed while collecting the last results" in caplog.text


def test_results_the_database_refuses_for_its_own_trouble_are_recorded_later_not_failed(
        campaign: Campaign, db: str, caplog: pytest.LogCaptureFixture) -> None:
    """A database error while recording (here a trigger calling a function the connection lacks:
    an OperationalError, as a full disk or a dropped connection gives) failed every experiment
    of the results as 'invalid results': the feasibility model then counted them against their
    recipes."""
    path = db.removeprefix("sqlite:///")

    class BackAfterAWhile(VirtualLabExecutor):
        calls = 0

        def collect(self, timeout_s: float) -> pd.DataFrame:
            self.calls += 1
            if self.calls == 4:  # the database is back
                with sqlite3.connect(path) as conn:
                    conn.execute("DROP TRIGGER offline")
            return super().collect(timeout_s)

    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TRIGGER offline AFTER INSERT ON measurements BEGIN SELECT doe_disk_full(); END")
    result = run(campaign, BackAfterAWhile(VirtualLab(0, failures=False)), budget=3, poll_interval_s=0.01)
    history = campaign.history()
    assert (result.stop_reason, result.failed, result.finished) == ("budget", 0, 3)
    assert (history["status"] == "completed").all()
    assert "not recorded yet" in caplog.text and "no such function: doe_disk_full" in caplog.text


def test_a_result_row_without_values_keeps_its_experiment_waited_for(campaign: Campaign) -> None:
    """A row of an experiment with no value (a run sheet filled in part) counted as recorded: the
    runner forgot the experiment, which stayed running after the run ended."""
    class InPart(VirtualLabExecutor):
        calls, later = 0, None

        def collect(self, timeout_s: float) -> pd.DataFrame:
            self.calls += 1
            results = super().collect(timeout_s)
            if self.later is None and len(results):  # the last cell still cycling: its row comes empty
                self.later, self.due = results.iloc[-1:].copy(), self.calls + 4
                # no value and no note: the virtual lab's mark (operator, note) goes with the values
                results.loc[results.index[-1], [*campaign.config.outcome_names, "operator", "note"]] = None
            elif self.later is not None and len(self.later) and self.calls >= self.due:  # measured polls later
                results, self.later = pd.concat([results, self.later]), self.later.iloc[:0]
            return results

    result = run(campaign, InPart(VirtualLab(0, failures=False)), budget=3, batch_size=3, poll_interval_s=0.01)
    assert (result.finished, result.failed, result.pending) == (3, 0, ())
    assert (campaign.history()["status"] == "completed").all()


def test_a_database_failing_a_read_of_the_loop_for_a_while_does_not_end_the_run(
        campaign: Campaign, db: str, caplog: pytest.LogCaptureFixture) -> None:
    """Only record() was guarded: a history read, a suggest or a fail() that met the database
    down ended the run with StoreUnavailableError."""
    path = db.removeprefix("sqlite:///")

    class Flaky(Campaign):
        reads = 0

        def history(self, status=None):  # type: ignore[no-untyped-def]
            self.reads += 1
            if self.reads in (4, 5):  # the database away for two reads
                with sqlite3.connect(path) as conn:
                    conn.execute("CREATE TRIGGER IF NOT EXISTS away BEFORE UPDATE ON campaigns "
                                 "BEGIN SELECT doe_offline(); END")
                try:
                    campaign.store.revision(self.name)  # a write-free read still works: make a write fail instead
                    Campaign.load(self.name, storage=self.storage_url).archive(True)
                finally:
                    with sqlite3.connect(path) as conn:
                        conn.execute("DROP TRIGGER away")
            return super().history(status)

    flaky = Flaky.load(campaign.name, storage=db, actor="robot", settings=FAST)
    result = run(flaky, VirtualLabExecutor(VirtualLab(0, failures=False)), budget=6, batch_size=3,
                 poll_interval_s=0.01)
    assert result.stop_reason == "budget" and result.finished == 6
    assert "no such function: doe_offline" in caplog.text and "trying again in" in caplog.text


def test_another_robot_writing_all_the_time_delays_a_batch_but_does_not_end_the_run(
        db: str, caplog: pytest.LogCaptureFixture) -> None:
    """Two robots' loops on one campaign: one lost the race for its batch five times in a row
    and the run ended with ConcurrentChangeError."""
    class Busy(Campaign):
        race = False  # while True, another robot records an imported experiment at each read
        races = 0

        def suggest(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            self.race, self.races = self.races == 0, self.races + 1  # the run's first batch loses every try
            try:
                return super().suggest(*args, **kwargs)
            finally:
                self.race = False

        def history(self, status=None):  # type: ignore[no-untyped-def]
            if self.race:
                other = Campaign.load(self.name, storage=self.storage_url, actor="robot-2")
                recipe = {**other.config.reference_recipe(), "hfo2_loading_wt_pct": 0.1 + 0.1 * len(other.history())}
                other.record(pd.DataFrame([{**recipe, "first_cycle_ce_pct": 80.0}]))
            return super().history(status)

    campaign = Busy.from_config("hfo2-ncm85", storage=db, actor="robot-1", settings=FAST)
    result = run(campaign, VirtualLabExecutor(seed=0), budget=4, batch_size=3, poll_interval_s=0.01)
    assert result.stop_reason == "budget" and result.experiments == 4
    assert "the campaign kept changing while it was computed" in caplog.text


def test_a_changed_value_in_a_collect_keeps_the_others_results(campaign: Campaign,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    """A cycler API that sends an experiment again with a re-analysed value beside new results:
    every new result was thrown away and its experiment marked failed."""
    class Resends(VirtualLabExecutor):
        def collect(self, timeout_s: float) -> pd.DataFrame:
            results = super().collect(timeout_s)
            if len(results) and "E0001" not in set(results["experiment_id"]):
                again = campaign.history().set_index("experiment_id").loc["E0001", "first_cycle_ce_pct"]
                results = pd.concat([results, pd.DataFrame({"experiment_id": ["E0001"],
                                                            "first_cycle_ce_pct": [again + 0.01]})], ignore_index=True)
            return results

    run(campaign, Resends(VirtualLab(0, failures=False)), budget=6, poll_interval_s=0)
    history = campaign.history()
    assert (history["status"] == "completed").all()
    assert "the results of E0001 not recorded" in caplog.text


def test_an_executor_that_times_out(campaign: Campaign) -> None:
    never, returned = threading.Event(), threading.Event()

    def hangs(experiments: pd.DataFrame) -> pd.DataFrame:
        never.wait(60)
        returned.set()
        return experiments

    try:
        result = run(campaign, CallableExecutor(hangs, timeout_s=0.3), budget=3, poll_interval_s=0.05)
        # the run ended on the timeout while the function was still hanging: it did not wait for it
        assert not returned.is_set()
    finally:
        never.set()
    history = campaign.history()
    assert result.stop_reason == "budget" and result.failed == 3
    assert (history["status"] == "failed").all()
    assert set(history["failure_reason"]) == {"timed out after 0.3 s"}


def test_invalid_results_fail_only_their_experiments(campaign: Campaign) -> None:
    lab = VirtualLab(2, failures=False)

    def sloppy(experiments: pd.DataFrame) -> pd.DataFrame:
        results = lab.run(experiments)
        results["first_cycle_ce_pct"] = results["first_cycle_ce_pct"].astype(object)
        results.loc[results.index[0], "first_cycle_ce_pct"] = "n/a"  # not a number
        return results

    run(campaign, CallableExecutor(sloppy), budget=3, poll_interval_s=0.05)
    history = campaign.history().set_index("experiment_id")
    assert history.loc["E0001", "status"] == "failed"
    assert "first_cycle_ce_pct" in history.loc["E0001", "failure_reason"]
    assert (history.loc[["E0002", "E0003"], "status"] == "completed").all()


def test_a_second_different_row_of_one_experiment_is_named_not_dropped(campaign: Campaign,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    lab = VirtualLab(2, failures=False)

    def twice(experiments: pd.DataFrame) -> pd.DataFrame:
        results = lab.run(experiments)
        return pd.concat([results, results.iloc[:1].assign(first_cycle_ce_pct=10.0)], ignore_index=True)

    run(campaign, CallableExecutor(twice), budget=3, poll_interval_s=0.05)
    assert (campaign.history()["status"] == "completed").all()
    assert "a result of E0001 not recorded" in caplog.text


def test_stop_at_target(campaign: Campaign) -> None:
    result = run(campaign, VirtualLabExecutor(VirtualLab(0, failures=False)), budget=30, batch_size=3,
                 stop=Stop(target={"first_cycle_ce_pct": 50.0}))
    assert result.stop_reason == "target" and result.proposed == 3
    assert "first_cycle_ce_pct" in result.message


def test_stop_at_a_set_point_target_means_close_enough(db: str) -> None:
    config = {"name": "film", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
              "objectives": [{"name": "thickness_nm", "goal": "target", "target": 10.0}]}
    film = Campaign.from_config(config, storage=db, actor="robot", settings=FAST)
    batches = iter([[30.0, 25.0], [12.5, 9.0]])  # first batch far off; then one within 1 nm

    def lab(experiments: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"experiment_id": experiments["experiment_id"], "thickness_nm": next(batches)})

    with pytest.raises(DoeError, match=r"Stop.target\['thickness_nm'\]: .* largest acceptable distance"):
        run(film, CallableExecutor(lab), budget=10, batch_size=2, stop=Stop(target={"thickness_nm": -1.0}))
    assert film.history().empty  # refused before anything was proposed
    result = run(film, CallableExecutor(lab), budget=10, batch_size=2, stop=Stop(target={"thickness_nm": 1.0}))
    assert result.stop_reason == "target" and result.proposed == 4


def test_stop_on_patience(campaign: Campaign) -> None:
    # each batch measures worse than the one before: no improvement after the first
    counter = {"value": 95.0}

    def worse_and_worse(experiments: pd.DataFrame) -> pd.DataFrame:
        counter["value"] -= 5.0
        n = len(experiments)
        return pd.DataFrame({"experiment_id": experiments["experiment_id"],
                             "first_cycle_ce_pct": [counter["value"]] * n,
                             "capacity_retention_pct": [counter["value"] - 20] * n,
                             "coating_thickness_nm": [5.0] * n})

    result = run(campaign, CallableExecutor(worse_and_worse), budget=30, batch_size=3,
                 stop=Stop(patience=1), poll_interval_s=0.05)
    assert result.stop_reason == "patience" and result.rounds == 2 and result.experiments == 6
    assert result.message == "no improvement in the last 1 batches"


def test_stop_and_arguments_are_validated(campaign: Campaign) -> None:
    with pytest.raises(DoeError, match="patience"):
        Stop(patience=0)
    with pytest.raises(DoeError, match="finite"):
        Stop(target={"first_cycle_ce_pct": float("nan")})
    stop = Stop(target={"first_cycle_ce_pct": 92})
    with pytest.raises(TypeError):
        stop.target["first_cycle_ce_pct"] = 99  # type: ignore[index]
    with pytest.raises(DoeError, match="not objectives"):
        run(campaign, VirtualLabExecutor(), budget=3, stop=Stop(target={"coating_thickness_nm": 5}))
    with pytest.raises(DoeError, match="max_pending"):
        run(campaign, VirtualLabExecutor(), budget=3, batch_size=3, max_pending=2)
    with pytest.raises(DoeError, match="budget"):
        run(campaign, VirtualLabExecutor(), budget=0)
    with pytest.raises(DoeError, match="submit"):
        run(campaign, object(), budget=3)  # type: ignore[arg-type]
    assert campaign.history().empty


def test_pending_experiments_are_handed_over_not_proposed_again(campaign: Campaign) -> None:
    left = campaign.suggest(3)  # a previous run proposed these and died
    campaign.accept(left["experiment_id"][:1])
    executor = SpyLab(seed=0)
    result = run(campaign, executor, budget=6, batch_size=3)
    assert executor.submitted[:3] == list(left["experiment_id"])
    assert executor.held_at_submit == [0, 0]
    assert (result.experiments, result.proposed, result.rounds) == (6, 3, 1)
    _assert_no_duplicate_recipes(campaign)


def _handed_out_through(folder: Path, campaign: Campaign) -> tuple[FileExecutor, pd.DataFrame]:
    """A batch of 3 handed to the lab through ``folder`` (run sheet written, accepted) by a runner
    that is gone: its executor and the batch."""
    executor = FileExecutor(folder, settle_s=0.0)
    executor.start(campaign)
    batch = campaign.suggest(3)
    executor.submit(batch)
    campaign.accept(batch["experiment_id"])
    return executor, batch


def test_experiments_the_executor_has_under_way_are_waited_for(campaign: Campaign, tmp_path: Path) -> None:
    folder = tmp_path / "exchange"
    _, batch = _handed_out_through(folder, campaign)
    # a person answers the run sheet while no runner is alive
    write_table(VirtualLab(1).run(batch[["experiment_id", *PARAMS]]), folder / "results_B0001.csv",
                file_format="csv")
    result = run(campaign, FileExecutor(folder, settle_s=0.0, timeout_s=60), budget=3, poll_interval_s=0.05)
    assert (result.proposed, result.finished, result.experiments) == (0, 3, 3)
    assert len(list(folder.glob("runsheet_*.csv"))) == 1  # not handed out a second time


def test_a_restarted_run_times_what_the_executor_holds_from_its_proposal(campaign: Campaign, db: str,
                                                                        tmp_path: Path) -> None:
    """The timeout clock of experiments under way started again at every restart: a cycler
    channel that hung for days was waited for anew each time the runner came back."""
    folder = tmp_path / "exchange"
    _handed_out_through(folder, campaign)
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:  # handed out an hour ago
        conn.execute("UPDATE experiments SET proposed_at = strftime('%Y-%m-%d %H:%M:%f', proposed_at, '-1 hour')")
    result = run(campaign, FileExecutor(folder, settle_s=0.0, timeout_s=5.0), budget=3, poll_interval_s=0.05)
    assert result.elapsed_s < 5.0  # timed out at once, not 5 s after the restart
    history = campaign.history()
    assert set(history["failure_reason"]) == {"timed out after 5 s"} and result.failed == 3


class ByHandMeanwhile:
    """The virtual lab; while it holds the first batch a person fails one experiment of it and
    abandons another, and the lab answers for the third only. ``when``: 'submit' (before the
    runner marked the batch running) or 'collect' (after)."""

    def __init__(self, campaign: Campaign, when: str) -> None:
        self.campaign, self.when, self.held = campaign, when, pd.DataFrame()
        self.batches = 0

    def _by_hand(self) -> None:
        ids = self.held["experiment_id"].tolist()
        self.campaign.fail([ids[0]], "gelled dispersion")
        self.campaign.abandon([ids[1]], "furnace booked")
        self.held = self.held.iloc[2:]

    def submit(self, experiments: pd.DataFrame) -> None:
        self.held = pd.concat([self.held, experiments[["experiment_id", *PARAMS]]])
        self.batches += 1
        if self.batches == 1 and self.when == "submit":
            self._by_hand()

    def collect(self, timeout_s: float) -> pd.DataFrame:
        if self.batches == 1 and self.when == "collect" and len(self.held) == 3:
            self._by_hand()
        ready, self.held = self.held, self.held.iloc[:0]
        return VirtualLab(0, failures=False).run(ready) if len(ready) else ready


@pytest.mark.parametrize("when", ["submit", "collect"])
def test_experiments_finished_by_hand_during_a_run_are_done_but_not_the_runs(campaign: Campaign, when: str) -> None:
    """RunResult.finished counted experiments a person failed or abandoned meanwhile as the
    run's; one failed before the run marked its batch running stopped the run with an error."""
    reports: list[Progress] = []
    result = run(campaign, ByHandMeanwhile(campaign, when), budget=5, batch_size=3, poll_interval_s=0.01,
                 on_progress=reports.append)
    history = campaign.history().set_index("experiment_id")
    assert history["status"].tolist() == ["failed", "abandoned", "completed", "completed", "completed", "completed"]
    assert (result.proposed, result.finished, result.failed) == (6, 4, 0)
    assert reports[-1].done == 5  # the one failed by hand is done; the abandoned one is not
    assert [p.done for p in reports] == sorted(p.done for p in reports)


def test_results_that_come_after_a_timeout_replace_the_runners_failure(campaign: Campaign, tmp_path: Path) -> None:
    """A technician's results for experiments the runner had given up on were recorded (the
    'late results' branch) until record() refused a value over a failure without correct=True:
    the file went to rejected/ and the experiments stayed failed."""
    folder = tmp_path / "exchange"
    run(campaign, FileExecutor(folder, settle_s=0.0, timeout_s=0.3), budget=2, batch_size=1, poll_interval_s=0.05)
    history = campaign.history()
    assert set(history["failure_reason"]) == {"timed out after 0.3 s"}
    late = VirtualLab(1, failures=False).run(history[["experiment_id", *PARAMS]])
    write_table(late, folder / "results_late.csv", file_format="csv")
    run(campaign, FileExecutor(folder, settle_s=0.0, timeout_s=1.5), budget=3, batch_size=1, poll_interval_s=0.05)
    statuses = campaign.history().set_index("experiment_id")["status"]
    assert statuses[history["experiment_id"]].tolist() == ["completed", "completed"]
    assert not (folder / "rejected").exists() or not any((folder / "rejected").iterdir())


def test_file_executor_loop_with_a_person_in_another_thread(campaign: Campaign, tmp_path: Path) -> None:
    folder = tmp_path / "exchange"
    lab = VirtualLab(4)
    done = threading.Event()

    def technician() -> None:
        from doe.io import read_table

        answered: set[str] = set()
        while not done.is_set():
            for sheet_path in sorted(folder.glob("runsheet_*.csv")):
                if sheet_path.name in answered:
                    continue
                sheet = read_table(sheet_path, campaign.config)
                answered.add(sheet_path.name)
                results = lab.run(sheet[["experiment_id", *PARAMS]])
                if sheet_path.name == "runsheet_B0001.csv":  # a typo first, then the fix
                    bad = results.copy()
                    bad["first_cycle_ce_pct"] = "n/a?"
                    # as a spreadsheet saved it: an empty row under the header, a recipe without an id
                    lines = table_bytes(bad, "csv").decode("utf-8-sig").splitlines()
                    no_id = bad.iloc[[0]].assign(experiment_id=None, **dict.fromkeys(campaign.config.outcome_names))
                    lines[2:2] = [",".join([""] * len(bad.columns)), table_bytes(no_id, "csv").decode(
                        "utf-8-sig").splitlines()[1]]
                    (folder / ".tmp.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
                    (folder / ".tmp.csv").rename(folder / "results_B0001.csv")  # whole files only, as below
                    while not (folder / "rejected" / "results_B0001.csv").exists() and not done.is_set():
                        time.sleep(0.05)
                write_table(results, folder / ".tmp.csv", file_format="csv")
                (folder / ".tmp.csv").rename(folder / f"results_{sheet_path.stem.split('_')[1]}.csv")
            time.sleep(0.05)

    worker = threading.Thread(target=technician, daemon=True)
    folder.mkdir()
    worker.start()
    try:
        result = run(campaign, FileExecutor(folder, settle_s=0.0, timeout_s=60), budget=6, batch_size=3,
                     poll_interval_s=0.05)
    finally:
        done.set()
        worker.join(5)
    assert result.stop_reason == "budget" and result.finished == 6
    assert set(campaign.history()["status"]) <= {"completed", "failed"}
    error_text = (folder / "rejected" / "results_B0001.csv.error.txt").read_text()
    named = [f"row {row} of the file, column 'first_cycle_ce_pct'" for row in (2, 5, 6)]
    assert all(name in error_text for name in named) and "n/a?" in error_text, error_text


SCRIPT = textwrap.dedent("""
    import sys, time
    from doe import Campaign, VirtualLab, run
    from doe.engine import EngineSettings
    from doe.errors import StorageError
    from doe.executors import CallableExecutor

    db, budget = sys.argv[1], int(sys.argv[2])
    fast = EngineSettings(num_restarts=2, raw_samples=32, mc_samples=32, fit_maxiter=10, maxiter_alternating=2)
    try:
        campaign = Campaign.load("hfo2-ncm85", storage=db, settings=fast)
    except StorageError:
        campaign = Campaign.from_config("hfo2-ncm85", storage=db, settings=fast)
    lab = VirtualLab(11)

    def slow_lab(experiments):
        time.sleep(0.4)
        return lab.run(experiments)

    result = run(campaign, CallableExecutor(slow_lab), budget=budget, batch_size=3, max_pending=6,
                 poll_interval_s=0.05)
    print("DONE", result.stop_reason, result.experiments, result.proposed)
""")


@pytest.fixture()
def script(tmp_path: Path) -> Path:
    path = tmp_path / "loop.py"
    path.write_text(SCRIPT)
    return path


def _kill_when(process: subprocess.Popen[str], db: str, ready: int) -> None:
    """SIGKILL the run once ``ready`` experiments exist and some are still pending."""
    from doe.campaign import Campaign as C

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            history = C.load("hfo2-ncm85", storage=db).history()
        except DoeError:
            history = pd.DataFrame({"status": []})
        if len(history) >= ready and history["status"].isin(["proposed", "running"]).any():
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
            return
        time.sleep(0.05)
    process.kill()
    pytest.fail("the run never reached the point to kill it")


@pytest.mark.slow
def test_a_run_killed_mid_way_and_restarted_finishes_the_budget_without_duplicates(
    db: str, script: Path
) -> None:
    budget = 12
    process = subprocess.Popen([sys.executable, str(script), db, str(budget)], text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _kill_when(process, db, ready=7)
    assert process.returncode == -signal.SIGKILL
    killed = Campaign.load("hfo2-ncm85", storage=db)
    pending_at_kill = set(killed.pending()["experiment_id"])
    assert pending_at_kill and len(killed.history()) < budget + 1

    finished = subprocess.run([sys.executable, str(script), db, str(budget)], text=True, capture_output=True,
                              timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert f"DONE budget {budget}" in finished.stdout
    campaign = Campaign.load("hfo2-ncm85", storage=db)
    history = campaign.history()
    assert len(history) == budget  # nothing proposed twice, nothing beyond the budget
    assert set(history["status"]) <= {"completed", "failed"}
    assert pending_at_kill <= set(history.loc[history["status"].isin(["completed", "failed"]), "experiment_id"])
    _assert_no_duplicate_recipes(campaign)
    assert len(campaign.proposals()) == budget


def test_progress_reports_are_monotone_and_end_at_the_budget(
        campaign: Campaign, capsys: pytest.CaptureFixture[str]) -> None:
    reports: list[Progress] = []
    run(campaign, VirtualLabExecutor(seed=0), budget=6, batch_size=2, on_progress=reports.append)
    done = [p.done for p in reports]
    assert done[0] == 0 and done[-1] == 6
    assert done == sorted(done) and len(set(done)) >= 3  # one step per finished batch at least
    assert {p.budget for p in reports} == {6} and {p.campaign for p in reports} == {campaign.name}
    assert all(0 <= p.pending <= 2 for p in reports) and reports[-1].pending == 0
    best = campaign.best()
    assert dict(reports[-1].best) == {o: float(best[o].iloc[0]) for o in campaign.config.objective_names}
    assert capsys.readouterr().err == ""  # the library draws nothing; the CLI draws the bar

    # a rerun starts from what is finished already
    again: list[Progress] = []
    run(campaign, VirtualLabExecutor(seed=0), budget=6, on_progress=again.append)
    assert [p.done for p in again] == [6]


def test_on_progress_must_be_callable(campaign: Campaign) -> None:
    with pytest.raises(DoeError, match="on_progress"):
        run(campaign, VirtualLabExecutor(seed=0), budget=3, on_progress="bar")  # type: ignore[arg-type]



READ_AND_DIE = textwrap.dedent("""
    import os, sys
    from doe import Campaign
    from doe.executors import FileExecutor

    executor = FileExecutor(sys.argv[2], settle_s=0.0)
    executor.start(Campaign.load("hfo2-ncm85", storage=sys.argv[1]))
    print(len(executor.collect(10.0)), flush=True)
    os._exit(0)  # killed before recording
""")


def test_a_results_file_read_by_a_run_killed_before_recording_is_read_again(campaign: Campaign, db: str,
                                                                             tmp_path: Path) -> None:
    """The file went to processed/ when read, before it was recorded: a run killed (or a
    database error) in between lost it, and the next run waited for ever. Now the file is
    claimed by the run that reads it, and given back when the next run starts."""
    folder = tmp_path / "exchange"
    _, batch = _handed_out_through(folder, campaign)
    results = folder / "results_B0001.csv"
    write_table(VirtualLab(1, failures=False).run(batch[["experiment_id", *PARAMS]]), results, file_format="csv")
    died = subprocess.run([sys.executable, "-c", READ_AND_DIE, db, str(folder)], capture_output=True, text=True,
                          timeout=120)
    assert died.stdout.strip() == "3", died.stderr  # read, then the run died before recording
    assert not results.exists() and not (folder / "processed").exists()  # claimed by the dead run
    result = run(campaign, FileExecutor(folder, settle_s=0.0, timeout_s=60), budget=3, poll_interval_s=0.05)
    assert (result.finished, result.failed) == (3, 0)
    assert not results.exists() and (folder / "processed" / "results_B0001.csv").exists()
    assert not any((folder / ".doe-claimed").iterdir())


def test_a_results_file_of_unknown_ids_is_rejected_with_the_reason(campaign: Campaign, tmp_path: Path) -> None:
    """It went to processed/ as if recorded, with one line in the log (a file of another
    campaign's folder, say)."""
    folder = tmp_path / "exchange"
    executor = FileExecutor(folder, settle_s=0.0, timeout_s=1.0)
    batch = campaign.suggest(1)
    write_table(pd.DataFrame({"experiment_id": ["E0099"], "first_cycle_ce_pct": [91.0]}), folder / "results_x.csv",
                file_format="csv")
    run(campaign, executor, budget=1, poll_interval_s=0.05)
    error = (folder / "rejected" / "results_x.csv.error.txt").read_text(encoding="utf-8")
    assert "none of the results' experiment ids is in campaign" in error and "E0099" in error
    assert campaign.history().set_index("experiment_id").loc[batch["experiment_id"].iloc[0], "status"] == "failed"


def test_a_results_file_with_a_mistyped_id_is_rejected_naming_the_row(campaign: Campaign, tmp_path: Path) -> None:
    """A file with E0001 and a mistyped e0002 recorded E0001, ignored the e0002 row with a line in
    the log and went to processed/ as done: E0002's values were lost and it stayed pending."""
    folder = tmp_path / "exchange"
    folder.mkdir()
    ids = campaign.suggest(2)["experiment_id"].tolist()
    pd.DataFrame({"experiment_id": [ids[0], ids[1].lower()], "first_cycle_ce_pct": [88.5, 84.0]}).to_csv(
        folder / "results_B0001.csv", index=False)
    run(campaign, FileExecutor(folder, settle_s=0.0, timeout_s=1.0), budget=2, poll_interval_s=0.05)
    assert not (folder / "processed" / "results_B0001.csv").exists()
    error = (folder / "rejected" / "results_B0001.csv.error.txt").read_text(encoding="utf-8")
    assert f"row 3 of the file, column 'experiment_id': no experiment '{ids[1].lower()}'" in error
    assert f"differs from '{ids[1]}' only in case" in error and "nothing was recorded" in error
    assert campaign.measurements().empty  # the file is recorded whole or not at all


def test_a_results_row_of_a_cell_the_campaign_never_proposed_is_left_out_and_logged(
        campaign: Campaign, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Review of the fix above: a robot that measures a reference cell (bare NCM85) with every
    batch writes its row beside the batch's; rejecting every file that holds an unknown id left
    the batch's results unrecorded for good. An id that is no mistyped form of the campaign's
    is left out, with a warning, and the others are recorded."""
    folder = tmp_path / "exchange"
    folder.mkdir()
    ids = campaign.suggest(2)["experiment_id"].tolist()
    pd.DataFrame({"experiment_id": [*ids, "REF-NCM85"], "first_cycle_ce_pct": [88.5, 84.0, 79.1]}).to_csv(
        folder / "results_B0001.csv", index=False)
    with caplog.at_level(logging.WARNING, logger="doe.runner"):
        run(campaign, FileExecutor(folder, settle_s=0.0, timeout_s=5.0), budget=2, poll_interval_s=0.05)
    assert (folder / "processed" / "results_B0001.csv").exists()
    assert campaign.history().set_index("experiment_id").loc[ids, "first_cycle_ce_pct"].tolist() == [88.5, 84.0]
    assert "results for unknown experiments ignored: ['REF-NCM85']" in caplog.text


def test_results_that_come_after_the_budget_is_spent_are_still_recorded(campaign: Campaign, tmp_path: Path) -> None:
    """Once every experiment had timed out and the budget was spent, a rerun stopped at once
    and never read the results that had come meanwhile."""
    folder = tmp_path / "exchange"
    run(campaign, FileExecutor(folder, settle_s=0.0, timeout_s=0.3), budget=2, batch_size=1, poll_interval_s=0.05)
    history = campaign.history()
    assert set(history["status"]) == {"failed"}
    write_table(VirtualLab(1, failures=False).run(history[["experiment_id", *PARAMS]]), folder / "results_late.csv",
                file_format="csv")
    again = run(campaign, FileExecutor(folder, settle_s=0.0, timeout_s=1.5), budget=2, poll_interval_s=0.05)
    assert (again.stop_reason, again.proposed) == ("budget", 0)
    assert set(campaign.history()["status"]) == {"completed"}


def test_a_results_file_that_changes_a_recorded_value_says_how_to_correct_it(campaign: Campaign,
                                                                               tmp_path: Path) -> None:
    """The error file advised allow_corrections=True (record with correct=True), which no doe run
    option offers, and did not say who had recorded the stored value, or when."""
    folder = tmp_path / "exchange"
    batch = campaign.suggest(1)
    recipe = batch[["experiment_id", *PARAMS]]
    campaign.record(recipe.assign(first_cycle_ce_pct=90.0))
    folder.mkdir()
    write_table(recipe.assign(first_cycle_ce_pct=91.0), folder / "results_again.csv", file_format="csv")
    run(campaign, FileExecutor(folder, settle_s=0.0), budget=1, poll_interval_s=0.05)
    error = (folder / "rejected" / "results_again.csv.error.txt").read_text(encoding="utf-8")
    assert f"doe record {folder / 'rejected' / 'results_again.csv'} --correct" in error
    # the runner's words, not the Python API's; the stored value with who recorded it and when
    assert "allow_corrections" not in error and "correct=True" not in error, error
    assert re.search(rf": stored 90\.0, new 91\.0 \(recorded by {re.escape(campaign.actor)} on "
                     r"\d{4}-\d\d-\d\d \d\d:\d\d UTC\)\n", error), error
    lines = [line for line in error.splitlines() if line.strip()]
    assert len(lines) == len(set(lines)), error
    assert campaign.history()["first_cycle_ce_pct"].tolist() == [90.0]


def test_a_changed_value_and_a_bad_value_in_one_collect_fail_only_the_bad_one(campaign: Campaign) -> None:
    """Together, the valid-rows retry met the changed value's ConflictError and every experiment
    of the answer was marked failed (review of 39c4c8b)."""
    bad: list[str] = []

    class Resends(VirtualLabExecutor):
        def collect(self, timeout_s: float) -> pd.DataFrame:
            results = super().collect(timeout_s)
            if len(results) and "E0001" not in set(results["experiment_id"]):
                again = campaign.history().set_index("experiment_id").loc["E0001", "first_cycle_ce_pct"]
                results.loc[results.index[0], "capacity_retention_pct"] = 1e9  # outside the valid range
                bad.append(str(results["experiment_id"].iloc[0]))
                results = pd.concat([results, pd.DataFrame({"experiment_id": ["E0001"],
                                                            "first_cycle_ce_pct": [again + 0.01]})], ignore_index=True)
            return results

    run(campaign, Resends(VirtualLab(0, failures=False)), budget=6, poll_interval_s=0)
    statuses = campaign.history().set_index("experiment_id")["status"]
    assert statuses[bad].tolist() == ["failed"]
    assert (statuses.drop(index=bad) == "completed").all()


def test_a_submit_that_took_part_of_a_batch_before_failing_is_not_given_it_twice(campaign: Campaign) -> None:
    class Partial(VirtualLabExecutor):
        def __init__(self, lab: VirtualLab) -> None:
            super().__init__(lab)
            self.handed: list[str] = []

        def submit(self, experiments: pd.DataFrame) -> None:
            first = not self.handed
            for k in range(len(experiments)):
                if first and k == 1:
                    raise OSError("share went away after the first run sheet")
                self.handed.append(str(experiments["experiment_id"].iloc[k]))
                super().submit(experiments.iloc[[k]])

    executor = Partial(VirtualLab(0, failures=False))
    run(campaign, executor, budget=3, poll_interval_s=0)
    assert sorted(executor.handed) == ["E0001", "E0002", "E0003"]  # each once
    assert (campaign.history()["status"] == "completed").all()


def test_a_results_file_without_ids_or_a_processed_folder_it_can_use_is_no_crash(campaign: Campaign,
                                                                                  tmp_path: Path) -> None:
    folder = tmp_path / "exchange"
    folder.mkdir()
    (folder / "processed").write_text("not a folder")  # moving there fails, as on a share gone read-only
    batch = campaign.suggest(1)
    pd.DataFrame({"experiment_id": [None], "first_cycle_ce_pct": [91.0]}).to_csv(folder / "results_blank.csv",
                                                                                index=False)
    write_table(VirtualLab(1, failures=False).run(batch[["experiment_id", *PARAMS]]), folder / "results_ok.csv",
                file_format="csv")
    result = run(campaign, FileExecutor(folder, settle_s=0.0, timeout_s=5), budget=1, poll_interval_s=0.05)
    assert (result.finished, result.failed) == (1, 0)
    assert "no row has an experiment_id" in (folder / "rejected" / "results_blank.csv.error.txt").read_text()
    assert (folder / "results_ok.csv").exists()  # recorded; left where it was, read again next time (no change)


def test_two_runs_on_one_campaign_never_overshoot_the_budget(campaign: Campaign, db: str) -> None:
    """Two `doe run --budget 6` on one campaign ended with 9 experiments: each counted the
    budget left before the other's batch was stored."""
    other_run = Campaign.load(campaign.name, storage=db, settings=FAST)

    class OtherRunProposesMeanwhile(VirtualLabExecutor):
        """The lab; at the look for results just before this run's second batch (the second look
        after the first batch came back: the first found nothing more, then the run counted the
        budget left), another run on the campaign stores its own batch."""

        def __init__(self) -> None:
            super().__init__(VirtualLab(0, failures=False))
            self.other: list[str] = []
            self.looks_since_results: int | None = None

        def collect(self, timeout_s: float) -> pd.DataFrame:
            if self.looks_since_results is not None:
                self.looks_since_results += 1
                if self.looks_since_results == 2 and not self.other:
                    self.other = other_run.suggest(3)["experiment_id"].tolist()
            results = super().collect(timeout_s)
            if len(results) and self.looks_since_results is None:
                self.looks_since_results = 0
            return results

    executor = OtherRunProposesMeanwhile()
    result = run(campaign, executor, budget=6, batch_size=3, poll_interval_s=0)
    history = campaign.history()
    counted = history[history["status"] != "abandoned"]
    assert executor.other and len(counted) == 6  # the budget, not 9
    assert (result.experiments, result.stop_reason) == (6, "budget")
    abandoned = history.loc[history["status"] == "abandoned", "experiment_id"].tolist()
    assert len(abandoned) == 3 and not set(abandoned) & set(executor.other)  # this run's excess, not the other's
    assert result.proposed == 3  # its first batch only: the second was beyond the budget


def test_a_results_file_refused_records_nothing_not_even_its_late_rows(campaign: Campaign, tmp_path: Path) -> None:
    """The rows of timed-out experiments were recorded first (correct=True), then the file was
    refused for a changed value and moved to rejected/ saying 'nothing was written'."""
    folder = tmp_path / "exchange"
    folder.mkdir()
    batch = campaign.suggest(3)
    ids = batch["experiment_id"].tolist()
    campaign.record(pd.DataFrame({"experiment_id": [ids[0]], "first_cycle_ce_pct": [88.1]}))
    campaign.fail(ids[1:], "timed out after 3 s")  # as this runner marks them
    pd.DataFrame({"experiment_id": ids, "first_cycle_ce_pct": [88.4, 77.5, 70.0]}).to_csv(
        folder / "results_all.csv", index=False)
    run(campaign, FileExecutor(folder, settle_s=0.0, timeout_s=1.0), budget=3, poll_interval_s=0.05)
    history = campaign.history().set_index("experiment_id")
    assert history.loc[ids[1:], "status"].tolist() == ["failed", "failed"]  # nothing of the refused file
    assert history.loc[ids[0], "first_cycle_ce_pct"] == 88.1
    error = (folder / "rejected" / "results_all.csv.error.txt").read_text(encoding="utf-8")
    assert "nothing was written" in error and "88.4" in error


def test_a_results_file_that_gives_no_result_is_rejected_not_processed(campaign: Campaign, tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    """A file with the ids only (the wrong columns exported) went to processed/ as if recorded,
    with a line at INFO; its experiments later timed out."""
    folder = tmp_path / "exchange"
    folder.mkdir()
    batch = campaign.suggest(3)
    ids = batch["experiment_id"].tolist()
    pd.DataFrame({"experiment_id": ids}).to_csv(folder / "results_ids.csv", index=False)
    pd.DataFrame({"experiment_id": ids[:2], "first_cycle_ce_pct": [88.0, None]}).to_csv(
        folder / "results_part.csv", index=False)
    with caplog.at_level("WARNING", logger="doe"):
        run(campaign, FileExecutor(folder, settle_s=0.0, timeout_s=1.0), budget=3, poll_interval_s=0.05)
    error = (folder / "rejected" / "results_ids.csv.error.txt").read_text(encoding="utf-8")
    assert "no row gives a result" in error and all(i in error for i in ids)
    assert not (folder / "processed" / "results_ids.csv").exists()
    # a file that records something names its rows that gave nothing, at WARNING
    assert (folder / "processed" / "results_part.csv").exists()
    assert "rows that give no result yet (their experiments stay pending): row 3 of" in caplog.text


def test_a_bad_cell_of_an_experiment_is_not_logged_as_a_late_result(campaign: Campaign,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    """An experiment recorded from its valid cell, its bad cell failing it first, was logged
    'late results recorded' though it was neither late nor timed out."""
    def cells(batch: pd.DataFrame) -> pd.DataFrame:
        ids = batch["experiment_id"].tolist()
        return pd.DataFrame({"experiment_id": [ids[0], ids[0], ids[1], ids[2]], "replicate": ["a", "b", "a", "a"],
                             "first_cycle_ce_pct": [88.0, 250.0, 77.0, 70.0]})

    with caplog.at_level("INFO", logger="doe.runner"):
        run(campaign, CallableExecutor(cells), budget=3, poll_interval_s=0.05)
    assert "a result of E0001 not recorded" in caplog.text  # the bad cell is named
    assert "late results" not in caplog.text and "not waiting for" not in caplog.text


def test_the_progress_counts_a_batch_pending_once_proposed_and_after_a_restart(campaign: Campaign) -> None:
    """The bar showed pending=0 while a batch was out: pending changed only when something
    finished, and a restart reported before taking over the pending experiments."""
    reports: list[Progress] = []
    run(campaign, VirtualLabExecutor(seed=0, delay_rounds=(2, 2)), budget=3, batch_size=3,
        on_progress=reports.append, poll_interval_s=0)
    assert [(p.done, p.pending) for p in reports][:2] == [(0, 0), (0, 3)]
    campaign.suggest(3)  # left pending, as by a run that was killed
    again: list[Progress] = []
    run(campaign, VirtualLabExecutor(seed=0, delay_rounds=(2, 2)), budget=6, on_progress=again.append,
        poll_interval_s=0)
    assert (again[0].done, again[0].pending) == (3, 3)


def test_an_experiment_abandoned_while_out_frees_its_budget_slot(campaign: Campaign,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """The run stopped at 'budget of 3 experiments spent' with 2 counted: the budget was found
    spent once, and an experiment abandoned later never gave its slot back."""
    with caplog.at_level("INFO", logger="doe.runner"):
        result = run(campaign, ByHandMeanwhile(campaign, "collect"), budget=3, batch_size=3, poll_interval_s=0.01)
    history = campaign.history()
    assert history["status"].tolist() == ["failed", "abandoned", "completed", "completed"]
    assert (result.experiments, result.stop_reason) == (3, "budget")
    assert "['E0002'] abandoned outside this run" in caplog.text and "['E0002'] finished" not in caplog.text


def test_a_campaign_archived_during_a_run_ends_it_naming_the_results_it_could_not_record(tmp_path: Path) -> None:
    """Found by a review: results collected after the campaign was archived were taken for
    invalid results ('the executor returned invalid results'), thrown away, and the run then
    crashed failing its experiments. The run ends with the archive's refusal and the results."""
    url = f"sqlite:///{tmp_path / 'archived.sqlite3'}"
    campaign = Campaign.from_config("hfo2-ncm85", storage=url, name="line", actor="lead",
                                    settings=EngineSettings.fast())

    def lab(recipes: pd.DataFrame) -> pd.DataFrame:
        Campaign.load("line", storage=url, actor="boss").archive()  # a person closes it meanwhile
        return pd.DataFrame({"experiment_id": recipes["experiment_id"], "first_cycle_ce_pct": 85.25,
                             "capacity_retention_pct": 60.0})

    with pytest.raises(ArchivedCampaignError, match=r"campaign 'line' is archived .* The run stopped; its experiments "
                                                    r"keep their state; results it could not record") as err:
        run(campaign, CallableExecutor(lab), budget=2, batch_size=2, poll_interval_s=0.05)
    assert "E0001,85.25,60.0" in str(err.value) and "E0002,85.25,60.0" in str(err.value)
    # not failed: proposed or running, as the archive found them (it may come before the batch is accepted)
    statuses = Campaign.load("line", storage=url).history()["status"].tolist()
    assert len(statuses) == 2 and set(statuses) <= {"proposed", "running"}
