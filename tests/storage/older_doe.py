"""Campaigns as an older doe stored them: configuration versions saved without the checks a
newer doe makes."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from doe.domain.config import CampaignConfig
from doe.domain.yaml_text import dump_yaml, load_yaml
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


def respell_as_an_older_doe(store_url: str, name: str, *, new_name: str | None = None,
                            ids: dict[str, str] | None = None, replicates: dict[str, str] | None = None) -> None:
    """Give campaign ``name`` the name ``new_name`` (in its row and every configuration version),
    its experiments the ids ``ids`` maps theirs to, and its cells the replicate labels
    ``replicates`` maps theirs to, written as an older doe let them be stored: unchecked."""
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        cid = conn.execute(sa.select(s.campaigns.c.id).where(s.campaigns.c.name == name)).scalar_one()
        if new_name is not None:
            conn.execute(sa.update(s.campaigns).where(s.campaigns.c.id == cid).values(name=new_name))
            for row in conn.execute(sa.select(s.config_versions.c.id, s.config_versions.c.config_yaml)
                                    .where(s.config_versions.c.campaign_id == cid)).all():
                conn.execute(sa.update(s.config_versions).where(s.config_versions.c.id == row.id).values(
                    config_yaml=dump_yaml(load_yaml(row.config_yaml) | {"name": new_name})))
        for old, new in (ids or {}).items():
            conn.execute(sa.update(s.experiments).where(s.experiments.c.campaign_id == cid,
                                                        s.experiments.c.experiment_id == old).values(experiment_id=new))
            conn.execute(sa.update(s.audit_log).where(s.audit_log.c.campaign_id == cid,
                                                      s.audit_log.c.experiment_id == old).values(experiment_id=new))
        for old, new in (replicates or {}).items():
            for table in (s.measurements, s.cell_failures):
                conn.execute(sa.update(table).where(table.c.replicate == old).values(replicate=new))
    engine.dispose()
