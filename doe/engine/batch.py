"""The next batch of a campaign from its history: the engine's proposal laid out as the
experiments to store (ids assigned by the store), with the batch's seed and provenance."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pandas as pd

from doe.domain.batches import batch_seed, pending_recipes, proposed_experiments, training_table
from doe.domain.config import CampaignConfig
from doe.domain.records import NewExperiment
from doe.domain.requests import request_record
from doe.engine.propose import propose
from doe.engine.settings import EngineSettings
from doe.engine.surrogates import Surrogates
from doe.errors import ProposalError
from doe.version import __version__


def next_batch(config: CampaignConfig, history: pd.DataFrame, n: int, *, campaign_seed: int, config_version: int,
               settings: EngineSettings, fit: Callable[[pd.DataFrame], Surrogates],
               fixed: dict[str, Any] | None = None, candidates: pd.DataFrame | None = None, design: Any = "model",
               request_id: str | None = None) -> tuple[pd.DataFrame, list[NewExperiment], str]:
    """The batch that follows ``history`` (``Campaign.history()``).

    Args:
        fit: the fitted surrogates for a training table (a campaign's cache); a
            :class:`ProposalError` from it (no usable data yet) means "start with a design".
        campaign_seed, config_version: the campaign's; the batch's seed follows from the seed
            and the batch's number (:func:`doe.domain.batches.batch_seed`).
        fixed, candidates, design: as :func:`doe.engine.propose`.
        request_id: stored with the batch's provenance (exactly-once requests), with what the
            request asked for (:func:`doe.domain.requests.request_record`).

    Returns:
        The recipes with their predictions, the experiments to store (batch ``B<k>``), and the
        batch's strategy.
    """
    training = training_table(history, config)
    pending = pending_recipes(history, config)
    batch_index = len(history["batch_id"].dropna().unique()) + 1
    seed = batch_seed(campaign_seed, batch_index)
    surrogates = None
    with contextlib.suppress(ProposalError):  # no model yet: propose() starts with a design
        surrogates = fit(training) if len(training) > 0 else None
    proposal = propose(config, training.reset_index(drop=True), n, pending=pending if len(pending) else None,
                       fixed=fixed or None, candidates=candidates, seed=seed, settings=settings,
                       surrogates=surrogates, design=design)
    recipes = proposal.recipes.reset_index(drop=True)
    asked = {"request_id": request_id, "request": request_record(n, fixed, candidates, design, config)}
    provenance = {**proposal.model_settings, **(asked if request_id else {})}
    new = proposed_experiments(recipes, config, config_version=config_version, batch_id=f"B{batch_index:04d}",
                               seed=seed, package_version=__version__, model_settings=provenance)
    return recipes, new, proposal.strategy


__all__ = ["next_batch"]
