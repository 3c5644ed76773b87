"""A new configuration version is judged against the units and types the stored values were
recorded in, not only against the previous version (a real SQLite file and a real PostgreSQL
database)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from older_doe import save_as_an_older_doe

from doe import Campaign
from doe.domain.config import CampaignConfig
from doe.errors import ConfigError, StorageError
from doe.storage import schema as s


def _changed(campaign: Campaign, edit: Any) -> dict[str, Any]:
    data = campaign.config.to_dict()
    edit(data)
    return data


def test_a_unit_change_refused_in_one_step_is_refused_in_two(store_url: str) -> None:
    """Found by a probe: C -> K was refused, but C -> no unit -> K, or dropping an outcome in nm
    and adding it back in um, was saved, and the stored 400 (C) and 10 (nm) were then read as
    400 K and 10 um."""
    campaign = Campaign.from_config(
        {"name": "units", "seed": 1,
         "parameters": [{"name": "temp", "type": "continuous", "bounds": [0.0, 1000.0], "unit": "C"},
                        {"name": "y", "type": "continuous", "bounds": [0.0, 10.0]}],
         "objectives": [{"name": "ce", "goal": "maximize", "unit": "%"}],
         "outcomes": [{"name": "thick", "unit": "nm"}]}, storage=store_url)
    campaign.record(pd.DataFrame([{"temp": 400.0, "y": 1.0, "ce": 90.0, "thick": 10.0}]))
    assert campaign.update_config(_changed(campaign, lambda d: d["parameters"][0].pop("unit"))) == 2
    with pytest.raises(ConfigError, match=r"temp: the unit changes from C to K, but 1 experiment\(s\) hold values of "
                                          r"it in C, which would be read as K"):
        campaign.update_config(_changed(campaign, lambda d: d["parameters"][0].update(unit="K")))
    assert campaign.update_config(_changed(campaign, lambda d: d.pop("outcomes"))) == 3
    with pytest.raises(ConfigError, match=r"thick: the unit changes from nm to um, but 1 experiment\(s\) hold values "
                                          r"of it in nm"):
        campaign.update_config(_changed(campaign, lambda d: d.update(outcomes=[{"name": "thick", "unit": "um"}])))
    assert campaign.config_version == 3 and campaign.config.unit_of("temp") is None
    # the units the values were recorded in, under another spelling, and no unit at all, are free
    assert campaign.update_config(_changed(campaign, lambda d: d["parameters"][0].update(unit="degC"))) == 4
    assert campaign.update_config(_changed(campaign, lambda d: d.update(outcomes=[{"name": "thick", "unit": "nm"}])))
    assert campaign.history()[["temp", "thick"]].values.tolist() == [[400.0, 10.0]]


_ATM = {"name": "atm", "type": "categorical", "values": ["O2", "air"]}
_RAW = {"name": "retype", "seed": 1, "parameters": [{"name": "x", "type": "continuous", "bounds": [0.0, 10.0]}, _ATM],
        "objectives": [{"name": "ce", "goal": "maximize"}]}


def test_a_dropped_parameter_added_back_as_another_type_is_refused(store_url: str) -> None:
    """Found by a probe: dropping a categorical parameter and adding it back as continuous was
    saved, and then history, status, suggest and the update_config that would undo it failed."""
    campaign = Campaign.from_config(_RAW, storage=store_url)
    campaign.record(pd.DataFrame([{"x": 1.0, "atm": "O2", "ce": 90.0}]))
    assert campaign.update_config(_changed(campaign, lambda d: d["parameters"].pop())) == 2
    continuous = {"name": "atm", "type": "continuous", "bounds": [0.0, 5.0]}
    with pytest.raises(ConfigError, match=r"atm: the type changes from categorical to continuous, but 1 "
                                          r"experiment\(s\) hold labels of it"):
        campaign.update_config(_changed(campaign, lambda d: d["parameters"].append(continuous)))
    assert campaign.config_version == 2 and campaign.history()["atm"].tolist() == ["O2"]
    assert campaign.update_config(_changed(campaign, lambda d: d["parameters"].append(_ATM))) == 3


def test_a_campaign_retyped_by_an_older_doe_says_so_and_can_be_repaired(store_url: str) -> None:
    """A campaign whose newest version (saved by an older doe) makes a stored label's parameter
    continuous: history names the parameter and the repair, and update_config back to the
    stored type is accepted without a readable history."""
    campaign = Campaign.from_config(_RAW, storage=store_url)
    campaign.record(pd.DataFrame([{"x": 1.0, "atm": "O2", "ce": 90.0}]))
    retyped = CampaignConfig.from_dict(_changed(campaign, lambda d: d["parameters"].__setitem__(
        1, {"name": "atm", "type": "continuous", "bounds": [0.0, 5.0]})))
    save_as_an_older_doe(store_url, "retype", retyped, version=2)
    campaign = Campaign.load("retype", storage=store_url)
    with pytest.raises(StorageError, match=r"parameter atm is continuous in configuration version 2, but the stored "
                                           r"experiment 'E0001' holds the label 'O2' of it, recorded while it was "
                                           r"categorical \(version 1\); save a version that makes atm categorical"):
        campaign.history()
    with pytest.raises(ConfigError, match="atm: the type changes from categorical to discrete"):
        campaign.update_config(_changed(campaign, lambda d: d["parameters"].__setitem__(
            1, {"name": "atm", "type": "discrete", "values": [1.0, 2.0]})))
    assert campaign.update_config(_RAW) == 3
    assert campaign.history()["atm"].tolist() == ["O2"]


def test_a_campaign_an_older_doe_let_hold_two_units_still_takes_versions_that_keep_its_unit(store_url: str) -> None:
    """Review: a campaign whose values were recorded in % and then, after an older doe saved
    the unit as fraction, in fraction refused every new version (even one widening a bound),
    and its advice 'keep the unit' could not be followed."""
    raw = {"name": "legacy", "seed": 1, "parameters": [{"name": "x", "type": "continuous", "bounds": [0.0, 1.0],
                                                        "unit": "%"}],
           "objectives": [{"name": "y", "goal": "maximize"}]}
    campaign = Campaign.from_config(raw, storage=store_url)
    campaign.record(pd.DataFrame([{"x": 0.5, "y": 1.0}]))
    fraction = CampaignConfig.from_dict(_changed(campaign, lambda d: d["parameters"][0].update(unit="fraction")))
    save_as_an_older_doe(store_url, "legacy", fraction, version=2)
    campaign = Campaign.load("legacy", storage=store_url)
    campaign.record(pd.DataFrame([{"x": 0.7, "y": 2.0}]))
    assert campaign.update_config(_changed(campaign, lambda d: d["parameters"][0].update(bounds=[0.0, 2.0]))) == 3
    with pytest.raises(ConfigError, match=r"x: the unit changes from fraction to %, but 1 experiment\(s\) hold"):
        campaign.update_config(_changed(campaign, lambda d: d["parameters"][0].update(unit="%")))
    assert campaign.history()["x"].tolist() == [0.5, 0.7]


def test_a_campaign_whose_name_was_stored_decomposed_takes_new_versions(store_url: str) -> None:
    """Review: a campaign named 'cafe' + U+0301 by an older doe refused every new version ('the
    new configuration is named 'café' but this campaign is 'café''), from the API and the
    Campaigns page alike, since a new configuration's name is composed."""
    decomposed = "cafe\u0301 run"
    raw = {"name": "caf\u00e9 run", "seed": 1,
           "parameters": [{"name": "x", "type": "continuous", "bounds": [0.0, 1.0]}],
           "objectives": [{"name": "y", "goal": "maximize"}]}
    Campaign.from_config(raw, storage=store_url).record(pd.DataFrame([{"x": 0.5, "y": 1.0}]))
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:  # as an older doe stored it
        conn.execute(sa.update(s.campaigns).values(name=decomposed))
        old = CampaignConfig.from_dict({**raw, "name": decomposed}, stored=True)
        conn.execute(sa.update(s.config_versions).values(config_yaml=old.to_yaml()))
    engine.dispose()
    campaign = Campaign.load(decomposed, storage=store_url)
    assert campaign.update_config(_changed(campaign, lambda d: d["parameters"][0].update(bounds=[0.0, 2.0]))) == 2
    assert campaign.history()["x"].tolist() == [0.5]
