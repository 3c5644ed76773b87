"""Constraints: linear inequalities over continuous parameters, and limits on outcomes.

Both can be written as text, the way an engineer writes them::

    "hfo2_loading_wt_pct + 0.004 * anneal_temperature_c <= 4.5"   # linear, parameters
    "coating_thickness_nm <= 15"                                 # outcome constraint

or as mappings::

    {"type": "linear", "coefficients": {"hfo2_loading_wt_pct": 1, "anneal_temperature_c": 0.004},
     "operator": "<=", "rhs": 4.5}
    {"type": "outcome", "outcome": "coating_thickness_nm", "operator": "<=", "bound": 15}

Which kind a text is depends on its names: outcome names make an outcome constraint.
A constraint keeps the form it was written in, so configurations round-trip exactly.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, StrictBool, StrictFloat, StrictStr, model_validator

Operator = Literal["<=", ">="]
_TERM = re.compile(
    r"\s*(?P<sign>[+-])?\s*(?:(?P<coef>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)\s*\*?\s*)?"
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*"
)
_NUMBER = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*")


def _number(value: float) -> str:
    """``value`` as the shortest text that reads back as the same float (``2``, ``1234567``,
    ``0.0012345678``, ``1e-12``): a constraint written as text is stored as its text."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


class LinearConstraint(BaseModel):
    """``sum(coefficients[p] * p) <operator> rhs`` over continuous parameters (engineer units)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["linear"] = "linear"
    coefficients: dict[str, StrictFloat]  # strict, as every number of a configuration: "5" or true is refused
    operator: Operator
    rhs: StrictFloat
    written_as_text: StrictBool = False

    @model_validator(mode="after")
    def _check(self) -> LinearConstraint:
        if not self.coefficients:
            raise ValueError("a linear constraint needs at least one parameter")
        if any(not math.isfinite(c) for c in self.coefficients.values()) or not math.isfinite(self.rhs):
            raise ValueError("linear constraint coefficients and right-hand side must be finite")
        if all(c == 0 for c in self.coefficients.values()):
            raise ValueError("a linear constraint needs a non-zero coefficient")
        return self

    def text(self) -> str:
        parts: list[str] = []
        for i, (name, coef) in enumerate(self.coefficients.items()):
            sign = "-" if coef < 0 else "+"
            mag = abs(coef)
            term = name if mag == 1 else f"{_number(mag)} * {name}"
            parts.append(("-" + term if sign == "-" else term) if i == 0 else f" {sign} {term}")
        return f"{''.join(parts)} {self.operator} {_number(self.rhs)}"

    def to_dict(self) -> dict[str, Any] | str:
        if self.written_as_text:
            return self.text()
        return {"type": "linear", "coefficients": dict(self.coefficients), "operator": self.operator, "rhs": self.rhs}

    def as_less_equal(self) -> tuple[dict[str, float], float]:
        """The same constraint as ``sum(a * p) <= b``."""
        if self.operator == "<=":
            return dict(self.coefficients), self.rhs
        return {k: -v for k, v in self.coefficients.items()}, -self.rhs

    def satisfied(self, values: dict[str, float], tol: float = 1e-6) -> bool:
        coefs, rhs = self.as_less_equal()
        lhs = sum(c * float(values[k]) for k, c in coefs.items())
        return lhs <= rhs + tol * max(1.0, abs(rhs))


class OutcomeConstraint(BaseModel):
    """A limit on a measured outcome, e.g. ``coating_thickness_nm <= 15``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["outcome"] = "outcome"
    outcome: StrictStr
    operator: Operator
    bound: StrictFloat
    written_as_text: StrictBool = False

    @model_validator(mode="after")
    def _check(self) -> OutcomeConstraint:
        if not math.isfinite(self.bound):
            raise ValueError(f"outcome constraint on {self.outcome!r}: bound must be finite")
        return self

    def text(self) -> str:
        return f"{self.outcome} {self.operator} {_number(self.bound)}"

    def to_dict(self) -> dict[str, Any] | str:
        if self.written_as_text:
            return self.text()
        return {"type": "outcome", "outcome": self.outcome, "operator": self.operator, "bound": self.bound}

    def satisfied(self, value: float) -> bool:
        return value <= self.bound if self.operator == "<=" else value >= self.bound


Constraint = LinearConstraint | OutcomeConstraint


def parse_constraint(raw: Any, outcome_names: set[str]) -> Constraint:
    """Build a constraint from its text or mapping form; raises ``ValueError`` with the reason."""
    if isinstance(raw, LinearConstraint | OutcomeConstraint):
        return raw
    if isinstance(raw, dict):
        kind = raw.get("type")
        if kind == "linear":
            return LinearConstraint(**raw)
        if kind == "outcome":
            return OutcomeConstraint(**raw)
        raise ValueError(f"constraint {raw!r}: 'type' must be 'linear' or 'outcome'")
    if not isinstance(raw, str):
        raise ValueError(f"constraint {raw!r}: write it as text such as 'x + 2 * y <= 3' or as a mapping")
    match = re.fullmatch(r"\s*(.+?)\s*(<=|>=)\s*(.+?)\s*", raw)
    if not match or not _NUMBER.fullmatch(match.group(3)):
        raise ValueError(
            f"constraint {raw!r} is not understood: write 'expression <= number' or "
            "'expression >= number', e.g. 'coating_thickness_nm <= 15'"
        )
    lhs, op, rhs = match.group(1), match.group(2), float(match.group(3))
    coefficients: dict[str, float] = {}
    pos = 0
    while pos < len(lhs):
        term = _TERM.match(lhs, pos)
        if not term or term.end() == pos:
            raise ValueError(f"constraint {raw!r}: cannot read {lhs[pos:]!r}; terms look like '0.5 * name'")
        if pos > 0 and term.group("sign") is None:
            raise ValueError(f"constraint {raw!r}: terms must be joined by + or -")
        coef = float(term.group("coef")) if term.group("coef") else 1.0
        if term.group("sign") == "-":
            coef = -coef
        name = term.group("name")
        coefficients[name] = coefficients.get(name, 0.0) + coef
        pos = term.end()
    names = set(coefficients)
    if names & outcome_names:
        if len(coefficients) != 1 or next(iter(coefficients.values())) != 1.0:
            raise ValueError(
                f"constraint {raw!r}: an outcome constraint limits one outcome, e.g. 'coating_thickness_nm <= 15'"
            )
        return OutcomeConstraint(outcome=next(iter(names)), operator=op, bound=rhs, written_as_text=True)  # type: ignore[arg-type]
    return LinearConstraint(coefficients=coefficients, operator=op, rhs=rhs, written_as_text=True)  # type: ignore[arg-type]
