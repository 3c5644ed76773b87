"""Alembic environment for the campaign store.

doe applies migrations itself when a store is opened (:meth:`doe.storage.sql.SqlStore.open`):
it passes its own connection, already inside a locked transaction, as
``config.attributes["connection"]``. The ``alembic`` command line works too (for writing new
revisions): ``alembic -c doe/storage/alembic.ini -x url=sqlite:///dev.sqlite3 revision
--autogenerate -m "..."``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from doe.storage.schema import metadata

config = context.config
target_metadata = metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the database: alembic -x url=sqlite:///path.sqlite3 ...")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()


if context.is_offline_mode():
    raise SystemExit("doe migrations run online only (against a database)")
run_migrations_online()
