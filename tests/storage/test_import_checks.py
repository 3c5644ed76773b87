"""import_json checks every experiment and measurement against the exported configuration,
and a history read reports a corrupt stored row as a StorageError naming the experiment
(a real SQLite file and a real PostgreSQL database)."""

from __future__ import annotations

import copy
import io
import json
import re
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from doe import Campaign
from doe.domain.config import CampaignConfig
from doe.errors import StorageError
from doe.storage import open_store
from doe.storage import schema as s
from doe.templates import resolve_config

CE = "first_cycle_ce_pct"


@pytest.fixture
def exported(store_url: str) -> dict[str, Any]:
    """A small campaign's export (two experiments, one measured), read back from JSON text."""
    campaign = Campaign.from_config(resolve_config("hfo2-ncm85"), storage=store_url, name="source", actor="alice")
    recipe = campaign.config.reference_recipe()
    campaign.record(pd.DataFrame([{**recipe, CE: 88.0},
                                                    {**recipe, "anneal_temperature_c": 500.0}]))
    return json.loads(json.dumps(campaign.export_json()))


def _with_parameter(data: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    bad = copy.deepcopy(data)
    bad["experiments"][1]["parameters"][name] = value
    return bad


def _state(store_url: str) -> tuple[list[str], str]:
    store = open_store(store_url)
    names = sorted(store.list_campaigns(include_archived=True)["name"])
    return names, store.experiments("source").to_json()


@pytest.mark.parametrize(("name", "value", "message"), [
    ("anneal_temperature_c", "abc", "anneal_temperature_c.*'abc'"),
    ("anneal_temperature_c", "400", "anneal_temperature_c.*'400'"),
    ("anneal_temperature_c", 9000.0, "anneal_temperature_c.*out of bounds"),
    ("anneal_temperature_c", True, "anneal_temperature_c.*True"),
    ("anneal_temperature_c", None, "anneal_temperature_c.*None"),
    ("anneal_atmosphere", "plasma", "anneal_atmosphere.*unknown category"),
    ("anneal_atmosphere", 3, "anneal_atmosphere.*3"),
    ("evaporation_bath_temperature_c", 55.0, "evaporation_bath_temperature_c.*not an allowed value"),
    ("colour", "blue", "parameter 'colour' is not in its configuration"),
])
def test_import_refuses_parameters_outside_the_configuration(
        store_url: str, exported: dict[str, Any], name: str, value: Any, message: str) -> None:
    before = _state(store_url)
    bad = _with_parameter(exported, name, value)
    eid = bad["experiments"][1]["experiment_id"]
    with pytest.raises(StorageError, match=message) as err:
        Campaign.import_json(bad, storage=store_url, name="copy", actor="mallory")
    assert "campaign 'copy'" in str(err.value) and f"experiment {eid!r}" in str(err.value)
    assert _state(store_url) == before


def test_import_refuses_a_missing_parameter(store_url: str, exported: dict[str, Any]) -> None:
    bad = copy.deepcopy(exported)
    del bad["experiments"][0]["parameters"]["anneal_time_h"]
    with pytest.raises(StorageError, match=r"experiments\[0\].*'anneal_time_h' is None"):
        Campaign.import_json(bad, storage=store_url, name="copy", actor="mallory")
    assert "copy" not in open_store(store_url).list_campaigns(include_archived=True)["name"].tolist()


def test_import_refuses_an_unknown_outcome(store_url: str, exported: dict[str, Any]) -> None:
    before = _state(store_url)
    bad = copy.deepcopy(exported)
    bad["measurements"][0]["outcome"] = "bogus_pct"
    with pytest.raises(StorageError, match=r"campaign 'copy', measurements\[0\].*outcome 'bogus_pct'"):
        Campaign.import_json(bad, storage=store_url, name="copy", actor="mallory")
    assert _state(store_url) == before


@pytest.mark.parametrize(("field", "value", "message"), [
    ("experiment_id", ["E0001"], r"measurements\[0\]: experiment \['E0001'\] is not in the export"),
    ("experiment_id", {"a": 1}, r"measurements\[0\]: experiment .* is not in the export"),
    ("file_sha256", ["abc"], r"measurements\[0\]\.file_sha256 \['abc'\] is not a file of the export"),
])
def test_import_refuses_a_list_where_a_measurement_names_an_experiment_or_file(
        store_url: str, exported: dict[str, Any], field: str, value: Any, message: str) -> None:
    # found by fuzzing: a list here raised a raw TypeError (unhashable) instead of a StorageError
    before = _state(store_url)
    bad = copy.deepcopy(exported)
    bad["measurements"][0][field] = value
    with pytest.raises(StorageError, match=message):
        Campaign.import_json(bad, storage=store_url, name="copy", actor="mallory")
    assert _state(store_url) == before


@pytest.mark.parametrize("field", ["model_settings", "predictions"])
@pytest.mark.parametrize("value", [True, [1], "x", 3])
def test_import_refuses_model_settings_or_predictions_that_are_not_a_mapping(
        store_url: str, exported: dict[str, Any], field: str, value: Any) -> None:
    # found by fuzzing: 'model_settings: true' was stored, then every history() read failed
    before = _state(store_url)
    bad = copy.deepcopy(exported)
    bad["experiments"][1][field] = value
    with pytest.raises(StorageError, match=rf"experiments\[1\]\.{field} must be a mapping"):
        Campaign.import_json(bad, storage=store_url, name="copy", actor="mallory")
    assert _state(store_url) == before


def test_a_valid_import_still_works_and_reads_back(store_url: str, exported: dict[str, Any]) -> None:
    copy_campaign = Campaign.import_json(exported, storage=store_url, name="copy", actor="bob")
    history = copy_campaign.history()
    assert len(history) == 2 and history[CE].tolist()[0] == 88.0
    assert history["anneal_temperature_c"].tolist() == [400.0, 500.0]


# --------------------------------------------------------------------------- corrupt stored rows
def _corrupt_parameters(store_url: str, experiment_id: str, **changes: Any) -> None:
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        row = conn.execute(sa.select(s.experiments.c.id, s.experiments.c.parameters)
                           .where(s.experiments.c.experiment_id == experiment_id)).one()
        params = json.loads(row.parameters) | changes
        conn.execute(sa.update(s.experiments).where(s.experiments.c.id == row.id)
                     .values(parameters=json.dumps(params)))
    engine.dispose()


def test_a_stored_string_in_a_numeric_parameter_is_a_storage_error(store_url: str,
                                                                    exported: dict[str, Any]) -> None:
    campaign = Campaign.load("source", storage=store_url)
    eid = campaign.history()["experiment_id"].tolist()[1]
    _corrupt_parameters(store_url, eid, anneal_temperature_c="hot")
    campaign = Campaign.load("source", storage=store_url)  # an edit outside doe bumps no revision: read afresh
    with pytest.raises(StorageError, match=f"campaign 'source'.*experiment '{eid}'.*anneal_temperature_c.*'hot'"):
        campaign.history()
    with pytest.raises(StorageError, match=f"experiment '{eid}'"):
        campaign.export_table(io.BytesIO(), file_format="csv")


def test_stored_decimal_text_from_an_older_tool_still_reads(store_url: str, exported: dict[str, Any]) -> None:
    campaign = Campaign.load("source", storage=store_url)
    eid = campaign.history()["experiment_id"].tolist()[1]
    _corrupt_parameters(store_url, eid, anneal_temperature_c="450.5")
    campaign = Campaign.load("source", storage=store_url)
    assert campaign.history()["anneal_temperature_c"].tolist() == [400.0, 450.5]


def test_stored_parameters_that_are_not_json_are_a_storage_error(store_url: str, exported: dict[str, Any]) -> None:
    campaign = Campaign.load("source", storage=store_url)
    eid = campaign.history()["experiment_id"].tolist()[0]
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.update(s.experiments).where(s.experiments.c.experiment_id == eid)
                     .values(parameters="[1, 2"))
    engine.dispose()
    with pytest.raises(StorageError, match=f"experiment '{eid}' has parameters"):
        Campaign.load("source", storage=store_url).history()


def test_a_stored_text_measurement_is_a_storage_error(tmp_path) -> None:
    """SQLite keeps text in a REAL column (PostgreSQL refuses it at write time)."""
    url = f"sqlite:///{tmp_path / 'doe.sqlite3'}"
    campaign = Campaign.from_config(resolve_config("hfo2-ncm85"), storage=url, name="source", actor="alice")
    campaign.record(pd.DataFrame([{**campaign.config.reference_recipe(), CE: 88.0}]))
    eid = campaign.history()["experiment_id"].tolist()[0]
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE measurements SET value = 'n/a'"))
    engine.dispose()
    campaign = Campaign.load("source", storage=url)  # an edit outside doe bumps no revision: read afresh
    with pytest.raises(StorageError, match=f"experiment '{eid}' has {CE} = 'n/a'"):
        campaign.history()
    with pytest.raises(StorageError, match=f"experiment '{eid}' has {CE} = 'n/a'"):
        campaign.measurements()


ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{k}: &{k} [{', '.join([f'*{p}'] * 9)}]\n" for p, k in zip("abcdefgh", "bcdefghi", strict=True))


@pytest.mark.parametrize(("text", "message"), [
    ("a: !!float abc", "cannot be read"),
    (ALIAS_BOMB, "anchors .* are not allowed"),
    ("name: x\nname: y\nparameters: []", "given twice"),
])
def test_import_refuses_hostile_configuration_text(store_url: str, exported: dict[str, Any], text: str,
                                                   message: str) -> None:
    before = _state(store_url)
    bad = copy.deepcopy(exported)
    bad["config_versions"][0]["config"] = text
    with pytest.raises(StorageError, match=message) as err:
        Campaign.import_json(bad, storage=store_url, name="copy", actor="mallory")
    assert "config_versions[0]" in str(err.value) and len(str(err.value)) < 2000
    assert _state(store_url) == before


SURROGATE = "x\ud800"  # a lone surrogate: what JSON's "\\ud800" escape gives; no database holds it


@pytest.mark.parametrize(("place", "where"), [
    ("measurements[0].note", lambda d: d["measurements"][0]),
    ("experiments[1].failure_reason", lambda d: d["experiments"][1]),
    ("experiments[0].parameters.anneal_atmosphere", lambda d: d["experiments"][0]["parameters"]),
    ("experiments[0].model_settings.kernel", lambda d: d["experiments"][0]),
    ("audit[0].actor", lambda d: d["audit"][0]),
    ("name", lambda d: d),
])
def test_import_refuses_text_that_is_not_unicode_naming_the_field(store_url: str, exported: dict[str, Any],
                                                                  place: str, where: Any) -> None:
    before = _state(store_url)
    bad = copy.deepcopy(exported)
    key = place.rsplit(".", 1)[-1]
    if key == "kernel":
        where(bad)["model_settings"] = {"kernel": SURROGATE}
    else:
        where(bad)[key] = SURROGATE
    with pytest.raises(StorageError, match=re.escape(place) + ": holds a character that is not Unicode text"):
        Campaign.import_json(bad, storage=store_url, name="copy", actor="mallory")
    assert _state(store_url) == before
    with pytest.raises(StorageError, match="campaign name"):
        Campaign.import_json(copy.deepcopy(exported), storage=store_url, name="copy" + SURROGATE, actor="mallory")
    assert _state(store_url) == before


@pytest.mark.parametrize(("section", "field"), [
    ("", "colour"), ("experiments", "colour"), ("measurements", "notes"), ("config_versions", "comment"),
    ("audit", "who"),
])
def test_import_refuses_a_field_it_does_not_know(store_url: str, exported: dict[str, Any], section: str,
                                                 field: str) -> None:
    """A hand-edited export with 'notes' for 'note' was imported, and the note was gone."""
    before = _state(store_url)
    bad = copy.deepcopy(exported)
    entry = bad if not section else bad[section][0]
    if field == "notes":
        entry["notes"] = entry.pop("note")
    else:
        entry[field] = "x"
    where = "the export" if not section else rf"{section}\[0\]"
    with pytest.raises(StorageError, match=rf"{where} has the field '{field}', which is not a field"):
        Campaign.import_json(bad, storage=store_url, name="copy", actor="mallory")
    assert _state(store_url) == before


def test_import_refuses_a_value_no_configuration_version_allows(store_url: str, exported: dict[str, Any]) -> None:
    """A CE of 850 (valid_range 0-100) was imported as it was; record() refuses it."""
    before = _state(store_url)
    bad = copy.deepcopy(exported)
    bad["measurements"][0]["value"] = 850.0
    with pytest.raises(StorageError, match=r"measurements\[0\].*first_cycle_ce_pct 850.0 is outside .*from 0 to 100"):
        Campaign.import_json(bad, storage=store_url, name="copy", actor="mallory")
    assert _state(store_url) == before
    # a range narrowed after a value was recorded keeps the value: the import too
    source = Campaign.load("source", storage=store_url)
    source.record(pd.DataFrame([{"experiment_id": "E0002", CE: 99.0}]))
    source.update_config(source.config.to_dict() | {"objectives": [
        o | {"valid_range": [0.0, 95.0]} if o["name"] == CE else o for o in source.config.to_dict()["objectives"]]})
    copied = Campaign.import_json(json.loads(json.dumps(source.export_json())), storage=store_url, name="narrowed")
    assert copied.history().set_index("experiment_id").loc["E0002", CE] == 99.0


def test_an_export_with_cells_whose_labels_differ_only_in_case_imports_as_stored(store_url: str,
                                                                                  exported: dict[str, Any]) -> None:
    """Older versions stored 'a' beside 'A' as two cells, and the store keeps them so; an export
    of such a campaign is the only way to move it between SQLite and PostgreSQL, so it imports
    as it was (a refusal left the campaign stuck in its database)."""
    data = copy.deepcopy(exported)
    first = data["measurements"][0]
    data["measurements"] = [first | {"replicate": "A"}, first | {"replicate": "a", "value": 87.0}]
    copied = Campaign.import_json(data, storage=store_url, name="copy", actor="alice")
    cells = copied.measurements().sort_values("replicate")
    assert cells["replicate"].tolist() == ["A", "a"] and cells["value"].tolist() == [88.0, 87.0]


def test_import_refuses_a_campaign_that_learns_from_one_not_in_the_database(store_url: str, exported: dict[str, Any],
                                                                           tmp_path: Any) -> None:
    """The import went through, the first suggestion too, and every suggest() after a result
    failed with 'no campaign named ...'."""
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    Campaign.from_config(resolve_config("hfo2-ncm85"), storage=elsewhere, name="old2025")
    learner = Campaign.from_config(resolve_config("hfo2-ncm85").replace(name="learner", learn_from=("old2025",)),
                                   storage=elsewhere)
    data = json.loads(json.dumps(learner.export_json()))
    before = _state(store_url)
    with pytest.raises(StorageError, match="learn_from: no campaign named 'old2025' in this database"):
        Campaign.import_json(data, storage=store_url, actor="alice")
    assert _state(store_url) == before
    Campaign.import_json(json.loads(json.dumps(Campaign.load("old2025", storage=elsewhere).export_json())),
                         storage=store_url)
    assert Campaign.import_json(data, storage=store_url).config.learn_from == ("old2025",)


# --------------------------------------------------------------------------- names doe derives
_CLASH = {"name": "clash", "seed": 1, "objectives": [{"name": "ce", "goal": "maximize"}],
          "parameters": [{"name": "x", "type": "continuous", "bounds": [0.0, 10.0]},
                         {"name": "zz", "type": "continuous", "bounds": [0.0, 10.0]}]}


def _replicated(store_url: str) -> Campaign:
    campaign = Campaign.from_config(_CLASH, storage=store_url)
    campaign.record(pd.DataFrame([{"experiment_id": "E1", "replicate": "A", "x": 1.0, "zz": 7.0, "ce": 3.0},
                                  {"experiment_id": "E1", "replicate": "B", "x": 1.0, "zz": 7.0, "ce": 5.0}]))
    return campaign


def test_an_import_refuses_a_parameter_named_as_a_derived_column(store_url: str) -> None:
    """Found by a probe: an export whose parameter was renamed ce_n (beside the outcome ce) was
    imported, and the history showed the replicate count in place of the parameter's values."""
    data = json.loads(json.dumps(_replicated(store_url).export_json()).replace("zz", "ce_n"))
    assert "name: ce_n" in data["config_versions"][0]["config"]
    with pytest.raises(StorageError, match=r"nothing was imported:\n  - parameters\[ce_n\]\.name: 'ce_n' is a column "
                                           r"doe derives from the outcome 'ce'"):
        Campaign.import_json(data, storage=store_url, name="clash2")
    assert open_store(store_url).list_campaigns()["name"].tolist() == ["clash"]


def test_a_stored_parameter_named_as_a_derived_column_keeps_its_values(store_url: str) -> None:
    """A campaign stored before such names were refused: the parameter's values stay in the
    history under its name; that outcome gets no replicate summary columns in their place."""
    _replicated(store_url)
    config = Campaign.load("clash", storage=store_url).config.to_dict()
    config["parameters"][1]["name"] = "ce_n"
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:  # as an older doe stored it
        conn.execute(sa.update(s.config_versions).values(
            config_yaml=CampaignConfig.from_dict(config, stored=True).to_yaml()))
        conn.execute(sa.update(s.experiments).values(parameters=json.dumps({"x": 1.0, "ce_n": 7.0})))
    engine.dispose()
    history = Campaign.load("clash", storage=store_url).history()
    assert history.columns.is_unique and "ce_sd" not in history.columns
    assert history[["ce_n", "ce"]].values.tolist() == [[7.0, 4.0]]
