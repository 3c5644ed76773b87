"""SQLite's write lock held by another session (an open edit in DB Browser for SQLite): a change
waits the busy timeout once and is refused naming the cause; reading and opening a current
database need no write lock. A real ``sqlite3`` connection holds ``BEGIN IMMEDIATE``; the busy
timeout is shortened to 1 s (configuration, read when a connection is made)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from doe import Campaign, list_campaigns
from doe.engine.settings import EngineSettings
from doe.errors import StorageError, StoreUnavailableError
from doe.storage import engine
from doe.storage.sql import close_all

HELD = "another session holds the database's write lock"


@pytest.fixture(autouse=True)
def _short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    close_all()  # engines made from here on wait 1 s for a lock
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_S", 1)
    yield
    close_all()


def _hold_write_lock(db: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def _retries(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]


def test_a_change_waits_once_for_a_held_lock_and_names_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "locked.sqlite3"
    campaign = Campaign.from_config("hfo2-ncm85", storage=str(db), name="locks", settings=EngineSettings.fast())
    eid = str(campaign.suggest(1)["experiment_id"].iloc[0])
    holder = _hold_write_lock(db)
    try:
        caplog.set_level(logging.INFO, logger="doe")
        with pytest.raises(StoreUnavailableError, match=HELD) as refused:
            campaign.fail([eid], "dispersion gelled")
        assert "nothing was written" in str(refused.value)
        assert "folder" not in str(refused.value)  # not the permissions hint
        assert _retries(caplog) == []  # the busy timeout was waited for once, not again per retry
        assert campaign.history()["status"].tolist() == ["proposed"]  # reading goes on beside the writer
    finally:
        holder.rollback()
        holder.close()
    campaign.fail([eid], "dispersion gelled")
    assert campaign.history()["status"].tolist() == ["failed"]


def test_opening_a_current_database_needs_no_write_lock(tmp_path: Path) -> None:
    db = tmp_path / "locked.sqlite3"
    Campaign.from_config("hfo2-ncm85", storage=str(db), name="open-me")
    close_all()  # the next open is a fresh one, as in another process (`doe list`)
    holder = _hold_write_lock(db)
    try:
        assert list_campaigns(str(db))["name"].tolist() == ["open-me"]
        assert Campaign.load("open-me", str(db)).history().empty
    finally:
        holder.rollback()
        holder.close()


def test_creating_the_schema_under_a_held_lock_names_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite3"
    holder = _hold_write_lock(db)  # a new, empty file whose write lock another program holds
    try:
        with pytest.raises(StorageError, match=HELD):
            list_campaigns(str(db))
    finally:
        holder.rollback()
        holder.close()
