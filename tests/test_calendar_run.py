"""Campaigns in simulated calendar time: run_calendar and ``doe run --simulate --calendar``
(real BoTorch fits, real SQLite files)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from doe import Campaign, run_calendar
from doe.cli import cli
from doe.domain.early_stop import EarlyStop
from doe.engine import EngineSettings
from doe.errors import DoeError
from doe.simulate import VirtualLab
from doe.simulate.calendar import CURVE_OUTCOME, CalendarLab, CalendarSettings, calendar_config

FAST = CalendarSettings(channels=4, batch_size=4, cycle_hours=1.0, upload_days=1.0)


def _run(tmp_path: Path, seed: int, name: str, budget: int = 8, early_stop: EarlyStop | None = None,
         weeks: float = 5.0) -> tuple[Campaign, object]:
    lab = VirtualLab(seed=seed)
    campaign = Campaign.from_config(calendar_config(lab.config, name=name).replace(seed=seed),
                                    storage=f"sqlite:///{tmp_path / (name + '.sqlite3')}", actor="tester",
                                    settings=EngineSettings.fast())
    result = run_calendar(campaign, CalendarLab(lab, FAST, seed=seed), budget, weeks=weeks, early_stop=early_stop)
    return campaign, result


def test_results_are_recorded_at_arrival_in_order(tmp_path: Path) -> None:
    campaign, result = _run(tmp_path, 0, "order", early_stop=EarlyStop())
    log = result.log  # type: ignore[attr-defined]
    assert (log["recorded_h"] >= log["arrival_h"]).all()  # nothing recorded before it arrives
    assert (log["recorded_h"] - log["arrival_h"] < 24).all()  # and at the latest by the end of its day
    assert log["arrival_h"].is_monotonic_increasing
    for _, mine in log.groupby("experiment_id"):
        assert mine["kind"].iloc[0] in ("first", "failed")
    points = campaign.measurements()
    for exp_id, mine in points.groupby("experiment_id"):
        first = mine.loc[mine["outcome"] == "first_cycle_ce_pct", "recorded_at"].min()
        later = mine.loc[mine["cycle"].fillna(0) > 1, "recorded_at"]
        assert (later > first).all(), exp_id
    assert result.max_channels_busy == 4  # type: ignore[attr-defined]
    assert result.started == 8  # type: ignore[attr-defined]


def test_early_stop_frees_channels_and_stores_nothing_at_200(tmp_path: Path) -> None:
    campaign, result = _run(tmp_path, 0, "stop", early_stop=EarlyStop())
    log = result.log  # type: ignore[attr-defined]
    stopped = set(campaign.history()["experiment_id"]) - set(log.loc[log["kind"].isin(["final", "failed"]),
                                                                        "experiment_id"])
    assert result.stopped == len(stopped) > 0  # type: ignore[attr-defined]
    points = campaign.measurements()
    mine = points[points["experiment_id"].isin(stopped) & (points["outcome"] == CURVE_OUTCOME)]
    assert not mine.empty and mine["cycle"].max() < 200
    # the freed channels took later batches: more experiments than 4 channels hold at once
    assert result.started > FAST.channels  # type: ignore[attr-defined]
    # the same run without the rule keeps every cell to cycle 200
    campaign2, result2 = _run(tmp_path, 0, "nostop")
    assert result2.stopped == 0  # type: ignore[attr-defined]
    ends = campaign2.measurements()
    assert (ends.loc[ends["outcome"] == CURVE_OUTCOME].groupby("experiment_id")["cycle"].max() == 200).all()


def test_same_seed_same_calendar_run(tmp_path: Path) -> None:
    def values(name: str, seed: int) -> pd.DataFrame:
        campaign, _ = _run(tmp_path, seed, name, budget=4, weeks=3.0)
        m = campaign.measurements()
        return m[["experiment_id", "outcome", "cycle", "value"]].sort_values(
            ["experiment_id", "outcome", "cycle"]).reset_index(drop=True)

    one, two = values("r1", 7), values("r2", 7)
    pd.testing.assert_frame_equal(one, two)
    assert not one["value"].equals(values("r3", 8)["value"])


def test_a_campaign_with_pending_experiments_is_refused(tmp_path: Path) -> None:
    lab = VirtualLab(seed=0)
    campaign = Campaign.from_config(calendar_config(lab.config, name="pending"),
                                    storage=f"sqlite:///{tmp_path / 'p.sqlite3'}", actor="tester")
    campaign.suggest(2)
    with pytest.raises(DoeError, match="pending"):
        run_calendar(campaign, CalendarLab(lab, FAST), 4)


def test_cli_runs_a_calendar_campaign(tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite3"
    args = ["run", "--simulate", "--calendar", "--budget", "12", "--batch-size", "3", "--weeks", "5",
            "--cycle-hours", "1", "--channels", "12", "--fast", "--engine", "initial_design_size=3", "--seed", "2",
            "--db", str(db)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "12 experiments started" in result.output and "finished at cycle 200" in result.output
    assert "of 12 channels busy" in result.output
    campaign = Campaign.load("sim-calendar-hfo2-ncm85-seed2", storage=f"sqlite:///{db}")
    strategies = {p["strategy"] for p in campaign.proposals()["predictions"]}
    assert strategies - {"initial_design"}  # a later batch came from a fitted model
    points = campaign.measurements()
    assert points.loc[points["outcome"] == CURVE_OUTCOME, "cycle"].max() == 200
    bad = CliRunner().invoke(cli, ["run", "--folder", str(tmp_path), "--calendar", "--db", str(db)])
    assert bad.exit_code != 0 and "--calendar" in bad.output
