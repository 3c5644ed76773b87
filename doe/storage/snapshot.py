"""Several reads of one campaign that show one state of it.

Each read of a store (experiments, measurements, failed cells) is a transaction of its own, so
another process's write can land between two of them: a file built from both would mix two
states (an experiment ``proposed`` beside its measured values). Every write bumps the
campaign's ``revision`` (:meth:`doe.storage.base.CampaignStore.revision`), so reads made while the
revision stayed the same saw one state; :func:`consistent_read` reads again when it changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from doe.errors import ConcurrentChangeError

T = TypeVar("T")

SNAPSHOT_ATTEMPTS = 5
"""Times a set of reads is made again when the campaign changed while they ran."""


def consistent_read(revision: Callable[[], int], read: Callable[[], T], name: str) -> tuple[int, T]:
    """``read()`` made while the campaign's ``revision()`` did not change, and that revision.

    Raises:
        ConcurrentChangeError: the campaign changed during each of :data:`SNAPSHOT_ATTEMPTS` tries.
    """
    for _ in range(SNAPSHOT_ATTEMPTS):
        before = revision()
        result = read()
        if revision() == before:
            return before, result
    raise ConcurrentChangeError(
        f"campaign {name!r} changed while it was read, {SNAPSHOT_ATTEMPTS} times in a row (other sessions are "
        "writing to it); nothing was read: try again")


__all__ = ["SNAPSHOT_ATTEMPTS", "consistent_read"]
