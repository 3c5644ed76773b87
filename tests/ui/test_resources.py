"""Model results shared by every page and session: computed once per stored state, warmed in the background."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from doe.campaign import Campaign
from doe.engine.settings import EngineSettings
from doe.simulate import VirtualLab
from doe.ui.resources import CampaignHandle


def _recorded(url: str, n: int, seed: int) -> pd.DataFrame:
    recipes = VirtualLab.random_recipes(n, seed=seed)
    return pd.concat([recipes.reset_index(drop=True), VirtualLab(seed=seed).run(recipes).reset_index(drop=True)],
                     axis=1)


def test_results_are_computed_once_per_state_and_warmed_in_the_background(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'warm.sqlite3'}"
    Campaign.from_config("hfo2-ncm85", storage=url, name="warm", actor="fixture").record(_recorded(url, 8, 1))
    handle = CampaignHandle(Campaign.load("warm", storage=url, actor="web", settings=EngineSettings.fast()))
    stored = handle.campaign.state()

    handle.warm_in_background().join()
    assert {("cross-validation", stored), ("importance", stored)} <= set(handle.results)

    calls: list[int] = []
    for _ in range(3):  # reruns and other sessions reuse the result
        handle.derived("count", lambda c: calls.append(c.revision()) or len(calls))
    assert calls == [stored.revision]

    with handle.acting("Ann") as campaign:  # a change: a new state, computed again, old results dropped
        campaign.record(_recorded(url, 2, 2))
    assert handle.derived("count", lambda c: calls.append(c.revision()) or len(calls)) == 2
    assert all(key[1] == handle.campaign.state() for key in handle.results)
    assert handle.campaign.revision() != stored.revision

def test_the_server_start_fits_the_recent_campaigns_before_the_first_visit(tmp_path: Path, monkeypatch) -> None:
    """``python -m doe.ui.server`` prepares the app before Streamlit answers: the most recently
    changed campaign's leave-one-out check is already there for the first page that asks."""
    from doe.ui import resources, server

    url = f"sqlite:///{tmp_path / 'start.sqlite3'}"
    Campaign.from_config("hfo2-ncm85", storage=url, name="older", actor="fixture").record(_recorded(url, 6, 3))
    Campaign.from_config("hfo2-ncm85", storage=url, name="recent", actor="fixture").record(_recorded(url, 8, 4))
    monkeypatch.setenv("DOE_DATABASE_URL", url)
    monkeypatch.setenv("DOE_ENGINE_SETTINGS", "fast")

    server.prepare()

    for name in ("recent", "older"):
        handle = resources.campaign_handle(url, name)
        assert handle.warming is not None and not handle.warming.is_alive()
        assert ("cross-validation", handle.campaign.state()) in handle.results


def test_results_of_a_restored_campaign_are_computed_again_at_a_revision_seen_before(tmp_path: Path) -> None:
    """A restore brings the campaign back to an earlier revision, and the next write to the one
    whose results the handle keeps, with other data: they are computed again, not reused."""
    from doe.storage.backup import backup, restore

    url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    lab = Campaign.from_config("hfo2-ncm85", storage=url, name="restored", actor="fixture")
    lab.record(_recorded(url, 8, 1))
    made = backup(url, tmp_path / "lab-backup.sqlite3")
    lab.record(_recorded(url, 2, 2))
    handle = CampaignHandle(Campaign.load("restored", storage=url, actor="web", settings=EngineSettings.fast()))
    assert handle.derived("rows", lambda c: len(c.history())) == 10
    seen = handle.campaign.revision()

    restore(url, made.path, force=True)
    Campaign.load("restored", storage=url, actor="fixture").record(_recorded(url, 3, 5))
    assert handle.campaign.revision() == seen
    assert handle.derived("rows", lambda c: len(c.history())) == 11
