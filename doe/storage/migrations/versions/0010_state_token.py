"""State token: a campaign's cached reads are keyed by one state, not only a revision number.

A new column ``campaigns.state_token`` holds a random token that every change of the campaign
(and its creation or import) sets anew. The revision counter alone does not name one state: a
restored backup, or a campaign deleted and made again under its name, comes back to a revision
number it had before with other contents, and a process that kept the history of that number
(``Campaign.history()``, the web app) showed the old one. Existing campaigns get a token each.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Added in place, not by copying the table (SQLite's batch mode): dropping the old
    # ``campaigns`` would cascade to every campaign's rows. The empty default only lets the column
    # be added to existing rows; each then gets its own token.
    op.add_column("campaigns", sa.Column("state_token", sa.String(32), nullable=False, server_default=""))
    campaigns = sa.table("campaigns", sa.column("id", sa.Integer), sa.column("state_token", sa.String(32)))
    conn = op.get_bind()
    for campaign_id in conn.execute(sa.select(campaigns.c.id)).scalars().all():
        conn.execute(sa.update(campaigns).where(campaigns.c.id == campaign_id).values(state_token=uuid.uuid4().hex))


def downgrade() -> None:
    op.drop_column("campaigns", "state_token")  # in place, as it was added (SQLite 3.35 and later)
