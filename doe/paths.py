"""Where doe keeps its files (the data folder, the default database, user templates) and who
acts by default.

``DOE_HOME`` moves the data folder (default ``~/.local/share/doe``); ``DOE_DATABASE_URL``
points doe at another database (e.g. ``postgresql+psycopg://user:pw@host/doe``).
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path


def data_home() -> Path:
    root = os.environ.get("DOE_HOME")
    path = Path(root).expanduser() if root else Path.home() / ".local" / "share" / "doe"
    return path


def default_database_url() -> str:
    """``DOE_DATABASE_URL`` if set, else an SQLite file ``doe.sqlite3`` in :func:`data_home`."""
    url = os.environ.get("DOE_DATABASE_URL")
    if url:
        return url
    # a '?' or '%' in the folder's name is part of the name, not of the URL (doe.storage.engine.sqlite_url)
    return "sqlite:///" + str(data_home() / "doe.sqlite3").replace("%", "%25").replace("?", "%3F")


def acting(actor: str | None) -> str:
    """Who acts: ``actor`` without the spaces around it (as campaign names and labels are
    stored), or :func:`default_actor`. Anything but text is passed on, for the store to refuse."""
    if actor is None:
        return default_actor()
    return actor.strip() if isinstance(actor, str) else actor


def user_templates_dir() -> Path:
    return data_home() / "templates"


def default_actor() -> str:
    """Who is acting: ``DOE_ACTOR`` if set (spaces around it dropped: blank is refused where it
    is stored), else the login name."""
    actor = os.environ.get("DOE_ACTOR")
    if actor:
        return actor.strip()
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"
