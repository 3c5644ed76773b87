"""The migrations build exactly the schema of doe.storage.schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from doe.errors import StorageError
from doe.storage import schema
from doe.storage.sql import SqlStore, close_all


def test_migrated_database_matches_the_schema_module(store_url: str) -> None:
    store = SqlStore.open(store_url)
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, schema.metadata)
    assert differences == []


def test_database_from_a_newer_doe_is_refused(store_url: str) -> None:
    store = SqlStore.open(store_url)
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    close_all()
    with pytest.raises(StorageError, match=r"schema version '9999_future'.*upgrade doe"):
        SqlStore.open(store_url)


def test_utc_datetime_type_round_trips_zones() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    store = SqlStore.open(":memory:")
    table = sa.Table("t", sa.MetaData(), sa.Column("at", schema.UtcDateTime()))
    cet = timezone(timedelta(hours=1))
    with store.engine.begin() as conn:
        table.create(conn)
        conn.execute(table.insert(), [{"at": datetime(2026, 1, 1, 12, 0, tzinfo=cet)},
                                      {"at": datetime(2026, 1, 1, 12, 0)}])
        values = conn.execute(sa.select(table.c.at)).scalars().all()
    assert values == [datetime(2026, 1, 1, 11, 0, tzinfo=UTC), datetime(2026, 1, 1, 12, 0, tzinfo=UTC)]
