"""Equivalent circuits in impedance.py's notation, checked without importing impedance.py.

A circuit is elements in series joined by ``-`` and parallel groups ``p(a,b,...)``, each element
a type and a number: ``R0-p(R1,CPE1)-p(R2,CPE2)-Wo1``. An element of one parameter has the
element's name as its parameter name (``R0``); one of several has ``_0``, ``_1``, ... (``CPE1_0``
is the CPE coefficient, ``CPE1_1`` its exponent), as impedance.py names them.

The campaign configuration's ``impedance`` section names a circuit and which of its parameters
are the resistances recorded as outcomes; :class:`ImpedanceSettings` holds it, validated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from doe.errors import ConfigError, shorten, shorten_text

ELEMENT_PARAMETERS: dict[str, int] = {"R": 1, "C": 1, "L": 1, "W": 1, "Wo": 2, "Ws": 2, "CPE": 2, "La": 2, "G": 2,
                                      "Gs": 3, "K": 2, "Zarc": 3, "TLMQ": 3, "T": 4}
"""impedance.py's circuit elements and how many parameters each has."""
MAX_CIRCUIT_CHARS = 200
_TOKEN = re.compile(r"\s*(p\(|[A-Za-z]+[0-9]+|[-,()])")
_ELEMENT = re.compile(r"([A-Za-z]+)([0-9]+)")


def circuit_elements(circuit: str) -> list[str]:
    """The elements of ``circuit`` in order (``["R0", "R1", "CPE1", ...]``).

    Raises:
        ValueError: the text is not a circuit in impedance.py's notation, an element type is
            unknown, or an element appears twice; the message says where.
    """
    if not isinstance(circuit, str) or not circuit.strip():
        raise ValueError(f"give a circuit in impedance.py notation, e.g. 'R0-p(R1,CPE1)-Wo1', got {shorten(circuit)}")
    if len(circuit) > MAX_CIRCUIT_CHARS:
        raise ValueError(f"at most {MAX_CIRCUIT_CHARS} characters")
    tokens: list[str] = []
    position = 0
    text = circuit.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"unexpected {shorten(text[position:position + 10])} at character {position + 1} "
                             f"of {shorten(text)}; write elements such as R0, CPE1, Wo1 joined by '-' and p(a,b)")
        tokens.append(match.group(1))
        position = match.end()
    elements: list[str] = []
    end = _series(tokens, 0, elements, text)
    if end != len(tokens):
        raise ValueError(f"unexpected {tokens[end]!r} in {shorten(text)}")
    for element in elements:
        kind = _ELEMENT.fullmatch(element)
        if kind is None or kind.group(1) not in ELEMENT_PARAMETERS:
            raise ValueError(f"unknown element {shorten(element)} in {shorten(text)}; element types: "
                             f"{', '.join(ELEMENT_PARAMETERS)}")
    repeated = sorted({e for e in elements if elements.count(e) > 1})
    if repeated:
        raise ValueError(f"element(s) {repeated} appear more than once in {shorten(text)}; number them apart")
    return elements


def _series(tokens: list[str], i: int, elements: list[str], text: str) -> int:
    i = _term(tokens, i, elements, text)
    while i < len(tokens) and tokens[i] == "-":
        i = _term(tokens, i + 1, elements, text)
    return i


def _term(tokens: list[str], i: int, elements: list[str], text: str) -> int:
    if i >= len(tokens):
        raise ValueError(f"{shorten(text)} ends where an element was expected")
    token = tokens[i]
    if token == "p(":
        i = _series(tokens, i + 1, elements, text)
        branches = 1
        while i < len(tokens) and tokens[i] == ",":
            i = _series(tokens, i + 1, elements, text)
            branches += 1
        if i >= len(tokens) or tokens[i] != ")":
            raise ValueError(f"a p( without its closing ')' in {shorten(text)}")
        if branches < 2:
            raise ValueError(f"p(...) needs at least two branches separated by ',' in {shorten(text)}")
        return i + 1
    if token in "-,()":
        raise ValueError(f"unexpected {token!r} in {shorten(text)}")
    elements.append(token)
    return i + 1


def element_type(element: str) -> str:
    """``"CPE1"`` -> ``"CPE"``."""
    match = _ELEMENT.fullmatch(element)
    if match is None:
        raise ValueError(f"not an element: {shorten(element)}")
    return match.group(1)


def circuit_parameters(circuit: str) -> list[str]:
    """The parameter names of ``circuit`` in impedance.py's order (``R0``, ``CPE1_0``, ``CPE1_1``, ...)."""
    names = []
    for element in circuit_elements(circuit):
        count = ELEMENT_PARAMETERS[element_type(element)]
        names += [element] if count == 1 else [f"{element}_{k}" for k in range(count)]
    return names


class ImpedanceSettings(BaseModel):
    """The campaign's equivalent circuit and the resistances it records (outcome -> parameter)."""

    model_config = ConfigDict(frozen=True)

    circuit: str
    resistances: dict[str, str]

    @classmethod
    def from_dict(cls, data: Any, outcome_names: list[str]) -> ImpedanceSettings:
        """Validate the ``impedance`` section; a :class:`ConfigError` lists every problem."""
        problems = impedance_problems(data, outcome_names)
        if problems:
            raise ConfigError("\n".join(problems))
        return cls(circuit=data["circuit"].strip(), resistances=dict(data.get("resistances") or {}))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"circuit": self.circuit}
        if self.resistances:
            data["resistances"] = dict(self.resistances)
        return data


def impedance_problems(data: Any, outcome_names: list[str]) -> list[str]:
    """Every problem of an ``impedance`` section (empty when it is valid), each naming its field."""
    if not isinstance(data, Mapping):
        return [f"impedance: must be a mapping with 'circuit' and 'resistances', got {shorten(data)}"]
    problems = []
    unknown = sorted(str(k) for k in data if k not in ("circuit", "resistances"))
    if unknown:
        problems.append(f"impedance: unknown keys {shorten(unknown)}; allowed: ['circuit', 'resistances']")
    parameters: list[str] = []
    try:
        parameters = circuit_parameters(data.get("circuit"))  # type: ignore[arg-type]
    except ValueError as err:
        problems.append(f"impedance.circuit: {err}")
    resistances = data.get("resistances") or {}
    if not isinstance(resistances, Mapping):
        problems.append("impedance.resistances: must be a mapping of outcome name -> circuit parameter, "
                        f"e.g. {{interfacial_resistance_ohm: R2}}, got {shorten(resistances)}")
        return problems
    for outcome, parameter in resistances.items():
        if outcome not in outcome_names:
            problems.append(f"impedance.resistances: {shorten(outcome)} is not an outcome of this campaign; "
                            f"outcomes: {shorten(outcome_names)}")
        if not isinstance(parameter, str) or (parameters and parameter not in parameters):
            problems.append(f"impedance.resistances.{shorten_text(str(outcome), 70)}: {shorten(parameter)} is not a parameter "
                            f"of the circuit" + (f"; its parameters: {parameters}" if parameters else ""))
    return problems


__all__ = ["ELEMENT_PARAMETERS", "ImpedanceSettings", "circuit_elements", "circuit_parameters", "element_type",
           "impedance_problems"]
