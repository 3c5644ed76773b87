"""Objectives (outcomes to maximise, minimise or bring to a set point), outcomes that are only
measured, and the weighted desirability that turns several objectives into one number.

Every objective has a *score*, a "larger is better" view of its measured value: ``value`` to
maximise, ``-value`` to minimise and ``-|value - target|`` for a set point (in the outcome's
own unit, so a hypervolume or a desirability span stays in lab units). Ranking, the Pareto
front and the acquisition all work on scores; a set-point objective is modelled on its raw
value and only the score is taken of the model's samples (see :mod:`doe.engine.acquisition`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from doe.domain.parameters import check_name

Goal = Literal["maximize", "minimize", "target"]
Over = Literal["cycle"]
"""What a curve outcome is measured over: ``cycle`` (one value per charge-discharge cycle)."""
MAX_CYCLE = 1_000_000
"""Largest cycle number taken (a cell cycled once an hour for a century stays below it)."""
ObjectiveMode = Literal["pareto", "weighted"]
"""How several objectives are searched: ``pareto`` (hypervolume of the Pareto front) or
``weighted`` (one weighted desirability, :class:`Desirability`)."""


def check_curve(name: str, over: str | None, at: int | None) -> None:
    """``over`` and ``at`` come together: ``over: cycle`` and ``at`` a whole number >= 1."""
    if over is None and at is not None:
        raise ValueError(f"outcome {name!r}: 'at' ({at}) needs 'over: cycle' (the value that matters at cycle {at})")
    if over is not None and at is None:
        raise ValueError(f"outcome {name!r}: 'over: {over}' needs 'at', the cycle whose value matters (e.g. at: 200)")
    if at is not None and not 1 <= at <= MAX_CYCLE:
        raise ValueError(f"outcome {name!r}: 'at' must be a whole number from 1 to {MAX_CYCLE}, got {at}")


ValidRange = tuple[StrictFloat | StrictInt | None, StrictFloat | StrictInt | None]
"""``[lowest, highest]`` value an outcome can take (either end ``null``: open)."""


def check_valid_range(name: str, valid_range: ValidRange | None) -> None:
    """A ``valid_range`` has finite ends (or ``null``), the lower below the upper."""
    if valid_range is None:
        return
    low, high = valid_range
    if any(end is not None and not math.isfinite(end) for end in valid_range):
        raise ValueError(f"outcome {name!r}: valid_range must hold finite numbers or null, got {list(valid_range)}")
    if low is not None and high is not None and not low < high:
        raise ValueError(f"outcome {name!r}: valid_range's lower end must be below its upper end, "
                         f"got {list(valid_range)}")


def valid_range_text(valid_range: ValidRange) -> str:
    """``valid_range`` in words: 'from 0 to 100', 'at least 0', 'at most 15'."""
    low, high = valid_range
    if low is not None and high is not None:
        return f"from {low:g} to {high:g}"
    return f"at least {low:g}" if low is not None else f"at most {high:g}"


class Outcome(BaseModel):
    """A measured quantity that is recorded but not optimised (e.g. coating thickness)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    unit: StrictStr | None = None
    description: StrictStr | None = None
    over: Over | None = None
    """``cycle`` for a curve outcome: measured cycle by cycle (see :mod:`doe.domain.curves`)."""
    at: StrictInt | None = None
    """The cycle whose value matters (e.g. 200) of a curve outcome."""
    valid_range: ValidRange | None = None
    """The values the outcome can take (e.g. ``[0, 100]`` for a CE in %): a value recorded
    outside is refused, naming its cell (a slipped decimal point: 850 for 85.0)."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_name(v, "outcome")

    @model_validator(mode="after")
    def _curve(self) -> Outcome:
        check_curve(self.name, self.over, self.at)
        check_valid_range(self.name, self.valid_range)
        return self

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True)


class Objective(BaseModel):
    """An outcome to optimise.

    ``goal`` is ``maximize``, ``minimize`` or ``target``; a ``target`` goal needs ``target``
    (the set point, e.g. a coating thickness of 10 nm) and ranks values by their distance
    to it. ``threshold`` is the worst acceptable value of a maximised or minimised objective;
    ``tolerance`` is the largest acceptable distance from a set point. Either one is the
    reference point for hypervolume and, for a single objective, an outcome constraint.
    ``weight`` (default 1) weighs the objective in ``best()`` with several objectives and in
    the ``weighted`` objective mode.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    goal: Goal
    target: StrictFloat | None = None
    tolerance: StrictFloat | None = None
    threshold: StrictFloat | None = None
    weight: StrictFloat | None = None
    unit: StrictStr | None = None
    description: StrictStr | None = None
    over: Over | None = None
    """``cycle`` for a curve outcome: measured cycle by cycle (see :mod:`doe.domain.curves`)."""
    at: StrictInt | None = None
    """The cycle whose value matters (e.g. 200) of a curve outcome."""
    valid_range: ValidRange | None = None
    """The values the objective can take, as :attr:`Outcome.valid_range`."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_name(v, "objective")

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> Objective:
        check_curve(self.name, self.over, self.at)
        check_valid_range(self.name, self.valid_range)
        if self.valid_range is not None and not (info.context or {}).get("stored", False):  # stored: keeps loading
            low, high = self.valid_range
            for key in ("target", "threshold"):
                value = getattr(self, key)
                if value is not None and ((low is not None and value < low) or (high is not None and value > high)):
                    raise ValueError(f"objective {self.name!r}: {key} {value:g} lies outside the values it can take "
                                     f"({valid_range_text(self.valid_range)}: its valid_range), so no result could "
                                     "meet it; check its unit")
        if self.threshold is not None and not math.isfinite(self.threshold):
            raise ValueError(f"objective {self.name!r}: threshold must be a finite number")
        if self.weight is not None and not (math.isfinite(self.weight) and self.weight > 0):
            raise ValueError(f"objective {self.name!r}: weight must be a positive number, got {self.weight}")
        if self.goal == "target":
            if self.target is None:
                raise ValueError(f"objective {self.name!r}: goal 'target' needs a 'target' value (the set point)")
            if not math.isfinite(self.target):
                raise ValueError(f"objective {self.name!r}: target must be a finite number, got {self.target}")
            if self.threshold is not None:
                raise ValueError(
                    f"objective {self.name!r}: a set-point objective takes 'tolerance' (largest acceptable "
                    "distance from the target), not 'threshold'"
                )
            if self.tolerance is not None and not (math.isfinite(self.tolerance) and self.tolerance > 0):
                raise ValueError(f"objective {self.name!r}: tolerance must be a positive number, got {self.tolerance}")
        else:
            for key in ("target", "tolerance"):
                if getattr(self, key) is not None:
                    raise ValueError(
                        f"objective {self.name!r}: {key!r} applies only to goal 'target' (a set point); "
                        f"remove it or set goal: target"
                    )
        return self

    @property
    def sign(self) -> float:
        """+1 for maximise, -1 for minimise: multiply to get a 'larger is better' value.

        A set-point objective has no sign; use :meth:`score`.
        """
        if self.goal == "target":
            raise ValueError(f"objective {self.name!r} has a set point, not a direction; use score()")
        return 1.0 if self.goal == "maximize" else -1.0

    def score(self, values: Any) -> np.ndarray:
        """The 'larger is better' score of measured ``values`` (array-like, any shape)."""
        y = np.asarray(values, dtype=float)
        if self.goal == "target":
            assert self.target is not None
            return -np.abs(y - self.target)
        return self.sign * y

    @property
    def worst_score(self) -> float | None:
        """The score of the worst acceptable value (threshold or tolerance), if one is set."""
        if self.goal == "target":
            return None if self.tolerance is None else -float(self.tolerance)
        return None if self.threshold is None else self.sign * float(self.threshold)

    @property
    def acceptable_range(self) -> tuple[float | None, float | None]:
        """``(lower, upper)`` bounds that values must meet to be acceptable (None: open)."""
        if self.goal == "target":
            if self.tolerance is None:
                return None, None
            assert self.target is not None
            return self.target - self.tolerance, self.target + self.tolerance
        if self.threshold is None:
            return None, None
        return (self.threshold, None) if self.goal == "maximize" else (None, self.threshold)

    def goal_text(self) -> str:
        """``maximize``, ``minimize`` or ``target 10`` for labels."""
        return f"target {self.target:g}" if self.goal == "target" else self.goal

    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["goal"] = self.goal
        return data


@dataclass(frozen=True)
class Desirability:
    """A weighted desirability: several objectives as one number in [0, 1] (more is better).

    Each objective's score ``s`` maps linearly to ``d = (s - worst) / (best - worst)``,
    clipped at 0 below ``worst`` and, for maximised and minimised objectives, left open above
    1 so that beating the best measured value still counts. ``worst`` is the threshold (or a
    set point's tolerance) where given, else the worst measured score; ``best`` is the best
    measured score (a set point's: 0, on target). The combination is the weighted
    *arithmetic* mean ``sum w_i d_i / sum w_i``: it is the trade-off an engineer states with
    weights ("2 nm of thickness error costs as much as 1 % of efficiency"), and unlike the
    geometric mean of Derringer and Suich it keeps a slope for the acquisition where one
    objective sits at its worst (d = 0 would zero a product and flatten the search).

    Attributes:
        weights, worst, best: one per objective, in :attr:`objectives` order.
    """

    objectives: tuple[Objective, ...]
    worst: tuple[float, ...]
    best: tuple[float, ...]

    @property
    def weights(self) -> tuple[float, ...]:
        """The objectives' weights relative to the largest (only their ratios count; any
        finite weights then sum without overflow)."""
        given = [o.weight or 1.0 for o in self.objectives]
        top = max(given)
        return tuple(w / top for w in given)

    @classmethod
    def from_measured(cls, objectives: Sequence[Objective], measured: Sequence[Any]) -> Desirability:
        """Anchors from each objective's measured values (``measured[i]``, 1-D, NaN ignored)."""
        worst, best = [], []
        for o, values in zip(objectives, measured, strict=True):
            scores = o.score(values)
            scores = scores[np.isfinite(scores)]
            top = 0.0 if o.goal == "target" else (float(scores.max()) if scores.size else 1.0)
            low = o.worst_score
            if low is None:
                low = float(scores.min()) if scores.size else top - 1.0
            if top - low <= 0 and o.goal == "target":  # every value on target: 0 stays the best
                low = top - (abs(o.target or 0.0) * 0.1 or 1.0)
            elif top - low <= 0:  # every value equal, or none better than the threshold yet
                top = low + (abs(low) * 0.1 or 1.0)
            worst.append(low)
            best.append(top)
        return cls(tuple(objectives), tuple(worst), tuple(best))

    def scale(self, i: int) -> tuple[float, float]:
        """``(offset, span)`` of objective ``i``: ``d = max(0, (score - offset) / span)``."""
        return self.worst[i], self.best[i] - self.worst[i]

    def value(self, measured: Sequence[Any], *, clipped: bool = True) -> np.ndarray:
        """Weighted desirability of rows: ``measured[i]`` holds objective ``i``'s values.
        ``clipped=False``: each ``d`` not clipped at 0 (below the worst anchor it goes on
        falling), which orders rows the clipped value ties (every objective below its threshold)."""
        total: Any = 0.0
        for i, (o, values) in enumerate(zip(self.objectives, measured, strict=True)):
            offset, span = self.scale(i)
            d = (o.score(values) - offset) / span
            total = total + self.weights[i] * (np.maximum(0.0, d) if clipped else d)
        return np.asarray(total, dtype=float) / sum(self.weights)
