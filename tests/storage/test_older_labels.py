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
from doe.errors import ConfigError, DataError, StorageError

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


def test_experiments_and_cells_an_older_doe_stored_with_line_separators(store_url: str) -> None:
    """Found by review: recording, failing, correcting, cloning and copying such experiments
    was refused ('an experiment id is one line: it holds U+0085, a line break')."""
    campaign = Campaign.from_config(_RAW, storage=store_url)
    campaign.record(pd.DataFrame([{"experiment_id": "E1", "x": 0.3}, {"experiment_id": "E2", "x": 0.4},
                                  {"experiment_id": "E3", "x": 0.5},
                                  {"experiment_id": "E4", "x": 0.6, "replicate": "A", "y": 4.0},
                                  {"experiment_id": "E4", "x": 0.6, "replicate": "B", "y": 4.2}]))
    ids = {"E1": "E\x851", "E2": "E\u20282", "E3": "E\x9b3", "E4": "E\u20294"}
    respell_as_an_older_doe(store_url, "run1", ids=ids, replicates={"A": "A\x85"})
    campaign = Campaign.load("run1", storage=store_url)

    campaign.record(pd.DataFrame([{"experiment_id": ids["E1"], "y": 1.0}, {"experiment_id": ids["E3"], "y": 3.0}]))
    campaign.fail([ids["E2"]], "furnace")
    campaign.record(pd.DataFrame([{"experiment_id": ids["E1"], "y": 1.5},
                                  {"experiment_id": ids["E4"], "replicate": "A\x85", "y": 4.4}]), correct=True)
    history = campaign.history().set_index("experiment_id")
    assert history["status"].to_dict() == {ids["E1"]: "completed", ids["E2"]: "failed", ids["E3"]: "completed",
                                           ids["E4"]: "completed"}
    assert history.loc[ids["E1"], "y"] == 1.5 and history.loc[ids["E4"], "y"] == pytest.approx(4.3)

    with pytest.raises(DataError, match=r"U\+0085"):  # a new id and a new cell label: refused
        campaign.record(pd.DataFrame([{"experiment_id": "N\x851", "x": 0.1, "y": 1.0}]))
    with pytest.raises(DataError, match=r"U\+2028"):
        campaign.record(pd.DataFrame([{"experiment_id": ids["E4"], "replicate": "C\u2028D", "y": 4.0}]))

    cells = sorted(zip(campaign.measurements()["experiment_id"], campaign.measurements()["replicate"].fillna(""),
                       strict=True))
    clone = campaign.clone("run2", with_history=True)
    assert set(clone.history()["experiment_id"]) == set(ids.values())
    assert set(zip(clone.measurements()["experiment_id"], clone.measurements()["replicate"].fillna(""),
                   strict=True)) == set(cells)
    copy = Campaign.import_json(campaign.export_json(), store_url, name="run3")
    assert copy.history()["experiment_id"].tolist() == campaign.history()["experiment_id"].tolist()
    assert sorted(zip(copy.measurements()["experiment_id"], copy.measurements()["replicate"].fillna(""),
                      strict=True)) == cells
