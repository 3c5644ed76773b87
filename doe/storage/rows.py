"""Row-level helpers shared by the store's read, write and import paths.

Each takes an open :class:`~sqlalchemy.engine.Connection` inside the caller's transaction.
"""

from __future__ import annotations

import json
import shlex
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from doe.domain.config import CampaignConfig, ConfigVersion
from doe.domain.values import composed, is_unicode_text, label_key
from doe.errors import ArchivedCampaignError, StorageError
from doe.storage import schema as s
from doe.storage.engine import mask_url
from doe.storage.values import parse_config, shorten


def campaign_row(conn: Connection, name: str, url: str, *, lock: bool = False, to_change: bool = False) -> Any:
    """The ``campaigns`` row of ``name`` in any Unicode spelling (:func:`find_campaign`), locked
    ``FOR UPDATE`` on PostgreSQL if ``lock``.

    Raises:
        StorageError: no campaign of that name (the message lists the campaigns there); with
            ``to_change``, the campaign is archived (:func:`archived_message`).
    """
    if not isinstance(name, str):
        raise StorageError(f"a campaign name must be text, got {type(name).__name__}")
    if not is_unicode_text(name):  # no stored name holds one; the lookup itself would fail
        raise StorageError(f"no campaign named {shorten(name, 130)}: the name holds a character that is not "
                           "Unicode text (a lone surrogate, such as a byte that is not UTF-8 in a shell argument)")
    row = find_campaign(conn, name, lock=lock)
    if row is None:
        names = list(conn.execute(sa.select(s.campaigns.c.name).order_by(s.campaigns.c.id)).scalars())
        shown = names[:30] + (["..."] if len(names) > 30 else [])
        raise StorageError(
            f"no campaign named {shorten(name, 130)} in {mask_url(url)!r}; "
            f"campaigns there: {shown if names else 'none yet'}"
        )
    if to_change and row.archived:
        raise ArchivedCampaignError(archived_message(name))
    return row


def find_campaign(conn: Connection, name: str, *, lock: bool = False) -> Any | None:
    """The ``campaigns`` row stored under ``name`` or under another Unicode spelling of it
    (composed or decomposed accents), or None (locked ``FOR UPDATE`` on PostgreSQL if ``lock``).

    A new name is stored composed; an older doe stored names as typed, so a name stored
    decomposed is found when typed composed, and the other way round. The stored spelling
    itself wins when two stored names are one name composed.

    Raises:
        StorageError: ``name`` is no stored spelling and two stored names compose to it.
    """
    table = s.campaigns
    for spelling in dict.fromkeys([name, composed(name)]):
        row = _campaign_where(conn, table.c.name == spelling, lock)
        if row is not None:
            return row
    key = composed(name)
    ids = [r.id for r in conn.execute(sa.select(table.c.id, table.c.name))
           if composed(r.name) == key]  # only a name none stores exactly gets this far
    if len(ids) > 1:
        names = list(conn.execute(sa.select(table.c.name).where(table.c.id.in_(ids)).order_by(table.c.id)).scalars())
        raise StorageError(f"the campaign name {shorten(name, 130)} is the name of {len(ids)} campaigns stored "
                           f"in different Unicode spellings ({', '.join(map(ascii, names))}); type it exactly as "
                           "one of them is stored")
    return _campaign_where(conn, table.c.id == ids[0], lock) if ids else None


def _campaign_where(conn: Connection, condition: Any, lock: bool) -> Any:
    query = sa.select(s.campaigns).where(condition)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).first()


def archived_message(name: str) -> str:
    """Why a change to the archived campaign ``name`` is refused, and how to reopen it."""
    return (f"campaign {name!r} is archived (closed to changes); nothing was written. To change it, unarchive it "
            f"first: `doe unarchive {shlex.quote(name)}`, Campaign.load(...).archive(False) in Python, or Restore "
            "under 'Archived campaigns' on the app's Campaigns page")


def audit_row(campaign_id: int, at: datetime, actor: str, action: str,
              experiment_id: str | None = None, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """One ``audit_log`` row, ``detail`` as JSON text."""
    return {
        "campaign_id": campaign_id, "at": at, "actor": actor, "action": action,
        "experiment_id": experiment_id,
        "detail": json.dumps(detail or {}, ensure_ascii=False, allow_nan=False),
    }


def new_state_token() -> str:
    """A fresh ``campaigns.state_token``: random, so no two states of any campaign share one."""
    return uuid.uuid4().hex


def bump_revision(conn: Connection, campaign_id: int, at: datetime, **extra: Any) -> None:
    """Count one change of the campaign (its ``revision``, with a new state token), setting
    ``extra`` columns too."""
    conn.execute(
        sa.update(s.campaigns)
        .where(s.campaigns.c.id == campaign_id)
        .values(revision=s.campaigns.c.revision + 1, state_token=new_state_token(), updated_at=at, **extra)
    )


def stored_configs(conn: Connection, campaign_id: int) -> list[tuple[int, CampaignConfig]]:
    """Every configuration version of the campaign, oldest first."""
    cv = s.config_versions
    rows = conn.execute(sa.select(cv.c.version, cv.c.config_yaml)
                        .where(cv.c.campaign_id == campaign_id).order_by(cv.c.version))
    return [(int(r.version), parse_config(r.config_yaml)) for r in rows]


def stale_edit(conn: Connection, campaign_id: int, name: str, latest: int, based_on: int | ConfigVersion) -> str | None:
    """Why an edit of campaign ``name`` that started from ``based_on`` may not be saved now that
    version ``latest`` is the newest, or None: another version was saved since, or version
    ``based_on`` now holds another configuration than the one the edit read (a restored backup,
    or the campaign made again, brought the number back)."""
    number = based_on if isinstance(based_on, int) else based_on.version
    cv = s.config_versions
    if latest == number:
        if isinstance(based_on, int) or parse_config(conn.execute(sa.select(cv.c.config_yaml).where(
                cv.c.campaign_id == campaign_id, cv.c.version == number)).scalar_one()) == based_on.config:
            return None
        why = (f"and is not the version {number} this edit started from (the campaign was restored from a backup "
               "or replaced since)")
    else:
        why = f"after version {number}, which this edit started from"
    by = conn.execute(sa.select(cv.c.created_by, cv.c.created_at).where(
        cv.c.campaign_id == campaign_id, cv.c.version == latest)).one()
    return (f"campaign {name!r}: configuration version {latest} was saved by {by.created_by} at "
            f"{by.created_at:%Y-%m-%d %H:%M} UTC {why}; nothing was saved: make the edit on version {latest}")


def latest_config(conn: Connection, campaign_id: int) -> CampaignConfig:
    """The campaign's newest configuration."""
    cv = s.config_versions
    text = conn.execute(sa.select(cv.c.config_yaml).where(cv.c.campaign_id == campaign_id)
                        .order_by(cv.c.version.desc()).limit(1)).scalar_one()
    return parse_config(text)


CAMPAIGN_NAMES_LOCK = 0x646F_6501
"""PostgreSQL advisory lock key of the campaign-name check (``doe`` + 1)."""
USER_NAMES_LOCK = 0x646F_6502
"""PostgreSQL advisory lock key of the user-name check (``doe`` + 2)."""


def name_check_lock(conn: Connection, key: int) -> None:
    """On PostgreSQL, wait for the other name checks of ``key`` until this transaction ends: a
    check is a read, then an insert, and two at once would both pass. Nothing else waits (a
    table lock held every write to every campaign). SQLite's writes run one at a time anyway."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def check_name_free(conn: Connection, name: str, url: str, advice: str) -> None:
    """Refuse a new campaign ``name`` that the store holds, or that differs from a stored
    name only in upper and lower case or in how its characters are written (``Line`` or a
    full-width ``ｌｉｎｅ`` beside ``line``): two campaigns an engineer cannot tell apart.
    On PostgreSQL the check takes a transaction-level advisory lock (:func:`name_check_lock`),
    so two twins created at the same moment cannot both pass it (the unique constraint catches
    only the exact name), while writes to other campaigns go on."""
    name_check_lock(conn, CAMPAIGN_NAMES_LOCK)
    for (stored,) in conn.execute(sa.select(s.campaigns.c.name)):
        if stored == name:
            raise StorageError(f"a campaign named {name!r} exists already in {mask_url(url)!r}; {advice}")
        if label_key(stored) == label_key(name):
            raise StorageError(f"campaign name {name!r} differs from the campaign {stored!r} in {mask_url(url)!r} "
                               f"only in upper and lower case or in how its characters are written; {advice}")


def delete_campaign_rows(conn: Connection, campaign_id: int) -> None:
    """Delete a campaign and every row of it (measurements first: they point at its files and
    at one another; the schema's cascades take the rest)."""
    experiments = sa.select(s.experiments.c.id).where(s.experiments.c.campaign_id == campaign_id)
    conn.execute(sa.update(s.measurements).where(s.measurements.c.experiment_pk.in_(experiments))
                 .values(superseded_by=None))
    conn.execute(sa.delete(s.measurements).where(s.measurements.c.experiment_pk.in_(experiments)))
    conn.execute(sa.delete(s.campaigns).where(s.campaigns.c.id == campaign_id))
