"""learn_from in the configuration, and source rows on the target's parameters (pure, no store)."""

from __future__ import annotations

import pandas as pd
import pytest

from doe import load_config
from doe.domain import CampaignConfig
from doe.domain.transfer import informed_by_text, source_training
from doe.errors import ConfigError


def _config(**changes: object) -> CampaignConfig:
    data: dict[str, object] = {
        "name": "zro2-ncm85-2026",
        "parameters": [{"name": "loading_wt_pct", "type": "continuous", "bounds": [0, 3], "reference": 1.0},
                       {"name": "anneal_temperature_c", "type": "continuous", "bounds": [250, 800]},
                       {"name": "anneal_atmosphere", "type": "categorical", "values": ["O2", "air"]}],
        "objectives": [{"name": "first_cycle_ce_pct", "goal": "maximize"}],
    }
    data.update(changes)
    return CampaignConfig.from_dict(data)


def test_learn_from_round_trips_and_is_optional() -> None:
    config = _config(learn_from=["hfo2-ncm85-2025", "linbo3-2025"])
    assert config.learn_from == ("hfo2-ncm85-2025", "linbo3-2025")
    assert CampaignConfig.from_dict(config.to_dict()) == config
    assert CampaignConfig.from_yaml(config.to_yaml()).learn_from == config.learn_from
    assert _config().learn_from == () and "learn_from" not in _config().to_dict()


@pytest.mark.parametrize(("value", "message"), [
    (["zro2-ncm85-2026"], "is this campaign itself"),
    (["a", "a"], "listed more than once"),
    ("hfo2", "must be a list of campaign names"),
    ([3], "must be a list of campaign names"),
    ([""], "1 to 120 printable characters"),
    (["bad\nname"], "1 to 120 printable characters"),
])
def test_bad_learn_from_names_the_field(value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=r"learn_from") as info:
        _config(learn_from=value)
    assert message in str(info.value)


def _experiments(config: CampaignConfig, rows: list[dict[str, object]]) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    table.insert(0, "experiment_id", [f"E{i:04d}" for i in range(1, len(rows) + 1)])
    table["status"] = [r.get("status", "completed") for r in rows]
    table["batch_id"] = None
    table["config_version"] = 1
    return table


def test_source_training_fills_a_missing_parameter_with_the_reference_and_drops_failed_rows() -> None:
    target = _config()
    source = load_config({
        "name": "old", "objectives": [{"name": "first_cycle_ce_pct", "goal": "maximize"}],
        "parameters": [{"name": "anneal_temperature_c", "type": "continuous", "bounds": [250, 800]},
                       {"name": "anneal_atmosphere", "type": "categorical", "values": ["O2", "Ar"]},
                       {"name": "extra_h", "type": "continuous", "bounds": [0, 1]}],
    })
    experiments = _experiments(source, [
        {"anneal_temperature_c": 400.0, "anneal_atmosphere": "O2", "extra_h": 0.5, "first_cycle_ce_pct": 90.0},
        {"anneal_temperature_c": 500.0, "anneal_atmosphere": "Ar", "extra_h": 0.1, "first_cycle_ce_pct": 85.0},
        {"anneal_temperature_c": 600.0, "anneal_atmosphere": "O2", "extra_h": 0.2, "first_cycle_ce_pct": None,
         "status": "failed"},
    ])
    rows = source_training(target, source, experiments)
    assert list(rows.columns) == [*target.parameter_names, "first_cycle_ce_pct"]
    assert rows["loading_wt_pct"].tolist() == [1.0, 1.0]  # the target's reference
    assert rows["first_cycle_ce_pct"].tolist() == [90.0, 85.0]


def test_source_without_the_parameter_or_a_reference_gives_no_rows() -> None:
    target = _config(parameters=[{"name": "loading_wt_pct", "type": "continuous", "bounds": [0, 3]},
                                 {"name": "anneal_temperature_c", "type": "continuous", "bounds": [250, 800]}])
    source = load_config({"name": "old", "objectives": [{"name": "first_cycle_ce_pct", "goal": "maximize"}],
                          "parameters": [{"name": "anneal_temperature_c", "type": "continuous", "bounds": [250, 800]}]})
    experiments = _experiments(source, [{"anneal_temperature_c": 400.0, "first_cycle_ce_pct": 90.0}])
    assert source_training(target, source, experiments).empty


def test_informed_by_text_is_plain_and_says_what_happened() -> None:
    report = pd.DataFrame({"outcome": ["ce"], "source": ["hfo2 *bold*"], "correlation": [0.8123], "used": [True]})
    text = informed_by_text(("hfo2 *bold*", "other"), report)
    assert text == ("Informed by: hfo2 *bold* (ce: correlation 0.81, used), other (no shared, usable data)")
    assert informed_by_text((), None) == "Informed by: no earlier campaign"
    assert "no model yet" in informed_by_text(("a",), None)


def test_source_rows_outside_the_targets_space_are_left_out_and_units_converted(
        caplog: pytest.LogCaptureFixture) -> None:
    """Found by a probe: a source run at 800-1000 C was read at the target's bound 750 C (recipes
    never made), and a source in kelvin was read as Celsius."""
    target = _config(parameters=[{"name": "anneal_temperature_c", "type": "continuous", "bounds": [250, 750],
                                  "unit": "C"}])
    hot = load_config({"name": "hot", "objectives": [{"name": "first_cycle_ce_pct", "goal": "maximize"}],
                       "parameters": [{"name": "anneal_temperature_c", "type": "continuous", "bounds": [250, 1000],
                                       "unit": "C"}]})
    experiments = _experiments(hot, [{"anneal_temperature_c": t, "first_cycle_ce_pct": ce}
                                     for t, ce in ((400.0, 88.0), (800.0, 76.0), (1000.0, 50.0))])
    with caplog.at_level("WARNING"):
        rows = source_training(target, hot, experiments)
    assert rows["anneal_temperature_c"].tolist() == [400.0]
    assert "2 finished experiment(s) lie outside the ranges or values" in caplog.text
    kelvin = load_config({"name": "k", "objectives": [{"name": "first_cycle_ce_pct", "goal": "maximize",
                                                       "unit": "fraction"}],
                          "parameters": [{"name": "anneal_temperature_c", "type": "continuous", "bounds": [500, 1100],
                                          "unit": "K"}]})
    percent = _config(parameters=[{"name": "anneal_temperature_c", "type": "continuous", "bounds": [250, 750],
                                   "unit": "C"}], objectives=[{"name": "first_cycle_ce_pct", "goal": "maximize",
                                                               "unit": "%"}])
    rows = source_training(percent, kelvin, _experiments(kelvin, [{"anneal_temperature_c": 673.15,
                                                                   "first_cycle_ce_pct": 0.9}]))
    assert rows["anneal_temperature_c"].tolist() == [pytest.approx(400.0)]
    assert rows["first_cycle_ce_pct"].tolist() == [pytest.approx(90.0)]
    # a unit without a known conversion: the source adds nothing of that parameter
    other = load_config({**kelvin.to_dict(), "parameters": [{"name": "anneal_temperature_c", "type": "continuous",
                                                              "bounds": [500, 1100], "unit": "F"}]})
    assert source_training(percent, other, _experiments(other, [{"anneal_temperature_c": 752.0,
                                                                 "first_cycle_ce_pct": 0.9}])).empty
