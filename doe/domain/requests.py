"""Checks of what a user asks ``suggest()`` for: fixed parameter values and candidate recipes."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.file_rows import in_file
from doe.domain.parameters import CategoricalParameter, ContinuousParameter
from doe.domain.table import check_in_space, validate_experiments
from doe.domain.values import NOT_UNICODE, is_missing, to_python, unicode_problems
from doe.errors import CellProblem, DataError, ProposalError, shorten


def validate_fixed(fixed: dict[str, Any] | None, config: CampaignConfig) -> dict[str, Any]:
    """``fixed`` (parameter name -> value to hold) checked and cleaned; ``{}`` for none.

    Raises:
        DataError: not a mapping, an unknown parameter, a value outside the parameter's
            range, or values that break a linear constraint they fully determine.
    """
    if not fixed:
        return {}
    if not isinstance(fixed, dict):
        raise DataError(f"fixed: give a mapping of parameter name to value, got {type(fixed).__name__}")
    unknown = [k for k in fixed if k not in config.parameter_names]
    if unknown:
        raise DataError(
            "fixed: unknown parameter(s)",
            [CellProblem(None, str(k), fixed[k], f"not a parameter; parameters: {config.parameter_names}")
             for k in unknown],
        )
    not_text = [k for k, v in fixed.items() if unicode_problems(v, "")]
    if not_text:
        raise DataError("fixed: values that cannot be held",
                        [CellProblem(None, str(k), fixed[k], NOT_UNICODE) for k in not_text])
    try:
        clean = validate_experiments(pd.DataFrame([fixed]), config, parameters="optional", outcomes_allowed=False)
    except DataError as err:  # the values, not a table's rows: name the parameters alone
        raise DataError("fixed: values that cannot be held",
                        [replace(p, row=None) for p in err.problems]) from None
    values = {k: to_python(clean.iloc[0][k]) for k in fixed}
    off_grid = [k for k, v in values.items() if isinstance(p := config.parameter(k), ContinuousParameter)
                and not is_missing(v) and not p.on_grid(float(v))]
    if off_grid:
        raise DataError("fixed: " + ", ".join(f"{k} = {values[k]:g}" for k in off_grid) + " off the lab's grid (the "
                        "parameter's resolution; the nearest allowed values below)", [
            CellProblem(None, k, values[k], _grid_hint(p, float(values[k])))
            for k in off_grid if isinstance(p := config.parameter(k), ContinuousParameter)])
    for con in config.linear_constraints:
        if set(con.coefficients) <= set(values) and not con.satisfied(values):
            raise DataError(f"fixed: the values {values} violate the constraint {con.text()}")
    return values


def _grid_hint(parameter: ContinuousParameter, value: float) -> str:
    r, places = parameter.resolution, parameter.grid_decimals
    assert r is not None
    k = math.floor(value / r)
    near = [x for x in (parameter.grid_value(k), parameter.grid_value(k + 1)) if parameter.lower <= x <= parameter.upper]
    return (f"is not a multiple of its resolution {r:.{places}f}" + (
        f"; the nearest allowed values are {' and '.join(f'{x:.{places}f}' for x in near)}" if near else ""))


def validate_candidates(candidates: pd.DataFrame, config: CampaignConfig, fixed: dict[str, Any],
                        ignore_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """The candidate recipes (parameter columns only) that match ``fixed``.

    Raises:
        DataError: a bad cell or a recipe outside the constraints.
        ProposalError: no candidate matches the fixed values.
    """
    try:
        clean = validate_experiments(candidates, config, outcomes_allowed=False, ignore_columns=ignore_columns)
    except DataError as err:  # problems name the file's rows where the table was read from one
        summary = f"{len(err.problems)} problem(s); no batch was proposed" if err.problems else err.summary
        raise in_file(DataError(f"candidates: {summary}", err.problems), candidates) from None
    clean = clean[config.parameter_names]
    problems = check_in_space(clean, config)
    if problems:
        raise in_file(DataError("candidates: some recipes lie outside the campaign's constraints", problems),
                      candidates)
    for k, v in fixed.items():
        column = clean[k]
        keep = column.eq(v) if isinstance(config.parameter(k), CategoricalParameter) else np.isclose(
            column.astype(float), float(v))
        clean = clean[keep]
    if clean.empty:
        raise ProposalError("candidates: no candidate recipe matches the fixed values")
    return clean.reset_index(drop=True)


def require_table(argument: str, value: Any, *, optional: bool = False) -> None:
    """Refuse anything but a DataFrame at the boundary, naming the argument."""
    if isinstance(value, pd.DataFrame) or (optional and value is None):
        return
    raise DataError(f"{argument}: expected a pandas DataFrame with one row per experiment, "
                    f"got {type(value).__name__}; e.g. pd.DataFrame(rows)")


def validate_request(fixed: dict[str, Any] | None, candidates: pd.DataFrame | None,
                     config: CampaignConfig) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """``fixed`` and ``candidates`` of a ``suggest()`` checked against one configuration
    (:func:`validate_fixed`, :func:`validate_candidates`; the candidates' carried columns, such
    as a history's outcomes, ignored)."""
    from doe.domain.batches import carried_columns

    held = validate_fixed(fixed, config)
    if candidates is None:
        return held, None
    return held, validate_candidates(candidates, config, held, carried_columns(candidates, config))


def request_record(n: int, fixed: Mapping[str, Any] | None, candidates: pd.DataFrame | None, design: str,
                   config: CampaignConfig) -> dict[str, Any]:
    """What a ``suggest()`` with a request id asked for (``fixed`` and ``candidates`` as
    :func:`validate_request` returns them), as its batch stores it under
    ``model_settings["request"]``: ``n``, ``fixed``, ``design`` and the SHA-256 of the
    candidate recipes (in any row order; None without candidates). Numbers are stored as
    floats, so the values a worker reads back from its job's JSON give the same record."""
    digest = None
    if candidates is not None:
        rows = sorted(json.dumps({k: _plain(r[k]) for k in config.parameter_names}, sort_keys=True)
                      for r in candidates.to_dict("records"))
        digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return {"n": int(n), "fixed": {str(k): _plain(v) for k, v in sorted((fixed or {}).items())},
            "design": str(design), "candidates": digest, "candidate_rows": None if candidates is None else len(candidates)}


def _plain(value: Any) -> Any:
    value = to_python(value)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def request_differences(stored: Mapping[str, Any], asked: Mapping[str, Any], batch_id: str, size: int) -> list[str]:
    """How a reuse of a request id (``asked``, :func:`request_record`) differs from what the
    request stored with batch ``batch_id`` of ``size`` experiments asked for; [] for a retry."""
    differences = []
    if stored.get("n") != asked["n"]:
        differences.append(f"n = {asked['n']}, but batch {batch_id} holds {size} experiment(s) (asked with "
                           f"n = {stored.get('n')})")
    was, now = dict(stored.get("fixed") or {}), dict(asked["fixed"])
    for name in [*now, *(k for k in was if k not in now)]:
        if name not in was:
            differences.append(f"fixed {shorten(name)} = {shorten(now[name])}, but the request left it free")
        elif name not in now:
            differences.append(f"{shorten(name)} not fixed, but the request fixed it at {shorten(was[name])} "
                               "(the value its rows hold)")
        elif was[name] != now[name]:
            differences.append(f"fixed {shorten(name)} = {shorten(now[name])}, but the request fixed it at "
                               f"{shorten(was[name])} (the value its rows hold)")
    if stored.get("design") != asked["design"]:
        differences.append(f"design = {shorten(asked['design'])}, but batch {batch_id} was a {shorten(stored.get('design'))} design")
    if stored.get("candidates") != asked["candidates"]:
        rows = stored.get("candidate_rows")
        if rows is None:
            differences.append(f"candidates given, but batch {batch_id} was chosen without any")
        elif asked["candidates"] is None:
            differences.append(f"no candidates, but batch {batch_id} was chosen among {rows} candidate recipe(s)")
        else:
            differences.append(f"other candidates ({asked['candidate_rows']} recipe(s)) than the {rows} that batch "
                               f"{batch_id} was chosen among")
    return differences
