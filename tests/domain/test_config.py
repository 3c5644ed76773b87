"""Campaign configuration: building, round trips (property-based) and the errors users see."""

from __future__ import annotations

import string

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from doe.domain import CampaignConfig, load_config
from doe.errors import ConfigError
from doe.templates import resolve_config

NAMES = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8).map(lambda s: "p_" + s)


@st.composite
def configs(draw: st.DrawFn) -> dict:
    names = draw(st.lists(NAMES, min_size=1, max_size=6, unique=True))
    parameters = []
    for name in names:
        kind = draw(st.sampled_from(["continuous", "discrete", "categorical"]))
        if kind == "continuous":
            lo = draw(st.floats(-1e3, 1e3, allow_nan=False))
            width = draw(st.floats(1e-3, 1e3, allow_nan=False))
            p = {"name": name, "type": kind, "bounds": [lo, lo + width]}
            if lo > 0 and draw(st.booleans()):
                p["log_scale"] = True
        elif kind == "discrete":
            values = sorted(draw(st.lists(st.integers(-50, 50), min_size=2, max_size=6, unique=True)))
            p = {"name": name, "type": kind, "values": [float(v) for v in values]}
        else:
            labels = draw(st.lists(st.text(alphabet=string.ascii_letters, min_size=1, max_size=5),
                                   min_size=2, max_size=4, unique=True))
            p = {"name": name, "type": kind, "values": labels}
        if draw(st.booleans()):
            p["unit"] = draw(st.sampled_from(["C", "h", "wt%", "mg/mL"]))
        parameters.append(p)
    objectives = []
    for i in range(draw(st.integers(1, 3))):
        o = {"name": f"y_{i}", "goal": draw(st.sampled_from(["maximize", "minimize", "target"]))}
        if o["goal"] == "target":
            o["target"] = draw(st.floats(-100, 100, allow_nan=False))
            if draw(st.booleans()):
                o["tolerance"] = draw(st.floats(1e-3, 100, allow_nan=False))
        elif draw(st.booleans()):
            o["threshold"] = draw(st.floats(-100, 100, allow_nan=False))
        if draw(st.booleans()):
            o["weight"] = draw(st.floats(0.1, 10, allow_nan=False))
        objectives.append(o)
    config = {"name": draw(st.text(alphabet=string.ascii_letters + " -", min_size=1, max_size=20)).strip() or "c",
              "parameters": parameters, "objectives": objectives}
    continuous = [p for p in parameters if p["type"] == "continuous" and not p.get("log_scale")]
    if continuous and draw(st.booleans()):
        p = continuous[0]
        config["constraints"] = [{"type": "linear", "coefficients": {p["name"]: 1.0}, "operator": "<=",
                                  "rhs": p["bounds"][1]}]
    if draw(st.booleans()):
        config["seed"] = draw(st.integers(0, 2**31 - 1))
    if draw(st.booleans()):
        config["objective_mode"] = "weighted"
    if draw(st.booleans()):
        circuit = draw(st.sampled_from(["R0-p(R1,CPE1)-p(R2,CPE2)-Wo1", "R0-p(R1,CPE1)-Wo1", "L0-R0-p(R1-W1,C1)"]))
        config["impedance"] = {"circuit": circuit}
        if draw(st.booleans()):
            config["impedance"]["resistances"] = {objectives[-1]["name"]: draw(st.sampled_from(["R0", "R1"]))}
    return config


@settings(max_examples=60, deadline=None)
@given(configs())
def test_config_round_trips_exactly_through_dict_and_yaml(raw: dict) -> None:
    config = CampaignConfig.from_dict(raw)
    assert config.to_dict() == raw
    assert CampaignConfig.from_dict(config.to_dict()) == config
    assert CampaignConfig.from_yaml(config.to_yaml()) == config


def test_config_loads_from_a_mapping_or_a_yaml_path_and_round_trips(tmp_path) -> None:
    config = resolve_config("hfo2-ncm85")
    assert load_config(config) is config
    assert load_config(config.to_dict()) == config
    path = config.save_yaml(tmp_path / "mine.yaml")
    assert load_config(path) == config
    assert load_config(str(path)) == config
    assert yaml.safe_load(path.read_text())["name"] == "hfo2-ncm85"


@pytest.mark.parametrize("source", ["hfo2-ncm85", "mine.json", 42])
def test_the_domain_resolves_no_template_name(source: object) -> None:
    with pytest.raises(ConfigError, match="give a mapping or a YAML file path") as err:
        load_config(source)  # type: ignore[arg-type]
    assert (str(source) in str(err.value)) or isinstance(source, int)


def test_text_constraints_keep_their_form() -> None:
    raw = resolve_config("hfo2-ncm85").to_dict()
    raw["constraints"] = ["coating_thickness_nm <= 15", "hfo2_loading_wt_pct + 0.004 * anneal_temperature_c <= 4.5"]
    config = CampaignConfig.from_dict(raw)
    assert config.to_dict()["constraints"] == raw["constraints"]
    assert [type(c).__name__ for c in config.constraints] == ["OutcomeConstraint", "LinearConstraint"]
    linear = config.linear_constraints[0]
    assert linear.coefficients == {"hfo2_loading_wt_pct": 1.0, "anneal_temperature_c": 0.004}
    assert linear.satisfied({"hfo2_loading_wt_pct": 1.0, "anneal_temperature_c": 800})
    assert not linear.satisfied({"hfo2_loading_wt_pct": 3.0, "anneal_temperature_c": 700})


def _error(raw: dict) -> str:
    with pytest.raises(ConfigError) as info:
        CampaignConfig.from_dict(raw)
    return str(info.value)


BASE = {"name": "c", "parameters": [{"name": "t_c", "type": "continuous", "bounds": [250, 800]}],
        "objectives": [{"name": "ce_pct", "goal": "maximize"}]}


def _with(**changes: object) -> dict:
    raw = {k: (list(v) if isinstance(v, list) else v) for k, v in BASE.items()}
    raw.update(changes)
    return raw


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (_with(parameters=[{"name": "t_c", "type": "continuous", "bounds": [800, 250]}]),
         "parameters[t_c]: parameter 't_c': lower bound 800 must be below upper bound 250"),
        (_with(parameters=[{"name": "t_c", "type": "continuous", "bounds": [0, 5], "log_scale": True}]),
         "log_scale needs a positive lower bound"),
        (_with(parameters=[{"name": "t_c", "type": "number", "bounds": [0, 5]}]),
         "parameters[t_c].type: must be 'continuous', 'discrete' or 'categorical', got 'number'"),
        (_with(parameters=[{"name": "bath_c", "type": "discrete", "values": [40, 40, 50]}]),
         "values must not repeat"),
        (_with(parameters=[{"name": "gas", "type": "categorical", "values": ["O2"]}]),
         "needs at least 2 labels"),
        (_with(parameters=[{"name": "2bad", "type": "continuous", "bounds": [0, 1]}]),
         "parameter name '2bad' is not allowed"),
        (_with(parameters=[{"name": "status", "type": "continuous", "bounds": [0, 1]}]),
         "reserved by doe"),
        (_with(parameters=[{"name": "cycle", "type": "continuous", "bounds": [0, 1]}]),
         "parameters[cycle].name: 'cycle' is a column name doe reads"),
        (_with(outcomes=[{"name": "ce_pct_n"}]),
         "outcomes[ce_pct_n].name: 'ce_pct_n' is a column doe derives from the outcome 'ce_pct'"),
        (_with(parameters=[{"name": "ce_pct_sd", "type": "continuous", "bounds": [0, 1]}]),
         "parameters[ce_pct_sd].name: 'ce_pct_sd' is a column doe derives"),
        (_with(parameters=[{"name": "ce_pct_mean", "type": "continuous", "bounds": [0, 1]}]),
         "parameters[ce_pct_mean].name"),
        (_with(objectives=[{"name": "ce_pct", "goal": "up"}]), "objectives[ce_pct].goal"),
        (_with(objectives=[{"name": "ce_pct", "goal": "maximize", "valid_range": [100, 0]}]),
         "valid_range's lower end must be below its upper end, got [100, 0]"),
        (_with(outcomes=[{"name": "r_ohm", "valid_range": [0, float("inf")]}]),
         "valid_range must hold finite numbers or null"),
        (_with(outcomes=[{"name": "r_ohm", "valid_range": ["0", None]}]), "outcomes[r_ohm].valid_range"),
        (_with(objectives=[]), "objectives: list at least one objective"),
        (_with(objectives=[{"name": "t_c", "goal": "maximize"}]), "names must be unique"),
        (_with(constraints=["t_c + x <= 3"]), "'x' is neither a parameter nor an outcome"),
        (_with(constraints=["t_c >= 900"]), "no point of the search space satisfies"),
        (_with(constraints=["t_c <= hot"]), "is not understood"),
        (_with(parameters=[{"name": "t_c", "type": "continuous", "bounds": [0, 10], "resolution": 5}],
               constraints=["t_c >= 1", "t_c <= 4"]),
         "constraints: no recipe on the resolution grid of ['t_c'] satisfies all linear constraints together"),
        (_with(constraints=["ce_pct + t_c <= 3"]), "an outcome constraint limits one outcome"),
        (_with(objectives=[{"name": "ce_pct", "goal": "target"}]),
         "objectives[ce_pct]: objective 'ce_pct': goal 'target' needs a 'target' value"),
        (_with(objectives=[{"name": "ce_pct", "goal": "maximize", "target": 90}]),
         "objectives[ce_pct]: objective 'ce_pct': 'target' applies only to goal 'target'"),
        (_with(objectives=[{"name": "ce_pct", "goal": "minimize", "tolerance": 1}]),
         "'tolerance' applies only to goal 'target'"),
        (_with(objectives=[{"name": "ce_pct", "goal": "target", "target": float("inf")}]),
         "objectives[ce_pct]: objective 'ce_pct': target must be a finite number"),
        (_with(objectives=[{"name": "ce_pct", "goal": "target", "target": 90, "tolerance": 0}]),
         "objectives[ce_pct]: objective 'ce_pct': tolerance must be a positive number"),
        (_with(objectives=[{"name": "ce_pct", "goal": "target", "target": 90, "threshold": 80}]),
         "takes 'tolerance' (largest acceptable distance from the target), not 'threshold'"),
        (_with(objectives=[{"name": "ce_pct", "goal": "target", "target": 99}], constraints=["ce_pct <= 95"]),
         "objectives[ce_pct].target: 99 breaks the constraint ce_pct <= 95"),
        (_with(objective_mode="desirability"), "objective_mode: must be 'pareto'"),
        (_with(seed=-1), "seed: must be a whole number"),
        (_with(colour="red"), "unknown keys ['colour']"),
        (_with(name=""), "name: give the campaign a non-empty name"),
    ],
)
def test_each_kind_of_bad_config_gets_a_message_naming_the_field(raw: dict, expected: str) -> None:
    assert expected in _error(raw)


def test_every_problem_is_reported_at_once() -> None:
    message = _error({"name": "c",
                      "parameters": [{"name": "a", "type": "continuous", "bounds": [5, 1]},
                                     {"name": "b", "type": "categorical", "values": ["x"]}],
                      "objectives": [{"name": "y", "goal": "sideways"}]})
    assert "parameters[a]" in message and "parameters[b]" in message and "objectives[y]" in message


def test_yaml_errors_and_missing_files_are_clear(tmp_path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="must be a mapping"):
        CampaignConfig.from_dict(["not", "a", "mapping"])  # type: ignore[arg-type]


def test_replace_makes_a_new_validated_config() -> None:
    config = resolve_config("hfo2-ncm85")
    other = config.replace(name="mine", seed=7)
    assert (other.name, other.seed) == ("mine", 7)
    assert config.name == "hfo2-ncm85"
    with pytest.raises(ConfigError):
        config.replace(seed="seven")


def test_units_map_every_parameter_and_outcome_that_has_one() -> None:
    config = CampaignConfig.from_dict({
        "name": "units",
        "parameters": [{"name": "temperature_c", "type": "continuous", "bounds": [250, 800], "unit": "C"},
                       {"name": "atmosphere", "type": "categorical", "values": ["O2", "Ar"]}],
        "objectives": [{"name": "ce_pct", "goal": "maximize", "unit": "%"}],
        "outcomes": [{"name": "thickness_nm", "unit": "nm"}, {"name": "colour"}]})
    assert config.units == {"temperature_c": "C", "ce_pct": "%", "thickness_nm": "nm"}
    assert list(config.units) == ["temperature_c", "ce_pct", "thickness_nm"]


def test_a_stored_config_with_a_name_refused_since_still_loads() -> None:
    from doe.storage.values import parse_config

    raw = _with(parameters=[{"name": "operator", "type": "continuous", "bounds": [0, 1]},
                            {"name": "ce_pct_n", "type": "continuous", "bounds": [0, 1]}])
    message = _error(raw)
    assert "parameters[operator].name: 'operator' is a column name doe reads" in message
    assert "parameters[ce_pct_n].name: 'ce_pct_n' is a column doe derives" in message
    stored = CampaignConfig.from_dict(load_config(_with()).to_dict() | {"parameters": raw["parameters"]}, stored=True)
    assert parse_config(stored.to_yaml()).parameter_names == ["operator", "ce_pct_n"]  # its data stays readable


def test_every_column_derived_from_an_outcome_is_a_refused_name() -> None:
    from doe.domain.config import DERIVED_SUFFIXES
    from doe.domain.curves import curve_columns
    from doe.domain.replicates import n_column, sd_column

    derived = {n_column("o"), sd_column("o"), "o_mean", *curve_columns("o")}  # the history's and a prediction's
    assert {"o" + s for s in DERIVED_SUFFIXES} == derived
    for name in sorted(derived):
        assert f"outcomes[{name}].name" in _error(_with(objectives=[{"name": "o", "goal": "maximize"}],
                                                        outcomes=[{"name": name}]))


def test_a_grid_with_a_point_inside_the_constraints_is_accepted() -> None:
    two = [{"name": "a", "type": "continuous", "bounds": [0, 10], "resolution": 5},
           {"name": "b", "type": "continuous", "bounds": [0, 1], "resolution": 0.5}]
    assert load_config(_with(parameters=two, constraints=["a >= 1", "a + 2 * b <= 6"])).parameter("a").resolution == 5
    # the continuous region is not empty (a = 0.3, b = 1) but no grid point lies in it
    assert "resolution grid of ['a', 'b']" in _error(_with(parameters=two, constraints=["a + b >= 1.2", "a + b <= 1.4"]))


@pytest.mark.parametrize(("raw", "place"), [
    (_with(description="x\ud800"), "configuration.description"),
    (_with(parameters=[{"name": "t_c", "type": "continuous", "bounds": [250, 800], "unit": "\udcc3C"}]),
     "configuration.parameters[0].unit"),
    (_with(parameters=[{"name": "gas", "type": "categorical", "values": ["O2", "A\ud800r"]}]),
     "configuration.parameters[0].values[1]"),
    (_with(objectives=[{"name": "ce_pct", "goal": "maximize", "description": "\ud800"}]),
     "configuration.objectives[0].description"),
])
def test_text_that_is_not_unicode_is_refused_naming_where(raw: dict, place: str) -> None:
    # a lone surrogate (JSON's "\ud800" escape) is stored by no database and shown by no page
    assert _error(raw).startswith(f"{place}: holds a character that is not Unicode text")


def _mixture(constraints: list[str], resolution: float | None = None) -> dict:
    grid = {} if resolution is None else {"resolution": resolution}
    return {"name": "mix", "objectives": [{"name": "y", "goal": "maximize"}], "constraints": constraints,
            "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1], **grid},
                           {"name": "w", "type": "continuous", "bounds": [0, 1], **grid},
                           {"name": "t", "type": "continuous", "bounds": [300, 500]}]}


def test_constraints_that_leave_no_room_in_continuous_values_are_refused_naming_them() -> None:
    """A mixture written as two opposite inequalities was accepted, then the space-filling
    design found one recipe and said '0 untested remain' (found by a probe)."""
    with pytest.raises(ConfigError, match=r"constraints: 'x \+ w <= 1', 'x \+ w >= 1' hold only with equality .* "
                                          r"give the parameters of these constraints a resolution"):
        CampaignConfig.from_dict(_mixture(["x + w <= 1", "x + w >= 1"]))
    with pytest.raises(ConfigError, match=r"constraints: 'x <= 0' hold only with equality"):
        CampaignConfig.from_dict(_mixture(["x <= 0", "x + w <= 1"]))
    # on resolution grids the recipes are enumerated: accepted; and constraints with room are
    assert len(CampaignConfig.from_dict(_mixture(["x + w <= 1", "x + w >= 1"], resolution=0.05)).constraints) == 2
    assert len(CampaignConfig.from_dict(_mixture(["x + w <= 1", "x + w >= 0.999"])).constraints) == 2


def test_units_and_labels_the_store_cannot_keep_are_refused_naming_the_field() -> None:
    """Found in a browser walk: a 35-character unit was accepted, then every value of it was
    refused as 'measurements[0].unit must be text of 1 to 32 printable characters'; a unit with
    brackets made the campaign's own run sheet unreadable; a 10,000-character label broke the
    Plan page. A stored campaign keeps loading."""
    raw = {"name": "c", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1], "unit": "mg [dry]"},
                                       {"name": "gas", "type": "categorical", "values": ["air", "O" * 300]}],
           "objectives": [{"name": "cap", "goal": "maximize", "unit": "mAh per g of active material (NCM85)"}]}
    message = _error(raw)
    assert "parameters[x].unit: at most 32 printable characters without [ or ]" in message
    assert "objectives[cap].unit: at most 32 printable characters" in message
    assert "parameters[gas].values: a label has at most 256 characters, got one of 300" in message
    assert CampaignConfig.from_dict(raw, stored=True).unit_of("x") == "mg [dry]"
    raw["parameters"][0]["unit"] = "mg (dry)"
    raw["parameters"][1]["values"] = ["air", "O" * 256]
    raw["objectives"][0]["unit"] = "mAh/g (NCM85)"
    assert CampaignConfig.from_dict(raw).unit_of("cap") == "mAh/g (NCM85)"
