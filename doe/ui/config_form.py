"""The campaign configuration as editable tables, and back (no Streamlit here).

The Campaigns page shows a configuration as three editors: a parameter table, an outcome
table and a list of constraints, plus the objective mode (Pareto or weighted). :func:`tables_from_config` fills them from a configuration;
:func:`config_from_tables` turns the edited tables into a validated
:class:`~doe.domain.config.CampaignConfig` or raises one :class:`~doe.errors.ConfigError`
that lists every problem (row, column, value, what is allowed).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.parameters import ContinuousParameter, DiscreteParameter
from doe.domain.typed_number import NOT_A_NUMBER, read_number
from doe.errors import ConfigError
from doe.ui.number_cells import exact_text

PARAMETER_TYPES = ("continuous", "discrete", "categorical")
OUTCOME_ROLES = ("maximize", "minimize", "target", "measure only")
OBJECTIVE_MODES = ("pareto", "weighted")
PARAMETER_COLUMNS = ("name", "type", "lower", "upper", "resolution", "values", "unit", "log_scale", "shared",
                     "reference", "description")
OUTCOME_COLUMNS = ("name", "role", "target", "tolerance", "threshold", "weight", "lowest", "highest", "unit",
                   "description")
_OUTCOME_NUMBERS = ("target", "tolerance", "threshold", "weight")
_RANGE_COLUMNS = ("lowest", "highest")
"""An outcome's ``valid_range`` (either may be empty: open)."""


@dataclass(frozen=True)
class ConfigTables:
    """A configuration in the form the editors show.

    Attributes:
        parameters: one row per parameter, columns :data:`PARAMETER_COLUMNS` (``values`` is
            comma-separated text for discrete and categorical parameters; ``shared`` ticked for
            the parameters of ``batch_shared``, one value per batch).
        outcomes: one row per objective or measured outcome, columns :data:`OUTCOME_COLUMNS`.
        constraints: one constraint per line, e.g. ``coating_thickness_nm <= 15``.
        objective_mode: ``pareto`` or ``weighted`` (matters with several objectives).
    """

    parameters: pd.DataFrame
    outcomes: pd.DataFrame
    constraints: str
    objective_mode: str = "pareto"


def empty_tables() -> ConfigTables:
    """Blank editors with one example row each (a campaign from scratch)."""
    parameters = pd.DataFrame([{
        "name": "temperature_c", "type": "continuous", "lower": 100.0, "upper": 500.0, "resolution": None,
        "values": None,
        "unit": "C", "log_scale": False, "shared": False, "reference": None, "description": None,
    }], columns=list(PARAMETER_COLUMNS))
    outcomes = pd.DataFrame([{
        "name": "yield_pct", "role": "maximize", "target": None, "tolerance": None, "threshold": None,
        "weight": None, "lowest": None, "highest": None, "unit": "%", "description": None,
    }], columns=list(OUTCOME_COLUMNS))
    return ConfigTables(_typed_parameters(parameters), _typed_outcomes(outcomes), "")


def label_list_text(labels: Sequence[str]) -> str:
    """Labels as one cell of the form, separated by ``, ``; a label with a comma or a double
    quote is written in double quotes (a quote in it doubled), as a CSV cell is:
    ``air, "N2, 5% H2", O2``. :func:`label_list` reads it back."""
    return ", ".join(f'"{v.replace(chr(34), 2 * chr(34))}"' if ("," in v or '"' in v) else v for v in labels)


def label_list(text: str) -> list[str]:
    """The labels of a form cell written as :func:`label_list_text` writes them (or typed so)."""
    return next(csv.reader([text], skipinitialspace=True), []) if text.strip() else []


def tables_from_config(config: CampaignConfig) -> ConfigTables:
    """The editors' content for ``config``."""
    rows: list[dict[str, Any]] = []
    for p in config.parameters:
        row: dict[str, Any] = {"name": p.name, "type": p.type, "unit": p.unit, "description": p.description,
                               "log_scale": False, "shared": p.name in config.batch_shared,
                               "lower": None, "upper": None, "resolution": None, "values": None,
                               "reference": None if p.reference is None else str(p.reference)}
        # numbers written as text exactly (not f"{x:g}": 0.8333333 became 0.833333, saved back by any edit)
        if isinstance(p, ContinuousParameter):
            row.update(lower=p.lower, upper=p.upper, log_scale=p.log_scale, resolution=p.resolution)
            if p.reference is not None:
                row["reference"] = exact_text(p.reference)
        elif isinstance(p, DiscreteParameter):
            row["values"] = ", ".join(exact_text(v) for v in p.values)
            if p.reference is not None:
                row["reference"] = exact_text(p.reference)
        else:
            row["values"] = label_list_text(p.values)
        rows.append(row)
    outcomes: list[dict[str, Any]] = [
        {"name": o.name, "role": o.goal, "target": o.target, "tolerance": o.tolerance, "threshold": o.threshold,
         "weight": o.weight, "unit": o.unit, "description": o.description, **_range_cells(o.valid_range)}
        for o in config.objectives
    ] + [
        {"name": o.name, "role": "measure only", "target": None, "tolerance": None, "threshold": None,
         "weight": None, "unit": o.unit, "description": o.description, **_range_cells(o.valid_range)}
        for o in config.outcomes
    ]
    constraints = "\n".join(c.text() for c in config.constraints)
    return ConfigTables(
        _typed_parameters(pd.DataFrame(rows, columns=list(PARAMETER_COLUMNS))),
        _typed_outcomes(pd.DataFrame(outcomes, columns=list(OUTCOME_COLUMNS))),
        constraints,
        config.objective_mode,
    )


def _number_texts(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``table`` with each of ``columns`` as text, a number written exactly (:func:`exact_text`).

    The editors show these columns as text and :func:`config_from_tables` reads them as doe
    reads a typed number: Streamlit's number editor dropped what it did not know ('1.2e3'
    became 1.23, '12,5' 125) and the page saved the result.
    """
    table = table.copy()
    for c in columns:
        cells = table[c].tolist() if c in table.columns else [None] * len(table)
        table[c] = pd.Series([_number_text(v) for v in cells], index=table.index, dtype=object)
    return table


def _number_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return None
    return exact_text(value)


def _typed_parameters(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    for c in ("name", "type", "values", "unit", "reference", "description"):
        table[c] = table[c].astype(object).where(table[c].notna(), None)
    table = _number_texts(table, ("lower", "upper", "resolution"))
    for c in ("log_scale", "shared"):
        table[c] = (table[c] if c in table.columns else pd.Series(False, index=table.index)).fillna(False).astype(bool)
    return table.reset_index(drop=True)


def _range_cells(valid_range: Any) -> dict[str, float | None]:
    low, high = valid_range if valid_range is not None else (None, None)
    return {"lowest": low, "highest": high}


def _typed_outcomes(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    for c in ("name", "role", "unit", "description"):
        table[c] = table[c].astype(object).where(table[c].notna(), None)
    return _number_texts(table, (*_OUTCOME_NUMBERS, *_RANGE_COLUMNS)).reset_index(drop=True)


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _flag(value: Any) -> bool:
    """A ticked checkbox cell (an empty cell of a new row is not ticked)."""
    return not _blank(value) and bool(value)


def _text(value: Any) -> str | None:
    return None if _blank(value) else str(value).strip()


def _number(value: Any, where: str, problems: list[str]) -> float | None:
    if _blank(value):
        return None
    number, problem = read_number(value)  # as the grids read a typed number: '3_50' is not 350
    if problem is not None:
        problems.append(f"{where}: {value!r} is not a number" if problem == NOT_A_NUMBER else f"{where}: {value!r}: {problem}")
        return None
    return number


_FORM_FIELDS = frozenset({"name", "description", "parameters", "objectives", "outcomes", "constraints", "seed",
                          "learn_from", "objective_mode", "batch_shared"})
"""Top-level configuration fields the editors set (every other one is carried from a base)."""
_PARAMETER_KEYS = frozenset({"name", "type", "bounds", "resolution", "values", "unit", "log_scale", "reference",
                             "description"})
_OUTCOME_KEYS = frozenset({"name", "goal", *_OUTCOME_NUMBERS, "valid_range", "unit", "description"})


def _carried(base: CampaignConfig, parameters: list[dict[str, Any]], objectives: list[dict[str, Any]],
             outcomes: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], ...]:
    """The edited items with the fields the editors have no column for taken from ``base``."""
    raw = base.to_dict()
    old_parameters = {p["name"]: p for p in raw.get("parameters", [])}
    old_outcomes = {o["name"]: o for o in [*raw.get("objectives", []), *raw.get("outcomes", [])]}

    def keep(item: dict[str, Any], old: dict[str, Any] | None, shown: frozenset[str]) -> dict[str, Any]:
        return item if old is None else {**{k: v for k, v in old.items() if k not in shown}, **item}

    return ([keep(p, old_parameters.get(p["name"]) if old_parameters.get(p["name"], {}).get("type") == p["type"]
                  else None, _PARAMETER_KEYS) for p in parameters],
            [keep(o, old_outcomes.get(o["name"]), _OUTCOME_KEYS) for o in objectives],
            [keep(o, old_outcomes.get(o["name"]), _OUTCOME_KEYS) for o in outcomes])


def config_from_tables(
    name: str,
    tables: ConfigTables,
    *,
    description: str | None = None,
    seed: int | None = None,
    learn_from: Sequence[str] = (),
    base: CampaignConfig | None = None,
) -> CampaignConfig:
    """A validated configuration from the edited tables.

    Rows whose every cell is empty are ignored (the editors' blank new rows); a row with a value
    but no ``name`` is refused, naming it (the engineer typed it: dropped, a parameter or an
    outcome would vanish from the saved version). What the editors
    do not show is kept from ``base`` (the configuration being edited, or the template):
    its other top-level fields (``control_recipe``, ``impedance``, ...) and,
    for a parameter of the same name and type or an outcome of the same name, the fields that
    have no column (e.g. a curve outcome's ``over``/``at``). A parameter removed in the editor
    but still named there is then a configuration error naming that field.

    Raises:
        ConfigError: every problem, each naming the table, row (1 = first), column and value.
    """
    problems: list[str] = []
    parameters: list[dict[str, Any]] = []
    shared: list[str] = []
    for i, row in enumerate(tables.parameters.to_dict("records"), start=1):
        pname = _text(row.get("name"))
        if pname is None:
            _unnamed(row, f"parameters row {i}", "parameter", problems)
            continue
        where = f"parameters row {i} ({pname})"
        kind = _text(row.get("type"))
        if kind not in PARAMETER_TYPES:
            problems.append(f"{where}, type: {kind!r} is not one of {list(PARAMETER_TYPES)}")
            continue
        item: dict[str, Any] = {"name": pname, "type": kind}
        if kind == "continuous":
            lower = _number(row.get("lower"), f"{where}, lower", problems)
            upper = _number(row.get("upper"), f"{where}, upper", problems)
            if lower is None or upper is None:
                if _blank(row.get("lower")) or _blank(row.get("upper")):  # (a bound typed wrong is said above)
                    problems.append(f"{where}: a continuous parameter needs a lower and an upper bound")
                continue
            item["bounds"] = [lower, upper]
            if _flag(row.get("log_scale")):
                item["log_scale"] = True
            if (resolution := _number(row.get("resolution"), f"{where}, resolution", problems)) is not None:
                item["resolution"] = resolution
            reference = _number(row.get("reference"), f"{where}, reference", problems)
        else:
            for key in ("lower", "upper", "resolution"):  # refused, not dropped: the engineer typed it
                if not _blank(row.get(key)):
                    problems.append(f"{where}, {key}: {row.get(key)!r} applies only to continuous parameters; "
                                    "clear it")
            if _flag(row.get("log_scale")):
                problems.append(f"{where}, log_scale: applies only to continuous parameters; untick it")
            labels = [v.strip() for v in label_list(str(row.get("values") or "")) if v.strip()]
            if not labels:
                problems.append(f"{where}, values: list the allowed values separated by commas (a label with a comma "
                                'in double quotes: "N2, 5% H2")')
                continue
            if kind == "discrete":
                numbers = [_number(v, f"{where}, values", problems) for v in labels]
                if any(v is None for v in numbers):
                    continue
                item["values"] = numbers
                reference = _number(row.get("reference"), f"{where}, reference", problems)
            else:
                item["values"] = labels
                reference = _text(row.get("reference"))  # type: ignore[assignment]
        if reference is not None:
            item["reference"] = reference
        for key in ("unit", "description"):
            if (text := _text(row.get(key))) is not None:
                item[key] = text
        if _flag(row.get("shared")):
            shared.append(pname)
        parameters.append(item)

    objectives: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    for i, row in enumerate(tables.outcomes.to_dict("records"), start=1):
        oname = _text(row.get("name"))
        if oname is None:
            _unnamed(row, f"outcomes row {i}", "outcome", problems)
            continue
        where = f"outcomes row {i} ({oname})"
        role = _text(row.get("role"))
        if role not in OUTCOME_ROLES:
            problems.append(f"{where}, role: {role!r} is not one of {list(OUTCOME_ROLES)}")
            continue
        item = {"name": oname}
        if role != "measure only":
            item["goal"] = role
            for key in _OUTCOME_NUMBERS:
                if (value := _number(row.get(key), f"{where}, {key}", problems)) is not None:
                    item[key] = value
        else:
            for key in _OUTCOME_NUMBERS:  # refused, not dropped: the engineer typed it
                if not _blank(row.get(key)):
                    problems.append(f"{where}, {key}: {row.get(key)!r} applies only to objectives (role maximize, "
                                    "minimize or target); clear it or give the outcome a goal")
        low, high = (_number(row.get(key), f"{where}, {key}", problems) for key in _RANGE_COLUMNS)
        if low is not None or high is not None:
            item["valid_range"] = [low, high]
        for key in ("unit", "description"):
            if (text := _text(row.get(key))) is not None:
                item[key] = text
        (objectives if role != "measure only" else outcomes).append(item)

    if base is not None:
        parameters, objectives, outcomes = _carried(base, parameters, objectives, outcomes)
    data: dict[str, Any] = {"name": (name or "").strip(), "parameters": parameters, "objectives": objectives}
    if base is not None:  # the fields the editors do not show
        data = {**{k: v for k, v in base.to_dict().items() if k not in _FORM_FIELDS}, **data}
    if description and description.strip():
        data["description"] = description.strip()
    if outcomes:
        data["outcomes"] = outcomes
    constraints = [line.strip() for line in (tables.constraints or "").splitlines() if line.strip()]
    if constraints:
        data["constraints"] = constraints
    if seed is not None:
        data["seed"] = seed
    if learn_from:
        data["learn_from"] = list(learn_from)
    if tables.objective_mode != "pareto":
        data["objective_mode"] = tables.objective_mode
    if shared:  # the parameters ticked "shared per batch", in the base's order when the same ones
        same = base is not None and set(shared) == set(base.batch_shared)
        data["batch_shared"] = list(base.batch_shared) if same and base is not None else shared
    try:
        config = CampaignConfig.from_dict(data, stored_name=None if base is None else base.name)
    except ConfigError as err:  # its problems in the tables' words: 'parameters[x].name' is 'parameters row 2 (x), name'
        rows = {f"parameters[{n}].": f"parameters row {i} ({n}), " for i, n in enumerate(
            tables.parameters["name"].map(_text), start=1) if n is not None}
        rows |= {f"{kind}[{n}].": f"outcomes row {i} ({n}), " for i, n in enumerate(
            tables.outcomes["name"].map(_text), start=1) if n is not None for kind in ("objectives", "outcomes")}
        lines = [line.strip()[2:] for line in str(err).splitlines()[1:] if line.strip().startswith("- ")]
        for line in lines or [str(err)]:
            prefix = next((p for p in rows if line.startswith(p)), None)
            problems.append(line if prefix is None else rows[prefix] + line[len(prefix):])
    if problems:
        raise ConfigError(
            f"campaign configuration {data['name']!r} is invalid:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    return config


def _unnamed(row: Mapping[Any, Any], where: str, kind: str, problems: list[str]) -> None:
    """The problem of a row without a name that holds a value (a blank row is no problem)."""
    given = [f"{key} {value!r}" for key, value in row.items()
             if key != "name" and value is not False and not _blank(value)]
    if given:
        problems.append(f"{where}, name: empty, while the row gives {', '.join(given)}; name the {kind} "
                        "or delete the row")


__all__ = [
    "OBJECTIVE_MODES",
    "OUTCOME_COLUMNS",
    "OUTCOME_ROLES",
    "PARAMETER_COLUMNS",
    "PARAMETER_TYPES",
    "ConfigTables",
    "config_from_tables",
    "empty_tables",
    "tables_from_config",
]
