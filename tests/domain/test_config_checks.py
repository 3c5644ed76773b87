"""Checks across a configuration's parts: outcome constraints no result could meet, the
reference recipe against the linear constraints, strict numbers in constraint mappings."""

from __future__ import annotations

from typing import Any

import pytest

from doe.domain.config import CampaignConfig
from doe.domain.yaml_text import load_yaml
from doe.errors import ConfigError


def _raw(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": "checks", "objectives": [{"name": "ce", "goal": "maximize", "valid_range": [0.0, 100.0]}],
        "parameters": [{"name": "x", "type": "continuous", "bounds": [0.0, 10.0]},
                       {"name": "y", "type": "continuous", "bounds": [0.0, 10.0]}]}
    return raw | changes


@pytest.mark.parametrize(("objective", "constraints", "message"), [
    ({}, ["ce >= 120"], r"constraints\[0\]: ce >= 120 leaves no value that its valid_range \(ce <= 100\) allows"),
    ({"threshold": 90.0}, ["ce <= 10"], r"constraints\[0\]: ce <= 10 leaves no value that objectives\[ce\]\.threshold "
                                        r"\(ce >= 90, the worst acceptable value\) allows"),
    ({}, ["ce >= 50", "ce <= 10"], r"constraints\[1\]: ce <= 10 leaves no value that constraints\[0\] \(ce >= 50\)"),
])
def test_an_outcome_constraint_no_result_could_meet_is_refused(objective: dict[str, Any], constraints: list[str],
                                                               message: str) -> None:
    """They were accepted (only a target or threshold outside valid_range was refused), and the
    campaign then searched for results that cannot exist."""
    raw = _raw(constraints=constraints)
    raw["objectives"] = [raw["objectives"][0] | objective]
    with pytest.raises(ConfigError, match=message):
        CampaignConfig.from_dict(raw)


@pytest.mark.parametrize("constraints", [["ce >= 100"], ["ce <= 90"], ["ce >= 90", "ce <= 90"]])
def test_an_outcome_constraint_some_result_could_meet_is_kept(constraints: list[str]) -> None:
    raw = _raw(constraints=constraints)
    raw["objectives"] = [raw["objectives"][0] | {"threshold": 90.0}]
    assert [c.text() for c in CampaignConfig.from_dict(raw).constraints] == constraints


@pytest.mark.parametrize(("constraint", "field"), [
    ({"type": "linear", "coefficients": {"x": "1", "y": 1.0}, "operator": "<=", "rhs": 5.0}, "coefficients.x"),
    ({"type": "linear", "coefficients": {"x": 1.0, "y": True}, "operator": "<=", "rhs": 5.0}, "coefficients.y"),
    ({"type": "linear", "coefficients": {"x": 1.0, "y": 1}, "operator": "<=", "rhs": "5"}, "rhs"),
    ({"type": "outcome", "outcome": "ce", "operator": "<=", "bound": "50"}, "bound"),
])
def test_a_quoted_number_in_a_constraint_mapping_is_refused(constraint: dict[str, Any], field: str) -> None:
    """`coefficients: {"x": "1", "y": true}, rhs: "5"` was read as x + y <= 5, while bounds
    written as '5' are refused."""
    with pytest.raises(ConfigError, match=rf"constraints\[0\]\.{field}: Input should be a valid number, .*write "
                                          "numbers without quotes"):
        CampaignConfig.from_dict(_raw(constraints=[constraint]))


def test_a_reference_recipe_that_breaks_a_linear_constraint_is_refused() -> None:
    """It was accepted and then never proposed, with no message (the initial design skips it)."""
    raw = _raw(constraints=["x + y <= 4"])
    raw["parameters"] = [p | {"reference": 5.0} for p in raw["parameters"]]
    with pytest.raises(ConfigError, match=r"constraints\[0\]: the reference recipe \(parameters\[x\]\.reference = 5, "
                                          r"parameters\[y\]\.reference = 5\) breaks x \+ y <= 4"):
        CampaignConfig.from_dict(raw)
    raw["parameters"] = [raw["parameters"][0] | {"reference": 3.0}, raw["parameters"][1] | {"reference": 1.0}]
    assert CampaignConfig.from_dict(raw).reference_recipe() == {"x": 3.0, "y": 1.0}


@pytest.mark.parametrize(("text", "message"), [
    ("2026-01-01", r'name: must be text, got the date 2026-01-01; put it in quotes \(name: "2026-01-01"\)'),
    ("yes", r"name: must be text, got True \(YAML reads yes, no, on, off, true and false as true or false\); "
            r"put the name in quotes"),
])
def test_a_name_yaml_reads_as_a_date_or_a_truth_value_gets_the_quotes_hint(text: str, message: str) -> None:
    """The message was "campaign configuration datetime.date(2026, 1, 1) is invalid: - name: give
    the campaign a non-empty name"."""
    with pytest.raises(ConfigError, match=message) as info:
        CampaignConfig.from_dict(_raw(name=load_yaml(f"name: {text}")["name"]))
    assert "datetime" not in str(info.value)
