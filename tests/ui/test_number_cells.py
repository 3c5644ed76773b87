"""Numbers typed into the grids as text: read as the engineer means them, or refused naming the cell.

Streamlit's number editor rewrote what it did not take ('1.2e3' -> 1.23, '12,5' -> 125, 5 wt%
clamped to 3, '-5' -> 5) and the page saved it; the grids now edit numbers as text."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doe.domain.typed_number import read_number
from doe.errors import DataError
from doe.ui.number_cells import (
    entry_numbers,
    exact_text,
    number_text,
    text_columns,
    typed_values,
)


@pytest.mark.parametrize(("typed", "number"), [
    ("1.2e3", 1200.0), ("12,5", 12.5), ("12.5", 12.5), ("0,830", 0.83), (" 85.5 ", 85.5), ("-5", -5.0),
    ("800", 800.0), (",5", 0.5), (87.5, 87.5), (3, 3.0),
])
def test_a_number_is_read_as_the_engineer_means_it(typed: object, number: float) -> None:
    assert read_number(typed) == (number, None)


@pytest.mark.parametrize(("typed", "said"), [
    ("1,250", "may mean 1250 (a thousands separator) or 1.250 (a decimal comma)"),
    ("12,500", "may mean 12500"),
    ("1.250,5", "thousands separators"), ("1,250,000", "thousands separators"),
    ("abc", "not a number"), ("3_50", "not a number"), ("1 250", "not a number"), ("12.5.1", "not a number"),
    ("nan", "not a finite number"), ("inf", "not a finite number"), ("1e400", "not a finite number"),
    (True, "not a number"),
])
def test_text_that_is_not_one_number_is_refused_saying_why(typed: object, said: str) -> None:
    number, problem = read_number(typed)
    assert math.isnan(number) and problem is not None and said in problem


@pytest.mark.parametrize("empty", [None, "", "  ", math.nan, np.nan, pd.NA])
def test_an_empty_cell_is_no_value(empty: object) -> None:
    number, problem = read_number(empty)
    assert math.isnan(number) and problem is None


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_the_text_of_a_stored_number_reads_back_as_it_exactly(x: float) -> None:
    assert read_number(exact_text(x)) == (x + 0.0, None)


def test_a_stored_number_is_shown_short_and_the_cell_keeps_it_exactly() -> None:
    assert [number_text(x) for x in (85.5, 1200.0, 87.91234567891, 12345678.0, 1e-05, None, math.nan, "1,250")] == [
        "85.5", "1200", "87.9123", "12345678", "1e-05", None, None, "1,250"]
    stored = pd.DataFrame({"ce": [87.91234567891, np.nan, 80.0], "note": ["a", None, None]})
    shown = text_columns(stored, ["ce"])
    assert shown["ce"].tolist() == ["87.9123", None, "80"] and shown["note"].equals(stored["note"])
    edited = shown.copy()
    edited.loc[1, "ce"] = "1.2e3"
    edited.loc[2, "ce"] = "80,5"
    read = typed_values(edited, ["ce"], shown, stored)
    assert read["ce"].tolist() == [87.91234567891, 1200.0, 80.5]  # the first not edited: exact, not 87.9123
    edited.loc[0, "ce"] = "87.9123"  # the text shown typed again: no edit (the grid cannot tell them apart)
    assert typed_values(edited, ["ce"], shown, stored)["ce"].iloc[0] == 87.91234567891
    edited.loc[0, "ce"] = "87.912"  # typed over: what was typed
    assert typed_values(edited, ["ce"], shown, stored)["ce"].iloc[0] == 87.912
    edited.loc[1, "ce"] = "1,250"  # ambiguous: kept as typed, for the problem to name it
    assert typed_values(edited, ["ce"], shown, stored)["ce"].tolist()[1] == "1,250"


def test_an_entry_table_is_read_or_refused_naming_every_bad_cell() -> None:
    table = pd.DataFrame({"hfo2_loading_wt_pct": ["5", "-0,5", "1,250"], "anneal_temperature_c": ["800", "x", None],
                          "anneal_atmosphere": ["O2", "air", "Ar"]}, index=[1, 2, 3])
    with pytest.raises(DataError) as err:
        entry_numbers(table, ["hfo2_loading_wt_pct", "anneal_temperature_c"])
    assert [(p.row, p.column, p.value) for p in err.value.problems] == [
        (2, "hfo2_loading_wt_pct", "1,250"), (1, "anneal_temperature_c", "x")]
    table.loc[3, "hfo2_loading_wt_pct"], table.loc[2, "anneal_temperature_c"] = "1.25", "1.2e3"
    read = entry_numbers(table, ["hfo2_loading_wt_pct", "anneal_temperature_c"])
    # out of bounds (5 wt%, 800 C) reaches validation as typed, never clamped
    assert read["hfo2_loading_wt_pct"].tolist() == [5.0, -0.5, 1.25]
    assert read["anneal_temperature_c"].tolist()[:2] == [800.0, 1200.0]
    assert read["anneal_atmosphere"].tolist() == ["O2", "air", "Ar"] and read.index.tolist() == [1, 2, 3]
