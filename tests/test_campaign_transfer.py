"""Learning from earlier campaigns through ``Campaign`` and ``doe init --learn-from`` (real SQLite file, real fits)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from doe import Campaign
from doe.campaign import list_campaigns
from doe.cli import cli
from doe.engine import EngineSettings
from doe.errors import StorageError

TOY = {
    "name": "hfo2-2025",
    "parameters": [{"name": "loading_wt_pct", "type": "continuous", "bounds": [0, 3]},
                   {"name": "anneal_temperature_c", "type": "continuous", "bounds": [250, 800]}],
    "objectives": [{"name": "first_cycle_ce_pct", "goal": "maximize"}],
    "seed": 3,
}


def ce(table: pd.DataFrame, shift: float = 0.0) -> np.ndarray:
    a = table["loading_wt_pct"].to_numpy() / 3 - shift
    b = (table["anneal_temperature_c"].to_numpy() - 250) / 550 - shift
    return 80 + 10 * np.exp(-((a - 0.3) ** 2 + (b - 0.4) ** 2) / 0.08)


def recipes(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"loading_wt_pct": rng.uniform(0, 3, n), "anneal_temperature_c": rng.uniform(250, 800, n)})


@pytest.fixture()
def storage(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'transfer.sqlite3'}"
    source = Campaign.from_config(TOY, storage=url, actor="test")
    table = recipes(20, 0)
    source.record(table.assign(first_cycle_ce_pct=ce(table)))
    return url


def test_a_campaign_learns_from_an_earlier_one_and_says_so(storage: str) -> None:
    target = Campaign.from_config({**TOY, "name": "zro2-2026"}, storage=storage, actor="test",
                                  learn_from=["hfo2-2025"], settings=EngineSettings.fast())
    assert Campaign.load("zro2-2026", storage=storage).config.learn_from == ("hfo2-2025",)  # persisted
    table = recipes(4, 1)
    target.record(table.assign(first_cycle_ce_pct=ce(table, 0.05)))
    report = target.transfer_report()
    assert report["source"].tolist() == ["hfo2-2025"]
    assert report["source_rows"].tolist() == [20]
    assert 0.0 <= report["correlation"].iloc[0] < 1.0
    batch = target.suggest(2)
    assert len(batch) == 2
    settings = target.proposals()["model_settings"].iloc[-1]
    assert settings["transfer"]["first_cycle_ce_pct"]["sources"] == {"hfo2-2025": 20}
    # new results in the source reach the target's model (the cache key includes the sources)
    more = recipes(5, 2)
    Campaign.load("hfo2-2025", storage=storage).record(more.assign(first_cycle_ce_pct=ce(more)))
    assert target.transfer_report()["source_rows"].tolist() == [25]


def test_an_unknown_source_is_refused_and_nothing_is_stored(storage: str) -> None:
    with pytest.raises(StorageError, match="no-such-campaign"):
        Campaign.from_config({**TOY, "name": "zro2-2026"}, storage=storage, learn_from=["no-such-campaign"])
    assert list_campaigns(storage)["name"].tolist() == ["hfo2-2025"]
    # a new configuration version naming a campaign that does not exist is refused too
    target = Campaign.from_config({**TOY, "name": "zro2-2026"}, storage=storage)
    version = target.config_version
    with pytest.raises(StorageError, match="learn_from: no campaign named 'gone'"):
        target.update_config(target.config.replace(learn_from=["gone"]))
    assert target.config_version == version and target.config.learn_from == ()


def test_one_source_named_as_a_string_is_that_campaign(storage: str) -> None:
    # learn_from="hfo2-2025" was read letter by letter: "no campaign named 'h', 'f', 'o', ..."
    Campaign.from_config({**TOY, "name": "zro2-2026"}, storage=storage, actor="test", learn_from="hfo2-2025")
    assert Campaign.load("zro2-2026", storage=storage).config.learn_from == ("hfo2-2025",)


def test_without_sources_the_report_is_empty(storage: str) -> None:
    assert Campaign.load("hfo2-2025", storage=storage).transfer_report().empty


def test_cli_init_learn_from_and_status(storage: str, tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "zro2.yaml"
    path.write_text(yaml.safe_dump({**TOY, "name": "zro2-2026"}), encoding="utf-8")
    done = CliRunner().invoke(cli, ["init", "--config", str(path), "--learn-from", "hfo2-2025", "--db", storage])
    assert done.exit_code == 0, done.output
    assert "learns from: hfo2-2025" in done.output
    table = recipes(3, 4)
    Campaign.load("zro2-2026", storage=storage).record(table.assign(first_cycle_ce_pct=ce(table, 0.05)))
    done = CliRunner().invoke(cli, ["status", "--campaign", "zro2-2026", "--db", storage])
    assert done.exit_code == 0, done.output
    assert "Informed by: hfo2-2025 (first_cycle_ce_pct: correlation" in done.output
    done = CliRunner().invoke(cli, ["init", "--config", str(path), "--name", "x", "--learn-from", "x", "--db", storage])
    assert done.exit_code != 0 and "learn_from" in done.output


def _curves(ids: list[str], values: np.ndarray, seed: int) -> pd.DataFrame:
    from doe.simulate.curves import retention_curve

    return pd.concat([pd.DataFrame({"experiment_id": i, "cycle": c["cycle"], "retention_pct": c["retention_pct"]})
                      for k, (i, v) in enumerate(zip(ids, values, strict=True))
                      for c in [retention_curve(float(v) - 20.0, 200, seed=seed + k)]], ignore_index=True)


def test_a_sources_curve_outcome_reaches_the_target(tmp_path: Path) -> None:
    """Found by a probe: an earlier campaign's retention tracked per cycle was never transferred
    (its rows held NaN: the source history was built without its curve points), and the status
    line named only the other outcome."""
    url = f"sqlite:///{tmp_path / 'curves.sqlite3'}"
    curve_toy = {**TOY, "objectives": [{"name": "retention_pct", "goal": "maximize", "unit": "%", "over": "cycle",
                                        "at": 200}]}
    source = Campaign.from_config(curve_toy, storage=url, actor="test")
    table = recipes(8, 0).assign(experiment_id=[f"S{i}" for i in range(8)])
    source.record(table)  # the recipes, then each cell's curve to cycle 200
    source.record(_curves(table["experiment_id"].tolist(), ce(table), seed=0))
    target = Campaign.from_config({**curve_toy, "name": "target"}, storage=url, actor="test",
                                  learn_from=[TOY["name"]], settings=EngineSettings.fast())
    mine = recipes(3, 1).assign(experiment_id=["T0", "T1", "T2"])
    target.record(mine)
    target.record(_curves(mine["experiment_id"].tolist(), ce(mine), seed=10))
    report = target.transfer_report()
    assert report["outcome"].tolist() == ["retention_pct"] and report["source_rows"].tolist() == [8]
