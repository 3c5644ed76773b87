"""The HfO2-NCM85 demo campaign, put by the app in a database that holds no campaign yet."""

from __future__ import annotations

from doe.campaign import Campaign, list_campaigns
from doe.errors import StorageError

DEMO_NAME = "hfo2-ncm85-demo"


def seed_demo_campaign(storage: str | None = None) -> str | None:
    """The demo campaign's name if the database holds it, or None.

    A database without any campaign (archived ones count) gets it first: the ``hfo2-ncm85``
    template with the study's two recipes (bare and 0.83 wt% HfO2, 400 C, 2 h, O2) as history.
    A database that holds campaigns, such as a lab's shared server, is left as it is.
    """
    from doe.datasets import load_recipes

    names = set(list_campaigns(storage, include_archived=True)["name"])
    if names:
        return DEMO_NAME if DEMO_NAME in names else None
    try:
        campaign = Campaign.from_config("hfo2-ncm85", storage=storage, name=DEMO_NAME, actor="doe-demo")
    except StorageError:  # another process made it meanwhile (two servers starting on one database)
        Campaign.load(DEMO_NAME, storage=storage)
        return DEMO_NAME
    campaign.record(load_recipes())
    return DEMO_NAME
