"""Executors: who makes and tests the experiments of a closed loop run by :func:`doe.run`.

An executor takes batches of experiments and, some time later, hands back their results. The
runner never waits on one batch: it submits, keeps proposing while earlier experiments are
still under way (up to ``max_pending``) and records results as they come, in any order.

The protocol (:class:`Executor`) has two methods:

``submit(experiments)``
    Start these experiments. ``experiments`` has ``experiment_id``, ``batch_id`` and one
    column per parameter (a fresh batch also carries the predictions). Return at once.
``collect(timeout_s)``
    Results that are ready, waiting at most ``timeout_s`` seconds for the first one:
    ``experiment_id``, any measured outcomes (NaN: not measured) and optionally ``failed``
    (bool) and ``failure_reason``. An empty frame when nothing is ready. Results may come
    in any order, some now and some later; each experiment once.

Optional hooks (:class:`BaseExecutor` provides defaults; the runner looks them up with
``getattr`` so a plain object with ``submit`` and ``collect`` is an executor too):

``timeout_s`` (attribute)
    Seconds an experiment may stay with the executor; later, the runner marks it failed
    ("timed out after N s") and calls ``cancel``. ``None``: wait for ever. After a restart,
    an experiment the executor lists in ``in_flight()`` counts from its proposal, one handed
    over again from then.
``start(campaign)``
    Called once when a run starts (e.g. to learn the campaign's configuration).
``in_flight()``
    Ids of experiments the executor already has under way. After a crash the runner hands
    the campaign's pending experiments to the executor again, except these.
``cancel(experiment_ids)``
    The runner gave up on these (timed out); drop them if possible.
``recorded(results)``
    The runner recorded ``results`` (a table ``collect`` returned), or found nothing new in
    them: e.g. the :class:`FileExecutor` moves their file to ``processed/`` only now, so a
    run killed between reading and recording reads the file again.
``rejected(results, error)``
    The runner could not record ``results`` (``error`` names the bad cells, or says that none
    of the ids is the campaign's). Return ``True`` to keep the experiments in flight (e.g. the
    :class:`FileExecutor` waits for a corrected file), ``False`` to let the runner mark them
    failed.

An exception raised by ``submit`` or ``collect`` is the executor's own trouble (a share
offline, an instrument API down), not an experiment's result: the runner waits and calls
again (``submit`` with the experiments that ``in_flight()`` does not list), and after :data:`doe.runner.EXECUTOR_ATTEMPTS` failures in a row stops with an
:class:`~doe.errors.ExecutorError`, failing nothing. A recipe that could not be made is a
result row with ``failed`` and ``failure_reason`` (:class:`CallableExecutor` turns an
exception of its function into such rows, except an outage: :data:`OUTAGES`).

Built-in executors: :class:`VirtualLabExecutor` (the simulated coating lab, with a queue
that returns results late and out of order), :class:`FileExecutor` (run sheets out, result
files in, through a folder) and :class:`CallableExecutor` (any Python function).
"""

from __future__ import annotations

from doe.executors.base import BaseExecutor, Executor, describe_exception, failure_rows
from doe.executors.folder import FileExecutor
from doe.executors.function import OUTAGES, CallableExecutor
from doe.executors.virtual import VirtualLabExecutor

__all__ = [
    "OUTAGES",
    "BaseExecutor",
    "CallableExecutor",
    "Executor",
    "FileExecutor",
    "VirtualLabExecutor",
    "describe_exception",
    "failure_rows",
]
