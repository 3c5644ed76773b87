"""The campaign configuration: what is varied, what is measured, what is wanted.

Contract (other tools rely on these exact keys)::

    {"name": str,
     "parameters": [{"name", "type": "continuous"|"discrete"|"categorical",
                     "bounds": [lo, hi] | "values": [...], "unit"?, "log_scale"?, "description"?,
                     "reference"?, "resolution"?}],
     "objectives": [{"name", "goal": "maximize"|"minimize"|"target", "target"?, "tolerance"?,
                     "threshold"?, "weight"?, "unit"?, "valid_range"?: [lo | null, hi | null]}],
     "objective_mode"?: "pareto"|"weighted",   # several objectives: Pareto search (default)
                                               # or one weighted desirability (Desirability)
     "outcomes"?: [{"name", "unit"?, "over"?: "cycle", "at"?: int,     # measured, not optimised;
                    "valid_range"?: [lo | null, hi | null]}],  # values outside: refused
                                               # over/at: a curve outcome (also on objectives)
     "constraints"?: ["x + 2 * y <= 3", "coating_thickness_nm <= 15", {...}],
     "batch_shared"?: [parameter name, ...],   # one value across each suggested batch
     "control_recipe"?: "reference" | {parameter: value, ...},   # made again in every batch
     "impedance"?: {"circuit": str,             # impedance.py notation, e.g. "R0-p(R1,CPE1)-Wo1"
                    "resistances"?: {outcome name: circuit parameter, ...}},
     "learn_from"?: [campaign name, ...],      # earlier campaigns in the same store whose
                                               # data inform the model (multi-task GP)
     "seed"?: int,
     "description"?: str}

``from_dict(config.to_dict()) == config`` and ``to_dict(from_dict(d)) == d`` for any valid ``d``
written in canonical form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from doe.domain.circuits import ImpedanceSettings, impedance_problems
from doe.domain.config_checks import (
    check_batch_shared,
    check_control_recipe,
    check_learn_from,
    outcome_constraint_problems,
    reference_problems,
)
from doe.domain.constraint_space import grid_infeasible, linear_feasible, pinned_constraints
from doe.domain.constraints import LinearConstraint, OutcomeConstraint, parse_constraint
from doe.domain.objectives import Objective, ObjectiveMode, Outcome
from doe.domain.parameters import (
    CategoricalParameter,
    ContinuousParameter,
    DiscreteParameter,
    Parameter,
    check_name,
    composed,
)
from doe.domain.values import (
    MAX_CATEGORY_LABEL,
    MAX_UNIT,
    NOT_UNICODE,
    is_integer,
    is_plain_label,
    is_stored_printable,
    refused_character,
    unicode_problems,
)
from doe.domain.yaml_text import dump_yaml, load_yaml, load_yaml_file
from doe.errors import ConfigError, shorten, shorten_text

_PARAMETER = TypeAdapter(Parameter)
_TOP_KEYS = {"name", "parameters", "objectives", "objective_mode", "outcomes", "constraints", "batch_shared",
             "control_recipe", "impedance", "learn_from", "seed", "description"}
OBJECTIVE_MODES: tuple[ObjectiveMode, ...] = ("pareto", "weighted")
MAX_SEED = 2**31 - 1
T = TypeVar("T")
_TYPE_ERRORS = {
    "float_type": "write numbers without quotes, e.g. 350 (not \"350\", \"3_50\" or true)",
    "bool_type": "write true or false without quotes",
    "string_type": "write text",
}


_EXPONENT = re.compile(r"[-+]?[0-9]+[eE][-+]?[0-9]+")


def _format_pydantic(prefix: str, err: ValidationError) -> list[str]:
    out = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"] if p not in ("continuous", "discrete", "categorical"))
        msg = shorten_text(e["msg"].removeprefix("Value error, "), 400)
        if e["type"] == "extra_forbidden" and loc == "resolution" and prefix.startswith("parameters["):
            # "Extra inputs are not permitted" would not say why: a listed parameter is on its grid already
            msg = "only a continuous parameter takes a resolution; a discrete or categorical one takes its listed values"
        if e["type"] in _TYPE_ERRORS:
            # strict types: "250" or true is refused rather than turned into 250.0 or 1.0
            given = e.get("input")
            hint = (f"YAML reads {given} as text (an exponent needs a decimal point there): write it as "
                    f"{float(given):.10g} or with a point, e.g. 1.0e-3" if e["type"] == "float_type"
                    and isinstance(given, str) and _EXPONENT.fullmatch(given) else _TYPE_ERRORS[e["type"]])
            msg += f", got {shorten(given)} ({type(given).__name__}); {hint}"
        out.append(f"{prefix}{'.' + shorten_text(loc, 120) if loc else ''}: {msg}")
    return out


def _validate_items(key: str, items: list[Any], validate: Callable[[Any, Any], T], problems: list[str]) -> list[T]:
    """Validate each item of the list under ``key``; every problem is added to ``problems``,
    labelled ``key[name]`` (or ``key[index]`` for an item without a name)."""
    valid = []
    for i, raw in enumerate(items):
        name = raw.get("name") if isinstance(raw, dict) else None
        label = shorten_text(name, 70) if isinstance(name, str) else str(i)
        try:
            valid.append(validate(raw, label))
        except ValidationError as err:
            problems.extend(_format_pydantic(f"{key}[{label}]", err))
        except ConfigError as err:
            problems.append(str(err))
    return valid


def _parameter(raw: Any, label: Any, stored: bool) -> ContinuousParameter | DiscreteParameter | CategoricalParameter:
    if isinstance(raw, dict) and raw.get("type") not in ("continuous", "discrete", "categorical"):
        raise ConfigError(
            f"parameters[{label}].type: must be 'continuous', 'discrete' or 'categorical', got {shorten(raw.get('type'))}"
        )
    return _PARAMETER.validate_python(raw, context={"stored": stored})  # type: ignore[no-any-return]


class CampaignConfig(BaseModel):
    """A validated, immutable campaign configuration. Build it with :meth:`from_dict`."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    parameters: tuple[ContinuousParameter | DiscreteParameter | CategoricalParameter, ...]
    objectives: tuple[Objective, ...]
    outcomes: tuple[Outcome, ...] = ()
    objective_mode: ObjectiveMode = "pareto"
    constraints: tuple[LinearConstraint | OutcomeConstraint, ...] = ()
    batch_shared: tuple[str, ...] = ()
    """Parameters that take one value across each suggested batch (e.g. one furnace run)."""
    impedance: ImpedanceSettings | None = None
    """The equivalent circuit fitted to impedance spectra and the resistances recorded from it
    (None: the default circuit of :mod:`doe.instruments.impedance`)."""
    control_recipe: dict[str, Any] | None = None
    """A recipe made again in every suggested batch of two or more (the last row), to catch
    drift between batches; ``"reference"`` in the configuration takes the parameters'
    ``reference`` values (the published recipe)."""
    learn_from: tuple[str, ...] = ()
    """Names of earlier campaigns in the same store whose finished experiments inform the
    model of this one (see :mod:`doe.engine.transfer`)."""
    seed: int | None = None
    description: str | None = None

    # ----------------------------------------------------------------- building
    @classmethod
    def from_dict(cls, data: dict[str, Any], *, stored: bool = False, stored_name: str | None = None) -> CampaignConfig:
        """Validate a configuration mapping; a :class:`ConfigError` lists every problem.

        ``stored``: the mapping was read back from a store or an export. The checks added after
        campaigns could be stored with such text (:func:`column_name_clashes`, text that is not
        Unicode, :func:`~doe.domain.values.unicode_problems`, and a name's control characters and
        line separators, :func:`~doe.domain.values.is_stored_printable`) are then skipped, so an older
        campaign stays readable; a new or edited configuration gets them. ``stored_name``: the
        name of the campaign an edited configuration is for; a name equal to it is checked as a
        stored one (an edit cannot change the name).
        """
        if not isinstance(data, dict):
            raise ConfigError(f"a campaign configuration must be a mapping, got {type(data).__name__}")
        not_text = [] if stored else unicode_problems(data, "configuration")
        if not_text:
            raise ConfigError(f"{shorten_text(', '.join(not_text), 400)}: {NOT_UNICODE}; retype it")
        problems: list[str] = []
        unknown = set(data) - _TOP_KEYS
        if unknown:
            problems.append(f"unknown keys {shorten(sorted(map(str, unknown)))}; allowed: {sorted(_TOP_KEYS)}")
        name = data.get("name")
        if isinstance(name, str) and not stored:  # stored: kept as written, the name the store knows
            name = composed(name)  # a name typed on two keyboards is one name
        if isinstance(name, int | float) and not isinstance(name, bool):
            problems.append(f"name: must be text, got the number {name!r}; put it in quotes (name: \"{name!r}\")")
        elif isinstance(name, bool):  # YAML reads yes, no, on, off, true and false as such
            problems.append(f"name: must be text, got {name} (YAML reads yes, no, on, off, true and false as true "
                            "or false); put the name in quotes (name: \"yes\")")
        elif isinstance(name, date):  # and 2026-01-01 as a date
            problems.append(f"name: must be text, got the date {name}; put it in quotes (name: \"{name}\")")
        elif not isinstance(name, str) or not name.strip():
            problems.append("name: give the campaign a non-empty name")
        elif len(name) > 120 or not (is_stored_printable(name) if stored or name == stored_name
                                     else is_plain_label(name)):  # the name the store knows, as it was stored
            held = f" ({len(name)} characters)" if len(name) > 120 else f" ({shorten(name)} holds {refused_character(name)})"
            problems.append("name: at most 120 printable characters, without invisible ones, control characters or "
                            f"line breaks (a zero-width space makes a name that looks like another){held}")

        raw_params = data.get("parameters")
        if not isinstance(raw_params, list) or not raw_params:
            problems.append("parameters: list at least one parameter")
            raw_params = []
        parameters = _validate_items("parameters", raw_params, lambda raw, label: _parameter(raw, label, stored),
                                     problems)

        raw_objs = data.get("objectives")
        if not isinstance(raw_objs, list) or not raw_objs:
            problems.append("objectives: list at least one objective (name and goal 'maximize', 'minimize' or 'target')")
            raw_objs = []
        objectives = _validate_items("objectives", raw_objs, lambda raw, _: Objective.model_validate(
            raw, context={"stored": stored}), problems)

        raw_outs = data.get("outcomes") or []
        if not isinstance(raw_outs, list):
            problems.append("outcomes: must be a list")
            raw_outs = []
        outcomes = _validate_items("outcomes", raw_outs, lambda raw, _: Outcome.model_validate(raw), problems)

        all_names = [p.name for p in parameters] + [o.name for o in objectives] + [o.name for o in outcomes]
        dupes = sorted({n for n in all_names if all_names.count(n) > 1})
        if dupes:
            problems.append(f"names must be unique across parameters, objectives and outcomes; repeated: {dupes}")
        if not stored:
            problems.extend(column_name_clashes(parameters, objectives, outcomes))
            problems.extend(text_length_problems(parameters, objectives, outcomes))

        outcome_names = {o.name for o in objectives} | {o.name for o in outcomes}
        param_by_name = {p.name: p for p in parameters}
        constraints: list[LinearConstraint | OutcomeConstraint] = []
        indexed: list[tuple[int, LinearConstraint | OutcomeConstraint]] = []  # with its place in the list
        raw_cons = data.get("constraints") or []
        if not isinstance(raw_cons, list):
            problems.append("constraints: must be a list")
            raw_cons = []
        for i, raw in enumerate(raw_cons):
            try:
                con = parse_constraint(raw, outcome_names)
            except (ValueError, ValidationError) as err:
                msg = _format_pydantic("", err) if isinstance(err, ValidationError) else [str(err)]
                problems.extend(f"constraints[{i}]{shorten_text(m, 400)}" if m.startswith(".")
                                else f"constraints[{i}]: {shorten_text(m.lstrip(': '), 400)}" for m in msg)
                continue
            if isinstance(con, LinearConstraint):
                for pname in con.coefficients:
                    p = param_by_name.get(pname)
                    if p is None:
                        problems.append(
                            f"constraints[{i}]: {shorten(pname)} is neither a parameter nor an outcome of this campaign"
                        )
                    elif not isinstance(p, ContinuousParameter):
                        problems.append(
                            f"constraints[{i}]: linear constraints apply to continuous parameters; {shorten(pname)} is {p.type}"
                        )
            elif con.outcome not in outcome_names:
                problems.append(f"constraints[{i}]: outcome {shorten(con.outcome)} is not an objective or outcome")
            constraints.append(con)
            indexed.append((i, con))

        if not stored:  # stored: these checks came later; an older campaign keeps loading
            problems.extend(outcome_constraint_problems(indexed, objectives, outcomes))
            problems.extend(reference_problems(parameters, indexed))
        mode = data.get("objective_mode", "pareto")
        if mode not in OBJECTIVE_MODES:
            problems.append(
                f"objective_mode: must be 'pareto' (search the trade-off front) or 'weighted' "
                f"(one weighted desirability), got {mode!r}"
            )
            mode = "pareto"
        batch_shared = check_batch_shared(data.get("batch_shared"), [p.name for p in parameters], problems)
        control = check_control_recipe(data.get("control_recipe"), parameters, constraints, problems)
        raw_impedance = data.get("impedance")
        outcome_list = [o.name for o in objectives] + [o.name for o in outcomes]
        if raw_impedance is not None:
            problems.extend(impedance_problems(raw_impedance, outcome_list))

        learn_from = check_learn_from(data.get("learn_from"), name, problems)
        seed = data.get("seed")
        if seed is not None and (not is_integer(seed) or not 0 <= seed <= MAX_SEED):
            problems.append(f"seed: must be a whole number from 0 to {MAX_SEED}, got {shorten(seed)}")
        description = data.get("description")
        if description is not None and not isinstance(description, str):
            problems.append("description: must be text")

        if not problems:
            linear = [c for c in constraints if isinstance(c, LinearConstraint)]
            if linear and not linear_feasible(parameters, linear):
                problems.append(
                    "constraints: no point of the search space satisfies all linear constraints together"
                )
            elif linear and not stored and (gridded := grid_infeasible(parameters, linear)):
                problems.append(
                    f"constraints: no recipe on the resolution grid of {gridded} satisfies all linear constraints "
                    "together; widen a range, make a resolution finer or loosen a constraint")
            elif linear and not stored and (pinned := pinned_constraints(parameters, linear)):
                problems.append(
                    f"constraints: {', '.join(repr(c.text()) for c in pinned)} hold only with equality (together "
                    "with the others and the bounds they leave no room, as 'x + w <= 1' with 'x + w >= 1' asks "
                    "x + w = 1); doe searches continuous values only where they have room: give the parameters of "
                    "these constraints a resolution (then they take grid values), or drop one parameter of an "
                    "equality and write it as the rest (w = 1 - x)")
        if problems:
            raise ConfigError(
                f"campaign configuration {shorten(name) if isinstance(name, str) else '(without a valid name)'} "
                "is invalid:\n" + "\n".join(f"  - {p}" for p in problems)
            )
        return cls.model_validate(dict(  # the parameters' checks run again here, knowing ``stored``
            name=name.strip(),  # type: ignore[union-attr]
            parameters=tuple(parameters),
            objectives=tuple(objectives),
            outcomes=tuple(outcomes),
            objective_mode=mode,
            constraints=tuple(constraints),
            batch_shared=batch_shared,
            control_recipe=control,
            impedance=ImpedanceSettings.from_dict(raw_impedance, outcome_list) if raw_impedance is not None else None,
            learn_from=learn_from,
            seed=seed,
            description=description,
        ), context={"stored": stored})

    @classmethod
    def from_yaml(cls, text_or_path: str | Path) -> CampaignConfig:
        """Read a configuration from YAML text or a ``.yaml``/``.yml`` file."""
        text = str(text_or_path)
        path = Path(text) if isinstance(text_or_path, Path) or text.endswith((".yaml", ".yml")) else None
        if path is None:
            return cls.from_dict(load_yaml(text))
        if not path.is_file():
            raise ConfigError(f"configuration file {shorten(str(path))} does not exist")
        return cls.from_dict(load_yaml_file(path, f"configuration file {shorten(str(path))}"))

    # ----------------------------------------------------------------- writing
    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name}
        if self.description is not None:
            data["description"] = self.description
        data["parameters"] = [p.to_dict() for p in self.parameters]
        data["objectives"] = [o.to_dict() for o in self.objectives]
        if self.objective_mode != "pareto":
            data["objective_mode"] = self.objective_mode
        if self.outcomes:
            data["outcomes"] = [o.to_dict() for o in self.outcomes]
        if self.constraints:
            data["constraints"] = [c.to_dict() for c in self.constraints]
        if self.batch_shared:
            data["batch_shared"] = list(self.batch_shared)
        if self.control_recipe is not None:
            data["control_recipe"] = dict(self.control_recipe)
        if self.impedance is not None:
            data["impedance"] = self.impedance.to_dict()
        if self.learn_from:
            data["learn_from"] = list(self.learn_from)
        if self.seed is not None:
            data["seed"] = self.seed
        return data

    def to_yaml(self) -> str:
        return dump_yaml(self.to_dict())

    def save_yaml(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_yaml(), encoding="utf-8")
        return path

    def replace(self, **changes: Any) -> CampaignConfig:
        """A new, validated configuration with some top-level keys changed."""
        data = self.to_dict()
        data.update(changes)
        return CampaignConfig.from_dict(data)

    # ----------------------------------------------------------------- queries
    @property
    def parameter_names(self) -> list[str]:
        return [p.name for p in self.parameters]

    @property
    def objective_names(self) -> list[str]:
        return [o.name for o in self.objectives]

    @property
    def weighted(self) -> bool:
        """True when several objectives are searched and ranked as one weighted desirability."""
        return self.objective_mode == "weighted" and len(self.objectives) > 1

    @property
    def outcome_names(self) -> list[str]:
        """Every measured quantity: objectives first, then the other outcomes."""
        return [o.name for o in self.objectives] + [o.name for o in self.outcomes]

    @property
    def curve_outcomes(self) -> dict[str, int]:
        """Curve outcome (``over: cycle``) -> the cycle whose value matters (``at``), config order."""
        items: list[Objective | Outcome] = [*self.objectives, *self.outcomes]
        return {o.name: o.at for o in items if o.over == "cycle" and o.at is not None}

    def derived_column(self, outcome: str, suffix: str) -> str | None:
        """The column doe derives from ``outcome`` (``outcome + suffix``, ``suffix`` one of
        :data:`DERIVED_SUFFIXES`), or None where a parameter or another outcome takes that name (a
        campaign stored before such names were refused): a column of that name holds that
        parameter's or outcome's values."""
        column = outcome + suffix
        return None if column in self.parameter_names or column in self.outcome_names else column

    @property
    def summarised_outcomes(self) -> list[str]:
        """Outcomes whose replicate summary columns (``<outcome>_sd`` and ``<outcome>_n``) no
        parameter's name takes; an outcome with one taken has neither."""
        return [o for o in self.outcome_names
                if self.derived_column(o, "_sd") is not None and self.derived_column(o, "_n") is not None]

    @property
    def linear_constraints(self) -> list[LinearConstraint]:
        return [c for c in self.constraints if isinstance(c, LinearConstraint)]

    @property
    def outcome_constraints(self) -> list[OutcomeConstraint]:
        return [c for c in self.constraints if isinstance(c, OutcomeConstraint)]

    def parameter(self, name: str) -> ContinuousParameter | DiscreteParameter | CategoricalParameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise ConfigError(f"{name!r} is not a parameter of campaign {self.name!r}; parameters: {self.parameter_names}")

    def valid_range_of(self, name: str) -> tuple[float | None, float | None] | None:
        """The values outcome ``name`` can take (``valid_range``), or None when any value goes."""
        items: tuple[Objective | Outcome, ...] = (*self.objectives, *self.outcomes)
        for item in items:
            if item.name == name and item.valid_range is not None:
                low, high = item.valid_range
                return (None if low is None else float(low), None if high is None else float(high))
        return None

    def unit_of(self, name: str) -> str | None:
        for item in (*self.parameters, *self.objectives, *self.outcomes):
            if item.name == name:
                return item.unit
        return None

    @property
    def units(self) -> dict[str, str]:
        """Parameter and outcome name -> unit, for those that have one (parameters first)."""
        return {n: u for n in [*self.parameter_names, *self.outcome_names] if (u := self.unit_of(n))}

    def reference_recipe(self) -> dict[str, Any] | None:
        """The parameters' ``reference`` values (e.g. the published recipe), if all are set."""
        values = {p.name: p.reference for p in self.parameters}
        return values if all(v is not None for v in values.values()) else None


def load_config(source: CampaignConfig | dict[str, Any] | str | Path) -> CampaignConfig:
    """A configuration from a config object, a mapping or a YAML file path (``.yaml``/``.yml``).

    The domain knows no particular template: a template name is resolved at the edges
    (:func:`doe.templates.resolve_config`, ``Campaign.from_config``, the CLI, the UI).
    """
    if isinstance(source, CampaignConfig):
        return source
    if isinstance(source, dict):
        return CampaignConfig.from_dict(source)
    if isinstance(source, Path) or (isinstance(source, str) and source.endswith((".yaml", ".yml"))):
        return CampaignConfig.from_yaml(Path(source))
    if isinstance(source, str):
        raise ConfigError(
            f"cannot build a campaign configuration from {shorten(source)}: give a mapping or a YAML file path "
            "(.yaml/.yml); a template name is resolved by doe.templates.resolve_config"
        )
    raise ConfigError(
        f"cannot build a campaign configuration from {type(source).__name__}: "
        "give a mapping or a YAML file path (.yaml/.yml)"
    )


DERIVED_SUFFIXES = ("_sd", "_n", "_mean", "_last_cycle", "_last_value", "_pred_sd")
"""Columns doe derives from each outcome ``o``: ``o_sd``/``o_n`` (replicate cells,
:mod:`doe.domain.replicates`), ``o_mean`` (a prediction), ``o_last_cycle``/``o_last_value``/
``o_pred_sd`` (a curve outcome, :mod:`doe.domain.curves`); no name may be one of them."""

COLUMN_NAMES = frozenset({"replicate", "cycle", "measured_at", "operator", "sample_id", "source",
                          "acquisition_value", "probability_feasible", "strategy", "ranking_note",
                          "failure_note", "failure_operator", "failure_sample_id", "failure_measured_at",
                          "evidence_files", "active_mass_mg"})
"""Columns of a results table, a suggestion, the history or a cells export that a parameter or
outcome of the same name would be read as or replaced by (a replicate label, a curve point's
cycle, a value's context, a failed run's note, a cell's active mass, ...)."""


def text_length_problems(parameters: Sequence[Any], objectives: Sequence[Any], outcomes: Sequence[Any]) -> list[str]:
    """Units and labels that the campaign could not store with its values: a unit is at most
    :data:`MAX_UNIT` printable characters without ``[`` or ``]`` (a file's header gives it in
    brackets, ``ce [%]``), a categorical label at most :data:`MAX_CATEGORY_LABEL` characters."""
    problems = []
    for field, items in (("parameters", parameters), ("objectives", objectives), ("outcomes", outcomes)):
        for item in items:
            unit = getattr(item, "unit", None)
            if unit is not None and (len(unit) > MAX_UNIT or not is_plain_label(unit) or set(unit) & {"[", "]"}):
                problems.append(f"{field}[{item.name}].unit: at most {MAX_UNIT} printable characters without [ or ] "
                                f"(a file's header gives the unit in brackets), got {shorten(unit)}; put more words "
                                "in the description")
            long = [v for v in getattr(item, "values", ()) if isinstance(v, str) and len(v) > MAX_CATEGORY_LABEL]
            if long:
                problems.append(f"{field}[{item.name}].values: a label has at most {MAX_CATEGORY_LABEL} characters, "
                                f"got one of {len(long[0])} ({shorten(long[0])})")
    return problems


def column_name_clashes(parameters: Sequence[Any], objectives: Sequence[Any], outcomes: Sequence[Any]) -> list[str]:
    """Names that are also a column doe reads (:data:`COLUMN_NAMES`) or derives from an
    outcome (``ce_n`` next to ``ce``: :data:`DERIVED_SUFFIXES`)."""
    derived = {o.name + suffix: o.name for o in [*objectives, *outcomes] for suffix in DERIVED_SUFFIXES}
    problems = []
    for field, items in (("parameters", parameters), ("objectives", objectives), ("outcomes", outcomes)):
        for item in items:
            if item.name in COLUMN_NAMES:
                problems.append(f"{field}[{item.name}].name: {item.name!r} is a column name doe reads in results "
                                "tables and the history; choose another name")
            elif item.name in derived:
                problems.append(f"{field}[{item.name}].name: {item.name!r} is a column doe derives from the outcome "
                                f"{derived[item.name]!r} (<outcome>{', <outcome>'.join(DERIVED_SUFFIXES)}); "
                                "choose another name")
    return problems


@dataclass(frozen=True)
class ConfigVersion:
    """A stored configuration version as it was read: its number and its configuration. An edit
    based on it (``Campaign.update_config(based_on=...)``) is saved only while version ``version``
    is still this configuration and the latest: a restore may bring back the number with another one."""

    version: int
    config: CampaignConfig


__all__ = ["COLUMN_NAMES", "DERIVED_SUFFIXES", "CampaignConfig", "ConfigVersion", "check_name", "column_name_clashes",
           "load_config"]
