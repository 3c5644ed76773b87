"""A row the engineer adds to an editor reaches doe, in a real browser, even with a cell left empty.

Streamlit's data editor does not send a row added with "Add row" while a column marked
``required`` is empty in it: an outcome added on the Campaigns page without its role, or a
replicate cell added on the Record page without its experiment, vanished on save, and the page
said "Saved configuration version 2" (or that the table was empty) without a word about it.
Here such a row is refused, naming the empty cell, and nothing is stored.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from doe.campaign import Campaign
from doe.ui.config_form import OUTCOME_COLUMNS, PARAMETER_COLUMNS
from doe.ui.entry_templates import replicate_template

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamlit_server import app_page, click, settled, streamlit_app, type_in_grid

STEP_MS = 120_000

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("added")
    db_url = f"sqlite:///{folder / 'added.sqlite3'}"
    env = {**os.environ, "DOE_DATABASE_URL": db_url, "DOE_HOME": str(folder / "home"),
           "DOE_ENGINE_SETTINGS": "fast", "DOE_ACTOR": "Ada Adder"}
    with streamlit_app(folder, env) as base:
        yield base, db_url


def _add_row(page: Any, grid: Any) -> None:
    """Press the editor's "Add row" button (its toolbar shows while the pointer is on the grid)."""
    grid.scroll_into_view_if_needed()
    grid.hover()
    frame = grid.locator("xpath=ancestor::*[@data-testid='stFullScreenFrame'][1]")  # the grid and its toolbar
    frame.get_by_role("button", name="Add row").click()
    settled(page)
    page.keyboard.press("Escape")  # (the new row's first cell may open its editor)


def _config_grid(page: Any, base: str, name: str, column: str) -> Any:
    """Open campaign ``name``'s Edit configuration tab; the editor grid with ``column`` (a row added)."""
    from playwright.sync_api import expect

    page.goto(f"{base}/?campaign={name}")
    page.get_by_role("heading", name="Campaigns").wait_for()
    settled(page)
    page.get_by_role("tab", name="Edit configuration").click()
    form = page.get_by_test_id("stForm").filter(has_text="Save as a new version")
    grid = form.get_by_test_id("stDataFrame").filter(has=page.locator("th", has_text=column))
    expect(grid).to_have_count(1)
    _add_row(page, grid)
    return grid


def test_an_outcome_added_without_a_role_is_refused_not_dropped(server: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    base, db_url = server
    campaign = Campaign.from_config("hfo2-ncm85", storage=db_url, name="added-outcome", actor="fixture")
    outcomes = campaign.config.outcome_names
    with app_page(base, step_ms=STEP_MS) as page:
        grid = _config_grid(page, base, "added-outcome", "tolerance")
        type_in_grid(page, grid, len(outcomes), list(OUTCOME_COLUMNS).index("name"), "rate_capability_2c_pct",
                     form=True)
        click(page, page.get_by_role("button", name="Save as a new version"))
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text("rate_capability_2c_pct")
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text("role")
        expect(page.get_by_test_id("stAlertContentSuccess")).to_have_count(0)
    stored = Campaign.load("added-outcome", storage=db_url)
    assert len(stored.config_versions()) == 1
    assert stored.config.outcome_names == outcomes


def test_a_parameter_added_without_a_name_is_refused_not_dropped(server: tuple[str, str]) -> None:
    """The editor's name column was ``required``: a parameter row given its bounds but no name was
    never sent, and the page saved the new version without it."""
    from playwright.sync_api import expect

    base, db_url = server
    campaign = Campaign.from_config({  # few rows: the added one shows without scrolling the grid
        "name": "added-nameless", "parameters": [{"name": "x", "type": "continuous", "bounds": [0, 1]}],
        "objectives": [{"name": "y", "goal": "maximize"}]}, storage=db_url, actor="fixture")
    parameters = campaign.config.parameter_names
    with app_page(base, step_ms=STEP_MS) as page:
        grid = _config_grid(page, base, "added-nameless", "resolution")
        type_in_grid(page, grid, len(parameters), list(PARAMETER_COLUMNS).index("lower"), "1", form=True)
        type_in_grid(page, grid, len(parameters), list(PARAMETER_COLUMNS).index("upper"), "3", form=True)
        click(page, page.get_by_role("button", name="Save as a new version"))
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text(
            f"parameters row {len(parameters) + 1}, name: empty")
        expect(page.get_by_test_id("stAlertContentSuccess")).to_have_count(0)
    stored = Campaign.load("added-nameless", storage=db_url)
    assert len(stored.config_versions()) == 1
    assert stored.config.parameter_names == parameters


def test_a_cell_added_without_its_experiment_is_refused_not_dropped(server: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    base, db_url = server
    campaign = Campaign.from_config("hfo2-ncm85", storage=db_url, name="added-cell", actor="fixture")
    campaign.suggest(2)
    campaign.accept()
    template = replicate_template(campaign.config)
    cells = list(template.columns)
    with app_page(base, step_ms=STEP_MS) as page:
        page.goto(f"{base}/record?campaign=added-cell")
        page.get_by_role("heading", name="Record: added-cell").wait_for()
        settled(page)
        grid = page.get_by_test_id("stDataFrame").nth(1)  # the Replicate cells table, below the grid
        _add_row(page, grid)
        row = len(template)  # the row added below the template's empty ones
        type_in_grid(page, grid, row, cells.index("replicate"), "D")
        type_in_grid(page, grid, row, cells.index("first_cycle_ce_pct"), "85.5")
        click(page, page.get_by_role("button", name="Record these cells"))
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text("nothing was recorded")
        expect(page.get_by_test_id("stMain")).to_contain_text("needs the experiment_id")
    assert campaign.measurements().empty
