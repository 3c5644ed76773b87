"""Objectives (outcomes to maximise or minimise) and outcomes that are only measured."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, StrictFloat, StrictStr, field_validator, model_validator

from doe.domain.parameters import check_name

Goal = Literal["maximize", "minimize"]


class Outcome(BaseModel):
    """A measured quantity that is recorded but not optimised (e.g. coating thickness)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    unit: StrictStr | None = None
    description: StrictStr | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_name(v, "outcome")

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True)


class Objective(BaseModel):
    """An outcome to optimise.

    ``threshold`` is the worst acceptable value: it is the reference point for hypervolume
    and, for a single objective, an outcome constraint. ``weight`` scales the objective in
    reports and scalarised comparisons (``best()`` with several objectives).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    goal: Goal
    threshold: StrictFloat | None = None
    weight: StrictFloat | None = None
    unit: StrictStr | None = None
    description: StrictStr | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_name(v, "objective")

    @model_validator(mode="after")
    def _check(self) -> Objective:
        if self.threshold is not None and not math.isfinite(self.threshold):
            raise ValueError(f"objective {self.name!r}: threshold must be a finite number")
        if self.weight is not None and not (math.isfinite(self.weight) and self.weight > 0):
            raise ValueError(f"objective {self.name!r}: weight must be a positive number, got {self.weight}")
        return self

    @property
    def sign(self) -> float:
        """+1 for maximise, -1 for minimise: multiply to get a 'larger is better' value."""
        return 1.0 if self.goal == "maximize" else -1.0

    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["goal"] = self.goal
        return data
