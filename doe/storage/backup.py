"""Backup and restore of a whole doe database (every campaign, its history and audit trail).

* SQLite: :func:`backup` copies the file with SQLite's online backup API
  (:meth:`sqlite3.Connection.backup`) in one step, i.e. inside one read transaction: in WAL
  mode other processes keep writing meanwhile and the copy is the database as of one moment.
  The copy is written next to the target under a temporary name, checked with
  ``PRAGMA integrity_check`` and then renamed into place, so a failed backup leaves no
  half-written file.
* PostgreSQL: :func:`backup` runs ``pg_dump --format=custom`` and :func:`restore` runs
  ``pg_restore``, both given the whole connection (host, port, user, database and the URL's
  query options, e.g. a Unix socket ``?host=/run/pg&port=5433``) as libpq conninfo, the same
  connection doe's own reads of the counts use; the password (of the user part or a
  ``?password=``) travels in the ``PGPASSWORD`` environment variable of the child process and
  never appears in a command line or a message.

:func:`restore` refuses a target that holds tables doe does not make (another application's
database: a restore would replace or sit beside them), with or without ``force``; it refuses a
target that already holds anything of doe (campaigns, accounts, memberships or the account
audit trail) unless ``force=True``, checks
that the backup is a doe database at a schema revision this package knows, brings it to the
newest schema (the usual migrations) and reports what it restored.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import URL

from doe.errors import StorageError
from doe.storage import schema
from doe.storage.engine import is_in_memory, known_revisions, sqlite_url
from doe.storage.sql import SqlStore
from doe.storage.urls import PgConnection, mask_secrets, mask_url, pg_connection

Backend = Literal["sqlite", "postgresql"]
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
_PG_TIMEOUT_S = 3600
HELD_TABLES = (("campaigns", "campaign(s)"), ("users", "account(s)"), ("memberships", "membership(s)"),
               ("account_audit", "account audit entry(ies)"))
"""What makes a target database not empty for :func:`restore` (each table with its words)."""
DOE_TABLES = frozenset(schema.metadata.tables) | {"alembic_version"}
"""Every table a doe database holds (besides the suggestion queue's, :data:`QUEUE_TABLE_PREFIX`); a
restore target holding any other is refused, even with ``force``."""
QUEUE_TABLE_PREFIX = "procrastinate_"
"""The tables of doe's suggestion queue on PostgreSQL (:mod:`doe.workers`: procrastinate's own)."""


@dataclass(frozen=True)
class BackupCounts:
    """What a doe database holds: campaigns, experiments and measurements (superseded included)."""

    campaigns: int
    experiments: int
    measurements: int

    def __str__(self) -> str:
        return (f"{self.campaigns} campaign(s), {self.experiments} experiment(s), "
                f"{self.measurements} measurement(s)")


@dataclass(frozen=True)
class BackupReport:
    """The outcome of :func:`backup` or :func:`restore`.

    ``path`` is the backup file; ``url`` the database (password masked); ``schema_version``
    the Alembic revision of the backup (backup) or of the restored database (restore).
    """

    backend: Backend
    path: Path
    url: str
    schema_version: str
    counts: BackupCounts


# --------------------------------------------------------------------------- locating databases
def _target(url: str) -> tuple[Backend, Path | URL]:
    """The backend of ``url`` and its SQLite file or parsed PostgreSQL URL."""
    if not isinstance(url, str) or not url.strip():
        raise StorageError(f"the database URL must be non-empty text, got {url!r}")
    url = url.strip()
    if is_in_memory(url):
        raise StorageError("an in-memory database cannot be backed up or restored; give a file or a server URL")
    if "://" not in url:
        return "sqlite", Path(url).expanduser().resolve()
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError) as err:
        raise StorageError(f"{mask_url(url)!r} is not a database URL") from err
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise StorageError("an in-memory database cannot be backed up or restored; give a file or a server URL")
        return "sqlite", Path(parsed.database).expanduser().resolve()
    if backend == "postgresql":
        return "postgresql", parsed
    raise StorageError(f"database {mask_url(url)!r}: backend {backend!r} is not supported for backups; "
                       "use an SQLite file or a PostgreSQL URL")


def _file_kind(path: Path, what: str) -> Literal["sqlite", "pg_dump"]:
    if not path.exists():
        raise StorageError(f"{what} {str(path)!r} does not exist")
    if not path.is_file():
        raise StorageError(f"{what} {str(path)!r} is not a file")
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "pg_dump"
    raise StorageError(f"{what} {str(path)!r} is neither an SQLite database nor a pg_dump custom-format archive")


def _sqlite_revision(conn: sqlite3.Connection, path: Path, what: str) -> str:
    """The doe schema revision of an open SQLite database; StorageError if it is not a doe one."""
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall() \
            if "alembic_version" in tables else []
    except sqlite3.DatabaseError as err:
        raise StorageError(f"{what} {str(path)!r} is not a readable SQLite database: {err}") from err
    if "campaigns" not in tables or len(rows) != 1:
        raise StorageError(f"{what} {str(path)!r} is an SQLite file but not a doe database "
                           "(no campaigns table or schema version)")
    revision = str(rows[0][0])
    if revision not in known_revisions():
        raise StorageError(f"{what} {str(path)!r} has schema version {revision!r}, which this doe does not know; "
                           "upgrade doe to restore it")
    return revision


def _counts_sql(conn: sa.Connection) -> BackupCounts:
    def count(table: str) -> int:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())

    return BackupCounts(count("campaigns"), count("experiments"), count("measurements"))


def _counts_sqlite(conn: sqlite3.Connection) -> BackupCounts:
    def count(table: str) -> int:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    return BackupCounts(count("campaigns"), count("experiments"), count("measurements"))


def _check_out(out: Path) -> Path:
    out = Path(out).expanduser().resolve()
    if not out.parent.is_dir():
        raise StorageError(f"the folder {str(out.parent)!r} for the backup file {out.name!r} does not exist; "
                           "create it first")
    if out.exists():
        raise StorageError(f"the backup file {str(out)!r} exists already; choose a new name or delete it")
    return out


# --------------------------------------------------------------------------- backup
def backup(url: str, out: Path) -> BackupReport:
    """Copy the doe database at ``url`` into the new file ``out`` (see the module docstring).

    Raises:
        StorageError: the source is missing or not a doe database, the folder of ``out`` does
            not exist, ``out`` exists already, or ``pg_dump`` is missing or fails.
    """
    backend, where = _target(url)
    out = _check_out(out)
    if backend == "sqlite":
        assert isinstance(where, Path)
        return _backup_sqlite(where, out)
    assert isinstance(where, URL)
    return _backup_postgres(where, out)


def _backup_sqlite(source: Path, out: Path) -> BackupReport:
    if _file_kind(source, "the database") != "sqlite":
        raise StorageError(f"the database {str(source)!r} is not an SQLite file")
    src = _open_source(source)
    try:
        fd, tmp_name = _new_partial(out)
    except StorageError:
        src.close()
        raise
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        revision = _sqlite_revision(src, source, "the database")
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)  # pages=-1: the whole database in one step, one consistent snapshot
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
            _integrity(dst, out)
            counts = _counts_sqlite(dst)
        finally:
            dst.close()
        _replace(tmp, out)
    except sqlite3.Error as err:
        raise StorageError(f"cannot back up {str(source)!r}: {err}") from err
    finally:
        src.close()
        tmp.unlink(missing_ok=True)
    return BackupReport("sqlite", out, sqlite_url(source), revision, counts)


def _open_source(source: Path) -> sqlite3.Connection:
    """A connection to the SQLite database ``source`` that never creates it: read-write (the
    backup API wants a normal, WAL-aware connection), or read-only where that cannot open it
    because its folder cannot be written (no journal or shared-memory file can be made beside
    it); then ``immutable`` unless a ``-wal`` file holds pages, as :mod:`doe.storage.engine` opens it."""
    src = sqlite3.connect(f"{source.as_uri()}?mode=rw", uri=True, timeout=30)
    try:
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return src
    except sqlite3.OperationalError as err:
        src.close()
        if "unable to open" not in str(err):
            raise StorageError(f"cannot back up {str(source)!r}: {err}") from err
    wal = Path(f"{source}-wal")
    immutable = not (wal.exists() and wal.stat().st_size > 0)
    return sqlite3.connect(f"{source.as_uri()}?mode=ro" + ("&immutable=1" if immutable else ""), uri=True,
                           timeout=30)


def _new_partial(out: Path) -> tuple[int, str]:
    """A new hidden file beside ``out`` for the copy (descriptor, name)."""
    try:
        return tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    except OSError as err:
        raise StorageError(f"the backup file {str(out)!r} cannot be written: its folder {str(out.parent)!r} "
                           f"refuses new files ({err.strerror or err}); nothing was written") from err


def _replace(tmp: Path, out: Path) -> None:
    try:
        os.replace(tmp, out)
    except OSError as err:
        raise StorageError(f"the backup file {str(out)!r} cannot be written ({err.strerror or err}); "
                           "nothing was written") from err


def _integrity(conn: sqlite3.Connection, path: Path) -> None:
    result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if result != ["ok"]:
        raise StorageError(f"the copy {str(path)!r} failed SQLite's integrity check: {result[:5]}")


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise StorageError(f"{name} is not on PATH; install the PostgreSQL client tools "
                           "(e.g. apt-get install postgresql-client) or run it yourself (see the README)")
    return found


def _pg_env(connection: PgConnection) -> dict[str, str]:
    """The environment of pg_dump/pg_restore: the password in PGPASSWORD, nowhere else."""
    env = dict(os.environ)
    if connection.password is not None:
        env["PGPASSWORD"] = connection.password
    return env


def _run_pg(args: list[str], connection: PgConnection, url: URL, what: str) -> None:
    """Run a PostgreSQL client tool (never prompting for a password) on ``connection``."""
    try:
        done = subprocess.run([args[0], "--no-password", "--dbname", connection.conninfo, *args[1:]],
                              env=_pg_env(connection), capture_output=True, text=True, timeout=_PG_TIMEOUT_S,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise StorageError(f"{what} of {connection.shown!r} failed: {mask_secrets(str(err), url)}") from err
    if done.returncode != 0:
        text = done.stderr.strip().splitlines()
        first = mask_secrets(text[0], url) if text else f"exit code {done.returncode}"
        raise StorageError(f"{what} of {connection.shown!r} failed: {first}")


def _pg_engine(connection: PgConnection) -> sa.Engine:
    """An engine on exactly ``connection`` (the conninfo the tools get): the counts reported are
    of the database pg_dump or pg_restore touched."""
    import psycopg

    return sa.create_engine("postgresql+psycopg://", poolclass=sa.pool.NullPool, creator=lambda: psycopg.connect(
        connection.conninfo, password=connection.password, connect_timeout=10))


def _pg_store_facts(connection: PgConnection) -> tuple[str, BackupCounts]:
    engine = _pg_engine(connection)
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            if "campaigns" not in tables or "alembic_version" not in tables:
                raise StorageError(f"database {connection.shown!r} is not a doe database")
            revision = str(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one())
            return revision, _counts_sql(conn)
    except sa.exc.DBAPIError as err:
        raise StorageError(f"cannot read database {connection.shown!r}: {type(err.orig).__name__}") from err
    finally:
        engine.dispose()


def _backup_postgres(url: URL, out: Path) -> BackupReport:
    connection = pg_connection(url)
    pg_dump = _pg_tool("pg_dump")
    fd, tmp_name = _new_partial(out)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        revision, counts = _pg_store_facts(connection)
        _run_pg([pg_dump, "--format=custom", "--file", str(tmp)], connection, url, "pg_dump")
        _replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return BackupReport("postgresql", out, connection.shown, revision, counts)


# --------------------------------------------------------------------------- restore
def restore(url: str, source: Path, *, force: bool = False) -> BackupReport:
    """Restore the backup file ``source`` into the database at ``url``.

    An SQLite backup restores into an SQLite file, a pg_dump archive into a PostgreSQL
    database. The target must hold no table doe does not make (even with ``force``) and nothing
    of doe (no campaign, account, membership or account audit entry) unless ``force`` (then it
    is replaced).

    Raises:
        StorageError: the backup is missing, not a doe backup or of an unknown schema; the
            target holds another application's tables, holds anything (without ``force``; the
            message says what) or is of the other backend.
    """
    backend, where = _target(url)
    source = Path(source).expanduser().resolve()
    kind = _file_kind(source, "the backup file")
    if kind == "sqlite" and backend == "sqlite":
        assert isinstance(where, Path)
        return _restore_sqlite(source, where, force)
    if kind == "pg_dump" and backend == "postgresql":
        assert isinstance(where, URL)
        return _restore_postgres(source, where, force)
    made_by = "SQLite" if kind == "sqlite" else "PostgreSQL (pg_dump)"
    into = "an SQLite file" if kind == "sqlite" else "a PostgreSQL database"
    raise StorageError(f"the backup file {str(source)!r} is a {made_by} backup and restores only into {into}; "
                       "to move campaigns between backends, export each with `doe export --out campaign.json` "
                       "and load it with doe.Campaign.import_json")


def _refuse_foreign(present: set[str], where: str) -> None:
    """Refuse a target holding tables doe does not make, with or without ``force``: an SQLite
    restore would delete them with the rest of the file, pg_restore would leave doe's beside them."""
    foreign = sorted(table for table in present if table not in DOE_TABLES
                     and not table.startswith(("sqlite_", QUEUE_TABLE_PREFIX)))
    if foreign:
        shown = ", ".join(foreign[:10]) + (", ..." if len(foreign) > 10 else "")
        raise StorageError(f"the target {where!r} holds tables that are not doe's ({shown}): it is another "
                           "application's database (or one of a newer doe), which doe does not restore into, "
                           "not even with --force; restore into a new file or database (nothing was changed)")


def _refuse_nonempty(held: dict[str, int], where: str, force: bool) -> None:
    """Refuse (without ``force``) a target that holds rows of :data:`HELD_TABLES` (``held``:
    table -> row count, tables it lacks left out), naming what it holds."""
    words = [f"{held[table]} {what}" for table, what in HELD_TABLES if held.get(table)]
    if words and not force:
        raise StorageError(f"the target {where!r} already holds {', '.join(words)}, which a restore would "
                           "replace; restore into an empty database, or pass --force to replace everything in it "
                           "(nothing was changed)")


def _restore_sqlite(source: Path, target: Path, force: bool) -> BackupReport:
    if not target.parent.is_dir():
        raise StorageError(f"the folder {str(target.parent)!r} for the target database {target.name!r} does not "
                           "exist; create it first")
    if source == target:
        raise StorageError(f"the backup file and the target are the same file {str(target)!r}")
    src = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)
    try:
        _sqlite_revision(src, source, "the backup file")
        if target.exists():
            if _file_kind(target, "the target database") != "sqlite":
                raise StorageError(f"the target {str(target)!r} is not an SQLite database")
            dst = sqlite3.connect(f"{target.as_uri()}?mode=rw", uri=True, timeout=30)
            try:
                present = {r[0] for r in dst.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                _refuse_foreign(present, str(target))
                _refuse_nonempty({table: int(dst.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                                  for table, _ in HELD_TABLES if table in present}, str(target), force)
            except sqlite3.DatabaseError as err:
                dst.close()
                raise StorageError(f"the target {str(target)!r} is not a readable SQLite database: {err}") from err
            except StorageError:
                dst.close()
                raise
        else:
            dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.Error as err:
        raise StorageError(f"cannot restore {str(source)!r} into {str(target)!r}: {err}") from err
    finally:
        src.close()
    return _report_restored("sqlite", source, sqlite_url(target))


def _restore_postgres(source: Path, url: URL, force: bool) -> BackupReport:
    connection = pg_connection(url)
    shown = connection.shown
    engine = _pg_engine(connection)
    try:
        with engine.connect() as conn:
            present = set(sa.inspect(conn).get_table_names())
            _refuse_foreign(present, shown)
            _refuse_nonempty({table: int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
                              for table, _ in HELD_TABLES if table in present}, shown, force)
    except sa.exc.DBAPIError as err:
        raise StorageError(f"cannot read database {shown!r}: {type(err.orig).__name__}") from err
    finally:
        engine.dispose()
    listing = subprocess.run([_pg_tool("pg_restore"), "--list", str(source)], capture_output=True, text=True,
                             timeout=_PG_TIMEOUT_S, check=False)
    entries = {" ".join(line.split()[3:6]) for line in listing.stdout.splitlines() if not line.startswith(";")}
    if listing.returncode != 0 or not {"TABLE public campaigns", "TABLE public alembic_version"} <= entries:
        raise StorageError(f"the backup file {str(source)!r} is a pg_dump archive but not of a doe database "
                           "(no campaigns table or schema version)")
    # pg_restore --clean replaces only the tables in the archive: those of a newer schema would
    # stay behind, and the migrations that make them again would fail on the restored database.
    dumped = {entry.split()[2] for entry in entries if entry.startswith("TABLE public ")}
    newer = sorted((present & set(schema.metadata.tables)) - dumped)
    if newer:
        raise StorageError(f"the backup file {str(source)!r} is of an older doe schema than the target {shown!r}, "
                           f"which holds tables the backup does not ({', '.join(newer)}); restore into a new, "
                           "empty database (createdb NAME): doe restore brings it to the newest schema")
    _run_pg([_pg_tool("pg_restore"), "--no-owner", "--single-transaction", "--clean", "--if-exists", str(source)],
            connection, url, "pg_restore")
    return _report_restored("postgresql", source, url.render_as_string(hide_password=False))


def _report_restored(backend: Backend, source: Path, url: str) -> BackupReport:
    """Open the restored database (migrating it to the newest schema) and count what it holds."""
    SqlStore.open(url).close()  # forget an engine this process cached before the restore
    store = SqlStore.open(url)
    try:
        with store.engine.connect() as conn:
            counts = _counts_sql(conn)
        revision = store.schema_version
    finally:
        store.close()
    if not revision:
        raise StorageError(f"the restored database {mask_url(url)!r} has no doe schema version")
    return BackupReport(backend, source, mask_url(url), revision, counts)
