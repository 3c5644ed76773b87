"""Model states in the store: the latest fitted GP hyperparameters per campaign and outcome.

Derived data (see :mod:`doe.domain.model_states`): written in a small transaction of its own
that touches neither the campaign's revision counter nor its audit log, deleted with the
campaign (``ON DELETE CASCADE``) and left out of exports. A row that cannot be read back (not
a JSON list of numbers) is skipped; :class:`CampaignModelMemory` never raises, so a state
that cannot be written (a read-only file, a lost race) costs a slower fit, never a suggestion.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from doe.domain.model_states import ModelState
from doe.errors import StorageError
from doe.storage import schema as s
from doe.storage.values import utc_now

log = logging.getLogger(__name__)


def read_states(conn: Connection, campaign_id: int) -> list[ModelState]:
    """The campaign's stored states by outcome name; unreadable rows are skipped (logged)."""
    m = s.model_states
    rows = conn.execute(sa.select(m.c.outcome, m.c.signature, m.c.theta, m.c.n_rows, m.c.data_revision,
                                  m.c.fitted_at).where(m.c.campaign_id == campaign_id).order_by(m.c.outcome))
    states = []
    for row in rows:
        try:
            values = json.loads(row.theta)
            if not isinstance(values, list) or not all(isinstance(v, int | float) for v in values):
                raise ValueError("not a list of numbers")
            theta = tuple(float(v) for v in values)
        except ValueError as err:  # JSONDecodeError is a ValueError
            log.info("stored model state of outcome %r skipped: %s", row.outcome, err)
            continue
        states.append(ModelState(row.outcome, row.signature, theta, int(row.n_rows), int(row.data_revision),
                                 row.fitted_at))
    return states


def upsert_states(conn: Connection, campaign_id: int, states: Sequence[ModelState], data_revision: int) -> None:
    """Insert or replace the states of these outcomes (one row per campaign and outcome); a stored
    state of a later ``data_revision`` is kept."""
    if not states:
        return
    dialect = {"postgresql": postgresql, "sqlite": sqlite}.get(conn.dialect.name)
    if dialect is None:
        raise StorageError(f"model states: database {conn.dialect.name!r} is not supported")
    now = utc_now()
    rows = [{"campaign_id": campaign_id, "outcome": st.outcome, "signature": st.signature,
             "theta": json.dumps(list(st.theta)), "n_rows": st.n_rows, "data_revision": data_revision,
             "fitted_at": now} for st in states]
    statement = dialect.insert(s.model_states).values(rows)
    keep = ("signature", "theta", "n_rows", "data_revision", "fitted_at")
    # a fit of older data (a slower process) never replaces a newer one: that write is skipped
    conn.execute(statement.on_conflict_do_update(index_elements=["campaign_id", "outcome"],
                                                 set_={c: statement.excluded[c] for c in keep},
                                                 where=s.model_states.c.data_revision <= statement.excluded.data_revision))


class StatesStore(Protocol):
    """What :class:`CampaignModelMemory` needs of a store (:class:`doe.storage.sql.SqlStore`)."""

    def model_states(self, name: str) -> list[ModelState]: ...

    def save_model_states(self, name: str, states: Sequence[ModelState], data_revision: int) -> None: ...


class CampaignModelMemory:
    """One campaign's model states in a store, as the engine sees them
    (:class:`doe.domain.model_states.ModelStateMemory`); failures are logged, never raised.

    Args:
        store: the store.
        name: the campaign.
        data_revision: the campaign's revision whose data the fits use (stored with each state).
    """

    def __init__(self, store: StatesStore, name: str, data_revision: int) -> None:
        self.store = store
        self.name = name
        self.data_revision = int(data_revision)

    def load(self) -> list[ModelState]:
        try:
            return self.store.model_states(self.name)
        except StorageError as err:
            log.warning("campaign %r: stored model states not read (%s); fits start cold", self.name, err)
            return []

    def save(self, states: Sequence[ModelState]) -> None:
        try:
            self.store.save_model_states(self.name, states, self.data_revision)
        except StorageError as err:
            log.warning("campaign %r: model states not stored (%s); the next process fits cold", self.name, err)
        else:
            log.debug("campaign %r: stored model states of %s", self.name, [st.outcome for st in states])

    def __repr__(self) -> str:
        return f"CampaignModelMemory({self.name!r}, data_revision={self.data_revision})"


__all__ = ["CampaignModelMemory", "StatesStore", "read_states", "upsert_states"]
