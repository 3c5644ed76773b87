"""Experiments chosen on the Plan page stay chosen when another engineer acts on them first, in a
real browser.

An engineer chose E0001 in "Experiments (none chosen = all listed above)"; a colleague abandoned E0001
meanwhile; the engineer pressed "Accept: the lab starts them" and the page started every proposed
experiment (the choice had silently become empty, which means all). Here the choice stays, and
accepting it is refused, naming the experiment, with nothing started.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from doe.campaign import Campaign, list_campaigns

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamlit_server import (
    app_page,
    click,
    open_popover,
    pick_option,
    settled,
    streamlit_app,
    type_in_grid,
)

STEP_MS = 120_000
CAMPAIGN = "stale-choice"

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("stale")
    db_url = f"sqlite:///{folder / 'stale.sqlite3'}"
    env = {**os.environ, "DOE_DATABASE_URL": db_url, "DOE_HOME": str(folder / "home"),
           "DOE_ENGINE_SETTINGS": "fast", "DOE_ACTOR": "Sam Stale"}
    with streamlit_app(folder, env) as base:
        yield base, db_url


def _proposed(db_url: str, name: str, n: int = 2, *, started: bool = False) -> tuple[Campaign, list[str]]:
    """Campaign ``name`` with ``n`` experiments proposed (and started, with ``started``), and their ids."""
    campaign = Campaign.from_config("hfo2-ncm85", storage=db_url, name=name, actor="fixture")
    ids = campaign.suggest(n)["experiment_id"].astype(str).tolist()
    if started:
        campaign.accept(ids)
    return campaign, ids


def _grid_column(campaign: Campaign, column: str) -> int:
    """The position of ``column`` in the Record page's grid for this campaign."""
    from doe.ui.tables import record_grid

    return list(record_grid(campaign.history(), campaign.config).columns).index(column)


def _open(page: Any, base: str, title: str, name: str) -> None:
    """Open page ``title`` (Plan, Record) of campaign ``name`` and wait until its run has finished."""
    page.goto(f"{base}/{title.lower()}?campaign={name}")
    page.get_by_role("heading", name=f"{title}: {name}").wait_for()
    settled(page)


def _file_left_behind(page: Any, base: str, title: str, form_text: str, path: Path, first: str, second: str) -> Any:
    """On page ``title`` of campaign ``first``, choose ``path`` in the file box of the form that
    shows ``form_text`` (not sent), switch the sidebar to ``second`` and check the box is empty
    there; returns that form."""
    from playwright.sync_api import expect

    _open(page, base, title, first)
    form = page.get_by_test_id("stForm").filter(has_text=form_text)
    form.locator("input[type=file]").set_input_files(str(path))
    expect(form.get_by_text(path.name)).to_be_visible()
    pick_option(page, page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox"), second)
    page.get_by_role("heading", name=f"{title}: {second}").wait_for()
    settled(page)
    expect(form.get_by_text(path.name)).to_have_count(0)
    return form


def test_a_chosen_experiment_abandoned_by_someone_else_is_not_accepted_as_all(server: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    base, db_url = server
    _, ids = _proposed(db_url, CAMPAIGN, 3)
    with app_page(base, step_ms=STEP_MS) as page:
        _open(page, base, "Plan", CAMPAIGN)
        chooser = page.get_by_test_id("stMultiSelect").filter(has_text="Experiments (none chosen")
        pick_option(page, chooser, ids[0])
        page.keyboard.press("Escape")
        settled(page)
        # a colleague abandons it (another window, the command line: the same store)
        Campaign.load(CAMPAIGN, storage=db_url, actor="colleague").abandon([ids[0]], reason="precursor ran out")
        click(page, page.get_by_role("button", name="Accept: the lab starts them"))
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text(ids[0])
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text("abandoned")
        expect(page.get_by_test_id("stAlertContentSuccess")).to_have_count(0)
        expect(chooser).to_contain_text(ids[0])  # still the person's choice, to change
    history = Campaign.load(CAMPAIGN, storage=db_url, actor="check").history()
    status = dict(zip(history["experiment_id"].astype(str), history["status"], strict=True))
    assert status == {ids[0]: "abandoned", ids[1]: "proposed", ids[2]: "proposed"}


def test_a_run_chosen_to_mark_failed_that_someone_measured_meanwhile_is_not_dropped_silently(
        server: tuple[str, str]) -> None:
    """Found by a probe: an engineer chose E1 and E2 under "Mark runs failed" and typed the reason; a
    colleague recorded E1's result meanwhile; "Mark failed" said "Marked E2 failed" (E1 had left
    the choice without a word, as it was no longer pending). Now nothing is marked, the page
    names E1 and its status, and the choice is kept to change."""
    import pandas as pd
    from playwright.sync_api import expect

    base, db_url = server
    name = f"{CAMPAIGN}-fail"
    _, ids = _proposed(db_url, name, started=True)
    with app_page(base, step_ms=STEP_MS) as page:
        _open(page, base, "Record", name)
        fail_form = page.get_by_test_id("stForm").filter(has_text="Mark failed")
        for exp_id in ids:
            pick_option(page, fail_form.get_by_test_id("stMultiSelect"), exp_id)
        page.keyboard.press("Escape")
        fail_form.get_by_label("Reason", exact=True).fill("furnace tripped")
        Campaign.load(name, storage=db_url, actor="colleague").record(
            pd.DataFrame({"experiment_id": [ids[0]], "first_cycle_ce_pct": [88.0]}))
        click(page, fail_form.get_by_role("button", name="Mark failed"))
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text(f"{ids[0]} is completed now")
        expect(page.get_by_test_id("stAlertContentSuccess")).to_have_count(0)
        expect(fail_form.get_by_test_id("stMultiSelect")).to_contain_text(ids[0])
    history = Campaign.load(name, storage=db_url, actor="check").history()
    status = dict(zip(history["experiment_id"].astype(str), history["status"], strict=True))
    assert status == {ids[0]: "completed", ids[1]: "running"}


def test_runs_chosen_to_mark_failed_in_one_campaign_are_not_marked_in_the_next(server: tuple[str, str]) -> None:
    """Found by a walk through the app: an engineer chose E0002 under "Mark runs failed" in one
    campaign and typed the reason, then chose another campaign in the sidebar; the form still
    held E0002 and the reason, and "Mark failed" failed the other campaign's E0002. Now the other
    campaign's form starts empty and nothing is marked there."""
    from playwright.sync_api import expect

    base, db_url = server
    first, second = f"{CAMPAIGN}-line-1", f"{CAMPAIGN}-line-2"
    _, ids = _proposed(db_url, first, started=True)
    _proposed(db_url, second, started=True)
    with app_page(base, step_ms=STEP_MS) as page:
        _open(page, base, "Record", first)
        fail_form = page.get_by_test_id("stForm").filter(has_text="Mark failed")
        pick_option(page, fail_form.get_by_test_id("stMultiSelect"), ids[1])
        page.keyboard.press("Escape")
        fail_form.get_by_label("Reason", exact=True).fill("furnace tripped")
        pick_option(page, page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox"), second)
        page.get_by_role("heading", name=f"Record: {second}").wait_for()
        settled(page)
        expect(fail_form.get_by_test_id("stMultiSelect")).not_to_contain_text(ids[1])
        click(page, fail_form.get_by_role("button", name="Mark failed"))
        expect(page.get_by_test_id("stAlertContentWarning")).to_contain_text("Choose the experiments that failed.")
        expect(page.get_by_test_id("stAlertContentSuccess")).to_have_count(0)
    for name in (first, second):
        assert Campaign.load(name, storage=db_url, actor="check").history()["status"].tolist() == ["running"] * 2


def test_accepting_with_nothing_chosen_starts_only_the_experiments_the_page_listed(
        server: tuple[str, str]) -> None:
    """An engineer sees E0001-E0002 proposed and presses Accept with nothing chosen; a robot had
    proposed E0003-E0004 meanwhile, unseen. The page started all four (an empty choice meant every
    experiment proposed at the time of the click). Now it starts the two it listed; the robot's stay
    proposed, and the page lists them after the click."""
    from playwright.sync_api import expect

    base, db_url = server
    name = f"{CAMPAIGN}-unseen"
    _, seen = _proposed(db_url, name)
    with app_page(base, step_ms=STEP_MS) as page:
        _open(page, base, "Plan", name)
        expect(page.get_by_text("Proposed, not started (2)")).to_be_visible()
        unseen = Campaign.load(name, storage=db_url, actor="robot").suggest(2)["experiment_id"].astype(str).tolist()
        click(page, page.get_by_role("button", name="Accept: the lab starts them"))
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Started 2 experiment(s): {', '.join(seen)}")
        expect(page.get_by_text("Proposed, not started (2)")).to_be_visible()  # the robot's, listed now
    history = Campaign.load(name, storage=db_url, actor="check").history()
    status = dict(zip(history["experiment_id"].astype(str), history["status"], strict=True))
    assert status == {**dict.fromkeys(seen, "running"), **dict.fromkeys(unseen, "proposed")}



def test_a_ticked_correction_replaces_no_value_stored_meanwhile_unseen(server: tuple[str, str]) -> None:
    """Found by a probe: an engineer with 'Correct stored values' ticked (left on from a typo
    fixed earlier) typed 90 into E0001's efficiency; a colleague recorded 81 for it meanwhile;
    "Save results" replaced the colleague's 81 by 90 at once ("1 corrected"), though the page
    had never shown the 81 (the grid drawn in that same run named the conflict, and the success
    message covered it). Now that press saves nothing and says why; the grid shows the stored
    value under the typed one, and a second press is the correction, made knowingly."""
    import pandas as pd
    from playwright.sync_api import expect

    base, db_url = server
    name = f"{CAMPAIGN}-correct"
    campaign, ids = _proposed(db_url, name, started=True)
    column = _grid_column(campaign, "first_cycle_ce_pct")
    with app_page(base, step_ms=STEP_MS) as page:
        _open(page, base, "Record", name)
        click(page, page.get_by_text("Correct stored values (replace values recorded before"))
        type_in_grid(page, page.get_by_test_id("stDataFrame").first, 0, column, "90")
        Campaign.load(name, storage=db_url, actor="colleague").record(
            pd.DataFrame({"experiment_id": [ids[0]], "first_cycle_ce_pct": [81.0]}))
        save = page.get_by_role("button", name="Save results")
        click(page, save)
        expect(page.get_by_test_id("stAlertContentWarning").filter(has_text="Nothing saved: the campaign changed")).to_be_visible()
        expect(page.get_by_test_id("stAlertContentWarning").filter(
            has_text=f"Someone else stored other values meanwhile for {ids[0]} first_cycle_ce_pct")).to_be_visible()
        expect(page.get_by_test_id("stAlertContentSuccess")).to_have_count(0)
        assert campaign.history().set_index("experiment_id").loc[ids[0], "first_cycle_ce_pct"] == 81.0
        click(page, save)  # seen now: the correction, on purpose
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("1 corrected")
    assert campaign.history().set_index("experiment_id").loc[ids[0], "first_cycle_ce_pct"] == 90.0


def test_a_proposed_experiment_chosen_to_abandon_that_the_lab_started_meanwhile_is_not_abandoned(
        server: tuple[str, str]) -> None:
    """Found by a probe: an engineer chose proposed E0001 to abandon and typed the reason; a
    colleague accepted it meanwhile (the lab started it: the powder is in the furnace); "Yes,
    abandon 1 experiment(s)" abandoned the running experiment without a word. Now nothing is
    abandoned, and the page names E0001 and its status, as accepting and marking failed do."""
    from playwright.sync_api import expect

    base, db_url = server
    name = f"{CAMPAIGN}-abandon"
    _, ids = _proposed(db_url, name)
    with app_page(base, step_ms=STEP_MS) as page:
        _open(page, base, "Plan", name)
        pick_option(page, page.get_by_test_id("stMultiSelect").filter(has_text="Experiments (none chosen"), ids[0])
        page.keyboard.press("Escape")
        settled(page)
        abandon = page.get_by_test_id("stPopoverButton").filter(has_text="Abandon the chosen ones")
        open_popover(page, abandon)
        page.get_by_label("Why are they abandoned?").fill("precursor ran out")
        Campaign.load(name, storage=db_url, actor="colleague").accept([ids[0]])
        click(page, page.get_by_role("button", name="Yes, abandon 1 experiment(s)"))
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text(f"{ids[0]} is running now")
        expect(page.get_by_text(f"Abandoned {ids[0]}.")).to_have_count(0)
    history = Campaign.load(name, storage=db_url, actor="check").history()
    status = dict(zip(history["experiment_id"].astype(str), history["status"], strict=True))
    assert status == {ids[0]: "running", ids[1]: "proposed"}


def test_a_value_typed_for_a_run_that_someone_abandoned_meanwhile_is_named_not_dropped(
        server: tuple[str, str]) -> None:
    """Found by a probe: an engineer typed 85.5 into E0001's efficiency; a colleague abandoned
    E0001 meanwhile; "Save results" said "Nothing to save" (the redrawn grid lists no abandoned
    experiment) and the measured value was gone without a word. Now the page names E0001, its
    status and the value typed."""
    from playwright.sync_api import expect

    base, db_url = server
    name = f"{CAMPAIGN}-gone"
    campaign, ids = _proposed(db_url, name, started=True)
    column = _grid_column(campaign, "first_cycle_ce_pct")
    with app_page(base, step_ms=STEP_MS) as page:
        _open(page, base, "Record", name)
        type_in_grid(page, page.get_by_test_id("stDataFrame").first, 0, column, "85.5")
        Campaign.load(name, storage=db_url, actor="colleague").abandon([ids[0]], reason="precursor ran out")
        click(page, page.get_by_role("button", name="Save results"))
        warning = page.get_by_test_id("stAlertContentWarning").filter(has_text="no longer in the grid")
        expect(warning).to_contain_text(f"{ids[0]} is abandoned now")
        expect(warning).to_contain_text("first_cycle_ce_pct = 85.5")
    assert campaign.measurements().empty


def test_a_results_file_chosen_for_one_campaign_is_not_recorded_into_the_next(
        server: tuple[str, str], tmp_path: Path) -> None:
    """Found by a walk through the app: a results file chosen under "Upload a results file" on one
    campaign's Record page (not sent yet) stayed chosen when the sidebar switched to another
    campaign, and "Record the file" recorded its values there (every campaign has an E0001)."""
    from playwright.sync_api import expect

    base, db_url = server
    first, second = f"{CAMPAIGN}-file-1", f"{CAMPAIGN}-file-2"
    _proposed(db_url, first, started=True)
    _proposed(db_url, second, started=True)
    results = tmp_path / "line-1-results.csv"
    results.write_text("experiment_id,first_cycle_ce_pct\nE0001,88.5\n")
    with app_page(base, step_ms=STEP_MS) as page:
        form = _file_left_behind(page, base, "Record", "Record the file", results, first, second)
        click(page, form.get_by_role("button", name="Record the file"))
        expect(page.get_by_test_id("stAlertContentWarning")).to_contain_text("Choose a CSV or Excel file first.")
    for name in (first, second):
        assert Campaign.load(name, storage=db_url, actor="check").measurements().empty


def test_a_candidate_file_chosen_for_one_campaign_is_not_used_for_the_next(
        server: tuple[str, str], tmp_path: Path) -> None:
    """The Plan page's 'Candidate recipes' file had one key for every campaign: chosen on one
    campaign's Plan page (not sent yet), it stayed chosen when the sidebar switched to another, and
    'Suggest experiments' there chose that campaign's batch among the first one's rows."""

    base, db_url = server
    first, second = f"{CAMPAIGN}-cand-1", f"{CAMPAIGN}-cand-2"
    _proposed(db_url, first)
    campaign, _ = _proposed(db_url, second)
    reference = campaign.config.reference_recipe()
    candidates = tmp_path / "cand-1.csv"  # a longer name is shown shortened
    pd.DataFrame([reference | {"hfo2_loading_wt_pct": v, "anneal_temperature_c": 510.0} for v in (1.1, 1.3, 1.5, 1.7)]
                 ).to_csv(candidates, index=False)
    with app_page(base, step_ms=STEP_MS) as page:
        form = _file_left_behind(page, base, "Plan", "Suggest experiments", candidates, first, second)
        click(page, form.get_by_role("button", name="Suggest experiments"))
        page.get_by_text("Proposed 4 experiment(s)").wait_for()
    history = Campaign.load(second, storage=db_url, actor="check").history()
    assert len(history) == 6
    assert not (history["anneal_temperature_c"] == 510.0).any(), history  # none of the first campaign's rows
    assert len(Campaign.load(first, storage=db_url, actor="check").history()) == 2


def test_a_copy_name_typed_for_one_campaign_clones_no_other(server: tuple[str, str]) -> None:
    """Found by a review: the Campaigns page's clone form had one key for every campaign: a copy
    name typed for one campaign (not sent) stayed in the form when the sidebar switched to another,
    and 'Clone' there copied that other campaign under it."""
    from playwright.sync_api import expect

    base, db_url = server
    first, second = f"{CAMPAIGN}-clone-1", f"{CAMPAIGN}-clone-2"
    _proposed(db_url, first)
    _proposed(db_url, second)
    with app_page(base, step_ms=STEP_MS) as page:
        page.goto(f"{base}/?campaign={first}")
        page.get_by_role("heading", name="Campaigns").wait_for()
        settled(page)
        page.get_by_role("tab", name="Clone or archive").click()  # a tab starts no run
        form = page.get_by_test_id("stForm").filter(has_text="Name of the copy")
        form.get_by_label("Name of the copy").fill("copy-of-one")
        pick_option(page, page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox"), second)
        settled(page)
        page.get_by_role("tab", name="Clone or archive").click()  # the tab shown again after the switch
        expect(form.get_by_label("Name of the copy")).to_have_value("")
        click(page, form.get_by_role("button", name="Clone"))
        expect(page.get_by_test_id("stAlertContentError")).to_be_visible()  # no name: refused, nothing made
    assert "copy-of-one" not in list_campaigns(db_url)
