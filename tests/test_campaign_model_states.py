"""Warm starts stored with the campaign (issue 19): a fresh Campaign object (as in a fresh
process: a CLI call, a worker, another app replica) starts its fits from the last fit stored in
the database, on SQLite and PostgreSQL, without touching the revision or the audit trail."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from doe import Campaign
from doe.engine import EngineSettings
from doe.engine.warm import WARM_START_MIN_ROWS

FAST = EngineSettings.fast()
N = WARM_START_MIN_ROWS + 20
CONFIG = {
    "name": "warm",
    "seed": 11,
    "parameters": [
        {"name": "anneal_temperature_c", "type": "continuous", "bounds": [250, 800]},
        {"name": "hfo2_loading_wt_pct", "type": "continuous", "bounds": [0.1, 3.0], "log_scale": True},
    ],
    "objectives": [{"name": "capacity_retention_pct", "goal": "maximize"}],
}
CONFIG_PARAMETERS = ["anneal_temperature_c", "hfo2_loading_wt_pct"]


def _history(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t, w = rng.uniform(250, 800, n), np.exp(rng.uniform(np.log(0.1), np.log(3.0), n))
    y = 80 + 10 * np.sin((t - 250) / 150) - 3 * (np.log(w) - 0.2) ** 2 + 0.3 * rng.standard_normal(n)
    return pd.DataFrame({"anneal_temperature_c": t, "hfo2_loading_wt_pct": w, "capacity_retention_pct": y})


def _campaign(url: str, name: str) -> Campaign:
    campaign = Campaign.from_config({**CONFIG, "name": name}, storage=url, actor="test", settings=FAST)
    campaign.record(_history(N))
    return campaign


def test_a_fit_stores_its_hyperparameters_without_changing_revision_or_audit(store_url: str) -> None:
    campaign = _campaign(store_url, "warm")
    revision, audit = campaign.revision(), campaign.audit()
    campaign.predict(_history(5, seed=1)[CONFIG_PARAMETERS])
    assert campaign.revision() == revision
    pd.testing.assert_frame_equal(campaign.audit(), audit)
    (state,) = campaign.store.model_states("warm")
    assert state.outcome == "capacity_retention_pct" and state.n_rows == N and state.data_revision == revision
    assert state.finite and len(state.theta) == 2 + 2 and state.fitted_at is not None
    # export/import does not carry them (derived data)
    assert "model_states" not in campaign.export_json()
    copy = Campaign.import_json(campaign.export_json(), storage=store_url, name="warm-copy", actor="test")
    assert copy.store.model_states("warm-copy") == []
    # deleting the campaign deletes its states
    engine = sa.create_engine(store_url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA foreign_keys = ON")
            conn.execute(sa.text("DELETE FROM campaigns WHERE name = 'warm'"))
            assert conn.execute(sa.text("SELECT count(*) FROM model_states")).scalar_one() == 0
    finally:
        engine.dispose()


def test_a_new_campaign_object_starts_from_the_stored_state_and_suggests_the_same_batch(store_url: str) -> None:
    warm = _campaign(store_url, "warm")
    _campaign(store_url, "cold")  # the same seed, configuration and history; never fitted
    warm.predict(_history(3, seed=1)[CONFIG_PARAMETERS])
    assert [s.outcome for s in warm.store.model_states("warm")] == ["capacity_retention_pct"]
    fresh = Campaign.load("warm", storage=store_url, actor="test", settings=FAST)
    batch_warm = fresh.suggest(2)
    batch_cold = Campaign.load("cold", storage=store_url, actor="test", settings=FAST).suggest(2)
    started = {name: c.proposals()["model_settings"].iloc[-1]["gp_warm_start"]
               for name, c in (("warm", fresh), ("cold", Campaign.load("cold", storage=store_url)))}
    assert started == {"warm": {"capacity_retention_pct": "stored"}, "cold": {"capacity_retention_pct": "cold"}}
    for p, (lo, hi) in (("anneal_temperature_c", (250, 800)), ("hfo2_loading_wt_pct", (0.1, 3.0))):
        assert np.abs(batch_warm[p].to_numpy() - batch_cold[p].to_numpy()).max() < 0.02 * (hi - lo)
    mean = "capacity_retention_pct_mean"
    assert np.abs(batch_warm[mean].to_numpy() - batch_cold[mean].to_numpy()).max() < 0.05


def test_a_state_that_cannot_be_read_or_written_costs_nothing(store_url: str, caplog: pytest.LogCaptureFixture) -> None:
    campaign = _campaign(store_url, "warm")
    memory = campaign.store.model_memory("no-such-campaign", 1)
    with caplog.at_level(logging.WARNING, logger="doe.storage.model_states"):
        assert memory.load() == []
        memory.save(campaign.store.model_states("warm"))
    assert "stored model states not read" in caplog.text and "model states not stored" in caplog.text
    # a corrupt row is skipped on reading; the fit starts cold and replaces it
    campaign.predict(_history(2, seed=1)[CONFIG_PARAMETERS])
    engine = sa.create_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE model_states SET theta = 'not json'"))
    finally:
        engine.dispose()
    assert campaign.store.model_states("warm") == []
    fresh = Campaign.load("warm", storage=store_url, actor="test", settings=FAST)
    fresh.suggest(1)
    assert fresh.proposals()["model_settings"].iloc[-1]["gp_warm_start"] == {"capacity_retention_pct": "cold"}
    assert len(fresh.store.model_states("warm")) == 1


READER = """
import json, logging, sys
import pandas as pd
from doe import Campaign
from doe.engine import EngineSettings
logging.basicConfig(level=logging.WARNING)
campaign = Campaign.load("warm", storage=sys.argv[1], actor="reader", settings=EngineSettings.fast())
recipes = pd.DataFrame({"anneal_temperature_c": [300.0, 700.0], "hfo2_loading_wt_pct": [0.5, 2.0]})
print(json.dumps({"means": campaign.predict(recipes)["capacity_retention_pct_mean"].tolist(),
                  "states": len(campaign.store.model_states("warm"))}))
"""


@pytest.mark.slow
def test_a_read_only_database_predicts_without_storing_states() -> None:
    import os
    import shutil
    import stat
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from doe.storage.sql import close_all

    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to run the reader as user nobody (root ignores permissions)")
    folder = Path(tempfile.mkdtemp(prefix="doe-ro-"))  # outside pytest's 0700 folder: nobody reaches it
    path = folder / "lab.sqlite3"
    _campaign(str(path), "warm")
    close_all()
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HOME": "/tmp"}
        done = subprocess.run([setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-c",
                               READER, str(path)], capture_output=True, text=True, env=env, timeout=300, check=False,
                              cwd="/")
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout.strip().splitlines()[-1])
        assert len(out["means"]) == 2 and all(np.isfinite(out["means"])) and out["states"] == 0
        assert "model states not stored" in done.stderr and "read-only" in done.stderr
    finally:
        folder.chmod(stat.S_IRWXU)
        shutil.rmtree(folder)


def test_a_fit_of_older_data_does_not_replace_a_newer_state(store_url: str) -> None:
    campaign = _campaign(store_url, "warm")
    campaign.predict(_history(1, seed=1)[CONFIG_PARAMETERS])
    (state,) = campaign.store.model_states("warm")
    newer = replace(state, theta=tuple(v + 0.5 for v in state.theta))
    campaign.store.save_model_states("warm", [newer], state.data_revision + 2)
    campaign.store.save_model_states("warm", [state], state.data_revision + 1)  # a slower process, older data
    (kept,) = campaign.store.model_states("warm")
    assert kept.theta == newer.theta and kept.data_revision == state.data_revision + 2
    campaign.store.save_model_states("warm", [state], state.data_revision + 2)  # the same data: replaced
    assert campaign.store.model_states("warm")[0].theta == state.theta
