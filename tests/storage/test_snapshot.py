"""Reads of a campaign show one state of it although another session writes between them, and the
history is computed once per revision (:mod:`doe.storage.snapshot`)."""

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
