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

import pandas as pd

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


class RevisionCache:
    """A table computed from the campaign's stored state (its history: every curve refitted), kept
    while the campaign's ``revision()`` stays the same; each caller gets a copy."""

    def __init__(self, revision: Callable[[], int], name: str) -> None:
        self._revision = revision
        self._name = name
        self._entry: tuple[int, pd.DataFrame] | None = None

    def table(self, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """A copy of the table at the current revision; ``compute()`` (in :func:`consistent_read`)
        only when the revision changed since the last one."""
        if self._entry is None or self._entry[0] != self._revision():
            self._entry = consistent_read(self._revision, compute, self._name)
        return self._entry[1].copy()


__all__ = ["SNAPSHOT_ATTEMPTS", "RevisionCache", "consistent_read"]
