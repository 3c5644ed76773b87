"""A campaign stored before a parameter's name could not be a column doe derives from an
outcome (``ce_n`` beside ``ce``, ``retention_pct_pred_sd`` beside the curve outcome
``retention_pct``): its parameter's values stay the parameter's in the history, in recording
and in the model (a real SQLite file and a real PostgreSQL database, real GP fits)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import pytest
from older_doe import save_as_an_older_doe

from doe import Campaign
from doe.domain.batches import training_table
from doe.domain.config import CampaignConfig
from doe.engine import Surrogates
from doe.simulate.curves import retention_curve


def _old_campaign(store_url: str, raw: dict[str, Any], parameter: str) -> Campaign:
    """Campaign ``raw`` whose second parameter an older doe stored as ``parameter``."""
    Campaign.from_config(raw, storage=store_url)
    old = {**raw, "parameters": [raw["parameters"][0], {**raw["parameters"][1], "name": parameter}]}
    save_as_an_older_doe(store_url, raw["name"], CampaignConfig.from_dict(old, stored=True), version=2)
    campaign = Campaign.load(raw["name"], storage=store_url)
    assert campaign.config.parameter_names == ["x", parameter]
    return campaign


_CE = {"name": "counts", "seed": 1, "objectives": [{"name": "ce", "goal": "maximize"}],
       "parameters": [{"name": "x", "type": "continuous", "bounds": [0.0, 10.0]},
                      {"name": "zz", "type": "continuous", "bounds": [0.0, 10.0]}]}


def test_a_parameter_named_as_a_replicate_count_is_never_read_as_one(store_url: str,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    """Found by review: the model read the parameter ce_n's values as the cells behind each
    value of ce (7.3 cells: its noise divided by 7.3), and recording a table with the
    parameter's column was refused as a history of means."""
    campaign = _old_campaign(store_url, _CE, "ce_n")
    rng = np.random.default_rng(0)
    recipes = rng.uniform(1.0, 9.0, (7, 2))
    rows = [{"experiment_id": f"E{i}", "x": x, "ce_n": z, "ce": float(np.sin(x) + z / 3)}
            for i, (x, z) in enumerate(recipes)]
    rows[1:2] = [{**rows[1], "replicate": "A"}, {**rows[1], "replicate": "B", "ce": rows[1]["ce"] + 0.4}]
    campaign.record(pd.DataFrame(rows))

    history = campaign.history()
    assert history.columns.is_unique and "ce_sd" not in history.columns
    assert history["ce_n"].tolist() == recipes[:, 1].tolist()  # the parameter's, not a count of cells
    with caplog.at_level(logging.WARNING, logger="doe.domain.batches"):
        training = training_table(history, campaign.config)
    assert "parameter(s) 'ce_n' take the name of a column doe derives from an outcome" in caplog.text
    assert list(training.columns) == ["x", "ce_n", "ce", "failed"]
    model = Surrogates(campaign.config).fit(training.reset_index(drop=True), seed=1)
    data = model.training_data("ce")
    assert data.cells.tolist() == [1.0] * 7 and data.within_ss.tolist() == [0.0] * 7
    assert model.encoder_.names == ["x", "ce_n"]  # and still a parameter of the model
    assert campaign.cross_validate()["experiment_id"].tolist() == [f"E{i}" for i in range(7)]


_CURVE = {"name": "curve", "seed": 3,
          "parameters": [{"name": "x", "type": "continuous", "bounds": [0.0, 2.0]},
                         {"name": "zz", "type": "continuous", "bounds": [0.0, 10.0]}],
          "objectives": [{"name": "retention_pct", "goal": "maximize", "unit": "%", "over": "cycle", "at": 200}],
          "outcomes": [{"name": "ce_pct", "unit": "%"}]}


def _points(experiment_id: str, retention_at: float, n_cycles: int, seed: int, replicate: str) -> pd.DataFrame:
    curve = retention_curve(retention_at, n_cycles, seed=seed)
    return pd.DataFrame({"experiment_id": experiment_id, "replicate": replicate, "cycle": curve["cycle"],
                         "retention_pct": curve["retention_pct"]})


def test_a_parameter_named_as_a_curve_column_keeps_its_values(store_url: str) -> None:
    """Found by review: the history wrote the curve's predicted sd (and, once a curve had two
    cells, every outcome's cell count) over the parameter's column, and the model took the
    parameter's values as the sd of predicted values."""
    campaign = _old_campaign(store_url, _CURVE | {"outcomes": [{"name": "ce_pct", "unit": "%"}]},
                             "retention_pct_pred_sd")
    values = [1.5, 2.5, 3.5, 4.5, 5.5, 6.5]
    campaign.record(pd.DataFrame({"experiment_id": [f"E{i}" for i in range(6)], "x": np.linspace(0, 2, 6),
                                  "retention_pct_pred_sd": values, "ce_pct": 88.0}))
    for i in range(6):  # E0 and E1 still cycling; E2..E5 reached cycle 200
        cycles = 30 if i < 2 else 200
        campaign.record(_points(f"E{i}", 60.0 + 4 * i, cycles, i, "A"))
    campaign.record(_points("E0", 61.0, 30, 9, "B"))  # two cells: replicate columns for every outcome

    history = campaign.history()
    assert history.columns.is_unique
    assert history["retention_pct_pred_sd"].tolist() == values
    assert history["retention_pct_last_cycle"].tolist() == [30, 30, 200, 200, 200, 200]
    assert history.loc[0, "retention_pct_n"] == 2 and history.loc[0, "ce_pct_n"] == 1
    training = training_table(history, campaign.config)
    assert training.columns.is_unique and training["retention_pct_pred_sd"].tolist() == values
    model = Surrogates(campaign.config).fit(training.reset_index(drop=True), seed=1)
    assert model.training_data("retention_pct").extra_var.tolist() == [0.0] * 6


def _with_an_older_outcome(store_url: str, name: str, outcome: str) -> Campaign:
    """Campaign ``name`` (objective ``cap``, parameter ``x``) to which an older doe added the
    outcome ``outcome``, stored without the name checks of a newer doe."""
    base = {"name": name, "seed": 1, "objectives": [{"name": "cap", "goal": "maximize"}],
            "parameters": [{"name": "x", "type": "continuous", "bounds": [0.0, 2.0]}]}
    Campaign.from_config(base, storage=store_url)
    save_as_an_older_doe(store_url, name, CampaignConfig.from_dict({**base, "outcomes": [{"name": outcome}]},
                                                                   stored=True), version=2)
    return Campaign.load(name, storage=store_url, actor="me")


def test_an_outcome_named_as_another_outcomes_replicate_sd_keeps_its_values(store_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Found by review: a campaign stored by an older doe with the outcome ``cap_sd`` beside the
    replicated outcome ``cap`` showed the sd of cap's cells over cap_sd's own values in the
    history, under two columns named ``cap_sd``, and ``export_table`` crashed on them."""
    campaign = _with_an_older_outcome(store_url, "sds", "cap_sd")
    campaign.record(pd.DataFrame({"experiment_id": ["E0", "E0", "E1"], "replicate": ["A", "B", "A"],
                                  "x": [0.5, 0.5, 1.5], "cap": [150.0, 154.0, 160.0], "cap_sd": [7.0, 7.0, 9.0]}))
    history = campaign.history()
    assert history.columns.is_unique and "cap_n" not in history.columns
    assert history["cap"].tolist() == [152.0, 160.0] and history["cap_sd"].tolist() == [7.0, 9.0]
    assert history["cap_sd_n"].tolist() == [2, 1]
    campaign.export_table(tmp_path / "history.csv")
    exported = pd.read_csv(tmp_path / "history.csv", encoding="utf-8-sig")
    assert exported["cap_sd"].tolist() == [7.0, 9.0] and exported["cap"].tolist() == [152.0, 160.0]
    training = training_table(history, campaign.config)
    assert training.columns.is_unique and training["cap_sd"].tolist() == [7.0, 9.0]


def test_a_run_sheet_writes_no_prediction_into_an_outcome_named_as_one(store_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Found by review: in a campaign stored by an older doe with the outcome ``cap_mean`` beside
    ``cap``, the run sheet wrote the model's prediction of cap into the cap_mean column the lab
    fills in, so a sheet recorded with only cap filled stored that prediction as a measured
    cap_mean (or, read as doe's prediction column, a value typed there was dropped unread)."""
    from doe.domain.exports import run_sheet
    from doe.io import write_table

    campaign = _with_an_older_outcome(store_url, "means", "cap_mean")
    xs = np.linspace(0.1, 1.9, 6)
    campaign.record(pd.DataFrame({"experiment_id": [f"E{i}" for i in range(6)], "x": xs,
                                  "cap": 150 + 10 * np.sin(xs), "cap_mean": 3.0 + xs}))
    batch = campaign.suggest(1)
    assert batch["cap_mean"].notna().all()  # the suggestion's prediction of cap, under the outcome's name
    before = campaign.measurements()
    campaign.record(batch.assign(cap=155.0))  # the suggestion recorded back, as a script does: cap_mean is the prediction
    added = campaign.measurements().iloc[len(before):]
    assert added["outcome"].tolist() == ["cap"] and added["value"].tolist() == [155.0]
    sheet = run_sheet(batch, campaign.config)
    assert sheet.columns.is_unique and sheet["cap_mean"].isna().all()
    sheet.loc[0, "cap"] = 155.0
    write_table(sheet, tmp_path / "sheet.csv")
    campaign.import_table(tmp_path / "sheet.csv")
    row = campaign.history().set_index("experiment_id").loc[batch["experiment_id"].iloc[0]]
    assert row["cap"] == 155.0 and np.isnan(row["cap_mean"])
    sheet.loc[0, "cap_mean"] = 4.5  # typed in later: recorded, not dropped as doe's prediction column
    write_table(sheet, tmp_path / "sheet.csv")
    campaign.import_table(tmp_path / "sheet.csv")
    assert campaign.history().set_index("experiment_id").loc[batch["experiment_id"].iloc[0], "cap_mean"] == 4.5
