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
def test_a_label_with_spaces_around_it_is_refused_naming_parameter_and_label(label: str) -> None:
    with pytest.raises(ConfigError) as info:
        _config([label, "air"])
    message = str(info.value)
    assert f"parameters[gas]: parameter 'gas': label {label!r} starts or ends with a space" in message
    assert "remove the spaces ('O2')" in message


def test_a_stored_label_with_spaces_still_loads() -> None:
    """An older campaign stored with such a label stays readable (its configuration passes ``stored``)."""
    raw = {"name": "gas", "type": "categorical", "values": ["O2 ", "air"]}
    assert CategoricalParameter.model_validate(raw, context={"stored": True}).values == ("O2 ", "air")
    with pytest.raises(ValueError, match="starts or ends with a space"):
        CategoricalParameter.model_validate(raw)
    data = {"name": "labels", "parameters": [raw], "objectives": [{"name": "f", "goal": "maximize"}]}
    data["parameters"].append({"name": "x", "type": "continuous", "bounds": [0, 1]})
    assert CampaignConfig.from_dict(data, stored=True).parameter("gas").values == ("O2 ", "air")  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="starts or ends with a space"):
        CampaignConfig.from_dict(data)


@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12))
def test_every_label_a_configuration_accepts_is_recorded_as_itself(label: str) -> None:
    try:
        config = _config([label, "b" if label == "a" else "a"])
    except ConfigError:
        assert label != label.strip()  # refused when the campaign is set up, so never proposed
        return
    assert _recorded(label, config) == label


def test_labels_that_differ_in_case_or_width_stay_apart() -> None:
    """The table matches a label exactly, so 'O2', 'o2' and the full-width 'Ｏ2' are three labels."""
    config = _config(["O2", "o2", "Ｏ2"])
    assert [_recorded(label, config) for label in ("O2", "o2", "Ｏ2")] == ["O2", "o2", "Ｏ2"]
