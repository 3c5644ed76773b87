"""Failed password sign-ins per user name, in the campaign database (``sign_in_failures``).

The count lives in the database, not in an app process, so the limit holds across every app
process (and server) sharing one database, on SQLite and PostgreSQL alike. Each function runs
inside a write transaction of :class:`doe.storage.accounts.AccountStore` and reads the time
from the database (:func:`database_now`): one clock for every process, whatever machine it
runs on. The limits themselves (how many failures, how long) are the caller's
(:mod:`doe.auth.accounts`).

A row is keyed by a SHA-256 digest of the user name as typed, never by the account: a name
without an account is counted and refused like an account's, so a refusal says nothing about
which names exist, and no typed text is stored. Rows of names whose window and lock are over
are deleted (in a transaction of their own) before each attempt is counted, so the table holds
only the names tried lately.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from doe.storage import schema as s


def database_now(conn: Connection) -> datetime:
    """The database's clock (UTC, aware), one clock for every process that shares the database,
    whatever machine runs it: PostgreSQL's ``clock_timestamp()``. SQLite has no server: its file
    is opened by processes of one machine, so that machine's clock (read here to the microsecond;
    SQLite's own ``'now'`` is the same clock to the millisecond only)."""
    if conn.dialect.name == "postgresql":
        value = conn.execute(sa.text("SELECT clock_timestamp()")).scalar_one()
        return value.astimezone(UTC)  # type: ignore[no-any-return]
    return datetime.now(UTC)


def name_key(username: str) -> str:
    """The row key of a typed user name: the SHA-256 (hex) of its UTF-8 bytes (a lone surrogate
    kept as it is, so any text has a key)."""
    return hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()


def forget_finished(conn: Connection, window: timedelta) -> None:
    """Delete the rows whose counting window and lock are both over (rows another transaction
    holds are skipped on PostgreSQL, not waited for). Run in a transaction of its own, never in
    an attempt's: two attempts that each deleted the other's expired row would then wait on each
    other when they insert their own (a deadlock)."""
    t = s.sign_in_failures
    now = database_now(conn)
    finished = (sa.select(t.c.name_key)
                .where(t.c.first_failed_at <= now - window,
                       sa.or_(t.c.locked_until.is_(None), t.c.locked_until <= now))
                .with_for_update(skip_locked=True))
    conn.execute(sa.delete(t).where(t.c.name_key.in_(finished)))


def count_attempt(conn: Connection, username: str, *, max_failures: int, window: timedelta,
                  lockout: timedelta) -> tuple[datetime | None, datetime]:
    """Count one password attempt on ``username`` as failed before its password is checked (a
    success then calls :func:`forget`), so that no more than ``max_failures`` passwords are
    ever checked in ``window``, however many processes check them at once.

    Returns ``(locked_until, now)``: ``locked_until`` is the end of a lock in force (the attempt
    is then refused unchecked and not counted), else None; the attempt that makes
    ``max_failures`` within ``window`` locks the name for ``lockout`` from ``now`` (the
    database's time)."""
    t = s.sign_in_failures
    key = name_key(username)
    now = database_now(conn)
    insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    # one statement inserts the row or locks the one there (a row another transaction deletes
    # meanwhile is inserted afresh), so the row is always there to read
    statement = insert(t).values(name_key=key, failures=0, first_failed_at=now, locked_until=None)
    row = conn.execute(statement.on_conflict_do_update(index_elements=[t.c.name_key],
                                                       set_={"name_key": statement.excluded.name_key})
                       .returning(*t.c)).one()
    if row.locked_until is not None and now < row.locked_until:
        return row.locked_until, now
    failures, first = row.failures, row.first_failed_at
    if now - first >= window or row.locked_until is not None:  # a new window (after a lock: afresh)
        failures, first = 0, now
    failures += 1
    locked = now + lockout if failures >= max_failures else None
    conn.execute(sa.update(t).where(t.c.name_key == key)
                 .values(failures=failures, first_failed_at=first, locked_until=locked))
    return None, now


def locks_in_force(conn: Connection) -> dict[str, datetime]:
    """The end of each lock in force (the database's time), by :func:`name_key`."""
    t = s.sign_in_failures
    now = database_now(conn)
    rows = conn.execute(sa.select(t.c.name_key, t.c.locked_until).where(t.c.locked_until > now)).all()
    return {str(r.name_key): r.locked_until for r in rows}


def forget(conn: Connection, username: str) -> datetime | None:
    """Delete the count of ``username`` (a successful sign-in, or an admin's clearing); the end
    of the lock it had in force, or None."""
    t = s.sign_in_failures
    now = database_now(conn)
    ended = conn.execute(sa.delete(t).where(t.c.name_key == name_key(username))
                         .returning(t.c.locked_until)).first()
    if ended is None or ended.locked_until is None or ended.locked_until <= now:
        return None
    return ended.locked_until  # type: ignore[no-any-return]


__all__ = ["count_attempt", "database_now", "forget", "forget_finished", "locks_in_force", "name_key"]
