"""What the stored values of a campaign are, read for checks that must not depend on a
readable history: the units and types a new configuration version must keep
(:func:`check_new_version`).

Each takes an open :class:`~sqlalchemy.engine.Connection` inside the caller's transaction.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from doe.domain.config import CampaignConfig
from doe.domain.config_changes import check_reinterpreting
from doe.storage import schema as s
from doe.storage.rows import stored_configs
from doe.storage.values import stored_json


def check_new_version(conn: Connection, campaign_id: int, name: str, config: CampaignConfig) -> None:
    """Refuse ``config`` as the next version of campaign ``name`` where it would read stored
    values in another unit or type (:func:`doe.domain.config_changes.reinterpreting_changes`,
    against every stored experiment and measurement, not only the newest version).

    Raises:
        ConfigError: naming each such parameter or outcome.
    """
    e, m = s.experiments, s.measurements
    exp_rows = conn.execute(sa.select(e.c.experiment_id, e.c.config_version, e.c.parameters)
                            .where(e.c.campaign_id == campaign_id).order_by(e.c.id)).all()
    experiments = pd.DataFrame(
        [(r.experiment_id, int(r.config_version), stored_json(r.parameters, name, r.experiment_id, "parameters"))
         for r in exp_rows], columns=["experiment_id", "config_version", "parameters"])
    cells = conn.execute(sa.select(e.c.experiment_id, m.c.outcome, m.c.unit).distinct()
                         .join(e, e.c.id == m.c.experiment_pk)
                         .where(e.c.campaign_id == campaign_id, m.c.superseded == sa.false())).all()
    measurements = pd.DataFrame([tuple(r) for r in cells], columns=["experiment_id", "outcome", "unit"])
    check_reinterpreting(config, dict(stored_configs(conn, campaign_id)), experiments, measurements)
