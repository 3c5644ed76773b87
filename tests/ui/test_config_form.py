"""The configuration editors' tables <-> CampaignConfig."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from doe import load_config
from doe.domain.values import same_value
from doe.errors import ConfigError
from doe.ui.config_form import ConfigTables, config_from_tables, empty_tables, tables_from_config


def test_template_round_trips_through_the_editor_tables() -> None:
    config = load_config("hfo2-ncm85")
    tables = tables_from_config(config)
    assert tables.parameters["name"].tolist() == config.parameter_names
    assert tables.outcomes["role"].tolist()[:2] == ["maximize", "maximize"]
    assert tables.constraints == "coating_thickness_nm <= 15"
    again = config_from_tables(config.name, tables, description=config.description, seed=config.seed)
    assert again == config


def _full_config():  # type: ignore[no-untyped-def]
    raw = load_config("hfo2-ncm85").to_dict()
    for p in raw["parameters"]:
        if p["name"] == "anneal_temperature_c":
            p["resolution"] = 5.0
    raw["outcomes"].append({"name": "retention_at_cycle_pct", "unit": "%", "over": "cycle", "at": 200})
    raw["batch_shared"] = ["anneal_temperature_c", "anneal_time_h", "anneal_atmosphere"]
    raw["control_recipe"] = "reference"
    raw["impedance"] = {"circuit": "R0-p(R1,CPE1)-Wo1", "resistances": {"interfacial_resistance_ohm": "R1"}}
    return load_config(raw)


def test_the_edit_form_keeps_a_name_an_older_doe_stored_with_a_control_character() -> None:
    """Found by review: the Edit configuration form of a campaign an older doe named 'run\x9b1'
    refused every edit for the name it cannot change; a new name with the character is refused."""
    from doe.domain.config import CampaignConfig

    config = CampaignConfig.from_dict(_full_config().to_dict() | {"name": "run\x9b1"}, stored=True)
    tables = tables_from_config(config)
    assert config_from_tables(config.name, tables, seed=config.seed, base=config).name == "run\x9b1"
    with pytest.raises(ConfigError, match=r"U\+009B"):
        config_from_tables("new\x9b2", tables, seed=config.seed, base=config)


def test_what_the_editors_do_not_show_is_kept_from_the_base_config() -> None:
    config = _full_config()
    tables = tables_from_config(config)
    assert tables.parameters.set_index("name").loc["anneal_temperature_c", "resolution"] == "5"
    again = config_from_tables(config.name, tables, description=config.description, seed=config.seed, base=config)
    assert again == config  # batch_shared, control_recipe, impedance, the curve's over/at, the resolution
    # an edit changes what it edits, and nothing else
    edited = tables.parameters.copy()
    edited.loc[edited["name"] == "hfo2_loading_wt_pct", "resolution"] = 0.01
    changed = config_from_tables(config.name, ConfigTables(edited, tables.outcomes, tables.constraints),
                                 description=config.description, seed=config.seed, base=config)
    assert changed.parameter("hfo2_loading_wt_pct").resolution == 0.01  # type: ignore[union-attr]
    assert changed.to_dict() | {"parameters": None} == config.to_dict() | {"parameters": None}
    # a parameter removed in the editor but named by a field the editors carry: an error naming that field
    without = tables.parameters[tables.parameters["name"] != "anneal_time_h"]
    with pytest.raises(ConfigError, match=r"control_recipe: .* unknown \['anneal_time_h'\]"):
        config_from_tables(config.name, ConfigTables(without, tables.outcomes, tables.constraints), base=config)


def test_shared_per_batch_is_a_column_of_the_parameter_table() -> None:
    config = _full_config()
    tables = tables_from_config(config)
    shared = tables.parameters.set_index("name")["shared"]
    assert shared[shared].index.tolist() == ["anneal_temperature_c", "anneal_time_h", "anneal_atmosphere"]
    edited = tables.parameters.copy()
    edited["shared"] = edited["name"].isin(["anneal_temperature_c", "anneal_atmosphere"])
    changed = config_from_tables(config.name, ConfigTables(edited, tables.outcomes, tables.constraints),
                                 description=config.description, seed=config.seed, base=config)
    assert changed.batch_shared == ("anneal_temperature_c", "anneal_atmosphere")
    edited["shared"] = False
    assert config_from_tables(config.name, ConfigTables(edited, tables.outcomes, tables.constraints),
                              base=config).batch_shared == ()


def test_what_a_row_cannot_take_is_refused_not_dropped() -> None:
    tables = empty_tables()
    parameters = pd.concat([tables.parameters, pd.DataFrame([
        {"name": "bath_c", "type": "discrete", "values": "40, 50", "resolution": -3.0},
        {"name": "gas", "type": "categorical", "values": "O2, Ar", "lower": 1.0, "log_scale": True}])],
        ignore_index=True)
    outcomes = pd.concat([tables.outcomes, pd.DataFrame([{"name": "film_nm", "role": "measure only",
                                                          "target": 10.0}])], ignore_index=True)
    with pytest.raises(ConfigError) as err:
        config_from_tables("x", ConfigTables(parameters, outcomes, ""))
    message = str(err.value)
    assert "parameters row 2 (bath_c), resolution: -3.0 applies only to continuous parameters" in message
    assert "parameters row 3 (gas), lower: 1.0 applies only to continuous parameters" in message
    assert "parameters row 3 (gas), log_scale: applies only to continuous parameters" in message
    assert "outcomes row 2 (film_nm), target: 10.0 applies only to objectives" in message


def test_scratch_tables_make_a_valid_config() -> None:
    config = config_from_tables("scratch", empty_tables())
    assert config.parameter_names == ["temperature_c"]
    assert config.objective_names == ["yield_pct"]


def test_blank_rows_are_ignored_and_measured_outcomes_kept_apart() -> None:
    tables = empty_tables()
    parameters = pd.concat([tables.parameters, pd.DataFrame([{
        "name": "solvent", "type": "categorical", "values": "toluene, hexane"}, {"name": None}])],
        ignore_index=True)
    outcomes = pd.concat([tables.outcomes, pd.DataFrame([{"name": "thickness_nm", "role": "measure only"}])],
                         ignore_index=True)
    config = config_from_tables("x", ConfigTables(parameters, outcomes, "thickness_nm <= 15\n"))
    assert config.parameter("solvent").values == ("toluene", "hexane")
    assert [o.name for o in config.outcomes] == ["thickness_nm"]
    assert config.outcome_constraints[0].bound == 15


def test_every_problem_names_its_row_and_column() -> None:
    tables = empty_tables()
    parameters = pd.concat([tables.parameters, pd.DataFrame([
        {"name": "bath_c", "type": "discrete", "values": "40, warm"},
        {"name": "time_h", "type": "continuous", "lower": 5.0, "upper": 1.0},
        {"name": "mode", "type": "sometimes"},
        {"name": "dry_c", "type": "continuous", "lower": "abc", "upper": 90.0},
        {"name": "mix_min", "type": "continuous", "lower": 1.0},
    ])], ignore_index=True)
    with pytest.raises(ConfigError) as err:
        config_from_tables("", ConfigTables(parameters, tables.outcomes, ""))
    message = str(err.value)
    assert "parameters row 5 (dry_c), lower: 'abc' is not a number" in message
    assert "parameters row 5 (dry_c): a continuous parameter needs" not in message  # said once, not twice
    assert "parameters row 6 (mix_min): a continuous parameter needs a lower and an upper bound" in message
    # the configuration's own checks name the row as the tables do (they said 'parameters[**x** y].name')
    good = pd.concat([tables.parameters, pd.DataFrame([{"name": "x", "type": "continuous", "lower": 0.0, "upper": 1.0},
                                                       {"name": "**x** y", "type": "continuous", "lower": 0.0,
                                                        "upper": 1.0}])], ignore_index=True)
    with pytest.raises(ConfigError) as err:
        config_from_tables("named", ConfigTables(good, tables.outcomes, ""))
    assert "parameters row 3 (**x** y), name: parameter name '**x** y' is not allowed" in str(err.value)
    assert "parameters row 2 (bath_c), values: 'warm' is not a number" in message
    assert "parameters row 4 (mode), type: 'sometimes'" in message
    assert "lower bound 5 must be below upper bound 1" in message
    assert "name: give the campaign a non-empty name" in message


def test_set_points_and_the_objective_mode_round_trip_through_the_tables() -> None:
    raw = load_config("hfo2-ncm85").to_dict()
    thickness = next(o for o in raw["outcomes"] if o["name"] == "coating_thickness_nm")
    raw["outcomes"].remove(thickness)
    raw["objectives"].append({**thickness, "goal": "target", "target": 10.0, "tolerance": 2.0, "weight": 0.5})
    raw["objective_mode"] = "weighted"
    config = load_config(raw)
    tables = tables_from_config(config)
    assert tables.objective_mode == "weighted"
    row = tables.outcomes.set_index("name").loc["coating_thickness_nm"]
    assert (row["role"], row["target"], row["tolerance"]) == ("target", "10", "2")
    assert config_from_tables(config.name, tables, description=config.description, seed=config.seed) == config


def test_an_outcomes_valid_range_is_two_columns_of_the_outcome_table() -> None:
    config = load_config("hfo2-ncm85")
    tables = tables_from_config(config)
    rows = tables.outcomes.set_index("name")
    assert (rows.loc["first_cycle_ce_pct", "lowest"], rows.loc["first_cycle_ce_pct", "highest"]) == ("0", "100")
    assert rows.loc["coating_thickness_nm", "highest"] is None
    outcomes = tables.outcomes.copy()
    at = outcomes.index[outcomes["name"] == "first_cycle_ce_pct"][0]
    outcomes.loc[at, ["lowest", "highest"]] = ["50", None]  # typed in the editor
    thickness = outcomes.index[outcomes["name"] == "coating_thickness_nm"][0]
    outcomes.loc[thickness, ["lowest", "highest"]] = [None, None]  # cleared: any value goes
    edited = config_from_tables(config.name, ConfigTables(tables.parameters, outcomes, tables.constraints),
                                base=config)
    assert edited.valid_range_of("first_cycle_ce_pct") == (50.0, None)
    assert edited.valid_range_of("coating_thickness_nm") is None
    outcomes.loc[at, ["lowest", "highest"]] = [100.0, 0.0]
    with pytest.raises(ConfigError, match="valid_range's lower end must be below its upper end"):
        config_from_tables(config.name, ConfigTables(tables.parameters, outcomes, tables.constraints), base=config)


_AWKWARD = {"name": "awkward", "objectives": [{"name": "y_pct", "goal": "maximize", "threshold": 0.1234567891,
                                               "weight": 1 / 3, "valid_range": [-1e-05, 123456.789012]}],
            "parameters": [
                {"name": "loading_wt_pct", "type": "continuous", "bounds": [0.1234567891, 2.718281828459045],
                 "reference": 0.8333333, "resolution": None},
                {"name": "time_h", "type": "continuous", "bounds": [1e-05, 1234567.891], "log_scale": True,
                 "reference": 3.3333333333333335},
                {"name": "gap_mm", "type": "continuous", "bounds": [0.0, 3.0], "resolution": 0.001,
                 "reference": 1.234},
                {"name": "bath_c", "type": "discrete", "values": [1e-07, 0.1234567, 1000.5, 1234567.0],
                 "reference": 1234567.0}]}


def test_awkward_numbers_are_shown_and_saved_back_exactly() -> None:
    """References and discrete values were written with f"{x:g}" (6 significant figures): a
    reference 0.8333333 showed as 0.833333, and saving an unrelated edit stored that."""
    config = load_config(_AWKWARD)
    tables = tables_from_config(config)
    shown = tables.parameters.set_index("name")
    assert shown.loc["loading_wt_pct", "reference"] == "0.8333333"
    assert shown.loc["bath_c", "values"] == "1e-07, 0.1234567, 1000.5, 1234567"
    assert shown.loc["bath_c", "reference"] == "1234567"
    for base in (config, None):  # the description edited, nothing else
        again = config_from_tables(config.name, tables, description="a new description", base=base)
        assert again.to_dict() == config.to_dict() | {"description": "a new description"}


@settings(max_examples=60, deadline=None)
@given(reference=st.floats(0.5, 2.5), values=st.lists(st.floats(-1e12, 1e12, allow_subnormal=False), min_size=2,
                                                       max_size=5, unique=True))
def test_any_reference_and_discrete_values_round_trip_through_the_tables(reference: float, values: list[float]) -> None:
    values = sorted(values)
    # values doe cannot tell apart (0 and 3e-160) are refused by the configuration itself
    assume(not any(same_value(a, b) for a, b in itertools.pairwise(values)))
    raw = {"name": "round-trip", "objectives": [{"name": "y", "goal": "maximize"}],
           "parameters": [{"name": "a", "type": "continuous", "bounds": [0.5, 2.5], "reference": reference},
                          {"name": "b", "type": "discrete", "values": values, "reference": values[-1]}]}
    config = load_config(raw)
    assert config_from_tables(config.name, tables_from_config(config), base=config) == config


def test_a_number_cell_of_the_editors_is_read_as_the_grids_read_it() -> None:
    tables = tables_from_config(load_config(_AWKWARD))
    parameters = tables.parameters.copy()
    parameters.loc[parameters["name"] == "loading_wt_pct", "reference"] = "0,5"  # a decimal comma
    again = config_from_tables("awkward", ConfigTables(parameters, tables.outcomes, ""))
    assert again.parameter("loading_wt_pct").reference == 0.5
    parameters.loc[parameters["name"] == "loading_wt_pct", "reference"] = "1_5"  # not 15
    with pytest.raises(ConfigError, match=r"loading_wt_pct\), reference: '1_5' is not a number"):
        config_from_tables("awkward", ConfigTables(parameters, tables.outcomes, ""))


def test_labels_with_commas_and_quotes_round_trip_through_the_editor_tables() -> None:
    """Saving only a new description split the label 'N2, 5% H2' into 'N2' and '5% H2', without
    a warning (found in a browser walk): the cell quotes such labels as a CSV cell does."""
    raw = load_config("hfo2-ncm85").to_dict()
    for p in raw["parameters"]:
        if p["name"] == "anneal_atmosphere":
            p["values"] = ["air", "N2, 5% H2", 'Ar "6.0"', "O2"]
    config = load_config(raw)
    tables = tables_from_config(config)
    cell = tables.parameters.set_index("name").loc["anneal_atmosphere", "values"]
    assert cell == 'air, "N2, 5% H2", "Ar ""6.0""", O2'
    again = config_from_tables(config.name, tables, description="another description", seed=config.seed)
    assert again.parameter("anneal_atmosphere").values == ("air", "N2, 5% H2", 'Ar "6.0"', "O2")
    # typed by hand, with or without spaces after the commas
    tables.parameters.loc[tables.parameters["name"] == "anneal_atmosphere", "values"] = 'air,"N2, 5% H2" , O2'
    typed = config_from_tables(config.name, tables, seed=config.seed)
    assert typed.parameter("anneal_atmosphere").values == ("air", "N2, 5% H2", "O2")


def test_a_row_without_a_name_that_holds_values_is_refused_not_dropped() -> None:
    """A parameter row given type and bounds but no name, or an existing outcome whose name was
    cleared, was left out of the saved version without a word (the editor's name column was
    ``required``, and a nameless row was read as a blank one). A wholly blank row is still skipped."""
    config = load_config("hfo2-ncm85")
    tables = tables_from_config(config)
    blank = {c: None for c in tables.parameters.columns} | {"log_scale": False, "shared": False}
    added = pd.DataFrame([*tables.parameters.to_dict("records"), blank,
                          blank | {"type": "continuous", "lower": "1", "upper": "3"}])
    with pytest.raises(ConfigError) as refused:
        config_from_tables(config.name, ConfigTables(added, tables.outcomes, tables.constraints), seed=config.seed)
    rows = len(tables.parameters)
    assert f"parameters row {rows + 2}, name: empty, while the row gives type 'continuous', lower '1', upper '3'" \
        in str(refused.value)
    assert f"parameters row {rows + 1}" not in str(refused.value)  # the blank row
    outcomes = tables.outcomes.copy()
    outcomes.loc[0, "name"] = " "
    with pytest.raises(ConfigError, match=r"outcomes row 1, name: empty, while the row gives role 'maximize'"):
        config_from_tables(config.name, ConfigTables(tables.parameters, outcomes, tables.constraints),
                           seed=config.seed)
    with_blank = pd.DataFrame([*tables.parameters.to_dict("records"), blank])
    again = config_from_tables(config.name, ConfigTables(with_blank, tables.outcomes, tables.constraints),
                               description=config.description, seed=config.seed)
    assert again == config
