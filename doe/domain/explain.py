"""Why a recipe was proposed, in the words an engineer uses (pure functions, no model).

The engine stores with each proposal its predicted outcomes (mean and sd), the chance it
works and meets the constraints, and how it was chosen (``strategy``). These functions turn
that into text for the Plan page and the run sheet: ``"90.1 % ± 1.2"`` and a purpose such as
``"exploits near the best recipe E0007"`` or ``"explores untried toluene (solvent)"``. No
algorithm name reaches the person.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.display import format_number
from doe.domain.parameters import CategoricalParameter, ContinuousParameter, DiscreteParameter
from doe.domain.values import composed

NEAR_BEST = 0.15
"""Root-mean-square distance (each parameter scaled to its range, a different label counting 1)
below which a recipe counts as "near" a measured one."""
UNCERTAIN = 0.5
"""Predicted sd, as a share of the measured spread of the outcome, above which the model is
said to be unsure there."""


DESIGN_PURPOSES = {
    "control": "the control recipe, repeated in every batch to catch drift",
    "reference": "the reference recipe (each parameter's reference value), run first so that the search starts from it",
    "latin_hypercube": "part of a Latin hypercube design (spread evenly over every range)",
    "screening": "part of a two-level screening design (which parameters matter)",
}
"""Purposes of recipes that a classical design, not the model, chose (by ``strategy``)."""


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def prediction_text(mean: Any, sd: Any, unit: str | None = None) -> str:
    """``"90.1 % ± 1.2"``: the mean rounded to the precision its sd allows (the sd to two
    significant figures), the unit after the mean; without an sd the mean at 4 significant
    figures; ``""`` without a mean. Rounded as every number doe shows
    (:func:`doe.domain.display.format_number`: a tie away from zero)."""
    if _missing(mean):
        return ""
    mean_f = float(mean)
    suffix = f" {unit}" if unit else ""
    if _missing(sd) or not math.isfinite(float(sd)) or float(sd) <= 0:
        return f"{format_number(mean_f)}{suffix}"
    sd_f = float(sd)
    places = max(0, 1 - math.floor(math.log10(sd_f)))
    return f"{format_number(mean_f, places)}{suffix} ± {format_number(sd_f, places)}"


def recipe_distance(a: pd.DataFrame, b: pd.Series, config: CampaignConfig) -> np.ndarray:
    """Distance of each recipe in ``a`` to the recipe ``b``: root mean square over the
    parameters of the difference scaled to the parameter's range (log range for a log-scale
    parameter); a different label counts 1. Shape ``(len(a),)``."""
    parts: list[np.ndarray] = []
    for p in config.parameters:
        if isinstance(p, CategoricalParameter):
            label = composed(str(b[p.name]))  # a label stored decomposed is its composed one
            parts.append((a[p.name].astype(str).map(composed) != label).to_numpy(dtype=float))
            continue
        values = a[p.name].astype(float).to_numpy()
        target = float(b[p.name])
        if isinstance(p, ContinuousParameter) and p.log_scale:
            span = math.log(p.upper / p.lower)
            parts.append((np.log(values) - math.log(target)) / span)
        else:
            lo, hi = (p.lower, p.upper) if isinstance(p, ContinuousParameter) else (min(p.values), max(p.values))
            parts.append((values - target) / ((hi - lo) or 1.0))
    return np.sqrt(np.mean(np.square(np.vstack(parts)), axis=0)) if parts else np.zeros(len(a))


def _untried(row: pd.Series, measured: pd.DataFrame, config: CampaignConfig) -> list[str]:
    words = []
    for p in config.parameters:
        if isinstance(p, CategoricalParameter | DiscreteParameter) and p.name in measured.columns:
            seen = set(measured[p.name].astype(str).map(composed)) if isinstance(p, CategoricalParameter) else \
                set(measured[p.name].astype(float))
            value = composed(str(row[p.name])) if isinstance(p, CategoricalParameter) else float(row[p.name])
            if value not in seen:
                shown = value if isinstance(value, str) else f"{value:g}{' ' + p.unit if p.unit else ''}"
                words.append(f"untried {shown} ({p.name})")
    return words


def purpose(row: pd.Series, measured: pd.DataFrame, best_id: str | None, config: CampaignConfig) -> str:
    """What a proposed recipe is for, in words.

    Args:
        row: the proposal: its parameters, ``strategy`` and ``<outcome>_mean``/``_sd``.
        measured: the completed experiments (history rows: ``experiment_id`` and parameters).
        best_id: the best measured recipe's id (:func:`doe.domain.ranking.best`), if any.
        config: the campaign's configuration.
    """
    strategy = str(row.get("strategy") or "")
    from_list = " (from your candidate list)" if strategy.endswith("+candidates") else ""
    strategy = strategy.removesuffix("+candidates")
    if strategy in DESIGN_PURPOSES:
        return DESIGN_PURPOSES[strategy] + from_list
    if strategy == "initial_design" or measured.empty:
        return "spreads the first recipes over the whole range (before the model chooses them)" + from_list
    untried = _untried(row, measured, config)
    if untried:
        return "explores " + ", ".join(untried) + from_list
    ids = measured["experiment_id"].astype(str).to_numpy()
    frame = row.to_frame().T
    if best_id is not None and best_id in set(ids):
        best = measured[measured["experiment_id"].astype(str) == best_id].iloc[0]
        if float(recipe_distance(frame, best, config)[0]) <= NEAR_BEST:
            lead = "the model's best guess, " if strategy == "best_guess" else "exploits "
            return f"{lead}near the best recipe {best_id}{from_list}"
    if strategy == "best_guess":
        return "the model's best guess" + from_list
    if strategy == "explore_untried":
        return "tries a label or level that few experiments have used" + from_list
    if strategy == "whole_space":
        return "chosen from the whole range, not only near the best recipe" + from_list
    distances = np.array([recipe_distance(frame, measured.iloc[i], config)[0] for i in range(len(measured))])
    nearest = ids[int(np.argmin(np.nan_to_num(distances, nan=np.inf)))]  # (a recipe with a blank value: far)
    unsure = [o for o in config.outcome_names if _unsure(row, measured, o)]
    if unsure:
        return (f"explores where the model is unsure about {', '.join(unsure)} "
                f"(nearest measured recipe {nearest}){from_list}")
    return f"promising and not yet measured (nearest measured recipe {nearest}){from_list}"


def _unsure(row: pd.Series, measured: pd.DataFrame, outcome: str) -> bool:
    sd = row.get(f"{outcome}_sd")
    if sd is None or _missing(sd) or outcome not in measured.columns:
        return False
    spread = float(pd.to_numeric(measured[outcome], errors="coerce").std())
    return math.isfinite(spread) and spread > 0 and float(sd) > UNCERTAIN * spread
