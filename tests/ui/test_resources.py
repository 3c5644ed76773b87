"""Model results shared by every page and session: computed once per revision, warmed in the background."""

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


def test_results_are_computed_once_per_revision_and_warmed_in_the_background(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'warm.sqlite3'}"
    Campaign.from_config("hfo2-ncm85", storage=url, name="warm", actor="fixture").record(_recorded(url, 8, 1))
    handle = CampaignHandle(Campaign.load("warm", storage=url, actor="web", settings=EngineSettings.fast()))
    revision = handle.campaign.revision()

    handle.warm_in_background().join()
    assert {("cross-validation", revision), ("importance", revision)} <= set(handle.results)

    calls: list[int] = []
    for _ in range(3):  # reruns and other sessions reuse the result
        handle.derived("count", lambda c: calls.append(c.revision()) or len(calls))
    assert calls == [revision]

    with handle.acting("Ann") as campaign:  # a change: a new revision, computed again, old results dropped
        campaign.record(_recorded(url, 2, 2))
    assert handle.derived("count", lambda c: calls.append(c.revision()) or len(calls)) == 2
    assert all(key[1] == handle.campaign.revision() for key in handle.results)
    assert handle.campaign.revision() != revision
