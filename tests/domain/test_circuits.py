"""The campaign's equivalent circuit: impedance.py notation checked in the domain, resistances
mapped to outcomes of the campaign, every problem named by its field."""

from __future__ import annotations

import pytest

from doe.domain.circuits import circuit_elements, circuit_parameters
from doe.domain.config import CampaignConfig
from doe.errors import ConfigError

BASE = {"name": "eis", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
        "objectives": [{"name": "interfacial_resistance_ohm", "goal": "minimize"}],
        "outcomes": [{"name": "bulk_resistance_ohm", "unit": "ohm"}]}


@pytest.mark.parametrize(("circuit", "parameters"), [
    ("R0-p(R1,CPE1)-p(R2,CPE2)-Wo1", ["R0", "R1", "CPE1_0", "CPE1_1", "R2", "CPE2_0", "CPE2_1", "Wo1_0", "Wo1_1"]),
    ("R0-p(R1,CPE1)-Wo1", ["R0", "R1", "CPE1_0", "CPE1_1", "Wo1_0", "Wo1_1"]),
    ("L0-R0-p(R1-W1,C1)", ["L0", "R0", "R1", "W1", "C1"]),
    (" R0 - p(R1, p(R2,C2), Zarc1) ", ["R0", "R1", "R2", "C2", "Zarc1_0", "Zarc1_1", "Zarc1_2"]),
])
def test_circuits_give_impedance_py_parameter_names(circuit: str, parameters: list[str]) -> None:
    assert circuit_parameters(circuit) == parameters


@pytest.mark.parametrize(("circuit", "message"), [
    ("", "give a circuit"),
    ("R0-p(R1,CPE1", "without its closing"),
    ("R0-p(R1)", "at least two branches"),
    ("R0--R1", "unexpected '-'"),
    ("R0-X1", "unknown element 'X1'"),
    ("R0-R0", "more than once"),
    ("R0-p(R1,C1)-", "ends where an element was expected"),
    ("R0;import os", "unexpected"),
    ("R-C1", "unexpected"),
])
def test_bad_circuits_are_refused_saying_what_is_wrong(circuit: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        circuit_elements(circuit)


def test_the_impedance_section_round_trips_through_yaml() -> None:
    raw = {**BASE, "impedance": {"circuit": "R0-p(R1,CPE1)-Wo1",
                                 "resistances": {"interfacial_resistance_ohm": "R1", "bulk_resistance_ohm": "R0"}}}
    config = CampaignConfig.from_dict(raw)
    assert config.impedance is not None
    assert config.impedance.resistances == {"interfacial_resistance_ohm": "R1", "bulk_resistance_ohm": "R0"}
    assert CampaignConfig.from_yaml(config.to_yaml()) == config
    assert config.to_dict() == raw
    assert CampaignConfig.from_dict(BASE).impedance is None


@pytest.mark.parametrize(("impedance", "message"), [
    ({"circuit": "R0-p(R1,CPE1"}, r"impedance.circuit: a p\( without its closing"),
    ({"circuit": "R0-Q1"}, "impedance.circuit: unknown element 'Q1'"),
    ({"circuit": 5}, "impedance.circuit: give a circuit"),
    ({"circuit": "R0-p(R1,C1)", "resistances": {"capacity_mah": "R1"}},
     "impedance.resistances: 'capacity_mah' is not an outcome"),
    ({"circuit": "R0-p(R1,C1)", "resistances": {"bulk_resistance_ohm": "R2"}},
     r"impedance.resistances.bulk_resistance_ohm: 'R2' is not a parameter of the circuit; its parameters: \['R0'"),
    ({"circuit": "R0-p(R1,C1)", "resistances": ["R0"]}, "impedance.resistances: must be a mapping"),
    ({"circuit": "R0", "fit": "lm"}, "impedance: unknown keys"),
    ("R0-p(R1,C1)", "impedance: must be a mapping"),
])
def test_bad_impedance_sections_are_refused_naming_the_field(impedance: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CampaignConfig.from_dict({**BASE, "impedance": impedance})
