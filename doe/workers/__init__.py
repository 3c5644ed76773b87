"""Suggestion workers on PostgreSQL: a procrastinate task queue kept in doe's own database.

``doe worker --db URL`` runs one worker on any machine that reaches the database; on
PostgreSQL, :meth:`doe.Campaign.suggest` hands its work to a live worker and waits (see
:func:`suggest_on_worker`); with SQLite, with no live worker or with ``DOE_WORKERS=off`` the
work runs in-process. procrastinate keeps its own tables (``procrastinate_*``), created by its
schema manager when a worker or the app starts, outside doe's Alembic migrations.
"""

from doe.workers.queue import (
    QUEUE,
    SUGGEST_TASK,
    JobProgress,
    SuggestRequest,
    WorkerTiming,
    campaign_lock,
    end_unfinished_jobs,
    ensure_schema,
    is_postgres,
    live_workers,
    progress_listener,
    queue_app,
    queue_installed,
    retry_stalled_jobs,
    suggest_on_worker,
    workers_mode,
)

__all__ = ["QUEUE", "SUGGEST_TASK", "JobProgress", "SuggestRequest", "WorkerTiming", "campaign_lock",
           "end_unfinished_jobs", "ensure_schema",
           "is_postgres", "live_workers", "progress_listener", "queue_app", "queue_installed", "retry_stalled_jobs", "suggest_on_worker",
           "workers_mode"]
