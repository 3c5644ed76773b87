"""How far the model can be trusted, in numbers and words (pure functions of the
leave-one-out table, :meth:`doe.Campaign.cross_validate`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from doe.domain.config import CampaignConfig

TRUST_COLUMNS = ("outcome", "experiments", "r2", "rmse", "verdict")


def min_experiments(config: CampaignConfig) -> int:
    """Completed experiments below which importance, response surfaces and the profiler are
    hidden: two more than the number of parameters (at least 6), the fewest with which a model
    over every parameter says more than its prior."""
    return max(6, len(config.parameters) + 2)


def model_trust(cross_validation: pd.DataFrame, config: CampaignConfig) -> pd.DataFrame:
    """Leave-one-out R² and RMSE per outcome, with a sentence a process engineer can act on.

    R² is ``1 - SSE / SST`` of the leave-one-out predictions against the measured values
    (SST about their mean): 1 predicts perfectly, 0 no better than the average, below 0 worse.

    Returns:
        Columns :data:`TRUST_COLUMNS`, one row per outcome in the leave-one-out table, in the
        configuration's order; ``rmse`` in the outcome's unit.
    """
    rows = []
    for outcome in [o for o in config.outcome_names if o in set(cross_validation.get("outcome", []))]:
        part = cross_validation[cross_validation["outcome"] == outcome]
        measured = part["measured"].astype(float).to_numpy()
        predicted = part["predicted_mean"].astype(float).to_numpy()
        residual = measured - predicted
        rmse = float(np.sqrt(np.mean(residual**2))) if len(residual) else math.nan
        sst = float(np.sum((measured - measured.mean()) ** 2)) if len(measured) else 0.0
        r2 = 1.0 - float(np.sum(residual**2)) / sst if sst > 0 else math.nan
        rows.append({"outcome": outcome, "experiments": len(part), "r2": r2, "rmse": rmse,
                     "verdict": verdict(outcome, r2, rmse, config.unit_of(outcome))})
    return pd.DataFrame(rows, columns=list(TRUST_COLUMNS))


def verdict(outcome: str, r2: float, rmse: float, unit: str | None = None) -> str:
    """One sentence on how far the predictions of ``outcome`` can be trusted."""
    error = f"{rmse:.3g}{' ' + unit if unit else ''}"
    if math.isnan(r2):
        return f"{outcome}: every measured value is the same, so there is nothing to predict yet"
    if r2 < 0.1:
        return f"{outcome}: still exploring: the model does not yet predict better than the average"
    if r2 < 0.5:
        return (f"{outcome}: a rough guide: the model explains about {r2:.0%} of the variation; "
                f"trust the trends, not single values (typical error {error})")
    if r2 < 0.8:
        return f"{outcome}: useful: the model explains about {r2:.0%} of the variation (typical error {error})"
    return f"{outcome}: reliable: the model explains {r2:.0%} of the variation (typical error {error})"
