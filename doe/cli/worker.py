"""``doe worker``: compute suggestions for every campaign of a PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import socket
from typing import TYPE_CHECKING, Any, Literal

import click

from doe.cli.common import Env, cli, common_options, masked
from doe.errors import DoeError

if TYPE_CHECKING:
    from doe.workers import SuggestRequest


def run_suggest_job(db: str, **job_args: Any) -> None:
    """One ``doe.suggest`` job: the campaign's suggestion, written once with the request's id.

    Under the campaign's advisory lock, so a retried job never races an attempt still writing;
    a retry of a request whose batch is stored finds it and writes nothing.
    """
    from doe.campaign import Campaign
    from doe.engine import EngineSettings
    from doe.workers import SuggestRequest, campaign_lock

    request = SuggestRequest.from_job_args(job_args)
    settings = None
    if request.settings is not None:
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in request.settings.items()}
        settings = EngineSettings(**values)
    with campaign_lock(db, request.campaign):
        campaign = Campaign.load(request.campaign, storage=db, actor=request.actor, settings=settings)
        campaign.suggest(request.n, fixed=dict(request.fixed) if request.fixed else None,
                         candidates=request.candidates_table(), design=design_of(request), request_id=request.request_id)


def design_of(request: SuggestRequest) -> Literal["model", "latin_hypercube", "screening"]:
    if request.design not in ("model", "latin_hypercube", "screening"):
        raise DoeError(f"design: expected model, latin_hypercube or screening, got {request.design!r}")
    return request.design  # type: ignore[return-value]


@cli.command()
@click.option("--name", default=None, help="Worker name in the logs [default: host:pid].")
@common_options
def worker(name: str | None, env: Env) -> None:
    """Compute suggestions queued by the app, the CLI and the Python API (PostgreSQL only).

    Run one per machine or core on any machine that reaches the database (a GPU machine
    computes on CUDA). Callers wait for a worker while one is alive and compute in-process
    otherwise. Stop it with Ctrl-C or SIGTERM: the job it is on finishes first; a worker that
    dies mid-job has its job retried by another. DOE_WORKER_HEARTBEAT_S sets the heartbeat
    (default 5 s; a worker silent three heartbeats is dead).
    """
    from doe.workers import WorkerTiming, is_postgres, queue_installed
    from doe.workers.queue import run_worker

    if not queue_installed():
        raise DoeError("doe worker needs procrastinate: pip install 'doe[workers]'")
    if not is_postgres(env.db):
        raise DoeError(f"--db: doe worker needs a PostgreSQL database (postgresql+psycopg://...), got "
                       f"{masked(env.db)}; with SQLite, suggestions are computed in-process")
    from doe.storage import open_store

    # doe's tables before the queue's: doe refuses a database holding only another application's
    open_store(env.db)
    label = name or f"{socket.gethostname()}:{os.getpid()}"
    timing = WorkerTiming.from_env()
    click.echo(f"doe worker {label} on {masked(env.db)}; Ctrl-C stops it", err=True)

    def handler(**job_args: Any) -> None:
        run_suggest_job(env.db, **job_args)

    asyncio.run(run_worker(env.db, handler, name=label, timing=timing))
