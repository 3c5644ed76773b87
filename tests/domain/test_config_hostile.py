"""Hostile and sloppy configurations are refused with a short, clear ConfigError (issue 14, item 4)."""

from __future__ import annotations

import datetime

import pytest

from doe.domain import CampaignConfig
from doe.domain.yaml_text import load_yaml
from doe.errors import ConfigError

GOOD = """\
name: coating
parameters:
  - {name: temp_c, type: continuous, bounds: [250, 800]}
  - {name: gas, type: categorical, values: [O2, air]}
objectives:
  - {name: capacity, goal: maximize}
"""


def _bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + f"\nname: *a{levels - 1}\nparameters: []\nobjectives: []\n"


def test_the_good_config_loads() -> None:
    assert CampaignConfig.from_yaml(GOOD).parameter_names == ["temp_c", "gas"]


def test_an_alias_bomb_is_refused_quickly_with_a_short_message() -> None:
    text = _bomb()
    assert len(text) < 1000
    with pytest.raises(ConfigError, match=r"alias|anchor") as info:
        CampaignConfig.from_yaml(text)
    assert len(str(info.value)) < 500


def test_a_single_alias_is_refused_too() -> None:
    text = GOOD.replace("[250, 800]", "&b [250, 800]") + "  - {name: thickness, goal: minimize}\n"
    text = text.replace("  - {name: gas, type: categorical, values: [O2, air]}",
                        "  - {name: time_h, type: continuous, bounds: *b}")
    with pytest.raises(ConfigError, match="line"):
        CampaignConfig.from_yaml(text)


def test_huge_values_are_not_echoed_in_full() -> None:
    # a 7 MB error message came from echoing a huge name
    text = GOOD.replace("name: coating", "name: " + "x" * 200_000)
    with pytest.raises(ConfigError) as info:
        CampaignConfig.from_yaml(text)
    assert len(str(info.value)) < 2000
    many = GOOD.replace("values: [O2, air]", "values: [" + ", ".join(["O2"] * 20_000) + "]")
    with pytest.raises(ConfigError, match="repeat") as info:
        CampaignConfig.from_yaml(many)
    assert len(str(info.value)) < 2000


def test_too_many_nodes_are_refused() -> None:
    text = GOOD + "description: [" + ",".join(["1"] * 150_000) + "]\n"
    with pytest.raises(ConfigError, match="values"):
        CampaignConfig.from_yaml(text)


def test_a_duplicate_key_is_refused_with_its_name_and_line() -> None:
    text = GOOD.replace("name: coating\n", "name: coating\nname: other\n")
    with pytest.raises(ConfigError, match=r"'name' is given twice.*line 1"):
        CampaignConfig.from_yaml(text)
    nested = GOOD.replace("{name: temp_c, type: continuous,", "{name: temp_c, type: continuous, type: discrete,")
    with pytest.raises(ConfigError, match="'type' is given twice"):
        CampaignConfig.from_yaml(nested)


@pytest.mark.parametrize(("old", "new", "field"), [
    ("[250, 800]", '["250", "800"]', "bounds"),
    ("[250, 800]", "[false, true]", "bounds"),
    ("[250, 800]", '["3_50", 800]', "bounds"),
    ("bounds: [250, 800]}", 'bounds: [250, 800], log_scale: "yes"}', "log_scale"),
    ("{name: capacity, goal: maximize}", '{name: capacity, goal: maximize, threshold: "150"}', "threshold"),
    ("{name: capacity, goal: maximize}", "{name: capacity, goal: maximize, weight: true}", "weight"),
])
def test_no_silent_coercion(old: str, new: str, field: str) -> None:
    text = GOOD.replace(old, new)
    assert text != GOOD
    with pytest.raises(ConfigError, match=field):
        CampaignConfig.from_yaml(text)


def test_no_silent_coercion_of_discrete_values_and_references() -> None:
    base = {"name": "c", "objectives": [{"name": "y", "goal": "maximize"}]}
    for param in (
        {"name": "bath_c", "type": "discrete", "values": ["40", "50"]},
        {"name": "bath_c", "type": "discrete", "values": [True, 2]},
        {"name": "temp_c", "type": "continuous", "bounds": [0, 1], "reference": "0.5"},
        {"name": "gas", "type": "categorical", "values": ["a", "b"], "unit": 5},
    ):
        with pytest.raises(ConfigError, match=param["name"]):
            CampaignConfig.from_dict({**base, "parameters": [param]})
    # whole numbers stay welcome where floats are expected
    ok = CampaignConfig.from_dict({**base, "parameters": [{"name": "bath_c", "type": "discrete", "values": [40, 50]}]})
    assert ok.parameters[0].values == (40.0, 50.0)


def test_yaml_tags_and_non_mapping_documents_are_config_errors() -> None:
    for text in ("!!python/object/apply:os.system ['echo hi']", "- a\n- b\n", "'unterminated", "{[1]: 2}"):
        with pytest.raises(ConfigError):
            CampaignConfig.from_yaml(text)


def test_control_characters_are_a_config_error() -> None:
    # found by fuzzing: PyYAML's reader refuses them before parsing, outside the parser's errors
    for text in ("\x1f", GOOD + "\x1f", "name: a\x07b"):
        with pytest.raises(ConfigError, match="not valid YAML"):
            CampaignConfig.from_yaml(text)


def test_tagged_values_that_cannot_be_built_are_a_config_error() -> None:
    # found by fuzzing: '!!float 1e400;' made PyYAML's constructor raise a raw ValueError
    for text in ("a: !!float 1e400;", "a: !!int x", "a: !!timestamp 2001-99-99"):
        with pytest.raises(ConfigError, match=r"cannot be read|not valid YAML"):
            CampaignConfig.from_yaml(text)


def test_a_timestamp_tag_on_text_that_is_no_date_is_refused_naming_the_line() -> None:
    # found by fuzzing: PyYAML's timestamp constructor fails with a raw AttributeError on these
    for text in ("name: x\nday: !!timestamp 2001-12-140", "name: x\nday: !!timestamp [1]", "name: x\nday: !!timestamp x"):
        with pytest.raises(ConfigError, match=r"line 2: .*is not a date or time"):
            CampaignConfig.from_yaml(text)
    assert load_yaml("day: 2001-12-14\nat: !!timestamp 2001-12-14 10:00:00") == {
        "day": datetime.date(2001, 12, 14), "at": datetime.datetime(2001, 12, 14, 10, 0)}


@pytest.mark.parametrize("typed", ["6:00", "1:30", "010", "-007"])  # YAML 1.1: 360, 90, 8, -7
def test_numbers_yaml_would_read_as_base_60_or_octal_are_refused_naming_the_line(typed: str) -> None:
    """YAML 1.1 read ``bounds: [0.5, 6:00]`` as 360 h and ``values: [010, 020]`` as 8 and 16,
    without a word (found by a probe)."""
    text = f"name: y\nparameters:\n- {{name: t, type: continuous, bounds: [0, 1000],\n   reference: {typed}}}\n" \
           "objectives:\n- {name: ce, goal: maximize}\n"
    with pytest.raises(ConfigError, match=rf"line 4: {typed} (is read by YAML as a base-60|starts with 0, which YAML "
                                          rf"reads as an octal)"):
        CampaignConfig.from_yaml(text)
    assert load_yaml(f"a: '{typed}'") == {"a": typed}  # quoted: text


def test_exponent_numbers_without_a_point_say_how_to_write_them_and_number_names_and_labels_say_quote_them() -> None:
    # YAML 1.1: 1e-3 is text (the configuration's writer leaves a label '12E3' unquoted, so it
    # must read back as text; a review found a campaign with such a label could not be opened)
    assert load_yaml("a: [1e-3, 12E3, 1.0e-3, 0.5, 7]") == {"a": ["1e-3", "12E3", 0.001, 0.5, 7]}
    with pytest.raises(ConfigError, match=r"resolution: .*got '1e-3' \(str\); YAML reads 1e-3 as text \(an exponent "
                                          r"needs a decimal point there\): write it as 0.001 or with a point"):
        CampaignConfig.from_yaml("name: y\nparameters:\n- {name: x, type: continuous, bounds: [0, 1], resolution: 1e-3}\n"
                                 "objectives:\n- {name: ce, goal: maximize}\n")
    lots = CampaignConfig.from_yaml("name: y\nparameters:\n- {name: lot, type: categorical, values: ['12E3', '12E4']}\n"
                                    "objectives:\n- {name: ce, goal: maximize}\n")
    assert CampaignConfig.from_yaml(lots.to_yaml()).parameter("lot").values == ("12E3", "12E4")
    with pytest.raises(ConfigError, match=r"name: must be text, got the number 2024; put it in quotes"):
        CampaignConfig.from_yaml("name: 2024\nparameters:\n- {name: x, type: continuous, bounds: [0, 5]}\n"
                                 "objectives:\n- {name: ce, goal: maximize}\n")
    with pytest.raises(ConfigError, match=r"category labels must be text, got the number 1; put a label that is a "
                                          r"number in quotes \('1'\)"):
        CampaignConfig.from_yaml("name: y\nparameters:\n- {name: a, type: categorical, values: [1, 2]}\n"
                                 "objectives:\n- {name: ce, goal: maximize}\n")
