"""The domain model: parameters, search space, objectives, constraints, configuration, tables.

Pure Python, pydantic and pandas: importing it loads no torch, SQLAlchemy or Streamlit.
"""

from doe.domain.config import CampaignConfig, load_config
from doe.domain.constraints import LinearConstraint, OutcomeConstraint, parse_constraint
from doe.domain.objectives import Objective, Outcome
from doe.domain.parameters import CategoricalParameter, ContinuousParameter, DiscreteParameter
from doe.domain.table import ID_COLUMN, check_in_space, validate_experiments

__all__ = [
    "ID_COLUMN",
    "CampaignConfig",
    "CategoricalParameter",
    "ContinuousParameter",
    "DiscreteParameter",
    "LinearConstraint",
    "Objective",
    "Outcome",
    "OutcomeConstraint",
    "check_in_space",
    "load_config",
    "parse_constraint",
    "validate_experiments",
]
