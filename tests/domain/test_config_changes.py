"""Warnings before a new configuration version is saved."""

from __future__ import annotations

import pandas as pd

from doe import load_config
from doe.domain.config import CampaignConfig
from doe.domain.config_changes import config_change_warnings

OLD = load_config("hfo2-ncm85")


def _new(**changes: object) -> CampaignConfig:
    data = OLD.to_dict()
    for p in data["parameters"]:
        if p["name"] in changes:
            p.update(changes[p["name"]])  # type: ignore[arg-type]
    return CampaignConfig.from_dict(data)


def _history() -> pd.DataFrame:
    base = dict(OLD.reference_recipe() or {})
    return pd.DataFrame([
        {"experiment_id": "E0001", "status": "completed", **base, "anneal_temperature_c": 700.0},
        {"experiment_id": "E0002", "status": "proposed", **base, "anneal_temperature_c": 690.0,
         "dispersion_solvent": "hexane"},
        {"experiment_id": "E0003", "status": "abandoned", **base, "anneal_temperature_c": 740.0},
        {"experiment_id": "E0004", "status": "completed", **base},
    ])


def test_narrower_bounds_and_removed_labels_name_the_excluded_experiments() -> None:
    new = _new(anneal_temperature_c={"bounds": [250, 650]},
               dispersion_solvent={"values": ["chloroform", "toluene"]})
    warnings = config_change_warnings(OLD, new, _history())
    assert warnings == [
        "1 finished experiment(s) fall outside the new configuration: E0001 (anneal_temperature_c = 700 is outside "
        "250 to 650)",
        "1 pending experiment(s) fall outside the new configuration: E0002 (anneal_temperature_c = 690 is outside "
        "250 to 650, dispersion_solvent = hexane is not one of chloroform, toluene)",
    ]  # the abandoned E0003 does not count
    assert config_change_warnings(OLD, OLD, _history()) == []


def test_a_log_scale_switched_off_is_said() -> None:
    assert OLD.parameter("anneal_time_h").log_scale  # the template's anneal time is on a log scale
    linear = _new(anneal_time_h={"log_scale": False})
    warnings = config_change_warnings(OLD, linear, _history())
    assert warnings == ["anneal_time_h is no longer on a log scale: the model will treat 0.5 to 6 in equal steps, "
                        "not equal ratios"]
    assert "now on a log scale" in config_change_warnings(linear, OLD, _history())[0]


def test_a_valid_range_that_excludes_recorded_values_is_said() -> None:
    """A CE of 102 recorded before the range [0, 100] was set: it stays, and saying so keeps the
    engineer from learning it only when a file with it is refused."""
    history = _history().assign(first_cycle_ce_pct=[102.0, None, 101.0, 88.0])
    data = OLD.to_dict()
    open_range = {**data, "objectives": [{k: v for k, v in o.items() if k != "valid_range"} for o in data["objectives"]]}
    warnings = config_change_warnings(CampaignConfig.from_dict(open_range), OLD, history)
    assert warnings == ["2 experiment(s) hold a value of first_cycle_ce_pct outside its new valid_range (from 0 to 100): "
                        "E0001, E0003; they stay recorded, but a file that gives such a value again is refused"]
    assert config_change_warnings(OLD, OLD, history) == []  # the same range: nothing new to say


def test_a_new_parameter_says_what_becomes_of_the_finished_experiments() -> None:
    """A probe added stir_rpm to a campaign of 20 results: the model dropped them all and went
    back to an initial design, with nothing said but a log line."""
    data = OLD.to_dict()
    data["parameters"].append({"name": "stir_rpm", "type": "continuous", "bounds": [100, 500], "reference": 300})
    with_reference = CampaignConfig.from_dict(data)
    assert config_change_warnings(OLD, with_reference, _history()) == [
        "stir_rpm is new: the 2 finished experiment(s) have no value of it; the model takes them at its reference "
        "(300.0)"]
    del data["parameters"][-1]["reference"]
    assert "are left out of the model (give it the reference" in config_change_warnings(
        OLD, CampaignConfig.from_dict(data), _history())[0]


def test_a_measured_outcome_or_a_parameter_dropped_or_renamed_is_said() -> None:
    """Renaming a curve outcome on the Campaigns page saved at once: its 72 points left the
    history, the model and the rankings without a word (found in a browser walk)."""
    data = OLD.to_dict()
    curve = {**data, "objectives": [{**o, "over": "cycle", "at": 200} if o["name"] == "capacity_retention_pct" else o
                                    for o in data["objectives"]]}
    old = CampaignConfig.from_dict(curve)
    history = _history().assign(capacity_retention_pct=[70.0, None, None, 65.0],
                                capacity_retention_pct_last_cycle=pd.array([200, None, None, 50], dtype="Int64"))
    renamed = CampaignConfig.from_dict({**curve, "objectives": [
        {**o, "name": "retention_200"} if o["name"] == "capacity_retention_pct" else o for o in curve["objectives"]]})
    warnings = config_change_warnings(old, renamed, history)
    assert warnings == ["capacity_retention_pct is no longer an outcome, and 2 finished experiment(s) have values of "
                        "it: they stay stored (measurements, the cells file, the JSON export) but leave the model and "
                        "the rankings and, as a curve, the history; renaming an outcome does not carry its values to "
                        "the new name"]
    assert config_change_warnings(old, renamed, history.assign(capacity_retention_pct_last_cycle=None)) == []
    fewer = CampaignConfig.from_dict({**data, "parameters": [p for p in data["parameters"]
                                                             if p["name"] != "sonication_time_min"]})
    assert config_change_warnings(OLD, fewer, _history()) == [
        "sonication_time_min is no longer a parameter: the finished experiments keep their values of it in the "
        "history, but the model no longer tells them apart by it"]


def test_a_parameter_retyped_from_labels_to_numbers_is_warned_not_a_crash() -> None:
    """The Campaigns page's check raised ValueError (float('O2')) and showed 'Something went wrong'."""
    new = _new(dispersion_solvent={"type": "discrete", "values": [1, 2, 3], "reference": 1})
    warnings = config_change_warnings(OLD, new, _history())
    assert "E0001 (dispersion_solvent = chloroform is not a number)" in warnings[0]
