"""Campaigns as an older doe stored them: configuration versions saved without the checks a
newer doe makes."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from doe.domain.config import CampaignConfig
from doe.storage import schema as s


def save_as_an_older_doe(store_url: str, name: str, config: CampaignConfig, version: int) -> None:
    """Store ``config`` as version ``version`` of campaign ``name`` as an older doe saved it: no
    check of the stored values or of the names."""
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        cid = conn.execute(sa.select(s.campaigns.c.id).where(s.campaigns.c.name == name)).scalar_one()
        conn.execute(sa.insert(s.config_versions).values(campaign_id=cid, version=version, config_yaml=config.to_yaml(),
                                                         created_at=datetime.now(UTC), created_by="old"))
    engine.dispose()
