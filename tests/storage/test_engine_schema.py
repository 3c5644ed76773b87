"""A doe process that opened a database before a newer doe upgraded its schema refuses to
write with its old idea of the tables (a real SQLite file and a real PostgreSQL database)."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from doe import Campaign
from doe.errors import StorageError
from doe.storage.accounts import AccountStore
from doe.storage.engine import head_revision
from doe.storage.sql import SqlStore

_CONFIG = {"name": "line", "seed": 1, "parameters": [{"name": "x", "type": "continuous", "bounds": [0.0, 1.0]}],
           "objectives": [{"name": "ce", "goal": "maximize"}]}
NEWER = "9999_a_newer_doe"


def _set_schema_version(url: str, version: str) -> None:
    """Set the stored schema version from another connection, as another doe's upgrade does."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": version})
    engine.dispose()


def test_a_write_after_a_newer_doe_upgraded_the_schema_is_refused_and_writes_nothing(store_url: str) -> None:
    """Found by a probe: a doe process open across an upgrade recorded a value into a failed
    experiment, clearing its status but not the failure context the new schema keeps, and made
    a campaign without the state token the new schema gives every campaign."""
    campaign = Campaign.from_config(_CONFIG, storage=store_url)
    campaign.record(pd.DataFrame([{"experiment_id": "E1", "x": 0.5, "failed": True, "failure_reason": "spill"}]))
    accounts = AccountStore(SqlStore.open(store_url))
    before = campaign.revision()
    _set_schema_version(store_url, NEWER)
    upgraded = rf"was upgraded to schema '{NEWER}' by a newer doe while this process ran .*nothing was written: " \
               "restart with the newer doe"
    with pytest.raises(StorageError, match=upgraded):
        campaign.record(pd.DataFrame([{"experiment_id": "E1", "ce": 92.0}]), correct=True)
    with pytest.raises(StorageError, match=upgraded):
        campaign.archive()
    with pytest.raises(StorageError, match=upgraded):
        Campaign.from_config({**_CONFIG, "name": "made-meanwhile"}, storage=store_url)
    with pytest.raises(StorageError, match=upgraded):
        accounts.add_user("ana", "engineer", password_hash=None, actor="test")
    # reads go on; nothing was written
    assert campaign.revision() == before and campaign.history()["status"].tolist() == ["failed"]
    assert list(SqlStore.open(store_url).list_campaigns()["name"]) == ["line"]
    _set_schema_version(store_url, head_revision())  # (as if the upgrade had not happened)
    assert campaign.record(pd.DataFrame([{"experiment_id": "E1", "ce": 92.0}]), correct=True).measurements_added == 1


def test_a_write_to_a_database_set_back_to_an_older_schema_is_refused(store_url: str) -> None:
    campaign = Campaign.from_config(_CONFIG, storage=store_url)
    _set_schema_version(store_url, "0009")
    with pytest.raises(StorageError, match=r"now has schema version '0009', not .* nothing was written: restart doe"):
        campaign.record(pd.DataFrame([{"x": 0.5, "ce": 90.0}]))
    assert campaign.history().empty
