"""How numbers and furnace programmes are shown, without a database."""

from __future__ import annotations

import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.display import batch_programme, furnace_programme

FURNACE = CampaignConfig.from_dict({
    "name": "furnace", "batch_shared": ["temp"],
    "parameters": [{"name": "temp", "type": "continuous", "bounds": [250, 750], "resolution": 5},
                   {"name": "load", "type": "continuous", "bounds": [0, 3], "resolution": 0.01}],
    "objectives": [{"name": "ce", "goal": "maximize"}]})


def test_a_batch_whose_rows_differ_in_a_shared_value_shows_them_per_row_not_its_first() -> None:
    """A batch proposed before batch_shared was set showed its first row's 510 C as the furnace
    programme, and the table without the temp column hid the other rows' 725 and 285 C."""
    pending = pd.DataFrame({"experiment_id": ["E0001", "E0002", "E0003", "E0004", "E0005"],
                            "batch_id": ["B0001"] * 3 + ["B0002"] * 2,
                            "temp": [510.0, 725.0, 285.0, 600.0, 600.0], "load": [0.23, 2.95, 2.66, 1.0, 2.0]})
    furnace = furnace_programme(pending, FURNACE)
    assert furnace.mixed == ("B0001",)
    assert furnace.programme.to_dict("records") == [{"batch_id": "B0002", "temp": 600.0}]  # no 510 for B0001
    assert furnace.rows["temp"].tolist() == [510.0, 725.0, 285.0, 600.0, 600.0]  # each row's own value
    assert furnace.note is not None and "B0001" in furnace.note and "before temp was shared per batch" in furnace.note
    assert batch_programme(pending, FURNACE)["batch_id"].tolist() == ["B0002"]
    # batches that share their values: one programme row each, and the rows without the column
    same = furnace_programme(pending[pending["batch_id"] == "B0002"], FURNACE)
    assert same.mixed == () and same.note is None and "temp" not in same.rows.columns
    assert same.programme.to_dict("records") == [{"batch_id": "B0002", "temp": 600.0}]
