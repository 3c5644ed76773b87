"""Parameters: every label or discrete value a configuration accepts can be recorded back
through a table as itself (a cell is read without the spaces around it, a number matched to
the listed value it is), and ranges the encoder can hold."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from doe.domain import validate_experiments
from doe.domain.config import CampaignConfig
from doe.domain.parameters import CategoricalParameter
from doe.domain.values import is_plain_label
from doe.errors import ConfigError


def _config(labels: list[str]) -> CampaignConfig:
    return CampaignConfig.from_dict({
        "name": "labels", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]},
                                         {"name": "gas", "type": "categorical", "values": labels}],
        "objectives": [{"name": "f", "goal": "maximize"}]})


def _recorded(label: Any, config: CampaignConfig) -> Any:
    """The label as a results table with it in the ``gas`` cell is recorded."""
    clean = validate_experiments(pd.DataFrame({"x": [0.5], "gas": [label], "f": [1.0]}), config)
    return clean.loc[0, "gas"]


@pytest.mark.parametrize("label", ["O2 ", " O2", "O2\u00a0", "\u3000O2"])
def test_a_label_with_spaces_around_it_is_recorded_from_its_stripped_cell(label: str) -> None:
    """Such a label was proposed but refused when recorded back ('unknown category'): a table
    cell is read without its spaces. Beside the same label without them it is refused."""
    config = _config([label, "air"])
    assert _recorded(label, config) == label and _recorded("O2", config) == label
    with pytest.raises(ConfigError) as info:
        _config([label, "O2"])
    assert f"parameters[gas]: parameter 'gas': labels {label!r} and 'O2' differ only in spaces" in str(info.value)


def test_a_stored_pair_of_labels_that_differ_in_spaces_still_loads() -> None:
    """An older campaign stored with such labels stays readable (its configuration passes ``stored``)."""
    raw = {"name": "gas", "type": "categorical", "values": ["O2 ", "O2"]}
    assert CategoricalParameter.model_validate(raw, context={"stored": True}).values == ("O2 ", "O2")
    with pytest.raises(ValueError, match="differ only in spaces"):
        CategoricalParameter.model_validate(raw)
    data = {"name": "labels", "parameters": [raw], "objectives": [{"name": "f", "goal": "maximize"}]}
    data["parameters"].append({"name": "x", "type": "continuous", "bounds": [0, 1]})
    assert CampaignConfig.from_dict(data, stored=True).parameter("gas").values == ("O2 ", "O2")  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="differ only in spaces"):
        CampaignConfig.from_dict(data)


@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12))
def test_every_label_a_configuration_accepts_is_recorded_as_itself(label: str) -> None:
    try:
        config = _config([label, "b" if label == "a" else "a"])
    except ConfigError:  # blank, beside a label it differs from only in spaces, or with a control or
        assert label.strip() in ("", "a", "b") or not is_plain_label(label)  # invisible character
        return
    assert _recorded(label, config) == unicodedata.normalize("NFC", label) == config.parameter("gas").values[0]


def test_labels_that_differ_in_case_or_width_stay_apart() -> None:
    """The table matches a label exactly, so 'O2', 'o2' and the full-width 'Ｏ2' are three labels."""
    config = _config(["O2", "o2", "Ｏ2"])
    assert [_recorded(label, config) for label in ("O2", "o2", "Ｏ2")] == ["O2", "o2", "Ｏ2"]


@pytest.mark.parametrize(("where", "field"), [("parameters", "parameter"), ("objectives", "objective")])
def test_a_name_with_a_line_break_at_its_end_is_refused(where: str, field: str) -> None:
    """The name pattern ended in "$", which matches before a last line break: a parameter or
    objective named "x\n" was accepted, a column name no table header can hold."""
    raw: dict[str, Any] = {"name": "names", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
                           "objectives": [{"name": "f", "goal": "maximize"}]}
    raw[where][0]["name"] += "\n"
    with pytest.raises(ConfigError, match=rf"{field} name .* is not allowed: use letters, digits and underscores"):
        CampaignConfig.from_dict(raw)


NFD, NFC = "cafe\u0301", "caf\u00e9"


@pytest.mark.parametrize("label", ["O2\u200b", "a\nb", "O2\t", "\ufeffO2"])
def test_a_label_with_a_line_break_control_or_invisible_character_is_refused(label: str) -> None:
    """Such labels were accepted: 'O2' and 'O2' + a zero-width space look the same in every table."""
    with pytest.raises(ConfigError, match=r"parameters\[gas\]\.values: category label .* holds a line break, a "
                                          "control or an invisible character"):
        _config([label, "air"])


def test_labels_are_kept_composed_and_two_spellings_of_one_label_are_refused() -> None:
    """A label pasted with decomposed accents ('cafe' + U+0301) was kept so, and a cell typed
    'café' on another keyboard was refused as an unknown category; beside 'café' it made two
    labels that look the same."""
    config = _config([NFD, "toluene"])
    assert config.parameter("gas").values == (NFC, "toluene")  # type: ignore[union-attr]
    assert _recorded(NFC, config) == NFC and _recorded(NFD, config) == NFC
    with pytest.raises(ConfigError, match=r"category labels 'cafe\\u0301' and 'caf\\xe9' are the same text"):
        _config([NFD, NFC])


def test_a_stored_decomposed_label_stays_readable_and_takes_either_spelling() -> None:
    """A campaign stored before labels were composed keeps its label as stored (its stored
    experiments hold it), and a cell in either spelling is recorded as that label."""
    data = {"name": "labels", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]},
                                             {"name": "gas", "type": "categorical", "values": [NFD, "toluene"]}],
            "objectives": [{"name": "f", "goal": "maximize"}]}
    config = CampaignConfig.from_dict(data, stored=True)
    assert config.parameter("gas").values == (NFD, "toluene")  # type: ignore[union-attr]
    assert _recorded(NFC, config) == NFD and _recorded(NFD, config) == NFD


def test_a_campaign_name_typed_decomposed_is_stored_composed_and_found_in_either_spelling(tmp_path: Path) -> None:
    """A name typed decomposed was stored so, and `Campaign.load('café')` typed composed did not find it."""
    from doe import Campaign

    db = str(tmp_path / "names.sqlite3")
    config = {"name": NFD, "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]},
                                          {"name": "gas", "type": "categorical", "values": [NFD, "toluene"]}],
              "objectives": [{"name": "f", "goal": "maximize"}]}
    campaign = Campaign.from_config(config, storage=db)
    assert campaign.name == NFC
    campaign.record(pd.DataFrame([{"x": 0.5, "gas": NFD, "f": 1.0}]))
    assert list(Campaign.load(NFC, storage=db).history()["gas"]) == [NFC]
    assert list(Campaign.load(NFD, storage=db).history()["gas"]) == [NFC]


def _discrete(values: list[float], *, stored: bool = False, **extra: Any) -> CampaignConfig:
    return CampaignConfig.from_dict({
        "name": "values", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]},
                                         {"name": "dose", "type": "discrete", "values": values}],
        "objectives": [{"name": "f", "goal": "maximize"}], **extra}, stored=stored)


@pytest.mark.parametrize(("values", "shown"), [([1e-13, 5e-13, 9e-13], "1e-13 and 5e-13"),
                                               ([40.0, 40.000000000001], "40.0 and 40.000000000001")])
def test_discrete_values_closer_than_the_matching_tolerance_are_refused(values: list[float], shown: str) -> None:
    """They were accepted, and a recorded 5e-13 was stored as 1e-13, 40.000000000001 as 40."""
    with pytest.raises(ConfigError, match=rf"parameters\[dose\]: parameter 'dose': values {shown} are closer than "
                                          "doe tells numbers apart"):
        _discrete(values)
    assert _discrete([1e-12, 5e-12]).parameter("dose").values == (1e-12, 5e-12)  # type: ignore[union-attr]


def test_a_recorded_discrete_value_is_the_nearest_listed_one() -> None:
    """The matcher took the first listed value within the tolerance: a stored campaign with close
    values (loaded as stored) recorded 9e-13 as 1e-13."""
    config = _discrete([1e-13, 5e-13, 9e-13], stored=True)
    clean = validate_experiments(pd.DataFrame({"x": [0.5] * 3, "dose": [9e-13, 5e-13, 1e-13], "f": [1.0] * 3}), config)
    assert list(clean["dose"]) == [9e-13, 5e-13, 1e-13]


def test_a_control_recipe_value_near_a_listed_one_is_stored_as_listed() -> None:
    """40.0000000001 was accepted for values [40, 50] and stored and exported so, a value not in the list."""
    config = _discrete([40.0, 50.0], control_recipe={"x": 0.5, "dose": 40.0000000001})
    assert config.control_recipe == {"x": 0.5, "dose": 40.0}


@pytest.mark.parametrize(("kind", "field"), [("continuous", "bounds"), ("discrete", "values")])
def test_a_range_whose_width_overflows_is_refused(kind: str, field: str) -> None:
    """[-1e308, 1e308] was accepted; its width is infinite, so the design put every recipe at the
    upper bound and the GP fit failed."""
    raw = {"name": "wide", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]},
                                          {"name": "w", "type": kind, field: [-1e308, 1e308]}],
           "objectives": [{"name": "f", "goal": "maximize"}]}
    with pytest.raises(ConfigError, match=rf"parameters\[w\]: parameter 'w': {field} -1e\+308 to 1e\+308 span more "
                                          "than a number can hold"):
        CampaignConfig.from_dict(raw)
    raw["parameters"][1][field] = [1e16, 1e16 + 2]  # type: ignore[index]
    with pytest.raises(ConfigError, match="closer than doe tells numbers apart"):
        CampaignConfig.from_dict(raw)
    raw["parameters"][1][field] = [-1e300, 1e300]  # type: ignore[index]
    assert CampaignConfig.from_dict(raw).parameter("w").upper == 1e300
