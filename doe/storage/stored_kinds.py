"""What the stored values of a campaign are, read for checks that must not depend on a
readable history: the units and types a new configuration version must keep
(:func:`check_new_version`), the error of a parameter value a version reads as another
type (:func:`parameter_number`), and the outcomes whose replicate summary columns no
parameter's name takes (:func:`summarised`).

The first takes an open :class:`~sqlalchemy.engine.Connection` inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from doe.domain.config import CampaignConfig
from doe.domain.config_changes import check_reinterpreting
from doe.domain.replicates import n_column, sd_column
from doe.errors import StorageError
from doe.storage import schema as s
from doe.storage.rows import stored_configs
from doe.storage.values import shorten, stored_json, stored_number


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


def parameter_number(value: Any, campaign: str, experiment_id: Any, parameter: str,
                     configs: list[tuple[int, CampaignConfig]]) -> float:
    """A stored value of a numeric parameter as a number. A label stored while an older version
    made the parameter categorical (a version saved by an older doe retyped it) gets an error
    that says so and how to repair it; anything else is :func:`stored_number`'s error."""
    if isinstance(value, str):
        labelled = [v for v, cfg in configs
                    if parameter in cfg.parameter_names and cfg.parameter(parameter).type == "categorical"]
        if labelled:
            newest = configs[-1][1].parameter(parameter).type if parameter in configs[-1][1].parameter_names else None
            raise StorageError(
                f"campaign {campaign!r}: parameter {parameter} is {newest or 'numeric'} in configuration version "
                f"{configs[-1][0]}, but the stored experiment {shorten(experiment_id)} holds the label "
                f"{shorten(value)} of it, recorded while it was categorical (version {labelled[-1]}); save a "
                f"version that makes {parameter} categorical again (update_config, or the Campaigns page)")
    return stored_number(value, campaign, experiment_id, parameter)


def summarised(outcomes: list[str], parameters: Iterable[str]) -> list[str]:
    """The ``outcomes`` whose replicate summary columns (``<outcome>_sd``, ``<outcome>_n``) no
    parameter's name takes: a campaign stored before such names were refused keeps its
    parameter's values under their name, and that outcome gets no summary columns."""
    taken = set(parameters)
    return [o for o in outcomes if not {sd_column(o), n_column(o)} & taken]
