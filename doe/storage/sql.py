"""The SQL campaign store: SQLite (file or in-memory) and PostgreSQL through SQLAlchemy 2.

:class:`SqlStore` implements :class:`doe.storage.base.CampaignStore`. Every public method
runs in one database transaction; a write either lands completely or not at all.

Concurrency:

* SQLite runs in WAL mode (readers never block the writer) with a 30 s busy timeout.
  Write transactions start with ``BEGIN IMMEDIATE``, so two writers queue for the lock at
  the start instead of deadlocking when both try to upgrade a read lock.
* PostgreSQL writers of one campaign queue on ``SELECT ... FOR UPDATE`` of the campaign row;
  a transaction that still fails with a serialization failure or deadlock is retried.

Opening a store applies the Alembic migrations in :mod:`doe.storage.migrations` (under
``BEGIN IMMEDIATE`` on SQLite and ``pg_advisory_xact_lock`` on PostgreSQL, so processes that
open a new database together do not collide). Engines are cached per URL in the process.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import sqlalchemy as sa
import yaml
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from doe.domain.config import CampaignConfig
from doe.domain.records import (
    ALLOWED_TRANSITIONS,
    STATUSES,
    NewExperiment,
    NewMeasurement,
    StatusChange,
    WriteReport,
)
from doe.errors import CellProblem, ConfigError, ConflictError, DataError, DoeError, StorageError
from doe.paths import default_database_url
from doe.storage import schema as s

log = logging.getLogger(__name__)

EXPORT_FORMAT = "doe-campaign"
EXPORT_FORMAT_VERSION = 1
MAX_ITEMS_PER_WRITE = 200_000
"""New experiments + measurements + status changes in one write (or one import)."""
MAX_TEXT = 2_000
"""Characters of a note, failure reason or audit detail."""
MAX_JSON_CHARS = 1_000_000
"""Characters of one JSON document (parameters, predictions, model settings)."""
MAX_LABEL = 64
"""Characters of an experiment id, batch id, outcome name, unit or package version."""
MAX_ACTOR = 200
MAX_CAMPAIGN_NAME = 120
REL_TOL = 1e-12
"""Two values of one measurement closer than this (relative) are the same value."""

_MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_OUTCOME_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_ADVISORY_LOCK_KEY = 74_120_431  # any constant shared by every doe process
_RETRIES = 5

T = TypeVar("T")


# --------------------------------------------------------------------------- small helpers
def _now() -> datetime:
    return datetime.now(UTC)


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and logs)."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parseable: mask anything that looks like user:password@
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _printable(text: str) -> bool:
    return not any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def _label(value: Any, what: str, *, max_len: int = MAX_LABEL, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_len or not _printable(value):
        raise StorageError(
            f"{what} must be text of 1 to {max_len} printable characters, got {_short(value)}"
        )
    return value


def _text(value: Any, what: str, *, max_len: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise StorageError(f"{what} must be text, got {type(value).__name__}")
    if len(value) > max_len:
        raise StorageError(f"{what} is {len(value)} characters long; at most {max_len} are stored")
    return value


def _short(value: Any, n: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= n else text[: n - 3] + "..."


def _plain(value: Any, where: str) -> Any:
    """``value`` as JSON-ready Python data (numpy scalars and arrays unwrapped).

    Raises DataError for NaN or infinity and for objects that have no JSON form.
    """
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        if not math.isfinite(number):
            raise DataError(
                f"{where} is {number!r}: NaN and infinity cannot be stored; leave the value out instead",
                [CellProblem(None, where, number, "not a finite number")],
            )
        return number
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise DataError(f"{where}: keys must be text, got {_short(key)}")
            out[key] = _plain(item, f"{where}.{key}")
        return out
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, datetime):
        return value.isoformat()
    raise DataError(f"{where}: a {type(value).__name__} cannot be stored; use numbers, text, lists or mappings")


def _dumps(value: Any, where: str) -> str:
    text = json.dumps(_plain(value, where), ensure_ascii=False, allow_nan=False)
    if len(text) > MAX_JSON_CHARS:
        raise StorageError(f"{where} is {len(text)} characters as JSON; at most {MAX_JSON_CHARS} are stored")
    return text


def _finite(value: Any, where: str, row: int | None = None, column: str = "value") -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer | np.floating):
        raise DataError(
            f"{where}: expected a number, got {_short(value)}",
            [CellProblem(row, column, value, "not a number")],
        )
    number = float(value)
    if not math.isfinite(number):
        raise DataError(
            f"{where}: {number!r} is not a finite number; NaN and infinity cannot be stored "
            "(leave an unmeasured outcome out)",
            [CellProblem(row, column, value, "not a finite number")],
        )
    return number


def _same_value(a: float, b: float) -> bool:
    return a == b or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=0.0)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _parse_time(value: Any, where: str, *, optional: bool = False) -> datetime | None:
    if value is None and optional:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise StorageError(f"{where} must be an ISO 8601 time such as '2026-11-25T10:00:00+00:00', got {_short(value)}")


def _chunks(items: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_CONFIG_CACHE: dict[str, CampaignConfig] = {}
_CONFIG_CACHE_LOCK = threading.Lock()


def _parse_config(text: str) -> CampaignConfig:
    """A stored configuration (YAML text), parsed once per process."""
    with _CONFIG_CACHE_LOCK:
        cached = _CONFIG_CACHE.get(text)
    if cached is not None:
        return cached
    try:
        config = CampaignConfig.from_dict(yaml.safe_load(text))
    except (yaml.YAMLError, ConfigError) as err:
        raise StorageError(f"a stored campaign configuration cannot be read: {err}") from err
    with _CONFIG_CACHE_LOCK:
        if len(_CONFIG_CACHE) > 256:
            _CONFIG_CACHE.clear()
        _CONFIG_CACHE[text] = config
    return config


# --------------------------------------------------------------------------- engines
@dataclass
class _EngineEntry:
    engine: Engine
    url: str
    memory: bool
    lock: AbstractContextManager[Any] = field(default_factory=nullcontext)
    schema_version: str | None = None


_ENGINES: dict[str, _EngineEntry] = {}
_ENGINES_LOCK = threading.Lock()


def _resolve_url(url: str | None) -> tuple[str, bool]:
    """The SQLAlchemy URL for ``url`` and whether it is a private in-memory database."""
    if url is None:
        url = default_database_url()
    if not isinstance(url, str) or not url.strip():
        raise StorageError(f"the database URL must be non-empty text, got {_short(url)}")
    url = url.strip()
    if url in (":memory:", "sqlite://", "sqlite:///:memory:"):
        return "sqlite://", True
    if "://" not in url:
        url = f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith("sqlite:///"):
        # The data folder of a new SQLite file may not exist yet (fresh DOE_HOME).
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return url, False


def _connect_hint(backend: str) -> str:
    if backend == "sqlite":
        return "check that the folder exists and is writable and that the file is an SQLite database"
    return (
        "check that the server is running and reachable (host, port), that the user, password "
        "and database name are right, and that psycopg is installed (pip install 'psycopg[binary]')"
    )


def _create_engine(url: str, memory: bool) -> _EngineEntry:
    if memory:
        engine = sa.create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
        _install_sqlite_events(engine, wal=False)
        # One shared connection: transactions from several threads must take turns.
        return _EngineEntry(engine, ":memory:", True, lock=threading.RLock())
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
            engine = sa.create_engine(parsed, connect_args={"timeout": 30, "check_same_thread": False})
            _install_sqlite_events(engine, wal=True)
        else:
            engine = sa.create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    except (ArgumentError, NoSuchModuleError, ImportError) as err:
        raise StorageError(f"cannot open database {mask_url(url)!r}: {err}; {_connect_hint(backend)}") from err
    return _EngineEntry(engine, url, False)


def _install_sqlite_events(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # doe emits BEGIN itself (below): pysqlite's own transaction handling would start
        # every transaction DEFERRED and could not take the write lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA foreign_keys = ON")
        if wal:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("doe_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _is_retryable(err: DBAPIError) -> bool:
    orig = getattr(err, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in ("40001", "40P01"):  # serialization failure, deadlock detected
        return True
    text = str(orig).lower()
    return "database is locked" in text or "database is busy" in text


def _first_line(err: DBAPIError, url: str) -> str:
    """The driver's message, first line, with the URL's password (if any) blanked out."""
    lines = str(getattr(err, "orig", None) or err).strip().splitlines()
    text = lines[0] if lines else type(err).__name__
    try:
        password = sa.engine.make_url(url).password
    except Exception:
        password = None
    return text.replace(str(password), "***") if password else text


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


def _migrate(entry: _EngineEntry) -> str:
    """Bring the database to the newest schema; return the schema version."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.util.exc import CommandError

    masked = mask_url(entry.url)
    for attempt in range(_RETRIES):
        try:
            with entry.lock, entry.engine.connect() as conn:
                conn.execution_options(doe_write=True)
                with conn.begin():
                    if conn.dialect.name == "postgresql":
                        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
                    before = MigrationContext.configure(conn).get_current_revision()
                    try:
                        command.upgrade(_alembic_config(conn), "head")
                    except CommandError as err:
                        raise StorageError(
                            f"database {masked!r} has schema version {before!r}, which this doe "
                            f"{_package_version()} does not know (newest: {head_revision()!r}); "
                            "upgrade doe to open it"
                        ) from err
                    after = MigrationContext.configure(conn).get_current_revision()
            if before != after:
                log.info("database %s migrated from schema %s to %s", masked, before, after)
            return str(after)
        except DBAPIError as err:
            if _is_retryable(err) and attempt < _RETRIES - 1:
                time.sleep(0.05 * 2**attempt + random.random() * 0.05)
                continue
            backend = entry.engine.dialect.name
            first_line = _first_line(err, entry.url)
            raise StorageError(
                f"cannot open database {masked!r}: {first_line}; {_connect_hint(backend)}"
            ) from err
    raise AssertionError("unreachable")


def _package_version() -> str:
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


# --------------------------------------------------------------------------- the store
@dataclass
class _PlannedMeasurement:
    experiment_id: str
    outcome: str
    value: float
    unit: str | None
    measured_at: datetime | None
    note: str | None
    correction_of: float | None = None


class SqlStore:
    """A campaign store in an SQL database (see :mod:`doe.storage.base` for the contract).

    Build it with :meth:`open`. ``url`` is the database URL as opened; ``schema_version`` the
    Alembic revision of its schema.
    """

    def __init__(self, entry: _EngineEntry) -> None:
        self._entry = entry
        self.engine: Engine = entry.engine
        self.url: str = entry.url
        self.schema_version: str = entry.schema_version or ""

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, url: str | None = None) -> SqlStore:
        """Open (and create or migrate) the database at ``url``.

        Args:
            url: ``None`` for the default SQLite file (:func:`doe.paths.default_database_url`),
                ``":memory:"`` for a private in-memory database, a plain path for an SQLite
                file, or an SQLAlchemy URL (``sqlite:///...``, ``postgresql+psycopg://...``).

        Raises:
            StorageError: the URL is malformed, the server cannot be reached or the schema is
                newer than this package.
        """
        resolved, memory = _resolve_url(url)
        if memory:
            entry = _create_engine(resolved, True)
            entry.schema_version = _migrate(entry)
            return cls(entry)
        with _ENGINES_LOCK:
            cached = _ENGINES.get(resolved)
            if cached is None:
                cached = _create_engine(resolved, False)
                try:
                    cached.schema_version = _migrate(cached)
                except BaseException:
                    cached.engine.dispose()
                    raise
                _ENGINES[resolved] = cached
        return cls(cached)

    def close(self) -> None:
        """Dispose the engine's connections and forget it; a later open starts afresh."""
        with _ENGINES_LOCK:
            if _ENGINES.get(self._entry.url) is self._entry:
                del _ENGINES[self._entry.url]
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"SqlStore({mask_url(self.url)!r}, schema_version={self.schema_version!r})"

    # ------------------------------------------------------------------ transactions
    def _run(self, fn: Callable[[Connection], T], *, write: bool) -> T:
        """Run ``fn`` in one transaction; retry on lock timeouts, deadlocks, serialization."""
        masked = mask_url(self.url)
        for attempt in range(_RETRIES):
            try:
                with self._entry.lock, self.engine.connect() as conn:
                    if write:
                        conn.execution_options(doe_write=True)
                    elif conn.dialect.name == "postgresql":
                        # one snapshot for all the SELECTs of a read (SQLite's WAL gives that too)
                        conn.execution_options(isolation_level="REPEATABLE READ")
                    with conn.begin():
                        return fn(conn)
            except DoeError:
                raise
            except DBAPIError as err:
                if _is_retryable(err) and attempt < _RETRIES - 1:
                    log.info("database %s busy (%s); retrying", masked, type(err.orig).__name__)
                    time.sleep(0.05 * 2**attempt + random.random() * 0.05)
                    continue
                first_line = _first_line(err, self.url)
                raise StorageError(
                    f"database {masked!r}: {first_line}; {_connect_hint(self.engine.dialect.name)}"
                ) from err
        raise AssertionError("unreachable")

    def _campaign(self, conn: Connection, name: str, *, lock: bool = False) -> Any:
        if not isinstance(name, str):
            raise StorageError(f"a campaign name must be text, got {type(name).__name__}")
        query = sa.select(s.campaigns).where(s.campaigns.c.name == name)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            names = list(conn.execute(sa.select(s.campaigns.c.name).order_by(s.campaigns.c.id)).scalars())
            shown = names[:30] + (["..."] if len(names) > 30 else [])
            raise StorageError(
                f"no campaign named {_short(name, 130)} in {mask_url(self.url)!r}; "
                f"campaigns there: {shown if names else 'none yet'}"
            )
        return row

    @staticmethod
    def _audit_row(campaign_id: int, at: datetime, actor: str, action: str,
                   experiment_id: str | None = None, detail: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "campaign_id": campaign_id, "at": at, "actor": actor, "action": action,
            "experiment_id": experiment_id,
            "detail": json.dumps(detail or {}, ensure_ascii=False, allow_nan=False),
        }

    @staticmethod
    def _bump(conn: Connection, campaign_id: int, at: datetime, **extra: Any) -> None:
        conn.execute(
            sa.update(s.campaigns)
            .where(s.campaigns.c.id == campaign_id)
            .values(revision=s.campaigns.c.revision + 1, updated_at=at, **extra)
        )

    # ------------------------------------------------------------------ campaigns
    def create_campaign(self, config: CampaignConfig, actor: str) -> None:
        if not isinstance(config, CampaignConfig):
            raise StorageError(f"create_campaign needs a CampaignConfig, got {type(config).__name__}")
        _label(actor, "actor", max_len=MAX_ACTOR)
        name = config.name
        yaml_text = config.to_yaml()

        def _create(conn: Connection) -> None:
            exists = conn.execute(sa.select(s.campaigns.c.id).where(s.campaigns.c.name == name)).first()
            if exists is not None:
                raise StorageError(
                    f"a campaign named {name!r} exists already in {mask_url(self.url)!r}; "
                    "choose another name or open the existing campaign"
                )
            now = _now()
            cid = conn.execute(
                sa.insert(s.campaigns).values(
                    name=name, created_at=now, created_by=actor, updated_at=now, archived=False,
                    revision=1, experiment_counter=0,
                ).returning(s.campaigns.c.id)
            ).scalar_one()
            conn.execute(sa.insert(s.config_versions).values(
                campaign_id=cid, version=1, config_yaml=yaml_text, created_at=now, created_by=actor))
            conn.execute(sa.insert(s.audit_log).values(
                self._audit_row(cid, now, actor, "campaign_created", None, {"config_version": 1})))

        try:
            self._run(_create, write=True)
        except StorageError as err:
            if isinstance(err.__cause__, IntegrityError):  # another process created it meanwhile
                raise StorageError(f"a campaign named {name!r} exists already in {mask_url(self.url)!r}") from err
            raise
        log.info("campaign %r created in %s by %s", name, mask_url(self.url), actor)

    def list_campaigns(self, include_archived: bool = False) -> pd.DataFrame:
        c, cv, e = s.campaigns, s.config_versions, s.experiments
        latest = sa.select(sa.func.max(cv.c.version)).where(cv.c.campaign_id == c.c.id).scalar_subquery()
        count = sa.select(sa.func.count(e.c.id)).where(e.c.campaign_id == c.c.id).scalar_subquery()
        query = sa.select(
            c.c.name, c.c.created_at, c.c.created_by, c.c.archived,
            latest.label("config_version"), count.label("n_experiments"), c.c.updated_at,
        ).order_by(c.c.id)
        if not include_archived:
            query = query.where(c.c.archived == sa.false())
        rows = self._run(lambda conn: conn.execute(query).all(), write=False)
        columns = ["name", "created_at", "created_by", "archived", "config_version", "n_experiments", "updated_at"]
        frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
        frame["archived"] = frame["archived"].astype(bool)
        frame["config_version"] = frame["config_version"].astype("int64")
        frame["n_experiments"] = frame["n_experiments"].astype("int64")
        for col in ("created_at", "updated_at"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
        return frame

    def load_config(self, name: str, version: int | None = None) -> tuple[CampaignConfig, int]:
        cv = s.config_versions

        def _load(conn: Connection) -> tuple[str, int]:
            camp = self._campaign(conn, name)
            query = sa.select(cv.c.config_yaml, cv.c.version).where(cv.c.campaign_id == camp.id)
            if version is None:
                row = conn.execute(query.order_by(cv.c.version.desc()).limit(1)).first()
            else:
                row = conn.execute(query.where(cv.c.version == version)).first()
            if row is None:
                versions = list(conn.execute(
                    sa.select(cv.c.version).where(cv.c.campaign_id == camp.id).order_by(cv.c.version)).scalars())
                raise StorageError(f"campaign {name!r} has no configuration version {version!r}; versions: {versions}")
            return row.config_yaml, int(row.version)

        text, number = self._run(_load, write=False)
        return _parse_config(text), number

    def config_versions(self, name: str) -> pd.DataFrame:
        cv = s.config_versions

        def _read(conn: Connection) -> list[Any]:
            camp = self._campaign(conn, name)
            return list(conn.execute(
                sa.select(cv.c.version, cv.c.created_at, cv.c.created_by, cv.c.config_yaml)
                .where(cv.c.campaign_id == camp.id).order_by(cv.c.version)).all())

        rows = self._run(_read, write=False)
        frame = pd.DataFrame([tuple(r) for r in rows], columns=["version", "created_at", "created_by", "config"])
        frame["version"] = frame["version"].astype("int64")
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
        return frame

    def add_config_version(self, name: str, config: CampaignConfig, actor: str) -> int:
        if not isinstance(config, CampaignConfig):
            raise StorageError(f"add_config_version needs a CampaignConfig, got {type(config).__name__}")
        _label(actor, "actor", max_len=MAX_ACTOR)
        if config.name != name:
            raise StorageError(
                f"the configuration is named {config.name!r} but the campaign is {name!r}; "
                "a campaign cannot be renamed by a new configuration version"
            )
        yaml_text = config.to_yaml()
        cv = s.config_versions

        def _add(conn: Connection) -> int:
            camp = self._campaign(conn, name, lock=True)
            latest = conn.execute(
                sa.select(cv.c.version, cv.c.config_yaml).where(cv.c.campaign_id == camp.id)
                .order_by(cv.c.version.desc()).limit(1)).one()
            if latest.config_yaml == yaml_text:
                return int(latest.version)
            number = int(latest.version) + 1
            now = _now()
            conn.execute(sa.insert(cv).values(
                campaign_id=camp.id, version=number, config_yaml=yaml_text, created_at=now, created_by=actor))
            conn.execute(sa.insert(s.audit_log).values(
                self._audit_row(camp.id, now, actor, "config_version_added", None, {"version": number})))
            self._bump(conn, camp.id, now)
            return number

        number = self._run(_add, write=True)
        log.info("campaign %r: configuration version %d by %s", name, number, actor)
        return number

    def set_archived(self, name: str, archived: bool, actor: str) -> None:
        _label(actor, "actor", max_len=MAX_ACTOR)
        archived = bool(archived)

        def _set(conn: Connection) -> None:
            camp = self._campaign(conn, name, lock=True)
            if bool(camp.archived) == archived:
                return
            now = _now()
            conn.execute(sa.insert(s.audit_log).values(
                self._audit_row(camp.id, now, actor, "archived" if archived else "unarchived")))
            self._bump(conn, camp.id, now, archived=archived)

        self._run(_set, write=True)

    def revision(self, name: str) -> int:
        return int(self._run(lambda conn: self._campaign(conn, name).revision, write=False))

    # ------------------------------------------------------------------ writing
    def write(
        self,
        name: str,
        *,
        actor: str,
        new_experiments: Sequence[NewExperiment] = (),
        status_changes: Sequence[StatusChange] = (),
        measurements: Sequence[NewMeasurement] = (),
        allow_corrections: bool = False,
        audit_action: str | None = None,
    ) -> WriteReport:
        """Apply new experiments, measurements and status changes in one transaction.

        See :meth:`doe.storage.base.CampaignStore.write`. Ids ``E0001``, ``E0002``, ... are
        assigned from the campaign's counter to new experiments without one (ids taken, e.g.
        by imported experiments, are skipped). A measurement or status change may name the
        k-th (0-based) experiment of ``new_experiments`` as ``"#k"`` before it has an id.

        Raises:
            ConflictError: a measurement differs from the recorded value (every conflict is
                listed) and ``allow_corrections`` is False.
            StorageError: unknown experiment ids, an id that exists, a refused status change.
            DataError: NaN, infinity or non-numeric values.
        """
        _label(actor, "actor", max_len=MAX_ACTOR)
        if audit_action is not None:
            _label(audit_action, "audit_action")
        new_experiments, status_changes, measurements = (
            list(new_experiments), list(status_changes), list(measurements))
        total = len(new_experiments) + len(status_changes) + len(measurements)
        if total > MAX_ITEMS_PER_WRITE:
            raise StorageError(
                f"one write takes at most {MAX_ITEMS_PER_WRITE} items, got {total}; split it into several writes"
            )
        prepared = [self._prepare_experiment(i, e) for i, e in enumerate(new_experiments)]
        planned = [self._prepare_measurement(i, m) for i, m in enumerate(measurements)]
        for i, change in enumerate(status_changes):
            if not isinstance(change, StatusChange):
                raise StorageError(f"status_changes[{i}] must be a StatusChange, got {type(change).__name__}")
            if change.status not in STATUSES:
                raise StorageError(f"status_changes[{i}]: unknown status {change.status!r}; statuses: {list(STATUSES)}")
            _text(change.reason, f"status_changes[{i}].reason")
        return self._run(
            lambda conn: self._write(conn, name, actor, prepared, planned, list(status_changes),
                                     allow_corrections, audit_action),
            write=True,
        )

    @staticmethod
    def _prepare_experiment(i: int, e: NewExperiment) -> dict[str, Any]:
        where = f"new_experiments[{i}]"
        if not isinstance(e, NewExperiment):
            raise StorageError(f"{where} must be a NewExperiment, got {type(e).__name__}")
        if e.status not in STATUSES:
            raise StorageError(f"{where}: unknown status {e.status!r}; statuses: {list(STATUSES)}")
        if e.source not in s.SOURCE_VALUES:
            raise StorageError(f"{where}: unknown source {e.source!r}; sources: {list(s.SOURCE_VALUES)}")
        if not isinstance(e.parameters, dict) or not e.parameters:
            raise StorageError(f"{where}: parameters must be a non-empty mapping of parameter name to value")
        for key, value in e.parameters.items():
            if isinstance(value, str):
                _text(value, f"{where}.parameters.{key}", max_len=MAX_LABEL * 4)
            elif value is not None:
                _finite(value, f"{where}.parameters.{key}", i, str(key))
        if isinstance(e.config_version, bool) or not isinstance(e.config_version, int | np.integer):
            raise StorageError(f"{where}: config_version must be a whole number, got {_short(e.config_version)}")
        if e.seed is not None and (isinstance(e.seed, bool) or not isinstance(e.seed, int | np.integer)
                                   or not 0 <= int(e.seed) < 2**63):
            raise StorageError(f"{where}: seed must be a whole number from 0 to 2**63-1, got {_short(e.seed)}")
        return {
            "experiment_id": _label(e.experiment_id, f"{where}.experiment_id", optional=True),
            "config_version": int(e.config_version),
            "status": e.status,
            "failure_reason": _text(e.failure_reason, f"{where}.failure_reason"),
            "batch_id": _label(e.batch_id, f"{where}.batch_id", optional=True),
            "source": e.source,
            "parameters": _dumps(e.parameters, f"{where}.parameters"),
            "seed": None if e.seed is None else int(e.seed),
            "model_settings": _dumps(e.model_settings or {}, f"{where}.model_settings"),
            "package_version": _label(e.package_version, f"{where}.package_version", optional=True),
            "predictions": _dumps(e.predictions or {}, f"{where}.predictions"),
        }

    @staticmethod
    def _prepare_measurement(i: int, m: NewMeasurement) -> _PlannedMeasurement:
        where = f"measurements[{i}]"
        if not isinstance(m, NewMeasurement):
            raise StorageError(f"{where} must be a NewMeasurement, got {type(m).__name__}")
        if not isinstance(m.outcome, str) or not _OUTCOME_NAME.match(m.outcome):
            raise StorageError(f"{where}: outcome {_short(m.outcome)} is not an outcome name (letters, digits, _)")
        if m.measured_at is not None and not isinstance(m.measured_at, datetime):
            raise StorageError(f"{where}: measured_at must be a datetime, got {type(m.measured_at).__name__}")
        return _PlannedMeasurement(
            experiment_id=str(_label(m.experiment_id, f"{where}.experiment_id")),
            outcome=m.outcome,
            value=_finite(m.value, f"{where} ({m.experiment_id}, {m.outcome})", i, m.outcome),
            unit=_label(m.unit, f"{where}.unit", max_len=32, optional=True),
            measured_at=m.measured_at,
            note=_text(m.note, f"{where}.note"),
        )

    def _write(
        self,
        conn: Connection,
        name: str,
        actor: str,
        prepared: list[dict[str, Any]],
        planned: list[_PlannedMeasurement],
        status_changes: list[StatusChange],
        allow_corrections: bool,
        audit_action: str | None,
    ) -> WriteReport:
        e, m = s.experiments, s.measurements
        # Work on copies: a retried transaction must start from the caller's input again.
        prepared = [dict(p) for p in prepared]
        planned = [replace(pm) for pm in planned]
        camp = self._campaign(conn, name, lock=True)
        cid = camp.id
        now = _now()
        versions = set(conn.execute(
            sa.select(s.config_versions.c.version).where(s.config_versions.c.campaign_id == cid)).scalars())
        # Only the experiments this write names are read, so a write costs the same in a
        # campaign of 20 or 20,000 experiments.
        given = [p["experiment_id"] for p in prepared if p["experiment_id"] is not None]
        named = set(given) | {pm.experiment_id for pm in planned} | {c.experiment_id for c in status_changes}
        existing: dict[str, tuple[int, str, str | None]] = {}
        for chunk in _chunks(sorted(named)):
            for r in conn.execute(sa.select(e.c.id, e.c.experiment_id, e.c.status, e.c.failure_reason)
                                  .where(e.c.campaign_id == cid, e.c.experiment_id.in_(chunk))):
                existing[r.experiment_id] = (r.id, r.status, r.failure_reason)

        # 1. new experiments: ids and checks
        taken_given = sorted({x for x in given if x in existing})
        repeated = sorted({x for x in given if given.count(x) > 1})
        bad_versions = sorted({p["config_version"] for p in prepared} - versions)
        problems = []
        if taken_given:
            problems.append(f"experiment ids that exist already: {taken_given[:20]}")
        if repeated:
            problems.append(f"experiment ids given more than once: {repeated[:20]}")
        if bad_versions:
            problems.append(f"configuration versions that do not exist: {bad_versions}; versions: {sorted(versions)}")
        if problems:
            raise StorageError(f"campaign {name!r}: nothing was written: " + "; ".join(problems))
        counter = int(camp.experiment_counter)
        fresh: list[str] = []
        needed = len(prepared) - len(given)
        while len(fresh) < needed:  # next free ids E0001, E0002, ... (imported rows may hold some)
            window = [f"E{counter + i:04d}" for i in range(1, needed - len(fresh) + 1)]
            taken = set(given)
            for chunk in _chunks(window):
                taken.update(conn.execute(sa.select(e.c.experiment_id).where(
                    e.c.campaign_id == cid, e.c.experiment_id.in_(chunk))).scalars())
            fresh.extend(x for x in window if x not in taken)
            counter += len(window)
        fresh_iter = iter(fresh)
        new_ids: list[str] = []
        for p in prepared:
            if p["experiment_id"] is None:
                p["experiment_id"] = next(fresh_iter)
            new_ids.append(p["experiment_id"])

        # "#k" in a measurement or status change refers to the k-th new experiment of this write
        # (whose id is assigned only now), so one write can create and measure an experiment.
        def resolve(eid: str) -> str:
            if eid.startswith("#") and eid[1:].isdigit() and int(eid[1:]) < len(new_ids):
                return new_ids[int(eid[1:])]
            return eid

        for pm in planned:
            pm.experiment_id = resolve(pm.experiment_id)
        status_changes = [replace(c, experiment_id=resolve(c.experiment_id)) for c in status_changes]
        status: dict[str, str] = {k: v[1] for k, v in existing.items()}
        reasons: dict[str, str | None] = {k: v[2] for k, v in existing.items()}
        for p in prepared:
            status[p["experiment_id"]] = p["status"]
            reasons[p["experiment_id"]] = p["failure_reason"]

        # 2. measurements and status changes: every referenced experiment must exist
        unknown = sorted({pm.experiment_id for pm in planned if pm.experiment_id not in status}
                         | {c.experiment_id for c in status_changes if c.experiment_id not in status})
        if unknown:
            raise StorageError(
                f"campaign {name!r} has no experiment(s) {unknown[:30]}{' ...' if len(unknown) > 30 else ''}; "
                "nothing was written"
            )
        config = self._latest_config(conn, cid)
        current: dict[tuple[str, str], float] = {}
        referenced = sorted({existing[pm.experiment_id][0] for pm in planned if pm.experiment_id in existing})
        for chunk in _chunks(referenced):
            for hit in conn.execute(
                sa.select(e.c.experiment_id, m.c.outcome, m.c.value).join(e, e.c.id == m.c.experiment_pk)
                .where(m.c.experiment_pk.in_(chunk), m.c.superseded == sa.false())
            ):
                current[(hit.experiment_id, hit.outcome)] = float(hit.value)
        to_write: list[_PlannedMeasurement] = []
        unchanged = 0
        conflicts: list[str] = []
        for pm in planned:
            key = (pm.experiment_id, pm.outcome)
            if pm.unit is None:
                pm.unit = config.unit_of(pm.outcome)
            old = current.get(key)
            if old is None:
                to_write.append(pm)
            elif _same_value(old, pm.value):
                unchanged += 1
                continue
            elif allow_corrections:
                pm.correction_of = old
                to_write.append(pm)
            else:
                conflicts.append(f"{pm.experiment_id} {pm.outcome}: stored {old!r}, new {pm.value!r}")
                continue
            current[key] = pm.value
        if conflicts:
            shown = "\n".join(f"  - {c}" for c in conflicts[:50])
            more = f"\n  ... and {len(conflicts) - 50} more" if len(conflicts) > 50 else ""
            raise ConflictError(
                f"campaign {name!r}: {len(conflicts)} measurement(s) differ from the values recorded; "
                f"nothing was written:\n{shown}{more}\n"
                "To correct a value pass allow_corrections=True (record with correct=True); "
                "the old value is kept as history."
            )

        changes: list[tuple[StatusChange, str]] = []
        refused: list[str] = []
        for change in status_changes:
            before = status[change.experiment_id]
            if change.status not in ALLOWED_TRANSITIONS.get(before, ()):
                allowed = list(ALLOWED_TRANSITIONS.get(before, ()))
                refused.append(f"{change.experiment_id}: {before} -> {change.status} (allowed from {before}: {allowed or 'none'})")
                continue
            new_reason = change.reason if change.status in ("failed", "abandoned") else None
            if change.status == "failed" and new_reason is None:
                new_reason = reasons[change.experiment_id]
            if before == change.status and new_reason == reasons[change.experiment_id]:
                continue
            changes.append((change, before))
            status[change.experiment_id] = change.status
            reasons[change.experiment_id] = new_reason
        if refused:
            raise StorageError(
                f"campaign {name!r}: status change(s) not allowed, nothing was written: " + "; ".join(refused[:30])
            )

        if not prepared and not to_write and not changes:
            return WriteReport(experiment_ids=[], measurements_unchanged=unchanged)

        # 3. write
        audit: list[dict[str, Any]] = []
        pk_of = {k: v[0] for k, v in existing.items()}
        if prepared:
            rows = [{**p, "campaign_id": cid, "proposed_by": actor, "proposed_at": now, "updated_at": now}
                    for p in prepared]
            result = conn.execute(
                sa.insert(e).returning(e.c.id, e.c.experiment_id, sort_by_parameter_order=True), rows)
            for r in result:
                pk_of[r.experiment_id] = r.id
            for p in prepared:
                audit.append(self._audit_row(cid, now, actor, "experiment_created", p["experiment_id"], {
                    "status": p["status"], "batch_id": p["batch_id"], "source": p["source"],
                    "config_version": p["config_version"]}))

        added = corrected = 0
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            if batch:
                conn.execute(sa.insert(m), batch)
                batch.clear()

        for pm in to_write:
            row = {"experiment_pk": pk_of[pm.experiment_id], "outcome": pm.outcome, "value": pm.value,
                   "unit": pm.unit, "measured_at": pm.measured_at, "recorded_by": actor, "recorded_at": now,
                   "note": pm.note, "superseded": False, "superseded_by": None}
            if pm.correction_of is None:
                batch.append(row)
                added += 1
                audit.append(self._audit_row(cid, now, actor, "measurement_added", pm.experiment_id, {
                    "outcome": pm.outcome, "value": pm.value, "unit": pm.unit}))
                continue
            flush()
            old_id = conn.execute(sa.select(m.c.id).where(
                m.c.experiment_pk == row["experiment_pk"], m.c.outcome == pm.outcome,
                m.c.superseded == sa.false())).scalar_one()
            conn.execute(sa.update(m).where(m.c.id == old_id).values(superseded=True))
            new_id = conn.execute(sa.insert(m).values(row).returning(m.c.id)).scalar_one()
            conn.execute(sa.update(m).where(m.c.id == old_id).values(superseded_by=new_id))
            corrected += 1
            audit.append(self._audit_row(cid, now, actor, "measurement_corrected", pm.experiment_id, {
                "outcome": pm.outcome, "old_value": pm.correction_of, "new_value": pm.value, "unit": pm.unit,
                "note": pm.note}))
        flush()

        if changes:
            final = {c.experiment_id: (status[c.experiment_id], reasons[c.experiment_id]) for c, _ in changes}
            conn.execute(
                sa.update(e).where(e.c.id == sa.bindparam("b_pk")).values(
                    status=sa.bindparam("b_status"), failure_reason=sa.bindparam("b_reason"), updated_at=now),
                [{"b_pk": pk_of[eid], "b_status": st, "b_reason": why} for eid, (st, why) in final.items()])
        for change, before in changes:
            audit.append(self._audit_row(cid, now, actor, "status_changed", change.experiment_id, {
                "from": before, "to": change.status, "reason": change.reason}))
        touched = sorted({pk_of[pm.experiment_id] for pm in to_write if pm.experiment_id in existing})
        for chunk in _chunks(touched):
            conn.execute(sa.update(e).where(e.c.id.in_(chunk)).values(updated_at=now))

        if audit_action is not None:
            audit.append(self._audit_row(cid, now, actor, audit_action, None, {
                "experiments_created": len(prepared), "measurements_added": added,
                "measurements_corrected": corrected, "measurements_unchanged": unchanged,
                "status_changes": len(changes)}))
        conn.execute(sa.insert(s.audit_log), audit)
        self._bump(conn, cid, now, experiment_counter=counter)
        log.info("campaign %r: %d experiment(s), %d measurement(s) (%d corrected), %d status change(s) by %s",
                 name, len(prepared), added, corrected, len(changes), actor)
        return WriteReport(
            experiment_ids=new_ids, measurements_added=added, measurements_unchanged=unchanged,
            measurements_corrected=corrected, status_changes=len(changes),
        )

    def _configs(self, conn: Connection, campaign_id: int) -> list[tuple[int, CampaignConfig]]:
        cv = s.config_versions
        rows = conn.execute(sa.select(cv.c.version, cv.c.config_yaml)
                            .where(cv.c.campaign_id == campaign_id).order_by(cv.c.version))
        return [(int(r.version), _parse_config(r.config_yaml)) for r in rows]

    def _latest_config(self, conn: Connection, campaign_id: int) -> CampaignConfig:
        cv = s.config_versions
        text = conn.execute(sa.select(cv.c.config_yaml).where(cv.c.campaign_id == campaign_id)
                            .order_by(cv.c.version.desc()).limit(1)).scalar_one()
        return _parse_config(text)

    # ------------------------------------------------------------------ reading
    def experiments(self, name: str) -> pd.DataFrame:
        e, m = s.experiments, s.measurements

        def _read(conn: Connection) -> tuple[list[tuple[int, CampaignConfig]], list[Any], list[Any]]:
            camp = self._campaign(conn, name)
            configs = self._configs(conn, camp.id)
            exp_rows = list(conn.execute(sa.select(e).where(e.c.campaign_id == camp.id).order_by(e.c.id)))
            meas_rows = list(conn.execute(
                sa.select(e.c.experiment_id, m.c.outcome, m.c.value).join(e, e.c.id == m.c.experiment_pk)
                .where(e.c.campaign_id == camp.id, m.c.superseded == sa.false()).order_by(m.c.id)))
            return configs, exp_rows, meas_rows

        configs, exp_rows, meas_rows = self._run(_read, write=False)
        categorical: dict[str, bool] = {}
        for _, cfg in reversed(configs):
            for p in cfg.parameters:
                categorical.setdefault(p.name, p.type == "categorical")
        parameters = [json.loads(r.parameters) for r in exp_rows]
        for params in parameters:
            for key, value in params.items():
                if key not in categorical:
                    categorical[key] = isinstance(value, str)
        outcomes = list(configs[-1][1].outcome_names)
        values: dict[tuple[str, str], float] = {}
        for r in meas_rows:
            if r.outcome not in outcomes:
                outcomes.append(r.outcome)
            values[(r.experiment_id, r.outcome)] = float(r.value)

        data: dict[str, Any] = {
            "experiment_id": pd.Series([r.experiment_id for r in exp_rows], dtype=object),
            "status": pd.Series([r.status for r in exp_rows], dtype=object),
            "batch_id": pd.Series([r.batch_id for r in exp_rows], dtype=object),
            "config_version": pd.Series([r.config_version for r in exp_rows], dtype="int64"),
            "source": pd.Series([r.source for r in exp_rows], dtype=object),
        }
        for pname, is_cat in categorical.items():
            column = [params.get(pname) for params in parameters]
            if is_cat:
                data[pname] = pd.Series([None if v is None else str(v) for v in column], dtype=object)
            else:
                data[pname] = pd.Series([math.nan if v is None else float(v) for v in column], dtype=float)
        for outcome in outcomes:
            data[outcome] = pd.Series([values.get((r.experiment_id, outcome), math.nan) for r in exp_rows],
                                      dtype=float)
        data["failure_reason"] = pd.Series([r.failure_reason for r in exp_rows], dtype=object)
        data["proposed_by"] = pd.Series([r.proposed_by for r in exp_rows], dtype=object)
        data["proposed_at"] = pd.to_datetime(pd.Series([r.proposed_at for r in exp_rows], dtype=object), utc=True)
        data["seed"] = pd.Series([r.seed for r in exp_rows], dtype="Int64")
        data["predictions"] = pd.Series([json.loads(r.predictions) for r in exp_rows], dtype=object)
        data["model_settings"] = pd.Series([json.loads(r.model_settings) for r in exp_rows], dtype=object)
        data["package_version"] = pd.Series([r.package_version for r in exp_rows], dtype=object)
        return pd.DataFrame(data)

    def measurements(self, name: str, include_superseded: bool = False) -> pd.DataFrame:
        e, m = s.experiments, s.measurements

        def _read(conn: Connection) -> list[Any]:
            camp = self._campaign(conn, name)
            query = (sa.select(e.c.experiment_id, m.c.outcome, m.c.value, m.c.unit, m.c.measured_at,
                               m.c.recorded_by, m.c.recorded_at, m.c.note, m.c.superseded)
                     .join(e, e.c.id == m.c.experiment_pk).where(e.c.campaign_id == camp.id).order_by(m.c.id))
            if not include_superseded:
                query = query.where(m.c.superseded == sa.false())
            return list(conn.execute(query))

        rows = self._run(_read, write=False)
        columns = ["experiment_id", "outcome", "value", "unit", "measured_at", "recorded_by", "recorded_at",
                   "note", "superseded"]
        frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
        frame["value"] = frame["value"].astype(float)
        frame["superseded"] = frame["superseded"].astype(bool)
        for col in ("measured_at", "recorded_at"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
        return frame

    def audit(self, name: str) -> pd.DataFrame:
        a = s.audit_log

        def _read(conn: Connection) -> list[Any]:
            camp = self._campaign(conn, name)
            return list(conn.execute(sa.select(a.c.at, a.c.actor, a.c.action, a.c.experiment_id, a.c.detail)
                                     .where(a.c.campaign_id == camp.id).order_by(a.c.id)))

        rows = self._run(_read, write=False)
        frame = pd.DataFrame([tuple(r) for r in rows], columns=["at", "actor", "action", "experiment_id", "detail"])
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return frame

    # ------------------------------------------------------------------ export / import
    def export_campaign(self, name: str) -> dict[str, Any]:
        """The whole campaign as JSON-ready data (``format``/``format_version`` tagged).

        Measurements are listed oldest first; ``superseded_by`` is the position (0-based) of
        the measurement that replaced a corrected value.
        """
        e, m, cv, a = s.experiments, s.measurements, s.config_versions, s.audit_log

        def _read(conn: Connection) -> dict[str, Any]:
            camp = self._campaign(conn, name)
            versions = conn.execute(sa.select(cv).where(cv.c.campaign_id == camp.id).order_by(cv.c.version)).all()
            exps = conn.execute(sa.select(e).where(e.c.campaign_id == camp.id).order_by(e.c.id)).all()
            meas = conn.execute(
                sa.select(m, e.c.experiment_id).join(e, e.c.id == m.c.experiment_pk)
                .where(e.c.campaign_id == camp.id).order_by(m.c.id)).all()
            audit = conn.execute(sa.select(a).where(a.c.campaign_id == camp.id).order_by(a.c.id)).all()
            position = {r.id: i for i, r in enumerate(meas)}
            return {
                "format": EXPORT_FORMAT,
                "format_version": EXPORT_FORMAT_VERSION,
                "schema_version": self.schema_version,
                "name": camp.name,
                "created_at": _iso(camp.created_at),
                "created_by": camp.created_by,
                "archived": bool(camp.archived),
                "experiment_counter": int(camp.experiment_counter),
                "config_versions": [
                    {"version": int(r.version), "created_at": _iso(r.created_at), "created_by": r.created_by,
                     "config": r.config_yaml} for r in versions],
                "experiments": [
                    {"experiment_id": r.experiment_id, "config_version": int(r.config_version), "status": r.status,
                     "failure_reason": r.failure_reason, "batch_id": r.batch_id, "source": r.source,
                     "parameters": json.loads(r.parameters), "proposed_by": r.proposed_by,
                     "proposed_at": _iso(r.proposed_at), "updated_at": _iso(r.updated_at),
                     "seed": r.seed, "model_settings": json.loads(r.model_settings),
                     "package_version": r.package_version, "predictions": json.loads(r.predictions)}
                    for r in exps],
                "measurements": [
                    {"experiment_id": r.experiment_id, "outcome": r.outcome, "value": float(r.value),
                     "unit": r.unit, "measured_at": _iso(r.measured_at), "recorded_by": r.recorded_by,
                     "recorded_at": _iso(r.recorded_at), "note": r.note, "superseded": bool(r.superseded),
                     "superseded_by": None if r.superseded_by is None else position[r.superseded_by]}
                    for r in meas],
                "audit": [
                    {"at": _iso(r.at), "actor": r.actor, "action": r.action, "experiment_id": r.experiment_id,
                     "detail": r.detail} for r in audit],
            }

        return self._run(_read, write=False)

    def import_campaign(self, data: dict[str, Any], actor: str, new_name: str | None = None) -> str:
        """Recreate an exported campaign (under ``new_name`` if given) in one transaction.

        Everything is restored as exported (ids, statuses, provenance, times, measurement
        history, audit log); one ``campaign_imported`` audit entry is appended.

        Raises:
            StorageError: the data is not a doe export, is from a newer format, is
                inconsistent, or the name is taken.
        """
        _label(actor, "actor", max_len=MAX_ACTOR)
        plan = _ImportPlan.build(data, new_name)

        def _import(conn: Connection) -> None:
            exists = conn.execute(sa.select(s.campaigns.c.id).where(s.campaigns.c.name == plan.name)).first()
            if exists is not None:
                raise StorageError(
                    f"a campaign named {plan.name!r} exists already in {mask_url(self.url)!r}; "
                    "import it under another name (new_name=...)"
                )
            now = _now()
            cid = conn.execute(sa.insert(s.campaigns).values(
                name=plan.name, created_at=plan.created_at, created_by=plan.created_by, updated_at=now,
                archived=plan.archived, revision=1, experiment_counter=plan.experiment_counter,
            ).returning(s.campaigns.c.id)).scalar_one()
            conn.execute(sa.insert(s.config_versions), [{**v, "campaign_id": cid} for v in plan.config_versions])
            pk_of: dict[str, int] = {}
            if plan.experiments:
                e = s.experiments
                result = conn.execute(
                    sa.insert(e).returning(e.c.id, e.c.experiment_id, sort_by_parameter_order=True),
                    [{**x, "campaign_id": cid} for x in plan.experiments])
                pk_of = {r.experiment_id: r.id for r in result}
            if plan.measurements:
                m = s.measurements
                rows = [{k: v for k, v in x.items() if k not in ("experiment_id", "superseded_by")}
                        | {"experiment_pk": pk_of[x["experiment_id"]], "superseded_by": None}
                        for x in plan.measurements]
                ids = [r.id for r in conn.execute(
                    sa.insert(m).returning(m.c.id, sort_by_parameter_order=True), rows)]
                links = [{"mid": ids[i], "sby": ids[x["superseded_by"]]}
                         for i, x in enumerate(plan.measurements) if x["superseded_by"] is not None]
                if links:
                    conn.execute(sa.update(m).where(m.c.id == sa.bindparam("mid"))
                                 .values(superseded_by=sa.bindparam("sby")), links)
            audit = [{**x, "campaign_id": cid} for x in plan.audit]
            audit.append(self._audit_row(cid, now, actor, "campaign_imported", None, {
                "from_name": plan.source_name, "format_version": plan.format_version,
                "experiments": len(plan.experiments), "measurements": len(plan.measurements)}))
            conn.execute(sa.insert(s.audit_log), audit)

        try:
            self._run(_import, write=True)
        except StorageError as err:
            if isinstance(err.__cause__, IntegrityError):
                raise StorageError(
                    f"the import of campaign {plan.name!r} is inconsistent or the name is taken: {err}") from err
            raise
        log.info("campaign %r imported (%d experiments, %d measurements) by %s",
                 plan.name, len(plan.experiments), len(plan.measurements), actor)
        return plan.name


# --------------------------------------------------------------------------- import checks
@dataclass
class _ImportPlan:
    name: str
    source_name: str
    format_version: int
    created_at: datetime
    created_by: str
    archived: bool
    experiment_counter: int
    config_versions: list[dict[str, Any]]
    experiments: list[dict[str, Any]]
    measurements: list[dict[str, Any]]
    audit: list[dict[str, Any]]

    @classmethod
    def build(cls, data: Any, new_name: str | None) -> _ImportPlan:
        if not isinstance(data, dict):
            raise StorageError(f"an exported campaign is a mapping, got {type(data).__name__}")
        if data.get("format") != EXPORT_FORMAT:
            raise StorageError(
                f"this is not a doe campaign export (format {_short(data.get('format'))}, expected {EXPORT_FORMAT!r})")
        version = data.get("format_version")
        if version != EXPORT_FORMAT_VERSION:
            raise StorageError(
                f"campaign export format version {_short(version)} is not supported (this doe reads "
                f"version {EXPORT_FORMAT_VERSION}); export it again with this doe or upgrade doe")

        def lst(key: str) -> list[Any]:
            value = data.get(key, [])
            if not isinstance(value, list):
                raise StorageError(f"export field {key!r} must be a list, got {type(value).__name__}")
            return value

        raw_versions, raw_exps, raw_meas, raw_audit = (
            lst("config_versions"), lst("experiments"), lst("measurements"), lst("audit"))
        total = len(raw_exps) + len(raw_meas) + len(raw_audit)
        if total > 5 * MAX_ITEMS_PER_WRITE:
            raise StorageError(f"the export holds {total} records; at most {5 * MAX_ITEMS_PER_WRITE} are imported at once")
        source_name = data.get("name")
        if not isinstance(source_name, str):
            raise StorageError("export field 'name' must be text")
        name = source_name if new_name is None else new_name
        if (not isinstance(name, str) or not name.strip() or name != name.strip()
                or len(name) > MAX_CAMPAIGN_NAME or not _printable(name)):
            raise StorageError(
                f"campaign name {_short(name)} is not allowed: 1 to {MAX_CAMPAIGN_NAME} printable characters, "
                "no leading or trailing spaces")
        if not raw_versions:
            raise StorageError("the export has no configuration versions")

        def rec(item: Any, where: str) -> dict[str, Any]:
            if not isinstance(item, dict):
                raise StorageError(f"{where} must be a mapping, got {type(item).__name__}")
            return item

        config_versions = []
        numbers = set()
        for i, raw in enumerate(raw_versions):
            raw = rec(raw, f"config_versions[{i}]")
            text = raw.get("config")
            if not isinstance(text, str) or len(text) > MAX_JSON_CHARS:
                raise StorageError(f"config_versions[{i}].config must be YAML text of at most {MAX_JSON_CHARS} characters")
            try:
                mapping = yaml.safe_load(text)
                if isinstance(mapping, dict):
                    mapping["name"] = name
                config = CampaignConfig.from_dict(mapping)
            except (yaml.YAMLError, ConfigError) as err:
                raise StorageError(f"config_versions[{i}] is not a valid configuration: {err}") from err
            number = raw.get("version")
            if isinstance(number, bool) or not isinstance(number, int) or number < 1 or number in numbers:
                raise StorageError(f"config_versions[{i}].version must be a unique whole number >= 1, got {_short(number)}")
            numbers.add(number)
            config_versions.append({
                "version": number, "config_yaml": config.to_yaml(),
                "created_at": _parse_time(raw.get("created_at"), f"config_versions[{i}].created_at"),
                "created_by": _label(raw.get("created_by"), f"config_versions[{i}].created_by", max_len=MAX_ACTOR)})

        experiments = []
        seen: set[str] = set()
        for i, raw in enumerate(raw_exps):
            raw = rec(raw, f"experiments[{i}]")
            where = f"experiments[{i}]"
            eid = _label(raw.get("experiment_id"), f"{where}.experiment_id")
            assert eid is not None
            if eid in seen:
                raise StorageError(f"{where}: experiment id {eid!r} appears twice")
            seen.add(eid)
            if raw.get("status") not in STATUSES:
                raise StorageError(f"{where}.status {_short(raw.get('status'))} is not one of {list(STATUSES)}")
            if raw.get("source") not in s.SOURCE_VALUES:
                raise StorageError(f"{where}.source {_short(raw.get('source'))} is not one of {list(s.SOURCE_VALUES)}")
            if raw.get("config_version") not in numbers:
                raise StorageError(f"{where}.config_version {_short(raw.get('config_version'))} is not a version of the export")
            seed = raw.get("seed")
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63):
                raise StorageError(f"{where}.seed must be a whole number from 0 to 2**63-1, got {_short(seed)}")
            if not isinstance(raw.get("parameters"), dict):
                raise StorageError(f"{where}.parameters must be a mapping")
            experiments.append({
                "experiment_id": eid, "config_version": raw["config_version"], "status": raw["status"],
                "failure_reason": _text(raw.get("failure_reason"), f"{where}.failure_reason"),
                "batch_id": _label(raw.get("batch_id"), f"{where}.batch_id", optional=True),
                "source": raw["source"], "parameters": _dumps(raw["parameters"], f"{where}.parameters"),
                "proposed_by": _label(raw.get("proposed_by"), f"{where}.proposed_by", max_len=MAX_ACTOR),
                "proposed_at": _parse_time(raw.get("proposed_at"), f"{where}.proposed_at"),
                "updated_at": _parse_time(raw.get("updated_at"), f"{where}.updated_at"),
                "seed": seed, "model_settings": _dumps(raw.get("model_settings") or {}, f"{where}.model_settings"),
                "package_version": _label(raw.get("package_version"), f"{where}.package_version", optional=True),
                "predictions": _dumps(raw.get("predictions") or {}, f"{where}.predictions")})

        measurements = []
        current: set[tuple[str, str]] = set()
        for i, raw in enumerate(raw_meas):
            raw = rec(raw, f"measurements[{i}]")
            where = f"measurements[{i}]"
            eid = raw.get("experiment_id")
            if eid not in seen:
                raise StorageError(f"{where}: experiment {_short(eid)} is not in the export")
            outcome = raw.get("outcome")
            if not isinstance(outcome, str) or not _OUTCOME_NAME.match(outcome):
                raise StorageError(f"{where}.outcome {_short(outcome)} is not an outcome name")
            superseded = raw.get("superseded")
            link = raw.get("superseded_by")
            if not isinstance(superseded, bool):
                raise StorageError(f"{where}.superseded must be true or false")
            if link is not None and (isinstance(link, bool) or not isinstance(link, int)
                                     or not 0 <= link < len(raw_meas) or link == i):
                raise StorageError(f"{where}.superseded_by must be the position of another measurement, got {_short(link)}")
            if not superseded:
                if (eid, outcome) in current:
                    raise StorageError(f"{where}: {eid} {outcome} has two current values; mark one superseded")
                current.add((eid, outcome))
            measurements.append({
                "experiment_id": eid, "outcome": outcome,
                "value": _finite(raw.get("value"), f"{where}.value", i, outcome),
                "unit": _label(raw.get("unit"), f"{where}.unit", max_len=32, optional=True),
                "measured_at": _parse_time(raw.get("measured_at"), f"{where}.measured_at", optional=True),
                "recorded_by": _label(raw.get("recorded_by"), f"{where}.recorded_by", max_len=MAX_ACTOR),
                "recorded_at": _parse_time(raw.get("recorded_at"), f"{where}.recorded_at"),
                "note": _text(raw.get("note"), f"{where}.note"), "superseded": superseded,
                "superseded_by": link})

        audit = []
        for i, raw in enumerate(raw_audit):
            raw = rec(raw, f"audit[{i}]")
            where = f"audit[{i}]"
            detail = raw.get("detail", "{}")
            audit.append({
                "at": _parse_time(raw.get("at"), f"{where}.at"),
                "actor": _label(raw.get("actor"), f"{where}.actor", max_len=MAX_ACTOR),
                "action": _label(raw.get("action"), f"{where}.action"),
                "experiment_id": _label(raw.get("experiment_id"), f"{where}.experiment_id", optional=True),
                "detail": _text(detail if isinstance(detail, str) else _dumps(detail, f"{where}.detail"),
                                f"{where}.detail", max_len=MAX_JSON_CHARS)})

        counter = data.get("experiment_counter", 0)
        if isinstance(counter, bool) or not isinstance(counter, int) or counter < 0:
            raise StorageError(f"export field 'experiment_counter' must be a whole number >= 0, got {_short(counter)}")
        archived = data.get("archived", False)
        if not isinstance(archived, bool):
            raise StorageError("export field 'archived' must be true or false")
        created_at = _parse_time(data.get("created_at"), "created_at")
        assert created_at is not None
        return cls(
            name=name, source_name=source_name, format_version=int(version), created_at=created_at,
            created_by=str(_label(data.get("created_by"), "created_by", max_len=MAX_ACTOR)),
            archived=archived, experiment_counter=counter, config_versions=config_versions,
            experiments=experiments, measurements=measurements, audit=audit,
        )


__all__ = ["EXPORT_FORMAT", "EXPORT_FORMAT_VERSION", "SqlStore", "close_all", "head_revision", "mask_url"]
