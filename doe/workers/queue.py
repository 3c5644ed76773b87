"""The suggestion queue: procrastinate jobs in doe's PostgreSQL database, and who waits on them.

A caller (:meth:`doe.Campaign.suggest`, the app, the CLI) defers one ``doe.suggest`` job per
request and polls its status; a worker (``doe worker``) runs it and writes the batch with the
request's id in its ``model_settings``, so the caller finds it in the store when the job is
done. Exactly once: jobs of one campaign share a procrastinate ``lock`` (one at a time per
campaign, across workers) and the worker holds a PostgreSQL advisory lock on the campaign
while it works, so a second attempt at a request finds the batch the first one wrote.
A worker killed mid-job stops its heartbeat; the other workers retry its job once the
heartbeat is :attr:`WorkerTiming.stalled_after_s` old (procrastinate's stalled-job recipe).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import importlib.util
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from doe.domain.values import to_python
from doe.errors import ConfigError, StorageError, shorten_text

if TYPE_CHECKING:
    import procrastinate

logger = logging.getLogger(__name__)

SUGGEST_TASK = "doe.suggest"
"""The task name of a suggestion job."""
QUEUE = "doe"
"""The procrastinate queue doe's jobs go to (other apps may share the database)."""
FINAL = ("succeeded", "failed", "cancelled", "aborted")
ENV_MODE = "DOE_WORKERS"
ENV_HEARTBEAT = "DOE_WORKER_HEARTBEAT_S"


@dataclass(frozen=True)
class WorkerTiming:
    """How often a worker says it is alive, and when its silence makes it dead (seconds)."""

    heartbeat_s: float = 5.0
    poll_s: float = 0.5

    @property
    def stalled_after_s(self) -> float:
        """A worker silent this long is dead: its job is retried, and callers stop counting it."""
        return 3 * self.heartbeat_s

    @classmethod
    def from_env(cls) -> WorkerTiming:
        """``DOE_WORKER_HEARTBEAT_S`` (default 5 s) on both sides: workers and callers."""
        text = os.environ.get(ENV_HEARTBEAT, "").strip()
        if not text:
            return cls()
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not 0.1 <= value <= 600:
            raise ConfigError(f"{ENV_HEARTBEAT}: expected seconds from 0.1 to 600, got {text!r}")
        return cls(heartbeat_s=value, poll_s=min(0.5, value / 2))


@dataclass(frozen=True)
class JobProgress:
    """Where a request stands while the caller waits: ``todo`` (queued), ``doing``, or final."""

    job_id: int
    status: str
    waited_s: float
    live_workers: int


@dataclass(frozen=True)
class SuggestRequest:
    """One ``Campaign.suggest`` call as job arguments (validated values; JSON only)."""

    campaign: str
    n: int
    request_id: str
    actor: str
    fixed: Mapping[str, Any] | None = None
    candidates: tuple[Mapping[str, Any], ...] | None = None
    settings: Mapping[str, Any] | None = None
    design: str = "model"

    def job_args(self) -> dict[str, Any]:
        args = dataclasses.asdict(self)
        args["candidates"] = None if self.candidates is None else [dict(row) for row in self.candidates]
        return args

    @classmethod
    def from_job_args(cls, args: Mapping[str, Any]) -> SuggestRequest:
        candidates = args.get("candidates")
        return cls(campaign=str(args["campaign"]), n=int(args["n"]), request_id=str(args["request_id"]),
                   actor=str(args["actor"]), fixed=args.get("fixed"),
                   candidates=None if candidates is None else tuple(candidates), settings=args.get("settings"),
                   design=str(args.get("design", "model")))

    def candidates_table(self) -> pd.DataFrame | None:
        return None if self.candidates is None else pd.DataFrame([dict(row) for row in self.candidates])


_listener: contextvars.ContextVar[Callable[[JobProgress], None] | None] = contextvars.ContextVar(
    "doe_worker_progress", default=None)


@contextlib.contextmanager
def progress_listener(callback: Callable[[JobProgress], None]) -> Iterator[None]:
    """Call ``callback`` with a :class:`JobProgress` on every poll while a suggestion waits on
    a worker inside this block (the app shows it)."""
    token = _listener.set(callback)
    try:
        yield
    finally:
        _listener.reset(token)


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql", "postgres://"))


def libpq_url(url: str) -> str:
    """An SQLAlchemy URL (``postgresql+psycopg://...``) as libpq takes it (``postgresql://...``)."""
    return re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql://", url)


def workers_mode() -> Literal["auto", "off"]:
    """``DOE_WORKERS``: ``auto`` (default: a live worker on PostgreSQL computes) or ``off``."""
    value = os.environ.get(ENV_MODE, "auto").strip().lower() or "auto"
    if value in ("auto", "1", "on"):
        return "auto"
    if value in ("off", "0"):
        return "off"
    raise ConfigError(f"{ENV_MODE}: expected auto or off, got {value!r}")


def queue_installed() -> bool:
    """Whether procrastinate is installed (``pip install 'doe[workers]'``)."""
    return importlib.util.find_spec("procrastinate") is not None


def _connect(url: str) -> Any:
    import psycopg

    try:
        return psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as err:
        raise StorageError(f"cannot reach the job queue's database: {err}") from err


def ensure_schema(url: str) -> bool:
    """Create procrastinate's tables in the database of ``url`` unless they exist (its schema
    manager's SQL, under an advisory lock so two starting processes do not race); True if
    they were created."""
    from procrastinate.schema import SchemaManager

    with _connect(url) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('doe:procrastinate-schema', 0))")
        row = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        if row is not None and row[0] is not None:
            return False
        conn.execute(SchemaManager.get_schema())
        logger.info("created the procrastinate job queue tables")
        return True


def live_workers(url: str, within_s: float) -> int:
    """Workers whose heartbeat is younger than ``within_s`` (0 before any worker ever ran)."""
    import psycopg

    with _connect(url) as conn:
        try:
            row = conn.execute("SELECT count(*) FROM procrastinate_workers "
                               "WHERE last_heartbeat > now() - make_interval(secs => %s)", (within_s,)).fetchone()
        except psycopg.errors.UndefinedTable:
            return 0
    return int(row[0]) if row else 0


def end_unfinished_jobs(url: str) -> list[int]:
    """End doe's suggestion jobs not finished in the queue of ``url``'s database once a restore
    replaced its campaigns: they ask for batches of data that is gone. A waiting job (``todo``)
    is cancelled; one a worker had taken (``doing``: the backup was made mid-job, or its worker
    died) is ended as aborted, since the next worker would retry it as stalled. A caller still
    waiting computes its batch in-process, as when its job is cancelled for want of a worker.
    Stop the workers before a restore: a live one is not stopped. The jobs' ids; none for
    SQLite, with procrastinate not installed, or without the queue's tables."""
    if not is_postgres(url) or not queue_installed():
        return []
    with _connect(url) as conn:
        row = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
    if row is None or row[0] is None:
        return []
    ended = asyncio.run(_end_unfinished(queue_app(url, max_connections=1)))
    if ended:
        logger.warning("ended %d suggestion job(s) queued before the restore: %s", len(ended), ended)
    return ended


async def _end_unfinished(app: procrastinate.App) -> list[int]:
    from procrastinate.jobs import Status

    ended = []
    async with app.open_async():
        manager = app.job_manager
        for job in await manager.list_jobs_async(queue=QUEUE, status="todo"):
            if job.id is not None and await manager.cancel_job_by_id_async(job.id):
                ended.append(int(job.id))
        for job in await manager.list_jobs_async(queue=QUEUE, status="doing"):
            if job.id is not None:
                await manager.finish_job_by_id_async(job.id, Status.ABORTED, delete_job=False)
                ended.append(int(job.id))
    return sorted(ended)


@contextlib.contextmanager
def campaign_lock(url: str, campaign: str) -> Iterator[None]:
    """Hold a session advisory lock on ``campaign`` (released when the block ends or the
    process dies, since the lock lives with its connection)."""
    conn = _connect(url)
    try:
        conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (f"doe:suggest:{campaign}",))
        yield
    finally:
        conn.close()


def queue_app(url: str, *, max_connections: int | None = None) -> procrastinate.App:
    """A procrastinate app on the database of ``url`` (open it before use); a caller that only
    defers and polls one job passes ``max_connections=1`` (the pool's default keeps four)."""
    import procrastinate

    pool: dict[str, Any] = {} if max_connections is None else {"min_size": 1, "max_size": max_connections}
    return procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=libpq_url(url), **pool))


def suggest_on_worker(url: str, campaign: str, n: int, *, actor: str, fixed: Mapping[str, Any] | None = None,
                      candidates: pd.DataFrame | None = None, settings: Any = None, design: str = "model",
                      timing: WorkerTiming | None = None) -> str | None:
    """Hand a suggestion to a live worker and wait until it is done; its request id, or
    None where there is no worker to ask (SQLite, ``DOE_WORKERS=off``, procrastinate not
    installed, no heartbeat): then the caller computes it.

    A request id is returned whatever became of the job: the caller looks the batch up by
    it, and computes it in-process when the job failed (reproducing its error) or was
    cancelled because every worker died while it was queued.
    """
    if workers_mode() == "off" or not is_postgres(url) or not queue_installed():
        return None
    timing = timing or WorkerTiming.from_env()
    if live_workers(url, timing.stalled_after_s) == 0:
        return None
    request = SuggestRequest(
        campaign=campaign, n=n, request_id=uuid.uuid4().hex, actor=actor,
        fixed=None if not fixed else {k: to_python(v) for k, v in fixed.items()},
        candidates=None if candidates is None else tuple(
            {str(k): to_python(v) for k, v in row.items()} for row in candidates.to_dict("records")),
        settings=_settings_args(settings), design=design)
    app = queue_app(url, max_connections=1)
    with app.open():
        job_id = app.configure_task(SUGGEST_TASK, queue=QUEUE, lock=f"doe:campaign:{campaign}").defer(
            **request.job_args())
        logger.info("campaign %r: suggestion request %s queued as job %d", campaign, request.request_id, job_id)
        status = _wait(app, url, job_id, timing)
    logger.info("campaign %r: job %d %s", campaign, job_id, status)
    return request.request_id


def _settings_args(settings: Any) -> dict[str, Any] | None:
    if settings is None or not dataclasses.is_dataclass(settings) or isinstance(settings, type):
        return None
    # only the fields that differ from their defaults, so that a worker of an older version
    # (which lacks a newer field) still computes the requests that do not use it
    defaults = {f.name: f.default for f in dataclasses.fields(settings)}
    args = {k: to_python(v) if not isinstance(v, tuple | list) else [to_python(x) for x in v]
            for k, v in dataclasses.asdict(settings).items() if v != defaults.get(k, dataclasses.MISSING)}
    args.pop("device", None)  # the worker's machine chooses its own device
    return args


def _wait(app: procrastinate.App, url: str, job_id: int, timing: WorkerTiming) -> str:
    """Poll the job until it is final; retry then cancel it if every worker is gone."""
    listener = _listener.get()
    started = time.monotonic()
    alone_since: float | None = None
    while True:
        status = app.job_manager.get_job_status(job_id).value
        workers = live_workers(url, timing.stalled_after_s) if status not in FINAL else 0
        if listener is not None:
            listener(JobProgress(job_id=job_id, status=status, waited_s=time.monotonic() - started,
                                 live_workers=workers))
        if status in FINAL:
            return str(status)
        now = time.monotonic()
        if workers > 0:
            alone_since = None
        elif alone_since is None:
            alone_since = now
        elif now - alone_since > timing.stalled_after_s:
            # no worker has been alive for a while: take the job back (a dead worker's job is
            # 'doing' until retried) and compute it here
            if status == "doing":
                app.job_manager.retry_job_by_id(job_id, retry_at=_utcnow())
            if app.job_manager.cancel_job_by_id(job_id):
                logger.warning("job %d: no live worker left; computing the suggestion in-process", job_id)
                return "cancelled"
        time.sleep(timing.poll_s)  # polling the database: there is no notification to wait on here


def _utcnow() -> Any:
    import datetime

    return datetime.datetime.now(datetime.UTC)


async def retry_stalled_jobs(app: procrastinate.App, timing: WorkerTiming) -> list[int]:
    """Put back in the queue the jobs of workers silent for :attr:`WorkerTiming.stalled_after_s`."""
    retried = []
    for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=timing.stalled_after_s):
        await app.job_manager.retry_job(job)
        logger.warning("job %s: its worker stopped mid-job; retrying it", job.id)
        retried.append(int(job.id or 0))
    return retried


async def run_worker(url: str, handler: Callable[..., None], *, name: str, timing: WorkerTiming) -> None:
    """Run one worker until it is stopped (SIGINT/SIGTERM): ``handler(**job_args)`` runs each
    ``doe.suggest`` job in a thread; every heartbeat, stalled jobs of dead workers are retried.

    Raises:
        StorageError: the queue's database failed under the worker (replaced by a restore, or
            unreachable): the worker stops, to be started again.
    """
    from procrastinate.exceptions import ConnectorException

    try:
        await _run_worker(url, handler, name=name, timing=timing)
    except ConnectorException as error:
        said = str(error.__cause__ or error).strip()  # the database's own words: its first line
        cause = said.splitlines()[0] if said else ""
        raise StorageError(
            f"doe worker {name} stopped: its database was replaced (a restore) or became unreachable"
            + (f" ({shorten_text(cause, 200)})" if cause else "") + "; start the worker again (doe worker) once the "
            "database is back") from error


async def _run_worker(url: str, handler: Callable[..., None], *, name: str, timing: WorkerTiming) -> None:
    ensure_schema(url)
    app = queue_app(url)
    app.task(name=SUGGEST_TASK, queue=QUEUE, pass_context=False)(handler)
    async with app.open_async():

        stopping = asyncio.Event()

        async def retry_loop() -> None:
            from procrastinate.exceptions import ConnectorException

            while not stopping.is_set():
                try:
                    await retry_stalled_jobs(app, timing)
                except ConnectorException as error:  # the database, not doe: one line, and the next round retries
                    logger.warning("retrying stalled jobs failed (%s); trying again in %g s",
                                   str(error.__cause__ or error).strip(), timing.heartbeat_s)
                except Exception:  # a hiccup must not end the worker; the next round retries
                    logger.exception("retrying stalled jobs failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timing.heartbeat_s)

        retrying = asyncio.create_task(retry_loop())
        try:
            await app.run_worker_async(queues=[QUEUE], name=name, concurrency=1,
                                       update_heartbeat_interval=timing.heartbeat_s,
                                       stalled_worker_timeout=timing.stalled_after_s,
                                       fetch_job_polling_interval=max(timing.poll_s, 1.0))
        finally:
            stopping.set()  # its round ends first: a query cancelled mid-way makes psycopg warn
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(retrying, timing.stalled_after_s)
