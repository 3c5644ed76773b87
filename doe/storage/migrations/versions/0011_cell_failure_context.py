"""Failed cells keep their context: ``operator``, ``sample_id`` and ``measured_at``.

A failed replicate cell kept its reason and note only, so the sample id naming the cracked
pellet, who made it and when it was found failed were lost (each measured cell keeps them).
Three nullable columns on ``cell_failures``; the failures stored before have none.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("operator", "sample_id", "measured_at")


def upgrade() -> None:
    # Added in place, not by copying the table (SQLite's batch mode), as 0010 does: nullable
    # columns need no rewrite of the rows.
    op.add_column("cell_failures", sa.Column("operator", sa.String(200), nullable=True))
    op.add_column("cell_failures", sa.Column("sample_id", sa.String(64), nullable=True))
    op.add_column("cell_failures", sa.Column("measured_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for column in reversed(_COLUMNS):
        op.drop_column("cell_failures", column)  # in place, as added (SQLite 3.35 and later)
