"""Who measured a value and on which sample: ``operator`` and ``sample_id`` on measurements.

The lab records more than a number: the engineer who ran the cell and the sample or cell id
written on it. Both are nullable text columns; existing measurements get NULL (not given),
so nothing changes for old campaigns. SQLite adds nullable columns in place.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("measurements", sa.Column("operator", sa.String(200), nullable=True))
    op.add_column("measurements", sa.Column("sample_id", sa.String(64), nullable=True))


def downgrade() -> None:
    for column in ("sample_id", "operator"):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE measurements DROP COLUMN {column}")  # no index or constraint on it
        else:
            op.drop_column("measurements", column)
