"""Unit conversions (:data:`doe.domain.units.CONVERSIONS`): the typed value converted, not float noise."""

from __future__ import annotations

import io
import math
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doe import Campaign
from doe.domain.units import CONVERSIONS
from doe.errors import DataError

EXACT = {("K", "C"): lambda x: x - Fraction("273.15"), ("C", "K"): lambda x: x + Fraction("273.15"),
         ("min", "h"): lambda x: x / 60, ("h", "min"): lambda x: x * 60, ("s", "min"): lambda x: x / 60,
         ("min", "s"): lambda x: x * 60, ("s", "h"): lambda x: x / 3600, ("h", "s"): lambda x: x * 3600,
         ("fraction", "%"): lambda x: x * 100, ("%", "fraction"): lambda x: x / 100}
"""Each conversion on exact rationals, by hand."""


def test_every_conversion_has_its_exact_rule_here() -> None:
    assert set(CONVERSIONS) == set(EXACT)


@pytest.mark.parametrize(("units", "typed", "expected"), [
    (("fraction", "%"), 0.07, 7.0),
    (("fraction", "%"), 0.29, 29.0),
    (("K", "C"), 600.45, 327.3),
    (("K", "C"), 700.1, 426.95),
    (("C", "K"), 327.3, 600.45),
    (("%", "fraction"), 7.0, 0.07),
    (("min", "h"), 90.0, 1.5),
    (("s", "min"), 0.6, 0.01),
])
def test_a_typed_value_converts_to_the_value_a_person_gets(units: tuple[str, str], typed: float,
                                                           expected: float) -> None:
    """0.07 as a fraction was stored as 7.000000000000001 %, 600.45 K as 327.30000000000007 C."""
    assert CONVERSIONS[units](typed) == expected  # exactly: the float nearest the decimal result


@pytest.mark.parametrize("units", sorted(EXACT))
def test_values_that_are_not_finite_convert_as_floats(units: tuple[str, str]) -> None:
    assert math.isnan(CONVERSIONS[units](math.nan))
    assert CONVERSIONS[units](math.inf) == math.inf


@given(units=st.sampled_from(sorted(EXACT)),
       typed=st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_a_conversion_moves_a_value_by_no_more_than_the_rounding_of_its_result(units: tuple[str, str],
                                                                               typed: float) -> None:
    """The stored value is the float nearest the typed decimal (``repr``) converted exactly: at
    most half a unit in the last place from it."""
    converted = CONVERSIONS[units](typed)
    exact = EXACT[units](Fraction(repr(typed)))
    assert abs(Fraction(converted) - exact) <= Fraction(math.ulp(converted)) / 2


@given(kelvin=st.decimals(min_value=0, max_value=5000, places=2),
       fraction=st.decimals(min_value=-10, max_value=10, places=4))
def test_a_typed_value_converted_and_back_is_the_typed_value(kelvin: object, fraction: object) -> None:
    k, f = float(str(kelvin)), float(str(fraction))
    assert CONVERSIONS[("C", "K")](CONVERSIONS[("K", "C")](k)) == k
    assert CONVERSIONS[("%", "fraction")](CONVERSIONS[("fraction", "%")](f)) == f


def test_an_imported_table_stores_and_exports_the_converted_typed_values(tmp_path: Path) -> None:
    """Through import_table into a real SQLite file: history and the cells export show 327.3 and 7.0."""
    config = {"name": "u", "parameters": [{"name": "temp", "type": "continuous", "bounds": [250, 750], "unit": "C"}],
              "objectives": [{"name": "ce", "goal": "maximize", "unit": "%", "valid_range": [0, 100]}], "seed": 1}
    campaign = Campaign.from_config(config, storage=f"sqlite:///{tmp_path / 'lab.sqlite3'}", actor="test")
    campaign.import_table(io.BytesIO(b"experiment_id,temp [K],ce [fraction]\nE1,600.45,0.07\nE2,700.1,0.29\n"),
                          file_format="csv")
    assert campaign.history()[["experiment_id", "temp", "ce"]].values.tolist() == [["E1", 327.3, 7.0],
                                                                                   ["E2", 426.95, 29.0]]
    out = io.BytesIO()
    campaign.export_table(out, file_format="csv", cells=True)
    assert out.getvalue().decode("utf-8-sig").splitlines()[1:] == ["E1,,327.3,7.0", "E2,,426.95,29.0"]


@pytest.mark.parametrize(("units", "typed", "expected"), [
    (("h", "s"), 1e308, math.inf), (("h", "s"), -1e308, -math.inf), (("h", "min"), 1e308, math.inf),
    (("%", "fraction"), 1e308, 1e306)])
def test_a_result_past_the_largest_float_is_infinite_as_in_float_arithmetic(
        units: tuple[str, str], typed: float, expected: float) -> None:
    """Fraction -> float raised a bare OverflowError here (float arithmetic gives inf)."""
    assert CONVERSIONS[units](typed) == expected


def test_a_huge_value_converted_on_import_is_refused_naming_its_cell() -> None:
    """1e308 h is past the largest float in min: read_table raised OverflowError; now the table
    check names the cell and nothing is recorded."""
    campaign = Campaign.from_config("hfo2-ncm85", storage=":memory:", actor="test")
    table = b"experiment_id,sonication_time_min [h],first_cycle_ce_pct [fraction]\nE0001,1e308,0.9\n"
    with pytest.raises(DataError, match=r"row 2 of the file, column 'sonication_time_min': not a finite number"):
        campaign.import_table(io.BytesIO(table), file_format="csv")
    assert campaign.history().empty
