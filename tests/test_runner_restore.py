"""A closed loop through an exchange folder while the campaign is restored from a backup under it
(``doe restore --force`` on a shared server): the run stops, naming what is no longer stored, and a
results file measured on a run sheet whose ids were given out again for other recipes is refused."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from doe import Campaign, run
from doe.domain.display import format_number
from doe.engine import EngineSettings
from doe.errors import CampaignReplacedError
from doe.executors import FileExecutor
from doe.executors.base import BaseExecutor
from doe.runner.rules import replaced
from doe.storage.backup import backup, restore

LINE = {"name": "line", "seed": 3,
        "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 10]},
                       {"name": "y", "type": "continuous", "bounds": [0, 10]}],
        "objectives": [{"name": "ce", "goal": "maximize"}]}


def _wait(condition: Callable[[], bool], what: str, timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout_s} s for {what}"
        time.sleep(0.05)


def _answer(folder: Path, batch: str, ce: list[float]) -> None:
    """The lab's results for the run sheet of ``batch``, written under another name and renamed."""
    sheet = pd.read_csv(folder / f"runsheet_{batch}.csv")
    tmp = folder / f".results_{batch}.csv.tmp"
    pd.DataFrame({"experiment_id": sheet["experiment_id"], "ce": ce}).to_csv(tmp, index=False)
    tmp.replace(folder / f"results_{batch}.csv")


def _start_run(url: str, folder: Path, outcome: list[BaseException], **executor: float) -> threading.Thread:
    def loop() -> None:
        try:
            campaign = Campaign.load("line", storage=url, actor="runner", settings=EngineSettings.fast())
            run(campaign, FileExecutor(folder, settle_s=0.1, **executor), budget=4, batch_size=2, max_pending=2,
                poll_interval_s=0.05)
        except BaseException as error:  # reported by the test
            outcome.append(error)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def test_a_run_whose_campaign_is_restored_under_it_stops_and_stale_results_are_refused(tmp_path: Path) -> None:
    """After a restore the runner took the experiments it had handed out, now gone, as 'abandoned
    outside this run', proposed again under the same ids and batch ids with other recipes, and
    recorded the lab's results file, measured on the old run sheet, onto the new recipes."""
    url, folder = f"sqlite:///{tmp_path / 'lab.sqlite3'}", tmp_path / "exchange"
    Campaign.from_config(LINE, storage=url, actor="setup")
    backup(url, tmp_path / "bk.sqlite3")
    outcome: list[BaseException] = []
    first = _start_run(url, folder, outcome)
    _wait(lambda: (folder / "runsheet_B0001.csv").exists(), "the first run sheet")
    _answer(folder, "B0001", [80.0, 81.0])
    _wait(lambda: (folder / "runsheet_B0002.csv").exists(), "the second run sheet")
    restore(url, tmp_path / "bk.sqlite3", force=True)
    first.join(timeout=120)
    assert not first.is_alive() and len(outcome) == 1 and isinstance(outcome[0], CampaignReplacedError), outcome
    message = str(outcome[0])
    assert "'line' was restored from a backup or replaced while this run was going" in message
    assert "handed out are no longer stored: E0001, E0002, E0003, E0004" in message
    assert "results this run recorded are no longer stored: E0001, E0002 (from results_B0001.csv)" in message
    assert sorted(p.name for p in folder.glob("runsheet_*")) == ["runsheet_B0001.csv", "runsheet_B0002.csv"]
    assert Campaign.load("line", storage=url).history().empty  # nothing proposed on the restored campaign

    # the ids come back for other recipes (someone plans by hand); the lab answers the old sheet B0002
    engineer = Campaign.load("line", storage=url, actor="engineer", settings=EngineSettings.fast())
    for recipes in ([[0.5, 0.5], [9.5, 0.5]], [[0.5, 9.5], [9.5, 9.5]]):
        engineer.suggest(2, candidates=pd.DataFrame(recipes, columns=["x", "y"]))
    engineer.accept()
    old = pd.read_csv(folder / "runsheet_B0002.csv").set_index("experiment_id")
    _answer(folder, "B0002", [70.0, 71.0])
    second = _start_run(url, folder, outcome, timeout_s=20.0)
    _wait(lambda: (folder / "rejected" / "results_B0002.csv.error.txt").exists(), "the stale file refused")
    reason = (folder / "rejected" / "results_B0002.csv.error.txt").read_text(encoding="utf-8")
    assert "give E0003, E0004 other recipes than the ones stored" in reason, reason
    # each number at the figures that tell it from the other (doe's four here), no float noise
    assert f"E0003 x: {format_number(old.loc['E0003', 'x'])} on runsheet_B0002.csv, 0.5 stored" in reason, reason
    assert "nothing was recorded" in reason
    second.join(timeout=120)
    assert not second.is_alive() and len(outcome) == 1, outcome[1:]
    history = Campaign.load("line", storage=url).history().set_index("experiment_id")
    assert history["ce"].isna().all(), history  # no value measured on another recipe


def test_a_restore_that_lands_after_the_runs_own_write_is_quoted_as_the_drop_it_was(tmp_path: Path) -> None:
    """The run kept the revision it read at the start of a step, before its own writes of that
    step: a restore that took the campaign back from the run's own record (4 -> 3) was not seen
    (3 was what the run had read), and the run ended as if its results were stored."""
    url, bk = f"sqlite:///{tmp_path / 'lab.sqlite3'}", tmp_path / "bk.sqlite3"
    Campaign.from_config(LINE, storage=url, actor="setup")

    class RestoredAfterRecording(BaseExecutor):
        """A lab that answers at once; the campaign is backed up before its results are recorded
        and restored from that backup right after."""

        def __init__(self) -> None:
            self.pending: list[str] = []

        def submit(self, experiments: pd.DataFrame) -> None:
            self.pending += experiments["experiment_id"].astype(str).tolist()

        def collect(self, timeout_s: float) -> pd.DataFrame:
            if not self.pending:
                return pd.DataFrame({"experiment_id": []})
            backup(url, bk)  # revision 3: the batch suggested, then accepted
            ids, self.pending = self.pending, []
            return pd.DataFrame({"experiment_id": ids, "ce": [80.0 + k for k in range(len(ids))]})

        def recorded(self, results: pd.DataFrame) -> None:
            restore(url, bk, force=True)  # the record (revision 4) is gone: back to 3

    campaign = Campaign.load("line", storage=url, actor="runner", settings=EngineSettings.fast())
    with pytest.raises(CampaignReplacedError) as stopped:
        run(campaign, RestoredAfterRecording(), budget=2, batch_size=2, poll_interval_s=0.05)
    assert str(stopped.value).startswith("campaign 'line' was restored from a backup or replaced while this run was "
                                         "going (revision 4 -> 3). The run stopped"), str(stopped.value)
    assert campaign.history()["ce"].isna().all()


def test_the_revisions_are_quoted_only_where_they_show_a_drop() -> None:
    """A restore noticed by the experiments it took away, read after a revision that went up,
    was quoted as 'revision 1 -> 3' though it took the campaign from 3 to 1."""
    history = pd.DataFrame({"experiment_id": ["E0001"], "status": ["completed"]})
    went_up = replaced("line", ["E0001", "E0002"], {}, history, 1, 3)
    assert went_up is not None and went_up.startswith(
        "campaign 'line' was restored from a backup or replaced while this run was going; experiments this run "
        "handed out are no longer stored: E0002. The run stopped"), went_up
    same = replaced("line", ["E0001"], {"E0001": "results.csv"}, history.assign(status="running"), 3, 3)
    assert same is not None and "revision" not in same and "no longer stored: E0001 (from results.csv)" in same
    dropped = replaced("line", ["E0001"], {}, history, 3, 1)
    assert dropped is not None and dropped.startswith(
        "campaign 'line' was restored from a backup or replaced while this run was going (revision 3 -> 1). The "
        "run stopped"), dropped
    assert replaced("line", ["E0001"], {"E0001": "results.csv"}, history, 3, 5) is None
