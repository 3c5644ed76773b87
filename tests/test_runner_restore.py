"""A closed loop through an exchange folder while the campaign is restored from a backup under it
(``doe restore --force`` on a shared server): the run stops, naming what is no longer stored, and a
results file measured on a run sheet whose ids were given out again for other recipes is refused."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from doe import Campaign, run
from doe.engine import EngineSettings
from doe.errors import CampaignReplacedError
from doe.executors import FileExecutor
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
    assert f"E0003 x: {old.loc['E0003', 'x']} on runsheet_B0002.csv, 0.5 stored" in reason, reason
    assert "nothing was recorded" in reason
    second.join(timeout=120)
    assert not second.is_alive() and len(outcome) == 1, outcome[1:]
    history = Campaign.load("line", storage=url).history().set_index("experiment_id")
    assert history["ce"].isna().all(), history  # no value measured on another recipe
