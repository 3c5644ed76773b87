"""Database engines: URL resolution, engine creation and caching, SQLite pragmas, retries, migrations.

Engines are cached per URL in the process (:func:`open_engine`); a forked child disposes the
parent's pooled connections. Opening an engine reads the schema version and, only when a
migration is due, applies the Alembic migrations in :mod:`doe.storage.migrations` (under
``BEGIN IMMEDIATE`` on SQLite and ``pg_advisory_xact_lock`` on PostgreSQL, so processes that
open a new database together do not collide); a current database is opened without the write lock.
"""

from __future__ import annotations

import logging
import os
import random
import re
import sqlite3
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from doe.errors import StorageError
from doe.paths import default_database_url
from doe.storage.urls import mask_secrets, mask_url
from doe.storage.values import shorten

log = logging.getLogger(__name__)

_MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_ADVISORY_LOCK_KEY = 74_120_431  # any constant shared by every doe process
RETRIES = 5
"""Attempts of one transaction that meets a lock timeout, deadlock or serialization failure."""
LOCK_TIMEOUT_S = 60
"""PostgreSQL: how long a statement waits for a lock another session holds (an open
transaction left in psql, a stuck process) before the change is refused."""
SQLITE_BUSY_TIMEOUT_S = 30
"""SQLite: how long a change waits for the write lock another session holds (an open edit in DB
Browser for SQLite, a stuck process) before it is refused; read when a connection is made."""
LOCK_HELD = "55P03"
"""PostgreSQL's SQLSTATE of a lock not obtained in :data:`LOCK_TIMEOUT_S`."""


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")


def _looks_like_url(path: str) -> bool:
    """A database "path" that starts like a URL (``postgresql:/user:pw@host/db``, one slash
    short): opened as a file it would become an SQLite file named after the URL. A single
    letter (``C:``) is a Windows drive, not a scheme."""
    match = _SCHEME.match(path)
    return match is not None and len(match.group(1)) > 1




# --------------------------------------------------------------------------- engines
@dataclass
class EngineEntry:
    engine: Engine
    url: str
    memory: bool
    lock: AbstractContextManager[Any] = field(default_factory=nullcontext)
    schema_version: str | None = None
    read_only: str | None = None
    """Why the database is opened read-only (``None``: it is writable)."""


_ENGINES: dict[str, EngineEntry] = {}
_ENGINES_LOCK = threading.Lock()


def is_in_memory(url: str) -> bool:
    """Whether ``url`` names an SQLite database that lives only in memory, in any spelling
    (``:memory:``, ``sqlite://``, ``sqlite+pysqlite:///:memory:?cache=shared``,
    ``sqlite:///file:x?mode=memory&uri=true``)."""
    text = url.strip()
    if text in (":memory:", "sqlite://", "sqlite:///:memory:"):
        return True
    if "://" not in text:
        return False
    try:
        parsed = sa.engine.make_url(text)
    except (sa.exc.ArgumentError, ValueError):
        return False
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database or ""
    return database in ("", ":memory:") or "mode=memory" in database or parsed.query.get("mode") == "memory"


def resolve_url(url: str | None) -> tuple[str, bool]:
    """The SQLAlchemy URL for ``url`` and whether it is a private in-memory database.

    Text without ``://`` is an SQLite file path, exactly as written (``?`` and ``%`` in it
    are part of the file name, see :func:`sqlite_url`); a URL is kept as given.
    """
    if url is None:
        url = default_database_url()
    if not isinstance(url, str) or not url.strip():
        raise StorageError(f"the database URL must be non-empty text, got {shorten(url)}")
    url = url.strip()
    if url in (":memory:", "sqlite://", "sqlite:///:memory:"):
        return "sqlite://", True
    if "://" not in url:
        if _looks_like_url(url):
            raise StorageError(
                f"database {mask_url(url)!r} looks like a URL but is not one (a URL has '://' after its "
                "scheme, e.g. 'postgresql+psycopg://user:password@host:5432/doe' or "
                "'sqlite:///path/doe.sqlite3'); for a file whose name has a colon, write './' before it")
        url = sqlite_url(Path(url).expanduser().resolve())
    if (path := sqlite_path(url)) is not None:
        # The data folder of a new SQLite file may not exist yet (fresh DOE_HOME).
        path.expanduser().parent.mkdir(parents=True, exist_ok=True)
    return url, False


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of the SQLite file ``path``, which SQLAlchemy reads back as exactly
    ``path`` (:func:`sqlite_path`).

    SQLAlchemy percent-decodes a URL's database part and starts its query at ``?``, so a
    file named ``run?2.sqlite3`` or ``lab 100%25.sqlite3`` pasted in as it is would open
    another file (``run``, ``lab 100%.sqlite3``): those two characters are escaped. Every
    other character decodes to itself, so the rest (spaces, accents) stays as readable as
    the path in messages.
    """
    return "sqlite:///" + str(path).replace("%", "%25").replace("?", "%3F")


def connect_hint(backend: str) -> str:
    if backend == "sqlite":
        return "check that the folder exists and is writable and that the file is an SQLite database"
    return (
        "check that the server is running and reachable (host, port), that the user, password "
        "and database name are right, and that psycopg is installed (pip install 'psycopg[binary]')"
    )


def new_engine(url: str, memory: bool) -> EngineEntry:
    if memory:
        engine = sa.create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
        _install_sqlite_events(engine, wal=False)
        # One shared connection: transactions from several threads must take turns.
        return EngineEntry(engine, ":memory:", True, lock=threading.RLock())
    try:
        parsed = sa.engine.make_url(url)
    except (ArgumentError, ValueError) as err:
        raise StorageError(
            f"{mask_url(url)!r} is not a database URL; use e.g. 'sqlite:///path/doe.sqlite3', "
            "'postgresql+psycopg://user:password@host:5432/doe' or a plain file path"
        ) from err
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend not in ("sqlite", "postgresql"):
        raise StorageError(
            f"database {mask_url(url)!r}: backend {backend!r} is not supported; use SQLite "
            "('sqlite:///path/doe.sqlite3') or PostgreSQL ('postgresql+psycopg://user:password@host/doe')"
        )
    try:
        if backend == "sqlite":
            engine = sa.create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False})
            _install_sqlite_events(engine, wal=True, url=url)
        else:
            engine = sa.create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})
            _install_postgres_events(engine)
    except (ArgumentError, NoSuchModuleError, ImportError) as err:
        raise StorageError(f"cannot open database {mask_url(url)!r}: {mask_secrets(str(err), url)}; "
                           f"{connect_hint(backend)}") from err
    return EngineEntry(engine, url, False)


def _install_postgres_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # a bounded wait, not forever and in silence, for a lock another session keeps
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = '{int(LOCK_TIMEOUT_S * 1000)}ms'")
        dbapi_connection.autocommit = autocommit


def lock_held_message(err: DBAPIError) -> str | None:
    """What to say of a lock not obtained in time (None for any other error)."""
    if getattr(getattr(err, "orig", None), "sqlstate", None) == LOCK_HELD:
        return (f"another database session has held what this change needs for over {LOCK_TIMEOUT_S} s (a "
                "transaction left open, e.g. in psql, or a stuck process; the server's pg_stat_activity shows it); "
                "nothing was written; try again once it has ended")
    if isinstance(getattr(err, "orig", None), sqlite3.OperationalError) and is_retryable(err):
        return (f"another session holds the database's write lock and kept it for over {SQLITE_BUSY_TIMEOUT_S:g} s "
                "(a program with a change open in the file, e.g. unsaved edits in DB Browser for SQLite, or a stuck "
                "process); nothing was written; try again once it has ended")
    return None


def _install_sqlite_events(engine: Engine, *, wal: bool, read_only: str | None = None, url: str = "") -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # doe emits BEGIN itself (below): pysqlite's own transaction handling would start
        # every transaction DEFERRED and could not take the write lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if wal:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("doe_write", False)
        if write and read_only is not None:
            raise StorageError(
                f"database {mask_url(url)!r} is read-only ({read_only}); nothing was written. Reading "
                "(history, export, a suggestion preview) works; to record, make the file and its folder "
                "writable or copy the file to a writable place")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


# --------------------------------------------------------------------------- existing SQLite files
@dataclass(frozen=True)
class SqliteFile:
    """What an existing SQLite file holds: its table names and doe's schema version (if any)."""

    tables: frozenset[str]
    revision: str | None


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL (``None`` for other backends, memory or ``file:`` URIs)."""
    try:
        parsed = sa.engine.make_url(url)
    except (ArgumentError, ValueError):
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _sqlite_uri(path: Path, *, immutable: bool) -> str:
    return f"file:{quote(str(path))}?mode=ro" + ("&immutable=1" if immutable else "")


def read_sqlite_file(path: Path, url: str, *, immutable: bool = False) -> SqliteFile | None:
    """The tables and schema version of an existing, non-empty SQLite file, read through a
    read-only connection (``mode=ro``) so that not a byte of it changes; ``None`` when there
    is no file yet or it is empty (a new database)."""
    try:
        if path.stat().st_size == 0:
            return None
    except FileNotFoundError:
        return None
    except OSError as err:
        raise StorageError(f"cannot open database {mask_url(url)!r}: {err.strerror}; {connect_hint('sqlite')}") from err
    try:
        conn = sqlite3.connect(_sqlite_uri(path, immutable=immutable), uri=True, timeout=30)
        try:
            tables = frozenset(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
            revision = None
            if "alembic_version" in tables:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = None if row is None else str(row[0])
        finally:
            conn.close()
    except sqlite3.Error as err:
        raise StorageError(f"cannot open database {mask_url(url)!r}: {err}; {connect_hint('sqlite')}") from err
    return SqliteFile(tables, revision)


def refuse_foreign(tables: frozenset[str] | set[str], revision: str | None, url: str) -> None:
    """Refuse a database that holds another application's tables: doe would add its own beside them."""
    foreign = not ({"alembic_version", "campaigns"} <= tables) if tables else False
    if foreign or (revision is not None and revision not in known_revisions() and "campaigns" not in tables):
        shown = ", ".join(sorted(tables)[:10]) + (", ..." if len(tables) > 10 else "")
        raise StorageError(
            f"database {mask_url(url)!r} is not empty and is not a doe database (it holds the tables {shown}); "
            "doe does not add its tables to another application's database: use a new file or database")


def _writable(path: Path) -> str | None:
    """Why ``path`` cannot be written (``None``: it can)."""
    if not os.access(path, os.W_OK):
        return f"the file {str(path)!r} is not writable"
    if not os.access(path.parent, os.W_OK):
        return f"its folder {str(path.parent)!r} is not writable"
    return None


def _open_sqlite_file(url: str, path: Path) -> EngineEntry | None:
    """Check an existing SQLite file before anything writes to it (the WAL switch would):
    refuse another application's database; open a read-only one read-only when its schema
    is current. ``None``: open it normally."""
    folder_locked = not os.access(path.parent, os.W_OK)
    wal = Path(f"{path}-wal")
    immutable = folder_locked and not (wal.exists() and wal.stat().st_size > 0)
    state = read_sqlite_file(path, url, immutable=immutable)
    if state is None:
        return None
    refuse_foreign(state.tables, state.revision, url)
    reason = _writable(path)
    if reason is None:
        return None
    head = head_revision()
    if state.revision != head:
        raise StorageError(
            f"database {mask_url(url)!r} is read-only ({reason}) and its schema {state.revision!r} must first be "
            f"brought to {head!r}: open it once with write access (or with the doe that wrote it)")
    uri = _sqlite_uri(path, immutable=immutable)
    engine = sa.create_engine(
        "sqlite://", poolclass=sa.pool.QueuePool,
        creator=lambda: sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False))
    _install_sqlite_events(engine, wal=False, read_only=reason, url=url)
    log.info("database %s opened read-only: %s", mask_url(url), reason)
    return EngineEntry(engine, url, False, schema_version=head, read_only=reason)


def retry_deadline(backend: str) -> float:
    """When a transaction starting now stops being tried again (:func:`should_retry`): after the
    promised lock wait (:data:`SQLITE_BUSY_TIMEOUT_S`, PostgreSQL :data:`LOCK_TIMEOUT_S`)."""
    return time.monotonic() + (SQLITE_BUSY_TIMEOUT_S if backend == "sqlite" else LOCK_TIMEOUT_S)


def should_retry(err: DBAPIError, attempt: int, deadline: float) -> bool:
    """Whether try ``attempt`` (0-based) that failed with ``err`` is made again: a lock timeout,
    deadlock or serialization failure, a try left of :data:`RETRIES`, and before ``deadline``
    (SQLite's busy timeout has already waited for the lock: another try would wait as long again)."""
    return is_retryable(err) and attempt < RETRIES - 1 and time.monotonic() < deadline


def is_retryable(err: DBAPIError) -> bool:
    orig = getattr(err, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in ("40001", "40P01"):  # serialization failure, deadlock detected
        return True
    text = str(orig).lower()
    return "database is locked" in text or "database is busy" in text


def driver_message(err: DBAPIError, url: str) -> str:
    """The driver's message, first line, without the URL's secrets (:func:`doe.storage.urls.mask_secrets`)."""
    lines = str(getattr(err, "orig", None) or err).strip().splitlines()
    return mask_secrets(lines[0] if lines else type(err).__name__, url)


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest schema version this package knows (the Alembic head)."""
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(None)  # type: ignore[arg-type]
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def known_revisions() -> frozenset[str]:
    """Every schema version (Alembic revision) this package can migrate from."""
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(None)  # type: ignore[arg-type]
    return frozenset(script.revision for script in ScriptDirectory.from_config(cfg).walk_revisions())


def migrate(entry: EngineEntry) -> str:
    """Bring the database to the newest schema; return the schema version."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.util.exc import CommandError

    masked = mask_url(entry.url)
    deadline = retry_deadline(entry.engine.dialect.name)
    for attempt in range(RETRIES):
        try:
            with entry.lock, entry.engine.connect() as conn, conn.begin():  # a plain read: no lock when current
                current = MigrationContext.configure(conn).get_current_revision()
            if current is not None and current == head_revision():
                return current
            with entry.lock, entry.engine.connect() as conn:
                conn.execution_options(doe_write=True)
                with conn.begin():
                    if conn.dialect.name == "postgresql":
                        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
                    before = MigrationContext.configure(conn).get_current_revision()
                    if before is None:
                        refuse_foreign(set(sa.inspect(conn).get_table_names()), None, entry.url)
                    try:
                        command.upgrade(_alembic_config(conn), "head")
                    except CommandError as err:
                        raise StorageError(
                            f"database {masked!r} has schema version {before!r}, which this doe "
                            f"{package_version()} does not know (newest: {head_revision()!r}); "
                            "upgrade doe to open it"
                        ) from err
                    after = MigrationContext.configure(conn).get_current_revision()
            if before != after:
                log.info("database %s migrated from schema %s to %s", masked, before, after)
            return str(after)
        except DBAPIError as err:
            if should_retry(err, attempt, deadline):
                retry_pause(attempt)
                continue
            if (held := lock_held_message(err)) is not None:
                raise StorageError(f"cannot open database {masked!r}: {held}") from err
            first_line = driver_message(err, entry.url)
            raise StorageError(
                f"cannot open database {masked!r}: {first_line}; {connect_hint(entry.engine.dialect.name)}"
            ) from err
    raise AssertionError("unreachable")


def check_schema_version(conn: Connection, url: str, expected: str | None) -> None:
    """Refuse a write whose database no longer has the schema version ``expected`` (the one this
    process opened it at and knows the tables of): a newer doe upgraded it meanwhile, and a
    write made with this process's idea of the tables could leave its new columns as they were.
    Runs inside the write's transaction, as its first statement: on SQLite after ``BEGIN
    IMMEDIATE`` (an upgrade takes the same lock); on PostgreSQL the version row is read ``FOR
    SHARE``, so an upgrade that starts meanwhile waits until this write has ended.

    Raises:
        StorageError: the version differs; nothing was written.
    """
    lock = " FOR SHARE" if conn.dialect.name == "postgresql" else ""
    found = conn.exec_driver_sql(f"SELECT version_num FROM alembic_version{lock}").scalar()
    if found == expected:
        return
    if found is not None and found not in known_revisions():
        raise StorageError(
            f"database {mask_url(url)!r} was upgraded to schema {found!r} by a newer doe while this process ran "
            f"(doe {package_version()} knows schema {expected!r}); nothing was written: restart with the newer doe")
    raise StorageError(f"database {mask_url(url)!r} now has schema version {found!r}, not {expected!r} as when this "
                       "process opened it (was it restored from an older backup?); nothing was written: restart "
                       "doe to open it again")


def package_version() -> str:
    try:
        from doe.version import __version__

        return __version__
    except ImportError:  # pragma: no cover
        return "unknown"


def _forget_after_fork() -> None:
    # A forked child must not use the parent's pooled connections (SQLite handles, sockets).
    for entry in list(_ENGINES.values()):
        entry.engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def close_all() -> None:
    """Dispose every cached engine (tests, and processes about to fork)."""
    with _ENGINES_LOCK:
        entries = list(_ENGINES.values())
        _ENGINES.clear()
    for entry in entries:
        entry.engine.dispose()



def retry_pause(attempt: int) -> None:
    """Wait before retry ``attempt`` (0-based): exponential backoff with jitter."""
    time.sleep(0.05 * 2**attempt + random.random() * 0.05)


def open_engine(url: str | None) -> EngineEntry:
    """The engine for ``url`` (see :meth:`doe.storage.sql.SqlStore.open`), migrated to the newest schema.

    File and server databases are cached per URL; ``":memory:"`` makes a private one each call.
    """
    resolved, memory = resolve_url(url)
    if memory:
        entry = new_engine(resolved, True)
        entry.schema_version = migrate(entry)
        return entry
    with _ENGINES_LOCK:
        cached = _ENGINES.get(resolved)
        if cached is None:
            path = sqlite_path(resolved)
            read_only = None if path is None else _open_sqlite_file(resolved, path)
            if read_only is not None:
                _ENGINES[resolved] = read_only
                return read_only
            cached = new_engine(resolved, False)
            try:
                cached.schema_version = migrate(cached)
            except BaseException:
                cached.engine.dispose()
                raise
            _ENGINES[resolved] = cached
    return cached


def forget_engine(entry: EngineEntry) -> None:
    """Dispose ``entry``'s connections and drop it from the cache; a later open starts afresh."""
    with _ENGINES_LOCK:
        if _ENGINES.get(entry.url) is entry:
            del _ENGINES[entry.url]
    entry.engine.dispose()
