"""Cell failures: a replicate cell that gave no result is kept, with its reason.

A new table ``cell_failures`` (one row per experiment and replicate label) stores a failed
cell of an experiment (a cracked pellet), including one whose other cells measured the
experiment, which stays completed. Before, such a cell was only named in ``record()``'s
report. Existing campaigns start with none.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cell_failures",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("experiment_pk", sa.Integer, nullable=False),
        sa.Column("replicate", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cell_failures"),
        sa.ForeignKeyConstraint(["experiment_pk"], ["experiments.id"], ondelete="CASCADE",
                                name="fk_cell_failures_experiment_pk_experiments"),
        sa.UniqueConstraint("experiment_pk", "replicate", name="uq_cell_failures_experiment_pk_replicate"),
    )


def downgrade() -> None:
    op.drop_table("cell_failures")
