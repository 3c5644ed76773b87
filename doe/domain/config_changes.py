"""What a new configuration version does to the experiments already there (pure functions):
the warnings the Campaigns page shows before it saves, and the changes refused outright
because the stored values would be read as something else (:func:`reinterpreting_changes`)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.objectives import valid_range_text
from doe.domain.parameters import CategoricalParameter, ContinuousParameter
from doe.domain.table import ID_COLUMN
from doe.domain.units import CONVERSIONS, canonical_unit
from doe.domain.values import is_missing
from doe.errors import ConfigError

KEPT_STATUSES = ("completed", "failed", "running", "proposed")
SHOWN = 10
"""Experiments listed by name in one warning (the rest counted)."""


def _outside(config: CampaignConfig, row: pd.Series) -> list[str]:
    reasons = []
    values: dict[str, float] = {}
    for p in config.parameters:
        if p.name not in row or row[p.name] is None or (isinstance(row[p.name], float) and math.isnan(row[p.name])):
            continue
        value = row[p.name]
        if isinstance(p, CategoricalParameter):
            if p.listed(str(value)) is None:  # a label stored decomposed is its composed one
                reasons.append(f"{p.name} = {value} is not one of {', '.join(p.values)}")
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):  # a label stored under a parameter retyped to numbers
            reasons.append(f"{p.name} = {value} is not a number")
            continue
        values[p.name] = number
        if isinstance(p, ContinuousParameter):
            if not p.lower <= number <= p.upper:
                reasons.append(f"{p.name} = {number:g} is outside {p.lower:g} to {p.upper:g}")
        elif number not in {float(v) for v in p.values}:
            reasons.append(f"{p.name} = {number:g} is not one of {', '.join(f'{v:g}' for v in p.values)}")
    for con in config.linear_constraints:
        if set(con.coefficients) <= set(values) and not con.satisfied(values):
            reasons.append(f"breaks {con.text()}")
    return reasons


def config_change_warnings(old: CampaignConfig, new: CampaignConfig, history: pd.DataFrame) -> list[str]:
    """Warnings, in words, about saving ``new`` over ``old``: finished or pending experiments
    of ``history`` that the new ranges, values or linear constraints exclude, parameters whose
    log scale is switched off (or on), and measured outcomes or parameters the new version
    drops (or renames). Empty when nothing needs a second look."""
    warnings = []
    kept = history[history["status"].isin(KEPT_STATUSES)] if "status" in history.columns else history
    for status_group, label in ((("completed", "failed"), "finished"), (("running", "proposed"), "pending")):
        rows = kept[kept["status"].isin(status_group)] if "status" in kept.columns else kept.iloc[0:0]
        found = [(str(r[ID_COLUMN]), why) for _, r in rows.iterrows() if (why := _outside(new, r))]
        if found:
            listed = "; ".join(f"{i} ({', '.join(why)})" for i, why in found[:SHOWN])
            more = f"; and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
            warnings.append(f"{len(found)} {label} experiment(s) fall outside the new configuration: {listed}{more}")
    finished = kept[kept["status"].isin(("completed", "failed"))] if "status" in kept.columns else kept
    for p in new.parameters:
        if p.name in old.parameter_names or not len(finished):
            continue
        warnings.append(
            f"{p.name} is new: the {len(finished)} finished experiment(s) have no value of it; the model takes them "
            f"at its reference ({p.reference})" if p.reference is not None else
            f"{p.name} is new and has no reference value: the {len(finished)} finished experiment(s), which have no "
            "value of it, are left out of the model (give it the reference, the value the lab used so far, to keep them)")
    for p in new.parameters:
        if not isinstance(p, ContinuousParameter) or p.name not in old.parameter_names:
            continue
        before = old.parameter(p.name)
        if isinstance(before, ContinuousParameter) and before.log_scale != p.log_scale:
            warnings.append(
                f"{p.name} is no longer on a log scale: the model will treat {p.lower:g} to {p.upper:g} in equal steps, "
                "not equal ratios" if before.log_scale else
                f"{p.name} is now on a log scale: the model will treat {p.lower:g} to {p.upper:g} in equal ratios")
    for name in [o for o in old.outcome_names if o not in new.outcome_names]:  # a rename is a drop and an add
        column = name + "_last_cycle" if name in old.curve_outcomes else name
        measured = int(pd.to_numeric(finished.get(column, pd.Series(dtype=float)), errors="coerce").notna().sum())
        if measured:
            warnings.append(f"{name} is no longer an outcome, and {measured} finished experiment(s) have values of it: "
                            "they stay stored (measurements, the cells file, the JSON export) but leave the model and "
                            "the rankings" + (" and, as a curve, the history" if name in old.curve_outcomes else "")
                            + "; renaming an outcome does not carry its values to the new name")
    for p in old.parameters:
        if p.name not in new.parameter_names and p.name in finished.columns and finished[p.name].notna().any():
            warnings.append(f"{p.name} is no longer a parameter: the finished experiments keep their values of it in "
                            "the history, but the model no longer tells them apart by it")
    for name in new.outcome_names:
        valid = new.valid_range_of(name)
        if valid is None or valid == old.valid_range_of(name) or name not in history.columns:
            continue
        values = pd.to_numeric(history[name], errors="coerce")
        low, high = valid
        below = values < low if low is not None else pd.Series(False, index=values.index)
        outside = history.loc[below | (values > high if high is not None else False), ID_COLUMN]
        if len(outside):
            warnings.append(f"{len(outside)} experiment(s) hold a value of {name} outside its new valid_range "
                            f"({valid_range_text(valid)}): {', '.join(map(str, outside[:SHOWN]))}; they stay "
                            "recorded, but a file that gives such a value again is refused")
    return warnings


def _recorded_under(versions: Mapping[int, CampaignConfig], version: int, name: str) -> CampaignConfig | None:
    """The configuration a stored value of parameter ``name`` was recorded under: that of the
    experiment's version, or the newest older one naming the parameter (None: none does)."""
    for number in sorted((v for v in versions if v <= version), reverse=True):
        if name in versions[number].parameter_names:
            return versions[number]
    return None


def reinterpreting_changes(new: CampaignConfig, versions: Mapping[int, CampaignConfig], experiments: pd.DataFrame,
                           measurements: pd.DataFrame) -> list[str]:
    """The ways ``new`` would make stored values mean something else, in words, judged against
    what is stored rather than against the previous version alone (a unit dropped and then
    another one named, or a parameter dropped and added back as another type, is caught too).

    ``versions``: every configuration version of the campaign by number; ``experiments``: one
    row per stored experiment with ``experiment_id``, ``config_version`` (the version it was
    recorded under) and ``parameters`` (its stored values by name); ``measurements``: the
    current cells with ``experiment_id``, ``outcome`` and ``unit`` (the unit each was recorded
    in). A parameter value is in the unit and of the type the parameter had in its experiment's
    version (or the newest older one naming it; a value no version explains is a label if it is
    text and has no unit). Refused: a unit other than a stored value's (``%`` to ``fraction``,
    ``C`` to ``K``; another spelling of one unit is no change, and neither is naming a unit for
    values stored without one, or leaving it out: the values stay the numbers typed), and labels
    where numbers are stored or the reverse. doe converts no stored value; empty when none."""
    problems = []
    stored_units: dict[str, dict[str, tuple[str, set[str]]]] = {}  # name -> stored unit -> (as written, experiments)
    kinds: dict[str, dict[str, set[str]]] = {}  # parameter -> stored type -> experiments
    rows = experiments.to_dict("records") if len(experiments) else []
    sources: dict[tuple[int, str], CampaignConfig | None] = {}
    for p in new.parameters:
        for row in rows:
            value = row["parameters"].get(p.name) if isinstance(row["parameters"], dict) else None
            if is_missing(value):
                continue
            exp_id = str(row["experiment_id"])
            key = (int(row["config_version"]), p.name)
            if key not in sources:
                sources[key] = _recorded_under(versions, *key)
            source = sources[key]
            was: str = source.parameter(p.name).type if source is not None else (
                "categorical" if isinstance(value, str) else "numeric")
            if (was == "categorical") != isinstance(p, CategoricalParameter):
                kinds.setdefault(p.name, {}).setdefault(was, set()).add(exp_id)
            unit = source.unit_of(p.name) if source is not None else None
            if (stored := canonical_unit(unit)) is not None:
                stored_units.setdefault(p.name, {}).setdefault(stored, (str(unit), set()))[1].add(exp_id)
    outcomes = set(new.outcome_names)
    for r in measurements.itertuples() if len(measurements) else []:
        outcome, cell_unit = str(r.outcome), r.unit
        if outcome in outcomes and isinstance(cell_unit, str) and (stored := canonical_unit(cell_unit)) is not None:
            stored_units.setdefault(outcome, {}).setdefault(stored, (cell_unit, set()))[1].add(str(r.experiment_id))
    latest = versions[max(versions)] if versions else None

    def kept(name: str) -> bool:  # as the campaign reads it now: nothing changes for its values
        return latest is not None and name in [*latest.parameter_names, *latest.outcome_names] and \
            canonical_unit(latest.unit_of(name)) == canonical_unit(new.unit_of(name))

    for name in [*new.parameter_names, *new.outcome_names]:
        after = canonical_unit(new.unit_of(name))
        for stored, (unit, held) in stored_units.get(name, {}).items():
            if after is None or stored == after or kept(name):
                continue
            converted = (f" (a file in {after} is converted when recorded if its column header names the unit, "
                         f"'{name} [{after}]')" if (after, stored) in CONVERSIONS else "")
            problems.append(
                f"{name}: the unit changes from {unit} to {new.unit_of(name)}, but {len(held)} experiment(s) "
                f"hold values of it in {unit}, which would be read as {new.unit_of(name)}; doe converts "
                f"no stored value: keep the unit{converted}, or start a new campaign")
    for p in new.parameters:
        if latest is not None and p.name in latest.parameter_names and latest.parameter(p.name).type == p.type:
            continue  # the type the campaign reads its values as now
        for was, held in kinds.get(p.name, {}).items():
            problems.append(
                f"{p.name}: the type changes from {was} to {p.type}, but {len(held)} experiment(s) "
                f"hold {'labels' if was == 'categorical' else 'numbers'} of it; keep the type, or add a parameter "
                "under another name")
    return problems


def check_reinterpreting(new: CampaignConfig, versions: Mapping[int, CampaignConfig], experiments: pd.DataFrame,
                         measurements: pd.DataFrame) -> None:
    """Refuse ``new`` where :func:`reinterpreting_changes` finds a change.

    Raises:
        ConfigError: naming each such parameter or outcome.
    """
    if refused := reinterpreting_changes(new, versions, experiments, measurements):
        raise ConfigError("the new configuration version is refused, nothing was saved:\n"
                          + "\n".join(f"  - {p}" for p in refused))
