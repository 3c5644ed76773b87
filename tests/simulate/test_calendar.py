"""The calendar lab: results arrive in time order, never early; channels are never
over-booked; a stopped cell frees its channel and sends nothing more; seeds reproduce."""

from __future__ import annotations

import pandas as pd
import pytest

from doe.errors import DataError
from doe.simulate import VirtualLab
from doe.simulate.calendar import (
    CURVE_OUTCOME,
    HOURS_PER_DAY,
    CalendarLab,
    CalendarSettings,
    arrivals_table,
    calendar_config,
)


def _recipes(n: int, start: int = 0, seed: int = 0) -> pd.DataFrame:
    recipes = VirtualLab.random_recipes(n, seed=seed)
    recipes.insert(0, "experiment_id", [f"E{start + i}" for i in range(n)])
    return recipes


def _run_days(lab: CalendarLab, days: int) -> list[tuple[float, object]]:
    seen = []
    for day in range(1, days + 1):
        for arrival in lab.advance(day * HOURS_PER_DAY):
            seen.append((day * HOURS_PER_DAY, arrival))
    return seen


def test_results_arrive_in_order_and_never_early() -> None:
    settings = CalendarSettings(cycle_hours=2.0, upload_days=1.0)
    lab = CalendarLab(VirtualLab(seed=1, failures=False), settings, seed=1)
    lab.start_batch(_recipes(4))
    seen = _run_days(lab, 30)
    times = [a.time_h for _, a in seen]
    assert times == sorted(times)
    assert all(a.time_h <= day_end and a.time_h > day_end - HOURS_PER_DAY for day_end, a in seen)
    for exp_id in [f"E{i}" for i in range(4)]:
        mine = [a for _, a in seen if a.experiment_id == exp_id]
        assert mine[0].kind == "first" and mine[0].time_h == settings.first_results_days * HOURS_PER_DAY
        assert mine[-1].kind == "final"
        assert mine[-1].time_h == mine[0].time_h + (settings.at - 1) * settings.cycle_hours
        assert {a.kind for a in mine[1:-1]} == {"points"}
        cycles = pd.concat([a.rows for a in mine])["cycle"].dropna().astype(int).tolist()
        assert cycles == list(range(1, settings.at + 1))  # every point once, in order
        for a in mine:  # no point is uploaded before it is measured
            last = a.rows["cycle"].dropna().max()
            assert mine[0].time_h + (last - 1) * settings.cycle_hours <= a.time_h
    table = arrivals_table([a for _, a in seen])
    assert table.loc[table["cycle"].isna(), "first_cycle_ce_pct"].notna().all()


def test_waiting_for_the_end_sends_only_the_last_point() -> None:
    lab = CalendarLab(VirtualLab(seed=1, failures=False), CalendarSettings(cycle_hours=2.0), curve_points=False)
    lab.start_batch(_recipes(2))
    seen = [a for _, a in _run_days(lab, 30)]
    assert [a.kind for a in seen] == ["first", "first", "final", "final"]
    assert [a.rows["cycle"].tolist() for a in seen if a.kind == "final"] == [[200], [200]]


def test_channels_and_furnace_limit_the_starts() -> None:
    lab = CalendarLab(VirtualLab(seed=2, failures=False),
                      CalendarSettings(channels=5, cells_per_experiment=2, batch_size=4, cycle_hours=1.0))
    assert lab.free_slots() == 2  # 5 channels, 2 per experiment
    with pytest.raises(DataError, match=r"cannot start 3 experiment.*2 slot"):
        lab.start_batch(_recipes(3))
    lab.start_batch(_recipes(2))
    assert lab.busy_channels == 4 and lab.free_slots() == 0
    lab.advance(2 * HOURS_PER_DAY)
    assert lab.free_slots() == 0  # the furnace is still busy (3 days) and one channel is left
    total, n = 2, 2
    for day in range(3, 80):
        slots = lab.free_slots()
        if slots:
            lab.start_batch(_recipes(slots, start=n))
            n += slots
        lab.advance(day * HOURS_PER_DAY)
        assert lab.busy_channels <= 5
        total = max(total, n)
    assert lab.max_busy == 4 and total > 4  # channels were reused


def test_a_stopped_cell_frees_its_channel_and_sends_nothing_more() -> None:
    settings = CalendarSettings(cycle_hours=4.0, channels=2, batch_size=2)
    lab = CalendarLab(VirtualLab(seed=3, failures=False), settings)
    lab.start_batch(_recipes(2))
    _run_days(lab, 10)
    lab.advance(10.5 * HOURS_PER_DAY)  # half a day after the last upload: 3 cycles not yet uploaded
    assert lab.cycling() == ["E0", "E1"] and lab.free_slots() == 0
    last = lab.stop("E0")
    assert last is not None and last.rows["cycle"].tolist() == [20, 21, 22]
    assert lab.holds_channel("E0") is False and lab.free_slots() == 1
    later = [a for day in range(11, 60) for a in lab.advance(day * HOURS_PER_DAY)]
    assert "E0" not in {a.experiment_id for a in later}
    assert "E1" in {a.experiment_id for a in later if a.kind == "final"}
    with pytest.raises(DataError, match="no cell cycling"):
        lab.stop("E0")


def test_failed_runs_are_known_after_the_synthesis() -> None:
    lab = CalendarLab(VirtualLab(seed=0), CalendarSettings(channels=16, batch_size=16))
    recipes = _recipes(16)
    recipes["dispersion_solvent"] = "hexane"  # gels often
    recipes["solid_content_mg_per_ml"] = 40.0
    recipes["ligand_to_np_mass_ratio"] = 0.0
    recipes["sonication_time_min"] = 0.0
    lab.start_batch(recipes)
    failed = [a for a in lab.advance(3 * HOURS_PER_DAY) if a.kind == "failed"]
    assert failed and all(a.time_h == 3 * HOURS_PER_DAY for a in failed)
    assert lab.busy_channels == 16 - len(failed)


def test_same_seed_same_calendar() -> None:
    def values(seed: int) -> pd.DataFrame:
        lab = CalendarLab(VirtualLab(seed=seed), CalendarSettings(cycle_hours=3.0), seed=seed)
        lab.start_batch(_recipes(4, seed=seed))
        return arrivals_table([a for _, a in _run_days(lab, 40)])

    pd.testing.assert_frame_equal(values(5), values(5))
    assert not values(5)[CURVE_OUTCOME].equals(values(6)[CURVE_OUTCOME])


def test_settings_and_config_are_checked() -> None:
    with pytest.raises(DataError, match="channels"):
        CalendarSettings(channels=0)
    with pytest.raises(DataError, match="cycle_hours"):
        CalendarSettings(cycle_hours=-1.0)
    with pytest.raises(DataError, match="cells_per_experiment"):
        CalendarSettings(channels=2, cells_per_experiment=3)
    config = calendar_config(VirtualLab().config)
    assert config.curve_outcomes == {CURVE_OUTCOME: 200}
    assert [c.text() for c in config.outcome_constraints] == ["first_cycle_ce_pct >= 80", "coating_thickness_nm <= 15"]
