"""Disabled at: the database's time of an account's latest disable, ``users.disabled_at``.

A single-sign-on session signed in before ``doe user disable NAME`` went on after a quick
``doe user enable NAME``: only a password session kept a count of the account's disables. Now
every app session keeps the database's time at its sign-in, and one that signed in before the
account's latest disable is signed out. One nullable column on ``users``; accounts disabled
before have none, which loses nothing: every session that keeps a sign-in time signed in after
this upgrade, so after those disables.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Added in place, not by copying the table (SQLite's batch mode): dropping the old ``users``
    # would cascade to its memberships.
    op.add_column("users", sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "disabled_at")  # in place, as it was added (SQLite 3.35 and later)
