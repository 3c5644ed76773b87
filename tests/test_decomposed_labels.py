"""A campaign an older doe stored with decomposed labels and name ('Ethanol-e' + U+0301): every
comparison of a stored label or name with a listed or typed one compares composed forms, so
filters, warnings, explanations, the Record grid, lookups by name and exports treat 'é' typed
either way as one text (the encoder and the record matcher already did)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from doe.campaign import Campaign
from doe.domain.config import CampaignConfig
from doe.domain.config_changes import config_change_warnings
from doe.domain.display import mixed_batches
from doe.domain.explain import recipe_distance
from doe.domain.read_back import dropped_parameter_problems
from doe.storage import schema as s
from doe.storage.accounts import AccountStore
from doe.ui.tables import grid_changes, record_grid, search, suggestion_view

DECOMPOSED, COMPOSED = "Ethanol-e\u0301", "Ethanol-\u00e9"
NAME = "cafe\u0301 run"
RAW = {"name": "caf\u00e9 run", "seed": 1,
       "parameters": [{"name": "x", "type": "continuous", "bounds": [0.0, 1.0]},
                      {"name": "solvent", "type": "categorical", "values": [COMPOSED, "water"]}],
       "objectives": [{"name": "y", "goal": "maximize"}]}


def _as_an_older_doe(url: str) -> None:
    """Rewrite the campaign of ``RAW`` as an older doe stored it: its name, the labels of its
    configuration and of its experiments' recipes decomposed."""
    old = CampaignConfig.from_dict({**RAW, "name": NAME, "parameters": [
        RAW["parameters"][0], {**RAW["parameters"][1], "values": [DECOMPOSED, "water"]}]}, stored=True)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.update(s.campaigns).values(name=NAME))
        conn.execute(sa.update(s.config_versions).values(config_yaml=old.to_yaml()))
        for pk, text in conn.execute(sa.select(s.experiments.c.id, s.experiments.c.parameters)).all():
            recipe = json.loads(text)
            recipe["solvent"] = recipe["solvent"].replace(COMPOSED, DECOMPOSED)
            conn.execute(sa.update(s.experiments).where(s.experiments.c.id == pk).values(
                parameters=json.dumps(recipe)))
    engine.dispose()


@pytest.fixture()
def older(tmp_path: Path) -> Campaign:
    """Six finished experiments (three in Ethanol-é), one proposed in Ethanol-é, all decomposed;
    configuration version 1 decomposed (as stored), loaded by the decomposed name."""
    url = f"sqlite:///{tmp_path / 'older.sqlite3'}"
    campaign = Campaign.from_config(RAW, storage=url, actor="lead")
    campaign.record(pd.DataFrame([{"experiment_id": f"E{i}", "x": 0.1 * i, "solvent": [COMPOSED, "water"][i % 2],
                                   "y": float(i)} for i in range(6)]))
    campaign.record(pd.DataFrame([{"experiment_id": "P1", "x": 0.9, "solvent": COMPOSED}]))
    _as_an_older_doe(url)
    loaded = Campaign.load(NAME, storage=url, actor="lead")
    assert set(loaded.history()["solvent"]) == {DECOMPOSED, "water"}  # as the older doe stored them
    return loaded


def _composed_version(campaign: Campaign) -> CampaignConfig:
    """The configuration as any later edit saves it: its labels composed (a bound widened)."""
    data = campaign.config.to_dict()
    data["parameters"][0]["bounds"] = [0.0, 2.0]
    return CampaignConfig.from_dict(data)


def test_history_search_finds_a_decomposed_label_typed_composed(older: Campaign) -> None:
    """Review: the History page's search for 'Ethanol-é' (typed composed, as every keyboard
    does) showed none of the three experiments an older doe stored decomposed."""
    history = older.history()
    assert sorted(search(history, COMPOSED.lower())["experiment_id"]) == ["E0", "E2", "E4", "P1"]
    assert sorted(search(history, DECOMPOSED)["experiment_id"]) == ["E0", "E2", "E4", "P1"]


def test_a_later_composed_version_warns_of_nothing_and_loads_by_either_spelling(older: Campaign) -> None:
    """Review: saving any edit (which composes the labels) warned that the three finished
    experiments in Ethanol-é 'fall outside the new configuration: solvent = Ethanol-é is not one
    of Ethanol-é, water'; and `doe status --campaign 'café run'` (typed composed) found no
    campaign of that name."""
    new = _composed_version(older)
    assert new.parameter("solvent").values == (COMPOSED, "water")
    assert config_change_warnings(older.config, new, older.history()) == []
    assert older.update_config(new.to_dict()) == 2
    again = Campaign.load(RAW["name"], storage=older.storage_url)  # the name typed composed
    assert again.history()["experiment_id"].tolist() == older.history()["experiment_id"].tolist()
    accounts = AccountStore.open(older.storage_url)  # `doe member add 'café run' ana`, typed composed
    accounts.add_user("ana", "engineer", password_hash=None, actor="lead")
    assert accounts.add_member(RAW["name"], "ana", actor="lead")
    assert accounts.members(RAW["name"])["username"].tolist() == ["ana"]
    learner = Campaign.from_config({**RAW, "name": "learner", "learn_from": [RAW["name"]]},
                                   storage=older.storage_url)
    assert learner.config.learn_from == (RAW["name"],)


def test_the_record_grid_shows_a_decomposed_label_as_its_listed_option(older: Campaign) -> None:
    """Review: after a composed version the Record grid's solvent cell of an experiment stored
    decomposed was not one of its column's options (the composed labels), and a result typed on
    that row with the label picked from the options read as a changed recipe."""
    older.update_config(_composed_version(older).to_dict())
    config, history = older.config, older.history()
    grid = record_grid(history, config, "all")
    assert set(grid["solvent"]) <= set(config.parameter("solvent").values)
    edited = grid.copy()
    row = grid.index[grid["experiment_id"] == "P1"][0]
    edited.loc[row, "y"] = 7.5
    changes = grid_changes(grid, edited, config, history)
    assert changes["experiment_id"].tolist() == ["P1"]
    report = older.record(changes.join(grid[["x", "solvent"]]))
    assert report.measurements_added == 1 and older.history().set_index("experiment_id").loc["P1", "y"] == 7.5


def test_plan_explains_a_composed_proposal_against_decomposed_results(older: Campaign) -> None:
    """Review: the Plan page said a proposal in Ethanol-é 'explores untried Ethanol-é (solvent)'
    after three experiments in it (stored decomposed), and measured its distance to them as if
    the label differed."""
    older.update_config(_composed_version(older).to_dict())
    history = older.history()
    measured = history[history["status"] == "completed"]
    proposal = pd.DataFrame([{"experiment_id": "E9", "x": 0.4, "solvent": COMPOSED, "strategy": "explore_untried"}])
    assert "untried" not in suggestion_view(proposal, older.config, measured, None)["purpose"].iloc[0]
    near = measured.set_index("experiment_id").loc[["E0", "E2", "E4"]]
    assert recipe_distance(near, proposal.iloc[0], older.config).max() < 0.5
    shared = CampaignConfig.from_dict({**older.config.to_dict(), "batch_shared": ["solvent"]})
    assert mixed_batches(pd.DataFrame({"batch_id": ["B1", "B1"], "x": [0.1, 0.2],
                                       "solvent": [DECOMPOSED, COMPOSED]}), shared) == []


def test_an_export_with_a_dropped_decomposed_label_records_back(older: Campaign) -> None:
    """A history export carries a dropped categorical parameter's stored value: the cell
    re-saved composed by a spreadsheet was refused as a changed value of a dropped parameter."""
    history = older.history()
    table = pd.DataFrame({"experiment_id": ["E0"], "old_solvent": [COMPOSED]})
    history = history.assign(old_solvent=history["solvent"])
    dropped, problems = dropped_parameter_problems(table, history, older.config, older.measurements())
    assert dropped == ("old_solvent",) and problems == []


def test_doe_status_finds_the_campaign_by_its_name_typed_composed_and_says_it_is_archived(
        doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Review: `doe status --campaign 'café run'` (typed composed) found no campaign an older doe
    named decomposed; once found, its 'archived' line compared the typed name with the stored one."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"  # the doe_cmd fixture's database
    Campaign.from_config(RAW, storage=url).record(pd.DataFrame([{"x": 0.5, "solvent": COMPOSED, "y": 1.0}]))
    _as_an_older_doe(url)
    Campaign.load(NAME, storage=url).archive()
    done = doe_cmd("status", "--campaign", RAW["name"])
    assert "archived: closed to changes" in done.stdout and "completed 1" in done.stdout


def test_the_history_page_finds_a_decomposed_label_typed_composed(
        older: Campaign, monkeypatch: pytest.MonkeyPatch) -> None:
    """The History page itself (Streamlit's AppTest on the SQLite file): its search box, given
    'Ethanol-é' typed composed, lists the four experiments stored decomposed."""
    from streamlit.testing.v1 import AppTest

    from doe.ui import state

    monkeypatch.setenv("DOE_DATABASE_URL", older.storage_url)
    monkeypatch.setenv("DOE_ENGINE_SETTINGS", "fast")
    monkeypatch.setenv("DOE_ACTOR", "lead")
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=180)
    at.session_state[state.NEXT_CAMPAIGN] = NAME
    at.run()
    at.switch_page("doe/ui/pages/history.py").run()
    next(t for t in at.text_input if t.label == "Search (any column)").set_value(COMPOSED).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "4 of 7 experiment(s)" in [str(c.value) for c in at.caption]
    shown = next(frame.value for frame in at.dataframe if "status" in frame.value.columns)
    assert sorted(shown["experiment_id"]) == ["E0", "E2", "E4", "P1"]
