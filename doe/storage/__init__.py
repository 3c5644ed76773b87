"""Campaign storage behind :class:`doe.Campaign`: SQLAlchemy 2, SQLite by default, PostgreSQL.

``open_store(url)`` returns a store for a database URL (``None``: the default SQLite file,
see :mod:`doe.paths`; ``":memory:"``: a private in-memory database; a plain path: an SQLite
file). Importing this package loads no SQLAlchemy; ``open_store`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from doe.storage.base import CampaignStore


def open_store(url: str | None = None) -> CampaignStore:
    from doe.storage.sql import SqlStore

    return SqlStore.open(url)


__all__ = ["open_store"]
