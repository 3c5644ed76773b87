"""Reference data of the HfO2-on-NCM85 study, shipped with the package.

Two tables (their data dictionary is ``datasets/README.md`` at the top of the repository):

- :func:`load_reference`: every figure of the study as summarised in the project's
  reference-study brief (issue #2 of the doe tracker), one row per figure, long format.
- :func:`load_recipes`: the bare and the coated material as two campaign history rows of the
  ``hfo2-ncm85`` template, ready for ``Campaign.record()``.

The canonical CSV files live in ``doe/datasets/data/`` so that a non-editable install has
them; ``datasets/`` at the repository top holds identical copies for people who browse the
repository.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

import pandas as pd

from doe.errors import CellProblem, DataError

REFERENCE_FILE: Final = "hfo2_ncm85_reference.csv"
RECIPES_FILE: Final = "hfo2_ncm85_recipes.csv"
TEMPLATE: Final = "hfo2-ncm85"

REFERENCE_COLUMNS: Final = (
    "material", "cell", "quantity", "value", "unit", "qualifier", "condition", "derived", "source",
)
MATERIALS: Final = ("bare", "hfo2_coated")
CELLS: Final = (
    "pellet_ssb_45c", "liquid_half_cell_25c", "slurry_cast_ssb", "dry_pellet_ssb", "ssb", "material",
)
QUALIFIERS: Final = ("=", "<", ">", "<=", "~")
"""``=`` as reported, ``<`` below, ``>`` above, ``<=`` "up to", ``~`` about."""


def data_path(name: str) -> Path:
    """Path of a shipped data file (``hfo2_ncm85_reference.csv`` or ``hfo2_ncm85_recipes.csv``)."""
    if name not in (REFERENCE_FILE, RECIPES_FILE):
        raise DataError(f"no shipped dataset {name!r}; available: {[REFERENCE_FILE, RECIPES_FILE]}")
    return Path(str(resources.files(__name__).joinpath("data", name)))


def load_reference() -> pd.DataFrame:
    """The study's figures, one row per reported (or derived) number.

    Returns:
        Columns ``material``, ``cell``, ``quantity``, ``unit``, ``qualifier``,
        ``condition``, ``source`` (text), ``value`` (float, in ``unit``) and ``derived``
        (bool: computed from other rows, not reported by the study).
    """
    raw = pd.read_csv(data_path(REFERENCE_FILE), dtype=str, keep_default_na=False)
    problems: list[CellProblem] = []
    for column in REFERENCE_COLUMNS:
        if column not in raw.columns:
            problems.append(CellProblem(None, column, None, "the column is missing"))
    if problems:
        raise DataError(f"{REFERENCE_FILE} is damaged", problems)
    checks = {"material": MATERIALS, "cell": CELLS, "qualifier": QUALIFIERS, "derived": ("true", "false")}
    for column, allowed in checks.items():
        for row, value in enumerate(raw[column]):
            if value not in allowed:
                problems.append(CellProblem(row, column, value, f"expected one of {list(allowed)}"))
    values = pd.to_numeric(raw["value"], errors="coerce")
    for row in values.index[values.isna()]:
        problems.append(CellProblem(int(row), "value", raw.at[row, "value"], "not a number"))
    if problems:
        raise DataError(f"{REFERENCE_FILE} is damaged", problems)
    out = raw[list(REFERENCE_COLUMNS)].copy()
    out["value"] = values.astype(float)
    out["derived"] = raw["derived"].eq("true").astype(bool)
    return out


def load_recipes() -> pd.DataFrame:
    """The bare and the HfO2-coated material as two history rows of the ``hfo2-ncm85`` template.

    Returns:
        Rows ``study-bare`` and ``study-hfo2`` with columns ``experiment_id``, the nine
        parameters, the six outcomes (NaN where the study gives no absolute number) and
        ``note``: exactly what ``Campaign.record()`` accepts. Validated against the template.
    """
    from doe.domain import validate_experiments
    from doe.templates import resolve_config

    raw = pd.read_csv(data_path(RECIPES_FILE), dtype={"experiment_id": str, "note": str})
    return validate_experiments(raw, resolve_config(TEMPLATE))


__all__ = [
    "CELLS",
    "MATERIALS",
    "QUALIFIERS",
    "RECIPES_FILE",
    "REFERENCE_COLUMNS",
    "REFERENCE_FILE",
    "data_path",
    "load_recipes",
    "load_reference",
]
