"""Categorical labels: every label a configuration accepts can be recorded back through a
table, which reads each cell without the spaces around it."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from doe.domain import validate_experiments
from doe.domain.config import CampaignConfig
from doe.domain.parameters import CategoricalParameter
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


@pytest.mark.parametrize("label", ["O2 ", " O2", "O2\t", "O2\n", "O2\u00a0", "\u3000O2"])
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
    except ConfigError:
        assert label.strip() in ("", "a", "b")  # blank, or beside a label it differs from only in spaces
        return
    assert _recorded(label, config) == label


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
