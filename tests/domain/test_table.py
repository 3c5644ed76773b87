"""Table validation: every bad cell reported with row, column, value and what is allowed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doe.domain import validate_experiments
from doe.errors import DataError
from doe.templates import resolve_config

CONFIG = resolve_config("hfo2-ncm85")
STUDY = {"hfo2_loading_wt_pct": 0.83, "anneal_temperature_c": 400.0, "anneal_time_h": 2.0,
         "anneal_atmosphere": "O2", "solid_content_mg_per_ml": 20.0, "ligand_to_np_mass_ratio": 0.3,
         "dispersion_solvent": "chloroform", "sonication_time_min": 15.0, "evaporation_bath_temperature_c": 60.0}


def _problems(table: pd.DataFrame, **kwargs: object) -> list[tuple]:
    with pytest.raises(DataError) as info:
        validate_experiments(table, CONFIG, **kwargs)  # type: ignore[arg-type]
    assert "nothing was recorded" in str(info.value)
    assert info.value.problems
    return [(p.row, p.column, p.problem) for p in info.value.problems]


def test_a_valid_table_is_cleaned_and_typed() -> None:
    table = pd.DataFrame([{**STUDY, "experiment_id": 7, "first_cycle_ce_pct": "90.1", "failed": "no"}])
    clean = validate_experiments(table, CONFIG)
    assert clean.loc[0, "experiment_id"] == "7"
    assert clean.loc[0, "first_cycle_ce_pct"] == pytest.approx(90.1)
    assert clean["failed"].dtype == bool and not clean.loc[0, "failed"]
    assert clean["anneal_temperature_c"].dtype == float


def test_every_bad_cell_is_reported_with_row_column_and_allowed_values() -> None:
    rows = [dict(STUDY) for _ in range(4)]
    rows[0]["anneal_temperature_c"] = 900            # out of bounds
    rows[1]["anneal_atmosphere"] = "N2"              # unknown category
    rows[2]["evaporation_bath_temperature_c"] = 65   # not an allowed discrete value
    rows[3]["hfo2_loading_wt_pct"] = "lots"          # not a number
    table = pd.DataFrame(rows)
    table["first_cycle_ce_pct"] = [90, math.inf, np.nan, "ok"]
    table["colour"] = "red"
    found = _problems(table)
    text = "\n".join(str(p) for p in found)
    assert (0, "anneal_temperature_c", "out of bounds; expected a number from 250 to 750 C") in found
    assert (1, "anneal_atmosphere", "unknown category; expected one of 'O2', 'air', 'Ar'") in found
    assert (2, "evaporation_bath_temperature_c", "not an allowed value; expected one of 40, 50, 60, 70, 80 C") in found
    assert (3, "hfo2_loading_wt_pct", "not a number; expected a number from 0 to 3 wt%") in found
    assert any(r == 1 and c == "first_cycle_ce_pct" and "finite" in m for r, c, m in found)
    assert any(r == 3 and c == "first_cycle_ce_pct" and "not a number" in m for r, c, m in found)
    assert any(r is None and c == "colour" and "unknown column" in m for r, c, m in found), text
    assert len(found) == 7


def test_missing_columns_and_cells_are_reported() -> None:
    table = pd.DataFrame([{k: v for k, v in STUDY.items() if k != "anneal_time_h"}])
    table.loc[0, "dispersion_solvent"] = None
    found = _problems(table)
    assert (None, "anneal_time_h", "the parameter column is missing") in found
    assert any(c == "dispersion_solvent" and "missing" in m for _, c, m in found)


def test_optional_parameters_allow_result_rows_by_id() -> None:
    table = pd.DataFrame({"experiment_id": ["E0001"], "capacity_retention_pct": [71.0]})
    clean = validate_experiments(table, CONFIG, parameters="optional")
    assert clean.loc[0, "capacity_retention_pct"] == 71.0


def test_repeated_ids_wrong_flags_and_near_miss_column_names() -> None:
    table = pd.DataFrame([{**STUDY, "experiment_id": "a", "failed": "maybe"}, {**STUDY, "experiment_id": "a"}])
    table = table.rename(columns={"anneal_time_h": "Anneal_Time_H"})
    found = _problems(table)
    assert any(c == "experiment_id" and "is in an earlier row too" in m for _, c, m in found)
    assert any(c == "failed" and "true or false" in m for _, c, m in found)
    assert any(c == "Anneal_Time_H" and "did you mean 'anneal_time_h'" in m for _, c, m in found)


def test_recipes_only_tables_refuse_outcomes() -> None:
    table = pd.DataFrame([{**STUDY, "first_cycle_ce_pct": 90}])
    found = _problems(table, outcomes_allowed=False)
    assert any(c == "first_cycle_ce_pct" and "unknown column" in m for _, c, m in found)


def test_not_a_dataframe() -> None:
    with pytest.raises(DataError, match="expected a pandas DataFrame"):
        validate_experiments([STUDY], CONFIG)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True))
def test_validation_accepts_exactly_the_in_bounds_numbers(temperature: float, loading: float) -> None:
    table = pd.DataFrame([{**STUDY, "anneal_temperature_c": temperature, "hfo2_loading_wt_pct": loading}])
    ok_t = math.isfinite(temperature) and 250 - 1e-6 <= temperature <= 750 + 1e-6
    ok_l = math.isfinite(loading) and -1e-8 <= loading <= 3 + 1e-8
    if ok_t and ok_l:
        clean = validate_experiments(table, CONFIG)
        assert 250 <= clean.loc[0, "anneal_temperature_c"] <= 750
    else:
        with pytest.raises(DataError) as info:
            validate_experiments(table, CONFIG)
        columns = {p.column for p in info.value.problems}
        assert ("anneal_temperature_c" in columns) == (not ok_t)
        assert ("hfo2_loading_wt_pct" in columns) == (not ok_l)


def test_a_single_precision_value_is_stored_as_the_number_it_shows() -> None:
    """A robot's float32 array stored 85.3 as 85.30000305175781."""
    table = pd.DataFrame({"experiment_id": ["a", "b"], "first_cycle_ce_pct": np.array([85.3, 90.1], dtype=np.float32)})
    clean = validate_experiments(table, CONFIG, parameters="optional")
    assert clean["first_cycle_ce_pct"].tolist() == [85.3, 90.1]
    assert validate_experiments(table.astype({"first_cycle_ce_pct": np.float16}), CONFIG,
                                parameters="optional")["first_cycle_ce_pct"].tolist() == [85.3, 90.1]


def test_a_measurement_time_of_year_1_or_in_the_future_is_refused() -> None:
    """'0001-01-01', '9999-12-31' and '2099-01-01' were stored as measurement times."""
    table = pd.DataFrame({"experiment_id": list("abcde"), "first_cycle_ce_pct": [85.0] * 5,
                          "measured_at": ["0001-01-01", "9999-12-31", "2099-01-01", "2026-12-01", "1999-03-04"]})
    found = _problems(table, parameters="optional")
    assert [(r, c) for r, c, _ in found] == [(0, "measured_at"), (1, "measured_at"), (2, "measured_at")]
    assert "before 1970" in found[0][2] and "in the future" in found[1][2] and "check the year" in found[2][2]
    clean = validate_experiments(table.iloc[3:], CONFIG, parameters="optional")
    assert [t.year for t in clean["measured_at"]] == [2026, 1999]
