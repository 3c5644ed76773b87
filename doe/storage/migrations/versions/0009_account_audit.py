"""Account audit: who changed which account or membership, when, and what changed.

A new table ``account_audit`` (one row per change) records every account added, role
changed, account disabled or enabled, password changed and membership added or ended, with
the actor, the time, the account's name, the campaign of a membership and what changed (old
and new role; never a password or its hash). Before, these changes left no trail (an ended
membership lost even its ``added_by``). Existing databases start with an empty trail.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_audit",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("username", sa.String(200), nullable=False),
        sa.Column("campaign", sa.String(200), nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_account_audit"),
    )
    op.create_index("ix_account_audit_username", "account_audit", ["username"])


def downgrade() -> None:
    op.drop_index("ix_account_audit_username", table_name="account_audit")
    op.drop_table("account_audit")
