"""Learning from earlier campaigns: their finished experiments on this campaign's parameters.

Pure functions of data (no store, no model): :func:`source_training` turns a source
campaign's experiments into rows the engine can put beside the target's
(:mod:`doe.engine.transfer` fits the multi-task model).

Parameters the campaigns do not share: a source column that the target lacks is ignored
(the target varies fewer things; the source's rows are read as if that parameter did not
matter). A target parameter that the source lacks is filled with the target parameter's
``reference`` value (the lab's usual setting, which the earlier campaign most likely kept
fixed); without a reference the source contributes no rows (logged), because guessing a
value would put its results at recipes that were never made. For the same reason a source
row is left out (logged) where a shared parameter lies outside the target's range or values
(it is not moved onto the bound), and a parameter or outcome the two campaigns give in
different units is converted where :data:`doe.domain.units.CONVERSIONS` knows how (K and C,
s, min and h, fraction and %); where it does not, the source contributes nothing of it.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from doe.domain.batches import history_table, training_table
from doe.domain.config import CampaignConfig
from doe.domain.parameters import CategoricalParameter, ContinuousParameter, DiscreteParameter
from doe.domain.units import CONVERSIONS, canonical_unit

logger = logging.getLogger(__name__)


def shared_outcomes(target: CampaignConfig, source: CampaignConfig) -> list[str]:
    """Outcomes of the target (objectives and others) that the source measured too, target order."""
    return [o for o in target.outcome_names if o in source.outcome_names]


def _in_target_units(values: pd.Series, name: str, target: CampaignConfig, source: CampaignConfig) -> pd.Series | None:
    """``values`` of ``name`` from the source in the target's unit; None when they cannot be."""
    found, wanted = canonical_unit(source.unit_of(name)), canonical_unit(target.unit_of(name))
    if found == wanted:
        return values
    convert = CONVERSIONS.get((found, wanted)) if found and wanted else None
    if convert is None:
        logger.warning("campaign %r gives %r in %s, %r in %s: no conversion is known, so it adds nothing of it",
                       source.name, name, found or "no unit", target.name, wanted or "no unit")
        return None
    return values.map(lambda v: convert(float(v)) if pd.notna(v) else v)


def _inside(values: pd.Series, p: ContinuousParameter | DiscreteParameter) -> pd.Series:
    """Which ``values`` the target parameter ``p`` allows (NaN: not)."""
    if isinstance(p, ContinuousParameter):
        span = p.upper - p.lower
        return (values >= p.lower - 1e-9 * span) & (values <= p.upper + 1e-9 * span)
    allowed = np.asarray(p.values, dtype=float)
    return values.map(lambda v: bool(np.any(np.isclose(allowed, v, rtol=1e-9, atol=1e-12))) if pd.notna(v) else False)


def source_training(target: CampaignConfig, source: CampaignConfig, experiments: pd.DataFrame,
                    measurements: pd.DataFrame | None = None) -> pd.DataFrame:
    """The source campaign's successful experiments as training rows of the target.

    Args:
        target: the configuration of the campaign that learns.
        source: the configuration of the earlier campaign.
        experiments: the source campaign's stored experiments (as the store returns them).
        measurements: the source's measurements (as the store returns them), read for its
            curve outcomes (a curve's value at its target cycle); without them a curve
            outcome adds nothing.

    Returns:
        One row per finished, successful source experiment: every target parameter column
        (engineer units; see the module docstring for parameters the source lacks) and the
        shared outcomes (NaN = not measured). Empty (same columns) when nothing is usable.
    """
    outcomes = shared_outcomes(target, source)
    columns = [*target.parameter_names, *outcomes]
    empty = pd.DataFrame(columns=columns)
    if not outcomes or len(experiments) == 0:
        return empty
    done = training_table(history_table(experiments, source, (lambda: measurements) if measurements is not None
                                        else None), source)
    done = done[~done["failed"]] if "failed" in done.columns else done
    rows = pd.DataFrame(index=done.index)
    outside = pd.Series(False, index=done.index)
    for p in target.parameters:
        if p.name in done.columns:
            col = done[p.name]
            if isinstance(p, CategoricalParameter):
                rows[p.name] = col.astype(str)
                continue
            numbers = _in_target_units(pd.to_numeric(col, errors="coerce"), p.name, target, source)
            if numbers is None:
                return empty
            rows[p.name] = numbers
            outside |= numbers.notna() & ~_inside(numbers, p).astype(bool)
        elif p.reference is not None:
            rows[p.name] = p.reference
        else:
            logger.warning("campaign %r lacks parameter %r, which has no reference value in %r; its experiments "
                           "are left out of the transfer", source.name, p.name, target.name)
            return empty
    if outside.any():
        logger.warning("campaign %r: %d finished experiment(s) lie outside the ranges or values of %r and are left "
                       "out of the transfer (not moved onto a bound)", source.name, int(outside.sum()), target.name)
    for o in outcomes:
        converted = _in_target_units(pd.to_numeric(done[o], errors="coerce"), o, target, source)
        rows[o] = converted if converted is not None else np.nan
    complete = rows[target.parameter_names].notna().all(axis=1) & rows[outcomes].notna().any(axis=1) & ~outside
    rows = rows[complete.to_numpy(dtype=bool)]
    if len(rows) < len(done):
        logger.info("campaign %r: %d of %d finished experiment(s) unusable for %r (a parameter of another type, "
                    "outside the target's space, or no shared outcome measured)", source.name, len(done) - len(rows),
                    len(done), target.name)
    return rows[columns].reset_index(drop=True).astype({o: float for o in outcomes})


def sources_digest(sources: dict[str, pd.DataFrame]) -> bytes:
    """Bytes that change whenever a source's rows change (part of the fitted models' cache key)."""
    parts = [name.encode() + pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes()
             for name, table in sorted(sources.items())]
    return b"|".join(parts) if parts else np.zeros(0).tobytes()


def informed_by_text(learn_from: tuple[str, ...] | list[str], report: pd.DataFrame | None) -> str:
    """One plain-text line: which earlier campaigns inform the model, and how.

    Args:
        learn_from: the configuration's ``learn_from``.
        report: ``Campaign.transfer_report()`` (columns outcome, source, correlation, used),
            or None when there is no model yet.

    Example: ``Informed by: hfo2-2025 (first_cycle_ce_pct: correlation 0.81, used)``.
    """
    if not learn_from:
        return "Informed by: no earlier campaign"
    if report is None:
        return f"Informed by: {', '.join(learn_from)} (no model yet: record results first)"
    parts = []
    for name in learn_from:
        rows = report[report["source"] == name] if len(report) else report
        if not len(rows):
            parts.append(f"{name} (no shared, usable data)")
            continue
        parts.append(f"{name} (" + "; ".join(
            f"{r.outcome}: correlation {r.correlation:.2f}, {'used' if r.used else 'not used: did not help'}"
            for r in rows.itertuples()) + ")")
    return "Informed by: " + ", ".join(parts)
