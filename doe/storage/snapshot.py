"""Several reads of one campaign that show one state of it, and tables kept per state.

Each read of a store (experiments, measurements, failed cells) is a transaction of its own, so
another process's write can land between two of them: a file built from both would mix two
states (an experiment ``proposed`` beside its measured values). Every write bumps the
campaign's ``revision`` and sets a new random ``token``
(:meth:`doe.storage.base.CampaignStore.state`), so reads made while the :class:`CampaignState`
stayed the same saw one state; :func:`consistent_read` reads again when it changed.

The revision alone does not name one state: a restored backup (``doe restore``), or a campaign
deleted and made again under its name, comes back to a revision number it had before with other
contents. The token tells them apart, so a table kept for a :class:`CampaignState` is never
shown for another state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd

from doe.errors import ConcurrentChangeError

T = TypeVar("T")

SNAPSHOT_ATTEMPTS = 5
"""Times a set of reads is made again when the campaign changed while they ran."""


@dataclass(frozen=True)
class CampaignState:
    """One stored state of a campaign: the key of everything cached from it.

    Attributes:
        revision: the count of the campaign's changes (grows with every write; ordering, and the
            part of the ``expect_state`` of a write).
        token: random text that the campaign's creation and every write set anew, so that two
            states with one revision number (before and after a restore) differ.
    """

    revision: int
    token: str


def stored_state(campaign: Any) -> CampaignState:
    """The :class:`CampaignState` of a ``campaigns`` row (its ``revision`` and ``state_token``)."""
    return CampaignState(int(campaign.revision), str(campaign.state_token))


def state_changed(name: str, seen: CampaignState, now: CampaignState) -> str:
    """Why a write computed from state ``seen`` of campaign ``name`` is refused at state ``now``."""
    if now.revision > seen.revision:
        what = f"changed (revision {seen.revision} -> {now.revision})"
    else:  # a write only counts up: the campaign was replaced by another of this name
        what = (f"was replaced (restored from a backup, or deleted and made again) and is now at revision "
                f"{now.revision}, a state other than revision {seen.revision} that was read")
    return f"campaign {name!r} {what} after the data this write was computed from was read; nothing was written"


def consistent_read(state: Callable[[], CampaignState], read: Callable[[], T],
                    name: str) -> tuple[CampaignState, T]:
    """``read()`` made while the campaign's ``state()`` did not change, and that state.

    Raises:
        ConcurrentChangeError: the campaign changed during each of :data:`SNAPSHOT_ATTEMPTS` tries.
    """
    for _ in range(SNAPSHOT_ATTEMPTS):
        before = state()
        result = read()
        if state() == before:
            return before, result
    raise ConcurrentChangeError(
        f"campaign {name!r} changed while it was read, {SNAPSHOT_ATTEMPTS} times in a row (other sessions are "
        "writing to it); nothing was read: try again")


class StateCache:
    """A table computed from the campaign's stored state (its history: every curve refitted), kept
    while the campaign's ``state()`` (revision and token) stays the same; each caller gets a copy."""

    def __init__(self, state: Callable[[], CampaignState], name: str) -> None:
        self._state = state
        self._name = name
        self._entry: tuple[CampaignState, pd.DataFrame] | None = None

    def table(self, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """A copy of the table of the current state; ``compute()`` (in :func:`consistent_read`)
        only when the state changed since the last one (one query, for the state, otherwise)."""
        if self._entry is None or self._entry[0] != self._state():
            self._entry = consistent_read(self._state, compute, self._name)
        return self._entry[1].copy()


__all__ = ["SNAPSHOT_ATTEMPTS", "CampaignState", "StateCache", "consistent_read", "state_changed", "stored_state"]
