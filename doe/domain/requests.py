"""Checks of what a user asks ``suggest()`` for: fixed parameter values and candidate recipes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.parameters import CategoricalParameter
from doe.domain.table import check_in_space, validate_experiments
from doe.domain.values import to_python
from doe.errors import CellProblem, DataError, ProposalError


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
    clean = validate_experiments(pd.DataFrame([fixed]), config, parameters="optional", outcomes_allowed=False)
    values = {k: to_python(clean.iloc[0][k]) for k in fixed}
    for con in config.linear_constraints:
        if set(con.coefficients) <= set(values) and not con.satisfied(values):
            raise DataError(f"fixed: the values {values} violate the constraint {con.text()}")
    return values


def validate_candidates(candidates: pd.DataFrame, config: CampaignConfig, fixed: dict[str, Any],
                        ignore_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """The candidate recipes (parameter columns only) that match ``fixed``.

    Raises:
        DataError: a bad cell or a recipe outside the constraints.
        ProposalError: no candidate matches the fixed values.
    """
    clean = validate_experiments(candidates, config, outcomes_allowed=False, ignore_columns=ignore_columns)
    clean = clean[config.parameter_names]
    problems = check_in_space(clean, config)
    if problems:
        raise DataError("candidates: some recipes lie outside the campaign's constraints", problems)
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
