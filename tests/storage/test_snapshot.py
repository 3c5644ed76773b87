"""Reads of a campaign show one state of it although another session writes between them, and the
history and configuration are computed once per stored state, which a revision number alone does not
name after a restore or a campaign made again under its name (:mod:`doe.storage.snapshot`)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from doe import Campaign
from doe.domain.table import ID_COLUMN
from doe.engine.settings import EngineSettings
from doe.errors import ConcurrentChangeError
from doe.simulate import VirtualLab
from doe.storage.backup import backup, restore

CE = "first_cycle_ce_pct"


def _two_sessions(tmp_path: Path) -> tuple[Campaign, Campaign, str]:
    """The exporter and the robot: two Campaign objects (two stores) on one SQLite file."""
    db = str(tmp_path / "snap.sqlite3")
    exporter = Campaign.from_config("hfo2-ncm85", storage=db, name="snap", settings=EngineSettings.fast())
    robot = Campaign.load("snap", db, actor="robot")
    assert exporter.store is not robot.store
    eid = str(exporter.suggest(2)["experiment_id"].iloc[0])  # the other stays proposed: the cells file has status
    return exporter, robot, eid


def _robot_records_during_reads(monkeypatch: pytest.MonkeyPatch, exporter: Campaign, robot: Campaign, eid: str,
                                times: int) -> None:
    """The robot records a new cell of ``eid`` inside the exporter's next ``times`` measurements() reads,
    i.e. after its read of the experiments (the interleaving another process can cause)."""
    read = exporter.store.measurements
    labels = itertools.count()

    def measurements_after_robot(*args: Any, **kwargs: Any) -> pd.DataFrame:
        if (k := next(labels)) < times:
            robot.record(pd.DataFrame([{"experiment_id": eid, "replicate": f"R{k}", "first_cycle_ce_pct": 88.0 + k}]))
        return read(*args, **kwargs)

    monkeypatch.setattr(exporter.store, "measurements", measurements_after_robot)


def test_cells_export_is_one_state_when_another_session_records_between_its_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exporter, robot, eid = _two_sessions(tmp_path)
    _robot_records_during_reads(monkeypatch, exporter, robot, eid, times=1)
    target = tmp_path / "cells.csv"
    exporter.export_table(target, cells=True)
    table = pd.read_csv(target, encoding="utf-8-sig")
    rows = table[table["experiment_id"] == eid]
    assert rows["replicate"].tolist() == ["R0"]
    assert rows["first_cycle_ce_pct [%]"].tolist() == [88.0]
    assert rows["status"].tolist() == ["completed"]  # not 'proposed' beside its measured value


def test_history_export_is_one_state_when_another_session_records_between_its_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exporter, robot, eid = _two_sessions(tmp_path)
    _robot_records_during_reads(monkeypatch, exporter, robot, eid, times=1)
    table = exporter.export_frame()
    row = table[table["experiment_id"] == eid].iloc[0]
    assert (row["status"], row["first_cycle_ce_pct"]) == ("completed", 88.0)


def test_export_refused_when_the_campaign_changes_during_every_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exporter, robot, eid = _two_sessions(tmp_path)
    _robot_records_during_reads(monkeypatch, exporter, robot, eid, times=1_000)
    target = tmp_path / "cells.csv"
    with pytest.raises(ConcurrentChangeError, match=r"changed while it was read.*try again"):
        exporter.export_table(target, cells=True)
    assert not target.exists()


def _count_reads(monkeypatch: pytest.MonkeyPatch, campaign: Campaign) -> list[str]:
    """The store reads of experiments that ``campaign`` makes from now on (a history() computed afresh)."""
    reads: list[str] = []
    read = campaign.store.experiments

    def counted(name: str) -> pd.DataFrame:
        reads.append(name)
        return read(name)

    monkeypatch.setattr(campaign.store, "experiments", counted)
    return reads


def test_history_is_computed_once_per_revision_and_each_caller_gets_a_copy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exporter, robot, eid = _two_sessions(tmp_path)
    first = exporter.history()
    reads = _count_reads(monkeypatch, exporter)
    first.loc[0, "status"] = "edited by the caller"
    assert exporter.history()["status"].tolist() == ["proposed", "proposed"]  # not the caller's edit
    assert exporter.pending()[ID_COLUMN].tolist() == first[ID_COLUMN].tolist()
    assert exporter.best().empty
    assert reads == []  # the same revision: nothing read or refitted again
    robot.record(pd.DataFrame([{"experiment_id": eid, "first_cycle_ce_pct": 88.5}]))  # another session writes
    after = exporter.history()
    assert reads == ["snap"]
    assert after.loc[after[ID_COLUMN] == eid, ["status", "first_cycle_ce_pct"]].values.tolist() == [["completed", 88.5]]


def _results(ids: list[str], ce: list[float]) -> pd.DataFrame:
    """Historical experiments ``ids`` (recipes of the virtual lab) with these first-cycle CEs."""
    table = VirtualLab.random_recipes(len(ids), seed=1).reset_index(drop=True)
    table.insert(0, ID_COLUMN, ids)
    table[CE] = ce
    return table


def test_history_after_a_restore_is_the_restored_campaigns_though_its_revision_was_seen_before(
        store_url: str, tmp_path: Path) -> None:
    """A long-running process (the web app, a worker) keeps the history of a revision; a restored
    backup comes back to an earlier revision and the next write to the number that process saw,
    with other values: it shows the stored ones, not those it kept."""
    lab = Campaign.from_config("hfo2-ncm85", storage=store_url, name="line", actor="lead")
    lab.record(_results(["A1", "A2"], [80.0, 81.0]))
    made = backup(store_url, tmp_path / ("lab.sqlite3" if store_url.startswith("sqlite") else "lab.dump"))
    lab.record(_results(["A3"], [85.0]))
    watcher = Campaign.load("line", store_url)
    assert watcher.history()[CE].tolist() == [80.0, 81.0, 85.0]
    seen = watcher.revision()

    restore(store_url, made.path, force=True)
    Campaign.load("line", store_url, actor="lead").record(_results(["A3"], [60.0]))
    assert watcher.revision() == seen  # the number it kept the history of, with other contents
    assert watcher.history()[CE].tolist() == [80.0, 81.0, 60.0]
    assert watcher.export_frame()[CE].tolist() == [80.0, 81.0, 60.0]


def test_history_of_a_campaign_made_again_under_its_name_is_the_new_campaigns(store_url: str) -> None:
    first = Campaign.from_config("hfo2-ncm85", storage=store_url, name="line", actor="lead")
    first.record(_results(["A1", "A2"], [80.0, 81.0]))
    watcher = Campaign.load("line", store_url)
    assert watcher.history()[CE].tolist() == [80.0, 81.0]
    seen = watcher.revision()

    first.store.discard_campaign("line", seen)  # deleted, then made again with as many changes
    again = Campaign.from_config("hfo2-ncm85", storage=store_url, name="line", actor="lead")
    again.record(_results(["A1", "A2"], [70.0, 71.0]))
    assert watcher.revision() == seen
    assert watcher.history()[CE].tolist() == [70.0, 71.0]


def test_configuration_of_a_campaign_made_again_under_its_name_is_the_new_campaigns(store_url: str) -> None:
    first = Campaign.from_config("hfo2-ncm85", storage=store_url, name="line", actor="lead")
    watcher = Campaign.load("line", store_url)
    config = first.config
    assert (watcher.config.seed, watcher.config_version) == (config.seed, 1)

    first.store.discard_campaign("line", first.revision())
    Campaign.from_config(config.replace(seed=int(config.seed or 0) + 1, description="made again"), storage=store_url,
                         actor="lead")
    assert watcher.revision() == 1  # a new campaign's, as the one it read
    assert (watcher.config.seed, watcher.config.description) == (int(config.seed or 0) + 1, "made again")
