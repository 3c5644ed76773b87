"""Process parameters: continuous, discrete numeric and categorical.

Each parameter is a frozen value object. Its ``to_dict()`` gives exactly the contract
form (``{"name", "type", "bounds" | "values", "unit"?, ...}``), omitting unset options,
so a configuration round-trips exactly.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
RESERVED_NAMES = frozenset(
    {"experiment_id", "status", "failed", "failure_reason", "batch_id", "note", "recorded_by",
     "proposed_by", "proposed_at", "config_version", "seed"}
)


def check_name(name: str, what: str) -> str:
    """Names are identifiers so that they can be columns, YAML keys and SQL values safely."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ValueError(
            f"{what} name {name!r} is not allowed: use letters, digits and underscores, "
            "starting with a letter (at most 64 characters), e.g. 'anneal_temperature_c'"
        )
    if name in RESERVED_NAMES:
        raise ValueError(f"{what} name {name!r} is reserved by doe; choose another name")
    return name


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["type"] = self.type  # type: ignore[attr-defined]
        return data


class ContinuousParameter(_Frozen):
    """A real-valued parameter between ``bounds`` (inclusive), optionally on a log scale."""

    name: str
    type: Literal["continuous"] = "continuous"
    bounds: tuple[float, float]
    unit: str | None = None
    log_scale: bool = False
    description: str | None = None
    reference: float | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_name(v, "parameter")

    @model_validator(mode="after")
    def _check(self) -> ContinuousParameter:
        lo, hi = self.bounds
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"parameter {self.name!r}: bounds must be finite numbers, got {list(self.bounds)}")
        if not lo < hi:
            raise ValueError(
                f"parameter {self.name!r}: lower bound {lo:g} must be below upper bound {hi:g}"
            )
        if self.log_scale and lo <= 0:
            raise ValueError(
                f"parameter {self.name!r}: log_scale needs a positive lower bound, got {lo:g}"
            )
        if self.reference is not None and not lo <= self.reference <= hi:
            raise ValueError(f"parameter {self.name!r}: reference {self.reference:g} is outside {list(self.bounds)}")
        return self

    @property
    def lower(self) -> float:
        return float(self.bounds[0])

    @property
    def upper(self) -> float:
        return float(self.bounds[1])

    def describe_allowed(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"a number from {self.lower:g} to {self.upper:g}{unit}"


class DiscreteParameter(_Frozen):
    """A numeric parameter that takes only the listed ``values`` (e.g. bath 40, 50, ... 80 C)."""

    name: str
    type: Literal["discrete"] = "discrete"
    values: tuple[float, ...]
    unit: str | None = None
    description: str | None = None
    reference: float | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_name(v, "parameter")

    @model_validator(mode="after")
    def _check(self) -> DiscreteParameter:
        if len(self.values) < 2:
            raise ValueError(f"parameter {self.name!r}: a discrete parameter needs at least 2 values")
        if any(not math.isfinite(v) for v in self.values):
            raise ValueError(f"parameter {self.name!r}: values must be finite numbers")
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"parameter {self.name!r}: values must not repeat, got {list(self.values)}")
        if list(self.values) != sorted(self.values):
            raise ValueError(f"parameter {self.name!r}: list values in increasing order, got {list(self.values)}")
        if self.reference is not None and self.reference not in self.values:
            raise ValueError(f"parameter {self.name!r}: reference {self.reference:g} is not one of the values")
        return self

    @property
    def lower(self) -> float:
        return float(self.values[0])

    @property
    def upper(self) -> float:
        return float(self.values[-1])

    def describe_allowed(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return "one of " + ", ".join(f"{v:g}" for v in self.values) + unit


class CategoricalParameter(_Frozen):
    """A parameter with named, unordered ``values`` (labels such as 'O2', 'air', 'Ar')."""

    name: str
    type: Literal["categorical"] = "categorical"
    values: tuple[str, ...]
    unit: str | None = None
    description: str | None = None
    reference: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_name(v, "parameter")

    @field_validator("values", mode="before")
    @classmethod
    def _labels(cls, v: Any) -> Any:
        if isinstance(v, list | tuple):
            for label in v:
                if not isinstance(label, str) or not label.strip():
                    raise ValueError(f"category labels must be non-empty text, got {label!r}")
        return v

    @model_validator(mode="after")
    def _check(self) -> CategoricalParameter:
        if len(self.values) < 2:
            raise ValueError(f"parameter {self.name!r}: a categorical parameter needs at least 2 labels")
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"parameter {self.name!r}: labels must not repeat, got {list(self.values)}")
        if self.reference is not None and self.reference not in self.values:
            raise ValueError(f"parameter {self.name!r}: reference {self.reference!r} is not one of the labels")
        return self

    def describe_allowed(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


Parameter = Annotated[
    ContinuousParameter | DiscreteParameter | CategoricalParameter, Field(discriminator="type")
]
NumericParameter = ContinuousParameter | DiscreteParameter
