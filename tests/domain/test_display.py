"""How numbers and furnace programmes are shown, without a database."""

from __future__ import annotations

import numpy as np
import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.display import (
    batch_programme,
    column_decimals,
    digits_to_tell_apart,
    format_number,
    furnace_programme,
    shown_table,
    significant_columns,
    texts_apart,
)

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


def test_a_number_without_a_resolution_shows_four_significant_figures_of_its_own() -> None:
    """One count of decimals per column, from its largest value, showed 0.00215 beside 584.2 as
    0.0; and '%.4g' printed 12080 as 1.208e+04 beside 4992."""
    shown = {0.000109: "0.000109", 0.00215: "0.00215", 1.690115: "1.69", 584.198016: "584.2", 12080.3: "12080",
             19463.129: "19460", 4992.0: "4992", 85.0: "85", 0.0: "0", -0.00034567: "-0.0003457",
             1e-7: "1e-07", 3.2e8: "3.2e+08", 99999.9: "100000"}
    assert {v: format_number(v) for v in shown} == shown
    assert format_number(584.198016, 2) == "584.20" and format_number(float("nan")) == "-"
    sheet = pd.DataFrame({"load": [0.23, 1.234], "dose": [0.000109, 584.2], "ce_n": [3, 2], "temp": [510.0, 725.0]})
    assert column_decimals(sheet, FURNACE) == {"load": 3, "temp": 0}  # exact, off-grid 1.234 too
    assert significant_columns(sheet, FURNACE) == ["dose"]


def test_a_tie_rounds_away_from_zero_as_the_app_shows_it() -> None:
    """87.625 (exactly halfway) was shown as 87.62 in the report (Python rounds a tie to even)
    where the app's column formats and Excel show 87.63."""
    assert format_number(87.625) == "87.63" and format_number(87.625, 2) == "87.63"
    assert format_number(-87.625) == "-87.63" and format_number(0.125, 2) == "0.13"
    assert format_number(12345000.0) == "1.235e+07" and format_number(2.5, 0) == "3"
    assert format_number(1.005, 2) == "1.00"  # stored as 1.00499999999999989...: no tie
    assert format_number(87.625, significant=3) == "87.6" and format_number(float("inf"), 2) == "inf"


def test_a_table_is_shown_with_each_parameter_at_its_resolution() -> None:
    """The report printed a 0.01-grid loading of 2.0 as '2' (the app: 2.00) and 87.625 as 87.62."""
    table = pd.DataFrame({"experiment_id": ["E1", "E2"], "load": [2.0, 0.83], "temp": [510.0, 725.0],
                          "ce": [87.625, 409.7279652953148], "n": [3, 2], "cycle": pd.array([200, None], "Int64"),
                          "note": ["ok", None]})
    shown = shown_table(table, FURNACE)
    assert shown.to_dict("list") == {"experiment_id": ["E1", "E2"], "load": ["2.00", "0.83"], "temp": ["510", "725"],
                                     "ce": ["87.63", "409.7"], "n": ["3", "2"], "cycle": ["200", ""],
                                     "note": ["ok", ""]}
    assert shown_table(table)["load"].tolist() == ["2", "0.83"]  # no configuration: no resolution
    assert table["ce"].tolist() == [87.625, 409.7279652953148]  # the values are not changed


def test_two_numbers_are_shown_with_the_fewest_figures_that_tell_them_apart() -> None:
    assert digits_to_tell_apart(70.0, 80.0) == 6  # :g's six where they already differ
    assert digits_to_tell_apart(79.99999, 80.0) == 7 and f"{79.99999:.7g}" == "79.99999"
    assert digits_to_tell_apart(15.00004, 15.0) == 7
    assert digits_to_tell_apart(0.1 + 0.2, 0.3) == 17  # the floats' last digit
    assert digits_to_tell_apart(80.0, 80.0) == 6


def test_a_message_that_two_values_differ_shows_them_without_float_noise() -> None:
    """A run sheet's 86.8 against a stored 86.69999999999999 (a sum of floats) read "86.8 on
    the sheet, 86.69999999999999 stored" in the folder executor's refusal."""
    assert texts_apart(86.8, 86.69999999999999) == ("86.8", "86.7")
    assert texts_apart(79.99999, 80) == ("79.99999", "80")  # as many figures as it takes
    assert texts_apart(np.int64(400), 405.0) == ("400", "405")
    assert texts_apart("Ar", "O2") == ("Ar", "O2")
    assert texts_apart("86.8", 86.7) == ("86.8", "86.7")  # text stays as typed
