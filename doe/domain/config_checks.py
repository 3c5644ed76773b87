"""Checks of a campaign configuration's parts that look across its parameters, objectives and
constraints: the control recipe, batch-shared parameters, transfer sources, what outcome
constraints leave possible, and the reference recipe against the linear constraints."""

from __future__ import annotations

import math
from typing import Any

from doe.domain.constraints import LinearConstraint, OutcomeConstraint
from doe.domain.objectives import Objective, Outcome
from doe.domain.parameters import (
    CategoricalParameter,
    ContinuousParameter,
    DiscreteParameter,
    composed,
)
from doe.domain.values import is_printable, is_real_number
from doe.errors import shorten


def outcome_constraint_problems(constraints: list[tuple[int, LinearConstraint | OutcomeConstraint]],
                                objectives: list[Objective], outcomes: list[Outcome]) -> list[str]:
    """Outcome constraints that no result could meet: beyond the outcome's ``valid_range``,
    against an objective's ``threshold`` (the worst acceptable value: ``ce >= 90`` for a
    maximised ``ce``) or against another outcome constraint (``ce <= 10`` with ``ce >= 50``);
    a set point (``target``) that breaks one. ``constraints`` pairs each with its position
    in the configuration's list."""
    problems = []
    items: dict[str, Objective | Outcome] = {o.name: o for o in objectives}
    items.update((o.name, o) for o in outcomes)
    limits: dict[str, list[tuple[str, float, str]]] = {}  # outcome -> (">=" | "<=", value, where it is set)
    for name, item in items.items():
        low, high = item.valid_range or (None, None)
        limits[name] = ([(">=", float(low), f"its valid_range ({name} >= {low:g})")] if low is not None else []) + (
            [("<=", float(high), f"its valid_range ({name} <= {high:g})")] if high is not None else [])
        if isinstance(item, Objective) and item.threshold is not None and item.goal != "target":
            op = ">=" if item.goal == "maximize" else "<="
            limits[name].append((op, item.threshold, f"objectives[{name}].threshold ({name} {op} {item.threshold:g}, "
                                                     "the worst acceptable value)"))
    for i, con in constraints:
        if not isinstance(con, OutcomeConstraint) or con.outcome not in items:
            continue
        item = items[con.outcome]
        if isinstance(item, Objective) and item.target is not None and not con.satisfied(item.target):
            problems.append(f"objectives[{item.name}].target: {item.target:g} breaks the constraint {con.text()}; "
                            "a set point must be an acceptable value")
        clash = next((where for op, value, where in limits[con.outcome] if op != con.operator and (
            value > con.bound if con.operator == "<=" else value < con.bound)), None)
        if clash is not None:
            problems.append(f"constraints[{i}]: {con.text()} leaves no value that {clash} allows, so no result "
                            "could meet it; check the number and its unit")
        limits[con.outcome].append((con.operator, con.bound, f"constraints[{i}] ({con.text()})"))
    return problems


def reference_problems(parameters: list[Any], constraints: list[tuple[int, LinearConstraint | OutcomeConstraint]]
                       ) -> list[str]:
    """Linear constraints that the parameters' ``reference`` values break (the recipe the
    initial design proposes first, which would then never be proposed)."""
    reference = {p.name: p.reference for p in parameters if p.reference is not None}
    problems = []
    for i, con in constraints:
        if isinstance(con, LinearConstraint) and set(con.coefficients) <= set(reference) and not con.satisfied(
                {k: reference[k] for k in con.coefficients}):
            shown = ", ".join(f"parameters[{k}].reference = {reference[k]:g}" for k in con.coefficients)
            problems.append(f"constraints[{i}]: the reference recipe ({shown}) breaks {con.text()}; the initial design "
                            "proposes the reference first, so it must meet the constraints: correct the reference "
                            "or the constraint")
    return problems


def check_control_recipe(raw: Any, parameters: list[Any], constraints: list[Any],
                    problems: list[str]) -> dict[str, Any] | None:
    """Check ``control_recipe``: "reference" or a value for every parameter, inside the space."""
    if raw is None:
        return None
    if raw == "reference":
        raw = {p.name: p.reference for p in parameters}
        missing = [n for n, v in raw.items() if v is None]
        if missing:
            problems.append(f"control_recipe: 'reference' needs a reference value of every parameter; "
                            f"{shorten(missing)} have none")
            return None
    if not isinstance(raw, dict):
        problems.append(f"control_recipe: must be 'reference' or a mapping parameter -> value, got {shorten(raw)}")
        return None
    names = [p.name for p in parameters]
    if set(raw) != set(names):
        problems.append(f"control_recipe: give a value for every parameter and nothing else; missing "
                        f"{shorten(sorted(set(names) - set(raw)))}, unknown {shorten(sorted(set(map(str, raw)) - set(names)))}")
        return None
    recipe: dict[str, Any] = {}
    for p in parameters:
        value = raw[p.name]
        # a listed value is stored as listed: a label as composed, a discrete value as its list's number
        listed: Any = None
        if isinstance(p, CategoricalParameter) and isinstance(value, str):
            listed = next((v for v in p.values if composed(v) == composed(value)), None)
        elif isinstance(p, DiscreteParameter) and is_real_number(value) and math.isfinite(value):
            listed = p.matching_value(float(value))
        elif isinstance(p, ContinuousParameter) and is_real_number(value) and p.lower <= float(value) <= p.upper:
            listed = float(value)
        if listed is None:
            problems.append(f"control_recipe.{p.name}: {shorten(value)} is not {p.describe_allowed()}")
        recipe[p.name] = value if listed is None else listed
    for con in constraints:
        if (isinstance(con, LinearConstraint) and not problems
                and not con.satisfied({k: recipe[k] for k in con.coefficients})):
            problems.append(f"control_recipe: breaks the constraint {con.text()}")
    return recipe


def check_batch_shared(raw: Any, parameter_names: list[str], problems: list[str]) -> tuple[str, ...]:
    """Check ``batch_shared``: a list of distinct parameter names, not all of them."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        problems.append(f"batch_shared: must be a list of parameter names, got {shorten(raw)}")
        return ()
    unknown = [v for v in raw if v not in parameter_names]
    if unknown:
        problems.append(f"batch_shared: {shorten(unknown)} are not parameters; parameters: {shorten(parameter_names)}")
    repeated = sorted({v for v in raw if raw.count(v) > 1})
    if repeated:
        problems.append(f"batch_shared: {repeated} listed more than once")
    if parameter_names and set(raw) >= set(parameter_names):
        problems.append(
            "batch_shared: lists every parameter, so every recipe of a batch would be the same; "
            "leave at least one parameter to vary within a batch"
        )
    return tuple(raw)


def check_learn_from(raw: Any, name: Any, problems: list[str]) -> tuple[str, ...]:
    """Check ``learn_from``: distinct campaign names (not this campaign's own name)."""
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple) or not all(isinstance(v, str) for v in raw):
        problems.append(f"learn_from: must be a list of campaign names, got {shorten(raw)}")
        return ()
    names = [v.strip() for v in raw]
    bad = [v for v in names if not v or len(v) > 120 or not is_printable(v)]
    if bad:
        problems.append(f"learn_from: {shorten(bad)}: each name must be 1 to 120 printable characters")
    if isinstance(name, str) and name.strip() in names:
        problems.append(f"learn_from: {shorten(name.strip())} is this campaign itself; list earlier campaigns")
    repeated = sorted({v for v in names if names.count(v) > 1})
    if repeated:
        problems.append(f"learn_from: {shorten(repeated)} listed more than once")
    if len(names) > 20:
        problems.append(f"learn_from: at most 20 campaigns, got {len(names)}")
    return tuple(names)
