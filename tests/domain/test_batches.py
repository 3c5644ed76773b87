"""The pure history-to-engine functions behind Campaign.suggest, without a database."""

from __future__ import annotations

import numpy as np
import pandas as pd

from doe.domain import CampaignConfig
from doe.domain.batches import (
    batch_seed,
    carried_columns,
    history_table,
    pending_recipes,
    training_table,
)


def _config() -> CampaignConfig:
    return CampaignConfig.from_dict({
        "name": "t",
        "parameters": [{"name": "x_c", "type": "continuous", "bounds": [0, 10]}],
        "objectives": [{"name": "y", "goal": "maximize"}],
        "outcomes": [{"name": "z"}],
    })


def _history() -> pd.DataFrame:
    return pd.DataFrame({
        "experiment_id": ["E1", "E2", "E3", "E4", "E5"],
        "status": ["completed", "failed", "failed", "proposed", "completed"],
        "x_c": [1.0, 2.0, 3.0, 4.0, np.nan],
        "y": [5.0, np.nan, 7.0, np.nan, 1.0],
        "z": [np.nan, np.nan, np.nan, np.nan, 2.0],
        "batch_id": ["B1", "B1", "B2", "B2", None],
    })


def test_training_table_keeps_finished_rows_in_order_and_flags_runs_without_any_outcome() -> None:
    training = training_table(_history(), _config())
    assert training.index.tolist() == ["E1", "E2", "E3"]  # E5 lacks x_c, E4 is pending
    assert training["failed"].tolist() == [False, True, False]  # E3 failed but measured y
    assert list(training.columns) == ["x_c", "y", "z", "failed"]


def test_pending_recipes_and_carried_columns() -> None:
    config = _config()
    assert pending_recipes(_history(), config)["x_c"].tolist() == [4.0]
    sheet = pd.DataFrame(columns=["experiment_id", "x_c", "y_mean", "y_sd", "strategy", "batch_id", "y_n", "note"])
    assert carried_columns(sheet, config) == ("y_mean", "y_sd", "strategy", "batch_id", "y_n")


def test_completed_experiments_waiting_for_an_objective_are_pending() -> None:
    """First-cycle results in, the objective (e.g. 200-cycle retention) still to come: the
    experiment trains the model with what it has and is pending for the acquisition; a missing
    non-objective outcome or a failed run does not make it pending."""
    config = _config()
    history = pd.DataFrame({
        "experiment_id": ["E1", "E2", "E3", "E4"],
        "status": ["completed", "completed", "failed", "completed"],
        "x_c": [1.0, 2.0, 3.0, 4.0],
        "y": [np.nan, 5.0, np.nan, 6.0],
        "z": [2.0, np.nan, np.nan, 1.0],
    })
    assert pending_recipes(history, config)["x_c"].tolist() == [1.0]
    assert "E1" in training_table(history, config).index


def test_batch_seeds_differ_by_batch_and_campaign_and_repeat() -> None:
    seeds = {batch_seed(s, b) for s in range(3) for b in range(1, 4)}
    assert len(seeds) == 9
    assert batch_seed(7, 2) == batch_seed(7, 2)


def test_history_table_orders_columns_and_drops_provenance() -> None:
    experiments = _history().assign(seed=1, source="doe", failure_reason=None, model_settings="{}", old_param=1.0)
    table = history_table(experiments, _config())
    assert list(table.columns) == ["experiment_id", "status", "batch_id", "config_version", "x_c", "old_param",
                                   "y", "z", "source", "failure_reason"]
    assert table["config_version"].isna().all()


def test_experiments_made_before_a_parameter_was_added_train_at_its_reference() -> None:
    """A parameter added later (stir_rpm, reference 300): the earlier experiments have no value
    of it and were all left out, so the model fell back to an initial design. Without a
    reference they are still left out: nothing is guessed."""
    data = _config().to_dict()
    data["parameters"].append({"name": "stir_rpm", "type": "continuous", "bounds": [100, 500], "reference": 300})
    history = _history().assign(stir_rpm=[np.nan, np.nan, 250.0, np.nan, np.nan])
    training = training_table(history, CampaignConfig.from_dict(data))
    assert training.index.tolist() == ["E1", "E2", "E3"] and training["stir_rpm"].tolist() == [300.0, 300.0, 250.0]
    assert pending_recipes(history, CampaignConfig.from_dict(data))["stir_rpm"].tolist() == [300.0]
    del data["parameters"][-1]["reference"]
    assert training_table(history, CampaignConfig.from_dict(data)).index.tolist() == ["E3"]
    assert history["stir_rpm"].isna().sum() == 4  # the history itself is left as recorded
