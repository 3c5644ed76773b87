"""Warm starts stored with the campaign (issue 19): the engine's side, with an in-memory memory.

The memory here is a plain list standing in for the store (the store's side is tested in
``tests/test_campaign_model_states.py`` on SQLite and PostgreSQL); the fits are real.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from engine_helpers import random_config, random_recipes, smooth_outcomes

from doe.domain.model_states import ModelState
from doe.engine import EngineSettings, Surrogates
from doe.engine.warm import WARM_START_MIN_ROWS, state_signature

SETTINGS = EngineSettings.fast()


class ListMemory:
    """The :class:`~doe.domain.model_states.ModelStateMemory` contract over a list."""

    def __init__(self, states: Sequence[ModelState] = ()) -> None:
        self.states = {s.outcome: s for s in states}
        self.loads = 0

    def load(self) -> list[ModelState]:
        self.loads += 1
        return list(self.states.values())

    def save(self, states: Sequence[ModelState]) -> None:
        self.states.update({s.outcome: s for s in states})


@pytest.fixture(scope="module")
def history() -> tuple[object, pd.DataFrame]:
    config = random_config(3)
    recipes = random_recipes(config, WARM_START_MIN_ROWS + 40, seed=1)
    return config, smooth_outcomes(config, recipes, seed=1)


def test_a_stored_state_warm_starts_a_fresh_fit_to_the_same_model(history) -> None:
    config, table = history
    outcome = config.objective_names[0]
    memory = ListMemory()
    earlier = Surrogates(config, SETTINGS).fit(table.iloc[:-10], seed=0, memory=memory)
    stored = memory.states[outcome]
    assert stored.n_rows == earlier.n_train_[outcome] and stored.signature == state_signature(config, SETTINGS, outcome)
    assert np.array_equal(stored.theta, earlier.hyperparameters()[outcome])
    cold = Surrogates(config, SETTINGS).fit(table, seed=0)
    warm = Surrogates(config, SETTINGS).fit(table, seed=0, memory=memory)  # a fresh process: no previous fit
    assert warm.warm_starts()[outcome] == "stored" and cold.warm_starts()[outcome] == "cold"
    cold_gp, warm_gp = cold.model(outcome), warm.model(outcome)
    assert cold_gp is not None and warm_gp is not None
    assert warm_gp.fit_iterations_ < cold_gp.fit_iterations_
    X = random_recipes(config, 30, seed=9)
    spread = float(table[outcome].std())
    c, w = cold.predict(X), warm.predict(X)
    assert np.abs(c[f"{outcome}_mean"] - w[f"{outcome}_mean"]).max() < 0.02 * spread
    assert np.abs(c[f"{outcome}_sd"] - w[f"{outcome}_sd"]).max() < 0.02 * spread
    # the new fit replaced the stored state
    assert memory.states[outcome].n_rows == len(table) and np.array_equal(memory.states[outcome].theta, warm_gp.theta_)


def test_the_previous_fit_in_this_process_wins_over_the_stored_state(history) -> None:
    config, table = history
    outcome = config.objective_names[0]
    earlier = Surrogates(config, SETTINGS).fit(table.iloc[:-10], seed=0)
    memory = ListMemory()
    warm = Surrogates(config, SETTINGS).fit(table, seed=0, previous=earlier, memory=memory)
    assert memory.loads == 0 and warm.warm_starts()[outcome] == "previous"


@pytest.mark.parametrize("spoil", ["signature", "kernel", "length", "not finite"])
def test_a_mismatched_or_corrupt_state_is_ignored(history, spoil: str) -> None:
    config, table = history
    outcome = config.objective_names[0]
    memory = ListMemory()
    Surrogates(config, SETTINGS).fit(table.iloc[:-10], seed=0, memory=memory)
    good = memory.states[outcome]
    settings = SETTINGS
    if spoil == "signature":
        bad = replace(good, signature="0" * 64)
    elif spoil == "kernel":  # a state fitted with another kernel does not fit a matern52 campaign
        bad, settings = good, replace(SETTINGS, kernel="matern52")
    elif spoil == "length":
        bad = replace(good, theta=(*good.theta, 0.0))
    else:
        bad = replace(good, theta=(float("nan"), *good.theta[1:]))
    cold = Surrogates(config, settings).fit(table, seed=0)
    fitted = Surrogates(config, settings).fit(table, seed=0, memory=ListMemory([bad]))
    assert fitted.warm_starts()[outcome] == "cold"
    cold_gp, fitted_gp = cold.model(outcome), fitted.model(outcome)
    assert cold_gp is not None and fitted_gp is not None
    assert np.array_equal(fitted_gp.theta_, cold_gp.theta_)


def test_small_histories_neither_read_nor_store_states(history) -> None:
    config, table = history
    outcome = config.objective_names[0]
    memory = ListMemory()
    Surrogates(config, SETTINGS).fit(table.iloc[:-10], seed=0, memory=memory)
    memory.loads = 0
    small = Surrogates(config, SETTINGS).fit(table.iloc[:WARM_START_MIN_ROWS], seed=0, memory=memory)
    assert memory.loads == 0 and small.warm_starts()[outcome] == "cold"
    assert memory.states[outcome].n_rows == len(table) - 10  # not replaced by the small fit


def test_the_fitting_subset_of_a_growing_history_barely_changes() -> None:
    from doe.engine.gp import FIT_SUBSET, fit_subset

    before, after = fit_subset(1000, seed=7), fit_subset(1003, seed=7)
    assert len(before) == len(after) == FIT_SUBSET and np.all(np.diff(after) > 0)
    # three new rows can displace at most three of the old ones: the warm start stays near the optimum
    assert len(set(before) & set(after)) >= FIT_SUBSET - 3
    assert not np.array_equal(fit_subset(1000, seed=8), before)
    assert np.array_equal(fit_subset(FIT_SUBSET, seed=7), np.arange(FIT_SUBSET))


def test_the_noise_prior_joins_the_signature_only_when_changed(history) -> None:
    """States stored before ``noise_prior`` existed keep matching under the default (the value
    below is the signature of git e9239fe, before the setting), a changed prior gets another
    signature, and an in-process fit under another noise prior is no warm start."""
    from doe import load_config
    from doe.engine.warm import previous_warm_starts

    hfo2 = load_config("hfo2-ncm85")
    assert state_signature(hfo2, EngineSettings(), "first_cycle_ce_pct") == (
        "edcfee256f42adab3fdb888b29916c24ad6d99daf60bb790d722fddac5fd3ee4")
    wide = EngineSettings(noise_prior=(-4.0, 2.0))
    assert state_signature(hfo2, wide, "first_cycle_ce_pct") != state_signature(hfo2, EngineSettings(),
                                                                              "first_cycle_ce_pct")
    config, table = history
    earlier = Surrogates(config, SETTINGS).fit(table.iloc[:40], seed=0)
    assert previous_warm_starts(earlier, config, SETTINGS)
    assert previous_warm_starts(earlier, config, replace(SETTINGS, noise_prior=(-4.0, 2.0))) == {}
