"""The shipped reference data of the study: loaders, figures, recipes, copies, dictionary."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from doe.datasets import (
    CELLS,
    MATERIALS,
    QUALIFIERS,
    RECIPES_FILE,
    REFERENCE_COLUMNS,
    REFERENCE_FILE,
    data_path,
    load_recipes,
    load_reference,
)
from doe.domain import validate_experiments
from doe.errors import DataError
from doe.templates import resolve_config

TOP = Path(__file__).resolve().parents[1] / "datasets"
P45, LIQ = "pellet_ssb_45c", "liquid_half_cell_25c"

# (material, cell, quantity, condition contains, value, unit, qualifier)
REQUIRED = [
    ("bare", P45, "first_cycle_discharge_capacity", "first cycle", 175, "mAh/g", "="),
    ("hfo2_coated", P45, "first_cycle_discharge_capacity", "first cycle", 203, "mAh/g", "="),
    ("bare", P45, "first_cycle_ce", "first cycle", 79, "%", "="),
    ("hfo2_coated", P45, "first_cycle_ce", "first cycle", 90, "%", "="),
    ("bare", P45, "rate_capability", "1C over 0.1C", 40, "%", "<"),
    ("hfo2_coated", P45, "rate_capability", "1C over 0.1C", 65, "%", "~"),
    ("bare", P45, "capacity_retention", "200 cycles, 0.2C, 45 C", 58, "%", "="),
    ("hfo2_coated", P45, "capacity_retention", "200 cycles, 0.2C, 45 C", 70, "%", "="),
    ("bare", P45, "discharge_capacity_after_cycling", "200 cycles", 81, "mAh/g", "="),
    ("hfo2_coated", P45, "discharge_capacity_after_cycling", "200 cycles", 135, "mAh/g", "="),
    ("hfo2_coated", P45, "discharge_capacity", "3C", 60, "mAh/g", ">"),
    ("hfo2_coated", P45, "discharge_capacity", "4C", 40, "mAh/g", ">"),
    ("hfo2_coated", P45, "discharge_capacity", "5C", 20, "mAh/g", ">"),
    ("bare", LIQ, "first_cycle_discharge_capacity", "first cycle", 209, "mAh/g", "="),
    ("hfo2_coated", LIQ, "first_cycle_discharge_capacity", "first cycle", 206, "mAh/g", "="),
    ("bare", LIQ, "first_cycle_ce", "first cycle", 93.8, "%", "="),
    ("hfo2_coated", LIQ, "first_cycle_ce", "first cycle", 93.6, "%", "="),
    ("bare", LIQ, "capacity_retention", "200 cycles, 25 C", 61, "%", "="),
    ("hfo2_coated", LIQ, "capacity_retention", "200 cycles, 25 C", 70, "%", "="),
    ("hfo2_coated", "slurry_cast_ssb", "capacity_retention", "200 cycles", 94, "%", "="),
    ("hfo2_coated", "dry_pellet_ssb", "capacity_retention", "60 cycles", 83, "%", "="),
    ("hfo2_coated", "material", "coating_thickness", "", 11, "nm", "<="),
    ("hfo2_coated", "material", "hf_content", "", 0.72, "wt%", "="),
    ("hfo2_coated", "material", "hfo2_loading", "", 0.83, "wt%", "="),
    ("bare", P45, "first_cycle_charge_capacity", "first cycle", 222, "mAh/g", "="),
    ("hfo2_coated", P45, "first_cycle_charge_capacity", "first cycle", 227, "mAh/g", "="),
    ("hfo2_coated", "ssb", "interfacial_resistance_ratio_bare_to_coated", "first charge", 3, "ratio", "~"),
    ("hfo2_coated", "ssb", "interfacial_resistance_ratio_bare_to_coated", "extended cycling", 4.5, "ratio", "~"),
]


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return load_reference()


def test_reference_is_typed(reference: pd.DataFrame) -> None:
    assert list(reference.columns) == list(REFERENCE_COLUMNS)
    assert reference["value"].dtype == float
    assert reference["derived"].dtype == bool
    for column in ("material", "cell", "quantity", "unit", "qualifier", "condition", "source"):
        assert all(isinstance(v, str) and v for v in reference[column]), column
    assert set(reference["material"]) <= set(MATERIALS)
    assert set(reference["cell"]) <= set(CELLS)
    assert set(reference["qualifier"]) <= set(QUALIFIERS)
    assert not reference.duplicated(["material", "cell", "quantity", "condition"]).any()


@pytest.mark.parametrize("figure", REQUIRED, ids=lambda f: f"{f[0]}-{f[1]}-{f[2]}-{f[3]}")
def test_required_figure_is_present(reference: pd.DataFrame, figure: tuple) -> None:
    material, cell, quantity, condition, value, unit, qualifier = figure
    rows = reference[(reference.material == material) & (reference.cell == cell)
                     & (reference.quantity == quantity) & reference.condition.str.contains(condition, regex=False)]
    assert len(rows) == 1, rows
    row = rows.iloc[0]
    assert row["value"] == pytest.approx(value)
    assert row["unit"] == unit
    assert row["qualifier"] == qualifier
    assert not row["derived"]


def test_provenance_is_the_brief_and_derived_values_are_marked(reference: pd.DataFrame) -> None:
    reported = reference[~reference.derived]
    assert reported["source"].str.startswith("reference-study brief (doe issue #2): ").all()
    derived = reference[reference.derived]
    assert len(derived) >= 1
    assert derived["source"].str.startswith("derived: ").all()
    # no invented figure or table numbers
    assert not reference["source"].str.contains(r"\b(?:fig|figure|table)\b", case=False, regex=True).any()


def test_derived_values_follow_from_the_reported_ones(reference: pd.DataFrame) -> None:
    def value(material: str, quantity: str, cell: str = P45) -> float:
        rows = reference[(reference.material == material) & (reference.quantity == quantity) & (reference.cell == cell)]
        assert len(rows) == 1, (material, quantity)
        return float(rows["value"].iloc[0])

    for material in MATERIALS:
        charge = value(material, "first_cycle_charge_capacity")
        discharge = value(material, "first_cycle_discharge_capacity")
        ce = value(material, "first_cycle_ce")
        assert value(material, "first_cycle_irreversible_capacity") == pytest.approx(charge - discharge)
        assert value(material, "first_cycle_charge_capacity_from_ce") == pytest.approx(discharge / ce * 100, abs=0.05)
        # reported charge capacity agrees with discharge / CE within the rounding of CE
        assert charge == pytest.approx(discharge / ce * 100, abs=2.0)
    hf = value("hfo2_coated", "hf_content", "material")
    assert value("hfo2_coated", "hfo2_loading_from_hf_content", "material") == pytest.approx(hf * 210.49 / 178.49, abs=0.005)


def test_recipes_are_history_rows_of_the_template() -> None:
    config = resolve_config("hfo2-ncm85")
    recipes = load_recipes()
    assert list(recipes.columns) == ["experiment_id", *config.parameter_names, *config.outcome_names, "note"]
    assert recipes["experiment_id"].tolist() == ["study-bare", "study-hfo2"]
    pd.testing.assert_frame_equal(validate_experiments(recipes, config), recipes)
    for name in config.parameter_names:
        if name == "hfo2_loading_wt_pct":
            continue
        assert recipes.at[0, name] == recipes.at[1, name], name  # bare: the coated recipe, loading 0
    bare, coated = recipes.iloc[0], recipes.iloc[1]
    assert bare["hfo2_loading_wt_pct"] == 0.0 and coated["hfo2_loading_wt_pct"] == 0.83
    assert (coated["anneal_temperature_c"], coated["anneal_time_h"], coated["anneal_atmosphere"]) == (400.0, 2.0, "O2")
    assert coated["dispersion_solvent"] == "chloroform"
    expected = {
        "first_cycle_ce_pct": (79.0, 90.0),
        "capacity_retention_pct": (58.0, 70.0),
        "first_cycle_discharge_capacity_mah_per_g": (175.0, 203.0),
        "rate_capability_pct": (38.0, 65.0),
    }
    for name, (b, c) in expected.items():
        assert (bare[name], coated[name]) == (b, c), name
    assert pd.isna(bare["interfacial_resistance_ohm"]) and pd.isna(coated["interfacial_resistance_ohm"])
    assert bare["coating_thickness_nm"] == 0.0 and pd.isna(coated["coating_thickness_nm"])
    assert "38" in bare["note"] and "assumption" in bare["note"]


def test_package_copy_equals_top_level_copy() -> None:
    for name in (REFERENCE_FILE, RECIPES_FILE):
        assert data_path(name).read_bytes() == (TOP / name).read_bytes(), name
    with pytest.raises(DataError, match="no shipped dataset"):
        data_path("../pyproject.toml")


def test_data_dictionary_describes_every_column() -> None:
    readme = (TOP / "README.md").read_text(encoding="utf-8")
    columns = set(pd.read_csv(TOP / REFERENCE_FILE, nrows=0).columns) | set(pd.read_csv(TOP / RECIPES_FILE, nrows=0).columns)
    for column in columns:
        assert f"`{column}`" in readme, column
    for quantity in set(load_reference()["quantity"]):
        assert f"`{quantity}`" in readme, quantity
    assert "issue #2" in readme
