"""Process parameters: continuous, discrete numeric and categorical.

Each parameter is a frozen value object. Its ``to_dict()`` gives exactly the contract
form (``{"name", "type", "bounds" | "values", "unit"?, ...}``), omitting unset options,
so a configuration round-trips exactly.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from doe.domain.values import (
    ABS_TOL,
    REL_TOL,
    composed,
    is_plain_label,
    refused_character,
    same_value,
)
from doe.errors import shorten, shorten_text

NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")  # use fullmatch
RESERVED_NAMES = frozenset(
    {"experiment_id", "status", "failed", "failure_reason", "batch_id", "note", "recorded_by",
     "proposed_by", "proposed_at", "config_version", "seed"}
)


def check_name(name: str, what: str) -> str:
    """Names are identifiers so that they can be columns, YAML keys and SQL values safely."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"{what} name {shorten(name)} is not allowed: use letters, digits and underscores, "
            "starting with a letter (at most 64 characters), e.g. 'anneal_temperature_c'"
        )
    if name in RESERVED_NAMES:
        raise ValueError(f"{what} name {shorten(name)} is reserved by doe; choose another name")
    return name


class _Parameter(BaseModel):
    """What every parameter shares: a checked name, the contract form, the unit suffix."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str  # first, as in the contract form; each subclass declares its other fields in order
    if TYPE_CHECKING:
        type: str
        unit: str | None
        reference: Any

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_name(v, "parameter")

    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["type"] = self.type
        return data

    def _unit_suffix(self) -> str:
        return f" {self.unit}" if self.unit else ""

    # the checks a discrete and a categorical parameter share, on its listed ``values``
    def _at_least_two(self, values: tuple[Any, ...], what: str) -> None:
        if len(values) < 2:
            raise ValueError(f"parameter {self.name!r}: a {self.type} parameter needs at least 2 {what}")

    def _no_repeats(self, values: tuple[Any, ...], what: str) -> None:
        if len(set(values)) != len(values):
            raise ValueError(f"parameter {self.name!r}: {what} must not repeat, got {shorten(list(values))}")

    def _reference_among(self, values: tuple[Any, ...], what: str, shown: str) -> None:
        if self.reference is not None and self.reference not in values:
            raise ValueError(f"parameter {self.name!r}: reference {shown} is not one of the {what}")


MAX_DECIMALS = 12
"""The most decimal places a resolution may need (a finer one is refused)."""


def resolution_decimals(resolution: float) -> int:
    """Decimal places needed to write multiples of ``resolution`` (5 -> 0, 0.01 -> 2, 2.5 -> 1)."""
    tolerance = min(1e-12 * max(1.0, abs(resolution)), 1e-6 * abs(resolution))  # relative for tiny steps
    for decimals in range(0, MAX_DECIMALS + 1):
        if abs(round(resolution, decimals) - resolution) <= tolerance:
            return decimals
    return MAX_DECIMALS


class ContinuousParameter(_Parameter):
    """A real-valued parameter between ``bounds`` (inclusive), optionally on a log scale.

    With ``resolution`` (the lab's step: 5 for a furnace in C, 0.01 for a balance in wt%),
    proposals are whole multiples of it inside the bounds (see :meth:`grid_range`).
    """

    type: Literal["continuous"] = "continuous"
    bounds: tuple[StrictFloat, StrictFloat]
    unit: StrictStr | None = None
    log_scale: StrictBool = False
    resolution: StrictFloat | None = None
    description: StrictStr | None = None
    reference: StrictFloat | None = None

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> ContinuousParameter:
        lo, hi = self.bounds
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"parameter {self.name!r}: bounds must be finite numbers, got {shorten(list(self.bounds))}")
        if not lo < hi:
            raise ValueError(
                f"parameter {self.name!r}: lower bound {lo:g} must be below upper bound {hi:g}"
            )
        if not (info.context or {}).get("stored", False):  # stored: the check came later; keeps loading
            _check_width(self.name, "bounds", lo, hi)
        if self.log_scale and lo <= 0:
            raise ValueError(
                f"parameter {self.name!r}: log_scale needs a positive lower bound, got {lo:g}"
            )
        if self.reference is not None and not lo <= self.reference <= hi:
            raise ValueError(f"parameter {self.name!r}: reference {self.reference:g} is outside {shorten(list(self.bounds))}")
        if self.resolution is not None:
            r = self.resolution
            if not math.isfinite(r) or r <= 0:
                raise ValueError(f"parameter {self.name!r}: resolution must be a positive number, got {r!r}")
            if abs(round(r, MAX_DECIMALS) - r) > 1e-6 * r:
                raise ValueError(f"parameter {self.name!r}: resolution {r!r} is finer than {MAX_DECIMALS} decimal "
                                 "places; give the parameter in a smaller unit")
            if r > hi - lo:
                raise ValueError(
                    f"parameter {self.name!r}: resolution {r:g} is larger than the range {lo:g} to {hi:g}"
                )
            if not any(lo <= v <= hi for v in self.grid_values(limit=1)):
                raise ValueError(
                    f"parameter {self.name!r}: no multiple of the resolution {r:g} lies between {lo:g} and {hi:g}"
                )
        return self

    @property
    def lower(self) -> float:
        return float(self.bounds[0])

    @property
    def grid_decimals(self) -> int:
        """Decimal places of the resolution (5 -> 0, 0.01 -> 2, 0.25 -> 2); 0 without one."""
        return 0 if self.resolution is None else resolution_decimals(self.resolution)

    def grid_range(self) -> tuple[int, int]:
        """The first and last multiple ``k`` of ``resolution`` with ``k * resolution`` in bounds.

        The grid is anchored at 0 (values are whole multiples of the resolution, as a furnace
        set in steps of 5 C reads 405, 410, ...), not at the lower bound; bounds need not be
        on it. For a log-scale parameter the grid is still linear in engineer units: the
        resolution is the instrument's step, the same at both ends of the range.
        """
        assert self.resolution is not None
        r = self.resolution
        tol = 1e-9
        return math.ceil(self.lower / r - tol), math.floor(self.upper / r + tol)

    def grid_value(self, k: int) -> float:
        """``k * resolution`` written exactly at the resolution's decimals (no 0.30000000000000004)."""
        assert self.resolution is not None
        return round(k * self.resolution, self.grid_decimals)

    def on_grid(self, value: float) -> bool:
        """Whether ``value`` is a grid point (:meth:`grid_value`, to a few units in the last
        place, or a millionth of a step); always True without a resolution."""
        if self.resolution is None:
            return True
        k = round(value / self.resolution)
        return any(math.isclose(value, self.grid_value(j), rel_tol=1e-14, abs_tol=1e-6 * self.resolution)
                   for j in (k - 1, k, k + 1))

    def nearest_grid_value(self, value: float) -> float:
        """The grid point inside the bounds nearest ``value`` (needs a resolution)."""
        assert self.resolution is not None
        first, last = self.grid_range()
        return self.grid_value(min(last, max(first, round(value / self.resolution))))

    def grid_values(self, limit: int | None = None) -> list[float]:
        """The grid points inside the bounds (at most ``limit`` of them)."""
        if self.resolution is None:
            return []
        first, last = self.grid_range()
        if limit is not None:
            last = min(last, first + limit - 1)
        return [self.grid_value(k) for k in range(first, last + 1)]

    @property
    def upper(self) -> float:
        return float(self.bounds[1])

    def describe_allowed(self) -> str:
        return f"a number from {self.lower:g} to {self.upper:g}{self._unit_suffix()}"


def _check_width(name: str, field: str, lo: float, hi: float) -> None:
    """A range the encoder can map onto the unit cube: its width ``hi - lo`` a finite number,
    and not so small beside the bounds that they are one value (:data:`REL_TOL`)."""
    width = hi - lo
    if not math.isfinite(width):
        raise ValueError(f"parameter {name!r}: {field} {lo:g} to {hi:g} span more than a number can hold (the width "
                         "is infinite); give the parameter in a larger unit or a narrower range")
    if width <= REL_TOL * max(abs(lo), abs(hi)):
        raise ValueError(f"parameter {name!r}: {field} {lo!r} to {hi!r} are closer than doe tells numbers apart "
                         f"(relative {REL_TOL:g}); give the parameter in a smaller unit or as an offset")


class DiscreteParameter(_Parameter):
    """A numeric parameter that takes only the listed ``values`` (e.g. bath 40, 50, ... 80 C)."""

    type: Literal["discrete"] = "discrete"
    values: tuple[StrictFloat, ...]
    unit: StrictStr | None = None
    description: StrictStr | None = None
    reference: StrictFloat | None = None

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> DiscreteParameter:
        self._at_least_two(self.values, "values")
        if any(not math.isfinite(v) for v in self.values):
            raise ValueError(f"parameter {self.name!r}: values must be finite numbers")
        self._no_repeats(self.values, "values")
        if list(self.values) != sorted(self.values):
            raise ValueError(f"parameter {self.name!r}: list values in increasing order, got {shorten(list(self.values))}")
        if not (info.context or {}).get("stored", False):  # stored: the checks came later; keeps loading
            for a, b in zip(self.values, self.values[1:], strict=False):
                if same_value(a, b):
                    raise ValueError(
                        f"parameter {self.name!r}: values {a!r} and {b!r} are closer than doe tells numbers apart "
                        f"(relative {REL_TOL:g} or absolute {ABS_TOL:g}), so a recorded value could not say which it "
                        "means; drop one, or give the parameter in a smaller unit (pmol, not mol)")
            _check_width(self.name, "values", self.values[0], self.values[-1])
        self._reference_among(self.values, "values", f"{self.reference:g}" if self.reference is not None else "")
        return self

    def matching_value(self, number: float) -> float | None:
        """The listed value that ``number`` is (:func:`~doe.domain.values.same_value`), the nearest
        one where several are that close (a stored campaign's values may be); None if none is."""
        nearest = min(self.values, key=lambda v: abs(v - number))
        return nearest if same_value(nearest, number) else None

    @property
    def lower(self) -> float:
        return float(self.values[0])

    @property
    def upper(self) -> float:
        return float(self.values[-1])

    def describe_allowed(self) -> str:
        return "one of " + ", ".join(f"{v:g}" for v in self.values) + self._unit_suffix()


class CategoricalParameter(_Parameter):
    """A parameter with named, unordered ``values`` (labels such as 'O2', 'air', 'Ar')."""

    type: Literal["categorical"] = "categorical"
    values: tuple[StrictStr, ...]
    unit: StrictStr | None = None
    description: StrictStr | None = None
    reference: StrictStr | None = None

    @field_validator("values", mode="before")
    @classmethod
    def _labels(cls, v: Any, info: ValidationInfo) -> Any:
        if isinstance(v, list | tuple):
            for label in v:
                if isinstance(label, int | float) and not isinstance(label, bool):
                    raise ValueError(f"category labels must be text, got the number {label!r}; put a label that "
                                     f"is a number in quotes ('{label!r}')")
                if not isinstance(label, str) or not label.strip():
                    raise ValueError(f"category labels must be non-empty text, got {shorten(label)}")
            if not (info.context or {}).get("stored", False):  # stored: kept as written, so stored values match
                return tuple(_composed_labels(list(v)))
        return v

    @field_validator("reference", mode="before")
    @classmethod
    def _composed_reference(cls, v: Any, info: ValidationInfo) -> Any:
        stored = (info.context or {}).get("stored", False)
        return composed(v) if isinstance(v, str) and not stored else v

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> CategoricalParameter:
        self._at_least_two(self.values, "labels")
        self._no_repeats(self.values, "labels")
        # A table cell is read without the spaces around it and then matched to the label it
        # is once stripped (doe.domain.table), so two labels may not differ only in such spaces.
        # A stored campaign (context ``stored``) keeps loading: the check came after campaigns
        # could be stored with such labels.
        seen: dict[str, str] = {}
        for label in self.values:
            other = seen.setdefault(label.strip(), label)
            if other != label and not (info.context or {}).get("stored", False):
                raise ValueError(
                    f"parameter {self.name!r}: labels {other!r} and {label!r} differ only in spaces around them, "
                    "which a table cell drops, so a cell could not say which it means; keep one")
        self._reference_among(self.values, "labels", shorten(self.reference))
        return self

    def describe_allowed(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)

    def listed(self, label: Any) -> str | None:
        """The label of :attr:`values` that ``label`` is once both are composed
        (:func:`composed`: a label an older doe stored decomposed is the composed one a later
        version lists, and the reverse); None for any other value."""
        if not isinstance(label, str):
            return None
        return next((v for v in self.values if composed(v) == composed(label)), None)


def _composed_labels(labels: list[str]) -> list[str]:
    """The labels in composed form (:func:`composed`); refuses a label with a control or an
    invisible character (:func:`~doe.domain.values.is_plain_label`) and two labels that are one
    label once composed (a decomposed 'cafe' + U+0301 beside 'café')."""
    seen: dict[str, str] = {}
    for label in labels:
        if not is_plain_label(label):
            raise ValueError(f"category label {shorten(label)} holds a line break, a control or an invisible character "
                             f"({refused_character(label)}; a zero-width space makes a label that looks like "
                             "another); retype it")
        other = seen.setdefault(composed(label), label)
        if other != label:
            raise ValueError(f"category labels {shorten_text(ascii(other), 80)} and {shorten_text(ascii(label), 80)} are the same text written in two "
                             "ways (composed and decomposed accents); keep one")
    return [composed(label) for label in labels]


Parameter = Annotated[
    ContinuousParameter | DiscreteParameter | CategoricalParameter, Field(discriminator="type")
]
NumericParameter = ContinuousParameter | DiscreteParameter
