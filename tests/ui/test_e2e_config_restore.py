"""The Edit configuration form in a real browser while the database is restored under it: an edit of
a version the restore replaced is refused, naming who saved the version now stored."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest

from doe.campaign import Campaign
from doe.storage.backup import backup, restore

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamlit_server import app_page, click, settled, streamlit_app

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LINE = {"name": "line", "seed": 3, "description": "first",
        "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 10]},
                       {"name": "y", "type": "continuous", "bounds": [0, 10]}],
        "objectives": [{"name": "ce", "goal": "maximize"}]}


def test_an_edit_of_a_version_a_restore_replaced_is_refused_in_the_browser(tmp_path: Path) -> None:
    """Ann opened the form on bob's version 2; a restore and carl's own version 2 later, her save
    was accepted on top of carl's as version 3 and undid his narrowed range."""
    from playwright.sync_api import expect

    db_url = f"sqlite:///{tmp_path / 'lab.sqlite3'}"
    Campaign.from_config(LINE, storage=db_url, actor="setup")
    backup(db_url, tmp_path / "bk.sqlite3")
    Campaign.load("line", storage=db_url, actor="bob").update_config({**LINE, "description": "bob's"}, based_on=1)
    env = {**os.environ, "DOE_DATABASE_URL": db_url, "DOE_HOME": str(tmp_path / "home"), "DOE_ACTOR": "ann",
           "DOE_ENGINE_SETTINGS": "fast"}
    with streamlit_app(tmp_path, env) as base, app_page(f"{base}/campaigns?{urlencode({'campaign': 'line'})}") as page:
        page.get_by_role("tab", name="Edit configuration").click()
        form = page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="Save as a new version"))
        description = form.get_by_label("Description", exact=True)
        expect(description).to_have_value("bob's")
        restore(db_url, tmp_path / "bk.sqlite3", force=True)
        carl = Campaign.load("line", storage=db_url, actor="carl")
        narrowed = {**LINE, "description": "carl's", "parameters": [
            LINE["parameters"][0], {"name": "y", "type": "continuous", "bounds": [0, 6]}]}
        assert carl.update_config(narrowed, based_on=1) == 2
        description.fill("ann's edit of bob's")
        click(page, page.get_by_role("button", name="Save as a new version"))
        error = page.get_by_test_id("stAlertContentError")
        expect(error).to_contain_text("version 2 was saved by carl")
        expect(error).to_contain_text("restored from a backup or replaced since")
        settled(page)
        assert not page.get_by_test_id("stException").count()
    stored = Campaign.load("line", storage=db_url)
    assert stored.config_version == 2 and stored.config.description == "carl's"
    assert stored.config.parameter("y").upper == 6
