"""Warm starts of the GP hyperparameter fits (issue 19): where an outcome's fit starts from.

A fit of a large history (more than :data:`WARM_START_MIN_ROWS` measurements) starts from the
optimum of an earlier fit of the same outcome instead of the prior's mode: it reaches the
same optimum in fewer L-BFGS iterations. Earlier optima come from

* the previous fit in this process (:func:`previous_warm_starts`), or else
* the :class:`~doe.domain.model_states.ModelState` stored with the campaign by the last fit in
  any process (a CLI call, a worker, another app replica; :func:`stored_warm_starts`).

A stored state is used only when its :func:`state_signature` (encoding, kernel, prior, sources
and the layout of ``theta``) equals this campaign's, it has one entry per model dimension plus
noise and constant, and every entry is finite; anything else is ignored (logged) and the fit
starts cold. Smaller histories always start cold, so their batches never depend on what was
fitted before.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from doe.domain.config import CampaignConfig
from doe.domain.model_states import ModelState
from doe.engine.settings import EngineSettings

if TYPE_CHECKING:
    from doe.engine.surrogates import Surrogates

logger = logging.getLogger(__name__)

WARM_START_MIN_ROWS = 300
"""Measurements of an outcome above which its fit starts from an earlier fit's optimum."""
THETA_LAYOUT = "exact-gp-theta/1: log lengthscales (one per model dimension), log noise, constant"
"""Part of every signature: a change of the GP's ``theta_`` layout makes stored states unusable."""


def state_signature(config: CampaignConfig, settings: EngineSettings, outcome: str) -> str:
    """Hex SHA-256 of what makes ``outcome``'s hyperparameters comparable between fits: the
    parameters as configured (names, types, bounds, scales, values: the encoding), the kernel,
    the lengthscale and noise priors, the ``learn_from`` sources and :data:`THETA_LAYOUT`."""
    payload: dict[str, Any] = {
        "outcome": outcome,
        "parameters": [p.to_dict() for p in config.parameters],
        "kernel": settings.kernel,
        "lengthscale_prior": [float(v) for v in settings.lengthscale_prior],
        "learn_from": sorted(config.learn_from),
        "theta": THETA_LAYOUT,
    }
    if settings.noise_prior != EngineSettings().noise_prior:
        # only when changed, so that states stored before the setting existed stay usable
        payload["noise_prior"] = [float(v) for v in settings.noise_prior]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def previous_warm_starts(previous: Surrogates | None, config: CampaignConfig,
                         settings: EngineSettings) -> dict[str, np.ndarray]:
    """Hyperparameters of an earlier in-process fit usable as warm starts: same parameters,
    kernel and prior (empty when there is none)."""
    if previous is None or not hasattr(previous, "fitted_outcomes_"):
        return {}
    same = (previous.config.parameter_names == config.parameter_names
            and previous.settings.kernel == settings.kernel
            and previous.settings.lengthscale_prior == settings.lengthscale_prior
            and previous.settings.noise_prior == settings.noise_prior)
    return previous.hyperparameters() if same else {}


def stored_warm_starts(states: Iterable[ModelState], config: CampaignConfig, settings: EngineSettings,
                       dim: int) -> dict[str, np.ndarray]:
    """The stored states usable as warm starts, by outcome; the others are ignored (logged).

    Args:
        states: the campaign's stored states.
        config, settings: this fit's configuration and engine settings.
        dim: the model dimension (:attr:`doe.engine.encoding.Encoder.dim`).
    """
    usable: dict[str, np.ndarray] = {}
    for state in states:
        if state.outcome not in config.outcome_names:
            continue
        if state.signature != state_signature(config, settings, state.outcome):
            why = "it was fitted with other parameters, kernel, prior or sources"
        elif len(state.theta) != dim + 2:
            why = f"it has {len(state.theta)} values where this model has {dim + 2}"
        elif not state.finite:
            why = "some of its values are not finite numbers"
        else:
            usable[state.outcome] = np.asarray(state.theta, dtype=float)
            continue
        logger.info("outcome %r: stored hyperparameters ignored (%s); the fit starts cold", state.outcome, why)
    return usable


def fitted_states(thetas: Mapping[str, np.ndarray], n_rows: Mapping[str, int], outcomes: Sequence[str],
                  config: CampaignConfig, settings: EngineSettings, dim: int) -> list[ModelState]:
    """States worth storing for ``outcomes``: fitted single-task GPs of more than
    :data:`WARM_START_MIN_ROWS` measurements with finite hyperparameters."""
    states = []
    for name in outcomes:
        theta = thetas.get(name)
        if theta is None or n_rows.get(name, 0) <= WARM_START_MIN_ROWS or len(theta) != dim + 2:
            continue
        state = ModelState(name, state_signature(config, settings, name), tuple(float(v) for v in theta),
                           int(n_rows[name]))
        if state.finite:
            states.append(state)
    return states


__all__ = ["THETA_LAYOUT", "WARM_START_MIN_ROWS", "fitted_states", "previous_warm_starts", "state_signature",
           "stored_warm_starts"]
