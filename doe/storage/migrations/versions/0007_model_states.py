"""Model states: the latest fitted GP hyperparameters of each outcome, kept with the campaign.

A new table ``model_states`` (one row per campaign and outcome) lets a fresh process (a CLI
call, a worker, another app replica) warm-start its hyperparameter fits from the last fit
(:mod:`doe.engine.warm`). Derived data: written outside the revision counter and the audit
log, deleted with its campaign, not exported. Existing campaigns start with no state.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_states",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("campaign_id", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("theta", sa.Text, nullable=False),
        sa.Column("n_rows", sa.Integer, nullable=False),
        sa.Column("data_revision", sa.Integer, nullable=False),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model_states"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE",
                                name="fk_model_states_campaign_id_campaigns"),
        sa.UniqueConstraint("campaign_id", "outcome", name="uq_model_states_campaign_id_outcome"),
    )


def downgrade() -> None:
    op.drop_table("model_states")
