"""A campaign name, experiment ids and replicate labels an older doe stored with a control
character beyond U+007F (U+0085 NEXT LINE, the terminal escape U+009B) or a line or paragraph
separator (U+2028, U+2029), which a new name, id or label may not hold: they are read, referred
to, corrected, cloned and copied as stored (a real SQLite file and a real PostgreSQL database)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from older_doe import respell_as_an_older_doe

from doe import Campaign
from doe.errors import ConfigError, StorageError

_RAW = {"name": "run1", "seed": 1, "parameters": [{"name": "x", "type": "continuous", "bounds": [0.0, 1.0]}],
        "objectives": [{"name": "y", "goal": "maximize"}]}
_NAME = "run\x9b1"


def test_a_campaign_an_older_doe_named_with_a_control_opens_and_copies(store_url: str, tmp_path: Path) -> None:
    """Found by review: Campaign.load, every CLI command and the app refused the stored
    configuration ('name: ... holds U+009B'), and the campaign's export could not be imported."""
    Campaign.from_config(_RAW, storage=store_url).record(pd.DataFrame(
        [{"experiment_id": f"E{i}", "x": 0.2 * i, "y": float(i)} for i in range(1, 4)]))
    respell_as_an_older_doe(store_url, "run1", new_name=_NAME)

    campaign = Campaign.load(_NAME, storage=store_url)
    assert campaign.config.name == _NAME and len(campaign.history()) == 3
    edited = campaign.config.to_dict()
    edited["parameters"][0]["bounds"] = [0.0, 2.0]
    assert campaign.update_config(edited) == 2  # an edit keeps the name it cannot change

    copy = Campaign.import_json(campaign.export_json(), f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    assert copy.name == _NAME and copy.config.name == _NAME
    assert copy.history()["y"].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(StorageError, match=r"U\+009B, a control character"):  # a new name: refused
        Campaign.import_json(campaign.export_json(), store_url, name="run\x9b2")
    with pytest.raises(ConfigError, match=r"U\+009B"):
        Campaign.from_config(_RAW | {"name": "run\x9b3"}, storage=store_url)

